//! The bulletin body: Markdown turned into the small document tree that both
//! renderers walk. Only what an email can show survives; raw HTML is refused.

use std::iter::Peekable;
use std::ops::Range;

use pulldown_cmark::{Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};

use super::{ContentErrorKind, LineIndex};
use crate::merge::Field;

/// A block of the body.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading; level 1 to 6.
    Heading {
        level: u8,
        content: Vec<Inline>,
    },
    /// A paragraph; `line` is the bulletin line it starts on.
    Paragraph {
        content: Vec<Inline>,
        line: usize,
    },
    /// A bullet list (`start` is `None`) or a numbered one.
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
    },
    /// A block quote; a last paragraph starting with a dash (`— Psalm 12:7`)
    /// becomes its attribution, without the dash.
    Quote {
        body: Vec<Block>,
        attribution: Option<Vec<Inline>>,
    },
    /// Preformatted text, shown as written.
    Code(String),
    Rule,
    /// A call to action: a link alone in its paragraph, followed by
    /// [`BUTTON_MARKER`] (`[Donate today](https://…){.button}`).
    Button {
        label: Vec<Inline>,
        url: String,
        line: usize,
    },
}

/// What follows a link to make it a button.
pub const BUTTON_MARKER: &str = "{.button}";

/// Text-level content.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    Text(String),
    Field(Field),
    Strong(Vec<Inline>),
    Emphasis(Vec<Inline>),
    Strikethrough(Vec<Inline>),
    Code(String),
    /// A link; `line` is the bulletin line it starts on.
    Link {
        url: String,
        content: Vec<Inline>,
        line: usize,
    },
    /// An image; `line` is the bulletin line it stands on.
    Image {
        url: String,
        alt: String,
        line: usize,
    },
    LineBreak,
}

/// Characters that mark where a merge field was cut out of the Markdown
/// source before parsing: `OPEN index CLOSE`. They are private-use code
/// points, so Markdown treats them as letters and never splits them.
pub const FIELD_OPEN: char = '\u{E000}';
pub const FIELD_CLOSE: char = '\u{E001}';

type Events<'a> = Peekable<pulldown_cmark::OffsetIter<'a>>;

/// How deep quotes, list items, emphasis and links may nest inside each
/// other. Far beyond what any email shows, and low enough that walking
/// the tree (here, in both renderers, and when it is dropped) never runs
/// out of stack, and that what is rendered stays in proportion to the
/// file: each level of a quote repeats its margin on every line inside it.
pub const MAX_NESTING: usize = 32;

/// Parses `source` (merge fields already replaced by markers naming indexes
/// into `fields`), whose first line is line `first_line` of the bulletin.
/// Errors carry a byte offset into `source`.
pub fn parse(source: &str, fields: &[Field], first_line: usize) -> Result<Vec<Block>> {
    let options = Options::ENABLE_STRIKETHROUGH;
    let mut events = Parser::new_ext(source, options).into_offset_iter().peekable();
    let mut reader =
        Reader { fields, lines: LineIndex::new(source), first_line, depth: 0, button_marker: None };
    let blocks = reader.blocks(&mut events, None)?;
    Ok(blocks)
}

struct Reader<'f> {
    fields: &'f [Field],
    lines: LineIndex,
    first_line: usize,
    /// How many quotes, items, emphases and links enclose the event read.
    depth: usize,
    /// Where a [`BUTTON_MARKER`] right after a link was met in the block
    /// being read (and taken out of its text).
    button_marker: Option<usize>,
}

type Result<T> = std::result::Result<T, (usize, ContentErrorKind)>;

fn is_inline(event: &Event<'_>) -> bool {
    matches!(
        event,
        Event::Text(_)
            | Event::Code(_)
            | Event::SoftBreak
            | Event::HardBreak
            | Event::InlineHtml(_)
            | Event::Start(
                Tag::Emphasis | Tag::Strong | Tag::Strikethrough | Tag::Link { .. } | Tag::Image { .. }
            )
    )
}

