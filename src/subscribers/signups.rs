//! `signups.csv`, beside the subscriber list: the readers who signed up on
//! the website and confirmed, each with their consent record. Only
//! `bulletin serve` adds to it, under the same lock and atomic rewriting as
//! the suppression list ([`SuppressionFile::rewrite`]); the sends read it
//! after the list (the list winning for an address on both), and
//! `bulletin signups merge` moves its rows into the list. The server never
//! writes the list itself, so a spreadsheet saving the list never races a
//! sign-up.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{EmailAddress, EmailKey, SuppressionFile, SuppressionFileError};

/// The file's name, in the subscriber list's folder.
pub const FILE_NAME: &str = "signups.csv";

/// Its columns: the list's own, then the consent record.
pub const HEADER: [&str; 7] =
    ["email", "first_name", "last_name", "tags", "consented_at", "consent_text_hash", "source"];

/// `signups.csv` beside the subscriber list at `list`.
pub fn beside(list: &Path) -> PathBuf {
    list.parent().unwrap_or(Path::new("")).join(FILE_NAME)
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
pub struct SignupsFile(SuppressionFile);

impl SignupsFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(SuppressionFile::new(path))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// Adds `signup` dated `now` unless its address is there already;
    /// whether it was added. Made with its header when missing.
    pub fn add(&self, signup: &Signup, now: SystemTime) -> Result<bool, SuppressionFileError> {
        let at = humantime::format_rfc3339_seconds(now).to_string();
        let key = signup.email.key().clone();
        self.0.rewrite(|table| {
            if table.header.is_empty() {
                table.header = HEADER.iter().copied().collect();
                table.email_column = Some(0);
            }
            let Some(column) = table.email_column else { return (false, false) };
            if table.records.iter().any(|r| r.get(column).is_some_and(|e| EmailKey::of(e) == key)) {
                return (false, false);
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
            (true, true)
        })
    }

    /// Fails now, rather than at the first confirmation, when the file
    /// could not be written.
    pub fn check_writable(&self) -> Result<(), SuppressionFileError> {
        self.0.check_writable()
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
    fn a_name_that_would_run_as_a_formula_is_made_inert() {
        let s =
            Signup::named(EmailAddress::parse("a@example.org").unwrap(), "=cmd() x", vec![], String::new());
        assert_eq!(s.first_name, "'=cmd()");
    }
}
