//! Reading the subscriber list row by row, in order, with nothing but a
//! small digest per address kept in memory: each row is a [`Row`], either a
//! subscriber to mail or a skip that says why not (unsubscribed, suppressed,
//! outside the segment, invalid, a duplicate).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use super::lines::LineTracker;
use super::{
    Columns, EmailAddress, RowProblem, Skip, SkipReason, Subscriber, SubscribersError, Suppressions, clean,
};
use crate::domain::EmailKey;

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
                    unsubscribed.insert(address_hash(EmailKey::of(&String::from_utf8_lossy(email)).as_str()));
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
        let hash = address_hash(email.key().as_str());
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
