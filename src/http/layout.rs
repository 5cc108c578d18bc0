//! The HTML page both servers' pages are built in: language, character
//! set, phone-sized viewport, title and the page's own style sheet inline
//! (nothing fetched from elsewhere). Ends at `<body>`: what goes in it is
//! each page's own.

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
