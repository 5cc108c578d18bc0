//! Since when the welcome bulletin is on (`WELCOME_BULLETIN`), kept in the
//! state folder's one store (the journal's SQLite file, table [`TABLE`]):
//! the readers who confirm a sign-up from then on are the ones welcomed.
//! Recorded by the first `serve` that starts with a welcome, kept across
//! restarts, and forgotten when a `serve` starts with none, so turning the
//! welcome off and on again never welcomes those who confirmed meanwhile.
//! Who was welcomed is the journal's own record, campaign
//! [`crate::content::CampaignId::welcome`].

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::sqlite::{OpenError, open};
use crate::domain::Timestamp;

/// The table of the welcome's start.
pub const TABLE: &str = "welcome_since";

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS welcome_since (\
    id INTEGER PRIMARY KEY CHECK (id = 1), since TEXT NOT NULL);";

/// The welcome's record in one state folder.
#[derive(Debug)]
pub struct Welcomes {
    conn: Connection,
}

impl Welcomes {
    /// Opens the store in `state_dir`, making the table if needed.
    pub fn open(state_dir: &Path) -> Result<Self, OpenError> {
        Ok(Self { conn: open(state_dir, super::FILE_NAME, SCHEMA)? })
    }

    /// Since when the welcome is on: `now` unless it was on already.
    pub fn turned_on(&self, now: Timestamp) -> Result<Timestamp, OpenError> {
        self.conn.execute(
            "INSERT INTO welcome_since (id, since) VALUES (1, ?1) ON CONFLICT (id) DO NOTHING",
            params![now.to_string()],
        )?;
        Ok(self.since()?.unwrap_or(now))
    }

    /// The welcome is off: who confirms from now on is not welcomed, even
    /// once it is on again.
    pub fn turned_off(&self) -> Result<(), OpenError> {
        self.conn.execute("DELETE FROM welcome_since", [])?;
        Ok(())
    }

    /// Since when the welcome is on, if it is.
    pub fn since(&self) -> Result<Option<Timestamp>, OpenError> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT since FROM welcome_since WHERE id = 1", [], |row| row.get(0))
            .optional()?;
        Ok(text.as_deref().and_then(Timestamp::parse))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_welcome_keeps_its_first_start_until_it_is_turned_off() {
        let dir = tempfile::tempdir().unwrap();
        let store = Welcomes::open(dir.path()).unwrap();
        assert_eq!(store.since().unwrap(), None);
        let first = Timestamp::from_unix(2_000_000_000);
        assert_eq!(store.turned_on(first).unwrap(), first);
        assert_eq!(
            Welcomes::open(dir.path()).unwrap().turned_on(Timestamp::from_unix(2_000_000_500)).unwrap(),
            first
        );
        store.turned_off().unwrap();
        assert_eq!(store.since().unwrap(), None);
        let later = Timestamp::from_unix(2_000_001_000);
        assert_eq!(store.turned_on(later).unwrap(), later);
    }
}
