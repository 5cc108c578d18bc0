//! A bulletin: a Markdown file with TOML front matter between `+++` lines.
//!
//! Parsing ends here with a [`Bulletin`]: its front matter checked, its body
//! a small document tree, and every merge field listed with its line. Turning
//! that into HTML and text is `render`'s job.

pub mod control_sequences;
mod front_matter;
pub mod images;
pub mod jpeg;
pub mod markdown;
pub mod picture;
pub mod plain_text;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::domain::{Fingerprint, Shingles};
use crate::merge::{self, Field, FieldName, Template};
pub use markdown::{Block, Inline};

/// A parsed bulletin, ready to render any number of times.
#[derive(Debug, Clone)]
pub struct Bulletin {
    /// Where it was read from.
    pub path: PathBuf,
    /// The email subject.
    pub subject: Template,
    /// The line the subject is on.
    pub subject_line: usize,
    /// The line inbox lists show after the subject.
    pub preheader: Template,
    /// An optional heading shown at the top of the email.
    pub title: Option<Template>,
    /// The issue date.
    pub date: BulletinDate,
    /// When set, only subscribers with this tag (lower case) receive it.
    pub segment: Option<String>,
    /// The language of the text, as a BCP 47 tag; defaults to `en`.
    pub lang: String,
    /// Which campaign this is: stable across edits of the text.
    pub campaign: CampaignId,
    /// What it says: stable across a new date, file name or campaign (see
    /// [`Fingerprint`]).
    pub fingerprint: Fingerprint,
    /// Its body's runs of words, to recognise a corrected copy of it.
    pub shingles: Shingles,
    /// The body.
    pub blocks: Vec<Block>,
    /// Every merge field the bulletin uses, with the line it is on.
    pub field_uses: Vec<FieldUse>,
    /// Whether `bulletin publish` puts it in the web archive
    /// (`archive = false` in the front matter keeps it out).
    pub archive: bool,
    /// `draft = true`: never published, and not sent to the list without
    /// `send --allow-draft`.
    pub draft: bool,
    /// `welcome = true`: the welcome bulletin `bulletin serve` sends each
    /// new sign-up once; never sent to the whole list.
    pub welcome: bool,
}

/// A merge field and the line of the bulletin it stands on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldUse {
    pub name: FieldName,
    pub line: usize,
}

/// A calendar date, as in `date = 2025-10-16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BulletinDate(jiff::civil::Date);

impl BulletinDate {
    fn from_toml(value: &toml::Value) -> Option<Self> {
        let datetime = match value {
            toml::Value::Datetime(d) => *d,
            toml::Value::String(s) => s.trim().parse().ok()?,
            _ => return None,
        };
        if datetime.time.is_some() || datetime.offset.is_some() {
            return None;
        }
        let date = datetime.date?;
        // jiff refuses a day the month does not have (2025-02-29, 2025-04-31).
        let (year, month, day) =
            (i16::try_from(date.year).ok()?, i8::try_from(date.month).ok()?, i8::try_from(date.day).ok()?);
        jiff::civil::Date::new(year, month, day).ok().map(Self)
    }
}

impl fmt::Display for BulletinDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Always four digits of year, as the front matter writes it.
        write!(f, "{:04}-{:02}-{:02}", self.0.year(), self.0.month(), self.0.day())
    }
}

/// Names one sending of one bulletin: its date and a slug of its file name
/// (or of the front matter's `campaign`), such as
/// `2025-10-16-ijm-prayer-requests`. Editing the text keeps the same id, so a
/// corrected re-run is the same campaign.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CampaignId(String);

impl CampaignId {
    /// The campaign of the list's own notices (sign-up confirmations),
    /// which come from no bulletin.
    pub fn notices() -> Self {
        Self("notice".to_owned())
    }

    /// The campaign of the welcome bulletin (`WELCOME_BULLETIN`), whichever
    /// file and date it has: its journal rows say who was welcomed, so an
    /// edit, a new date or another file never welcomes anyone twice.
    pub fn welcome() -> Self {
        Self("welcome".to_owned())
    }

