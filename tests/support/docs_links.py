#!/usr/bin/env python3
"""Checks the internal links of the docs: the built user guide and Markdown files.

    python3 tests/support/docs_links.py --book target/book --src docs/src README.md CONTRIBUTING.md

Every relative link (`href` and `src` in the book's HTML, `[text](target)` and
`![alt](target)` in Markdown) must name a file that exists, inside the book for
the book's pages, and every `#anchor` must be an `id` in the page it names (for
a Markdown file, a heading as GitHub makes its anchor). Addresses with a scheme
(https:, mailto:, …) are not fetched: CI has no network. Prints each dead link
with its file and exits 1 if there is any.
"""

import argparse
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


def external(link):
    """A link with a scheme (https:, mailto:, javascript:) or to another host."""
    return link.startswith("//") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", link) is not None


class Page(HTMLParser):
    """The ids a page defines, and the links it makes (with their line)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []
        self.base = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(name):
                self.ids.add(attrs[name])
        if tag == "base" and attrs.get("href"):
            self.base = attrs["href"]
        for name in ("href", "src"):
            value = attrs.get(name)
            if value is not None and tag != "base":
                self.links.append((self.getpos()[0], value))

    handle_startendtag = handle_starttag


def github_slugs(markdown):
    """The anchors GitHub gives a Markdown file's headings (outside code blocks)."""
    slugs, seen, fence = set(), {}, False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if fence or not m:
            continue
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(2))  # a link's text only
        text = re.sub(r"[`*_~]", lambda c: c.group(0) if c.group(0) == "_" else "", text)
        slug = "".join(c for c in text.lower() if c.isalnum() or c in " -_").replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        slugs.add(slug if n == 0 else f"{slug}-{n}")
    return slugs


def markdown_links(markdown):
    """(line, target) of every inline link, image and reference definition outside code."""
    fence = False
    for number, line in enumerate(markdown.splitlines(), 1):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        if fence:
            continue
        line = re.sub(r"(`+).*?\1", "", line)  # code spans show links, they do not make them
        for m in re.finditer(r"\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)", line):
            yield number, m.group(1)
        m = re.match(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(\s|$)", line)
        if m:
            yield number, m.group(1)
        for m in re.finditer(r"""\b(?:href|src)=["']([^"']*)["']""", line):
            yield number, m.group(1)


class Checker:
    def __init__(self):
        self.checked = 0
        self.dead = []
        self.pages = {}

    def fail(self, where, link, why):
        self.dead.append(f"{where}: {link}: {why}")

    def anchors(self, path):
        """The anchors of a file a link may name: ids of a page, headings of Markdown."""
        if path not in self.pages:
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".md":
                self.pages[path] = github_slugs(text)
            else:
                page = Page()
                page.feed(text)
                self.pages[path] = page.ids
        return self.pages[path]

    def follow(self, where, source, link, root):
        """One link from `source` (a file), which must stay inside `root`."""
        if not link or external(link):
            return
        self.checked += 1
        parts = urlsplit(link)
        target = source
        if parts.path:
            start = root if parts.path.startswith("/") else source.parent
            target = (start / unquote(parts.path).lstrip("/")).resolve()
        if root not in (target, *target.parents):
            self.fail(where, link, f"leads outside {root}")
            return
        if target.is_dir():
            target = target / ("index.html" if (target / "index.html").exists() else "README.md")
        if not target.is_file():
            self.fail(where, link, f"no file {target.relative_to(root)}")
            return
        anchor = unquote(parts.fragment)
        if anchor and target.suffix in (".html", ".md") and anchor not in self.anchors(target):
            self.fail(where, link, f"no anchor #{anchor} in {target.relative_to(root)}")

    def book(self, book, sources):
        book = book.resolve()
        pages = sorted(book.rglob("*.html"))
        if not pages:
            self.fail(str(book), "", "no HTML pages: was the book built?")
        for path in pages:
            page = Page()
            page.feed(path.read_text(encoding="utf-8"))
            self.pages[path] = page.ids
            # 404.html names the book's root as its base, for any address it answers.
            source = path
            if page.base is not None and not external(page.base):
                source = (book / page.base.lstrip("/")).resolve() / path.name
            where = str(path.relative_to(book.parent))
            chapter = sources / path.relative_to(book).with_suffix(".md") if sources else None
            if chapter is not None and chapter.is_file():
                where = f"{chapter} as {where}"
            for line, link in page.links:
                self.follow(f"{where}:{line}", source, link, book)

    def markdown(self, path, root):
        path = path.resolve()
        for line, link in markdown_links(path.read_text(encoding="utf-8")):
            self.follow(f"{path.relative_to(root)}:{line}", path, link, root)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=Path, help="the built book's folder")
    parser.add_argument("--src", type=Path, help="the book's Markdown, to name a page's chapter")
    parser.add_argument("markdown", nargs="*", type=Path, help="Markdown files of the repository")
    args = parser.parse_args()
    checker = Checker()
    if args.book:
        checker.book(args.book, args.src)
    root = Path.cwd().resolve()
    for path in args.markdown:
        checker.markdown(path, root)
    for dead in checker.dead:
        print(f"dead link: {dead}")
    print(f"docs links: {checker.checked} checked, {len(checker.dead)} dead")
    return 1 if checker.dead else 0


if __name__ == "__main__":
    sys.exit(main())
