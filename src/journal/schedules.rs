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
//!
//! A `SEND_EVERY` occurrence is a row like the others, with its
//! `occurrence` key (`2026-12-10T07:00`, its local time) under a unique
//! index: whichever `serve` inserts it first decides it (the bulletin to
//! send, or skipped and why), and the claim above runs it once. The
//! reminder the day before is one row of [`REMINDERS`] per occurrence, so
//! two `serve` processes remind once.

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
    CREATE INDEX IF NOT EXISTS schedules_due ON schedules (state, due_at);\
    CREATE TABLE IF NOT EXISTS weekly_reminders (occurrence TEXT PRIMARY KEY, created_at TEXT NOT NULL);";

/// The table of the reminders sent the day before a weekly occurrence.
pub const REMINDERS: &str = "weekly_reminders";

/// The columns every query reads, in [`Schedules::select`]'s order.
const COLUMNS: &str = "id, bulletin, due_at, state, claimed_by, why, occurrence";

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
    /// The `SEND_EVERY` occurrence it is (`2026-12-10T07:00`); `None` for
    /// one `bulletin schedule` added.
    pub occurrence: Option<String>,
}

/// How a weekly occurrence is recorded: its bulletin queued, or skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided<'a> {
    /// Pending, to be sent like any schedule.
    Send(&'a Path),
    /// Skipped, and why (no bulletin ready, missed by too much).
    Skip(&'a str),
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
        add_occurrences(&conn)?;
        Ok(Self { conn, state_dir: state_dir.to_owned() })
    }

    /// Records weekly occurrence `key`, due at `due`, as `decided`, unless
    /// it is recorded already (by this `serve` or another): its id if this
    /// call recorded it, `None` if it was there.
    pub fn decide(
        &self,
        key: &str,
        due: Timestamp,
        decided: Decided<'_>,
        now: Timestamp,
    ) -> Result<Option<i64>, OpenError> {
        let (bulletin, state, why) = match decided {
            Decided::Send(path) => (path.to_string_lossy().into_owned(), "pending", ""),
            Decided::Skip(why) => (String::new(), "skipped", why),
        };
        let changed = self.conn.execute(
            "INSERT OR IGNORE INTO schedules (bulletin, due_at, state, why, occurrence, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![bulletin, due.to_string(), state, why, key, now.to_string()],
        )?;
        Ok((changed == 1).then(|| self.conn.last_insert_rowid()))
    }

    /// The row of weekly occurrence `key`, if it is recorded.
    pub fn occurrence(&self, key: &str) -> Result<Option<Schedule>, OpenError> {
        Ok(self.select(&format!("SELECT {COLUMNS} FROM schedules WHERE occurrence = ?1"), [key])?.pop())
    }

    /// Whether any weekly occurrence was ever recorded (none before
    /// `SEND_EVERY` was first set).
    pub fn any_occurrence(&self) -> Result<bool, OpenError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM schedules WHERE occurrence IS NOT NULL)",
            [],
            |row| row.get(0),
        )?)
    }

    /// Whether the reminder for occurrence `key` was recorded.
    pub fn reminded(&self, key: &str) -> Result<bool, OpenError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM weekly_reminders WHERE occurrence = ?1)",
            [key],
            |row| row.get(0),
        )?)
    }

    /// Records the reminder for occurrence `key`: `true` for the one call
    /// (of every `serve`) that records it and so sends it.
    pub fn remind_once(&self, key: &str, now: Timestamp) -> Result<bool, OpenError> {
        let changed = self.conn.execute(
            "INSERT OR IGNORE INTO weekly_reminders (occurrence, created_at) VALUES (?1, ?2)",
            params![key, now.to_string()],
        )?;
        Ok(changed == 1)
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
        self.select(&format!("SELECT {COLUMNS} FROM schedules ORDER BY due_at, id"), [])
    }

    /// The ones due by `now` that nobody has finished: pending, or claimed
    /// (being sent, or left by a `serve` that died).
    pub fn due(&self, now: Timestamp) -> Result<Vec<Schedule>, OpenError> {
        // RFC 3339 in UTC to the second: text order is time order.
        self.select(
            &format!(
                "SELECT {COLUMNS} FROM schedules \
                 WHERE state IN ('pending', 'claimed') AND due_at <= ?1 ORDER BY due_at, id"
            ),
            [now.to_string()],
        )
    }

    /// One schedule by id.
    pub fn get(&self, id: i64) -> Result<Option<Schedule>, OpenError> {
        Ok(self.select(&format!("SELECT {COLUMNS} FROM schedules WHERE id = ?1"), [id])?.pop())
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
                occurrence: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Brings a store made before `SEND_EVERY` up to date: the `occurrence`
/// column and its unique index (empty for the sends `bulletin schedule`
/// added; SQLite's unique index lets many rows have none). One
/// transaction, so of two `serve` processes starting at once the second
/// waits and finds it done.
fn add_occurrences(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        let has: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM pragma_table_info('schedules') WHERE name = 'occurrence')",
            [],
            |row| row.get(0),
        )?;
        if !has {
            conn.execute_batch("ALTER TABLE schedules ADD COLUMN occurrence TEXT")?;
        }
        conn.execute_batch("CREATE UNIQUE INDEX IF NOT EXISTS schedules_occurrence ON schedules (occurrence)")
    })();
    conn.execute_batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    result
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

    #[test]
    fn a_weekly_occurrence_is_recorded_once_and_runs_as_a_schedule() {
        let dir = tempfile::tempdir().unwrap();
        let (one, two) = (Schedules::open(dir.path()).unwrap(), Schedules::open(dir.path()).unwrap());
        assert!(!one.any_occurrence().unwrap());
        let id = one.decide("2026-12-10T07:00", at(60), Decided::Send(Path::new("/n/a.md")), at(61)).unwrap();
        let again = two.decide("2026-12-10T07:00", at(60), Decided::Skip("no new bulletin"), at(61)).unwrap();
        assert_eq!((id.is_some(), again), (true, None), "the second serve finds it decided");
        let row = two.occurrence("2026-12-10T07:00").unwrap().unwrap();
        assert_eq!((row.state, row.bulletin.as_path()), (ScheduleState::Pending, Path::new("/n/a.md")));
        assert_eq!(two.due(at(61)).unwrap().iter().map(|s| s.id).collect::<Vec<_>>(), [row.id]);
        let skipped =
            one.decide("2026-12-17T07:00", at(120), Decided::Skip("no new bulletin"), at(121)).unwrap();
        assert_eq!(one.get(skipped.unwrap()).unwrap().unwrap().state, ScheduleState::Skipped);
        assert!(one.any_occurrence().unwrap());
        assert!(one.remind_once("2026-12-17T07:00", at(100)).unwrap());
        assert!(!two.remind_once("2026-12-17T07:00", at(101)).unwrap(), "reminded once");
    }

    #[test]
    fn a_store_made_before_send_every_gains_the_occurrence_column_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let old = Connection::open(dir.path().join(super::super::FILE_NAME)).unwrap();
        old.execute_batch(
            "CREATE TABLE schedules (id INTEGER PRIMARY KEY AUTOINCREMENT, bulletin TEXT NOT NULL, \
             due_at TEXT NOT NULL, state TEXT NOT NULL, claimed_by TEXT, why TEXT NOT NULL DEFAULT '', \
             created_at TEXT NOT NULL, updated_at TEXT NOT NULL);\
             INSERT INTO schedules (bulletin, due_at, state, created_at, updated_at) \
             VALUES ('/n/a.md', '2033-05-18T03:34:20Z', 'pending', 'x', 'x');",
        )
        .unwrap();
        drop(old);
        let store = Schedules::open(dir.path()).unwrap();
        let kept = store.all().unwrap();
        assert_eq!((kept.len(), kept[0].occurrence.as_deref()), (1, None));
        store.decide("2026-12-10T07:00", at(60), Decided::Skip("none"), at(61)).unwrap();
        assert_eq!(store.decide("2026-12-10T07:00", at(60), Decided::Skip("none"), at(61)).unwrap(), None);
        assert_eq!(
            Schedules::open(dir.path()).unwrap().all().unwrap().len(),
            2,
            "opened again: nothing added"
        );
    }
}