    fn new(date: BulletinDate, name: &str) -> Self {
        let date = date.to_string();
        let slug = slug(name);
        // A file already named after its date does not repeat it.
        let slug = slug.strip_prefix(&date).map_or(slug.as_str(), |s| s.trim_start_matches('-'));
        if slug.is_empty() { Self(date) } else { Self(format!("{date}-{slug}")) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    #[cfg(test)]
    pub(crate) fn for_tests(id: &str) -> Self {
        Self(id.to_owned())
    }
}

impl fmt::Display for CampaignId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lower-case ASCII letters and digits joined by single hyphens.
pub(crate) fn slug(text: &str) -> String {
    let mut out = String::new();
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    out
}

/// Why a bulletin could not be used. Nothing is rendered or sent after one.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("cannot read bulletin {}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}:{line}: {kind}", path.display())]
    Invalid { path: PathBuf, line: usize, kind: ContentErrorKind },
}

/// What is wrong with a bulletin, at a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentErrorKind {
    #[error(
        "a bulletin starts with a `+++` line, then its front matter (subject, preheader, date), then `+++`"
    )]
    NoFrontMatter,
    #[error("the front matter opened on line 1 is never closed by a `+++` line")]
    UnclosedFrontMatter,
    #[error("front matter: {0}")]
    FrontMatter(String),
    #[error("front matter is missing `{0}`")]
    MissingKey(&'static str),
    #[error("`date` must be a calendar date such as 2025-10-16")]
    BadDate,
    #[error("`subject` must be a single line")]
    MultiLineSubject,
    #[error(
        "`{key}` holds the control character U+{code:04X}, which could change a mail header or what a \
         terminal shows; take it out"
    )]
    ControlCharacter { key: &'static str, code: u32 },
    #[error("`segment` must be one tag, such as \"volunteers\"")]
    BadSegment,
    #[error("`lang` must be a language tag such as \"en\" or \"pt-BR\", not {0:?}")]
    BadLang(String),
    #[error("`campaign` must contain letters or digits")]
    BadCampaign,
    #[error("the bulletin has no text after its front matter")]
    EmptyBody,
    #[error("{0}")]
    MergeField(merge::SyntaxErrorKind),
    #[error("merge fields can only stand in text, not in link or image addresses, alt text or code")]
    FieldOutsideText,
    #[error(
        "raw HTML is not allowed in a bulletin ({0:?}); write Markdown instead, or put a backslash before `<` to show it as text"
    )]
    RawHtml(String),
    #[error("link {url:?}: {reason}")]
    BadLink { url: String, reason: &'static str },
    #[error("image {url:?}: {reason}")]
    BadImage { url: String, reason: String },
    #[error(
        "the image {0} has no alt text; readers whose mail program blocks images (and screen readers) \
         get nothing in its place; say what it shows: ![Children at the new school]({0})"
    )]
    ImageWithoutAlt(String),
    #[error("{0} cannot be shown in an email")]
    Unsupported(&'static str),
    #[error("merge field `{name}` is not a column of the subscriber list (its columns: {available})")]
    UnknownField { name: String, available: String },
    #[error("the characters U+E000 to U+E003 are reserved")]
    ReservedCharacter,
    #[error(
        "quotes, lists, emphasis and links nest more than {limit} deep here; an email cannot show that \
         much nesting, so take some `>`, `-` or `*` away"
    )]
    TooDeep { limit: usize },
    #[error(
        "`{{.button}}` makes a button only of a link alone on its line, such as \
         `[Donate today](https://example.org/give){{.button}}`; put the link on a line of its own, or \
         take `{{.button}}` away for an ordinary link"
    )]
    InlineButton,
}

impl Bulletin {
    /// The campaign and the subject as the list would see it, for headings:
    /// `2025-10-16-prayer (subject: Pray with us, {{ first_name }})`.
    pub fn describe(&self) -> String {
        format!("{} (subject: {})", self.campaign, subject_text(&self.subject))
    }

    /// The subject as the list would see it, merge fields as `{{ name }}`:
    /// `Pray with us, {{ first_name }}`.
    pub fn subject_text(&self) -> String {
        subject_text(&self.subject)
    }

