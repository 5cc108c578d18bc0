//! The relays' event ids already taken, kept in the project's one store
//! (the journal's SQLite file, table [`TABLE`]) for [`KEPT`], so an event
//! sent again (a replay, or the relay trying again after an answer it did
//! not get) changes nothing.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::Timestamp;

/// The table of the journal's SQLite file: (relay, event id, when taken).
pub const TABLE: &str = "webhook_events";

/// How long an event id is remembered: a month.
pub const KEPT: Duration = Duration::from_secs(30 * 86_400);

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS webhook_events (\
    relay TEXT NOT NULL, id TEXT NOT NULL, taken_at INTEGER NOT NULL, PRIMARY KEY (relay, id));\
    CREATE INDEX IF NOT EXISTS webhook_events_taken_at ON webhook_events (taken_at);";

/// The ids taken.
pub struct Seen {
    conn: Mutex<Connection>,
}

/// The store could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("the webhooks' event ids in {}", path.display())]
pub struct SeenError {
    path: std::path::PathBuf,
    source: rusqlite::Error,
}

impl Seen {
    /// Opens the store in `state_dir`, forgetting ids older than [`KEPT`].
    pub fn open(state_dir: &Path, now: Timestamp) -> anyhow::Result<Self> {
        let path = state_dir.join(crate::journal::FILE_NAME);
        let conn = crate::journal::sqlite::open(state_dir, crate::journal::FILE_NAME, SCHEMA)?;
        let oldest = now.unix_seconds().saturating_sub(KEPT.as_secs()) as i64;
        conn.execute("DELETE FROM webhook_events WHERE taken_at < ?1", [oldest])
            .map_err(|source| SeenError { path, source })?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `relay`'s event `id` was taken. A store that cannot be read
    /// counts it as taken: better an event missed than one taken twice.
    pub fn contains(&self, relay: &str, id: &str) -> bool {
        self.conn()
            .query_row(
                "SELECT 1 FROM webhook_events WHERE relay = ?1 AND id = ?2",
                params![relay, id],
                |_| Ok(()),
            )
            .optional()
            .map_or(true, |found| found.is_some())
    }

    /// Remembers `relay`'s event `id` as taken at `now`.
    pub fn remember(&self, relay: &str, id: &str, now: Timestamp) -> Result<(), rusqlite::Error> {
        self.conn().execute(
            "INSERT INTO webhook_events (relay, id, taken_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![relay, id, now.unix_seconds() as i64],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_id_is_remembered_per_relay_across_openings_and_forgotten_after_a_month() {
        let dir = tempfile::tempdir().unwrap();
        let start = Timestamp::from_unix(1_800_000_000);
        let seen = Seen::open(dir.path(), start).unwrap();
        assert!(!seen.contains("mailgun", "token-1"));
        seen.remember("mailgun", "token-1", start).unwrap();
        assert!(seen.contains("mailgun", "token-1") && !seen.contains("sendgrid", "token-1"));
        drop(seen);
        let later = Timestamp::from_unix(start.unix_seconds() + KEPT.as_secs() - 1);
        assert!(Seen::open(dir.path(), later).unwrap().contains("mailgun", "token-1"));
        let after = Timestamp::from_unix(start.unix_seconds() + KEPT.as_secs() + 1);
        assert!(!Seen::open(dir.path(), after).unwrap().contains("mailgun", "token-1"));
    }
}
