//! The plaintext part, written from the same parsed bulletin as the HTML:
//! wrapped at 78 columns, headings underlined, list bullets, and links as
//! numbered references listed at the end.

use textwrap::core::display_width;
use textwrap::{Options, WordSeparator, WordSplitter};

use super::{Part, SLOT_OPEN, Slot, Slots, parts};
use crate::config::Settings;
use crate::content::{Block, Bulletin, Inline, markdown::plain_text};

/// Lines are wrapped to this many columns; only a single word longer than
/// that (a long web address) makes a longer line.
pub const WIDTH: usize = 78;

/// The plaintext with slots left open. Paragraphs without slots are wrapped
/// once, here; the others are wrapped per reader, since their values change
/// where lines break.
#[derive(Debug)]
pub(super) struct Text(Vec<Chunk>);

#[derive(Debug)]
enum Chunk {
    Literal(String),
    Wrap { parts: Vec<Part>, layout: Layout },
}

/// How a paragraph is laid out.
#[derive(Debug, Clone)]
struct Layout {
    first_indent: String,
    indent: String,
    underline: Option<char>,
}

impl Layout {
    fn indented(indent: &str) -> Self {
        Self { first_indent: indent.to_owned(), indent: indent.to_owned(), underline: None }
    }

    /// Wraps `text` and adds the underline, ending with a newline.
    fn apply(&self, text: &str) -> String {
        let options = Options::new(WIDTH)
            .initial_indent(&self.first_indent)
            .subsequent_indent(&self.indent)
            .break_words(false)
            .word_separator(WordSeparator::AsciiSpace)
            .word_splitter(WordSplitter::NoHyphenation);
        let mut out = textwrap::fill(text, options);
        if let Some(underline) = self.underline {
            let width = out.lines().map(display_width).max().unwrap_or(0);
            out.push('\n');
            out.extend(std::iter::repeat_n(underline, width));
        }
        out.push('\n');
        out
    }
}

impl Text {
    /// The text for one reader; `value` gives each slot's value.
    pub(super) fn personalise<'a>(&self, value: impl Fn(usize) -> &'a str) -> String {
        let mut out = String::new();
        for chunk in &self.0 {
            match chunk {
                Chunk::Literal(text) => out.push_str(text),
                Chunk::Wrap { parts, layout } => {
                    let mut text = String::new();
                    for part in parts {
                        match part {
                            Part::Literal(l) => text.push_str(l),
                            Part::Slot(slot) => text.push_str(value(*slot)),
                        }
                    }
                    out.push_str(&layout.apply(&text));
                }
            }
        }
        out
    }
}

struct Writer<'s> {
    chunks: Vec<Chunk>,
    links: Vec<String>,
    slots: &'s mut Slots,
}

pub(super) fn render(bulletin: &Bulletin, settings: &Settings, slots: &mut Slots) -> Text {
    let mut w = Writer { chunks: Vec::new(), links: Vec::new(), slots };
    let web = w.slots.web.is_some();
    let archive = if web { None } else { super::ArchiveLinks::of(settings, bulletin) };
    if let Some(archive) = &archive {
        w.literal(&format!("View this email in your browser: {}", archive.issue));
        w.separate();
    }
    if let Some(title) = &bulletin.title {
        let title = w.slots.template(title);
        w.paragraph(title, Layout { underline: Some('='), ..Layout::indented("") });
    }
    w.blocks(&bulletin.blocks, "");

    if !w.links.is_empty() {
        let mut list = String::from("Links:\n");
        for (i, url) in w.links.iter().enumerate() {
            list.push_str(&format!("[{}] {url}\n", i + 1));
        }
        w.separate();
        w.chunks.push(Chunk::Literal(list));
    }

    w.separate();
    w.literal(&"-".repeat(WIDTH));
    w.literal(&settings.org_name);
    if web {
        return Text(w.chunks);
    }
    w.literal(&settings.org_address);
    w.separate();
    let email = w.slots.marker(Slot::Email);
    w.paragraph(
        format!("{} This email was sent to {email}.", settings.subscription_reason),
        Layout::indented(""),
    );
    w.separate();
    let unsubscribe = w.slots.marker(Slot::UnsubscribeUrl);
    w.paragraph(format!("Unsubscribe: {unsubscribe}"), Layout::indented(""));
    if let Some(archive) = &archive {
        w.literal(&format!("Past issues: {}", archive.index));
    }
    if settings.preferences_url.is_some() {
        let preferences = w.slots.marker(Slot::PreferencesUrl);
        w.paragraph(format!("Preferences: {preferences}"), Layout::indented(""));
    }
    w.organisation_links(settings);
    Text(w.chunks)
}

