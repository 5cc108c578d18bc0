//! `signups.csv`, beside the subscriber list: the readers who signed up on
//! the website and confirmed, each with their consent record. Only
//! `bulletin serve` adds to it, under the same lock and atomic rewriting as
//! the suppression list ([`CsvFile::rewrite`]); the sends read it
//! after the list (the list winning for an address on both), and
//! `bulletin signups merge` moves its rows into the list. The server never
//! writes the list itself, so a spreadsheet saving the list never races a
//! sign-up.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{CsvFile, CsvFileError, EmailAddress, EmailKey};

/// The file's name, in the subscriber list's folder.
pub const FILE_NAME: &str = "signups.csv";

/// Its columns: the list's own, then the consent record.
pub const HEADER: [&str; 7] =
    ["email", "first_name", "last_name", "tags", "consented_at", "consent_text_hash", "source"];

/// `signups.csv` beside the subscriber list at `list`.
pub fn beside(list: &Path) -> PathBuf {
    list.parent().unwrap_or(Path::new("")).join(FILE_NAME)
}

/// How many confirmed sign-ups wait in `signups.csv` beside the list at
/// `list` (none without the file).
pub fn waiting(list: &Path) -> Result<u64, super::SubscribersError> {
    let path = beside(list);
    if !path.exists() || path == list {
        return Ok(0);
    }
    let mut rows = 0;
    super::SubscriberReader::each_row(&path, |_, _, _| rows += 1)?;
    Ok(rows)
}

/// One confirmed sign-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signup {
    pub email: EmailAddress,
    pub first_name: String,
    pub last_name: String,
    /// Lower case, as the list's `tags` column reads them.
    pub tags: Vec<String>,
    /// The SHA-256 (lower-case hex) of the consent sentence the form showed.
    pub consent_text_hash: String,
    /// Where the sign-up came from: `signup-form`.
    pub source: String,
}

impl Signup {
    /// `name` split at its first space into first and last name.
    pub fn named(email: EmailAddress, name: &str, tags: Vec<String>, consent_text_hash: String) -> Self {
        let name = name.trim();
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        Self {
            email,
            first_name: super::inert_in_spreadsheets(first.trim()).into_owned(),
            last_name: super::inert_in_spreadsheets(last.trim()).into_owned(),
            tags,
            consent_text_hash,
            source: "signup-form".to_owned(),
        }
    }
}

/// The sign-ups file.
#[derive(Debug, Clone)]
pub struct SignupsFile(CsvFile);

impl SignupsFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(CsvFile::new(path))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// Adds `signup` dated `now` unless its address is there already;
    /// whether it was added. Made with its header when missing.
    pub fn add(&self, signup: &Signup, now: SystemTime) -> Result<bool, CsvFileError> {
        let at = humantime::format_rfc3339_seconds(now).to_string();
        let key = signup.email.key().clone();
        let path = self.path().to_owned();
        self.0.rewrite(|table| {
            if table.header.is_empty() {
                table.header = HEADER.iter().copied().collect();
                table.email_column = Some(0);
            }
            // A file edited to lose its `email` column: an error, never a
            // sign-up dropped while the reader is told it was kept.
            let Some(column) = table.email_column else {
                return (false, Err(CsvFileError::NoEmailColumn { path }));
            };
            if table.records.iter().any(|r| r.get(column).is_some_and(|e| EmailKey::of(e) == key)) {
                return (false, Ok(false));
            }
            let tags = signup.tags.join(";");
            let row: csv::StringRecord = table
                .header
                .iter()
                .map(|name| match name.trim().to_ascii_lowercase().as_str() {
                    "email" => signup.email.as_str(),
                    "first_name" => &signup.first_name,
                    "last_name" => &signup.last_name,
                    "tags" => &tags,
                    "consented_at" => &at,
                    "consent_text_hash" => &signup.consent_text_hash,
                    "source" => &signup.source,
                    _ => "",
                })
                .collect();
            table.records.push(row);
            (true, Ok(true))
        })?
    }

    /// Fails now, rather than at the first confirmation, when the file
    /// could not be written.
    pub fn check_writable(&self) -> Result<(), CsvFileError> {
        self.0.check_writable()
    }
}

