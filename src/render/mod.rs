//! Rendering: a parsed bulletin into the HTML and plaintext of an email.
//!
//! All the work that is the same for every reader happens once, in
//! [`Rendered::new`]: the Maud template runs, static paragraphs are wrapped,
//! and what is left is a list of literal pieces and *slots* (a merge field,
//! the reader's address, their unsubscribe link). [`Rendered::personalise`]
//! only fills the slots, escaping each value for where it goes.

mod html;
pub mod notice;
mod text;

pub use html::{DARK_CARD, DARK_SURFACES, on_dark};
pub use notice::{Notice, Span};

use std::collections::HashMap;

use crate::config::Settings;
use crate::content::{Bulletin, ContentError, ContentErrorKind};
use crate::merge::{Field, FieldName, Segment, Template};
use crate::subscribers::{Columns, Subscriber};

/// What a notice of the list's own says ([`notice::Notice`]), as the HTML
/// and the text render it.
struct Said<'a> {
    heading: &'a str,
    preheader: &'a str,
    blocks: &'a [crate::content::Block],
    /// Why the reader gets it: the footer's first sentence.
    reason: &'a str,
    /// Who it is for.
    email: &'a str,
}

/// Where `{{ … }}` slots were put in rendered output: `OPEN index CLOSE`.
/// Private-use characters, untouched by HTML escaping and text wrapping.
const SLOT_OPEN: char = '\u{E002}';
const SLOT_CLOSE: char = '\u{E003}';

/// A value that differs per reader.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    /// A CSV column, with the text to use when it is empty.
    Column { index: usize, name: FieldName, default: Option<String> },
    /// The reader's address.
    Email,
    /// The reader's unsubscribe link.
    UnsubscribeUrl,
    /// The reader's link to the preference page.
    PreferencesUrl,
}

/// The slots of a bulletin, numbered in the order they were met.
#[derive(Debug, Default)]
struct Slots {
    slots: Vec<Slot>,
    columns: HashMap<FieldName, usize>,
    /// Local images by the address written in the bulletin: where the
    /// HTML finds them instead (not a slot: the same for every reader).
    images: HashMap<String, ShownImage>,
    /// The logo at the top of the HTML, if any.
    logo: Option<ShownLogo>,
    /// Set for a web page ([`Rendered::page`]) instead of an email.
    web: Option<WebPage>,
}

/// What a web page of the archive has where an email has its reader's
/// address and unsubscribe link. Links are relative to the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebPage {
    /// The archive's index: `../index.html`.
    pub index: String,
    /// The Atom feed: `../feed.xml`.
    pub feed: String,
}

/// The links an email carries when `ARCHIVE_URL` is set: its issue's page
/// and the archive's index (absolute, with a trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveLinks {
    pub issue: String,
    pub index: String,
}

impl ArchiveLinks {
    /// The links for `campaign` in the archive at `base`.
    pub fn new(base: &url::Url, campaign: &crate::content::CampaignId) -> Self {
        let index = format!("{}/", base.as_str().trim_end_matches('/'));
        Self { issue: format!("{index}{campaign}/"), index }
    }

    /// The links for `bulletin` under `ARCHIVE_URL`, if it is set.
    pub fn of(settings: &Settings, bulletin: &Bulletin) -> Option<Self> {
        settings.archive_url.as_ref().map(|base| Self::new(base.as_url(), &bulletin.campaign))
    }
}

/// The logo shown at the top of the HTML (`LOGO`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownLogo {
    /// `cid:logo.png@bulletin` or an https URL.
    pub url: String,
    pub alt: String,
    /// The display size in CSS pixels; the height when known.
    pub width: u32,
    pub height: Option<u32>,
}

/// Where a local image is shown from, and at what size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownImage {
    /// As written in the bulletin: `images/well.jpg`.
    pub src: String,
    /// The address the HTML uses: `cid:image1.jpg@bulletin` or an https URL.
    pub url: String,
    /// The display size in CSS pixels.
    pub width: u32,
    pub height: u32,
}

