//! The HTML page both servers' pages are built in: language, character
//! set, phone-sized viewport, title and the page's own style sheet inline
//! (nothing fetched from elsewhere). Ends at `<body>`: what goes in it is
//! each page's own; [`column`] is the one the small pages share.

use maud::{DOCTYPE, Markup, PreEscaped, html};

/// What goes in a page's `<head>`.
pub struct Head<'a> {
    pub title: &'a str,
    /// The whole style sheet, inline.
    pub style: &'static str,
    /// Asks search engines to keep the page out of their index.
    pub noindex: bool,
}

/// A whole page: `head`, then `body` as the content of `<body>`.
pub fn page(head: &Head, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if head.noindex {
                    meta name="robots" content="noindex, nofollow";
                }
                title { (head.title) }
                style { (PreEscaped(head.style)) }
            }
            body { (body) }
        }
    }
}

/// The style of the servers' small pages (unsubscribe, sign-up,
/// preferences): one narrow column, light or dark.
const COLUMN_STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1b1b1b;--bg:#fff;--muted:#4a4a4a;--accent:#0b4f9c;--on-accent:#fff}\
@media (prefers-color-scheme:dark){:root{--fg:#ececec;--bg:#161616;--muted:#c4c4c4;--accent:#8cc4ff;--on-accent:#0b1a2b}}\
body{margin:0;background:var(--bg);color:var(--fg);font:1.125rem/1.5 system-ui,-apple-system,'Segoe UI',sans-serif}\
main{max-width:34rem;margin:0 auto;padding:3rem 1.25rem}\
h1{font-size:1.6rem;line-height:1.25;margin:0 0 1rem}\
p{margin:0 0 1rem}.muted{color:var(--muted);font-size:1rem}\
a{color:var(--accent)}\
button{font:inherit;font-weight:600;color:var(--on-accent);background:var(--accent);border:0;border-radius:.4rem;\
padding:.75rem 1.5rem;margin:.5rem 0 1.5rem;cursor:pointer}\
button:focus-visible,a:focus-visible{outline:3px solid var(--fg);outline-offset:3px}";

/// A page in the common layout, kept out of search engines, its content in
/// one narrow column.
pub(crate) fn column(title: &str, body: Markup) -> Markup {
    page(&Head { title, style: COLUMN_STYLE, noindex: true }, html! { main { (body) } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_holds_the_title_escaped_and_the_style_as_it_is() {
        let head = Head { title: "A <b> title", style: "p>a{color:red}", noindex: true };
        let html = page(&head, html! { p { "hi" } }).into_string();
        assert!(
            html.starts_with("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"),
            "{html}"
        );
        assert!(html.contains("<title>A &lt;b&gt; title</title><style>p>a{color:red}</style>"), "{html}");
        assert!(html.contains(r#"<meta name="robots" content="noindex, nofollow">"#), "{html}");
        assert!(html.ends_with("<body><p>hi</p></body></html>"), "{html}");
    }
}
