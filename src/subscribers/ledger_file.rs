//! The consent ledger on disk and its writes: every change to whether an
//! address may be mailed decided and appended under the file's one lock
//! ([`SuppressionFile`]), by the rule ([`consent::standing`]) over the
//! events read back ([`super::ledger`]).

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use super::consent::{self, Standing};
use super::csv_file::{Contents, CsvFile, HEADER, Locked, sync_dir};
use super::ledger::{Identity, Ledger, ledger_of_rows, read_ledger};
use super::{CsvFileError, EmailAddress, Reason, inert_in_spreadsheets};
use crate::domain::EmailKey;

/// The consent ledger on disk (`suppressed.csv`): a [`CsvFile`] that only
/// the ledger's own writes below change, each deciding and appending
/// under the file's lock; `forget` alone rewrites it, because it must
/// erase.
#[derive(Debug, Clone)]
pub struct SuppressionFile(CsvFile);

impl SuppressionFile {
    pub fn new(path: impl Into<std::path::PathBuf>) -> Self {
        Self(CsvFile::new(path))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// Fails now, rather than at the first unsubscribe, when the ledger
    /// could not be written; changes nothing.
    pub fn check_writable(&self) -> Result<(), CsvFileError> {
        self.0.check_writable()
    }
}

/// What an addition did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Added {
    /// Addresses written to the file.
    pub added: Vec<String>,
    /// Addresses that were on it already, untouched.
    pub already: Vec<String>,
}

/// What a confirmation did ([`SuppressionFile::confirm`]), with what
/// `then` returned when it ran.
#[derive(Debug, PartialEq, Eq)]
pub enum Confirmation<T> {
    /// The address was not blocked: nothing to lift.
    Free(T),
    /// The block was lifted by a `confirmed` row.
    Lifted(consent::Block, T),
    /// A block the confirmation cannot lift: an opt-out made after its
    /// link, an erasure, a complaint, a bounce. Nothing was written.
    Overtaken(consent::Block),
}

/// One address to add, and why.
#[derive(Debug, Clone)]
pub struct Entry {
    pub email: EmailAddress,
    pub reason: Reason,
    /// Anything worth keeping with it: the relay's reply for a bounce, say.
    /// Empty when there is nothing to add.
    pub detail: String,
}

impl Entry {
    pub fn new(email: EmailAddress, reason: Reason) -> Self {
        Self { email, reason, detail: String::new() }
    }
}

/// What [`SuppressionFile::forget`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forgotten {
    /// Rows naming the address that were taken off.
    pub removed: usize,
    /// What stands for the address now.
    pub pseudonym: String,
}

/// How people were put on a list ([`SuppressionFile::join`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joining {
    /// Subscribed members of a Mailchimp export.
    Imported,
    /// Confirmed sign-ups, by `bulletin signups merge`.
    Merged,
}

impl Joining {
    fn reason(self) -> &'static str {
        match self {
            Self::Imported => consent::IMPORTED,
            Self::Merged => consent::MERGED,
        }
    }
}

/// A row [`SuppressionFile::append`] writes.
struct NewRow {
    email: String,
    reason: &'static str,
    date: String,
    issued: Option<String>,
    /// For a pause: when it ends.
    until: Option<String>,
    detail: String,
}

impl NewRow {
    /// A row about `identity` (written as `address`, or as its pseudonym),
    /// with no `issued`, `until` or `detail`.
    fn new(identity: &Identity, address: &EmailAddress, reason: &'static str, date: &str) -> Self {
        Self {
            email: identity.cell(address.as_str()),
            reason,
            date: date.to_owned(),
            issued: None,
            until: None,
            detail: String::new(),
        }
    }
}

/// The ledger `contents` hold.
fn ledger_of(contents: &Contents) -> Ledger {
    match &contents.header {
        Some(header) => ledger_of_rows(header, contents.email_column, &contents.records),
        None => Ledger::default(),
    }
}

