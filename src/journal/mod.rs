//! The journal: what happened to whom, for each campaign, kept in SQLite
//! (write-ahead log, every commit synced) under the state directory, so a
//! run killed at any instant can be resumed without sending anyone the same
//! issue twice. It is the store beneath `deliver`, which writes it through
//! the group-committing [`Writer`]; `status`, `bounces` and the bounce
//! import read it ([`Archive`] for questions across campaigns).
//!
//! A recipient with no row is pending. `sending` is written, and committed,
//! before a message is handed to the relay; `sent` or `failed` after the
//! relay answers. A `sending` row found when a run starts is *uncertain*: the
//! relay may or may not have taken the message.
//!
//! Each `sending` row keeps the [`Fingerprint`] of the bulletin it carries,
//! so that a send can find who already received the same bulletin under
//! another campaign's name ([`Journal::received_elsewhere`]); each campaign
//! keeps the text of its latest run, and each text its shingles, so that a
//! corrected copy is found too.

mod archive;
mod elsewhere;
pub mod erasure;
mod lock;
pub mod schedules;
mod schema;
pub mod sqlite;
pub mod welcomes;
mod writer;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::content::CampaignId;
use crate::domain::{
    Clock, EmailAddress, EmailKey, Fingerprint, MessageId, Reply, ReplyCode, StatusCode, SystemClock,
    Timestamp,
};
use crate::subscribers::pseudonym::{self, Salt};
pub use archive::{Archive, Sent};
pub use elsewhere::{Elsewhere, NEAR_COPY_DAYS, Received, Text};
pub use lock::{Busy, CampaignLock, Holder, LockError, StartLock, StateLock};
use schema::connect;
pub use writer::{Change, Writer};

/// The journal file inside the state directory.
pub const FILE_NAME: &str = "journal.sqlite3";

/// What is known of one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "lowercase")]
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
        self.into()
    }
}

impl ToSql for State {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

/// A state the schema's CHECK would refuse is an error, never a guess.
impl FromSql for State {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value.as_str()?.parse().map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// Whom a journal row is about: the address as written in the list, and the
/// key that compares addresses without case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub key: EmailKey,
    pub address: String,
}

impl From<&EmailAddress> for Recipient {
    fn from(email: &EmailAddress) -> Self {
        Self { key: email.key().clone(), address: email.to_string() }
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
    /// refusal for a failed one), with its codes.
    pub reply: Reply,
    /// When the row last changed.
    pub updated_at: Timestamp,
}

/// The campaign's counts and times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub sent: u64,
    pub failed: u64,
    /// Rows left `sending` by a run that stopped without an answer.
    pub sending: u64,
    pub first_started_at: Option<Timestamp>,
    pub last_started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

/// The journal could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("journal {}", path.display())]
pub struct JournalError {
    path: PathBuf,
    source: JournalFault,
}

#[derive(Debug, thiserror::Error)]
enum JournalFault {
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
    #[error(transparent)]
    Open(#[from] sqlite::OpenError),
    #[error("{0}")]
    Writer(String),
}

impl JournalError {
    fn new(path: &Path, source: impl Into<JournalFault>) -> Self {
        Self { path: path.to_owned(), source: source.into() }
    }
}

/// One campaign's view of the journal.
pub struct Journal {
    path: PathBuf,
    conn: Connection,
    campaign: String,
    clock: Arc<dyn Clock>,
    /// What this run sends, kept with each `sending` row.
    fingerprint: Option<Fingerprint>,
    /// The campaign's rows kept under a pseudonym (`bulletin forget`), by
    /// salt and digest: read at the first address the journal does not
    /// know, so that someone forgotten who signs up again is still known.
    forgotten: std::cell::OnceCell<HashMap<Salt, HashMap<String, State>>>,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).field("campaign", &self.campaign).finish()
    }
}

/// The reply kept in a row's `reply`, `reply_code` and `reply_status`.
fn reply_at(row: &Row<'_>, first: usize) -> rusqlite::Result<Reply> {
    let text: String = row.get(first)?;
    let code: Option<u16> = row.get(first + 1)?;
    let status: Option<String> = row.get(first + 2)?;
    Ok(Reply::new(code.and_then(ReplyCode::new), status.as_deref().and_then(StatusCode::parse), text))
}

/// A time the journal wrote; text it did not write reads as an error.
fn time_at(row: &Row<'_>, index: usize) -> rusqlite::Result<Timestamp> {
    let text: String = row.get(index)?;
    Timestamp::parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, text.into())
    })
}

