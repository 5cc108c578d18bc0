//! The list's own short emails (a sign-up's request to confirm): a
//! heading, paragraphs, a button, a list, in the bulletin's own document
//! (logo, brand colour, the footer with the organisation's postal address)
//! and its plaintext, rendered from the same blocks by the same code as a
//! bulletin's. The caller supplies only the words; this ends at the
//! [`Personalised`] content, which `message` composes.

use super::{Personalised, Said, ShownLogo, Slots, html, text};
use crate::config::Settings;
use crate::content::{Block, Inline};
use crate::domain::EmailAddress;

/// A run of words in a paragraph.
#[derive(Debug, Clone, Copy)]
pub enum Span<'a> {
    Plain(&'a str),
    /// Shown bold (`*…*` in the text).
    Strong(&'a str),
}

/// One short email, built up in reading order.
#[derive(Debug, Clone)]
pub struct Notice {
    subject: String,
    preheader: String,
    heading: String,
    blocks: Vec<Block>,
    /// Why the reader gets it: the footer's first sentence.
    reason: String,
}

impl Notice {
    /// An email with `subject`, the hidden preview line `preheader`, and
    /// `heading` at the top; `reason` is the footer's sentence saying why
    /// it came.
    pub fn new(subject: &str, preheader: &str, heading: &str, reason: &str) -> Self {
        Self {
            subject: one_line(subject),
            preheader: one_line(preheader),
            heading: heading.to_owned(),
            blocks: Vec::new(),
            reason: reason.to_owned(),
        }
    }

    /// Adds a paragraph.
    pub fn paragraph<'a>(mut self, spans: impl IntoIterator<Item = Span<'a>>) -> Self {
        let content = spans
            .into_iter()
            .map(|span| match span {
                Span::Plain(text) => Inline::Text(text.to_owned()),
                Span::Strong(text) => Inline::Strong(vec![Inline::Text(text.to_owned())]),
            })
            .collect();
        self.blocks.push(Block::Paragraph { content, line: 0 });
        self
    }

    /// Adds a bulleted list, one item a line.
    pub fn list<'a>(mut self, items: impl IntoIterator<Item = &'a str>) -> Self {
        let items = items
            .into_iter()
            .map(|item| vec![Block::Paragraph { content: vec![Inline::Text(item.to_owned())], line: 0 }])
            .collect();
        self.blocks.push(Block::List { start: None, items });
        self
    }

    /// Adds the button: `label` in the brand colour, linking to `url`
    /// (written out after the label in the text).
    pub fn button(mut self, label: &str, url: &str) -> Self {
        self.blocks.push(Block::Button {
            label: vec![Inline::Text(label.to_owned())],
            url: url.to_owned(),
            line: 0,
        });
        self
    }

    /// The HTML and text for `to`, with `logo` at the top as a bulletin
    /// shows it (`cid:` or https: see `job::shown_logo`).
    pub fn render(&self, settings: &Settings, logo: Option<ShownLogo>, to: &EmailAddress) -> Personalised {
        let mut slots = Slots { logo, ..Slots::default() };
        let said = Said {
            heading: &self.heading,
            preheader: &self.preheader,
            blocks: &self.blocks,
            reason: &self.reason,
            email: to.as_str(),
        };
        let html = html::notice(&said, settings, &mut slots);
        let text = text::notice(&said, settings, &mut slots);
        Personalised { subject: self.subject.clone(), html, text }
    }
}

/// `text` on one line, with single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Source;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let mut all = vec![
            ("ORG_NAME", "Hope & Justice Trust"),
            ("ORG_ADDRESS", "12 Market Street, Bristol BS1 1AA"),
            ("LIST_NAME", "Weekly prayer"),
            ("BRAND_COLOR", "#8a1538"),
        ];
        all.extend_from_slice(pairs);
        Settings::from_source(&Source::from_pairs(all)).unwrap()
    }

    fn sample(settings: &Settings) -> Personalised {
        Notice::new("Please confirm", "One click to go", "Confirm your sign-up", "You asked at our form.")
            .paragraph([Span::Plain("Send it to "), Span::Strong("ana@example.org <b>"), Span::Plain("?")])
            .list(["Weekly prayer requests", "News & stories"])
            .button("Confirm", "https://hope.example.org/confirm?t=abc")
            .paragraph([Span::Plain("If you do nothing, nothing will be sent.")])
            .render(
                settings,
                Some(ShownLogo {
                    url: "cid:logo.png@bulletin".into(),
                    alt: "Hope".into(),
                    width: 96,
                    height: Some(40),
                }),
                &EmailAddress::parse("ana@example.org").unwrap(),
            )
    }

    #[test]
    fn a_notice_has_the_bulletins_logo_colour_button_and_footer_with_the_postal_address() {
        let made = sample(&settings(&[("ORG_WEBSITE", "https://hope.example.org")]));
        let html = &made.html;
        assert!(
            html.contains(r#"<img src="cid:logo.png@bulletin" alt="Hope" width="96" height="40""#),
            "{html}"
        );
        assert!(html.contains("color:#8a1538") && html.contains("bgcolor=\"#8a1538\""), "{html}");
        assert!(html.contains(">Confirm your sign-up</h1>"), "{html}");
        assert!(html.contains("<strong>ana@example.org &lt;b&gt;</strong>"), "escaped: {html}");
        assert!(html.contains("<li style=\"margin:0 0 10px;\">News &amp; stories</li>"), "{html}");
        assert!(html.contains("12 Market Street, Bristol BS1 1AA"), "{html}");
        assert!(html.contains("You asked at our form. This email was sent to ana@example.org."), "{html}");
        assert!(html.contains(">Hope &amp; Justice Trust website</a>"), "{html}");
        assert!(!html.contains("Unsubscribe"), "the reader is on no list yet: {html}");
        assert!(html.contains("One click to go"), "the preheader: {html}");
    }

    #[test]
    fn a_notices_text_has_the_same_words_the_link_written_out_and_the_footer() {
        let text = sample(&settings(&[])).text;
        for line in [
            "Confirm your sign-up",
            "Send it to *ana@example.org <b>*?",
            "* News & stories",
            "Confirm: https://hope.example.org/confirm?t=abc",
            "If you do nothing, nothing will be sent.",
            "Hope & Justice Trust",
            "12 Market Street, Bristol BS1 1AA",
            "You asked at our form. This email was sent to ana@example.org.",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
        }
        assert!(text.lines().all(|l| l.chars().count() <= text::WIDTH || !l.contains(' ')), "{text}");
    }
}
