//! A CSV file that several writers change safely: the consent ledger
//! ([`super::SuppressionFile`]), `signups.csv`, `preferences.csv` and the
//! subscriber list itself.
//!
//! Several writers may meet on the same file (the server answering two
//! clicks at once, an import of bounces, someone typing `bulletin
//! unsubscribe`), so every change holds an exclusive lock on a `.lock` file
//! beside it. Additions are appended and flushed to disk before the call
//! returns; a rewrite writes a new file beside the old one (a `tempfile`
//! temporary file) and renames it over, so a crash leaves either the old
//! file or the new one, never half of one. The file keeps its separator,
//! encoding, byte-order mark, owner and permissions.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::domain::EmailKey;

/// A file held under its lock ([`CsvFile::open_locked`]).
pub(super) struct Locked {
    /// Held until dropped: bind it for as long as the file is used.
    pub(super) lock: File,
    pub(super) file: File,
    /// The file was there before it was opened.
    pub(super) existed: bool,
    pub(super) contents: Contents,
    /// Its bytes as read.
    pub(super) raw: Vec<u8>,
}

/// The columns of a suppression file that `bulletin` creates.
pub(super) const HEADER: [&str; 4] = ["email", "reason", "date", "detail"];

/// A CSV file on disk, for changing it under its lock.
#[derive(Debug, Clone)]
pub struct CsvFile {
    pub(super) path: PathBuf,
}

/// A CSV file could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum CsvFileError {
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}", path.display())]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("{}: the header has no `email` column, so addresses cannot be added to it", path.display())]
    NoEmailColumn { path: PathBuf },
    /// The list cannot be read whole (a quote left open, say): nothing is
    /// added to it or taken from it until it is mended.
    #[error("the suppression list is damaged, and left as it is until it is mended")]
    Damaged(#[source] super::SubscribersError),
}

/// The file's header and the keys of the addresses on it, and how it was
/// written: rows added to it are written the same way.
pub(super) struct Contents {
    pub(super) header: Option<csv::StringRecord>,
    pub(super) records: Vec<csv::StringRecord>,
    /// The line each record starts on.
    pub(super) lines: Vec<u64>,
    pub(super) email_column: Option<usize>,
    pub(super) delimiter: u8,
    pub(super) encoding: super::TextEncoding,
    /// The text ends with a line break (or there is none).
    pub(super) ends_with_newline: bool,
}

