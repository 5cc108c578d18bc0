//! Erasing an address from the journal on its owner's request (`bulletin
//! forget`), without breaking its guarantees.
//!
//! The rows are not deleted: a row says a message was handed over, and a
//! resumed run must still count it as done (and a daily allowance as
//! used). Instead each row about the address gets the address's pseudonym
//! (see [`crate::subscribers::pseudonym`]) as its key and address, and the
//! address is taken out of the relay's reply. The old bytes are
//! overwritten (SQLite's `secure_delete`), the file is rebuilt (`VACUUM`)
//! and the write-ahead log is emptied into it, so no copy of the address
//! is left on disk.

use std::path::Path;

use rusqlite::{Connection, params};

use super::{FILE_NAME, JournalError, connect};
use crate::domain::EmailKey;

/// What an erasure changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    /// Rows that named the address.
    pub rows: u64,
    /// The write-ahead log could not be emptied (another process has the
    /// file open, a send say): it keeps old copies until that ends.
    pub log_busy: bool,
}

/// Gives every row about `key`, in every campaign, `pseudonym` in its
/// place. Nothing is done when `state_dir` has no journal.
pub fn erase(state_dir: &Path, key: &EmailKey, pseudonym: &str) -> Result<Erased, JournalError> {
    if !state_dir.join(FILE_NAME).exists() {
        return Ok(Erased::default());
    }
    let (path, conn) = connect(state_dir)?;
    let fail = |source: rusqlite::Error| JournalError::new(&path, source);
    let rows = (|| {
        conn.pragma_update(None, "secure_delete", true)?;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = rename(&conn, key, pseudonym);
        conn.execute_batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
        result
    })()
    .map_err(fail)?;
    let log_busy = empty_log(&conn).map_err(fail)?;
    Ok(Erased { rows, log_busy })
}

fn rename(conn: &Connection, key: &EmailKey, pseudonym: &str) -> rusqlite::Result<u64> {
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT rowid, reply FROM recipients WHERE email_key = ?1")?
        .query_map(params![key.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let address = regex::RegexBuilder::new(&regex::escape(key.as_str()))
        .case_insensitive(true)
        .build()
        .expect("an escaped address is a valid pattern");
    // A row of the same campaign may have the pseudonym already (forgotten
    // before, then mailed again): one row is kept.
    let mut update = conn.prepare(
        "UPDATE OR REPLACE recipients SET email_key = ?2, address = ?2, reply = ?3 WHERE rowid = ?1",
    )?;
    for (rowid, reply) in &rows {
        update.execute(params![rowid, pseudonym, address.replace_all(reply, pseudonym)])?;
    }
    Ok(rows.len() as u64)
}

/// Rebuilds the file (`VACUUM`: `secure_delete` zeroes freed cells, but
/// moving cells between pages can leave old bytes in a page's unused
/// space), then copies the write-ahead log into it and truncates the log;
/// true when another connection kept the log from being emptied.
pub(crate) fn empty_log(conn: &Connection) -> rusqlite::Result<bool> {
    conn.execute_batch("VACUUM")?;
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
    Ok(busy != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::CampaignId;
    use crate::domain::{MessageId, Reply};
    use crate::journal::{Journal, Recipient, State};

    #[test]
    fn a_forgotten_recipient_stays_done_under_their_pseudonym_and_their_address_is_gone_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let campaign = CampaignId::for_tests("2025-10-16-news");
        let journal = Journal::open(dir.path(), &campaign).unwrap();
        for (address, state) in [("Ana@Example.org", State::Sent), ("bo@example.org", State::Failed)] {
            let recipient = Recipient { key: EmailKey::of(address), address: address.to_owned() };
            let id = MessageId::parse(&format!("<{}.1@x.example>", &address[..2])).unwrap();
            journal.sending(&recipient, &id).unwrap();
            let reply = Reply::from_text(format!("550 5.1.1 <{address}> unknown"));
            journal.answered(&recipient.key, state, &reply).unwrap();
        }
        drop(journal);
        let erased = erase(dir.path(), &EmailKey::of("ana@example.org"), "forgotten:1:2").unwrap();
        assert_eq!(erased, Erased { rows: 1, log_busy: false });
        let journal = Journal::open(dir.path(), &campaign).unwrap();
        assert_eq!(journal.state(&EmailKey::of("ana@example.org")).unwrap(), None);
        assert_eq!(journal.state(&EmailKey::stored("forgotten:1:2".into())).unwrap(), Some(State::Sent));
        assert_eq!(journal.summary().unwrap().sent, 1, "still counted as sent");
        let entries = journal.entries(None).unwrap();
        assert!(entries.iter().all(|e| !e.reply.text().to_lowercase().contains("ana@")), "{entries:?}");
        drop(journal);
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap().to_ascii_lowercase();
            assert!(!bytes.windows(15).any(|w| w == b"ana@example.org"));
        }
    }

    #[test]
    fn a_forgotten_recipient_who_signs_up_again_is_known_by_their_pseudonym_and_not_sent_the_campaign_again()
    {
        let dir = tempfile::tempdir().unwrap();
        let campaign = CampaignId::for_tests("2025-10-16-news");
        let journal = Journal::open(dir.path(), &campaign).unwrap();
        let ana = Recipient { key: EmailKey::of("ana@example.org"), address: "ana@example.org".to_owned() };
        journal.sending(&ana, &MessageId::parse("<an.1@x.example>").unwrap()).unwrap();
        journal.answered(&ana.key, State::Sent, &Reply::from_text("250 ok".to_owned())).unwrap();
        drop(journal);
        let pseudonym = crate::subscribers::pseudonym::Salt::random().pseudonym(&ana.key);
        erase(dir.path(), &ana.key, &pseudonym).unwrap();
        let journal = Journal::open(dir.path(), &campaign).unwrap();
        assert_eq!(journal.state(&EmailKey::of("ANA@example.org")).unwrap(), Some(State::Sent));
        assert_eq!(journal.state(&EmailKey::of("bo@example.org")).unwrap(), None);
    }
}
