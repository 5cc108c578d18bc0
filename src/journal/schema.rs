//! The journal's tables, and bringing an older journal file up to date
//! when it is opened. Version 1 kept a reply's words only; version 2 keeps
//! its reply code and enhanced status code beside them; version 3 keeps,
//! per recipient, the fingerprint of what was sent, and the campaign's
//! subject on its own; version 4 the text of each campaign's latest run
//! (its fingerprint) and, for each text, its shingles, so that a corrected
//! copy of a bulletin is known for one; version 5 keys every recipient by
//! the address identity of today (the domain in its IDNA form, no needless
//! quotes), so a campaign begun before that change resumes without
//! mailing anyone twice.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use super::{FILE_NAME, JournalError, sqlite};
use crate::domain::{EmailKey, Reply, ReplyCode};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS campaigns (
    id TEXT PRIMARY KEY,
    bulletin TEXT NOT NULL,
    subject TEXT NOT NULL,
    first_started_at TEXT,
    last_started_at TEXT,
    finished_at TEXT,
    fingerprint TEXT
);
CREATE TABLE IF NOT EXISTS texts (
    fingerprint TEXT PRIMARY KEY,
    shingles BLOB NOT NULL
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
";

/// The schema's version now: 2 keeps the relay's reply code and enhanced
/// status code beside its words; 3 the fingerprint of what each recipient
/// was sent; 4 each campaign's latest text, and each text's shingles; 5
/// every row keyed by today's [`EmailKey`].
pub(super) const VERSION: i64 = 5;

/// Opens (creating if needed) the journal file in `state_dir`, bringing an
/// older one up to [`VERSION`].
pub(super) fn connect(state_dir: &Path) -> Result<(PathBuf, Connection), JournalError> {
    let path = state_dir.join(FILE_NAME);
    let conn = sqlite::open(state_dir, FILE_NAME, SCHEMA).map_err(|e| JournalError::new(&path, e))?;
    migrate(&conn).map_err(|e| JournalError::new(&path, e))?;
    Ok((path, conn))
}

/// Brings the file up to [`VERSION`], one step after another. One
/// transaction, so a second process opening the same journal waits and
/// then finds it done.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if version >= VERSION {
            return Ok(());
        }
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('recipients')")?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if version < 2 {
            to_version_2(conn, &columns)?;
        }
        if version < 3 {
            to_version_3(conn, &columns)?;
        }
        if version < 4 {
            to_version_4(conn)?;
        }
        if version < 5 {
            to_version_5(conn)?;
        }
        conn.pragma_update(None, "user_version", VERSION)
    })();
    conn.execute_batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    result
}

/// Version 1 → 2: two columns for the reply's codes, filled for rows
/// written before from the words they kept.
fn to_version_2(conn: &Connection, columns: &[String]) -> rusqlite::Result<()> {
    if !columns.iter().any(|c| c == "reply_code") {
        conn.execute_batch(
            "ALTER TABLE recipients ADD COLUMN reply_code INTEGER;
             ALTER TABLE recipients ADD COLUMN reply_status TEXT;",
        )?;
    }
    let old: Vec<(i64, String)> = conn
        .prepare("SELECT rowid, reply FROM recipients WHERE reply <> '' AND reply_code IS NULL")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update =
        conn.prepare("UPDATE recipients SET reply_code = ?2, reply_status = ?3 WHERE rowid = ?1")?;
    for (rowid, text) in old {
        let reply = Reply::from_text(text);
        update.execute(params![
            rowid,
            reply.code().map(ReplyCode::value),
            reply.status().map(|s| s.to_string())
        ])?;
    }
    Ok(())
}

/// Version 3 → 4: a column for the text (fingerprint) of each campaign's
/// latest run, empty for campaigns sent before: they are still matched by
/// the fingerprints of their rows, only not as near copies. (The `texts`
/// table is made by the schema itself.)
fn to_version_4(conn: &Connection) -> rusqlite::Result<()> {
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('campaigns')")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if !columns.iter().any(|c| c == "fingerprint") {
        conn.execute_batch("ALTER TABLE campaigns ADD COLUMN fingerprint TEXT;")?;
    }
    Ok(())
}

/// Version 2 → 3: a column for the fingerprint of what each recipient was
/// sent (empty for rows written before: nobody knows it), indexed, since a
/// send looks for it across campaigns; and each campaign's subject on its
/// own, where version 2 kept `CAMPAIGN (subject: SUBJECT)`, so that
/// subjects can be compared across campaigns.
fn to_version_3(conn: &Connection, columns: &[String]) -> rusqlite::Result<()> {
    if !columns.iter().any(|c| c == "fingerprint") {
        conn.execute_batch("ALTER TABLE recipients ADD COLUMN fingerprint TEXT;")?;
    }
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS recipients_by_fingerprint ON recipients (fingerprint);
         UPDATE campaigns SET subject = substr(subject, length(id) + 12, length(subject) - length(id) - 12)
         WHERE substr(subject, 1, length(id) + 11) = id || ' (subject: ' AND substr(subject, -1) = ')';",
    )
}

/// Version 4 → 5: rows keyed before an address had one identity however it
/// is spelled (`ulla@bücher.test`, `"bob"@example.org`) are keyed as today
/// (`ulla@xn--bcher-kva.test`, `bob@example.org`), so that a campaign
/// resumed across the upgrade finds them and mails nobody twice. Where a
/// campaign already holds a row under the new key, the one that says more
/// is kept: `sent` over `sending` (in doubt) over `failed`.
fn to_version_5(conn: &Connection) -> rusqlite::Result<()> {
    let old: Vec<(i64, String, String)> = conn
        .prepare("SELECT rowid, campaign, email_key FROM recipients WHERE email_key GLOB '*[^ -~]*' OR email_key GLOB '*\"*'")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let rank = "CASE state WHEN 'sent' THEN 2 WHEN 'sending' THEN 1 ELSE 0 END";
    for (rowid, campaign, key) in old {
        let new = EmailKey::of(&key);
        if new.as_str() == key {
            continue;
        }
        let taken: Option<i64> = conn
            .query_row(
                "SELECT rowid FROM recipients WHERE campaign = ?1 AND email_key = ?2",
                params![campaign, new.as_str()],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(other) = taken {
            // Keep whichever row says more; the other goes.
            let keep_old: bool = conn.query_row(
                &format!(
                    "SELECT (SELECT {rank} FROM recipients WHERE rowid = ?1) > (SELECT {rank} FROM recipients WHERE rowid = ?2)"
                ),
                params![rowid, other],
                |row| row.get(0),
            )?;
            let gone = if keep_old { other } else { rowid };
            conn.execute("DELETE FROM recipients WHERE rowid = ?1", params![gone])?;
            if !keep_old {
                continue;
            }
        }
        conn.execute("UPDATE recipients SET email_key = ?2 WHERE rowid = ?1", params![rowid, new.as_str()])?;
    }
    Ok(())
}
