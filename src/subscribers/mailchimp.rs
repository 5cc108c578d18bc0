//! A Mailchimp audience export: a ZIP file (or the folder it unzips to) of
//! CSV files, `subscribed_members_export_<id>.csv`,
//! `unsubscribed_members_export_<id>.csv` and
//! `cleaned_members_export_<id>.csv` (newer exports say `email_audience`
//! for `members`; the first word is what counts). Each has the audience's
//! merge fields (`Email Address`, `First Name`, `Last Name`, and any the
//! audience added), then Mailchimp's own columns (`MEMBER_RATING`,
//! `OPTIN_TIME`, `OPTIN_IP`, `CONFIRM_TIME`, … `TAGS`); the unsubscribed
//! file adds `UNSUB_TIME`, `UNSUB_CAMPAIGN_TITLE`, `UNSUB_CAMPAIGN_ID`,
//! `UNSUB_REASON`, `UNSUB_REASON_OTHER`, the cleaned one `CLEAN_TIME`,
//! `CLEAN_CAMPAIGN_TITLE`, `CLEAN_CAMPAIGN_ID`.
//!
//! Read here into [`Member`]s, each with the file and line it came from;
//! rows without a valid address are kept as problems. Each file is read as
//! a stream, its fields and rows counted as they come, so a small ZIP that
//! inflates to a huge field is refused before it is held in memory. Other files (a
//! `nonsubscribed_…` file of people who never opted in, say) are listed and
//! not read.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use std::collections::HashSet;

use super::lines::{Limits, LineTracker, TooLong};
use super::text::Decoded;
use super::{EmailAddress, EmailKey, Table, is_email_header};
use crate::merge::FieldName;

/// The most bytes read from one file of the export (a ZIP can claim any
/// size once inflated).
const MAX_FILE: u64 = 1 << 30;

/// The longest field and row of an export file: Mailchimp's own columns
/// are short, a text merge field holds 255 characters, and a row has some
/// thirty columns.
const LIMITS: Limits = Limits { field: 16 << 10, record: 64 << 10 };

/// The most characters of a value carried into the list (a name, a merge
/// field, a consent time); tags are held to [`LIMITS`] only.
pub const MAX_VALUE_CHARS: usize = 500;

/// Which file a member is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Subscribed,
    Unsubscribed,
    Cleaned,
}

impl Status {
    /// The status a file's name gives, from its first word.
    fn of_file(name: &str) -> Option<Self> {
        let name = name.to_ascii_lowercase();
        if !name.ends_with(".csv") {
            return None;
        }
        [
            ("subscribed_", Self::Subscribed),
            ("unsubscribed_", Self::Unsubscribed),
            ("cleaned_", Self::Cleaned),
        ]
        .into_iter()
        .find_map(|(prefix, status)| name.starts_with(prefix).then_some(status))
    }
}

/// One row of the export with a valid address.
#[derive(Debug, Clone)]
pub struct Member {
    pub status: Status,
    pub email: EmailAddress,
    /// The file (its name in the export) and the line the row starts on.
    pub file: String,
    pub line: u64,
    /// Values for the subscriber list, by its column names: `first_name`,
    /// `last_name`, `tags` (`;` between tags), `optin_time`,
    /// `confirm_time` and the audience's own merge fields; empty ones left
    /// out.
    pub fields: Vec<(String, String)>,
    /// For the suppression list: when and why they left, in words.
    pub detail: String,
}

/// What an export holds.
#[derive(Debug, Default)]
pub struct Export {
    /// Every member, file by file (subscribed first), in file order.
    pub members: Vec<Member>,
    /// `file:line: problem` for each row that could not be read.
    pub invalid: Vec<String>,
    /// The files read, by name.
    pub files: Vec<String>,
    /// Other files of the export, not read.
    pub ignored: Vec<String>,
}

