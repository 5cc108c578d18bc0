//! Reading the subscriber list row by row, in order, with nothing but a
//! small digest per address kept in memory: each row is a [`Row`], either a
//! subscriber to mail or a skip that says why not (unsubscribed, suppressed,
//! outside the segment, invalid, a duplicate).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use super::records::{Input, check_quotes, csv_error, csv_reader, lines_of, read_record};
use super::tally::LineCount;
use super::text::TextEncoding;
use super::{
    Columns, EmailAddress, RowProblem, Skip, SkipReason, Subscriber, SubscribersError, Suppressions, clean,
};
use crate::domain::EmailKey;
use crate::merge::FieldName;

/// Who this bulletin is for, beyond the list itself.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    /// Addresses never to mail.
    pub suppressed: Suppressions,
    /// Only subscribers with this tag, when set.
    pub segment: Option<String>,
    /// Only these addresses, when set: the newcomers a welcome is for.
    pub only: Option<std::sync::Arc<HashSet<EmailKey>>>,
    /// `SIGNUPS=manual`: the confirmed sign-ups waiting in `signups.csv`
    /// are left out until `bulletin signups merge` ([`SubscriberReader::with_signups`]).
    pub signups_wait: bool,
}

/// Reads a subscriber file row by row.
pub struct SubscriberReader {
    path: PathBuf,
    csv: csv::Reader<Input>,
    delimiter: u8,
    /// Lines of the header, of the rows read so far, and of rows of empty
    /// cells.
    header_lines: u64,
    rows: u64,
    row_lines: u64,
    /// Every line, once the file was read to its end.
    lines: Option<LineCount>,
    columns: Columns,
    audience: Audience,
    unsubscribed: HashSet<u64>,
    /// Addresses already read, by [`address_hash`], with their line.
    seen: HashMap<u64, u64>,
    record: csv::ByteRecord,
    /// The list's own columns; the rest of `columns` come from `signups.csv`.
    list_width: usize,
    /// `signups.csv`, read once the list is done.
    signups: Option<Box<Signups>>,
    /// Readers' choices on the preference page, by [`address_hash`].
    preferences: HashMap<u64, super::preferences::Preference>,
    /// When a pause is measured from.
    now: std::time::SystemTime,
}

/// `signups.csv` read after the list ([`SubscriberReader::with_signups`]).
struct Signups {
    path: PathBuf,
    csv: csv::Reader<Input>,
    delimiter: u8,
    /// For each of its columns, the reader's column it fills.
    to_merged: Vec<usize>,
    /// Its own columns' names, for its errors.
    names: Vec<Option<FieldName>>,
    /// The list was read to its end, so this file is being read.
    started: bool,
}

impl SubscriberReader {
    /// Opens `path` and checks its header. Addresses marked unsubscribed on
    /// any row are gathered first, so a second, "subscribed" row for the same
    /// person never gets them mailed.
    pub fn open(path: &Path, audience: Audience) -> Result<Self, SubscribersError> {
        let (mut csv, columns, delimiter, header_lines) = open_csv(path)?;
        let mut unsubscribed = HashSet::new();
        if let Some(status) = columns.status {
            let mut record = csv::ByteRecord::new();
            while read_record(path, &mut csv, &mut record, delimiter, &columns.names)? {
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
            delimiter,
            header_lines,
            rows: 0,
            row_lines: 0,
            lines: None,
            audience,
            unsubscribed,
            seen: HashMap::new(),
            record: csv::ByteRecord::new(),
            list_width: columns_len(&columns),
            columns,
            signups: None,
            preferences: HashMap::new(),
            now: crate::domain::Clock::now(&crate::domain::SystemClock).as_system_time(),
        })
    }

    /// Opens `path` as [`SubscriberReader::open`] does, then reads the
    /// confirmed sign-ups in `signups.csv` beside it (when there is one)
    /// after its last row, as if they were rows of the list: an address
    /// already on the list is left out (the list wins), and the sign-ups'
    /// own columns (`consented_at`, ...) are added to the list's, empty on
    /// its rows. The choices in `preferences.csv` beside it apply to both:
    /// a reader's chosen tags replace the list's, and a reader who paused is
    /// skipped until the pause ends. What `send`, `check` and the preview read.
    /// With [`Audience::signups_wait`] (`SIGNUPS=manual`), `signups.csv` is
    /// not read.
    pub fn with_signups(path: &Path, audience: Audience) -> Result<Self, SubscribersError> {
        let mut reader = Self::open(path, audience)?;
        reader.preferences = super::preferences::load(&super::preferences::beside(path))?
            .into_iter()
            .map(|(key, preference)| (address_hash(key.as_str()), preference))
            .collect();
        let signups = super::signups::beside(path);
        if signups == path || !signups.exists() || reader.audience.signups_wait {
            return Ok(reader);
        }
        let (csv, theirs, delimiter, _) = open_csv(&signups)?;
        let mut names: Vec<String> = reader
            .columns
            .names
            .iter()
            .map(|n| n.as_ref().map(ToString::to_string).unwrap_or_default())
            .collect();
        let mut to_merged = Vec::new();
        for (i, name) in theirs.names.iter().enumerate() {
            let index = match name {
                _ if i == theirs.email => reader.columns.email,
                Some(name) => super::column_for(
                    reader.columns.names.iter().map(|n| n.as_ref().map(FieldName::as_str)),
                    name.as_str(),
                )
                .unwrap_or_else(|| {
                    names.push(name.to_string());
                    names.len() - 1
                }),
                None => {
                    names.push(String::new());
                    names.len() - 1
                }
            };
            to_merged.push(index);
        }
        let header: csv::ByteRecord = names.iter().map(String::as_bytes).collect();
        reader.columns = Columns::from_header(path, &header, reader.delimiter)?;
        let names = theirs.names;
        reader.signups =
            Some(Box::new(Signups { path: signups, csv, delimiter, to_merged, names, started: false }));
        Ok(reader)
    }