impl Reader<'_> {
    /// Reads what `read` reads one level deeper, refused at `offset` past
    /// [`MAX_NESTING`].
    fn nested<T>(&mut self, offset: usize, read: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.depth >= MAX_NESTING {
            return Err((offset, ContentErrorKind::TooDeep { limit: MAX_NESTING }));
        }
        self.depth += 1;
        let read = read(self);
        self.depth -= 1;
        read
    }

    /// The bulletin line of byte `offset` of the source.
    fn line(&self, offset: usize) -> usize {
        self.first_line + self.lines.line_of(offset) - 1
    }

    fn blocks(&mut self, events: &mut Events<'_>, end: Option<TagEnd>) -> Result<Vec<Block>> {
        let mut blocks = Vec::new();
        while let Some((event, range)) = events.next() {
            if is_inline(&event) {
                // Tight list items hold inline content with no paragraph.
                let line = self.line(range.start);
                self.button_marker = None;
                let mut content = Vec::new();
                let mut pending = String::new();
                self.inline(event, range, events, &mut content, &mut pending)?;
                while events.peek().is_some_and(|(e, _)| is_inline(e)) {
                    let (event, range) = events.next().expect("peeked");
                    self.inline(event, range, events, &mut content, &mut pending)?;
                }
                self.flush(&mut pending, &mut content);
                blocks.push(self.paragraph(content, line)?);
                continue;
            }
            match event {
                Event::End(tag) if Some(tag) == end => return Ok(blocks),
                Event::Start(Tag::Paragraph) => {
                    let line = self.line(range.start);
                    self.button_marker = None;
                    let content = self.inlines(events, TagEnd::Paragraph)?;
                    blocks.push(self.paragraph(content, line)?);
                }
                Event::Start(Tag::Heading { level, .. }) => {
                    self.button_marker = None;
                    let content = self.inlines(events, TagEnd::Heading(level))?;
                    if let Some(offset) = self.button_marker.take() {
                        return Err((offset, ContentErrorKind::InlineButton));
                    }
                    blocks.push(Block::Heading { level: heading_level(level), content });
                }
                Event::Start(Tag::BlockQuote(kind)) => {
                    let mut body =
                        self.nested(range.start, |r| r.blocks(events, Some(TagEnd::BlockQuote(kind))))?;
                    let attribution = take_attribution(&mut body);
                    blocks.push(Block::Quote { body, attribution });
                }
                Event::Start(Tag::List(start)) => {
                    let mut items = Vec::new();
                    loop {
                        match events.next() {
                            Some((Event::Start(Tag::Item), range)) => {
                                items.push(
                                    self.nested(range.start, |r| r.blocks(events, Some(TagEnd::Item)))?,
                                );
                            }
                            Some((Event::End(TagEnd::List(_)), _)) | None => break,
                            Some((_, range)) => {
                                return Err((
                                    range.start,
                                    ContentErrorKind::Unsupported("this list content"),
                                ));
                            }
                        }
                    }
                    blocks.push(Block::List { start, items });
                }
                Event::Start(Tag::CodeBlock(_)) => {
                    let mut code = String::new();
                    for (event, range) in events.by_ref() {
                        match event {
                            Event::Text(t) => code.push_str(&t),
                            Event::End(TagEnd::CodeBlock) => break,
                            _ => return Err((range.start, ContentErrorKind::Unsupported("this code block"))),
                        }
                    }
                    code.truncate(code.trim_end().len());
                    self.refuse_markers(&code, range.start)?;
                    blocks.push(Block::Code(code));
                }
                Event::Rule => blocks.push(Block::Rule),
                Event::Html(html) | Event::InlineHtml(html) => {
                    return Err((range.start, ContentErrorKind::RawHtml(first_line(&html))));
                }
                Event::Start(Tag::HtmlBlock) => {
                    let html = match events.peek() {
                        Some((Event::Html(h), _)) => first_line(h),
                        _ => String::new(),
                    };
                    return Err((range.start, ContentErrorKind::RawHtml(html)));
                }
                _ => return Err((range.start, ContentErrorKind::Unsupported(describe(&event)))),
            }
        }
        Ok(blocks)
    }

    fn inlines(&mut self, events: &mut Events<'_>, end: TagEnd) -> Result<Vec<Inline>> {
        let mut content = Vec::new();
        let mut pending = String::new();
        while let Some((event, range)) = events.next() {
            if event == Event::End(end) {
                break;
            }
            self.inline(event, range, events, &mut content, &mut pending)?;
        }
        self.flush(&mut pending, &mut content);
        Ok(content)
    }

    /// Adds one inline event to `content`. Plain text gathers in `pending`
    /// until something else comes, so a field marker is never cut in two.
    fn inline(
        &mut self,
        event: Event<'_>,
        range: Range<usize>,
        events: &mut Events<'_>,
        content: &mut Vec<Inline>,
        pending: &mut String,
    ) -> Result<()> {
        match event {
            Event::Text(text) => {
                let after_link = pending.is_empty() && matches!(content.last(), Some(Inline::Link { .. }));
                match text.strip_prefix(BUTTON_MARKER) {
                    Some(rest) if after_link => {
                        self.button_marker.get_or_insert(range.start);
                        pending.push_str(rest);
                    }
                    _ => pending.push_str(&text),
                }
                return Ok(());
            }
            Event::SoftBreak => {
                pending.push(' ');
                return Ok(());
            }
            _ => {}
        }
        self.flush(pending, content);
        let item = match event {
            Event::Code(code) => {
                self.refuse_markers(&code, range.start)?;
                Inline::Code(code.into_string())
            }
            Event::HardBreak => Inline::LineBreak,
            Event::Start(Tag::Emphasis) => {
                Inline::Emphasis(self.nested(range.start, |r| r.inlines(events, TagEnd::Emphasis))?)
            }
            Event::Start(Tag::Strong) => {
                Inline::Strong(self.nested(range.start, |r| r.inlines(events, TagEnd::Strong))?)
            }
            Event::Start(Tag::Strikethrough) => {
                Inline::Strikethrough(self.nested(range.start, |r| r.inlines(events, TagEnd::Strikethrough))?)
            }
            Event::Start(Tag::Link { link_type, dest_url, .. }) => {
                let url = check_url(&dest_url, link_type).map_err(|kind| (range.start, kind))?;
                let line = self.line(range.start);
                let content = self.nested(range.start, |r| r.inlines(events, TagEnd::Link))?;
                Inline::Link { url, content, line }
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                let url = check_image_url(&dest_url).map_err(|kind| (range.start, kind))?;
                let alt = plain_text(&self.inlines(events, TagEnd::Image)?);
                self.refuse_markers(&alt, range.start)?;
                Inline::Image { url, alt, line: self.line(range.start) }
            }
            Event::InlineHtml(html) | Event::Html(html) => {
                return Err((range.start, ContentErrorKind::RawHtml(first_line(&html))));
            }
            other => return Err((range.start, ContentErrorKind::Unsupported(describe(&other)))),
        };
        content.push(item);
        Ok(())
    }

    /// A paragraph's `content`, or the button it makes: a link alone
    /// followed by [`BUTTON_MARKER`]. A marker after a link that is not
    /// alone is an error, so `{.button}` never shows as text.
    fn paragraph(&mut self, mut content: Vec<Inline>, line: usize) -> Result<Block> {
        let Some(offset) = self.button_marker.take() else {
            return Ok(Block::Paragraph { content, line });
        };
        if matches!(content.last(), Some(Inline::Text(t)) if t.trim().is_empty()) {
            content.pop();
        }
        match <[Inline; 1]>::try_from(content) {
            Ok([Inline::Link { url, content: label, line }]) => Ok(Block::Button { label, url, line }),
            _ => Err((offset, ContentErrorKind::InlineButton)),
        }
    }

    /// Splits gathered text at field markers.
    fn flush(&self, pending: &mut String, content: &mut Vec<Inline>) {
        if pending.is_empty() {
            return;
        }
        let text = std::mem::take(pending);
        let mut rest = text.as_str();
        while let Some(open) = rest.find(FIELD_OPEN) {
            let after = &rest[open + FIELD_OPEN.len_utf8()..];
            let close = after.find(FIELD_CLOSE).expect("markers are written in pairs");
            let index: usize = after[..close].parse().expect("markers hold an index");
            if open > 0 {
                content.push(Inline::Text(rest[..open].to_owned()));
            }
            content.push(Inline::Field(self.fields[index].clone()));
            rest = &after[close + FIELD_CLOSE.len_utf8()..];
        }
        if !rest.is_empty() {
            content.push(Inline::Text(rest.to_owned()));
        }
    }

    fn refuse_markers(&self, text: &str, offset: usize) -> Result<()> {
        if text.contains(FIELD_OPEN) {
            return Err((offset, ContentErrorKind::FieldOutsideText));
        }
        Ok(())
    }
}

