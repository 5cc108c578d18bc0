//! `preferences.csv`, beside the subscriber list: what readers chose on
//! the preference page of `bulletin serve` (their interests, as tags, and
//! a pause). Only the server adds to it, a row per change, under the
//! suppression list's lock; the latest row for an address is the one that
//! counts. The list reader applies it ([`super::SubscriberReader::with_signups`]):
//! the chosen tags replace the list's, and a paused reader is skipped until
//! the pause ends. The list itself is never rewritten.
//!
//! The `tags` cell tells "not chosen" from "chose none": an empty cell means
//! the reader never chose (a pause alone), so the list's (or sign-up's) tags
//! stand; [`NO_TAGS`] means they chose no interests at all. A row written
//! before the marker existed, with an empty cell, is read as "not chosen":
//! those rows were mostly pauses that had wrongly emptied the reader's tags,
//! and keeping the list's tags loses nothing the reader cannot uncheck again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{CsvFile, CsvFileError, EmailAddress, EmailKey, SubscribersError};

pub const FILE_NAME: &str = "preferences.csv";

pub const HEADER: [&str; 4] = ["email", "tags", "paused_until", "changed_at"];

/// The `tags` cell of a reader who chose no interests: a lone separator,
/// which no tag can be (tags never hold `;`).
pub const NO_TAGS: &str = ";";

/// `preferences.csv` beside the subscriber list at `list`.
pub fn beside(list: &Path) -> PathBuf {
    list.parent().unwrap_or(Path::new("")).join(FILE_NAME)
}

/// One reader's latest choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preference {
    /// The interests chosen, lower case, which replace the list's tags;
    /// `None` when the reader never chose (the list's tags stand), as
    /// opposed to `Some` of none.
    pub tags: Option<Vec<String>>,
    /// Not mailed before this.
    pub paused_until: Option<SystemTime>,
}

/// The preferences file.
#[derive(Debug, Clone)]
pub struct PreferencesFile(CsvFile);

impl PreferencesFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(CsvFile::new(path))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// Adds a row for `email`'s new choice, made at `now`.
    pub fn add(
        &self,
        email: &EmailAddress,
        preference: &Preference,
        now: SystemTime,
    ) -> Result<(), CsvFileError> {
        let date = |t: SystemTime| humantime::format_rfc3339_seconds(t).to_string();
        self.0.rewrite(|table| {
            if table.header.is_empty() {
                table.header = HEADER.iter().copied().collect();
                table.email_column = Some(0);
            }
            let tags = match &preference.tags {
                None => String::new(),
                Some(tags) if tags.is_empty() => NO_TAGS.to_owned(),
                Some(tags) => tags.join(";"),
            };
            let paused = preference.paused_until.map(date).unwrap_or_default();
            let changed = date(now);
            let row: csv::StringRecord = table
                .header
                .iter()
                .map(|name| match name.trim().to_ascii_lowercase().as_str() {
                    "email" => email.as_str(),
                    "tags" => &tags,
                    "paused_until" => &paused,
                    "changed_at" => &changed,
                    _ => "",
                })
                .collect();
            table.records.push(row);
            (true, ())
        })
    }

    pub fn check_writable(&self) -> Result<(), CsvFileError> {
        self.0.check_writable()
    }
}

/// Every address's latest preference in the file at `path`; none when
/// there is no file. A row with a bad date names its line.
pub fn load(path: &Path) -> Result<HashMap<EmailKey, Preference>, SubscribersError> {
    let mut found = HashMap::new();
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(source) => return Err(SubscribersError::Read { path: path.to_owned(), source }),
    };
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let header = csv
        .headers()
        .map_err(|source| SubscribersError::Csv { path: path.to_owned(), line: 1, source })?
        .clone();
    let column = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let (Some(email), tags, paused) = (column("email"), column("tags"), column("paused_until")) else {
        return Ok(found);
    };
    for record in csv.records() {
        let record = record.map_err(|source| {
            let line = source.position().map_or(0, csv::Position::line);
            SubscribersError::Csv { path: path.to_owned(), line, source }
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        let Some(address) = record.get(email).filter(|e| !e.trim().is_empty()) else { continue };
        // An empty cell: not chosen; `;` (NO_TAGS): chose none.
        let tags = tags
            .and_then(|i| record.get(i))
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.split(';').map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect());
        let paused_until = match paused.and_then(|i| record.get(i)).map(str::trim).filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => Some(humantime::parse_rfc3339(p).map_err(|e| SubscribersError::NotCsv {
                path: path.to_owned(),
                reason: format!("line {line}: paused_until {p:?} is not a date and time: {e}"),
            })?),
        };
        found.insert(EmailKey::of(address), Preference { tags, paused_until });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_row_for_an_address_is_the_one_that_counts() {
        let dir = tempfile::tempdir().unwrap();
        let file = PreferencesFile::new(dir.path().join(FILE_NAME));
        let ana = EmailAddress::parse("Ana@example.org").unwrap();
        let later = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(86_400);
        let first = Preference { tags: Some(vec!["news".into()]), paused_until: Some(later) };
        let second = Preference { tags: Some(vec!["prayer".into(), "news".into()]), paused_until: None };
        file.add(&ana, &first, SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(load(file.path()).unwrap().get(ana.key()), Some(&first));
        file.add(&ana, &second, SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(load(file.path()).unwrap().get(ana.key()), Some(&second));
        assert_eq!(std::fs::read_to_string(file.path()).unwrap().lines().count(), 3);
        assert!(load(&dir.path().join("none.csv")).unwrap().is_empty());
    }

    #[test]
    fn a_pause_alone_keeps_the_lists_tags_and_choosing_none_is_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let file = PreferencesFile::new(dir.path().join(FILE_NAME));
        let (ana, bo) =
            (EmailAddress::parse("ana@example.org").unwrap(), EmailAddress::parse("bo@example.org").unwrap());
        let later = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(86_400);
        let paused = Preference { tags: None, paused_until: Some(later) };
        let none = Preference { tags: Some(vec![]), paused_until: None };
        file.add(&ana, &paused, SystemTime::UNIX_EPOCH).unwrap();
        file.add(&bo, &none, SystemTime::UNIX_EPOCH).unwrap();
        let found = load(file.path()).unwrap();
        assert_eq!((found.get(ana.key()), found.get(bo.key())), (Some(&paused), Some(&none)));
        // A row written before the marker, with an empty cell: not chosen.
        let old = dir.path().join("old.csv");
        std::fs::write(&old, "email,tags,paused_until,changed_at\ncy@example.org,,,2026-01-01T00:00:00Z\n")
            .unwrap();
        assert_eq!(load(&old).unwrap().values().next().unwrap().tags, None);
    }
}
