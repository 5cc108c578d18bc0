//! A bulletin written as plain text, the way one is pasted from a word
//! processor or an old email, turned into a Markdown bulletin:
//!
//! - the first line, when short, is the title;
//! - a paragraph in quotes (“…”) followed by a "— Psalm 12:7-8" line is a
//!   block quote with its attribution;
//! - a short line on its own (a region's name) starts a `##` section;
//! - a line starting with "•" is a list item;
//! - every other paragraph is kept as it is.
//!
//! Whatever the conversion had to guess is a [`Doubt`] naming its line.
//! The words are kept exactly; only Markdown's own characters are escaped,
//! and terminal control sequences taken out ([`super::control_sequences`]).

use std::fmt::Write as _;

/// A plain-text bulletin read into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// The first line, when it reads as a title.
    pub title: Option<String>,
    /// The body, in order.
    pub parts: Vec<Part>,
    /// What the conversion was unsure about.
    pub doubts: Vec<Doubt>,
}

/// One part of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// A quotation (its lines) and its reference, without the dash.
    Quote { lines: Vec<String>, attribution: Option<String> },
    /// A section's name.
    Section(String),
    /// A list item's text.
    Item(String),
    /// A paragraph's lines.
    Paragraph(Vec<String>),
}

/// A line the conversion was unsure about, and what it made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doubt {
    /// The line of the plain text, from 1.
    pub line: usize,
    pub why: String,
}

/// Characters that start a list item in plain text: "•" for certain, the
/// others perhaps.
const BULLET: char = '•';
const OTHER_BULLETS: [char; 6] = ['*', '-', '◦', '▪', '‣', '+'];
/// The dashes before a quotation's reference.
const DASHES: [char; 3] = ['—', '–', '-'];
/// A section's name is at most this many characters.
const LONGEST_SECTION: usize = 60;
/// A title is at most this many characters.
const LONGEST_TITLE: usize = 100;

/// A paragraph of the plain text: its lines and the number of the first.
struct Paragraph<'a> {
    line: usize,
    lines: Vec<&'a str>,
}

impl Paragraph<'_> {
    fn text(&self) -> String {
        self.lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")
    }

    fn single_line(&self) -> Option<&str> {
        (self.lines.len() == 1).then(|| self.lines[0].trim())
    }
}

fn paragraphs(text: &str) -> Vec<Paragraph<'_>> {
    let mut out: Vec<Paragraph<'_>> = Vec::new();
    let mut open = false;
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            open = false;
        } else if open {
            out.last_mut().expect("an open paragraph").lines.push(line);
        } else {
            out.push(Paragraph { line: index + 1, lines: vec![line] });
            open = true;
        }
    }
    out
}

fn is_quoted(text: &str) -> bool {
    let opens = text.starts_with(['“', '"', '„', '«']);
    let closes = text.trim_end_matches(['.', ',']).ends_with(['”', '"', '»', '“']);
    opens && closes
}

/// The reference of a "— Psalm 12:7-8" line.
fn reference(line: &str) -> Option<&str> {
    let rest = line.strip_prefix(DASHES)?;
    let rest = rest.trim_start_matches(DASHES);
    (rest.starts_with(char::is_whitespace) && !rest.trim().is_empty()).then(|| rest.trim())
}

fn looks_like_a_section(line: &str) -> bool {
    line.chars().count() <= LONGEST_SECTION && !line.ends_with(['.', '!', '?', ':', ';', ',', '”', '"'])
}