impl SuppressionFile {
    /// Records each entry's opt-out, creating the file (with a header) if
    /// there is none. Returns once the new lines are on disk.
    ///
    /// An entry whose address may be mailed now is written and counted as
    /// added. One already blocked is counted as already there, and is
    /// written all the same while a sign-up's confirmation link is out
    /// ([`consent::opt_out_counts`]): its date is what makes that link
    /// count for nothing, so an unsubscribe that races a confirmation is
    /// never lost. An erased address is written under its pseudonym, never
    /// by name.
    pub fn add(&self, entries: &[Entry], now: SystemTime) -> Result<Added, CsvFileError> {
        // Nothing to add: no file, lock file or header is made.
        if entries.is_empty() {
            return Ok(Added::default());
        }
        let date = humantime::format_rfc3339_seconds(now).to_string();
        self.append(|ledger| {
            let mut rows = Vec::new();
            let mut added = Added::default();
            for entry in entries {
                let identity = ledger.identity_of(entry.email.key());
                let events = ledger.events(&identity);
                let standing = consent::standing(events);
                let again = consent::opt_out_counts(events);
                if standing.is_blocked() {
                    added.already.push(entry.email.to_string());
                } else {
                    added.added.push(entry.email.to_string());
                }
                if !again {
                    continue;
                }
                let event = consent::Event {
                    kind: consent::Kind::of(entry.reason.as_str()),
                    at: Some(now),
                    issued: None,
                    until: None,
                };
                ledger.push_for(&identity, event);
                let detail = if identity.is_pseudonym() {
                    String::new()
                } else {
                    inert_in_spreadsheets(&entry.detail).into_owned()
                };
                rows.push(NewRow {
                    detail,
                    ..NewRow::new(&identity, &entry.email, entry.reason.as_str(), &date)
                });
            }
            (rows, added)
        })
    }

    /// Records a confirmed sign-up of `email`, whose link was issued at
    /// `issued`, under the list's lock: a `confirmed` row when the address
    /// may be mailed or the confirmation lifts its block
    /// ([`super::consent`]); nothing when it does not. `then` runs under
    /// the same lock unless the confirmation was overtaken (writing the
    /// sign-up, say), so no opt-out can fall between the decision and what
    /// it decided.
    pub fn confirm<T>(
        &self,
        email: &EmailAddress,
        issued: Option<SystemTime>,
        now: SystemTime,
        then: impl FnOnce() -> T,
    ) -> Result<Confirmation<T>, CsvFileError> {
        let date = humantime::format_rfc3339_seconds(now).to_string();
        let confirmed = |identity: &Identity| NewRow {
            issued: issued.map(|t| humantime::format_rfc3339_seconds(t).to_string()),
            detail: "sign-up page".to_owned(),
            ..NewRow::new(identity, email, consent::CONFIRMED, &date)
        };
        self.append(|ledger| {
            let identity = ledger.identity_of(email.key());
            let events = ledger.events(&identity);
            match consent::standing(events) {
                // Taken back since an erasure: a link made before it still
                // may write nothing about them.
                Standing::Free if consent::erased_since(events, issued) => {
                    let block = consent::Block { reason: Reason::Forgotten.as_str().to_owned(), since: None };
                    (Vec::new(), Confirmation::Overtaken(block))
                }
                // The same link pressed again is one confirmation.
                Standing::Free if consent::confirmed_by(events, issued) => {
                    (Vec::new(), Confirmation::Free(then()))
                }
                Standing::Free => (vec![confirmed(&identity)], Confirmation::Free(then())),
                Standing::Blocked(block) if block.lifted_by_confirmation(issued) => {
                    (vec![confirmed(&identity)], Confirmation::Lifted(block, then()))
                }
                Standing::Blocked(block) => (Vec::new(), Confirmation::Overtaken(block)),
            }
        })
    }

