//! How far the bounce mailbox has been read, kept in the state folder's one
//! store (the journal's SQLite file, table `imap_progress`): per mailbox, its
//! `UIDVALIDITY` and the highest UID whose report was taken in. A restart
//! of `serve` starts from there; a mailbox whose `UIDVALIDITY` changed (it
//! was re-created) is read from the start, and the bounce ledger keeps its
//! reports from counting twice.

use std::path::Path;

use rusqlite::{OptionalExtension, params};

use crate::journal::sqlite::{OpenError, open};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS imap_progress (\
    mailbox TEXT PRIMARY KEY, uid_validity INTEGER NOT NULL, last_uid INTEGER NOT NULL);";

/// The last UID taken in from `mailbox` while its UIDVALIDITY was
/// `validity`; 0 when none was (or the mailbox was re-created since).
pub(super) fn last_uid(state_dir: &Path, mailbox: &str, validity: u32) -> Result<u32, OpenError> {
    let conn = open(state_dir, crate::journal::FILE_NAME, SCHEMA)?;
    let row: Option<(u32, u32)> = conn
        .query_row("SELECT uid_validity, last_uid FROM imap_progress WHERE mailbox = ?1", [mailbox], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    Ok(match row {
        Some((v, last)) if v == validity => last,
        _ => 0,
    })
}

/// Remembers that `mailbox`'s reports up to UID `last` are taken in.
pub(super) fn remember(state_dir: &Path, mailbox: &str, validity: u32, last: u32) -> Result<(), OpenError> {
    let conn = open(state_dir, crate::journal::FILE_NAME, SCHEMA)?;
    conn.execute(
        "INSERT INTO imap_progress (mailbox, uid_validity, last_uid) VALUES (?1, ?2, ?3) \
         ON CONFLICT (mailbox) DO UPDATE SET uid_validity = ?2, last_uid = ?3",
        params![mailbox, validity, last],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_kept_per_mailbox_and_forgotten_when_the_uidvalidity_changes() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(last_uid(dir.path(), "u@h/INBOX", 7).unwrap(), 0);
        remember(dir.path(), "u@h/INBOX", 7, 20).unwrap();
        remember(dir.path(), "u@h/Other", 7, 3).unwrap();
        assert_eq!(last_uid(dir.path(), "u@h/INBOX", 7).unwrap(), 20);
        assert_eq!(last_uid(dir.path(), "u@h/Other", 7).unwrap(), 3);
        assert_eq!(last_uid(dir.path(), "u@h/INBOX", 8).unwrap(), 0);
        remember(dir.path(), "u@h/INBOX", 8, 2).unwrap();
        assert_eq!(last_uid(dir.path(), "u@h/INBOX", 8).unwrap(), 2);
    }
}