impl CsvFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn io(&self, action: &'static str) -> impl FnOnce(io::Error) -> CsvFileError + '_ {
        move |source| CsvFileError::Io { action, path: self.path.clone(), source }
    }

    /// Holds the lock on the list until dropped.
    pub(super) fn lock(&self) -> Result<File, CsvFileError> {
        let mut name = self.path.file_name().unwrap_or_default().to_owned();
        name.push(".lock");
        let lock_path = self.path.with_file_name(name);
        let lock = match OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path) {
            // Made by another user (the unsubscribe server's, say): a lock
            // needs no write access to the file that carries it.
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied && lock_path.exists() => {
                File::open(&lock_path)
            }
            other => other,
        }
        .map_err(self.io("create the lock file for"))?;
        lock.lock().map_err(self.io("lock"))?;
        Ok(lock)
    }

    pub(super) fn read(&self, file: &mut File) -> Result<(Contents, Vec<u8>), CsvFileError> {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(self.io("read"))?;
        // The file as every reader of it sees it, or not at all.
        let table = super::records::Table::read(&self.path, &bytes).map_err(CsvFileError::Damaged)?;
        let email_column = table.header.as_ref().and_then(|h| h.iter().position(super::is_email_header));
        let contents = Contents {
            header: table.header,
            records: table.records,
            lines: table.lines,
            email_column,
            delimiter: table.delimiter,
            encoding: table.encoding,
            ends_with_newline: table.ends_with_newline,
        };
        Ok((contents, bytes))
    }

    pub(super) fn csv(&self, source: csv::Error) -> CsvFileError {
        CsvFileError::Csv { path: self.path.clone(), source }
    }

    /// Writes `header` and `records` to a temporary file in the list's
    /// folder, with the list's own owner, group and permissions (so the
    /// unsubscribe server's user, or a group sharing the list, can still
    /// write it, whoever removed the address; only root can keep another
    /// user as owner), flushes it to disk and renames it over the list. The
    /// temporary file is removed if anything fails.
    ///
    /// The text is written as the list was (`contents`' separator and
    /// encoding, after the byte-order mark `raw` started with), so a list
    /// Excel saved opens in Excel as before; when a new row has letters
    /// Windows-1252 lacks, as UTF-8 with a mark instead, which Excel reads.
    pub(super) fn write_replacement(
        &self,
        header: &csv::StringRecord,
        records: &[&csv::StringRecord],
        (contents, raw): (&Contents, &[u8]),
        original: &fs::Metadata,
    ) -> Result<(), CsvFileError> {
        use std::os::unix::fs::{MetadataExt, fchown};
        let mut out = csv::WriterBuilder::new()
            .flexible(true)
            .delimiter(contents.delimiter)
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        out.write_record(header).map_err(|source| self.csv(source))?;
        for record in records {
            out.write_record(*record).map_err(|source| self.csv(source))?;
        }
        let text = out.into_inner().map_err(|e| self.io("write")(e.into_error()))?;
        let text = String::from_utf8(text).expect("the records are text");
        let (mark, bytes) = super::text::encoded_as(&text, contents.encoding, raw);
        let mut temp = tempfile::NamedTempFile::new_in(folder_of(&self.path))
            .map_err(self.io("create a temporary file beside"))?;
        temp.write_all(mark).and_then(|()| temp.write_all(&bytes)).map_err(self.io("write"))?;
        let written = temp.as_file();
        // Giving the file away takes root, and changing its group takes
        // membership of it; without either the new file is the remover's.
        if fchown(written, Some(original.uid()), Some(original.gid())).is_err() {
            let _ = fchown(written, None, Some(original.gid()));
        }
        written.set_permissions(original.permissions()).map_err(self.io("set the permissions of"))?;
        written.sync_all().map_err(self.io("flush"))?;
        temp.persist(&self.path).map_err(|e| self.io("replace")(e.error))?;
        Ok(())
    }

    /// Fails now, rather than at the first unsubscribe, when the list could
    /// not be changed: its folder or lock file cannot be made, or the list
    /// cannot be opened for writing. Changes nothing on the list.
    pub fn check_writable(&self) -> Result<(), CsvFileError> {
        let _lock = self.lock()?;
        if self.path.exists() {
            OpenOptions::new().append(true).open(&self.path).map_err(self.io("open for writing"))?;
        }
        Ok(())
    }
}

/// A list file's header and rows, to change under its lock
/// ([`CsvFile::rewrite`]). The same locking and atomic rewriting
/// serve every CSV list with an `email` column: the suppression list, and
/// the subscriber lists a Mailchimp import adds to and `forget` erases from.
#[derive(Debug)]
pub struct Table {
    /// Empty for a new file.
    pub header: csv::StringRecord,
    pub records: Vec<csv::StringRecord>,
    /// The `email` column, when the header has one.
    pub email_column: Option<usize>,
}

/// A row that names an address: its line and its cells, by column name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub line: u64,
    pub fields: Vec<(String, String)>,
}

