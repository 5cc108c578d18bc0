"""Reads a folder `bulletin publish` wrote, as a visitor and a feed reader
would, and prints what it found as JSON:

- `links`: every href and src in every .html file (Python's own HTML
  parser), with the internal ones that lead to no file in the folder under
  `broken`;
- `feed`: feed.xml read by feedparser (a real feed reader): its `bozo`
  flag (set when the XML or the feed is malformed) and each entry's title,
  link, dates and content.

Usage: python3 site_check.py SITE_DIR
"""

import json
import os
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import feedparser


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.found.append(value)


def target(site, page, link):
    """The file an internal link leads to, or None for an external one."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or link.startswith("#"):
        return None
    path = unquote(parts.path)
    if path.startswith("/"):
        resolved = os.path.join(site, path.lstrip("/"))
    else:
        resolved = os.path.join(os.path.dirname(page), path)
    if path.endswith("/") or os.path.isdir(resolved):
        resolved = os.path.join(resolved, "index.html")
    return os.path.normpath(resolved)


def main():
    site = os.path.abspath(sys.argv[1])
    checked, broken, external = 0, [], []
    for folder, _dirs, files in os.walk(site):
        for name in files:
            if not name.endswith(".html"):
                continue
            page = os.path.join(folder, name)
            parser = Links()
            with open(page, encoding="utf-8") as f:
                parser.feed(f.read())
            for link in parser.found:
                leads_to = target(site, page, link)
                if leads_to is None:
                    external.append(link)
                    continue
                checked += 1
                inside = leads_to.startswith(site + os.sep)
                if not inside or not os.path.isfile(leads_to):
                    broken.append(f"{os.path.relpath(page, site)}: {link}")

    feed = feedparser.parse(os.path.join(site, "feed.xml"))
    entries = [
        {
            "title": e.get("title"),
            "link": e.get("link"),
            "id": e.get("id"),
            "updated": e.get("updated"),
            "published": e.get("published"),
            "content": [c.get("value") for c in e.get("content", [])],
        }
        for e in feed.entries
    ]
    print(
        json.dumps(
            {
                "links": {"checked": checked, "broken": broken, "external": external},
                "feed": {
                    "bozo": bool(feed.bozo),
                    "bozo_exception": str(feed.get("bozo_exception", "")),
                    "title": feed.feed.get("title"),
                    "entries": entries,
                },
            }
        )
    )


main()