/// Why an export cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum MailchimpError {
    #[error("cannot read {}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is not a ZIP file Mailchimp made", path.display())]
    Zip { path: PathBuf, source: zip::result::ZipError },
    #[error(
        "{} holds no subscribed_members_export_….csv, unsubscribed_members_export_….csv or \
         cleaned_members_export_….csv file (it has: {}); give the ZIP file Mailchimp's audience export \
         sends, or the folder it unzips to",
        path.display(),
        if found.is_empty() { "nothing".to_owned() } else { found.join(", ") }
    )]
    NoMembers { path: PathBuf, found: Vec<String> },
    #[error("{file} is larger than {} MB", MAX_FILE >> 20)]
    TooLarge { file: String },
    #[error("{file}: {reason}")]
    NotCsv { file: String, reason: String },
    #[error("{file}:1: no `Email Address` column")]
    NoEmailColumn { file: String },
    #[error("{file}:{line}")]
    Csv { file: String, line: u64, source: csv::Error },
    #[error("{file}:{line}: `{column}`: {reason}; nothing was imported")]
    TooLong { file: String, line: u64, column: String, reason: TooLong },
    #[error(
        "{file}:{line}: `{column}` is {chars} characters long, more than a name or merge field may be \
         ({MAX_VALUE_CHARS}); nothing was imported"
    )]
    ValueTooLong { file: String, line: u64, column: String, chars: usize },
}

/// Mailchimp's own columns that are not carried into the list: ratings,
/// places, its ids, and the columns the file a member is in already says.
const DROPPED: [&str; 23] = [
    "member_rating",
    "optin_ip",
    "confirm_ip",
    "latitude",
    "longitude",
    "gmtoff",
    "dstoff",
    "timezone",
    "cc",
    "region",
    "last_changed",
    "leid",
    "euid",
    "notes",
    "status",
    "unsub_time",
    "unsub_campaign_title",
    "unsub_campaign_id",
    "unsub_reason",
    "unsub_reason_other",
    "clean_time",
    "clean_campaign_title",
    "clean_campaign_id",
];

impl Export {
    /// Reads the export at `path`: a ZIP file or a folder.
    pub fn read(path: &Path) -> Result<Self, MailchimpError> {
        let read_error = |source| MailchimpError::Read { path: path.to_owned(), source };
        let mut export = Self::default();
        if path.is_dir() {
            let mut names: Vec<PathBuf> = fs::read_dir(path)
                .map_err(read_error)?
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()
                .map_err(read_error)?;
            names.sort();
            for file in names {
                let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
                match Status::of_file(&name).filter(|_| file.is_file()) {
                    Some(status) => {
                        export.read_file(status, &name, fs::File::open(&file).map_err(read_error)?)?
                    }
                    None => export.ignored.push(name),
                }
            }
        } else {
            let file = fs::File::open(path).map_err(read_error)?;
            // zip's own I/O error says its cause in its message as well as
            // being caused by it: the cause is kept, to be said once.
            let zip_error = |error| match error {
                zip::result::ZipError::Io(source) => read_error(source),
                source => MailchimpError::Zip { path: path.to_owned(), source },
            };
            let mut archive = zip::ZipArchive::new(file).map_err(zip_error)?;
            for i in 0..archive.len() {
                let entry = archive.by_index(i).map_err(zip_error)?;
                // Only the name is used: nothing is written out.
                let name = entry.name().map_err(zip_error)?;
                let name = name.rsplit('/').next().unwrap_or_default().to_owned();
                match Status::of_file(&name).filter(|_| entry.is_file()) {
                    Some(status) => export.read_file(status, &name, entry)?,
                    None if name.is_empty() => {}
                    None => export.ignored.push(name),
                }
            }
        }
        if export.files.is_empty() {
            return Err(MailchimpError::NoMembers { path: path.to_owned(), found: export.ignored });
        }
        // Subscribed first, then unsubscribed, then cleaned; a file's rows in its order.
        let order = |status: Status, name: &str| (status as u8, name.to_owned());
        export.files.sort_by_key(|name| order(Status::of_file(name).expect("a members' file"), name));
        export.members.sort_by_key(|m| order(m.status, &m.file));
        Ok(export)
    }

