//! The subscriber list: a CSV file read as a stream, one checked row at a
//! time.
//!
//! Each row comes out as a [`Subscriber`] to mail or a [`Skip`] saying why
//! not (unsubscribed, suppressed, outside the bulletin's segment, invalid,
//! duplicate), with its line. Only the file's header, the addresses seen so
//! far and the opted-out addresses are kept in memory.

mod changes;
pub mod consent;
mod csv_file;
mod ledger;
mod ledger_file;
mod lines;
mod lists;
mod live_suppression;
pub mod mailchimp;
pub mod preferences;
pub mod pseudonym;
mod reader;
mod records;
pub mod signups;
mod spreadsheet;
mod suppression;
mod tally;
mod text;

use std::path::{Path, PathBuf};

pub use crate::domain::{AddressProblem, EmailAddress, EmailKey};
pub use changes::{Changes, changes_since, confirmed_since};
pub use consent::Reason;
pub use csv_file::{CsvFile, CsvFileError, Found, Table};
pub use ledger_file::{Added, Confirmation, Entry, Forgotten, Joining, SuppressionFile};
pub use lines::TooLong;
pub use lists::Lists;
pub use live_suppression::LiveSuppression;
pub use reader::{Audience, Row, SubscriberReader};
pub use spreadsheet::{as_typed, inert_in_spreadsheets};
pub use suppression::Suppressions;
pub use tally::{LineCount, PROBLEMS_SHOWN, Tally};
pub use text::TextEncoding;

use crate::merge::FieldName;

/// Header names (normalised) accepted for the address column, so exports
/// from other tools ("Email Address") work as they are.
const EMAIL_HEADERS: [&str; 3] = ["email", "email_address", "e_mail"];

/// True when `raw`, a header cell, names the address column (`email`,
/// `Email Address`, `e-mail`…, a byte-order mark allowed): the one rule for
/// the subscriber list and the suppression list alike.
pub(crate) fn is_email_header(raw: &str) -> bool {
    FieldName::normalise(raw.trim_start_matches('\u{feff}'))
        .is_some_and(|name| EMAIL_HEADERS.contains(&name.as_str()))
}

/// Header names (normalised) that mean the same column: the spellings of
/// first name and of last name a list may use.
const NAME_HEADERS: [&[&str]; 2] = [&["first_name", "firstname"], &["last_name", "lastname", "surname"]];

/// The column of `names` (a header's, normalised) that a value called
/// `name` (normalised) goes in: the same name, or else another spelling of
/// first or last name (`FirstName`, `Surname`). The one rule for sign-ups
/// read with the list, `signups merge` and the Mailchimp import, so their
/// names land where the list's own are read.
pub(crate) fn column_for<'a>(
    names: impl IntoIterator<Item = Option<&'a str>> + Clone,
    name: &str,
) -> Option<usize> {
    let aliases = NAME_HEADERS.iter().find(|group| group.contains(&name)).copied().unwrap_or(&[]);
    names
        .clone()
        .into_iter()
        .position(|n| n == Some(name))
        .or_else(|| names.into_iter().position(|n| n.is_some_and(|n| aliases.contains(&n))))
}

/// The columns of a subscriber file, by normalised header name.
#[derive(Debug, Clone)]
pub struct Columns {
    names: Vec<Option<FieldName>>,
    email: usize,
    first_name: Option<usize>,
    last_name: Option<usize>,
    status: Option<usize>,
    tags: Option<usize>,
}