/// The words of some inline content, without formatting.
pub fn plain_text(content: &[Inline]) -> String {
    let mut out = String::new();
    for inline in content {
        match inline {
            Inline::Text(t) | Inline::Code(t) => out.push_str(t),
            Inline::Field(f) => out.push_str(f.name.as_str()),
            Inline::Strong(c) | Inline::Emphasis(c) | Inline::Strikethrough(c) => {
                out.push_str(&plain_text(c))
            }
            Inline::Link { content, .. } => out.push_str(&plain_text(content)),
            Inline::Image { alt, .. } => out.push_str(alt),
            Inline::LineBreak => out.push(' '),
        }
    }
    out
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Dashes that introduce the source of a quotation.
const ATTRIBUTION_DASHES: [&str; 4] = ["\u{2014}", "\u{2015}", "\u{2013}", "--"];

fn take_attribution(body: &mut Vec<Block>) -> Option<Vec<Inline>> {
    if body.len() < 2 {
        return None;
    }
    let Some(Block::Paragraph { content, .. }) = body.last() else {
        return None;
    };
    let Some(Inline::Text(first)) = content.first() else {
        return None;
    };
    let rest = ATTRIBUTION_DASHES.iter().find_map(|d| first.strip_prefix(d))?;
    let rest = rest.trim_start().to_owned();
    let Some(Block::Paragraph { mut content, .. }) = body.pop() else { unreachable!("checked above") };
    if rest.is_empty() {
        content.remove(0);
    } else {
        content[0] = Inline::Text(rest);
    }
    Some(content)
}

fn check_url(url: &str, link_type: LinkType) -> std::result::Result<String, ContentErrorKind> {
    if url.contains(FIELD_OPEN) {
        return Err(ContentErrorKind::FieldOutsideText);
    }
    if link_type == LinkType::Email {
        return Ok(format!("mailto:{url}"));
    }
    let parsed = url::Url::parse(url).map_err(|_| ContentErrorKind::BadLink {
        url: url.to_owned(),
        reason: "a link in an email needs a full address such as https://example.org/page",
    })?;
    match parsed.scheme() {
        "https" | "http" | "mailto" | "tel" => Ok(url.to_owned()),
        _ => Err(ContentErrorKind::BadLink {
            url: url.to_owned(),
            reason: "only https:, http:, mailto: and tel: links are allowed",
        }),
    }
}

fn check_image_url(url: &str) -> std::result::Result<String, ContentErrorKind> {
    if url.contains(FIELD_OPEN) {
        return Err(ContentErrorKind::FieldOutsideText);
    }
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") => Ok(url.to_owned()),
        // A file beside the bulletin, such as `images/photo.jpg`: checked
        // and prepared when the bulletin is loaded (`content::images`).
        Err(url::ParseError::RelativeUrlWithoutBase) if is_relative_path(url) => Ok(url.to_owned()),
        _ => Err(ContentErrorKind::BadLink {
            url: url.to_owned(),
            reason: "an image in an email must be a file beside the bulletin (images/photo.jpg) \
                     or on the web at a full https:// address",
        }),
    }
}