    /// Reads the members' file `file` from `bytes`, as they come, decoded
    /// as a list is ([`Decoded`]: UTF-8, UTF-16 or Windows-1252).
    fn read_file(&mut self, status: Status, file: &str, bytes: impl Read) -> Result<(), MailchimpError> {
        let input = LineTracker::new(Decoded::new(bytes.take(MAX_FILE + 1)), b',', LIMITS);
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let not_utf8 =
            || MailchimpError::NotCsv { file: file.to_owned(), reason: "it is not UTF-8 text".into() };
        let header = match reader.byte_headers() {
            Ok(raw) => csv::StringRecord::from_byte_record(raw.clone()).map_err(|_| not_utf8())?,
            Err(source) => return Err(csv_error(file, 1, source, &csv::StringRecord::new())),
        };
        let email_at = header
            .iter()
            .position(is_email_header)
            .ok_or_else(|| MailchimpError::NoEmailColumn { file: file.to_owned() })?;
        let names: Vec<String> = header
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}'))
            .map(|h| FieldName::normalise(h).map_or_else(|| h.trim().to_owned(), |n| n.to_string()))
            .collect();
        let cell = |record: &csv::StringRecord, name: &str| {
            names
                .iter()
                .position(|n| n == name)
                .and_then(|i| record.get(i))
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        let mut raw = csv::ByteRecord::new();
        loop {
            match reader.read_byte_record(&mut raw) {
                Ok(true) => {}
                Ok(false) => break,
                Err(source) => {
                    let line = reader.get_mut().line_at(source.position().map_or(0, csv::Position::byte));
                    return Err(csv_error(file, line, source, &header));
                }
            }
            let line = reader.get_mut().line_at(raw.position().map_or(0, csv::Position::byte));
            let record = csv::StringRecord::from_byte_record(raw.clone()).map_err(|_| not_utf8())?;
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let raw = record.get(email_at).unwrap_or_default().trim();
            let email = match EmailAddress::parse(raw) {
                Ok(email) => email,
                Err(_) if raw.is_empty() => {
                    self.invalid.push(format!("{file}:{line}: no email address"));
                    continue;
                }
                Err(problem) => {
                    self.invalid.push(format!("{file}:{line}: invalid email address {raw:?}: {problem}"));
                    continue;
                }
            };
            let mut fields = Vec::new();
            for (i, name) in names.iter().enumerate() {
                let value = record.get(i).unwrap_or_default().trim();
                if i == email_at || value.is_empty() {
                    continue;
                }
                match name.as_str() {
                    "tags" => fields.push(("tags".to_owned(), tags(value))),
                    n if DROPPED.contains(&n) => {}
                    n if fields.iter().any(|(f, _)| f == n) => {}
                    n => {
                        let chars = value.chars().count();
                        if chars > MAX_VALUE_CHARS {
                            let column = column_name(&header, i);
                            return Err(MailchimpError::ValueTooLong {
                                file: file.to_owned(),
                                line,
                                column,
                                chars,
                            });
                        }
                        fields.push((n.to_owned(), value.to_owned()));
                    }
                }
            }
            let detail = match status {
                Status::Subscribed => String::new(),
                Status::Unsubscribed => describe(
                    "unsubscribed in Mailchimp",
                    &cell(&record, "unsub_time"),
                    &[
                        ("reason", cell(&record, "unsub_reason")),
                        ("in other words", cell(&record, "unsub_reason_other")),
                        ("campaign", cell(&record, "unsub_campaign_title")),
                    ],
                ),
                Status::Cleaned => describe(
                    "cleaned by Mailchimp",
                    &cell(&record, "clean_time"),
                    &[("campaign", cell(&record, "clean_campaign_title"))],
                ),
            };
            self.members.push(Member { status, email, file: file.to_owned(), line, fields, detail });
        }
        if reader.get_ref().get_ref().get_ref().limit() == 0 {
            return Err(MailchimpError::TooLarge { file: file.to_owned() });
        }
        self.files.push(file.to_owned());
        Ok(())
    }

    /// Members in `status`'s file.
    pub fn with(&self, status: Status) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(move |m| m.status == status)
    }
}

/// What `source`, met reading the export's `file` (at `line`, as far as
/// `csv` knows) with columns `header`, means: a field too long is named by
/// its column, at the line the count of lines found.
fn csv_error(file: &str, line: u64, source: csv::Error, header: &csv::StringRecord) -> MailchimpError {
    if let Some(too_long) = TooLong::of_csv(&source) {
        let column = column_name(header, too_long.field);
        return MailchimpError::TooLong {
            file: file.to_owned(),
            line: too_long.line,
            column,
            reason: too_long.clone(),
        };
    }
    MailchimpError::Csv { file: file.to_owned(), line, source }
}

