//! When each staff report went, kept in the state folder's one store (the
//! journal's SQLite file, table [`TABLE`]), so the next report counts the
//! list's changes from there. A report that could not be sent is not
//! recorded: the next one covers its time too.

use std::path::Path;

use rusqlite::OptionalExtension;

use crate::domain::Timestamp;
use crate::journal::sqlite::{OpenError, open};

/// The table of reports sent.
pub const TABLE: &str = "staff_reports";

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS staff_reports (\
    sent_at TEXT NOT NULL, campaign TEXT NOT NULL, stopped INTEGER NOT NULL);";

/// When the last report went (the moment its counts were taken), if one
/// did.
pub fn last_sent(state_dir: &Path) -> Result<Option<Timestamp>, OpenError> {
    if !state_dir.join(crate::journal::FILE_NAME).exists() {
        return Ok(None);
    }
    let conn = open(state_dir, crate::journal::FILE_NAME, SCHEMA)?;
    // Written by `record` only, RFC 3339 in UTC: text order is time order.
    let last: Option<String> =
        conn.query_row("SELECT MAX(sent_at) FROM staff_reports", [], |row| row.get(0)).optional()?.flatten();
    Ok(last.as_deref().and_then(Timestamp::parse))
}

/// Records that a report counted up to `at` went, about `campaign`.
pub(super) fn record(
    state_dir: &Path,
    at: Timestamp,
    campaign: &str,
    stopped: bool,
) -> Result<(), OpenError> {
    let conn = open(state_dir, crate::journal::FILE_NAME, SCHEMA)?;
    conn.execute(
        "INSERT INTO staff_reports (sent_at, campaign, stopped) VALUES (?1, ?2, ?3)",
        rusqlite::params![at.to_string(), campaign, stopped],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_report_is_the_latest_recorded_and_none_before_the_first() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(last_sent(dir.path()).unwrap(), None);
        record(dir.path(), Timestamp::from_unix(2_000_000_000), "a", false).unwrap();
        record(dir.path(), Timestamp::from_unix(2_000_000_500), "b", true).unwrap();
        record(dir.path(), Timestamp::from_unix(1_999_999_000), "c", false).unwrap();
        assert_eq!(last_sent(dir.path()).unwrap(), Some(Timestamp::from_unix(2_000_000_500)));
    }
}
