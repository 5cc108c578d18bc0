//! The subscriber list: a CSV file read as a stream, one checked row at a
//! time.
//!
//! Each row comes out as a [`Subscriber`] to mail or a [`Skip`] saying why
//! not (unsubscribed, suppressed, outside the bulletin's segment, invalid,
//! duplicate), with its line. Only the file's header, the addresses seen so
//! far and the opted-out addresses are kept in memory.

mod lines;
mod lists;
mod suppression;
mod suppression_file;
mod tally;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

pub use crate::domain::{AddressProblem, EmailAddress};
pub use lists::Lists;
pub use suppression::Suppressions;
pub use suppression_file::{
    Added, Entry, Reason, SuppressionFile, SuppressionFileError, inert_in_spreadsheets,
};
pub use tally::{PROBLEMS_SHOWN, Tally, counted};

use crate::merge::FieldName;
use lines::LineTracker;

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
    fn from_header(path: &Path, header: &csv::ByteRecord) -> Result<Self, SubscribersError> {
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
        })?;
        Ok(Self {
            email,
            first_name: find(&["first_name", "firstname"]),
            last_name: find(&["last_name", "lastname", "surname"]),
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

    /// Every column usable as a merge field, in file order.
    pub fn field_names(&self) -> impl Iterator<Item = &FieldName> {
        self.names.iter().flatten()
    }
}

/// One person to mail.
#[derive(Debug, Clone)]
pub struct Subscriber {
    line: u64,
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
    #[error("cannot read subscriber list {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is not a CSV file: {reason}", path.display())]
    NotCsv { path: PathBuf, reason: String },
    #[error("{} is empty: it needs a header line with an `email` column", path.display())]
    Empty { path: PathBuf },
    #[error(
        "{}:1: no `email` column (the header has: {})",
        path.display(),
        found.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", ")
    )]
    NoEmailColumn { path: PathBuf, found: Vec<String> },
    #[error("{}:1: column `{name}` appears twice (columns {first} and {second})", path.display())]
    DuplicateColumn { path: PathBuf, name: String, first: usize, second: usize },
    #[error("{}:{line}: {source}", path.display())]
    Csv { path: PathBuf, line: u64, source: csv::Error },
}

/// Who this bulletin is for, beyond the list itself.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    /// Addresses never to mail.
    pub suppressed: Suppressions,
    /// Only subscribers with this tag, when set.
    pub segment: Option<String>,
}

/// Reads a subscriber file row by row.
pub struct SubscriberReader {
    path: PathBuf,
    csv: csv::Reader<LineTracker<File>>,
    columns: Columns,
    audience: Audience,
    unsubscribed: HashSet<u64>,
    /// Addresses already read, by [`address_hash`], with their line.
    seen: HashMap<u64, u64>,
    record: csv::ByteRecord,
}

