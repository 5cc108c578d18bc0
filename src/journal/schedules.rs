//! Scheduled sends (`bulletin schedule`), kept in the state folder's one
//! store (the journal's SQLite file, table [`TABLE`]) so they outlive a
//! restart of `bulletin serve`. A row goes `pending` → `claimed` → `sent`
//! or `failed`; or `pending` → `skipped` (missed by more than `CATCH_UP`)
//! or `cancelled`. Claiming is one `UPDATE … WHERE state = 'pending'`, so of
//! two `serve` processes on one folder only one gets the row; and whoever
//! works on a row holds the kernel's lock on `schedule-ID.lock` ([`Claim`])
//! while it does, so a row left `claimed` by a `serve` that died (its lock
//! went with it) is taken up again by the next, and one whose `serve` is
//! still at work is left alone. The send itself is the journal's: resumed,
//! it mails nobody twice.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use super::sqlite::{OpenError, open};
use crate::domain::Timestamp;

/// The table of scheduled sends.
pub const TABLE: &str = "schedules";

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS schedules (\
    id INTEGER PRIMARY KEY AUTOINCREMENT, bulletin TEXT NOT NULL, due_at TEXT NOT NULL, \
    state TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'sent', 'skipped', 'cancelled', 'failed')), \
    claimed_by TEXT, why TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, updated_at TEXT NOT NULL);\
    CREATE INDEX IF NOT EXISTS schedules_due ON schedules (state, due_at);";

/// Where a scheduled send is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleState {
    Pending,
    /// A `serve` took it and is sending (or died sending: resumed).
    Claimed,
    Sent,
    /// Missed by more than `CATCH_UP`.
    Skipped,
    Cancelled,
    Failed,
}

impl ScheduleState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Claimed => "claimed",
            Self::Sent => "sent",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "pending" => Self::Pending,
            "claimed" => Self::Claimed,
            "sent" => Self::Sent,
            "skipped" => Self::Skipped,
            "cancelled" => Self::Cancelled,
            _ => Self::Failed,
        }
    }
}

/// One scheduled send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub id: i64,
    pub bulletin: PathBuf,
    pub due: Timestamp,
    pub state: ScheduleState,
    /// `pid@host` of the `serve` that claimed it.
    pub claimed_by: Option<String>,
    /// Why it was skipped or failed, or what the send said.
    pub why: String,
}

/// What `cancel` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancel {
    Cancelled,
    NotFound,
    /// Not pending any more: claimed (being sent) or done.
    Not(ScheduleState),
}

/// The schedules of one state folder.
#[derive(Debug)]
pub struct Schedules {
    conn: Connection,
    state_dir: PathBuf,
}

impl Schedules {
    /// Opens the store in `state_dir`, making the table if needed.
    pub fn open(state_dir: &Path) -> Result<Self, OpenError> {
        let conn = open(state_dir, super::FILE_NAME, SCHEMA)?;
        Ok(Self { conn, state_dir: state_dir.to_owned() })
    }

