//! The journal: what happened to whom, for each campaign, kept in SQLite
//! (write-ahead log, every commit synced) under the state directory, so a
//! run killed at any instant can be resumed without sending anyone the same
//! issue twice.
//!
//! A recipient with no row is pending. `sending` is written, and committed,
//! before a message is handed to the relay; `sent` or `failed` after the
//! relay answers. A `sending` row found when a run starts is *uncertain*: the
//! relay may or may not have taken the message.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rusqlite::{Connection, OptionalExtension, params};

use crate::content::CampaignId;

/// The journal file inside the state directory.
pub const FILE_NAME: &str = "journal.sqlite3";

/// What is known of one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Handed to the relay (or about to be) with no answer recorded.
    Sending,
    /// Accepted by the relay.
    Sent,
    /// Refused for good, or out of attempts.
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            _ => Self::Sending,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recipient's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The address as written in the list.
    pub address: String,
    pub message_id: String,
    pub state: State,
    pub attempts: u32,
    /// The relay's last answer (its queue id for a sent message, the
    /// refusal for a failed one).
    pub reply: String,
    /// When the row last changed, RFC 3339 UTC.
    pub updated_at: String,
}

/// The campaign's counts and times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub sent: u64,
    pub failed: u64,
    /// Rows left `sending` by a run that stopped without an answer.
    pub sending: u64,
    pub first_started_at: Option<String>,
    pub last_started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// The journal could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("journal {}: {source}", path.display())]
pub struct JournalError {
    path: PathBuf,
    source: JournalFault,
}

#[derive(Debug, thiserror::Error)]
enum JournalFault {
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// One campaign's view of the journal.
pub struct Journal {
    path: PathBuf,
    conn: Connection,
    campaign: String,
    clock: fn() -> SystemTime,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).field("campaign", &self.campaign).finish()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS campaigns (
    id TEXT PRIMARY KEY,
    bulletin TEXT NOT NULL,
    subject TEXT NOT NULL,
    first_started_at TEXT,
    last_started_at TEXT,
    finished_at TEXT
);
CREATE TABLE IF NOT EXISTS recipients (
    campaign TEXT NOT NULL,
    email_key TEXT NOT NULL,
    address TEXT NOT NULL,
    message_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    reply TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (campaign, email_key)
);
CREATE INDEX IF NOT EXISTS recipients_by_email ON recipients (email_key);
CREATE INDEX IF NOT EXISTS recipients_by_message_id ON recipients (message_id);
PRAGMA user_version = 1;
";

/// Opens (creating if needed) the journal file in `state_dir`.
fn connect(state_dir: &Path) -> Result<(PathBuf, Connection), JournalError> {
    let path = state_dir.join(FILE_NAME);
    let fail = |source: JournalFault| JournalError { path: path.clone(), source };
    std::fs::create_dir_all(state_dir).map_err(|e| fail(e.into()))?;
    let conn = Connection::open(&path).map_err(|e| fail(e.into()))?;
    let setup = || -> rusqlite::Result<()> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is on disk before the message it covers is
        // handed to the relay, even if the machine loses power.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)
    };
    setup().map_err(|e| fail(e.into()))?;
    Ok((path, conn))
}

impl Journal {
    /// Opens (creating if needed) the journal in `state_dir` for `campaign`.
    pub fn open(state_dir: &Path, campaign: &CampaignId) -> Result<Self, JournalError> {
        let (path, conn) = connect(state_dir)?;
        Ok(Self { path, conn, campaign: campaign.to_string(), clock: SystemTime::now })
    }