impl Slots {
    /// The marker standing for `slot` in rendered output.
    fn marker(&mut self, slot: Slot) -> String {
        let index = self.slots.iter().position(|s| *s == slot).unwrap_or_else(|| {
            self.slots.push(slot);
            self.slots.len() - 1
        });
        format!("{SLOT_OPEN}{index}{SLOT_CLOSE}")
    }

    /// The marker for a merge field (already checked to have a column).
    fn field(&mut self, field: &Field) -> String {
        let index = self.columns[&field.name];
        self.marker(Slot::Column { index, name: field.name.clone(), default: field.default.clone() })
    }

    /// A template as text with markers.
    fn template(&mut self, template: &Template) -> String {
        template
            .0
            .iter()
            .map(|segment| match segment {
                Segment::Literal(text) => text.clone(),
                Segment::Field(field) => self.field(field),
            })
            .collect()
    }
}

/// Rendered output with slots left open.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Slot(usize),
}

/// Splits text at slot markers.
fn parts(text: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(SLOT_OPEN) {
        let after = &rest[open + SLOT_OPEN.len_utf8()..];
        let close = after.find(SLOT_CLOSE).expect("markers come in pairs");
        if open > 0 {
            parts.push(Part::Literal(rest[..open].to_owned()));
        }
        parts.push(Part::Slot(after[..close].parse().expect("markers hold an index")));
        rest = &after[close + SLOT_CLOSE.len_utf8()..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_owned()));
    }
    parts
}

/// What personalisation needs to know about a reader beyond their CSV row.
#[derive(Debug, Clone, Copy)]
pub struct Addressee<'a> {
    pub subscriber: &'a Subscriber,
    /// Their unsubscribe link (https with a token, or a mailto).
    pub unsubscribe_url: &'a str,
    /// Their preference page link; empty without `PREFERENCES_URL`.
    pub preferences_url: &'a str,
}

/// One reader's email content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Personalised {
    /// One line, no control characters.
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// A bulletin rendered once, ready to personalise for anyone on the list.
#[derive(Debug)]
pub struct Rendered {
    slots: Vec<Slot>,
    subject: Vec<Part>,
    html: Vec<Part>,
    text: text::Text,
}

/// A merge field that the subscriber file has no column for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownField {
    pub name: FieldName,
    pub line: usize,
}

impl Rendered {
    /// Checks every merge field of `bulletin` against `columns`: the error
    /// lists each unknown field with its line (and the columns there are),
    /// before anything is rendered.
    pub fn check_fields(bulletin: &Bulletin, columns: &Columns) -> Vec<ContentError> {
        let available: Vec<String> = columns.field_names().map(ToString::to_string).collect();
        let mut reported = Vec::new();
        bulletin
            .field_uses
            .iter()
            .filter(|u| columns.index_of(&u.name).is_none())
            .filter(|u| {
                let first = !reported.contains(&(u.name.clone(), u.line));
                reported.push((u.name.clone(), u.line));
                first
            })
            .map(|u| ContentError::Invalid {
                path: bulletin.path.clone(),
                line: u.line,
                kind: ContentErrorKind::UnknownField {
                    name: u.name.to_string(),
                    available: available.join(", "),
                },
            })
            .collect()
    }

    /// Renders `bulletin` for readers from a file with `columns`. Fails with
    /// every unknown merge field (see [`Rendered::check_fields`]).
    pub fn new(
        bulletin: &Bulletin,
        settings: &Settings,
        columns: &Columns,
    ) -> Result<Self, Vec<ContentError>> {
        Self::with_images(bulletin, settings, columns, &[], None)
    }

    /// As [`Rendered::new`], with the bulletin's local images shown from
    /// where `images` says, and `logo` at the top.
    pub fn with_images(
        bulletin: &Bulletin,
        settings: &Settings,
        columns: &Columns,
        images: &[ShownImage],
        logo: Option<ShownLogo>,
    ) -> Result<Self, Vec<ContentError>> {
        let unknown = Self::check_fields(bulletin, columns);
        if !unknown.is_empty() {
            return Err(unknown);
        }
        let mut slots = Slots {
            slots: Vec::new(),
            columns: bulletin
                .field_uses
                .iter()
                .map(|u| (u.name.clone(), columns.index_of(&u.name).expect("checked above")))
                .collect(),
            images: images.iter().map(|image| (image.src.clone(), image.clone())).collect(),
            logo,
            web: None,
        };
        let subject = parts(&slots.template(&bulletin.subject));
        let html = parts(&html::render(bulletin, settings, &mut slots));
        let text = text::render(bulletin, settings, &mut slots);
        Ok(Self { slots: slots.slots, subject, html, text })
    }