    /// Adds a pending send of `bulletin` at `due`; returns its id.
    pub fn add(&self, bulletin: &Path, due: Timestamp, now: Timestamp) -> Result<i64, OpenError> {
        self.conn.execute(
            "INSERT INTO schedules (bulletin, due_at, state, created_at, updated_at) \
             VALUES (?1, ?2, 'pending', ?3, ?3)",
            params![bulletin.to_string_lossy(), due.to_string(), now.to_string()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Every schedule, soonest first.
    pub fn all(&self) -> Result<Vec<Schedule>, OpenError> {
        self.select(
            "SELECT id, bulletin, due_at, state, claimed_by, why FROM schedules ORDER BY due_at, id",
            [],
        )
    }

    /// The ones due by `now` that nobody has finished: pending, or claimed
    /// (being sent, or left by a `serve` that died).
    pub fn due(&self, now: Timestamp) -> Result<Vec<Schedule>, OpenError> {
        // RFC 3339 in UTC to the second: text order is time order.
        self.select(
            "SELECT id, bulletin, due_at, state, claimed_by, why FROM schedules \
             WHERE state IN ('pending', 'claimed') AND due_at <= ?1 ORDER BY due_at, id",
            [now.to_string()],
        )
    }

    /// One schedule by id.
    pub fn get(&self, id: i64) -> Result<Option<Schedule>, OpenError> {
        Ok(self
            .select("SELECT id, bulletin, due_at, state, claimed_by, why FROM schedules WHERE id = ?1", [id])?
            .pop())
    }

    /// Cancels a pending schedule; one being sent or done stays as it is.
    pub fn cancel(&self, id: i64, now: Timestamp) -> Result<Cancel, OpenError> {
        let changed = self.conn.execute(
            "UPDATE schedules SET state = 'cancelled', why = 'cancelled', updated_at = ?2 \
             WHERE id = ?1 AND state = 'pending'",
            params![id, now.to_string()],
        )?;
        if changed == 1 {
            return Ok(Cancel::Cancelled);
        }
        Ok(self.get(id)?.map_or(Cancel::NotFound, |s| Cancel::Not(s.state)))
    }

    /// Claims schedule `id` for `by` (`pid@host`), under its [`Claim`]: a
    /// pending one, or a claimed one whose `serve` is gone (the claim's
    /// lock proves nobody else works on it). `false` if it is neither.
    pub fn claim(&self, _lock: &Claim, id: i64, by: &str, now: Timestamp) -> Result<bool, OpenError> {
        let changed = self.conn.execute(
            "UPDATE schedules SET state = 'claimed', claimed_by = ?2, updated_at = ?3 \
             WHERE id = ?1 AND state IN ('pending', 'claimed')",
            params![id, by, now.to_string()],
        )?;
        Ok(changed == 1)
    }

    /// Skips a pending schedule (missed by too much); `false` if it was
    /// not pending any more.
    pub fn skip(&self, id: i64, why: &str, now: Timestamp) -> Result<bool, OpenError> {
        let changed = self.conn.execute(
            "UPDATE schedules SET state = 'skipped', why = ?2, updated_at = ?3 WHERE id = ?1 AND state = 'pending'",
            params![id, why, now.to_string()],
        )?;
        Ok(changed == 1)
    }

    /// Records how a claimed schedule ended: sent or failed, and why.
    pub fn settle(&self, id: i64, state: ScheduleState, why: &str, now: Timestamp) -> Result<(), OpenError> {
        self.conn.execute(
            "UPDATE schedules SET state = ?2, why = ?3, updated_at = ?4 WHERE id = ?1 AND state = 'claimed'",
            params![id, state.as_str(), why, now.to_string()],
        )?;
        Ok(())
    }

    /// Takes the lock of schedule `id`, or `None` if another process holds
    /// it (its `serve` is at work on it).
    pub fn lock(&self, id: i64) -> std::io::Result<Option<Claim>> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.state_dir.join(format!("schedule-{id}.lock")))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Claim { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    fn select(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<Schedule>, OpenError> {
        let mut statement = self.conn.prepare(sql)?;
        let rows = statement.query_map(args, |row| {
            let due: String = row.get(2)?;
            let state: String = row.get(3)?;
            Ok(Schedule {
                id: row.get(0)?,
                bulletin: PathBuf::from(row.get::<_, String>(1)?),
                due: Timestamp::parse(&due).unwrap_or(Timestamp::from_unix(0)),
                state: ScheduleState::parse(&state),
                claimed_by: row.get(4).optional()?.flatten(),
                why: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// The kernel's lock on one schedule, held while a `serve` works on it;
/// gone with the process however it ends.
#[derive(Debug)]
pub struct Claim {
    _file: File,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> Timestamp {
        Timestamp::from_unix(2_000_000_000 + s)
    }

    #[test]
    fn a_due_schedule_is_claimed_once_and_a_later_one_is_not_due() {
        let dir = tempfile::tempdir().unwrap();
        let store = Schedules::open(dir.path()).unwrap();
        let soon = store.add(Path::new("/n/a.md"), at(60), at(0)).unwrap();
        store.add(Path::new("/n/b.md"), at(600), at(0)).unwrap();
        assert!(store.due(at(59)).unwrap().is_empty());
        let due = store.due(at(61)).unwrap();
        assert_eq!(due.iter().map(|s| s.id).collect::<Vec<_>>(), [soon]);
        let claim = store.lock(soon).unwrap().unwrap();
        assert!(store.lock(soon).unwrap().is_none(), "a second lock is refused while the first is held");
        assert!(store.claim(&claim, soon, "1@h", at(61)).unwrap());
        store.settle(soon, ScheduleState::Sent, "sent", at(70)).unwrap();
        assert!(!store.claim(&claim, soon, "2@h", at(71)).unwrap(), "a sent schedule is never claimed again");
        assert!(store.due(at(71)).unwrap().is_empty());
    }

    #[test]
    fn only_a_pending_schedule_is_cancelled_and_the_others_say_why_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = Schedules::open(dir.path()).unwrap();
        let a = store.add(Path::new("a.md"), at(60), at(0)).unwrap();
        let b = store.add(Path::new("b.md"), at(60), at(0)).unwrap();
        let claim = store.lock(b).unwrap().unwrap();
        store.claim(&claim, b, "1@h", at(61)).unwrap();
        assert_eq!(store.cancel(a, at(1)).unwrap(), Cancel::Cancelled);
        assert_eq!(store.cancel(b, at(62)).unwrap(), Cancel::Not(ScheduleState::Claimed));
        assert_eq!(store.cancel(99, at(62)).unwrap(), Cancel::NotFound);
        assert!(!store.skip(a, "late", at(63)).unwrap(), "a cancelled schedule is not skipped");
    }
}