impl Columns {
    fn from_header(path: &Path, header: &csv::ByteRecord, delimiter: u8) -> Result<Self, SubscribersError> {
        let not_csv =
            |reason: &str| SubscribersError::NotCsv { path: path.to_owned(), reason: reason.to_owned() };
        let mut names = Vec::with_capacity(header.len());
        let mut raw_names = Vec::with_capacity(header.len());
        for field in header {
            let text = std::str::from_utf8(field).map_err(|_| not_csv("its first line is not UTF-8 text"))?;
            let text = text.trim_start_matches('\u{feff}');
            if text.contains('\0') {
                return Err(not_csv("it holds binary data"));
            }
            raw_names.push(text.trim().to_owned());
            names.push(FieldName::normalise(text));
        }
        for (i, name) in names.iter().enumerate() {
            let Some(name) = name else { continue };
            if let Some(j) = names[..i].iter().position(|n| n.as_ref() == Some(name)) {
                return Err(SubscribersError::DuplicateColumn {
                    path: path.to_owned(),
                    name: name.to_string(),
                    first: j + 1,
                    second: i + 1,
                });
            }
        }
        let find = |wanted: &[&str]| {
            names.iter().position(|n| n.as_ref().is_some_and(|n| wanted.contains(&n.as_str())))
        };
        let email = find(&EMAIL_HEADERS).ok_or_else(|| SubscribersError::NoEmailColumn {
            path: path.to_owned(),
            found: raw_names.iter().take(8).cloned().collect(),
            delimiter: text::delimiter_name(delimiter),
        })?;
        Ok(Self {
            email,
            first_name: find(NAME_HEADERS[0]),
            last_name: find(NAME_HEADERS[1]),
            status: find(&["status"]),
            tags: find(&["tags"]),
            names,
        })
    }

    /// The column a merge field reads, if the file has it.
    pub fn index_of(&self, name: &FieldName) -> Option<usize> {
        if EMAIL_HEADERS.contains(&name.as_str()) {
            return Some(self.email);
        }
        self.names.iter().position(|n| n.as_ref() == Some(name))
    }

    /// The cell of the column named `name` (any spelling a merge field
    /// takes) in a row's `cells`; empty when the file has no such column
    /// or the row is short.
    pub fn cell<'a>(&self, cells: &'a [String], name: &str) -> &'a str {
        FieldName::normalise(name)
            .and_then(|n| self.index_of(&n))
            .and_then(|i| cells.get(i))
            .map_or("", String::as_str)
    }

    /// Every column usable as a merge field, in file order.
    pub fn field_names(&self) -> impl Iterator<Item = &FieldName> {
        self.names.iter().flatten()
    }
}

/// One person to mail.
#[derive(Debug, Clone)]
pub struct Subscriber {
    line: u64,
    /// The file the row is in when it is not the list: `signups.csv`.
    file: Option<std::sync::Arc<Path>>,
    email: EmailAddress,
    name: Option<String>,
    tags: Vec<String>,
    values: Vec<String>,
}

impl Subscriber {
    /// The line of the CSV file the row starts on.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The file the row is in when it is not the list itself (a confirmed
    /// sign-up's `signups.csv`); `None` for a row of the list.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    pub fn email(&self) -> &EmailAddress {
        &self.email
    }

    /// First and last name joined, or `None` when both are empty.
    pub fn display_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The value in `column` (see [`Columns::index_of`]): trimmed, with line
    /// breaks and other control characters turned into spaces, so a value can
    /// never start a new header line.
    pub fn value(&self, column: usize) -> &str {
        self.values.get(column).map_or("", String::as_str)
    }

    pub fn tags(&self) -> &[String] {
        &self.tags
    }
}

/// A row that is not mailed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// The line the row starts on.
    pub line: u64,
    /// The file the row is in when it is not the list: `signups.csv`.
    pub file: Option<std::sync::Arc<Path>>,
    /// The address as written, when the row had one.
    pub email: Option<String>,
    pub reason: SkipReason,
}

/// Why a row is not mailed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    #[error("unsubscribed")]
    Unsubscribed,
    #[error("on the suppression list")]
    Suppressed,
    #[error("not tagged `{0}`, the bulletin's segment")]
    NotInSegment(String),
    /// Not one of the newcomers a welcome is for ([`Audience::only`]).
    #[error("not a newcomer to welcome")]
    NotNewcomer,
    #[error("paused on the preference page")]
    Paused,
    #[error("{0}")]
    Invalid(RowProblem),
    #[error("duplicate of line {first_line}")]
    Duplicate { first_line: u64 },
}

