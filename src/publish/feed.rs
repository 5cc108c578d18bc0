//! The archive's Atom feed (RFC 4287), `feed.xml`: an entry per issue,
//! newest first, with its whole page as the content. Ids are `urn:` names
//! of the list and campaign, so they stay the same wherever the site is
//! served; dates are the issues' own, so an unchanged archive makes the
//! same bytes.

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text};

use super::Issue;
use crate::config::Settings;
use crate::content::BulletinDate;

/// Midnight UTC on `date`.
fn at_midnight(date: BulletinDate) -> FixedDateTime {
    FixedDateTime::parse_from_rfc3339(&format!("{date}T00:00:00Z")).expect("a valid date makes a valid time")
}

fn link(href: String, rel: &str, mime: Option<&str>) -> Link {
    let mut link = Link::default();
    link.set_href(href);
    link.set_rel(rel);
    link.set_mime_type(mime.map(str::to_owned));
    link
}

/// The page's `<body>`: what a feed reader shows.
fn body(html: &str) -> &str {
    let start = html.find("<body").and_then(|at| html[at..].find('>').map(|end| at + end + 1));
    let end = html.rfind("</body>");
    match (start, end) {
        (Some(start), Some(end)) if start <= end => &html[start..end],
        _ => html,
    }
}

/// `feed.xml` for `issues` (newest first); links are under `base` (with a
/// trailing slash) or, without one, relative to the feed.
pub fn render(settings: &Settings, issues: &[Issue], base: Option<&str>) -> Vec<u8> {
    let root = base.unwrap_or("");
    let mut feed = Feed::default();
    feed.set_title(Text::plain(settings.list_name.clone()));
    feed.set_id(format!("urn:bulletin:{}", settings.list_id.as_str()));
    feed.set_updated(issues.first().map_or_else(at_midnight_epoch, |i| at_midnight(i.bulletin.date)));
    let mut author = Person::default();
    author.set_name(settings.org_name.clone());
    feed.set_authors(vec![author]);
    let mut links = vec![link(format!("{root}index.html"), "alternate", Some("text/html"))];
    if let Some(base) = base {
        links.insert(0, link(format!("{base}feed.xml"), "self", Some("application/atom+xml")));
    }
    feed.set_links(links);
    feed.set_entries(
        issues
            .iter()
            .map(|issue| {
                let campaign = issue.bulletin.campaign.as_str();
                let page = match base {
                    Some(base) => format!("{base}{campaign}/"),
                    None => format!("{campaign}/index.html"),
                };
                let mut entry = Entry::default();
                entry.set_title(Text::plain(issue.page.subject.clone()));
                entry.set_id(format!("urn:bulletin:{}:{campaign}", settings.list_id.as_str()));
                entry.set_updated(at_midnight(issue.bulletin.date));
                entry.set_published(Some(at_midnight(issue.bulletin.date)));
                entry.set_links(vec![link(page.clone(), "alternate", Some("text/html"))]);
                entry.set_summary(Some(Text::plain(issue.preheader.clone())));
                let mut content = Content::default();
                content.set_content_type(Some("html".to_owned()));
                content.set_value(Some(body(&issue.page.html).trim().to_owned()));
                content.set_base(Some(format!("{root}{campaign}/")));
                content.set_lang(Some(issue.bulletin.lang.clone()));
                entry.set_content(Some(content));
                entry
            })
            .collect::<Vec<_>>(),
    );
    let mut out = feed.to_string().into_bytes();
    out.push(b'\n');
    out
}

fn at_midnight_epoch() -> FixedDateTime {
    FixedDateTime::parse_from_rfc3339("1970-01-01T00:00:00Z").expect("a valid time")
}
