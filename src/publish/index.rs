//! The archive's front page, `index.html`: every issue, newest first, with
//! its date and preheader; the organisation's name, a subscribe link and
//! the feed. The issues' own pages are the email's template
//! ([`crate::render::Rendered::page`]); this page has the same colours,
//! type and dark mode.

use maud::{DOCTYPE, PreEscaped, html};

use super::Issue;
use crate::config::Settings;
use crate::render::{DARK_CARD, on_dark};

/// `index.html` for `issues` (newest first); every link is relative.
pub fn render(settings: &Settings, issues: &[Issue]) -> Vec<u8> {
    let brand = &settings.brand;
    let lang = issues.first().map_or("en", |i| i.bulletin.lang.as_str());
    let style = format!(
        "body{{margin:0;background:#f2f4f7;color:#1f2933;font:18px/1.55 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}}\
main,header,footer{{box-sizing:border-box;max-width:640px;margin:0 auto;padding:24px 18px}}\
h1{{margin:0 0 8px;font-size:28px;line-height:1.25;color:{color}}}\
h2{{margin:0 0 4px;font-size:21px;line-height:1.3}}\
a{{color:{color};overflow-wrap:anywhere}}\
ol{{list-style:none;margin:0;padding:0}}\
li{{margin:0 0 16px;padding:18px 20px;background:#fff;border-radius:8px}}\
p{{margin:0 0 8px;overflow-wrap:anywhere}}\
time{{color:#52606d;font-size:16px}}\
footer p{{font-size:16px;color:#52606d}}\
@media (prefers-color-scheme:dark){{body{{background:#111418;color:#e6e8eb}}li{{background:{card}}}h1,a{{color:{accent}}}time,footer p{{color:#a9b1bb}}}}",
        color = brand.color,
        card = DARK_CARD,
        accent = on_dark(brand.color),
    );
    let page = html! {
        (DOCTYPE)
        html lang=(lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (settings.list_name) }
                link rel="alternate" type="application/atom+xml" title=(settings.list_name) href="feed.xml";
                style { (PreEscaped(style)) }
            }
            body {
                header {
                    h1 { (settings.list_name) }
                    p { "Past issues from " (settings.org_name) ", newest first." }
                    p {
                        @if let Some(subscribe) = &settings.subscribe_url {
                            a href=(subscribe.as_url().as_str()) { "Subscribe" } " · "
                        }
                        a href="feed.xml" { "Feed" }
                    }
                }
                main {
                    @if issues.is_empty() {
                        p { "No issues yet." }
                    }
                    ol {
                        @for issue in issues {
                            li {
                                h2 { a href={ (issue.bulletin.campaign.as_str()) "/index.html" } { (issue.title) } }
                                p { time datetime=(issue.bulletin.date.to_string()) { (issue.bulletin.date.to_string()) } }
                                p { (issue.preheader) }
                            }
                        }
                    }
                }
                footer {
                    p {
                        strong { (settings.org_name) }
                        @if let Some(site) = &settings.org_website {
                            " · " a href=(site.as_url().as_str()) { (settings.org_name) " website" }
                        }
                    }
                }
            }
        }
    };
    let mut out = page.into_string().into_bytes();
    out.push(b'\n');
    out
}
