//! The archive: every campaign's rows of the journal, for questions that
//! cross campaigns (which message a bounce report is about, what was sent
//! to an address). Read only.

use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use super::{FILE_NAME, JournalError, State, connect, reply_at, time_at};
use crate::domain::{EmailKey, MessageId, Reply, Timestamp};

/// A message the journal knows of, in any campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub campaign: String,
    /// The address as written in the list.
    pub address: String,
    pub message_id: String,
    pub state: State,
    /// The relay's last answer.
    pub reply: Reply,
    /// When the row last changed (for a sent message, when the relay took
    /// it).
    pub updated_at: Timestamp,
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

    /// How many messages were handed to the relay since `since`, in every
    /// campaign (sent, or uncertain: the relay may have counted those
    /// too), and when the first of them was: what a daily allowance is
    /// counted against.
    pub fn handed_over_since(&self, since: Timestamp) -> Result<(u64, Option<Timestamp>), JournalError> {
        let fail = |source: rusqlite::Error| JournalError::new(&self.path, source);
        self.conn
            .query_row(
                "SELECT COUNT(*), MIN(updated_at) FROM recipients
                 WHERE state IN ('sent', 'sending') AND updated_at >= ?1",
                params![since.to_string()],
                |row| {
                    let first: Option<String> = row.get(1)?;
                    let count: i64 = row.get(0)?;
                    Ok((count.unsigned_abs(), first.as_deref().and_then(Timestamp::parse)))
                },
            )
            .map_err(fail)
    }

    fn query(&self, condition: &str, value: &str) -> Result<Vec<Sent>, JournalError> {
        let sql = format!(
            "SELECT campaign, address, message_id, state, reply, reply_code, reply_status, updated_at
             FROM recipients WHERE {condition} = ?1 ORDER BY updated_at, rowid"
        );
        let fail = |source: rusqlite::Error| JournalError::new(&self.path, source);
        let mut stmt = self.conn.prepare_cached(&sql).map_err(fail)?;
        stmt.query_map(params![value], sent_at).and_then(Iterator::collect).map_err(fail)
    }

    /// The bulletin file (as the send was given it) of the campaign last
    /// started that the relay took at least one message of: the last
    /// bulletin sent to the list, which `bulletin new` starts from.
    pub fn last_bulletin_sent(&self) -> Result<Option<PathBuf>, JournalError> {
        let fail = |source: rusqlite::Error| JournalError::new(&self.path, source);
        self.conn
            .query_row(
                "SELECT c.bulletin FROM campaigns c
                 WHERE EXISTS (SELECT 1 FROM recipients r WHERE r.campaign = c.id AND r.state = 'sent')
                 ORDER BY c.last_started_at DESC, c.rowid DESC LIMIT 1",
                [],
                |row| row.get::<_, String>(0),
            )
            .optional()
            .map(|bulletin| bulletin.map(PathBuf::from))
            .map_err(fail)
    }

    /// The message whose `Message-ID` is `id`.
    pub fn message(&self, id: &MessageId) -> Result<Option<Sent>, JournalError> {
        Ok(self.query("message_id", id.as_str())?.into_iter().next())
    }

    /// Every message to the address whose key is `key`, oldest first.
    pub fn messages_to(&self, key: &EmailKey) -> Result<Vec<Sent>, JournalError> {
        self.query("email_key", key.as_str())
    }

    /// Every message of every campaign, in no order, one at a time: its
    /// row, campaign and recipient's key, for an index built in one pass
    /// (the bounce import's, by VERP token) rather than a query per
    /// question. Only these three are read, so a journal of millions of
    /// messages streams through in little memory.
    pub fn each_message(&self, mut each: impl FnMut(i64, &str, EmailKey)) -> Result<(), JournalError> {
        let fail = |source: rusqlite::Error| JournalError::new(&self.path, source);
        let mut stmt =
            self.conn.prepare("SELECT rowid, campaign, email_key FROM recipients").map_err(fail)?;
        let mut rows = stmt.query([]).map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            let campaign: String = row.get(1).map_err(fail)?;
            each(row.get(0).map_err(fail)?, &campaign, EmailKey::stored(row.get(2).map_err(fail)?));
        }
        Ok(())
    }

    /// The message in row `rowid` (from [`Archive::each_message`]), with
    /// its recipient's key.
    pub fn message_in_row(&self, rowid: i64) -> Result<Option<(EmailKey, Sent)>, JournalError> {
        self.keyed("rowid", &rowid)
    }

    /// The message whose `Message-ID` is `id`, with its recipient's key.
    pub fn keyed_message(&self, id: &MessageId) -> Result<Option<(EmailKey, Sent)>, JournalError> {
        self.keyed("message_id", &id.as_str())
    }

    fn keyed(
        &self,
        column: &str,
        value: &dyn rusqlite::ToSql,
    ) -> Result<Option<(EmailKey, Sent)>, JournalError> {
        let sql = format!(
            "SELECT campaign, address, message_id, state, reply, reply_code, reply_status, updated_at, email_key
             FROM recipients WHERE {column} = ?1 ORDER BY updated_at, rowid LIMIT 1"
        );
        let fail = |source: rusqlite::Error| JournalError::new(&self.path, source);
        let mut stmt = self.conn.prepare_cached(&sql).map_err(fail)?;
        stmt.query_row([value], |row| Ok((EmailKey::stored(row.get(8)?), sent_at(row)?)))
            .optional()
            .map_err(fail)
    }
}

/// A row of `SELECT campaign, address, message_id, state, reply,
/// reply_code, reply_status, updated_at …`.
fn sent_at(row: &rusqlite::Row<'_>) -> rusqlite::Result<Sent> {
    Ok(Sent {
        campaign: row.get(0)?,
        address: row.get(1)?,
        message_id: row.get(2)?,
        state: row.get(3)?,
        reply: reply_at(row, 4)?,
        updated_at: time_at(row, 7)?,
    })
}