/// Column `i` of `header` as the file names it (`First Name`), or `#3`.
fn column_name(header: &csv::StringRecord, i: usize) -> String {
    match header.get(i).map(|h| h.trim_start_matches('\u{feff}').trim()) {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => format!("#{}", i + 1),
    }
}

/// What adding an export's subscribed members to a list did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Merged {
    /// Whom it added.
    pub joined: Vec<EmailAddress>,
    /// Rows added.
    pub added: usize,
    /// On the list already (or twice in the export), left as they were.
    pub already: usize,
    /// Also in the unsubscribed or cleaned file: not added.
    pub left: usize,
    /// On the suppression list: not added.
    pub suppressed: usize,
}

/// Appends to `table` (a subscriber list's, empty for a new list) a row
/// for each subscribed member of `export` who is not on it already, not in
/// the export's unsubscribed or cleaned files and not `blocked`. A
/// value with no column to go in gets a new column at the end (empty in
/// the rows before); nothing already in the table is changed. `None` when
/// the table has a header without an `email` column.
pub fn merge(table: &mut Table, export: &Export, blocked: &dyn Fn(&EmailAddress) -> bool) -> Option<Merged> {
    if table.header.is_empty() {
        table.header = ["email", "first_name", "last_name"].into_iter().collect();
        table.email_column = Some(0);
    }
    let email_at = table.email_column?;
    let left: HashSet<&EmailKey> =
        export.members.iter().filter(|m| m.status != Status::Subscribed).map(|m| m.email.key()).collect();
    let mut present: HashSet<EmailKey> =
        table.records.iter().filter_map(|r| r.get(email_at)).map(EmailKey::of).collect();
    let width = table.header.len();
    let mut names: Vec<Option<String>> = table
        .header
        .iter()
        .map(|h| FieldName::normalise(h.trim_start_matches('\u{feff}')).map(|n| n.to_string()))
        .collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut merged = Merged::default();
    for member in export.with(Status::Subscribed) {
        let key = member.email.key();
        if left.contains(key) {
            merged.left += 1;
            continue;
        }
        if present.contains(key) {
            merged.already += 1;
            continue;
        }
        if blocked(&member.email) {
            merged.suppressed += 1;
            continue;
        }
        present.insert(key.clone());
        let mut row = vec![String::new(); names.len()];
        row[email_at] = member.email.to_string();
        for (name, value) in &member.fields {
            let at = match super::column_for(names.iter().map(Option::as_deref), name) {
                Some(at) => at,
                None => {
                    names.push(Some(name.clone()));
                    row.push(String::new());
                    names.len() - 1
                }
            };
            // As the sign-up form writes names: a cell a spreadsheet would
            // run as a formula is kept as text (the list reader shows it as typed).
            row[at] = super::inert_in_spreadsheets(value).into_owned();
        }
        rows.push(row);
        merged.joined.push(member.email.clone());
        merged.added += 1;
    }
    for name in names.iter().skip(width) {
        table.header.push_field(name.as_deref().unwrap_or_default());
    }
    let new_width = names.len();
    if new_width > width {
        for record in &mut table.records {
            if record.len() == width {
                for _ in width..new_width {
                    record.push_field("");
                }
            }
        }
    }
    for mut row in rows {
        row.resize(new_width, String::new());
        table.records.push(row.into_iter().collect());
    }
    Some(merged)
}

/// Mailchimp's `TAGS` cell (`"Prayer","News"`) as the list's (`Prayer;News`).
fn tags(cell: &str) -> String {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(cell.as_bytes());
    let mut tags = Vec::new();
    for record in reader.records().flatten() {
        for tag in record.iter() {
            let tag = tag.trim().trim_matches('"').trim().replace(';', ",");
            if !tag.is_empty() {
                tags.push(tag);
            }
        }
    }
    tags.join(";")
}