    /// The tags `email` has now, as a send reads them: those of its row in
    /// the list at `path` (or else in `signups.csv` beside it), replaced by
    /// the interests it chose in `preferences.csv` if it chose; paused or
    /// not. Empty for an address on neither. Reads the whole list.
    pub fn tags_of(path: &Path, email: &EmailAddress) -> Result<Vec<String>, SubscribersError> {
        let mut reader = Self::with_signups(path, Audience::default())?;
        let hash = address_hash(email.key().as_str());
        if let Some(chosen) = reader.preferences.remove(&hash).and_then(|p| p.tags) {
            return Ok(chosen);
        }
        reader.preferences.clear();
        for row in reader {
            if let Row::Subscribed(subscriber) = row?
                && subscriber.email.key() == email.key()
            {
                return Ok(subscriber.tags);
            }
        }
        Ok(Vec::new())
    }

    /// The next row of `signups.csv`, as a row of the list.
    fn next_signup(&mut self) -> Option<Result<Row, SubscribersError>> {
        loop {
            let signups = self.signups.as_mut()?;
            signups.started = true;
            let mut record = csv::ByteRecord::new();
            match read_record(&signups.path, &mut signups.csv, &mut record, signups.delimiter, &signups.names)
            {
                Err(e) => return Some(Err(e)),
                Ok(false) => return None,
                Ok(true) if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) => continue,
                Ok(true) => {}
            }
            let byte = record.position().map_or(0, csv::Position::byte);
            let line = signups.csv.get_mut().line_at(byte);
            let mut merged = vec![&b""[..]; columns_len(&self.columns)];
            for (field, &to) in record.iter().zip(&signups.to_merged) {
                merged[to] = field;
            }
            // On the list already: the list's row is the one that counts.
            let email =
                record.get(signups.to_merged.iter().position(|&i| i == self.columns.email).unwrap_or(0));
            let on_list = email
                .map(|e| address_hash(EmailKey::of(&String::from_utf8_lossy(e)).as_str()))
                .is_some_and(|hash| self.seen.contains_key(&hash));
            if on_list {
                continue;
            }
            self.record = merged.into_iter().collect();
            let file = Some(std::sync::Arc::from(signups.path.as_path()));
            return Some(Ok(match self.classify_at(line, columns_len(&self.columns)) {
                Row::Subscribed(subscriber) => Row::Subscribed(Subscriber { file, ..subscriber }),
                Row::Skipped(skip) => Row::Skipped(Skip { file, ..skip }),
            }));
        }
    }

    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How the file's bytes were read, so far.
    pub fn encoding(&self) -> TextEncoding {
        self.csv.get_ref().get_ref().get_ref().1.encoding()
    }

    /// Every line of the file accounted for, once it was read to its end.
    pub fn lines(&self) -> Option<LineCount> {
        self.lines
    }

    /// Accounts for every line, once the file was read to its end.
    fn count_lines(&mut self) {
        if self.lines.is_none() {
            let total = self.csv.get_ref().total_lines().unwrap_or_default();
            self.lines = Some(LineCount {
                total,
                header: self.header_lines,
                rows: self.rows,
                row_lines: self.row_lines,
                blank: total.saturating_sub(self.header_lines + self.row_lines),
                encoding: self.encoding(),
                delimiter: self.delimiter,
            });
        }
    }

    /// Every row of `path` in file order, as its line and its cells
    /// (trimmed, control characters made spaces), none left out as a
    /// repeat of an earlier one: how the consent ledger, where one address
    /// has a row per event, is read. Checked as the list is (its header, a
    /// quote left open); rows of empty cells are left out.
    pub(crate) fn each_row(
        path: &Path,
        mut each: impl FnMut(&Columns, u64, Vec<String>),
    ) -> Result<Option<LineCount>, SubscribersError> {
        let mut reader = Self::open(path, Audience::default())?;
        let mut record = csv::ByteRecord::new();
        while read_record(
            &reader.path,
            &mut reader.csv,
            &mut record,
            reader.delimiter,
            &reader.columns.names,
        )? {
            if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            reader.rows += 1;
            reader.row_lines += lines_of(&record);
            let byte = record.position().map_or(0, csv::Position::byte);
            let line = reader.csv.get_mut().line_at(byte);
            each(&reader.columns, line, record.iter().map(|f| clean(&String::from_utf8_lossy(f))).collect());
        }
        reader.count_lines();
        Ok(reader.lines)
    }

    fn classify(&mut self) -> Row {
        let byte = self.record.position().map_or(0, csv::Position::byte);
        let line = self.csv.get_mut().line_at(byte);
        self.classify_at(line, self.list_width)
    }

    /// The row in `self.record`, which starts on `line` and should have
    /// `width` fields.
    fn classify_at(&mut self, line: u64, width: usize) -> Row {
        let skip = |email: Option<&str>, reason| {
            Row::Skipped(Skip { line, file: None, email: email.map(str::to_owned), reason })
        };
        let columns = &self.columns;
        if self.record.len() != width {
            return skip(
                None,
                SkipReason::Invalid(RowProblem::FieldCount { expected: width, found: self.record.len() }),
            );
        }
        let mut values = Vec::with_capacity(self.record.len());
        for (i, field) in self.record.iter().enumerate() {
            match std::str::from_utf8(field) {
                // An address is matched as it is written.
                Ok(text) if i == columns.email => values.push(clean(text)),
                Ok(text) => values.push(clean(super::as_typed(text.trim_start()))),
                Err(_) => {
                    let column =
                        columns.names[i].as_ref().map_or_else(|| format!("#{}", i + 1), ToString::to_string);
                    return skip(None, SkipReason::Invalid(RowProblem::NotUtf8(column)));
                }
            }
        }
        // Empty for the columns only `signups.csv` has.
        values.resize(columns.names.len(), String::new());
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
        let preference = self.preferences.get(&hash);
        // A pause on the ledger, or one chosen before pauses were written
        // there (`preferences.csv`).
        let paused = preference
            .and_then(|p| p.paused_until)
            .into_iter()
            .chain(self.audience.suppressed.paused_until(email.key()));
        if paused.into_iter().any(|until| until > self.now) {
            return skip(email_ref, SkipReason::Paused);
        }
        let tags: Vec<String> = match preference.and_then(|p| p.tags.as_ref()) {
            Some(chosen) => chosen.clone(),
            None => columns.tags.map_or_else(Vec::new, |i| {
                values[i].split(';').map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect()
            }),
        };
        if let Some(segment) = &self.audience.segment
            && !tags.contains(segment)
        {
            return skip(email_ref, SkipReason::NotInSegment(segment.clone()));
        }
        if self.audience.only.as_ref().is_some_and(|only| !only.contains(email.key())) {
            return skip(email_ref, SkipReason::NotNewcomer);
        }
        let name = [columns.first_name, columns.last_name]
            .iter()
            .flatten()
            .map(|&i| values[i].as_str())
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let name = Some(name).filter(|n| !n.is_empty());
        Row::Subscribed(Subscriber { line, file: None, email, name, tags, values })
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
        if self.signups.as_ref().is_some_and(|s| s.started) {
            return self.next_signup();
        }
        loop {
            let mut record = std::mem::take(&mut self.record);
            let more =
                read_record(&self.path, &mut self.csv, &mut record, self.delimiter, &self.columns.names);
            self.record = record;
            match more {
                Err(e) => return Some(Err(e)),
                Ok(false) => {
                    self.count_lines();
                    return self.next_signup();
                }
                // Spreadsheets leave rows of empty cells behind; they are blank lines.
                Ok(true) if self.record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) => {}
                Ok(true) => {
                    self.rows += 1;
                    self.row_lines += lines_of(&self.record);
                    return Some(Ok(self.classify()));
                }
            }
        }
    }
}

fn open_csv(path: &Path) -> Result<(csv::Reader<Input>, Columns, u8, u64), SubscribersError> {
    let file = File::open(path).map_err(|source| SubscribersError::Read { path: path.to_owned(), source })?;
    let (mut csv, delimiter) = csv_reader(path, file)?;
    let header = match csv.byte_headers() {
        Ok(header) => header,
        Err(source) => return Err(csv_error(path, 1, source, &[])),
    };
    if header.is_empty() || header.iter().all(|f| f.trim_ascii().is_empty()) {
        return Err(SubscribersError::Empty { path: path.to_owned() });
    }
    let header = header.clone();
    let header_lines = lines_of(&header);
    if header_lines > 1 {
        check_quotes(path, csv.get_ref(), &header, 1, delimiter)?;
    }
    let columns = Columns::from_header(path, &header, delimiter)?;
    Ok((csv, columns, delimiter, header_lines))
}

fn columns_len(columns: &Columns) -> usize {
    columns.names.len()
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