impl SkipReason {
    /// True for rows that point at a mistake in the list, as opposed to
    /// people who are rightly not mailed.
    pub fn is_problem(&self) -> bool {
        matches!(self, Self::Invalid(_) | Self::Duplicate { .. })
    }

    /// True for a row whose address an earlier row already has: mailed
    /// once all the same, so a warning, not an error.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, Self::Duplicate { .. })
    }
}

/// What is wrong with a row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    #[error("no email address")]
    MissingEmail,
    #[error("invalid email address {value:?}: {problem}")]
    InvalidEmail { value: String, problem: AddressProblem },
    #[error("status {0:?} is neither `subscribed` nor `unsubscribed`")]
    UnknownStatus(String),
    #[error("{found} fields where the header has {expected}")]
    FieldCount { expected: usize, found: usize },
    #[error("column `{0}` is not UTF-8 text")]
    NotUtf8(String),
}

/// Why a subscriber file cannot be used at all. Nothing is rendered after
/// one.
#[derive(Debug, thiserror::Error)]
pub enum SubscribersError {
    #[error("cannot read {}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is not a CSV file: {reason}", path.display())]
    NotCsv { path: PathBuf, reason: String },
    #[error("{} is empty: it needs a header line with an `email` column", path.display())]
    Empty { path: PathBuf },
    #[error(
        "{}:1: no `email` column (the header has: {}); its columns were split at {delimiter}, \
         whichever of `,`, `;` and tab the header line has most of",
        path.display(),
        found.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", ")
    )]
    NoEmailColumn { path: PathBuf, found: Vec<String>, delimiter: &'static str },
    #[error("{}:1: column `{name}` appears twice (columns {first} and {second})", path.display())]
    DuplicateColumn { path: PathBuf, name: String, first: usize, second: usize },
    #[error("{}:{line}", path.display())]
    Csv { path: PathBuf, line: u64, source: csv::Error },
    /// A field or row longer than any a list has: read no further, so a
    /// broken or hostile file cannot take the memory it would need.
    #[error("{}:{line}: column `{column}`: {reason}. None of the list was used", path.display())]
    TooLong { path: PathBuf, line: u64, column: String, reason: TooLong },
    /// A quoted field that took in what look like further rows, or ran to
    /// the end of the file: the rows after it would be lost.
    #[error("{}:{line}: {}", path.display(), open_quote(*line, *lines, *to_end, *rows, first.as_ref()))]
    OpenQuote {
        path: PathBuf,
        /// The line the quote opened on.
        line: u64,
        /// How many lines the field took, its own included.
        lines: u64,
        /// It was never closed.
        to_end: bool,
        /// How many of those lines look like rows of their own.
        rows: u64,
        /// The first of them: its line and text.
        first: Option<(u64, String)>,
    },
}

/// What [`SubscribersError::OpenQuote`] says after the file and line.
fn open_quote(line: u64, lines: u64, to_end: bool, rows: u64, first: Option<&(u64, String)>) -> String {
    let mut text = if to_end {
        format!(
            "a quoted field opens on this line and is never closed: it takes in all {lines} lines to the end of the file"
        )
    } else {
        format!("a quoted field opens on this line and runs over {lines} lines, to line {}", line + lines - 1)
    };
    if let Some((at, row)) = first {
        let row: String = row.chars().take(60).flat_map(char::escape_debug).collect();
        text.push_str(&format!(
            ", with what look like {rows} row(s) of their own inside it (the first on line {at}: \"{row}\")"
        ));
    }
    text.push_str(
        ". None of the list was used: close the quote where the field should end, or write a quote \
         inside a field as two (\"\")",
    );
    text
}

/// Trims a value and turns line breaks, tabs and other control characters
/// into single spaces.
fn clean(text: &str) -> String {
    let text = text.trim();
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.split(char::is_control).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
