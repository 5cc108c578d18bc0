//! The bounce ledger: every bounce and complaint imported from the bounce
//! mailbox, kept in SQLite beside the journal (`bounces.sqlite3` in the
//! state directory).
//!
//! Each report is keyed by the message it is about (the original's
//! `Message-ID`, else the report's own, else a digest of its bytes) and the
//! address, so importing the same mailbox twice, or two reports about the
//! same message, counts once. Together with the journal it tells how many
//! soft bounces an address had in a row (see [`super::streak`]).

use crate::domain::EmailKey;
use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use super::Class;

/// The ledger file inside the state directory.
pub const FILE_NAME: &str = "bounces.sqlite3";

/// What a report says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Delivery failed.
    Bounce(Class),
    /// The reader marked the message as spam.
    Complaint,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bounce(class) => class.as_str(),
            Self::Complaint => "complaint",
        }
    }

    /// The inverse of [`Kind::as_str`]. Text that names no kind (a ledger
    /// written by another version, or edited by hand) reads as an unknown
    /// bounce, which is listed but never suppresses anyone.
    fn parse(text: &str) -> Self {
        match text.parse::<Class>() {
            Ok(class) => Self::Bounce(class),
            Err(_) if text == "complaint" => Self::Complaint,
            Err(_) => Self::Bounce(Class::Unknown),
        }
    }

    fn report(self) -> &'static str {
        match self {
            Self::Bounce(_) => "bounce",
            Self::Complaint => "complaint",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One imported report about one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What makes two reports the same: `message:<original Message-ID>`,
    /// `notice:<report's Message-ID>` or `sha256:<digest of the report>`.
    pub key: String,
    /// The address, as the report or the journal gives it.
    pub address: String,
    /// The address's comparison key.
    pub email_key: EmailKey,
    pub kind: Kind,
    /// A few words on why (see [`super::Cause::describe`]).
    pub why: String,
    /// The enhanced status code, or empty.
    pub status: String,
    /// The server's words.
    pub detail: String,
    /// The campaign the original message belongs to, when known.
    pub campaign: Option<String>,
    /// The original message's `Message-ID`, without angle brackets, when
    /// known.
    pub message_id: Option<String>,
    /// When the original message was sent, as near as is known (the
    /// journal's time, else the original's or the report's `Date`), RFC
    /// 3339 UTC: places the report among the messages sent to the address.
    pub sent_at: String,
    /// Where it was imported from.
    pub source: String,
    /// When it was imported, RFC 3339 UTC.
    pub imported_at: String,
}

/// The ledger could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("bounce ledger {}", path.display())]
pub struct LedgerError {
    path: PathBuf,
    source: LedgerFault,
}

#[derive(Debug, thiserror::Error)]
enum LedgerFault {
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
    #[error(transparent)]
    Open(crate::journal::sqlite::OpenError),
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS reports (
    key TEXT NOT NULL,
    email_key TEXT NOT NULL,
    report TEXT NOT NULL CHECK (report IN ('bounce', 'complaint')),
    address TEXT NOT NULL,
    kind TEXT NOT NULL,
    why TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    campaign TEXT,
    message_id TEXT,
    sent_at TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    imported_at TEXT NOT NULL,
    PRIMARY KEY (key, email_key, report)
);
CREATE INDEX IF NOT EXISTS reports_by_email ON reports (email_key);
CREATE INDEX IF NOT EXISTS reports_by_campaign ON reports (campaign);
PRAGMA user_version = 1;
";

/// The imported reports.
pub struct Ledger {
    path: PathBuf,
    conn: Connection,
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).finish()
    }
}

impl Ledger {
    /// Opens (creating if needed) the ledger in `state_dir`.
    pub fn open(state_dir: &Path) -> Result<Self, LedgerError> {
        let path = state_dir.join(FILE_NAME);
        let conn = crate::journal::sqlite::open(state_dir, FILE_NAME, SCHEMA)
            .map_err(|e| LedgerError { path: path.clone(), source: LedgerFault::Open(e) })?;
        Ok(Self { path, conn })
    }

    /// Opens the ledger only if `state_dir` has one.
    pub fn open_existing(state_dir: &Path) -> Result<Option<Self>, LedgerError> {
        if state_dir.join(FILE_NAME).exists() { Self::open(state_dir).map(Some) } else { Ok(None) }
    }

    /// An empty ledger that lives in memory only (for a dry run before
    /// the first import).
    pub fn in_memory() -> Result<Self, LedgerError> {
        let path = PathBuf::from(":memory:");
        let fail = |source: rusqlite::Error| LedgerError { path: path.clone(), source: source.into() };
        let conn = Connection::open_in_memory().map_err(fail)?;
        conn.execute_batch(SCHEMA).map_err(fail)?;
        Ok(Self { path, conn })
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&self, source: rusqlite::Error) -> LedgerError {
        LedgerError { path: self.path.clone(), source: source.into() }
    }