impl SubscriberReader {
    /// Opens `path` and checks its header. Addresses marked unsubscribed on
    /// any row are gathered first, so a second, "subscribed" row for the same
    /// person never gets them mailed.
    pub fn open(path: &Path, audience: Audience) -> Result<Self, SubscribersError> {
        let (mut csv, columns) = open_csv(path)?;
        let mut unsubscribed = HashSet::new();
        if let Some(status) = columns.status {
            let mut record = csv::ByteRecord::new();
            while read_record(path, &mut csv, &mut record)? {
                let is_unsubscribed = record
                    .get(status)
                    .and_then(|s| std::str::from_utf8(s).ok())
                    .is_some_and(|s| s.trim().eq_ignore_ascii_case("unsubscribed"));
                if let (true, Some(email)) = (is_unsubscribed, record.get(columns.email)) {
                    unsubscribed.insert(address_hash(&EmailAddress::key_of(&String::from_utf8_lossy(email))));
                }
            }
            csv = open_csv(path)?.0;
        }
        Ok(Self {
            path: path.to_owned(),
            csv,
            columns,
            audience,
            unsubscribed,
            seen: HashMap::new(),
            record: csv::ByteRecord::new(),
        })
    }

    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn classify(&mut self) -> Row {
        let byte = self.record.position().map_or(0, csv::Position::byte);
        let line = self.csv.get_mut().line_at(byte);
        let skip = |email: Option<&str>, reason| {
            Row::Skipped(Skip { line, email: email.map(str::to_owned), reason })
        };
        let columns = &self.columns;
        if self.record.len() != columns.names.len() {
            return skip(
                None,
                SkipReason::Invalid(RowProblem::FieldCount {
                    expected: columns.names.len(),
                    found: self.record.len(),
                }),
            );
        }
        let mut values = Vec::with_capacity(self.record.len());
        for (i, field) in self.record.iter().enumerate() {
            match std::str::from_utf8(field) {
                Ok(text) => values.push(clean(text)),
                Err(_) => {
                    let column =
                        columns.names[i].as_ref().map_or_else(|| format!("#{}", i + 1), ToString::to_string);
                    return skip(None, SkipReason::Invalid(RowProblem::NotUtf8(column)));
                }
            }
        }
        let raw_email = values[columns.email].clone();
        let email_ref = Some(raw_email.as_str()).filter(|e| !e.is_empty());
        if raw_email.is_empty() {
            return skip(None, SkipReason::Invalid(RowProblem::MissingEmail));
        }
        let email = match EmailAddress::parse(&raw_email) {
            Ok(email) => email,
            Err(problem) => {
                let problem = RowProblem::InvalidEmail { value: raw_email.clone(), problem };
                return skip(email_ref, SkipReason::Invalid(problem));
            }
        };
        let hash = address_hash(email.key());
        if let Some(&first_line) = self.seen.get(&hash) {
            return skip(email_ref, SkipReason::Duplicate { first_line });
        }
        self.seen.insert(hash, line);

        let status = columns.status.map_or("", |i| values[i].as_str());
        if !status.is_empty()
            && !status.eq_ignore_ascii_case("subscribed")
            && !status.eq_ignore_ascii_case("unsubscribed")
        {
            return skip(email_ref, SkipReason::Invalid(RowProblem::UnknownStatus(status.to_owned())));
        }
        if self.unsubscribed.contains(&hash) {
            return skip(email_ref, SkipReason::Unsubscribed);
        }
        if self.audience.suppressed.contains(&email) {
            return skip(email_ref, SkipReason::Suppressed);
        }
        let tags: Vec<String> = columns.tags.map_or_else(Vec::new, |i| {
            values[i].split(';').map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect()
        });
        if let Some(segment) = &self.audience.segment
            && !tags.contains(segment)
        {
            return skip(email_ref, SkipReason::NotInSegment(segment.clone()));
        }
        let name = [columns.first_name, columns.last_name]
            .iter()
            .flatten()
            .map(|&i| values[i].as_str())
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Row::Subscribed(Subscriber { line, email, name: Some(name).filter(|n| !n.is_empty()), tags, values })
    }
}

/// One row of the file.
#[derive(Debug, Clone)]
pub enum Row {
    Subscribed(Subscriber),
    Skipped(Skip),
}

impl Iterator for SubscriberReader {
    type Item = Result<Row, SubscribersError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let mut record = std::mem::take(&mut self.record);
            let more = read_record(&self.path, &mut self.csv, &mut record);
            self.record = record;
            match more {
                Err(e) => return Some(Err(e)),
                Ok(false) => return None,
                // Spreadsheets leave rows of empty cells behind; they are blank lines.
                Ok(true) if self.record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) => {}
                Ok(true) => return Some(Ok(self.classify())),
            }
        }
    }
}

fn open_csv(path: &Path) -> Result<(csv::Reader<LineTracker<File>>, Columns), SubscribersError> {
    let file = File::open(path).map_err(|source| SubscribersError::Read { path: path.to_owned(), source })?;
    let mut csv =
        csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(LineTracker::new(file));
    let header = csv.byte_headers().map_err(|source| SubscribersError::Csv {
        path: path.to_owned(),
        line: 1,
        source,
    })?;
    if header.is_empty() || header.iter().all(<[u8]>::is_empty) {
        return Err(SubscribersError::Empty { path: path.to_owned() });
    }
    let columns = Columns::from_header(path, &header.clone())?;
    Ok((csv, columns))
}

fn read_record(
    path: &Path,
    csv: &mut csv::Reader<LineTracker<File>>,
    record: &mut csv::ByteRecord,
) -> Result<bool, SubscribersError> {
    csv.read_byte_record(record).map_err(|source| {
        let byte = source.position().map_or(0, csv::Position::byte);
        SubscribersError::Csv { path: path.to_owned(), line: csv.get_mut().line_at(byte), source }
    })
}

/// A 64-bit digest of a normalised address. The reader keeps these, not
/// the addresses, so a million-row list costs about 30 MB rather than 140;
/// two different addresses share one with a chance of about 3 in 100
/// million at a million rows.
fn address_hash(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    // Unkeyed, so the same address gives the same digest for the whole run.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
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