/// Reads `text`, a bulletin in plain text.
pub fn convert(text: &str) -> Conversion {
    let text = super::control_sequences::strip(text);
    let paragraphs = paragraphs(&text);
    let mut conversion = Conversion { title: None, parts: Vec::new(), doubts: Vec::new() };
    let mut doubts = Vec::new();
    let mut rest = paragraphs.iter().peekable();

    if let Some(first) = rest.peek() {
        match first.single_line() {
            Some(line) if line.chars().count() <= LONGEST_TITLE && !line.starts_with(BULLET) => {
                conversion.title = Some(line.to_owned());
                rest.next();
            }
            _ => doubts.push(Doubt::new(
                first.line,
                "the first paragraph is not a short line, so the bulletin has no title",
            )),
        }
    }

    while let Some(paragraph) = rest.next() {
        let text = paragraph.text();
        let first = paragraph.lines[0].trim();
        if first.starts_with(BULLET) || first.starts_with(OTHER_BULLETS) && first.chars().nth(1) == Some(' ')
        {
            items(paragraph, &mut conversion.parts, &mut doubts);
        } else if is_quoted(&text) {
            let attribution =
                rest.peek().and_then(|p| p.single_line()).and_then(reference).map(str::to_owned);
            if attribution.is_some() {
                rest.next();
            } else {
                doubts.push(Doubt::new(
                    paragraph.line,
                    "a quotation without a \"— reference\" line after it; kept as a quote with no attribution",
                ));
            }
            let lines = paragraph.lines.iter().map(|l| l.trim().to_owned()).collect();
            conversion.parts.push(Part::Quote { lines, attribution });
        } else if let Some(line) = paragraph.single_line().filter(|l| looks_like_a_section(l)) {
            if reference(line).is_some() {
                doubts.push(Doubt::new(
                    paragraph.line,
                    "a \"— reference\" line with no quotation before it; kept as text",
                ));
                conversion.parts.push(Part::Paragraph(vec![line.to_owned()]));
                continue;
            }
            let empty = rest.peek().is_none_or(|next| next.single_line().is_some_and(looks_like_a_section));
            if empty {
                doubts.push(Doubt::new(paragraph.line, "taken as a section name, but nothing follows it"));
            }
            conversion.parts.push(Part::Section(line.to_owned()));
        } else {
            if paragraph
                .single_line()
                .is_some_and(|l| l.ends_with(':') && l.chars().count() <= LONGEST_SECTION)
            {
                doubts.push(Doubt::new(
                    paragraph.line,
                    "kept as text; if it names a section, take the colon away and convert again",
                ));
            }
            let lines = paragraph.lines.iter().map(|l| l.trim().to_owned()).collect();
            conversion.parts.push(Part::Paragraph(lines));
        }
    }
    for (index, line) in text.lines().enumerate() {
        if line.contains("{{") {
            doubts.push(Doubt::new(index + 1, "`{{` starts a merge field in a bulletin; check this line"));
        }
    }
    doubts.sort_by_key(|d| d.line);
    conversion.doubts = doubts;
    conversion
}

impl Doubt {
    fn new(line: usize, why: &str) -> Self {
        Self { line, why: why.to_owned() }
    }
}

/// The items of a paragraph whose lines start with bullets; a line without
/// one continues the item before it.
fn items(paragraph: &Paragraph<'_>, parts: &mut Vec<Part>, doubts: &mut Vec<Doubt>) {
    let mut current: Option<String> = None;
    for (offset, line) in paragraph.lines.iter().enumerate() {
        let line = line.trim();
        let number = paragraph.line + offset;
        let item = if let Some(rest) = line.strip_prefix(BULLET) {
            Some(rest)
        } else if let Some(rest) = line.strip_prefix(OTHER_BULLETS).filter(|r| r.starts_with(' ')) {
            doubts
                .push(Doubt::new(number, "taken as a list item; plain-text bulletins mark items with \"•\""));
            Some(rest)
        } else {
            None
        };
        match (item, current.as_mut()) {
            (Some(text), _) => {
                if let Some(done) = current.take() {
                    parts.push(Part::Item(done));
                }
                current = Some(text.trim().to_owned());
            }
            (None, Some(text)) => {
                text.push(' ');
                text.push_str(line);
            }
            (None, None) => unreachable!("a bullet paragraph starts with a bullet"),
        }
    }
    parts.extend(current.map(Part::Item));
}