impl CsvFile {
    /// Reads the file under its lock, lets `change` change its table, and
    /// when `change` says so (by returning `true` with its result), writes
    /// the table to a temporary file renamed over the file, flushed to disk
    /// with its folder; a file that did not exist is made. The file's owner,
    /// group and permissions are kept.
    pub fn rewrite<T>(&self, change: impl FnOnce(&mut Table) -> (bool, T)) -> Result<T, CsvFileError> {
        let Locked { lock: _held, file, existed, mut contents, raw } = self.open_locked(false)?;
        let meta = file.metadata().map_err(self.io("read the permissions of"))?;
        let mut table = Table {
            header: contents.header.take().unwrap_or_default(),
            records: std::mem::take(&mut contents.records),
            email_column: contents.email_column,
        };
        let (write, result) = change(&mut table);
        if write {
            let records: Vec<&csv::StringRecord> = table.records.iter().collect();
            self.write_replacement(&table.header, &records, (&contents, &raw), &meta)?;
            sync_dir(&self.path).map_err(self.io("flush the folder of"))?;
        } else if !existed {
            fs::remove_file(&self.path).map_err(self.io("remove"))?;
        }
        Ok(result)
    }

    /// The file under its lock (made when missing), open to read and to
    /// write (at its end, when `append`), with what it holds.
    pub(super) fn open_locked(&self, append: bool) -> Result<Locked, CsvFileError> {
        let lock = self.lock()?;
        let existed = self.path.exists();
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(!append)
            .append(append)
            .open(&self.path)
            .map_err(self.io("open"))?;
        let (contents, raw) = self.read(&mut file)?;
        Ok(Locked { lock, file, existed, contents, raw })
    }

    /// The rows naming `key` (as the address, or its pseudonym), read
    /// without taking the lock and changing nothing; none when the file is
    /// missing or has no `email` column.
    pub fn rows_about(&self, key: &EmailKey) -> Result<Vec<Found>, CsvFileError> {
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io("open")(e)),
        };
        let (contents, _) = self.read(&mut file)?;
        let (Some(header), Some(column)) = (&contents.header, contents.email_column) else {
            return Ok(Vec::new());
        };
        Ok(contents
            .records
            .iter()
            .zip(&contents.lines)
            .filter(|(r, _)| r.get(column).is_some_and(|e| super::pseudonym::names(e, key)))
            .map(|(r, &line)| Found {
                line,
                fields: header.iter().map(str::to_owned).zip(r.iter().map(str::to_owned)).collect(),
            })
            .collect())
    }

    /// Takes every row naming `key` off the file (as [`CsvFile::rewrite`]
    /// does, for any list); returns how many. A missing file, or one with
    /// no `email` column, is left alone.
    pub fn erase(&self, key: &EmailKey) -> Result<usize, CsvFileError> {
        if !self.path.exists() {
            return Ok(0);
        }
        self.rewrite(|table| {
            let Some(column) = table.email_column else { return (false, 0) };
            let before = table.records.len();
            table.records.retain(|r| r.get(column).is_none_or(|e| &EmailKey::of(e) != key));
            let removed = before - table.records.len();
            (removed > 0, removed)
        })
    }
}