/// A notice of the list's own ([`super::notice`]): its heading
/// underlined, its blocks as a bulletin's, and the footer with the postal
/// address, its reason and no unsubscribe link.
pub(super) fn notice(said: &super::Said, settings: &Settings, slots: &mut Slots) -> String {
    let mut w = Writer { chunks: Vec::new(), links: Vec::new(), slots };
    w.paragraph(said.heading.to_owned(), Layout { underline: Some('='), ..Layout::indented("") });
    w.blocks(said.blocks, "");
    w.separate();
    w.literal(&"-".repeat(WIDTH));
    w.literal(&settings.org_name);
    w.literal(&settings.org_address);
    w.separate();
    w.paragraph(format!("{} This email was sent to {}.", said.reason, said.email), Layout::indented(""));
    if settings.org_website.is_some()
        || settings.brand.donate_url.is_some()
        || !settings.brand.social.is_empty()
    {
        w.separate();
        w.organisation_links(settings);
    }
    Text(w.chunks).personalise(|_| "")
}

impl Writer<'_> {
    /// The organisation's website, donate and social links, a line each,
    /// worded as the HTML's links are, so both parts hold the same words.
    fn organisation_links(&mut self, settings: &Settings) {
        if let Some(site) = &settings.org_website {
            self.literal(&format!("{} website: {}", settings.org_name, site.as_url()));
        }
        if let Some(donate) = &settings.brand.donate_url {
            self.literal(&format!("Donate: {}", donate.as_url()));
        }
        for (words, url) in &settings.brand.social {
            self.literal(&format!("{words}: {}", url.as_url()));
        }
    }

    /// A blank line between blocks.
    fn separate(&mut self) {
        if !self.chunks.is_empty() {
            self.chunks.push(Chunk::Literal("\n".to_owned()));
        }
    }

    fn literal(&mut self, line: &str) {
        self.chunks.push(Chunk::Literal(format!("{line}\n")));
    }

    /// Text with slot markers, wrapped now if it has none.
    fn paragraph(&mut self, text: String, layout: Layout) {
        if text.contains(SLOT_OPEN) {
            self.chunks.push(Chunk::Wrap { parts: parts(&text), layout });
        } else {
            self.chunks.push(Chunk::Literal(layout.apply(&text)));
        }
    }

    fn blocks(&mut self, blocks: &[Block], indent: &str) {
        for block in blocks {
            self.separate();
            self.block(block, Layout::indented(indent));
        }
    }

    /// Writes `block`; `layout.first_indent` starts its first line (a list
    /// bullet), `layout.indent` every other.
    fn block(&mut self, block: &Block, layout: Layout) {
        match block {
            Block::Heading { level, content } => {
                let text = self.inlines(content);
                let layout = match level {
                    1 => Layout { underline: Some('='), ..layout },
                    2 => Layout { underline: Some('-'), ..layout },
                    _ => Layout { first_indent: format!("{}### ", layout.first_indent), ..layout },
                };
                self.paragraph(text, layout);
            }
            Block::Paragraph { content, .. } => {
                let text = self.inlines(content);
                self.paragraph(text, layout);
            }
            Block::List { start, items } => {
                for (number, (i, item)) in (start.unwrap_or(1)..).zip(items.iter().enumerate()) {
                    if i > 0 {
                        self.separate();
                    }
                    let marker = match start {
                        None => "* ".to_owned(),
                        Some(_) => format!("{number}. "),
                    };
                    let first = if i == 0 { layout.first_indent.clone() } else { layout.indent.clone() };
                    let inner = format!("{}{}", layout.indent, " ".repeat(display_width(&marker)));
                    self.list_item(item, format!("{first}{marker}"), &inner);
                }
            }
            Block::Quote { body, attribution } => {
                let indent = format!("{}    ", layout.indent);
                self.blocks_in(body, &indent);
                if let Some(attribution) = attribution {
                    let text = format!("— {}", self.inlines(attribution));
                    self.separate();
                    self.paragraph(text, Layout::indented(&format!("{indent}    ")));
                }
            }
            Block::Code(code) => {
                let indent = format!("{}    ", layout.indent);
                let lines: Vec<String> = code.lines().map(|l| format!("{indent}{l}")).collect();
                self.literal(&lines.join("\n"));
            }
            Block::Rule => self.literal(&format!("{}{}", layout.indent, "-".repeat(40))),
            Block::Button { label, url, .. } => {
                // The address written out: a call to action should not
                // send the reader to a list at the end.
                let text = format!("{}: {url}", self.inlines(label));
                self.paragraph(text, layout);
            }
        }
    }

    /// Blocks of a quote or list item, separated by blank lines.
    fn blocks_in(&mut self, blocks: &[Block], indent: &str) {
        for (i, block) in blocks.iter().enumerate() {
            if i > 0 {
                self.separate();
            }
            self.block(block, Layout::indented(indent));
        }
    }

    fn list_item(&mut self, item: &[Block], first_indent: String, indent: &str) {
        let Some((first, rest)) = item.split_first() else {
            self.literal(first_indent.trim_end());
            return;
        };
        self.block(first, Layout { first_indent, indent: indent.to_owned(), underline: None });
        for block in rest {
            self.separate();
            self.block(block, Layout::indented(indent));
        }
    }

    /// Inline content as text with slot markers; links get a reference
    /// number unless their text is the address itself.
    fn inlines(&mut self, content: &[Inline]) -> String {
        let mut out = String::new();
        for inline in content {
            match inline {
                Inline::Text(text) => out.push_str(text),
                Inline::Field(field) => out.push_str(&self.slots.field(field)),
                Inline::Strong(inner) => {
                    let inner = self.inlines(inner);
                    out.push_str(&format!("*{inner}*"));
                }
                Inline::Emphasis(inner) => {
                    let inner = self.inlines(inner);
                    out.push_str(&format!("_{inner}_"));
                }
                Inline::Strikethrough(inner) => out.push_str(&self.inlines(inner)),
                Inline::Code(code) => out.push_str(code),
                Inline::Link { url, content, .. } => {
                    let words = plain_text(content);
                    let shown = url.strip_prefix("mailto:").unwrap_or(url);
                    out.push_str(&self.inlines(content));
                    if words != shown && words != *url {
                        let number = match self.links.iter().position(|l| l == url) {
                            Some(i) => i + 1,
                            None => {
                                self.links.push(url.clone());
                                self.links.len()
                            }
                        };
                        out.push_str(&format!(" [{number}]"));
                    }
                }
                // A photo sent with the message (it always has alt text).
                Inline::Image { url, alt, .. } if crate::content::markdown::is_relative_path(url) => {
                    out.push_str(&format!("[Photo: {alt}]"));
                }
                Inline::Image { alt, .. } if alt.is_empty() => out.push_str("[image]"),
                Inline::Image { alt, .. } => out.push_str(&format!("[image: {alt}]")),
                Inline::LineBreak => out.push('\n'),
            }
        }
        out
    }
}