impl Conversion {
    /// The section names, in order.
    pub fn sections(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Section(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The body as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let mut in_list = false;
        for part in &self.parts {
            if in_list && !matches!(part, Part::Item(_)) {
                out.push('\n');
            }
            in_list = matches!(part, Part::Item(_));
            match part {
                Part::Quote { lines, attribution } => {
                    for line in lines {
                        let _ = writeln!(out, "> {}", escape(line));
                    }
                    if let Some(reference) = attribution {
                        let _ = writeln!(out, ">\n> — {}", escape(reference));
                    }
                    out.push('\n');
                }
                Part::Section(name) => {
                    let _ = writeln!(out, "## {}\n", escape(name));
                }
                Part::Item(text) => {
                    let _ = writeln!(out, "- {}", escape(text));
                }
                Part::Paragraph(lines) => {
                    for line in lines {
                        let _ = writeln!(out, "{}", escape(line));
                    }
                    out.push('\n');
                }
            }
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
        out
    }

    /// The whole bulletin: front matter (subject and title from the title,
    /// a preheader naming the sections, `date`) and the body.
    pub fn bulletin(&self, date: &str) -> String {
        let title = self.title.as_deref().unwrap_or("Our news");
        let sections: Vec<&str> = self.sections().collect();
        let preheader = match sections.as_slice() {
            [] => title.to_owned(),
            [one] => format!("This week: {one}"),
            [first @ .., last] => format!("This week: {} and {last}", first.join(", ")),
        };
        let mut out = format!(
            "+++\nsubject = {}\npreheader = {}\ndate = {date}\n",
            toml_string(title),
            toml_string(&preheader)
        );
        if let Some(title) = &self.title {
            let _ = writeln!(out, "title = {}", toml_string(title));
        }
        out.push_str("+++\n\n");
        out.push_str(&self.markdown());
        out
    }
}

/// `text` with the characters Markdown would read as formatting escaped,
/// so that it shows as written.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (index, c) in text.char_indices() {
        let at_start = index == 0;
        let escape = match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '~' => true,
            '#' | '+' | '-' | '=' | '|' => at_start,
            '&' => text[index + 1..].split_once(';').is_some_and(|(name, _)| {
                let name = name.strip_prefix('#').unwrap_or(name);
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric())
            }),
            '.' | ')' => text[..index].chars().all(|c| c.is_ascii_digit()) && index > 0,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` as a TOML basic string, quotes included.
pub fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{Block, Bulletin};
    use std::path::Path;

    const SAMPLE: &str = "Weekly news\n\n“Be still, and know that I am God.”\n\n— Psalm 46:10\n\n\n  • First item.\u{a0} Second sentence.\n\nAfrica\n\n  • An item\n  • Another\n\nOffices in three countries.\n";

    #[test]
    fn the_title_verse_sections_items_and_paragraphs_are_recognised() {
        let c = convert(SAMPLE);
        assert_eq!(c.title.as_deref(), Some("Weekly news"));
        assert_eq!(
            c.parts,
            [
                Part::Quote {
                    lines: vec!["“Be still, and know that I am God.”".into()],
                    attribution: Some("Psalm 46:10".into())
                },
                Part::Item("First item.\u{a0} Second sentence.".into()),
                Part::Section("Africa".into()),
                Part::Item("An item".into()),
                Part::Item("Another".into()),
                Part::Paragraph(vec!["Offices in three countries.".into()]),
            ]
        );
        assert_eq!(c.doubts, []);
    }

    #[test]
    fn the_markdown_parses_as_a_bulletin_with_a_quote_sections_and_a_list() {
        let text = convert(SAMPLE).bulletin("2025-10-16");
        let bulletin =
            Bulletin::parse(Path::new("content/x.md"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let kinds: Vec<&str> = bulletin
            .blocks
            .iter()
            .map(|b| match b {
                Block::Quote { attribution: Some(_), .. } => "quote",
                Block::List { .. } => "list",
                Block::Heading { level: 2, .. } => "section",
                Block::Paragraph { .. } => "paragraph",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["quote", "list", "section", "list", "paragraph"], "{text}");
        assert!(text.contains("preheader = \"This week: Africa\""), "{text}");
    }

    #[test]
    fn markdowns_own_characters_are_escaped_so_they_show_as_written() {
        assert_eq!(escape("# not a heading"), "\\# not a heading");
        assert_eq!(escape("1. not a list"), "1\\. not a list");
        assert_eq!(escape("a *b* <c> [d]"), "a \\*b\\* \\<c\\> \\[d\\]");
        assert_eq!(escape("HQ & partners &amp;"), "HQ & partners \\&amp;");
        assert_eq!(escape("12:7-8"), "12:7-8");
    }

    #[test]
    fn unsure_lines_are_reported_with_their_numbers() {
        let c = convert(
            "Title\n\n“A verse.”\n\n* star item\n\nEmpty section\n\nPrayer points:\n\n— Lonely reference\n",
        );
        let lines: Vec<usize> = c.doubts.iter().map(|d| d.line).collect();
        assert_eq!(lines, [3, 5, 9, 11], "{:#?}", c.doubts);
    }

    #[test]
    fn a_section_followed_by_nothing_is_doubted() {
        let c = convert("Title\n\nText here.\n\nAfrica\n");
        assert_eq!(c.doubts.iter().map(|d| d.line).collect::<Vec<_>>(), [5]);
    }

    #[test]
    fn toml_strings_escape_quotes_and_backslashes() {
        assert_eq!(toml_string(r#"A "b" \ c"#), r#""A \"b\" \\ c""#);
        let parsed: toml::Table = toml::from_str(&format!("x = {}", toml_string("“x” \"y\"\t"))).unwrap();
        assert_eq!(parsed["x"].as_str(), Some("“x” \"y\"\t"));
    }
}