    /// Records that a confirmation link issued at `now` goes to `email`: a
    /// `signed-up` row, so that an opt-out made while the link is out is
    /// written down ([`consent::opt_out_counts`]). Returns whether a
    /// confirmation email may go at all ([`Standing::may_confirm_at`]; no
    /// row when it may not): decided and written under the lock, before
    /// the link exists.
    pub fn signed_up(&self, email: &EmailAddress, now: SystemTime) -> Result<bool, CsvFileError> {
        let date = humantime::format_rfc3339_seconds(now).to_string();
        self.append(|ledger| {
            let identity = ledger.identity_of(email.key());
            if !consent::standing(ledger.events(&identity)).may_confirm_at(now) {
                return (Vec::new(), false);
            }
            let row = NewRow {
                detail: "sign-up page".to_owned(),
                ..NewRow::new(&identity, email, consent::SIGNED_UP, &date)
            };
            (vec![row], true)
        })
    }

    /// Puts people on a list under the ledger's lock: `then` is given
    /// whom the ledger blocks now, adds whom it will, and returns them with
    /// its result; each gets a row saying how they joined (`imported`,
    /// `merged`) with `detail`. Their standing is not changed: someone
    /// blocked stays blocked, whatever list they are on.
    pub fn join<T>(
        &self,
        how: Joining,
        detail: &str,
        now: SystemTime,
        then: impl FnOnce(&dyn Fn(&EmailAddress) -> bool) -> (Vec<EmailAddress>, T),
    ) -> Result<T, CsvFileError> {
        let date = humantime::format_rfc3339_seconds(now).to_string();
        let detail = inert_in_spreadsheets(detail).into_owned();
        self.append(|ledger| {
            let (joined, result) = then(&|email: &EmailAddress| ledger.standing_of(email.key()).is_blocked());
            let rows = joined
                .iter()
                .map(|email| {
                    let identity = ledger.identity_of(email.key());
                    let detail = if identity.is_pseudonym() { String::new() } else { detail.clone() };
                    NewRow { detail, ..NewRow::new(&identity, email, how.reason(), &date) }
                })
                .collect();
            (rows, result)
        })
    }

    /// Staff's lift (`bulletin resubscribe`): a `resubscribed` row when
    /// `email` is blocked (under its pseudonym when it was erased); whether
    /// it was.
    pub fn resubscribe(&self, email: &EmailAddress, now: SystemTime) -> Result<bool, CsvFileError> {
        if !self.0.path.exists() {
            return Ok(false);
        }
        let date = humantime::format_rfc3339_seconds(now).to_string();
        self.append(|ledger| {
            let identity = ledger.identity_of(email.key());
            if !consent::standing(ledger.events(&identity)).is_blocked() {
                return (Vec::new(), false);
            }
            (vec![NewRow::new(&identity, email, consent::RESUBSCRIBED, &date)], true)
        })
    }

    /// Runs `then` (a change of `email`'s interests, by a link issued at
    /// `issued`) under the list's lock and, when it succeeds, records an
    /// `interests` row whose detail is `interests`; unless `email` was
    /// erased at or after `issued`: then nothing runs and nothing is
    /// written (`None`), so an old link never writes the address back.
    pub fn change_interests<T, E>(
        &self,
        email: &EmailAddress,
        issued: Option<SystemTime>,
        interests: &[String],
        now: SystemTime,
        then: impl FnOnce() -> Result<T, E>,
    ) -> Result<Option<Result<T, E>>, CsvFileError> {
        let date = humantime::format_rfc3339_seconds(now).to_string();
        self.append(|ledger| {
            let identity = ledger.identity_of(email.key());
            if consent::erased_since(ledger.events(&identity), issued) {
                return (Vec::new(), None);
            }
            let changed = then();
            let rows = match &changed {
                Ok(_) => vec![NewRow {
                    detail: inert_in_spreadsheets(&interests.join(" ")).into_owned(),
                    ..NewRow::new(&identity, email, consent::INTERESTS, &date)
                }],
                Err(_) => Vec::new(),
            };
            (rows, Some(changed))
        })
    }