    /// Reads and parses the bulletin at `path`.
    pub fn load(path: &Path) -> Result<Self, ContentError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ContentError::Read { path: path.to_owned(), source })?;
        let bulletin = Self::parse(path, &text)?;
        images::check(&bulletin)?;
        Ok(bulletin)
    }

    /// Parses bulletin `text`; `path` names it in errors and gives the
    /// campaign its name.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ContentError> {
        let lines = LineIndex::new(text);
        let invalid = |offset: usize, kind| ContentError::Invalid {
            path: path.to_owned(),
            line: lines.line_of(offset),
            kind,
        };
        if let Some(offset) = text.find(['\u{E000}', '\u{E001}', '\u{E002}', '\u{E003}']) {
            return Err(invalid(offset, ContentErrorKind::ReservedCharacter));
        }
        let (front_start, front_end, body_start) =
            split_front_matter(text).map_err(|(offset, kind)| invalid(offset, kind))?;
        let front = front_matter::parse(&text[front_start..front_end])
            .map_err(|(offset, kind)| invalid(front_start + offset, kind))?;

        let mut field_uses: Vec<FieldUse> = front
            .field_offsets
            .iter()
            .map(|(field, offset)| FieldUse {
                name: field.name.clone(),
                line: lines.line_of(front_start + offset),
            })
            .collect();

        let body = &text[body_start..];
        let (marked, fields) = mark_fields(body, |offset, field| {
            field_uses.push(FieldUse { name: field.name.clone(), line: lines.line_of(body_start + offset) });
        })
        .map_err(|e| invalid(body_start + e.offset, ContentErrorKind::MergeField(e.kind)))?;
        // Markers are longer than nothing but never hold a newline, so a
        // marked offset's line is found by counting newlines in `marked`.
        let marked_lines = LineIndex::new(&marked);
        let first_line = lines.line_of(body_start);
        let blocks = markdown::parse(&marked, &fields, first_line).map_err(|(offset, kind)| {
            ContentError::Invalid {
                path: path.to_owned(),
                line: first_line + marked_lines.line_of(offset) - 1,
                kind,
            }
        })?;
        if blocks.is_empty() {
            return Err(invalid(body_start, ContentErrorKind::EmptyBody));
        }

        let name = front.campaign.clone().unwrap_or_else(|| {
            path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
        });
        let fingerprint = Fingerprint::of(&subject_text(&front.subject), body);
        let shingles = Shingles::of(body);
        Ok(Self {
            path: path.to_owned(),
            campaign: CampaignId::new(front.date, &name),
            fingerprint,
            shingles,
            subject: front.subject,
            subject_line: lines.line_of(front_start + front.subject_offset),
            preheader: front.preheader,
            title: front.title,
            date: front.date,
            segment: front.segment,
            lang: front.lang,
            blocks,
            field_uses,
            archive: front.archive,
            draft: front.draft,
            welcome: front.welcome,
        })
    }
}

/// `subject` with each merge field as `{{ name }}`.
fn subject_text(subject: &Template) -> String {
    subject
        .0
        .iter()
        .map(|s| match s {
            merge::Segment::Literal(l) => l.clone(),
            merge::Segment::Field(f) => format!("{{{{ {} }}}}", f.name),
        })
        .collect()
}

/// Finds the front matter: returns the byte ranges of its text and the
/// offset where the body starts.
fn split_front_matter(text: &str) -> Result<(usize, usize, usize), (usize, ContentErrorKind)> {
    let text_start = text.strip_prefix('\u{feff}').map_or(0, |_| '\u{feff}'.len_utf8());
    let mut offset = text_start;
    let mut front_start = None;
    for line in text[text_start..].split_inclusive('\n') {
        let is_fence = line.trim_end() == "+++";
        match front_start {
            None if line.trim().is_empty() => {}
            None if is_fence => front_start = Some(offset + line.len()),
            None => return Err((offset, ContentErrorKind::NoFrontMatter)),
            Some(start) if is_fence => return Ok((start, offset, offset + line.len())),
            Some(_) => {}
        }
        offset += line.len();
    }
    match front_start {
        None => Err((text_start, ContentErrorKind::NoFrontMatter)),
        Some(_) => Err((text_start, ContentErrorKind::UnclosedFrontMatter)),
    }
}