    /// `bulletin` as a page of the web archive, for nobody in particular:
    /// no address, no unsubscribe link; a merge field shows its default, or
    /// nothing (`publish` takes such sentences out before).
    pub fn page(
        bulletin: &Bulletin,
        settings: &Settings,
        images: &[ShownImage],
        logo: Option<ShownLogo>,
        web: WebPage,
    ) -> Personalised {
        let mut slots = Slots {
            slots: Vec::new(),
            columns: bulletin.field_uses.iter().enumerate().map(|(i, u)| (u.name.clone(), i)).collect(),
            images: images.iter().map(|image| (image.src.clone(), image.clone())).collect(),
            logo,
            web: Some(web),
        };
        let subject = parts(&slots.template(&bulletin.subject));
        let html = parts(&html::render(bulletin, settings, &mut slots));
        let text = text::render(bulletin, settings, &mut slots);
        let value = |slot: usize| match &slots.slots[slot] {
            Slot::Column { default, .. } => default.as_deref().unwrap_or(""),
            Slot::Email | Slot::UnsubscribeUrl | Slot::PreferencesUrl => "",
        };
        let fill = |parts: &[Part], escape: fn(&str, &mut String)| {
            let mut out = String::new();
            for part in parts {
                match part {
                    Part::Literal(text) => out.push_str(text),
                    Part::Slot(slot) => escape(value(*slot), &mut out),
                }
            }
            out
        };
        let subject =
            fill(&subject, |v, out| out.push_str(v)).split_whitespace().collect::<Vec<_>>().join(" ");
        Personalised { subject, html: fill(&html, escape_html), text: text.personalise(value) }
    }

    fn value<'a>(&'a self, slot: usize, reader: &Addressee<'a>) -> &'a str {
        match &self.slots[slot] {
            Slot::Column { index, default, .. } => {
                let value = reader.subscriber.value(*index).trim();
                match default {
                    Some(default) if value.is_empty() => default,
                    _ => value,
                }
            }
            Slot::Email => reader.subscriber.email().as_str(),
            Slot::UnsubscribeUrl => reader.unsubscribe_url,
            Slot::PreferencesUrl => reader.preferences_url,
        }
    }

    fn fill(&self, parts: &[Part], reader: &Addressee<'_>, out: &mut String, escape: fn(&str, &mut String)) {
        for part in parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Slot(slot) => escape(self.value(*slot, reader), out),
            }
        }
    }

    /// Fields this reader has no value for, where the bulletin gives no
    /// default: the message would show nothing there.
    pub fn empty_fields<'a>(
        &'a self,
        subscriber: &'a Subscriber,
    ) -> impl Iterator<Item = &'a FieldName> + 'a {
        self.slots.iter().filter_map(move |slot| match slot {
            Slot::Column { index, name, default: None } if subscriber.value(*index).trim().is_empty() => {
                Some(name)
            }
            _ => None,
        })
    }

    /// The subject, HTML and text for one reader.
    pub fn personalise(&self, reader: &Addressee<'_>) -> Personalised {
        let mut subject = String::new();
        self.fill(&self.subject, reader, &mut subject, |v, out| out.push_str(v));
        let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");

        let mut html = String::with_capacity(
            self.html
                .iter()
                .map(|p| match p {
                    Part::Literal(l) => l.len(),
                    Part::Slot(_) => 32,
                })
                .sum(),
        );
        self.fill(&self.html, reader, &mut html, escape_html);

        let text = self.text.personalise(|slot| self.value(slot, reader));
        Personalised { subject, html, text }
    }
}

/// Escapes `value` for HTML text or a quoted attribute.
fn escape_html(value: &str, out: &mut String) {
    use std::fmt::Write;
    maud::Escaper::new(out).write_str(value).expect("writing to a String cannot fail");
}

#[cfg(test)]
mod tests;
