//! Opening a SQLite file the way every store of ours needs it: the folder
//! made if missing, a write-ahead log, every commit synced (`FULL`: a commit
//! is on disk before the message it covers is handed to the relay, even if
//! the machine loses power), and ten seconds' patience with another writer.
//! The journal and the bounce ledger both open through here.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode};

/// How long to wait for another process's lock: for each statement, and
/// for the first steps of opening.
const PATIENCE: Duration = Duration::from_secs(10);

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
    conn.busy_timeout(PATIENCE)?;
    // Turning on the write-ahead log, and the schema, can meet another
    // process doing the same to a new file; SQLite then answers "busy" at
    // once, without its busy handler, so wait here.
    patiently(|| conn.pragma_update(None, "journal_mode", "WAL"))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    patiently(|| conn.execute_batch(schema))?;
    Ok(conn)
}

/// Runs `step` again while SQLite says another connection holds the lock,
/// for up to [`PATIENCE`].
fn patiently<T>(mut step: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match step() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::DatabaseBusy && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_first_openings_of_one_new_file_at_once_all_succeed() {
        for _ in 0..30 {
            let dir = tempfile::tempdir().unwrap();
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
            let threads: Vec<_> = (0..6)
                .map(|_| {
                    let (dir, barrier) = (dir.path().to_owned(), std::sync::Arc::clone(&barrier));
                    std::thread::spawn(move || {
                        barrier.wait();
                        open(&dir, "store.sqlite3", "CREATE TABLE IF NOT EXISTS t (a INTEGER);").map(|_| ())
                    })
                })
                .collect();
            for thread in threads {
                thread.join().unwrap().unwrap();
            }
        }
    }
}