/// Replaces each `{{ … }}` in `body` with a marker holding its index in the
/// returned list, calling `found` with each field's offset.
fn mark_fields(
    body: &str,
    mut found: impl FnMut(usize, &Field),
) -> Result<(String, Vec<Field>), merge::SyntaxError> {
    let mut marked = String::with_capacity(body.len());
    let mut fields = Vec::new();
    for piece in merge::scan(body) {
        match piece? {
            merge::Piece::Literal(text) => marked.push_str(text),
            merge::Piece::Field { field, offset } => {
                found(offset, &field);
                marked.push(markdown::FIELD_OPEN);
                marked.push_str(&fields.len().to_string());
                marked.push(markdown::FIELD_CLOSE);
                fields.push(field);
            }
        }
    }
    Ok((marked, fields))
}

/// Turns byte offsets into 1-based line numbers.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> Self {
        Self(text.match_indices('\n').map(|(i, _)| i).collect())
    }

    fn line_of(&self, offset: usize) -> usize {
        self.0.partition_point(|&newline| newline < offset) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "+++\nsubject = \"Prayer requests\"\npreheader = \"This week\"\ndate = 2025-10-16\n+++\n";

    fn parse(body: &str) -> Result<Bulletin, ContentError> {
        Bulletin::parse(Path::new("content/2025-10-16-prayer.md"), &format!("{HEAD}{body}"))
    }

    fn error_line_and_kind(result: Result<Bulletin, ContentError>) -> (usize, ContentErrorKind) {
        match result.unwrap_err() {
            ContentError::Invalid { line, kind, .. } => (line, kind),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_day_the_month_does_not_have_is_refused_and_leap_days_follow_the_gregorian_calendar() {
        let with_date = |date: &str| {
            Bulletin::parse(Path::new("x.md"), &format!("{}Body\n", HEAD.replace("2025-10-16", date)))
        };
        for good in ["2024-02-29", "2000-02-29", "2025-01-31", "2025-04-30", "2025-12-31", "0099-01-01"] {
            let bulletin = with_date(good).unwrap_or_else(|e| panic!("{good}: {e}"));
            assert_eq!(bulletin.date.to_string(), good);
        }
        for bad in ["2025-02-29", "1900-02-29", "2025-04-31", "2025-06-31", "2025-02-30"] {
            // A bare TOML date is checked by the TOML parser too.
            let (line, _) = error_line_and_kind(with_date(bad));
            assert_eq!(line, 4, "{bad}");
            let quoted = format!("\"{bad}\"");
            assert_eq!(error_line_and_kind(with_date(&quoted)), (4, ContentErrorKind::BadDate), "{bad}");
        }
        let err = with_date("\"2025-02-29\"").unwrap_err().to_string();
        assert!(err.ends_with("`date` must be a calendar date such as 2025-10-16"), "{err}");
    }

    #[test]
    fn a_bulletin_without_front_matter_is_refused_at_line_one() {
        let err = Bulletin::parse(Path::new("x.md"), "# Hello\n").unwrap_err();
        assert_eq!(err.to_string().split(": ").next(), Some("x.md:1"));
        assert!(matches!(err, ContentError::Invalid { kind: ContentErrorKind::NoFrontMatter, .. }));
    }

    #[test]
    fn an_unclosed_front_matter_is_refused() {
        let err = Bulletin::parse(Path::new("x.md"), "+++\nsubject = \"x\"\n").unwrap_err();
        assert!(matches!(err, ContentError::Invalid { kind: ContentErrorKind::UnclosedFrontMatter, .. }));
    }

    #[test]
    fn an_empty_body_is_refused() {
        let (line, kind) = error_line_and_kind(parse("\n\n"));
        assert_eq!(kind, ContentErrorKind::EmptyBody);
        assert_eq!(line, 6);
    }

    #[test]
    fn front_matter_errors_name_the_line_in_the_file() {
        let text = "+++\nsubject = \"x\"\npreheader = \"y\"\ndate = 2025-10-16\nsegmnt = \"a\"\n+++\nBody\n";
        let err = Bulletin::parse(Path::new("b.md"), text).unwrap_err();
        let ContentError::Invalid { line, .. } = err else { panic!() };
        assert_eq!(line, 5);
    }

    #[test]
    fn raw_html_in_the_body_is_refused_with_its_line() {
        let (line, kind) =
            error_line_and_kind(parse("Hello {{ first_name }}.\n\n<script>alert(1)</script>\n"));
        assert_eq!(line, 8);
        assert!(matches!(kind, ContentErrorKind::RawHtml(_)));
    }

    #[test]
    fn merge_field_syntax_errors_name_their_line() {
        let (line, kind) = error_line_and_kind(parse("Line six\n\nHello {{ first_name | shout }}\n"));
        assert_eq!(line, 8);
        assert!(matches!(kind, ContentErrorKind::MergeField(_)));
    }

    #[test]
    fn every_field_use_is_listed_with_its_line() {
        let text = "+++\nsubject = \"Hi {{ first_name }}\"\npreheader = \"x\"\ndate = 2025-10-16\n+++\n\nDear {{ first_name | default(\"friend\") }},\n\nfrom {{ town }}\n";
        let b = Bulletin::parse(Path::new("b.md"), text).unwrap();
        let uses: Vec<_> = b.field_uses.iter().map(|u| (u.name.as_str(), u.line)).collect();
        assert_eq!(uses, vec![("first_name", 2), ("first_name", 7), ("town", 9)]);
    }

    #[test]
    fn the_subject_knows_its_line() {
        let text = "\n+++\n# a comment\npreheader = \"x\"\nsubject = \"Hi\"\ndate = 2025-10-16\n+++\nBody\n";
        assert_eq!(Bulletin::parse(Path::new("b.md"), text).unwrap().subject_line, 5);
    }

    #[test]
    fn the_campaign_is_the_date_and_the_file_name() {
        let b = parse("Hello\n").unwrap();
        assert_eq!(b.campaign.as_str(), "2025-10-16-prayer");
        let b = Bulletin::parse(Path::new("Weekly Prayer.md"), &format!("{HEAD}Hello\n")).unwrap();
        assert_eq!(b.campaign.as_str(), "2025-10-16-weekly-prayer");
    }

    #[test]
    fn a_new_date_or_file_name_keeps_the_fingerprint_and_an_edit_of_the_text_does_not() {
        let b = parse("Hello\n").unwrap();
        let redated = Bulletin::parse(
            Path::new("content/copy of prayer.md"),
            &format!("{}Hello\n", HEAD.replace("2025-10-16", "2025-10-17")),
        )
        .unwrap();
        assert_ne!(redated.campaign, b.campaign);
        assert_eq!(redated.fingerprint, b.fingerprint);
        assert_ne!(parse("Hello!\n").unwrap().fingerprint, b.fingerprint);
        let new_subject = Bulletin::parse(
            Path::new("content/2025-10-16-prayer.md"),
            &format!("{}Hello\n", HEAD.replace("Prayer requests", "Prayer requests, again")),
        )
        .unwrap();
        assert_ne!(new_subject.fingerprint, b.fingerprint);
    }

    #[test]
    fn a_byte_order_mark_and_crlf_line_ends_are_accepted() {
        let text = format!("\u{feff}{HEAD}Hello\n").replace('\n', "\r\n");
        let b = Bulletin::parse(Path::new("b.md"), &text).unwrap();
        assert_eq!(b.blocks.len(), 1);
    }

    #[test]
    fn line_index_counts_from_one() {
        let idx = LineIndex::new("a\nb\nc");
        assert_eq!(idx.line_of(0), 1);
        assert_eq!(idx.line_of(2), 2);
        assert_eq!(idx.line_of(4), 3);
    }

    proptest::proptest! {
        #[test]
        fn parsing_any_text_never_panics(body in "\\PC{0,200}") {
            let _ = parse(&body);
        }

        #[test]
        fn parsing_any_front_matter_never_panics(front in "[a-z =\"0-9\\-\n{}|()]{0,120}") {
            let _ = Bulletin::parse(Path::new("b.md"), &format!("+++\n{front}\n+++\nBody\n"));
        }
    }
}