    /// Pauses `email`'s emails until `until` (the preference page, by a
    /// link issued at `issued`): a `paused` row, unless they were erased at
    /// or after the link was made (then nothing, and `false`).
    pub fn pause(
        &self,
        email: &EmailAddress,
        issued: Option<SystemTime>,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<bool, CsvFileError> {
        let date = humantime::format_rfc3339_seconds(now).to_string();
        self.append(|ledger| {
            let identity = ledger.identity_of(email.key());
            if consent::erased_since(ledger.events(&identity), issued) {
                return (Vec::new(), false);
            }
            let row = NewRow {
                until: Some(humantime::format_rfc3339_seconds(until).to_string()),
                ..NewRow::new(&identity, email, consent::PAUSED, &date)
            };
            (vec![row], true)
        })
    }

    /// Whether `email` may be mailed now, read without the lock.
    pub fn standing_of(&self, email: &EmailAddress) -> Result<Standing, CsvFileError> {
        if !self.0.path.exists() {
            return Ok(Standing::Free);
        }
        let (ledger, _, _) = read_ledger(&self.0.path).map_err(CsvFileError::Damaged)?;
        Ok(ledger.standing_of(email.key()))
    }

    /// Replaces every row naming `key` with one row holding its pseudonym
    /// (reason `forgotten`), under the salt of the file's other pseudonyms
    /// or a new one; see [`super::pseudonym`]. A file with no `email`
    /// column is refused.
    pub fn forget(&self, key: &EmailKey, now: SystemTime) -> Result<Forgotten, CsvFileError> {
        use super::pseudonym;
        self.0.rewrite(|table| {
            if table.header.is_empty() {
                table.header = HEADER.iter().copied().collect();
                table.email_column = Some(0);
            }
            let Some(column) = table.email_column else {
                return (false, Err(CsvFileError::NoEmailColumn { path: self.0.path.clone() }));
            };
            let cell = |r: &csv::StringRecord| r.get(column).unwrap_or_default().to_owned();
            let salt = table
                .records
                .iter()
                .find_map(|r| pseudonym::parse(&cell(r)))
                .map_or_else(pseudonym::Salt::random, |(salt, _)| salt);
            let before = table.records.len();
            table.records.retain(|r| &EmailKey::of(&cell(r)) != key);
            let removed = before - table.records.len();
            let already = table.records.iter().map(cell).find(|c| pseudonym::names(c, key));
            let name = already.clone().unwrap_or_else(|| salt.pseudonym(key));
            // Erased already, and not taken back since: nothing to add.
            // After a `resubscribe`, a second erasure is a row of its own.
            let ledger = ledger_of_rows(&table.header, Some(column), &table.records);
            let erased = matches!(ledger.standing_of(key), Standing::Blocked(block) if block.is_erasure());
            for name in ["reason", "date"] {
                if !table.header.iter().any(|h| h.trim().eq_ignore_ascii_case(name)) {
                    table.header.push_field(name);
                    let width = table.header.len();
                    for record in &mut table.records {
                        while record.len() < width {
                            record.push_field("");
                        }
                    }
                }
            }
            let add = already.is_none() || !erased;
            if add {
                let date = humantime::format_rfc3339_seconds(now).to_string();
                let row: csv::StringRecord = table
                    .header
                    .iter()
                    .enumerate()
                    .map(|(i, column_name)| match column_name.trim().to_ascii_lowercase().as_str() {
                        _ if i == column => name.as_str(),
                        "reason" => Reason::Forgotten.as_str(),
                        "date" => &date,
                        _ => "",
                    })
                    .collect();
                table.records.push(row);
            }
            (removed > 0 || add, Ok(Forgotten { removed, pseudonym: name }))
        })?
    }

    /// Reads the ledger under the lock, lets `decide` say which rows to
    /// add (it may file events of its own as it goes), and appends them,
    /// flushed to disk before returning. A file missing a column a new row
    /// needs (`reason`, `date`, `issued`, `until`) is
    /// first given it, every row kept, by an atomic rewrite; a new file is
    /// made with its header only when there are rows to write.
    fn append<T>(&self, decide: impl FnOnce(&mut Ledger) -> (Vec<NewRow>, T)) -> Result<T, CsvFileError> {
        let Locked { lock: _held, mut file, existed, contents, raw: bytes } = self.0.open_locked(true)?;
        let mut ledger = ledger_of(&contents);
        let (rows, result) = decide(&mut ledger);
        if rows.is_empty() {
            if !existed {
                drop(file);
                fs::remove_file(&self.0.path).map_err(self.0.io("remove"))?;
            }
            return Ok(result);
        }
        let mut header = contents.header.clone().unwrap_or_else(|| HEADER.iter().copied().collect());
        let email_column = match (&contents.header, contents.email_column) {
            (None, _) => 0,
            (Some(_), Some(column)) => column,
            (Some(_), None) => return Err(CsvFileError::NoEmailColumn { path: self.0.path.clone() }),
        };
        let position = |header: &csv::StringRecord, name: &str| {
            header.iter().position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        // Every event says what it is and when: an opt-out's date is what
        // a later confirmation is weighed against (rule 4).
        let needed = ["reason", "date"].into_iter();
        let mut missing = false;
        let issued = rows.iter().any(|r| r.issued.is_some()).then_some("issued");
        let until = rows.iter().any(|r| r.until.is_some()).then_some("until");
        for name in needed.chain(issued).chain(until) {
            if position(&header, name).is_none() {
                header.push_field(name);
                missing = true;
            }
        }
        let new_rows: Vec<csv::StringRecord> = rows
            .iter()
            .map(|row| {
                header
                    .iter()
                    .enumerate()
                    .map(|(i, column)| match column.trim().to_ascii_lowercase().as_str() {
                        _ if i == email_column => row.email.as_str(),
                        "reason" => row.reason,
                        "date" => &row.date,
                        "issued" => row.issued.as_deref().unwrap_or_default(),
                        "until" => row.until.as_deref().unwrap_or_default(),
                        "detail" => &row.detail,
                        _ => "",
                    })
                    .collect()
            })
            .collect();
        if missing && contents.header.is_some() {
            let meta = file.metadata().map_err(self.0.io("read the permissions of"))?;
            let width = header.len();
            let padded: Vec<csv::StringRecord> = contents
                .records
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    while r.len() < width {
                        r.push_field("");
                    }
                    r
                })
                .collect();
            let all: Vec<&csv::StringRecord> = padded.iter().chain(&new_rows).collect();
            self.0.write_replacement(&header, &all, (&contents, &bytes), &meta)?;
            sync_dir(&self.0.path).map_err(self.0.io("flush the folder of"))?;
            return Ok(result);
        }
        let mut out = csv::WriterBuilder::new()
            .flexible(true)
            .delimiter(contents.delimiter)
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        if contents.header.is_none() {
            out.write_record(&header).map_err(|source| self.0.csv(source))?;
        }
        for row in &new_rows {
            out.write_record(row).map_err(|source| self.0.csv(source))?;
        }
        let mut new = out.into_inner().map_err(|e| self.0.io("write")(e.into_error()))?;
        if !contents.ends_with_newline {
            new.splice(0..0, *b"\r\n");
        }
        // Written as the file was: UTF-8 stays as it is.
        let new = contents.encoding.encode(&String::from_utf8_lossy(&new));
        file.write_all(&new).map_err(self.0.io("write to"))?;
        file.sync_all().map_err(self.0.io("flush"))?;
        if bytes.is_empty() {
            sync_dir(&self.0.path).map_err(self.0.io("flush the folder of"))?;
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::subscribers::Suppressions;
    use crate::subscribers::csv_file::tests::{entry, now};

    fn later(secs: u64) -> SystemTime {
        now() + std::time::Duration::from_secs(secs)
    }

    fn address(text: &str) -> EmailAddress {
        EmailAddress::parse(text).unwrap()
    }

    fn blocked(file: &SuppressionFile, text: &str) -> bool {
        Suppressions::load(file.path()).unwrap().0.contains(&address(text))
    }

    #[test]
    fn a_ledger_its_first_writer_has_made_but_not_yet_written_holds_no_events_for_a_reader_without_the_lock()
    {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        // What a reader without the lock can meet while the first writer,
        // holding it, has opened the new file and not yet written its header.
        fs::write(&path, "").unwrap();
        let file = SuppressionFile::new(&path);
        assert_eq!(file.standing_of(&address("ana@example.org")).unwrap(), consent::Standing::Free);
        assert!(!blocked(&file, "ana@example.org"));
        assert!(file.signed_up(&address("ana@example.org"), now()).unwrap());
    }

    #[test]
    fn a_confirmation_lifts_an_earlier_unsubscribe_with_a_row_and_only_when_its_link_is_newer() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        file.add(&[entry("ana@example.org", Reason::Unsubscribed)], now()).unwrap();
        let old_link = file.confirm(&address("ana@example.org"), Some(now()), later(5), || ()).unwrap();
        assert!(matches!(old_link, Confirmation::Overtaken(_)), "{old_link:?}");
        assert!(blocked(&file, "ana@example.org"));
        let new_link = file.confirm(&address("ana@example.org"), Some(later(1)), later(5), || 7).unwrap();
        assert!(matches!(new_link, Confirmation::Lifted(_, 7)), "{new_link:?}");
        assert!(!blocked(&file, "ana@example.org"));
        let text = fs::read_to_string(file.path()).unwrap();
        assert!(
            text.ends_with(
                "ana@example.org,confirmed,2026-09-21T14:13:25Z,sign-up page,2026-09-21T14:13:21Z\r\n"
            ),
            "a lift is a later row, with when its link was issued: {text}"
        );
        assert!(
            text.contains("ana@example.org,unsubscribed,2026-09-21T14:13:20Z"),
            "nothing is taken off: {text}"
        );
        // Free now: the same link again changes nothing and says so.
        let again = file.confirm(&address("ana@example.org"), Some(later(1)), later(6), || ()).unwrap();
        assert_eq!(again, Confirmation::Free(()));
        assert_eq!(fs::read_to_string(file.path()).unwrap(), text);
    }

    #[test]
    fn an_unsubscribe_after_a_new_sign_up_is_recorded_so_the_sign_up_s_old_link_cannot_undo_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        file.add(&[entry("ana@example.org", Reason::Unsubscribed)], now()).unwrap();
        // Signed up again at +10; unsubscribed at +20, before confirming.
        assert!(file.signed_up(&address("ana@example.org"), later(10)).unwrap());
        let added = file.add(&[entry("ana@example.org", Reason::Unsubscribed)], later(20)).unwrap();
        assert_eq!(added.already, ["ana@example.org"], "still counted as already there");
        let confirmed = file.confirm(&address("ana@example.org"), Some(later(10)), later(30), || ()).unwrap();
        assert!(matches!(confirmed, Confirmation::Overtaken(_)), "{confirmed:?}");
        assert!(blocked(&file, "ana@example.org"));
    }