/// The folder `path` is in.
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Makes a new or renamed entry in `path`'s folder survive a crash.
pub(super) fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(folder_of(path))?.sync_all()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::time::SystemTime;

    use crate::subscribers::{Added, EmailAddress, Entry, Reason, SuppressionFile, Suppressions};

    pub(in crate::subscribers) fn entry(email: &str, reason: Reason) -> Entry {
        Entry::new(EmailAddress::parse(email).unwrap(), reason)
    }

    pub(in crate::subscribers) fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000)
    }

    #[test]
    fn a_new_file_gets_a_header_and_one_row_per_address() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        let added = file
            .add(
                &[
                    entry("Ana@Example.org", Reason::Unsubscribed),
                    entry("bo@example.org", Reason::HardBounce),
                ],
                now(),
            )
            .unwrap();
        assert_eq!(added.added, ["Ana@Example.org", "bo@example.org"]);
        let text = fs::read_to_string(file.path()).unwrap();
        assert_eq!(
            text,
            "email,reason,date,detail\r\nAna@Example.org,unsubscribed,2026-09-21T14:13:20Z,\r\n\
             bo@example.org,hard-bounce,2026-09-21T14:13:20Z,\r\n"
        );
        let (set, problems) = Suppressions::load(file.path()).unwrap();
        assert!(problems.is_empty());
        assert!(set.contains(&EmailAddress::parse("ana@example.org").unwrap()));
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn a_detail_that_a_spreadsheet_would_run_as_a_formula_is_written_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        let mut forged = entry("ana@example.org", Reason::HardBounce);
        forged.detail = "=HYPERLINK(\"http://evil.example/\",\"5.1.1 user unknown\")".to_owned();
        let mut plain = entry("bo@example.org", Reason::HardBounce);
        plain.detail = "5.1.1 user unknown".to_owned();
        file.add(&[forged, plain], now()).unwrap();
        let text = fs::read_to_string(file.path()).unwrap();
        assert!(
            text.contains("\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"5.1.1 user unknown\"\")\"\r\n"),
            "{text}"
        );
        assert!(text.contains(",5.1.1 user unknown\r\n"), "{text}");
    }

    #[test]
    fn each_reason_has_its_column_name() {
        for (reason, name) in [
            (Reason::Unsubscribed, "unsubscribed"),
            (Reason::Requested, "requested"),
            (Reason::HardBounce, "hard-bounce"),
            (Reason::SoftBounces, "soft-bounces"),
            (Reason::Complaint, "complaint"),
        ] {
            assert_eq!((reason.as_str(), reason.as_ref(), reason.to_string().as_str()), (name, name, name));
        }
    }

    #[test]
    fn adding_nothing_makes_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        assert_eq!(file.add(&[], now()).unwrap(), Added::default());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "no list and no lock file");
    }

    #[test]
    fn an_address_already_listed_in_any_case_is_not_added_again() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        file.add(&[entry("ana@example.org", Reason::Requested)], now()).unwrap();
        let added = file
            .add(
                &[entry("ANA@example.org", Reason::Unsubscribed), entry("cy@example.org", Reason::Requested)],
                now(),
            )
            .unwrap();
        assert_eq!(added.added, ["cy@example.org"]);
        assert_eq!(added.already, ["ANA@example.org"]);
        let added = file
            .add(
                &[entry("cy@example.org", Reason::Requested), entry("CY@example.org", Reason::Requested)],
                now(),
            )
            .unwrap();
        assert!(added.added.is_empty());
        assert_eq!(fs::read_to_string(file.path()).unwrap().lines().count(), 3);
    }

    #[test]
    fn a_hand_made_file_keeps_its_own_columns_and_rows_and_gains_what_and_when_for_the_new_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        fs::write(&path, "name,Email\nOld Friend,old@example.org").unwrap();
        let file = SuppressionFile::new(&path);
        file.add(&[entry("new@example.org", Reason::Requested)], now()).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "name,Email,reason,date\r\nOld Friend,old@example.org,,\r\n,new@example.org,requested,2026-09-21T14:13:20Z\r\n"
        );
        let (set, _) = Suppressions::load(&path).unwrap();
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn a_spreadsheet_export_with_a_byte_order_mark_and_an_email_address_column_is_added_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        fs::write(&path, "\u{feff}Email Address,Reason\r\nold@example.org,asked\r\n").unwrap();
        let file = SuppressionFile::new(&path);
        let added = file
            .add(
                &[entry("OLD@example.org", Reason::Requested), entry("new@example.org", Reason::Requested)],
                now(),
            )
            .unwrap();
        assert_eq!(
            (added.added, added.already),
            (vec!["new@example.org".to_owned()], vec!["OLD@example.org".to_owned()])
        );
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("\u{feff}Email Address,Reason,date\r\n"), "{text}");
        assert!(
            text.ends_with("old@example.org,asked,\r\nnew@example.org,requested,2026-09-21T14:13:20Z\r\n"),
            "{text}"
        );
        assert!(file.resubscribe(&EmailAddress::parse("old@example.org").unwrap(), now()).unwrap());
        let (set, _) = Suppressions::load(&path).unwrap();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn removing_keeps_the_list_s_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        fs::write(&path, "email\na@example.org\nb@example.org\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o660)).unwrap();
        SuppressionFile::new(&path)
            .resubscribe(&EmailAddress::parse("a@example.org").unwrap(), now())
            .unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o660);
        assert!(!dir.path().join("suppressed.csv.new").exists());
    }

    #[test]
    fn resubscribing_into_a_file_without_reason_and_date_columns_adds_them_and_leaves_no_temporary_file_behind()
     {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        fs::write(&path, "email\na@example.org\nb@example.org\n").unwrap();
        let file = SuppressionFile::new(&path);
        assert!(file.resubscribe(&EmailAddress::parse("a@example.org").unwrap(), now()).unwrap());
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["suppressed.csv", "suppressed.csv.lock"]);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "email,reason,date\r\na@example.org,,\r\nb@example.org,,\r\na@example.org,resubscribed,2026-09-21T14:13:20Z\r\n"
        );
        let (set, _) = Suppressions::load(&path).unwrap();
        assert!(set.contains(&EmailAddress::parse("b@example.org").unwrap()));
        assert!(!set.contains(&EmailAddress::parse("a@example.org").unwrap()));
    }

    #[test]
    fn removing_as_root_leaves_the_list_owned_by_the_server_s_user_so_it_can_still_write_it() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        fs::write(&path, "email\na@example.org\nb@example.org\n").unwrap();
        // As root (as in CI), the list is given to another user, as an
        // unsubscribe server running as its own user would own it; as
        // anyone else it stays ours, and must stay so.
        let (uid, gid) = if fs::metadata("/proc/self").unwrap().uid() == 0 {
            std::os::unix::fs::chown(&path, Some(4242), Some(4243)).unwrap();
            (4242, 4243)
        } else {
            let meta = fs::metadata(&path).unwrap();
            (meta.uid(), meta.gid())
        };
        SuppressionFile::new(&path)
            .resubscribe(&EmailAddress::parse("a@example.org").unwrap(), now())
            .unwrap();
        let meta = fs::metadata(&path).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (uid, gid));
    }

    #[test]
    fn checking_that_the_list_is_writable_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let missing = SuppressionFile::new(dir.path().join("suppressed.csv"));
        missing.check_writable().unwrap();
        assert!(!missing.path().exists());
        fs::write(missing.path(), "email\n").unwrap();
        missing.check_writable().unwrap();
        assert_eq!(fs::read_to_string(missing.path()).unwrap(), "email\n");
        let nowhere = SuppressionFile::new(dir.path().join("no-such-folder/suppressed.csv"));
        assert!(nowhere.check_writable().unwrap_err().to_string().contains("no-such-folder"));
    }

    #[test]
    fn a_file_without_an_email_column_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        fs::write(&path, "address\nold@example.org\n").unwrap();
        let err = SuppressionFile::new(&path)
            .add(&[entry("new@example.org", Reason::Requested)], now())
            .unwrap_err();
        assert!(matches!(err, CsvFileError::NoEmailColumn { .. }), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "address\nold@example.org\n");
    }

    #[test]
    fn a_list_with_a_quote_left_open_is_neither_added_to_nor_taken_from() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        let damaged = "email,detail\na@example.org,\"asked\nb@example.org,x\n";
        fs::write(&path, damaged).unwrap();
        let file = SuppressionFile::new(&path);
        let err = file.add(&[entry("new@example.org", Reason::Unsubscribed)], now()).unwrap_err();
        assert!(matches!(err, CsvFileError::Damaged(_)), "{err}");
        let said = crate::domain::chain(&err);
        assert!(said.contains("suppressed.csv:2: a quoted field opens on this line"), "{said}");
        let err = file.resubscribe(&EmailAddress::parse("b@example.org").unwrap(), now()).unwrap_err();
        assert!(matches!(err, CsvFileError::Damaged(_)), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), damaged);
    }

    #[test]
    fn a_list_a_reader_would_refuse_for_a_field_too_long_is_refused_here_too_naming_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        let damaged = format!(
            "email,reason,date,detail\na@example.org,requested,,ok\nb@example.org,requested,,{}\n",
            "x".repeat(200 << 10)
        );
        fs::write(&path, &damaged).unwrap();
        let err = SuppressionFile::new(&path)
            .add(&[entry("new@example.org", Reason::Unsubscribed)], now())
            .unwrap_err();
        assert!(matches!(err, CsvFileError::Damaged(_)), "{err}");
        let said = crate::domain::chain(&err);
        assert!(said.contains("suppressed.csv:3") && said.contains("detail"), "{said}");
        assert_eq!(fs::read_to_string(&path).unwrap(), damaged);
    }

    #[test]
    fn rows_added_to_a_list_saved_by_excel_follow_its_separator_and_encoding() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        fs::write(&path, b"email;reason;date;detail\r\nold@example.org;asked;;Ren\xe9e\r\n").unwrap();
        let mut bounced = entry("new@example.org", Reason::HardBounce);
        bounced.detail = "bo\u{ee}te pleine".to_owned();
        SuppressionFile::new(&path).add(&[bounced], now()).unwrap();
        assert_eq!(
            fs::read(&path).unwrap(),
            b"email;reason;date;detail\r\nold@example.org;asked;;Ren\xe9e\r\n\
              new@example.org;hard-bounce;2026-09-21T14:13:20Z;bo\xeete pleine\r\n"
        );
        let (set, problems) = Suppressions::load(&path).unwrap();
        assert_eq!((set.len(), problems.len()), (2, 0));
    }

    #[test]
    fn a_list_rewritten_keeps_the_encoding_and_byte_order_mark_excel_saved_it_with() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.csv");
        // Windows-1252, as Excel's "CSV" saves it.
        fs::write(&path, b"email;name\r\nana@example.org;Ana\r\njose@example.org;Jos\xe9\r\n").unwrap();
        CsvFile::new(&path).erase(&EmailKey::of("ana@example.org")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"email;name\r\njose@example.org;Jos\xe9\r\n");
        // UTF-8 with a byte-order mark, as Excel's "CSV UTF-8" saves it.
        fs::write(&path, "\u{feff}email,name\r\nana@example.org,Ana\r\nzoe@example.org,Zoë\r\n").unwrap();
        CsvFile::new(&path).erase(&EmailKey::of("ana@example.org")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "\u{feff}email,name\r\nzoe@example.org,Zoë\r\n");
        // UTF-16, as Excel's "Unicode text" saves it.
        let utf16 = |text: &str| -> Vec<u8> {
            [0xff, 0xfe].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect()
        };
        fs::write(&path, utf16("email\tname\r\nana@example.org\tAna\r\nzoe@example.org\tZoë\r\n")).unwrap();
        CsvFile::new(&path).erase(&EmailKey::of("ana@example.org")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), utf16("email\tname\r\nzoe@example.org\tZoë\r\n"));
        // A new row Windows-1252 has no letters for: UTF-8 with a mark, which
        // Excel reads, rather than a name turned into question marks.
        fs::write(&path, b"email;name\r\njose@example.org;Jos\xe9\r\n").unwrap();
        CsvFile::new(&path)
            .rewrite(|table| {
                table.records.push(csv::StringRecord::from(vec!["lukasz@example.org", "Łukasz"]));
                (true, ())
            })
            .unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "\u{feff}email;name\r\njose@example.org;José\r\nlukasz@example.org;Łukasz\r\n"
        );
    }

    #[test]
    fn resubscribing_lifts_every_row_of_that_address_by_a_later_row_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        fs::write(&path, "email,reason\nana@example.org,a\nbo@example.org,b\nANA@example.org,c\n").unwrap();
        let file = SuppressionFile::new(&path);
        assert!(file.resubscribe(&EmailAddress::parse("Ana@example.org").unwrap(), now()).unwrap());
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(
                "email,reason,date\r\nana@example.org,a,\r\nbo@example.org,b,\r\nANA@example.org,c,\r\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("\r\nAna@example.org,resubscribed,2026-09-21T14:13:20Z\r\n"), "{text}");
        let (set, _) = Suppressions::load(&path).unwrap();
        assert_eq!((set.len(), set.contains(&EmailAddress::parse("bo@example.org").unwrap())), (1, true));
        assert!(!file.resubscribe(&EmailAddress::parse("ana@example.org").unwrap(), now()).unwrap());
        assert!(
            !SuppressionFile::new(dir.path().join("none.csv"))
                .resubscribe(&EmailAddress::parse("a@b.org").unwrap(), now())
                .unwrap()
        );
    }

    #[test]
    fn a_forgotten_address_added_again_is_already_there_and_its_address_is_not_written_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        fs::write(&path, "email,reason,date,detail\nana@example.org,requested,,\n").unwrap();
        let file = SuppressionFile::new(&path);
        file.forget(&EmailKey::of("ana@example.org"), now()).unwrap();
        let forgotten = fs::read_to_string(&path).unwrap();
        // An old export naming her, a late bounce, an old unsubscribe link.
        let added = file.add(&[entry("Ana@Example.org", Reason::Unsubscribed)], now()).unwrap();
        assert_eq!((added.added.len(), added.already.len()), (0, 1));
        assert_eq!(fs::read_to_string(&path).unwrap(), forgotten, "the file still does not say who she was");
    }

    #[test]
    fn forgetting_leaves_one_pseudonym_that_still_suppresses_the_address_in_any_case() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        fs::write(
            &path,
            "email,reason,date,detail\nAna@Example.org,requested,,asked\nbo@example.org,requested,,\n",
        )
        .unwrap();
        let file = SuppressionFile::new(&path);
        let ana = EmailKey::of("ana@example.org");
        let first = file.forget(&ana, now()).unwrap();
        assert_eq!(first.removed, 1);
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.to_lowercase().contains("ana"), "{text}");
        assert!(
            text.ends_with(&format!("{},forgotten,2026-09-21T14:13:20Z,\r\n", first.pseudonym)),
            "{text}"
        );
        let (set, problems) = Suppressions::load(&path).unwrap();
        assert!(problems.is_empty(), "a pseudonym is not a bad row: {problems:?}");
        assert!(set.contains(&EmailAddress::parse("ANA@example.org").unwrap()));
        assert!(!set.contains(&EmailAddress::parse("cy@example.org").unwrap()));
        assert_eq!(set.len(), 2);

        let again = file.forget(&ana, now()).unwrap();
        assert_eq!((again.removed, &again.pseudonym), (0, &first.pseudonym));
        assert_eq!(fs::read_to_string(&path).unwrap(), text, "nothing changes the second time");
        let bo = file.forget(&EmailKey::of("bo@example.org"), now()).unwrap();
        let salt = |p: &str| p.split(':').nth(1).unwrap().to_owned();
        assert_eq!(salt(&bo.pseudonym), salt(&first.pseudonym), "one salt per file");
        assert_eq!(
            CsvFile::new(file.path()).rows_about(&EmailKey::of("Bo@example.org")).unwrap()[0].fields[0],
            ("email".to_owned(), bo.pseudonym.clone())
        );
    }

    #[test]
    fn a_forgotten_address_whose_owner_asks_to_be_mailed_again_is_taken_off_by_resubscribe() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        file.forget(&EmailKey::of("ana@example.org"), now()).unwrap();
        assert!(file.resubscribe(&EmailAddress::parse("Ana@example.org").unwrap(), now()).unwrap());
        let (set, _) = Suppressions::load(file.path()).unwrap();
        assert!(set.is_empty());
    }

    #[test]
    fn erasing_from_a_list_takes_every_row_of_the_address_and_keeps_the_rest_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("volunteers.csv");
        fs::write(
            &path,
            "name,Email Address\r\nAna,ana@example.org\r\nBo,bo@example.org\r\nAna 2,ANA@example.org\r\n",
        )
        .unwrap();
        let file = SuppressionFile::new(&path);
        let found = CsvFile::new(file.path()).rows_about(&EmailKey::of("ana@example.org")).unwrap();
        assert_eq!(found.iter().map(|f| f.line).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(CsvFile::new(file.path()).erase(&EmailKey::of("ana@example.org")).unwrap(), 2);
        assert_eq!(fs::read_to_string(&path).unwrap(), "name,Email Address\r\nBo,bo@example.org\r\n");
        assert_eq!(CsvFile::new(file.path()).erase(&EmailKey::of("ana@example.org")).unwrap(), 0);
        assert_eq!(CsvFile::new(dir.path().join("none.csv")).erase(&EmailKey::of("a@b.org")).unwrap(), 0);
        assert!(!dir.path().join("none.csv").exists());
    }

    #[test]
    fn each_row_is_found_on_the_line_it_starts_on_whatever_the_line_ends_and_quoted_line_breaks() {
        for text in [
            "email,note\na@example.org,x\n\nb@example.org,\"two\nlines\"\nc@example.org,y\n",
            "email,note\r\na@example.org,x\r\n\r\nb@example.org,\"two\r\nlines\"\r\nc@example.org,y\r\n",
        ] {
            let table = super::super::records::Table::read(Path::new("list.csv"), text.as_bytes()).unwrap();
            assert_eq!(table.header.unwrap().len(), 2);
            assert_eq!(table.lines, [2, 4, 6], "{text:?}");
            assert_eq!(
                table.records[1].get(1),
                Some(if text.contains('\r') { "two\r\nlines" } else { "two\nlines" })
            );
            assert!(table.ends_with_newline);
        }
    }

    #[test]
    fn concurrent_writers_lose_and_duplicate_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        std::thread::scope(|scope| {
            for t in 0..8 {
                let file = file.clone();
                scope.spawn(move || {
                    for i in 0..25 {
                        // Every thread also adds a shared address.
                        let mine = entry(&format!("t{t}-{i}@example.org"), Reason::Unsubscribed);
                        let shared = entry(&format!("shared{i}@example.org"), Reason::Unsubscribed);
                        file.add(&[mine, shared], now()).unwrap();
                        if i % 5 == 0 {
                            file.resubscribe(
                                &EmailAddress::parse(&format!("nobody{t}@example.org")).unwrap(),
                                now(),
                            )
                            .unwrap();
                        }
                    }
                });
            }
        });
        let text = fs::read_to_string(file.path()).unwrap();
        let rows: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
        let unique: std::collections::HashSet<_> = rows.iter().collect();
        assert_eq!(rows.len(), 8 * 25 + 25);
        assert_eq!(unique.len(), rows.len());
    }

    #[test]
    fn removing_under_concurrent_additions_loses_no_addition() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        file.add(&[entry("gone@example.org", Reason::Requested)], now()).unwrap();
        std::thread::scope(|scope| {
            let adder = file.clone();
            scope.spawn(move || {
                for i in 0..50 {
                    adder.add(&[entry(&format!("a{i}@example.org"), Reason::Unsubscribed)], now()).unwrap();
                }
            });
            let remover = file.clone();
            scope.spawn(move || {
                for i in 0..50 {
                    let address =
                        if i == 0 { "gone@example.org".to_owned() } else { format!("x{i}@example.org") };
                    remover.resubscribe(&EmailAddress::parse(&address).unwrap(), now()).unwrap();
                }
            });
        });
        let (set, _) = Suppressions::load(file.path()).unwrap();
        assert_eq!(set.len(), 50);
        assert!(!set.contains(&EmailAddress::parse("gone@example.org").unwrap()));
    }
}