/// Whether `url` names a file relative to the bulletin: not absolute, no
/// query or fragment.
pub fn is_relative_path(url: &str) -> bool {
    !url.is_empty() && !url.starts_with(['/', '\\']) && !url.contains(['?', '#', ':'])
}

fn first_line(html: &str) -> String {
    html.lines().next().unwrap_or_default().trim().chars().take(60).collect()
}

fn describe(event: &Event<'_>) -> &'static str {
    match event {
        Event::Start(Tag::Table(_)) => "tables",
        Event::Start(Tag::FootnoteDefinition(_)) | Event::FootnoteReference(_) => "footnotes",
        Event::TaskListMarker(_) => "task lists",
        Event::InlineMath(_) | Event::DisplayMath(_) => "maths",
        _ => "this Markdown construct",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn parse_ok(src: &str) -> Vec<Block> {
        parse(src, &[], 1).unwrap()
    }

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    fn paragraph(content: Vec<Inline>, line: usize) -> Block {
        Block::Paragraph { content, line }
    }

    #[test]
    fn headings_paragraphs_and_rules_become_blocks() {
        let blocks = parse_ok("# Title\n\nSome *words* here.\n\n---\n\n## Asia\n");
        assert_eq!(
            blocks,
            vec![
                Block::Heading { level: 1, content: vec![text("Title")] },
                paragraph(vec![text("Some "), Inline::Emphasis(vec![text("words")]), text(" here.")], 3),
                Block::Rule,
                Block::Heading { level: 2, content: vec![text("Asia")] },
            ]
        );
    }

    #[test]
    fn tight_list_items_hold_a_paragraph_each() {
        let blocks = parse_ok("- one\n- **two**\n");
        assert_eq!(
            blocks,
            vec![Block::List {
                start: None,
                items: vec![
                    vec![paragraph(vec![text("one")], 1)],
                    vec![paragraph(vec![Inline::Strong(vec![text("two")])], 2)],
                ],
            }]
        );
    }

    #[test]
    fn nested_and_numbered_lists_keep_their_shape() {
        let blocks = parse_ok("3. first\n   - inner\n4. second\n");
        let Block::List { start, items } = &blocks[0] else { panic!("{blocks:?}") };
        assert_eq!(*start, Some(3));
        assert_eq!(items.len(), 2);
        assert!(matches!(items[0][1], Block::List { start: None, .. }));
    }

    #[test]
    fn a_dash_line_at_the_end_of_a_quote_is_its_attribution() {
        let blocks = parse_ok("> “Keep the needy safe.”\n>\n> — Psalm 12:7-8\n");
        assert_eq!(
            blocks,
            vec![Block::Quote {
                body: vec![paragraph(vec![text("“Keep the needy safe.”")], 1)],
                attribution: Some(vec![text("Psalm 12:7-8")]),
            }]
        );
    }

    #[test]
    fn a_quote_of_one_paragraph_has_no_attribution() {
        let blocks = parse_ok("> — just a dash\n");
        assert!(matches!(&blocks[0], Block::Quote { attribution: None, .. }));
    }

    #[test]
    fn links_and_images_keep_address_and_alt_text() {
        let blocks = parse_ok("[Give](https://example.org/give)\n![A well](https://example.org/w.jpg)\n");
        assert_eq!(
            blocks,
            vec![paragraph(
                vec![
                    Inline::Link {
                        url: "https://example.org/give".into(),
                        content: vec![text("Give")],
                        line: 1
                    },
                    text(" "),
                    Inline::Image { url: "https://example.org/w.jpg".into(), alt: "A well".into(), line: 2 },
                ],
                1
            )]
        );
    }

    #[test]
    fn a_link_alone_on_its_line_marked_button_is_a_button() {
        let blocks = parse_ok(
            "Intro.\n\n[Join us in **prayer**](https://example.org/pray){.button}\n\n- [Give](https://example.org/give){.button}\n",
        );
        assert_eq!(
            blocks[1],
            Block::Button {
                label: vec![text("Join us in "), Inline::Strong(vec![text("prayer")])],
                url: "https://example.org/pray".into(),
                line: 3,
            }
        );
        let Block::List { items, .. } = &blocks[2] else { panic!("{blocks:?}") };
        assert!(
            matches!(&items[0][0], Block::Button { url, line: 5, .. } if url == "https://example.org/give")
        );
    }

    #[test]
    fn a_button_marker_after_a_link_in_running_text_is_refused_with_its_line() {
        for src in [
            "Intro.\n\nPlease [give](https://example.org/give){.button} today.\n",
            "Intro.\n\n[Give](https://example.org/give){.button} and [pray](https://example.org/p)\n",
            "Intro.\n\n## [Give](https://example.org/give){.button}\n",
            "Intro.\n\nFirst line\n[Give](https://example.org/give){.button}\n",
        ] {
            let (offset, kind) = parse(src, &[], 1).unwrap_err();
            assert_eq!(kind, ContentErrorKind::InlineButton, "{src}");
            assert!(kind.to_string().contains("alone on its line"), "{kind}");
            let line = LineIndex::new(src).line_of(offset);
            assert!(line == 3 || line == 4, "{src}: line {line}");
        }
    }

    #[test]
    fn the_marker_without_a_link_before_it_is_just_text() {
        let blocks = parse_ok("Write {.button} after a link.\n");
        assert_eq!(blocks, vec![paragraph(vec![text("Write {.button} after a link.")], 1)]);
    }

    #[test]
    fn raw_html_is_refused_with_its_offset() {
        let err = parse("Fine.\n\n<div>hi</div>\n", &[], 1).unwrap_err();
        assert_eq!(err.0, 7);
        assert!(matches!(err.1, ContentErrorKind::RawHtml(ref h) if h == "<div>hi</div>"));
        let err = parse("Click <a href=\"x\">here</a>\n", &[], 1).unwrap_err();
        assert!(matches!(err.1, ContentErrorKind::RawHtml(ref h) if h == "<a href=\"x\">"));
    }

    #[test]
    fn escaped_angle_brackets_are_just_text() {
        let blocks = parse_ok("1 \\< 2 and &lt;b&gt;\n");
        assert_eq!(blocks, vec![paragraph(vec![text("1 < 2 and <b>")], 1)]);
    }

    #[test]
    fn script_and_relative_links_are_refused() {
        for src in [
            "[x](javascript:alert(1))",
            "[x](/local/page)",
            "![x](/images/a.png)",
            "![x](data:image/png;base64,AA)",
        ] {
            let err = parse(src, &[], 1).unwrap_err();
            assert!(matches!(err.1, ContentErrorKind::BadLink { .. }), "{src}: {err:?}");
        }
    }

    #[test]
    fn field_markers_become_fields() {
        let field = Field { name: crate::merge::FieldName::normalise("first_name").unwrap(), default: None };
        let src = format!("Dear **{FIELD_OPEN}0{FIELD_CLOSE}**,\n");
        let blocks = parse(&src, std::slice::from_ref(&field), 7).unwrap();
        assert_eq!(
            blocks,
            vec![paragraph(vec![text("Dear "), Inline::Strong(vec![Inline::Field(field)]), text(",")], 7)]
        );
    }

    #[test]
    fn paragraphs_links_and_images_know_their_bulletin_line() {
        let src = "Intro.\n\n- a list item with\n  a [link](https://example.org) on its second line\n\n> ![A well](https://example.org/w.jpg)\n";
        let blocks = parse(src, &[], 10).unwrap();
        let Block::List { items, .. } = &blocks[1] else { panic!("{blocks:?}") };
        let Block::Paragraph { content, line: 12 } = &items[0][0] else { panic!("{items:?}") };
        assert!(matches!(content[1], Inline::Link { line: 13, .. }), "{content:?}");
        let Block::Quote { body, .. } = &blocks[2] else { panic!("{blocks:?}") };
        let Block::Paragraph { content, line: 15 } = &body[0] else { panic!("{body:?}") };
        assert!(matches!(content[0], Inline::Image { line: 15, .. }), "{content:?}");
        assert!(matches!(blocks[0], Block::Paragraph { line: 10, .. }));
    }

    #[test]
    fn nesting_past_the_limit_is_refused_where_it_goes_too_deep() {
        for marker in ["> ", "- ", "1. "] {
            let fits = format!("Intro.\n\n{}deep\n", marker.repeat(MAX_NESTING));
            assert!(parse(&fits, &[], 1).is_ok(), "{marker:?} × {MAX_NESTING}");
            let deeper = format!("Intro.\n\n{}deep\n", marker.repeat(MAX_NESTING + 1));
            let (offset, kind) = parse(&deeper, &[], 1).unwrap_err();
            assert!(matches!(kind, ContentErrorKind::TooDeep { limit: MAX_NESTING }), "{kind:?}");
            assert_eq!(LineIndex::new(&deeper).line_of(offset), 3, "{marker:?}");
        }
        let emphasis = format!("{}deep{}", "*".repeat(200), "*".repeat(200));
        assert!(matches!(parse(&emphasis, &[], 1), Err((_, ContentErrorKind::TooDeep { .. }))));
    }

    proptest::proptest! {
        // Markdown made of the characters that nest, at any depth: always an
        // answer (a tree or an error), never a panic or a stack overflow.
        #[test]
        fn any_nesting_of_quotes_lists_and_emphasis_is_parsed_or_refused(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec!["> ", "- ", "1. ", "* ", "*", "**", "_", "~~", "[", "](https://a.example)", "`", "a", " ", "\n", "\n\n", "    "]),
                0..400,
            ),
            depth in 0usize..5_000,
            marker in proptest::sample::select(vec![">", "> ", "- ", "* ", "1. ", "*", "[", "  - "]),
        ) {
            let text = format!("{}{}", marker.repeat(depth), pieces.concat());
            let _ = parse(&text, &[], 1);
        }
    }
}