    /// Opens the journal only if `state_dir` has one.
    pub fn open_existing(state_dir: &Path, campaign: &CampaignId) -> Result<Option<Self>, JournalError> {
        if state_dir.join(FILE_NAME).exists() { Self::open(state_dir, campaign).map(Some) } else { Ok(None) }
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    #[cfg(test)]
    fn with_clock(mut self, clock: fn() -> SystemTime) -> Self {
        self.clock = clock;
        self
    }

    fn now(&self) -> String {
        humantime::format_rfc3339_seconds((self.clock)()).to_string()
    }

    fn fail(&self, source: rusqlite::Error) -> JournalError {
        JournalError { path: self.path.clone(), source: source.into() }
    }

    /// Records that a run of the campaign started.
    pub fn started(&self, bulletin: &Path, subject: &str) -> Result<(), JournalError> {
        let now = self.now();
        self.conn
            .execute(
                "INSERT INTO campaigns (id, bulletin, subject, first_started_at, last_started_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (id) DO UPDATE SET bulletin = ?2, subject = ?3, last_started_at = ?4, finished_at = NULL",
                params![self.campaign, bulletin.display().to_string(), subject, now],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// Records that a run went through the whole list.
    pub fn finished(&self) -> Result<(), JournalError> {
        self.conn
            .execute(
                "UPDATE campaigns SET finished_at = ?2 WHERE id = ?1",
                params![self.campaign, self.now()],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// What is known of the recipient whose address key is `key`.
    pub fn state(&self, key: &str) -> Result<Option<State>, JournalError> {
        self.conn
            .prepare_cached("SELECT state FROM recipients WHERE campaign = ?1 AND email_key = ?2")
            .and_then(|mut stmt| {
                stmt.query_row(params![self.campaign, key], |row| row.get::<_, String>(0)).optional()
            })
            .map(|s| s.as_deref().map(State::parse))
            .map_err(|e| self.fail(e))
    }

    /// Records, durably, that the message is about to be handed over.
    pub fn sending(&self, key: &str, address: &str, message_id: &str) -> Result<(), JournalError> {
        self.conn
            .prepare_cached(
                "INSERT INTO recipients (campaign, email_key, address, message_id, state, attempts, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'sending', 1, ?5)
                 ON CONFLICT (campaign, email_key) DO UPDATE
                 SET state = 'sending', attempts = attempts + 1, address = ?3, message_id = ?4, updated_at = ?5",
            )
            .and_then(|mut stmt| stmt.execute(params![self.campaign, key, address, message_id, self.now()]))
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// Records the relay's final answer.
    pub fn answered(&self, key: &str, state: State, reply: &str) -> Result<(), JournalError> {
        self.conn
            .prepare_cached(
                "UPDATE recipients SET state = ?3, reply = ?4, updated_at = ?5 WHERE campaign = ?1 AND email_key = ?2",
            )
            .and_then(|mut stmt| stmt.execute(params![self.campaign, key, state.as_str(), reply, self.now()]))
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// Makes the recipient pending again: the message was never handed over.
    pub fn forget(&self, key: &str) -> Result<(), JournalError> {
        self.conn
            .execute(
                "DELETE FROM recipients WHERE campaign = ?1 AND email_key = ?2",
                params![self.campaign, key],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// Every row of the campaign in `state` (all rows when `None`), oldest first.
    pub fn entries(&self, state: Option<State>) -> Result<Vec<Entry>, JournalError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT address, message_id, state, attempts, reply, updated_at FROM recipients
                 WHERE campaign = ?1 AND (?2 IS NULL OR state = ?2) ORDER BY updated_at, rowid",
            )
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![self.campaign, state.map(State::as_str)], |row| {
                Ok(Entry {
                    address: row.get(0)?,
                    message_id: row.get(1)?,
                    state: State::parse(&row.get::<_, String>(2)?),
                    attempts: row.get(3)?,
                    reply: row.get(4)?,
                    updated_at: row.get(5)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(|e| self.fail(e))?;
        Ok(rows)
    }

    /// Counts by state and the campaign's times.
    pub fn summary(&self) -> Result<Summary, JournalError> {
        let mut summary = Summary::default();
        let mut stmt = self
            .conn
            .prepare("SELECT state, COUNT(*) FROM recipients WHERE campaign = ?1 GROUP BY state")
            .map_err(|e| self.fail(e))?;
        let counts: Vec<(String, i64)> = stmt
            .query_map(params![self.campaign], |row| Ok((row.get(0)?, row.get(1)?)))
            .and_then(Iterator::collect)
            .map_err(|e| self.fail(e))?;
        for (state, count) in counts {
            let count = u64::try_from(count).unwrap_or(0);
            match State::parse(&state) {
                State::Sent => summary.sent = count,
                State::Failed => summary.failed = count,
                State::Sending => summary.sending = count,
            }
        }
        let times = self
            .conn
            .query_row(
                "SELECT first_started_at, last_started_at, finished_at FROM campaigns WHERE id = ?1",
                params![self.campaign],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        if let Some((first, last, finished)) = times {
            summary.first_started_at = first;
            summary.last_started_at = last;
            summary.finished_at = finished;
        }
        Ok(summary)
    }
}

/// A message the journal knows of, in any campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub campaign: String,
    /// The address as written in the list.
    pub address: String,
    pub message_id: String,
    pub state: State,
    /// The relay's last answer.
    pub reply: String,
    /// When the row last changed (for a sent message, when the relay took
    /// it), RFC 3339 UTC.
    pub updated_at: String,
}

/// Every campaign's rows, for questions that cross campaigns: which
/// message a bounce report is about, and what was sent to an address.
pub struct Archive {
    path: PathBuf,
    conn: Connection,
}

impl fmt::Debug for Archive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Archive").field("path", &self.path).finish()
    }
}

impl Archive {
    /// Opens the journal in `state_dir`, if there is one.
    pub fn open_existing(state_dir: &Path) -> Result<Option<Self>, JournalError> {
        if !state_dir.join(FILE_NAME).exists() {
            return Ok(None);
        }
        let (path, conn) = connect(state_dir)?;
        Ok(Some(Self { path, conn }))
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn query(&self, condition: &str, value: &str) -> Result<Vec<Sent>, JournalError> {
        let sql = format!(
            "SELECT campaign, address, message_id, state, reply, updated_at FROM recipients
             WHERE {condition} = ?1 ORDER BY updated_at, rowid"
        );
        let fail = |source: rusqlite::Error| JournalError { path: self.path.clone(), source: source.into() };
        let mut stmt = self.conn.prepare_cached(&sql).map_err(fail)?;
        stmt.query_map(params![value], |row| {
            Ok(Sent {
                campaign: row.get(0)?,
                address: row.get(1)?,
                message_id: row.get(2)?,
                state: State::parse(&row.get::<_, String>(3)?),
                reply: row.get(4)?,
                updated_at: row.get(5)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(fail)
    }

    /// The message whose `Message-ID` is `id` (with or without angle
    /// brackets).
    pub fn message(&self, id: &str) -> Result<Option<Sent>, JournalError> {
        let id = format!("<{}>", id.trim().trim_start_matches('<').trim_end_matches('>'));
        Ok(self.query("message_id", &id)?.into_iter().next())
    }

    /// Every message to the address whose key is `key`, oldest first.
    pub fn messages_to(&self, key: &str) -> Result<Vec<Sent>, JournalError> {
        self.query("email_key", key)
    }
}

/// One change to a recipient's row.
#[derive(Debug, Clone)]
pub enum Change {
    /// See [`Journal::sending`].
    Sending { key: String, address: String, message_id: String },
    /// See [`Journal::answered`].
    Answered { key: String, state: State, reply: String },
    /// See [`Journal::forget`].
    Forget { key: String },
}

impl Journal {
    fn apply(&self, change: &Change) -> Result<(), JournalError> {
        match change {
            Change::Sending { key, address, message_id } => self.sending(key, address, message_id),
            Change::Answered { key, state, reply } => self.answered(key, *state, reply),
            Change::Forget { key } => self.forget(key),
        }
    }

    /// Applies `changes` in one transaction: one sync to disk for all.
    fn apply_all(&self, changes: &[Change]) -> Result<(), JournalError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| self.fail(e))?;
        let result = changes.iter().try_for_each(|c| self.apply(c));
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.conn.execute_batch(end).map_err(|e| self.fail(e))?;
        result
    }
}

type Reply = tokio::sync::oneshot::Sender<Result<(), String>>;

/// Writes changes from many senders with group commit: whatever changes
/// arrive while one transaction is being synced go together in the next, so
/// N connections cost about one sync per round instead of N.
///
/// A change is either awaited ([`Writer::write`]: the caller goes on once
/// it is on disk) or queued ([`Writer::queue`]: the caller goes on at
/// once). Changes are committed in the order they arrive, so a queued
/// change is on disk by the time any later awaited change is: a sender
/// that queues a message's answer and then awaits the next message's
/// `sending` never has more than one row in doubt, as if it had awaited
/// both, at the cost of one sync per message instead of two.
pub struct Writer {
    tx: std::sync::mpsc::Sender<(Change, Option<Reply>)>,
    thread: Option<std::thread::JoinHandle<(Journal, Option<String>)>>,
    path: PathBuf,
}

impl Writer {
    /// Starts the writing thread, which owns `journal` until [`Writer::close`].
    pub fn start(journal: Journal) -> Self {
        let path = journal.path.clone();
        let (tx, rx) = std::sync::mpsc::channel::<(Change, Option<Reply>)>();
        let thread = std::thread::spawn(move || {
            // The first failed commit: every later change is refused with it.
            let mut broken: Option<String> = None;
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                batch.extend(rx.try_iter());
                let result = match &broken {
                    Some(text) => Err(text.clone()),
                    None => {
                        let changes: Vec<Change> = batch.iter().map(|(c, _)| c.clone()).collect();
                        journal.apply_all(&changes).map_err(|e| e.to_string())
                    }
                };
                if let Err(text) = &result {
                    broken.get_or_insert_with(|| text.clone());
                }
                for reply in batch.into_iter().filter_map(|(_, reply)| reply) {
                    let _ = reply.send(result.clone());
                }
            }
            (journal, broken)
        });
        Self { tx, thread: Some(thread), path }
    }

    fn error(&self, text: String) -> JournalError {
        JournalError { path: self.path.clone(), source: JournalFault::Io(std::io::Error::other(text)) }
    }

    /// Records `change`; returns once it is committed.
    pub async fn write(&self, change: Change) -> Result<(), JournalError> {
        let (reply, done) = tokio::sync::oneshot::channel();
        let lost = || self.error("the journal writer stopped".to_owned());
        self.tx.send((change, Some(reply))).map_err(|_| lost())?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(text)) => Err(self.error(text)),
            Err(_) => Err(lost()),
        }
    }

    /// Queues `change` to be committed with the next group, without
    /// waiting. If that commit fails, the next [`Writer::write`] and
    /// [`Writer::close`] say so.
    pub fn queue(&self, change: Change) -> Result<(), JournalError> {
        self.tx.send((change, None)).map_err(|_| self.error("the journal writer stopped".to_owned()))
    }

    /// Waits for every change sent so far and gives the journal back, or
    /// the first commit that failed.
    pub fn close(mut self) -> Result<Journal, JournalError> {
        let thread = self.thread.take().expect("closed once");
        let path = self.path.clone();
        drop(self);
        let (journal, broken) = thread.join().expect("the journal writer panicked");
        match broken {
            None => Ok(journal),
            Some(text) => Err(JournalError { path, source: JournalFault::Io(std::io::Error::other(text)) }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign() -> CampaignId {
        CampaignId::for_tests("2025-10-16-prayer")
    }

    fn fixed_clock() -> SystemTime {
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_760_000_000)
    }

    #[test]
    fn a_recipient_moves_from_pending_to_sending_to_sent() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path(), &campaign()).unwrap().with_clock(fixed_clock);
        assert_eq!(j.state("a@example.org").unwrap(), None);
        j.sending("a@example.org", "A@example.org", "<id@x>").unwrap();
        assert_eq!(j.state("a@example.org").unwrap(), Some(State::Sending));
        j.answered("a@example.org", State::Sent, "250 2.0.0 Ok: queued as 4ABC").unwrap();
        let entries = j.entries(None).unwrap();
        assert_eq!(
            entries,
            [Entry {
                address: "A@example.org".into(),
                message_id: "<id@x>".into(),
                state: State::Sent,
                attempts: 1,
                reply: "250 2.0.0 Ok: queued as 4ABC".into(),
                updated_at: "2025-10-09T08:53:20Z".into(),
            }]
        );
    }

    #[test]
    fn what_was_committed_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let j = Journal::open(dir.path(), &campaign()).unwrap();
            j.started(Path::new("content/x.md"), "Subject").unwrap();
            j.sending("a@example.org", "a@example.org", "<1@x>").unwrap();
            j.sending("b@example.org", "b@example.org", "<2@x>").unwrap();
            j.answered("b@example.org", State::Failed, "550 no such user").unwrap();
        }
        let j = Journal::open_existing(dir.path(), &campaign()).unwrap().unwrap();
        let s = j.summary().unwrap();
        assert_eq!((s.sent, s.failed, s.sending), (0, 1, 1));
        assert!(s.first_started_at.is_some() && s.finished_at.is_none());
        assert_eq!(j.entries(Some(State::Sending)).unwrap()[0].address, "a@example.org");
    }

    #[test]
    fn campaigns_do_not_see_each_others_rows() {
        let dir = tempfile::tempdir().unwrap();
        let a = Journal::open(dir.path(), &campaign()).unwrap();
        let b = Journal::open(dir.path(), &CampaignId::for_tests("2025-10-23-prayer")).unwrap();
        a.sending("x@example.org", "x@example.org", "<1@x>").unwrap();
        assert_eq!(b.state("x@example.org").unwrap(), None);
    }

    #[test]
    fn a_retry_counts_attempts_and_forget_makes_pending_again() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path(), &campaign()).unwrap();
        j.sending("a@example.org", "a@example.org", "<1@x>").unwrap();
        j.sending("a@example.org", "a@example.org", "<1@x>").unwrap();
        assert_eq!(j.entries(None).unwrap()[0].attempts, 2);
        j.forget("a@example.org").unwrap();
        assert_eq!(j.state("a@example.org").unwrap(), None);
    }

    #[tokio::test]
    async fn the_writer_commits_changes_from_many_tasks() {
        let dir = tempfile::tempdir().unwrap();
        let writer = std::sync::Arc::new(Writer::start(Journal::open(dir.path(), &campaign()).unwrap()));
        let mut tasks = Vec::new();
        for i in 0..50 {
            let writer = std::sync::Arc::clone(&writer);
            tasks.push(tokio::spawn(async move {
                let key = format!("p{i}@example.org");
                let sending = Change::Sending {
                    key: key.clone(),
                    address: key.clone(),
                    message_id: format!("<{i}@x>"),
                };
                writer.write(sending).await.unwrap();
                writer.queue(Change::Answered { key, state: State::Sent, reply: "250 ok".into() }).unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let journal = std::sync::Arc::into_inner(writer).unwrap().close().unwrap();
        assert_eq!(journal.summary().unwrap().sent, 50);
        let reopened = Journal::open(dir.path(), &campaign()).unwrap();
        assert_eq!(reopened.summary().unwrap().sent, 50);
    }

    #[tokio::test]
    async fn a_queued_answer_is_on_disk_once_a_later_write_returns() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Writer::start(Journal::open(dir.path(), &campaign()).unwrap());
        let sending = |key: &str| Change::Sending {
            key: key.to_owned(),
            address: key.to_owned(),
            message_id: format!("<{key}>"),
        };
        writer.write(sending("a@example.org")).await.unwrap();
        writer
            .queue(Change::Answered {
                key: "a@example.org".into(),
                state: State::Sent,
                reply: "250 ok".into(),
            })
            .unwrap();
        writer.write(sending("b@example.org")).await.unwrap();
        // Another connection, as a rerun after a crash here would see it.
        let reader = Journal::open(dir.path(), &campaign()).unwrap();
        assert_eq!(reader.state("a@example.org").unwrap(), Some(State::Sent));
        assert_eq!(reader.state("b@example.org").unwrap(), Some(State::Sending));
        writer.close().unwrap();
    }

    #[test]
    fn the_archive_finds_a_message_by_its_id_and_every_message_to_an_address() {
        let dir = tempfile::tempdir().unwrap();
        let a = Journal::open(dir.path(), &campaign()).unwrap().with_clock(fixed_clock);
        let b = Journal::open(dir.path(), &CampaignId::for_tests("2025-10-23-prayer")).unwrap();
        a.sending("ana@example.org", "Ana@example.org", "<1@x>").unwrap();
        a.answered("ana@example.org", State::Sent, "250 ok").unwrap();
        b.sending("ana@example.org", "Ana@example.org", "<2@x>").unwrap();
        b.answered("ana@example.org", State::Failed, "452 4.2.2 full").unwrap();
        let archive = Archive::open_existing(dir.path()).unwrap().unwrap();
        let found = archive.message("1@x").unwrap().unwrap();
        assert_eq!(
            (found.campaign.as_str(), found.address.as_str()),
            ("2025-10-16-prayer", "Ana@example.org")
        );
        assert_eq!(archive.message("<2@x>").unwrap().unwrap().state, State::Failed);
        assert_eq!(archive.message("3@x").unwrap(), None);
        let all = archive.messages_to("ana@example.org").unwrap();
        assert_eq!(all.iter().map(|s| s.message_id.as_str()).collect::<Vec<_>>(), ["<1@x>", "<2@x>"]);
        assert!(Archive::open_existing(&dir.path().join("none")).unwrap().is_none());
    }

    #[test]
    fn no_journal_means_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Journal::open_existing(dir.path(), &campaign()).unwrap().is_none());
    }
}