fn optional_time_at(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<Timestamp>> {
    let text: Option<String> = row.get(index)?;
    Ok(text.as_deref().and_then(Timestamp::parse))
}

impl Journal {
    /// Opens (creating if needed) the journal in `state_dir` for `campaign`.
    pub fn open(state_dir: &Path, campaign: &CampaignId) -> Result<Self, JournalError> {
        let (path, conn) = connect(state_dir)?;
        Ok(Self {
            path,
            conn,
            campaign: campaign.to_string(),
            clock: Arc::new(SystemClock),
            fingerprint: None,
            forgotten: std::cell::OnceCell::new(),
        })
    }

    /// Opens the journal only if `state_dir` has one.
    pub fn open_existing(state_dir: &Path, campaign: &CampaignId) -> Result<Option<Self>, JournalError> {
        if state_dir.join(FILE_NAME).exists() { Self::open(state_dir, campaign).map(Some) } else { Ok(None) }
    }

    /// The journal with `clock` dating its rows (the system clock by default).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The journal with each `sending` row keeping `fingerprint`: what
    /// this run sends (none by default).
    pub fn with_fingerprint(mut self, fingerprint: Fingerprint) -> Self {
        self.fingerprint = Some(fingerprint);
        self
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn now(&self) -> String {
        self.clock.now().to_string()
    }

    fn fail(&self, source: rusqlite::Error) -> JournalError {
        JournalError::new(&self.path, source)
    }

    /// Records that a run of the campaign started, sending `text`;
    /// `subject` is the bulletin's as written (`Bulletin::subject_text`).
    /// Later sends compare their text with it.
    pub fn started(&self, bulletin: &Path, subject: &str, text: Text<'_>) -> Result<(), JournalError> {
        let now = self.now();
        self.conn
            .execute(
                "INSERT INTO campaigns (id, bulletin, subject, first_started_at, last_started_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (id) DO UPDATE SET bulletin = ?2, subject = ?3, last_started_at = ?4, finished_at = NULL",
                params![self.campaign, bulletin.display().to_string(), subject, now],
            )
            .map_err(|e| self.fail(e))?;
        self.record_text(text)
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

    /// What is known of the recipient whose address key is `key`: by their
    /// address, or else by their pseudonym if they were forgotten since.
    pub fn state(&self, key: &EmailKey) -> Result<Option<State>, JournalError> {
        let known = self
            .conn
            .prepare_cached("SELECT state FROM recipients WHERE campaign = ?1 AND email_key = ?2")
            .and_then(|mut stmt| {
                stmt.query_row(params![self.campaign, key.as_str()], |row| row.get(0)).optional()
            })
            .map_err(|e| self.fail(e))?;
        if known.is_some() {
            return Ok(known);
        }
        let forgotten = match self.forgotten.get() {
            Some(forgotten) => forgotten,
            None => {
                let read = self.read_forgotten().map_err(|e| self.fail(e))?;
                self.forgotten.get_or_init(|| read)
            }
        };
        Ok(forgotten.iter().find_map(|(salt, states)| states.get(&salt.digest(key)).copied()))
    }

    /// This campaign's rows under a pseudonym, by salt and digest.
    fn read_forgotten(&self) -> rusqlite::Result<HashMap<Salt, HashMap<String, State>>> {
        let mut stmt = self.conn.prepare(
            "SELECT email_key, state FROM recipients
             WHERE campaign = ?1 AND email_key >= 'forgotten:' AND email_key < 'forgotten;'",
        )?;
        let rows =
            stmt.query_map(params![self.campaign], |row| Ok((row.get::<_, String>(0)?, row.get(1)?)))?;
        let mut forgotten: HashMap<Salt, HashMap<String, State>> = HashMap::new();
        for row in rows {
            let (key, state) = row?;
            if let Some((salt, digest)) = pseudonym::parse(&key) {
                forgotten.entry(salt).or_default().insert(digest, state);
            }
        }
        Ok(forgotten)
    }

    /// Records, durably, that `message_id` is about to be handed over for
    /// `recipient`, with the run's fingerprint (see
    /// [`Journal::with_fingerprint`]).
    pub fn sending(&self, recipient: &Recipient, message_id: &MessageId) -> Result<(), JournalError> {
        self.conn
            .prepare_cached(
                "INSERT INTO recipients
                     (campaign, email_key, address, message_id, state, attempts, updated_at, fingerprint)
                 VALUES (?1, ?2, ?3, ?4, 'sending', 1, ?5, ?6)
                 ON CONFLICT (campaign, email_key) DO UPDATE
                 SET state = 'sending', attempts = attempts + 1, address = ?3, message_id = ?4, updated_at = ?5,
                     fingerprint = ?6",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    self.campaign,
                    recipient.key.as_str(),
                    recipient.address,
                    message_id.as_str(),
                    self.now(),
                    self.fingerprint.map(|f| f.to_string())
                ])
            })
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// Records the relay's final answer.
    pub fn answered(&self, key: &EmailKey, state: State, reply: &Reply) -> Result<(), JournalError> {
        self.conn
            .prepare_cached(
                "UPDATE recipients SET state = ?3, reply = ?4, reply_code = ?5, reply_status = ?6, updated_at = ?7
                 WHERE campaign = ?1 AND email_key = ?2",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    self.campaign,
                    key.as_str(),
                    state,
                    reply.text(),
                    reply.code().map(ReplyCode::value),
                    reply.status().map(|s| s.to_string()),
                    self.now()
                ])
            })
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// Makes the recipient pending again: the message was never handed over.
    pub fn forget(&self, key: &EmailKey) -> Result<(), JournalError> {
        self.conn
            .execute(
                "DELETE FROM recipients WHERE campaign = ?1 AND email_key = ?2",
                params![self.campaign, key.as_str()],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// Every row of the campaign in `state` (all rows when `None`), oldest first.
    pub fn entries(&self, state: Option<State>) -> Result<Vec<Entry>, JournalError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT address, message_id, state, attempts, reply, reply_code, reply_status, updated_at
                 FROM recipients WHERE campaign = ?1 AND (?2 IS NULL OR state = ?2) ORDER BY updated_at, rowid",
            )
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![self.campaign, state], |row| {
                Ok(Entry {
                    address: row.get(0)?,
                    message_id: row.get(1)?,
                    state: row.get(2)?,
                    attempts: row.get(3)?,
                    reply: reply_at(row, 4)?,
                    updated_at: time_at(row, 7)?,
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
        let counts: Vec<(State, i64)> = stmt
            .query_map(params![self.campaign], |row| Ok((row.get(0)?, row.get(1)?)))
            .and_then(Iterator::collect)
            .map_err(|e| self.fail(e))?;
        for (state, count) in counts {
            let count = u64::try_from(count).unwrap_or(0);
            match state {
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
                |row| Ok((optional_time_at(row, 0)?, optional_time_at(row, 1)?, optional_time_at(row, 2)?)),
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

#[cfg(test)]
mod tests;
