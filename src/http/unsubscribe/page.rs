//! The unsubscribe server's pages: small, self-contained (no scripts, no
//! fonts, no images, nothing fetched from elsewhere), readable on a phone
//! and with a screen reader, light or dark, in the servers' shared
//! `layout`. Ends at the markup: the server adds the headers.
//!
//! The pages show the reader's whole address: the link that brought them
//! here already carries it, and seeing it lets someone with several
//! addresses tell which one is leaving.

use std::sync::Arc;

use maud::{Markup, html};

use crate::config::Settings;
use crate::http::layout::Look;
use crate::subscribers::EmailAddress;

/// What the pages say about the list.
#[derive(Debug, Clone)]
pub struct Texts {
    list_name: String,
    org_name: String,
    /// Where a reader can write to a person.
    contact: String,
    look: Arc<Look>,
}

impl Texts {
    /// What `settings` say, in the organisation's `look`.
    pub fn new(settings: &Settings, look: Arc<Look>) -> Self {
        Self {
            list_name: settings.list_name.clone(),
            org_name: settings.org_name.clone(),
            contact: settings.reply_to.as_ref().unwrap_or(&settings.from_email).to_string(),
            look,
        }
    }
}

/// A page of the unsubscribe server in the organisation's look.
fn layout(texts: &Texts, title: &str, body: Markup) -> Markup {
    crate::http::layout::column(&texts.look, title, body)
}

pub(crate) fn write_to(texts: &Texts) -> Markup {
    html! { a href={ "mailto:" (texts.contact) } { (texts.contact) } }
}

/// The page a `GET` shows: what will happen, and the button that does it.
pub fn confirm(texts: &Texts, email: &EmailAddress) -> Markup {
    layout(
        texts,
        &format!("Unsubscribe from {}", texts.list_name),
        html! {
            h1 { "Unsubscribe from " (texts.list_name) "?" }
            p { "You will get no more " (texts.list_name) " emails from " (texts.org_name) " at " strong { (email) } "." }
            // An empty action posts back to this very address, token and all,
            // whatever path the reverse proxy shows it under.
            form method="post" action="" {
                input type="hidden" name="List-Unsubscribe" value="One-Click";
                button type="submit" { "Unsubscribe" }
            }
            p.muted { "Changed your mind? Close this page and nothing changes." }
        },
    )
}

/// The answer to a `POST` that worked.
pub fn done(texts: &Texts, email: &EmailAddress) -> Markup {
    layout(
        texts,
        "You are unsubscribed",
        html! {
            h1 { "You are unsubscribed" }
            p { strong { (email) } " will get no more " (texts.list_name) " emails from " (texts.org_name) "." }
            p.muted { "Unsubscribed by mistake? Write to " (write_to(texts)) " and we will add you back." }
        },
    )
}

/// The answer to a link whose token is missing, damaged or forged.
pub fn invalid_link(texts: &Texts) -> Markup {
    layout(
        texts,
        "This unsubscribe link does not work",
        html! {
            h1 { "This unsubscribe link does not work" }
            p { "It may have been cut short or changed on its way here. Nothing has been changed." }
            p { "Try the unsubscribe link in the email once more (the whole of it), or write to "
                (write_to(texts)) " and we will take you off the " (texts.list_name) " by hand." }
        },
    )
}

/// The answer to a `POST` that is not a one-click request.
pub fn not_one_click(texts: &Texts, email: &EmailAddress) -> Markup {
    layout(
        texts,
        "Use the unsubscribe button",
        html! {
            h1 { "Use the unsubscribe button" }
            p { "This request did not come from the unsubscribe button, so " strong { (email) }
                " is still subscribed. Open the unsubscribe link from the email and press its button, or write to "
                (write_to(texts)) "." }
        },
    )
}

/// The answer when the suppression list could not be written.
pub fn failed(texts: &Texts) -> Markup {
    layout(
        texts,
        "Something went wrong",
        html! {
            h1 { "Something went wrong on our side" }
            p { "You are not unsubscribed yet. Please try again in a few minutes, or write to "
                (write_to(texts)) " and we will take you off the " (texts.list_name) " by hand." }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Source;

    fn texts() -> Texts {
        let settings = Settings::from_source(&Source::from_pairs([
            ("ORG_NAME", "Hope <Trust>"),
            ("LIST_NAME", "Weekly prayer"),
            ("REPLY_TO", "office@hope.example.org"),
        ]))
        .unwrap();
        Texts::new(&settings, Arc::new(Look::new(&settings).unwrap()))
    }

    #[test]
    fn the_confirmation_page_names_the_list_and_address_and_posts_the_one_click_field() {
        let html = confirm(&texts(), &EmailAddress::parse("ana@example.org").unwrap()).into_string();
        assert!(html.contains("Unsubscribe from Weekly prayer?"), "{html}");
        assert!(html.contains("<strong>ana@example.org</strong>"), "{html}");
        assert!(html.contains("Hope &lt;Trust&gt;"), "settings are escaped: {html}");
        assert!(html.contains(r#"<form method="post" action="">"#), "{html}");
        assert!(html.contains(r#"name="List-Unsubscribe" value="One-Click""#), "{html}");
    }

    #[test]
    fn every_page_is_self_contained() {
        let email = EmailAddress::parse("ana@example.org").unwrap();
        let t = texts();
        for html in
            [confirm(&t, &email), done(&t, &email), invalid_link(&t), not_one_click(&t, &email), failed(&t)]
        {
            let html = html.into_string();
            assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\">"), "{html}");
            for external in ["<script", "<link", "<img", "src=", "http:", "https:", "url("] {
                assert!(!html.contains(external), "{external} in {html}");
            }
        }
    }
}
