//! The sign-up pages: the form, the answer to it, the confirmation page
//! with its button, and what a confirmation answers. In the unsubscribe
//! pages' layout: no scripts, nothing fetched from elsewhere.

use std::sync::Arc;

use maud::{Markup, html};

use crate::config::{Interest, label_of};
use crate::http::layout::Look;

/// What the pages say, and the organisation's look they say it in.
#[derive(Debug, Clone)]
pub struct Texts {
    pub list_name: String,
    pub org_name: String,
    pub consent: String,
    /// `INTERESTS`: the tags stored, the labels shown.
    pub interests: Vec<Interest>,
    pub look: Arc<Look>,
}

impl Texts {
    /// The labels of `tags`, in the order given.
    pub fn labels<'a>(&'a self, tags: &'a [String]) -> Vec<&'a str> {
        tags.iter().map(|tag| label_of(&self.interests, tag)).collect()
    }
}

/// A sign-up page in the organisation's look.
fn layout(texts: &Texts, title: &str, body: Markup) -> Markup {
    crate::http::layout::column(&texts.look, title, body)
}

/// `GET /subscribe`: name, address, interests, the consent sentence, and a
/// honeypot field a person never sees.
pub fn form(texts: &Texts) -> Markup {
    layout(
        texts,
        &format!("Sign up for {}", texts.list_name),
        html! {
            h1 { "Sign up for " (texts.list_name) }
            form method="post" action="/subscribe" {
                p { label { "Your name"
                    input type="text" name="name" autocomplete="name" maxlength="200"; } }
                p { label { "Your email address"
                    input type="email" name="email" autocomplete="email" required maxlength="254"; } }
                @if !texts.interests.is_empty() {
                    fieldset {
                        legend { "What would you like to hear about?" }
                        @for interest in &texts.interests {
                            p.choice { label { input type="checkbox" name="interests" value=(interest.tag); (interest.label) } }
                        }
                    }
                }
                // Left empty by people, who cannot see it; filled by bots.
                p style="position:absolute;left:-10000px" aria-hidden="true" {
                    label { "Leave this empty" input type="text" name="website" tabindex="-1" autocomplete="off"; }
                }
                p { (texts.consent) }
                button type="submit" { "Sign up" }
            }
            p.muted { "We will email you a link to confirm. Nothing is sent again until you do." }
        },
    )
}

/// The answer to every well-formed sign-up, whoever it is for.
pub fn check_inbox(texts: &Texts) -> Markup {
    layout(
        texts,
        "Check your inbox",
        html! {
            h1 { "Check your inbox" }
            p { "If the address can receive " (texts.list_name) ", an email with a link to confirm is on its way. \
                 Open it and press Confirm." }
            p.muted { "Nothing arrived? Look in your spam folder; you can sign up again tomorrow." }
        },
    )
}

/// The answer to a sign-up without a usable address.
pub fn bad_address(texts: &Texts) -> Markup {
    layout(
        texts,
        "That address does not look right",
        html! {
            h1 { "That address does not look right" }
            p { "Go back and check the email address, then try again." }
        },
    )
}

/// `GET /confirm`: what confirming means, and the button that does it.
/// The name and interests are shown as they will be kept, so a sign-up
/// someone else made in the reader's name is not confirmed unseen.
pub fn confirm(texts: &Texts, email: &str, name: &str, interests: &[String]) -> Markup {
    layout(
        texts,
        &format!("Confirm: {}", texts.list_name),
        html! {
            h1 { "Confirm your sign-up" }
            p { "Send " (texts.list_name) " from " (texts.org_name) " to " strong { (email) } "?" }
            @if !name.trim().is_empty() || !interests.is_empty() {
                ul {
                    @if !name.trim().is_empty() { li { "Name: " strong { (name) } } }
                    @if !interests.is_empty() { li { "Interests: " strong { (texts.labels(interests).join(", ")) } } }
                }
            }
            p { (texts.consent) }
            // An empty action posts back to this very address, token and all.
            form method="post" action="" {
                input type="hidden" name="confirm" value="yes";
                button type="submit" { "Confirm" }
            }
            p.muted { "Not you, or not what you entered? Close this page and nothing happens." }
        },
    )
}

/// The answer to a confirmation.
pub fn confirmed(texts: &Texts, email: &str) -> Markup {
    layout(
        texts,
        "You are signed up",
        html! {
            h1 { "You are signed up" }
            p { strong { (email) } " will receive " (texts.list_name) " from " (texts.org_name) "." }
        },
    )
}

/// The answer to a confirmation link that is damaged, forged or too old.
pub fn bad_link(texts: &Texts, expired: bool) -> Markup {
    let title = if expired { "This link has expired" } else { "This link does not work" };
    layout(
        texts,
        title,
        html! {
            h1 { (title) }
            p { "Nothing has been changed. Sign up again to get a new link." }
        },
    )
}

/// The answer to a confirmation link made before the reader's latest
/// opt-out (or their erasure): it changes nothing, and says nothing about
/// why, which would tell whoever holds the link what the reader did.
pub fn overtaken(texts: &Texts) -> Markup {
    layout(
        texts,
        "This link no longer works",
        html! {
            h1 { "This link no longer works" }
            p { "Nothing has been changed. To get " (texts.list_name) ", sign up again: you will get a new link." }
        },
    )
}

/// The answer when the sign-up could not be written.
pub fn failed(texts: &Texts) -> Markup {
    layout(
        texts,
        "Something went wrong",
        html! {
            h1 { "Something went wrong on our side" }
            p { "You are not signed up yet. Please press Confirm again in a few minutes." }
        },
    )
}