/// What [`SignupsFile::merge_into`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Merged {
    /// The addresses added to the list.
    pub joined: Vec<EmailAddress>,
    /// Sign-ups added to the list.
    pub moved: usize,
    /// Sign-ups whose address the list had already (taken off the file too).
    pub already: usize,
}

impl SignupsFile {
    /// Moves every sign-up into the subscriber list at `list`, adding the
    /// consent columns the list lacks (empty on its own rows), and takes
    /// them off this file. Each file is changed under its own lock and
    /// replaced atomically; this file's lock is held throughout, so a
    /// confirmation arriving meanwhile waits and stays for the next merge.
    pub fn merge_into(&self, list: &Path) -> Result<Merged, CsvFileError> {
        self.0.rewrite(|signups| {
            if signups.header.is_empty() {
                return (false, Ok(Merged::default()));
            }
            let Some(their_email) = signups.email_column else {
                let path = self.path().to_owned();
                return (false, Err(CsvFileError::NoEmailColumn { path }));
            };
            if signups.records.is_empty() {
                return (false, Ok(Merged::default()));
            }
            let merged = CsvFile::new(list).rewrite(|table| {
                if table.header.is_empty() {
                    table.header = signups.header.clone();
                    table.email_column = Some(their_email);
                }
                let Some(email) = table.email_column else {
                    return (false, Err(CsvFileError::NoEmailColumn { path: list.to_owned() }));
                };
                // Normalised as the list reader does (a name no merge field can
                // be, in lower case); `FirstName` and `Surname` take the names.
                let normalise = |n: &str| {
                    let n = n.trim_start_matches('\u{feff}');
                    crate::merge::FieldName::normalise(n)
                        .map_or_else(|| n.trim().to_ascii_lowercase(), |n| n.to_string())
                };
                let mut to_list = Vec::new();
                for (i, name) in signups.header.iter().enumerate() {
                    let names: Vec<String> = table.header.iter().map(normalise).collect();
                    let at = if i == their_email {
                        email
                    } else if let Some(at) =
                        super::column_for(names.iter().map(|n| Some(n.as_str())), &normalise(name))
                    {
                        at
                    } else {
                        table.header.push_field(name);
                        table.header.len() - 1
                    };
                    to_list.push(at);
                }
                let width = table.header.len();
                let mut present: std::collections::HashSet<EmailKey> =
                    table.records.iter().filter_map(|r| r.get(email)).map(EmailKey::of).collect();
                let mut done = Merged::default();
                for record in &signups.records {
                    let Some(address) = record.get(their_email) else { continue };
                    if !present.insert(EmailKey::of(address)) {
                        done.already += 1;
                        continue;
                    }
                    let mut row = vec![String::new(); width];
                    for (value, &at) in record.iter().zip(&to_list) {
                        row[at] = value.to_owned();
                    }
                    table.records.push(row.into_iter().collect());
                    done.joined.extend(EmailAddress::parse(address).ok());
                    done.moved += 1;
                }
                for record in &mut table.records {
                    while record.len() < width {
                        record.push_field("");
                    }
                }
                (true, Ok(done))
            });
            match merged {
                Ok(Ok(done)) => {
                    signups.records.clear();
                    (true, Ok(done))
                }
                Ok(Err(e)) | Err(e) => (false, Err(e)),
            }
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signup(email: &str) -> Signup {
        Signup::named(EmailAddress::parse(email).unwrap(), "Ana de Silva", vec!["prayer".into()], "ab".into())
    }

    #[test]
    fn a_signup_is_written_once_with_its_header_and_consent_record() {
        let dir = tempfile::tempdir().unwrap();
        let file = SignupsFile::new(dir.path().join(FILE_NAME));
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_760_000_000);
        assert!(file.add(&signup("Ana@example.org"), now).unwrap());
        assert!(!file.add(&signup("ana@EXAMPLE.org"), now).unwrap());
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert_eq!(
            text,
            "email,first_name,last_name,tags,consented_at,consent_text_hash,source\r\n\
             Ana@example.org,Ana,de Silva,prayer,2025-10-09T08:53:20Z,ab,signup-form\r\n"
        );
    }

    #[test]
    fn a_signups_file_that_lost_its_email_column_is_an_error_and_nothing_is_dropped_quietly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "who,first_name\nbo@example.org,Bo\n").unwrap();
        let file = SignupsFile::new(&path);
        let err = file.add(&signup("ana@example.org"), SystemTime::UNIX_EPOCH).unwrap_err();
        assert!(matches!(err, CsvFileError::NoEmailColumn { .. }), "{err}");
        let list = dir.path().join("list.csv");
        std::fs::write(&list, "email\ncy@example.org\n").unwrap();
        assert!(matches!(file.merge_into(&list), Err(CsvFileError::NoEmailColumn { .. })));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "who,first_name\nbo@example.org,Bo\n");
        // No file yet: nothing to merge, and no error.
        let none = SignupsFile::new(dir.path().join("none.csv"));
        assert_eq!(none.merge_into(&list).unwrap(), Merged::default());
    }

    #[test]
    fn merging_moves_each_sign_up_into_the_list_once_with_its_consent_columns_and_empties_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.csv");
        std::fs::write(&list, "email,first_name\nana@example.org,Ana\nbo@example.org,Bo\n").unwrap();
        let file = SignupsFile::new(beside(&list));
        let now = SystemTime::UNIX_EPOCH;
        file.add(&signup("ANA@example.org"), now).unwrap();
        file.add(&signup("cy@example.org"), now).unwrap();
        let merged = file.merge_into(&list).unwrap();
        assert_eq!((merged.moved, merged.already, merged.joined.len()), (1, 1, 1));
        assert_eq!(
            std::fs::read_to_string(&list).unwrap(),
            "email,first_name,last_name,tags,consented_at,consent_text_hash,source\r\n\
             ana@example.org,Ana,,,,,\r\n\
             bo@example.org,Bo,,,,,\r\n\
             cy@example.org,Ana,de Silva,prayer,1970-01-01T00:00:00Z,ab,signup-form\r\n"
        );
        assert_eq!(std::fs::read_to_string(file.path()).unwrap(), format!("{}\r\n", HEADER.join(",")));
        assert_eq!(file.merge_into(&list).unwrap(), Merged::default());
    }

    #[test]
    fn merging_into_a_list_that_spells_its_name_columns_its_own_way_fills_them_and_adds_no_name_columns() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.csv");
        std::fs::write(&list, "Email,FirstName,Surname\nbo@example.org,Bo,Ray\n").unwrap();
        let file = SignupsFile::new(beside(&list));
        file.add(&signup("cy@example.org"), SystemTime::UNIX_EPOCH).unwrap();
        let merged = file.merge_into(&list).unwrap();
        assert_eq!((merged.moved, merged.already, merged.joined.len()), (1, 0, 1));
        assert_eq!(
            std::fs::read_to_string(&list).unwrap(),
            "Email,FirstName,Surname,tags,consented_at,consent_text_hash,source\r\n\
             bo@example.org,Bo,Ray,,,,\r\n\
             cy@example.org,Ana,de Silva,prayer,1970-01-01T00:00:00Z,ab,signup-form\r\n"
        );
    }

    #[test]
    fn sign_ups_read_with_a_list_that_spells_its_name_columns_its_own_way_fill_them() {
        use crate::merge::FieldName;
        use crate::subscribers::{Audience, Row, SubscriberReader};
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.csv");
        std::fs::write(&list, "Email,FirstName,Surname\nbo@example.org,Bo,Ray\n").unwrap();
        SignupsFile::new(beside(&list)).add(&signup("cy@example.org"), SystemTime::UNIX_EPOCH).unwrap();
        let reader = SubscriberReader::with_signups(&list, Audience::default()).unwrap();
        let columns = reader.columns().clone();
        let names: Vec<&str> = columns.field_names().map(FieldName::as_str).collect();
        assert_eq!(
            names,
            ["email", "firstname", "surname", "tags", "consented_at", "consent_text_hash", "source"]
        );
        let rows: Vec<Row> = reader.map(Result::unwrap).collect();
        let Row::Subscribed(cy) = &rows[1] else { panic!("{rows:?}") };
        let first_name = columns.index_of(&FieldName::normalise("FirstName").unwrap()).unwrap();
        assert_eq!((cy.value(first_name), cy.display_name()), ("Ana", Some("Ana de Silva")));
    }

    #[test]
    fn a_name_that_would_run_as_a_formula_is_made_inert() {
        let s =
            Signup::named(EmailAddress::parse("a@example.org").unwrap(), "=cmd() x", vec![], String::new());
        assert_eq!(s.first_name, "'=cmd()");
    }
}