/// `what at time; reason: …; campaign: …`, leaving out what is empty.
fn describe(what: &str, time: &str, parts: &[(&str, String)]) -> String {
    let mut text = if time.is_empty() { what.to_owned() } else { format!("{what} {time}") };
    for (label, value) in parts.iter().filter(|(_, v)| !v.is_empty()) {
        text.push_str(&format!("; {label}: {value}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_zip_file_is_said_to_be_one_with_zip_s_reason_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audience.zip");
        fs::write(&path, "Email Address\nana@example.org\n").unwrap();
        let error = Export::read(&path).unwrap_err();
        assert!(matches!(error, MailchimpError::Zip { .. }), "{error:?}");
        let said = crate::domain::chain(&error);
        let (what, why) = said.split_once(": ").unwrap();
        assert_eq!(what, format!("{} is not a ZIP file Mailchimp made", path.display()));
        assert!(!why.is_empty() && !what.contains(why), "{said}");
    }

    #[test]
    fn mailchimp_s_tags_become_the_list_s() {
        assert_eq!(tags("\"Prayer\",\"News\""), "Prayer;News");
        assert_eq!(tags("Volunteers"), "Volunteers");
        assert_eq!(tags(""), "");
    }

    #[test]
    fn merging_fills_the_list_s_own_columns_adds_new_ones_at_the_end_and_changes_no_row() {
        let mut export = Export::default();
        let text = "\"Email Address\",\"First Name\",\"Last Name\",Town,TAGS\r\n\
                    ana@example.org,Ana,Silva,Hopeton,\r\n\
                    OLD@example.org,Old,Friend,,\r\n\
                    ana@example.org,Ana,Again,,\r\n";
        export.read_file(Status::Subscribed, "subscribed.csv", text.as_bytes()).unwrap();
        let mut table = Table {
            header: ["Email", "First Name", "Surname"].into_iter().collect(),
            records: vec![
                ["old@example.org", "Old", "Friend"].into_iter().collect(),
                ["broken@example.org"].into_iter().collect(),
            ],
            email_column: Some(0),
        };
        let merged = merge(&mut table, &export, &|_| false).unwrap();
        assert_eq!((merged.added, merged.already, merged.left, merged.suppressed), (1, 2, 0, 0));
        assert_eq!(merged.joined.len(), 1);
        let rows: Vec<Vec<&str>> =
            std::iter::once(&table.header).chain(&table.records).map(|r| r.iter().collect()).collect();
        assert_eq!(
            rows,
            [
                vec!["Email", "First Name", "Surname", "town"],
                vec!["old@example.org", "Old", "Friend", ""],
                vec!["broken@example.org"],
                vec!["ana@example.org", "Ana", "Silva", "Hopeton"],
            ]
        );
        let mut no_email =
            Table { header: ["name"].into_iter().collect(), records: vec![], email_column: None };
        assert!(merge(&mut no_email, &export, &|_| false).is_none());
    }

    #[test]
    fn files_are_known_by_their_first_word() {
        assert_eq!(Status::of_file("subscribed_members_export_1a2b.csv"), Some(Status::Subscribed));
        assert_eq!(
            Status::of_file("unsubscribed_email_audience_export_1a2b.csv"),
            Some(Status::Unsubscribed)
        );
        assert_eq!(Status::of_file("Cleaned_members_export_1a2b.CSV"), Some(Status::Cleaned));
        assert_eq!(Status::of_file("nonsubscribed_members_export_1a2b.csv"), None);
        assert_eq!(Status::of_file("subscribed_members_export_1a2b.txt"), None);
    }

    #[test]
    fn a_row_keeps_names_tags_consent_times_and_merge_fields_but_not_mailchimp_s_own_columns() {
        let mut export = Export::default();
        let text = "\"Email Address\",\"First Name\",\"Last Name\",\"Zip Code\",MEMBER_RATING,OPTIN_TIME,\
                    CONFIRM_TIME,LEID,TAGS\r\n\
                    ana@example.org,Ana,Silva,AB1,2,\"2023-01-02 03:04:05\",,123,\"\"\"A\"\",\"\"B\"\"\"\r\n\
                    nobody,No,One,,,,,,\r\n";
        export.read_file(Status::Subscribed, "subscribed.csv", text.as_bytes()).unwrap();
        assert_eq!(export.invalid, ["subscribed.csv:3: invalid email address \"nobody\": no `@`"]);
        let ana = &export.members[0];
        assert_eq!((ana.email.as_str(), ana.line), ("ana@example.org", 2));
        let fields: Vec<(&str, &str)> = ana.fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        assert_eq!(
            fields,
            [
                ("first_name", "Ana"),
                ("last_name", "Silva"),
                ("zip_code", "AB1"),
                ("optin_time", "2023-01-02 03:04:05"),
                ("tags", "A;B")
            ]
        );
    }
}