    /// Starts a transaction: nothing recorded from now on is seen by
    /// others until [`Ledger::commit`], and [`Ledger::rollback`] forgets it.
    pub fn begin(&self) -> Result<(), LedgerError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| self.fail(e))
    }

    pub fn commit(&self) -> Result<(), LedgerError> {
        self.conn.execute_batch("COMMIT").map_err(|e| self.fail(e))
    }

    pub fn rollback(&self) -> Result<(), LedgerError> {
        self.conn.execute_batch("ROLLBACK").map_err(|e| self.fail(e))
    }

    /// Records `entry`; false if the same report about the same address
    /// was recorded before (and it is left as it was).
    pub fn record(&self, entry: &Entry) -> Result<bool, LedgerError> {
        self.conn
            .prepare_cached(
                "INSERT INTO reports (key, email_key, report, address, kind, why, status, detail, campaign,
                                      message_id, sent_at, source, imported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (key, email_key, report) DO NOTHING",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    entry.key,
                    entry.email_key.as_str(),
                    entry.kind.report(),
                    entry.address,
                    entry.kind.as_str(),
                    entry.why,
                    entry.status,
                    entry.detail,
                    entry.campaign,
                    entry.message_id,
                    entry.sent_at,
                    entry.source,
                    entry.imported_at,
                ])
            })
            .map(|inserted| inserted == 1)
            .map_err(|e| self.fail(e))
    }

    fn select(&self, condition: &str, value: &str) -> Result<Vec<Entry>, LedgerError> {
        let sql = format!(
            "SELECT key, address, email_key, kind, why, status, detail, campaign, message_id, sent_at, source,
                    imported_at
             FROM reports WHERE {condition} = ?1 ORDER BY sent_at, rowid"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.fail(e))?;
        stmt.query_map(params![value], |row| {
            Ok(Entry {
                key: row.get(0)?,
                address: row.get(1)?,
                email_key: EmailKey::stored(row.get(2)?),
                kind: Kind::parse(&row.get::<_, String>(3)?),
                why: row.get(4)?,
                status: row.get(5)?,
                detail: row.get(6)?,
                campaign: row.get(7)?,
                message_id: row.get(8)?,
                sent_at: row.get(9)?,
                source: row.get(10)?,
                imported_at: row.get(11)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.fail(e))
    }

    /// Every report about messages of `campaign`.
    pub fn for_campaign(&self, campaign: &str) -> Result<Vec<Entry>, LedgerError> {
        self.select("campaign", campaign)
    }

    /// Every report about the address whose key is `key`.
    pub fn for_address(&self, key: &EmailKey) -> Result<Vec<Entry>, LedgerError> {
        self.select("email_key", key.as_str())
    }

    /// Deletes every report about the address whose key is `key` (or that
    /// names it as the address reported), overwriting their bytes,
    /// rebuilding the file and emptying the write-ahead log into it (see
    /// [`crate::journal::erasure`]): `bulletin forget`. Returns how many,
    /// and whether another process kept the log from being emptied.
    pub fn erase(&self, key: &EmailKey) -> Result<(u64, bool), LedgerError> {
        let fail = |e| self.fail(e);
        self.conn.pragma_update(None, "secure_delete", true).map_err(fail)?;
        let deleted = self
            .conn
            .execute("DELETE FROM reports WHERE email_key = ?1 OR lower(address) = ?1", params![key.as_str()])
            .map_err(fail)?;
        let busy = crate::journal::erasure::empty_log(&self.conn).map_err(fail)?;
        Ok((deleted as u64, busy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn entry(key: &str, address: &str, kind: Kind, sent_at: &str) -> Entry {
        Entry {
            key: key.into(),
            address: address.into(),
            email_key: EmailKey::of(address),
            kind,
            why: String::new(),
            status: String::new(),
            detail: String::new(),
            campaign: Some("2025-10-16-prayer".into()),
            message_id: None,
            sent_at: sent_at.into(),
            source: "test".into(),
            imported_at: "2025-10-20T00:00:00Z".into(),
        }
    }

    #[test]
    fn the_same_report_about_the_same_address_is_recorded_once() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        let hard = entry("message:1@x", "Ana@example.org", Kind::Bounce(Class::Hard), "2025-10-16T00:00:00Z");
        assert!(ledger.record(&hard).unwrap());
        assert!(!ledger.record(&hard).unwrap());
        let complaint = Entry { kind: Kind::Complaint, ..hard.clone() };
        assert!(ledger.record(&complaint).unwrap(), "a complaint about the same message is another report");
        let reopened = Ledger::open_existing(dir.path()).unwrap().unwrap();
        let found = reopened.for_address(&EmailKey::of("ana@example.org")).unwrap();
        assert_eq!(found, [hard, complaint]);
        assert_eq!(reopened.for_campaign("2025-10-16-prayer").unwrap().len(), 2);
    }

    #[test]
    fn a_rolled_back_import_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        ledger.begin().unwrap();
        ledger.record(&entry("message:1@x", "a@example.org", Kind::Bounce(Class::Soft), "t")).unwrap();
        assert_eq!(ledger.for_address(&EmailKey::of("a@example.org")).unwrap().len(), 1);
        ledger.rollback().unwrap();
        assert!(ledger.for_address(&EmailKey::of("a@example.org")).unwrap().is_empty());
        assert!(Ledger::open_existing(&dir.path().join("none")).unwrap().is_none());
        let memory = Ledger::in_memory().unwrap();
        assert!(memory.record(&entry("k", "a@example.org", Kind::Complaint, "t")).unwrap());
    }
}