    #[test]
    fn an_unsubscribe_of_an_address_already_blocked_with_no_link_out_is_not_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        file.add(&[entry("ana@example.org", Reason::Unsubscribed)], now()).unwrap();
        let before = fs::read_to_string(file.path()).unwrap();
        let added = file.add(&[entry("ana@example.org", Reason::Unsubscribed)], later(60)).unwrap();
        assert_eq!(added.already, ["ana@example.org"]);
        assert_eq!(fs::read_to_string(file.path()).unwrap(), before);
        // No sign-up row for an address that may be mailed, nor one that
        // a confirmation could not bring back.
        assert!(file.signed_up(&address("new@example.org"), later(61)).unwrap());
        file.add(&[entry("spam@example.org", Reason::Complaint)], now()).unwrap();
        let before = fs::read_to_string(file.path()).unwrap();
        assert!(!file.signed_up(&address("spam@example.org"), later(62)).unwrap());
        assert_eq!(fs::read_to_string(file.path()).unwrap(), before);
    }

    #[test]
    fn a_complaint_a_bounce_or_an_erasure_is_not_lifted_by_any_confirmation_but_by_resubscribe() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        file.add(
            &[entry("c@example.org", Reason::Complaint), entry("h@example.org", Reason::HardBounce)],
            now(),
        )
        .unwrap();
        file.forget(&EmailKey::of("f@example.org"), now()).unwrap();
        for who in ["c@example.org", "h@example.org", "f@example.org"] {
            let confirmed = file.confirm(&address(who), Some(later(10)), later(20), || ()).unwrap();
            assert!(matches!(confirmed, Confirmation::Overtaken(_)), "{who}: {confirmed:?}");
            assert!(!file.standing_of(&address(who)).unwrap().may_confirm_at(later(30)), "{who}");
            assert!(file.resubscribe(&address(who), later(40)).unwrap(), "{who}");
            assert!(!blocked(&file, who), "{who}");
        }
        let text = fs::read_to_string(file.path()).unwrap();
        assert!(!text.contains("f@example.org"), "an erased address is lifted under its pseudonym: {text}");
    }

    #[test]
    fn after_an_erasure_a_link_issued_before_it_may_write_nothing_and_one_issued_after_may() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        file.forget(&EmailKey::of("ana@example.org"), later(10)).unwrap();
        let ana = address("ana@example.org");
        let tags = ["prayer".to_owned()];
        let change = |who: &EmailAddress, issued| {
            file.change_interests(who, issued, &tags, later(12), || Ok::<_, ()>("written")).unwrap()
        };
        assert_eq!(change(&ana, Some(now())), None);
        assert_eq!(change(&ana, None), None, "a link of the earlier layout");
        assert_eq!(change(&ana, Some(later(11))), Some(Ok("written")));
        assert_eq!(change(&address("bo@example.org"), None), Some(Ok("written")));
        let text = fs::read_to_string(file.path()).unwrap();
        assert!(!text.contains("ana@example.org"), "written under the pseudonym: {text}");
        assert!(text.contains("bo@example.org,interests,"), "{text}");
        let failed =
            file.change_interests(&address("cy@example.org"), None, &tags, later(12), || Err::<(), _>(()));
        assert_eq!(failed.unwrap(), Some(Err(())));
        assert!(
            !fs::read_to_string(file.path()).unwrap().contains("cy@"),
            "a change that failed is not a row"
        );
    }

    #[test]
    fn an_unsubscribe_racing_a_confirmation_is_never_lost_in_either_order() {
        for trial in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
            file.add(&[entry("ana@example.org", Reason::Unsubscribed)], now()).unwrap();
            // Signed up again at +10 (the link); confirm and one-click
            // unsubscribe at +20, on two threads.
            assert!(file.signed_up(&address("ana@example.org"), later(10)).unwrap());
            std::thread::scope(|scope| {
                let confirming = file.clone();
                scope.spawn(move || {
                    confirming
                        .confirm(&address("ana@example.org"), Some(later(10)), later(20), || ())
                        .unwrap();
                });
                let leaving = file.clone();
                scope.spawn(move || {
                    leaving.add(&[entry("ana@example.org", Reason::Unsubscribed)], later(20)).unwrap();
                });
            });
            assert!(blocked(&file, "ana@example.org"), "trial {trial}: the unsubscribe was lost");
        }
    }

    #[test]
    fn an_erasure_after_a_resubscribe_blocks_again_and_a_link_made_before_it_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        let gus = address("gus@example.org");
        file.forget(gus.key(), now()).unwrap();
        assert!(file.resubscribe(&gus, later(10)).unwrap());
        assert!(!blocked(&file, "gus@example.org"));
        // A link made before the first erasure, used while they are back.
        let early =
            file.confirm(&gus, Some(now() - std::time::Duration::from_secs(5)), later(15), || ()).unwrap();
        assert!(matches!(early, Confirmation::Overtaken(_)), "{early:?}");
        file.forget(gus.key(), later(20)).unwrap();
        assert!(blocked(&file, "gus@example.org"), "the second erasure is a row of its own");
        let text = fs::read_to_string(file.path()).unwrap();
        assert_eq!(text.matches("forgotten,").count(), 2, "{text}");
        assert!(!text.contains("gus@"), "{text}");
        let replayed = file.confirm(&gus, Some(later(12)), later(25), || ()).unwrap();
        assert!(matches!(replayed, Confirmation::Overtaken(_)), "{replayed:?}");
    }

    #[test]
    fn a_pause_is_a_row_with_its_end_that_the_readers_see_and_an_old_link_after_an_erasure_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        let ana = address("ana@example.org");
        assert!(file.pause(&ana, Some(now()), later(600), later(1)).unwrap());
        let text = fs::read_to_string(file.path()).unwrap();
        assert_eq!(
            text,
            "email,reason,date,detail,until\r\nana@example.org,paused,2026-09-21T14:13:21Z,,2026-09-21T14:23:20Z\r\n"
        );
        let (set, _) = Suppressions::load(file.path()).unwrap();
        assert!(!set.contains(&ana), "a pause blocks nothing for good");
        assert_eq!(set.paused_until(ana.key()), Some(later(600)));
        file.forget(ana.key(), later(2)).unwrap();
        let forgotten = fs::read_to_string(file.path()).unwrap();
        assert!(!file.pause(&ana, Some(now()), later(900), later(3)).unwrap());
        assert_eq!(fs::read_to_string(file.path()).unwrap(), forgotten, "nothing names her again");
    }

    #[test]
    fn a_sign_up_of_anyone_is_a_row_before_its_link_goes_and_none_where_no_link_may_go() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        file.add(&[entry("spam@example.org", Reason::Complaint)], now()).unwrap();
        assert!(file.signed_up(&address("new@example.org"), later(1)).unwrap());
        assert!(!file.signed_up(&address("spam@example.org"), later(1)).unwrap());
        let text = fs::read_to_string(file.path()).unwrap();
        assert!(text.contains("new@example.org,signed-up,2026-09-21T14:13:21Z,sign-up page"), "{text}");
        assert!(!text.contains("spam@example.org,signed-up"), "{text}");
        assert!(!blocked(&file, "new@example.org"));
    }

    #[test]
    fn a_join_sees_every_opt_out_written_before_it_and_records_whom_it_added() {
        let dir = tempfile::tempdir().unwrap();
        let file = SuppressionFile::new(dir.path().join("suppressed.csv"));
        file.add(&[entry("kim@example.org", Reason::Requested)], now()).unwrap();
        let offered = [address("kim@example.org"), address("lee@example.org")];
        let added = file
            .join(Joining::Imported, "=export.zip", later(1), |blocked| {
                let added: Vec<EmailAddress> = offered.iter().filter(|a| !blocked(a)).cloned().collect();
                (added.clone(), added.len())
            })
            .unwrap();
        assert_eq!(added, 1);
        let text = fs::read_to_string(file.path()).unwrap();
        assert!(text.ends_with("lee@example.org,imported,2026-09-21T14:13:21Z,'=export.zip\r\n"), "{text}");
        assert!(blocked(&file, "kim@example.org"), "a join lifts nothing");
    }
}
