//! Opening a SQLite file the way every store of ours needs it: the folder
//! made if missing, a write-ahead log, every commit synced (`FULL`: a commit
//! is on disk before the message it covers is handed to the relay, even if
//! the machine loses power), and ten seconds' patience with another writer.
//! The journal and the bounce ledger both open through here.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Opens (creating if needed) `file` in `dir` and runs `schema`, which must
/// be safe to run again (`CREATE … IF NOT EXISTS`).
pub fn open(dir: &Path, file: &str, schema: &str) -> Result<Connection, OpenError> {
    std::fs::create_dir_all(dir)?;
    let conn = Connection::open(dir.join(file))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(schema)?;
    Ok(conn)
}
