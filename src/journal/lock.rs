//! One send at a time per campaign, and per text. A real send holds an
//! exclusive lock on `send-CAMPAIGN.lock` in the state directory for as
//! long as it runs; a second send of the same campaign finds it taken and
//! refuses, before it connects to the relay, naming the run that holds it.
//! Two campaigns have two files, so two different bulletins may send at
//! once; but two names of one bulletin (a copy under another file name, a
//! corrected copy) may not: a send takes its campaign's lock, records its
//! text in the journal and looks for another campaign of the same or nearly
//! the same text whose lock is held, all under the brief [`StartLock`], so
//! of two such sends started together exactly one goes ahead. `status`,
//! `bounces`, dry runs and test copies never take a lock.
//!
//! The lock is the kernel's (`flock` on Unix, through the standard
//! library's `File::try_lock`), so it goes with the process however that
//! ends: a send killed with SIGKILL leaves no stale lock to clear by hand.
//! The file itself stays; what it says (pid, host, start time, written by
//! the holder once it has the lock) only describes the run that holds it,
//! and is never taken as proof that one does.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::content::CampaignId;
use crate::domain::{Clock, Timestamp};

/// A held lock on one campaign's sends; released when dropped (or when the
/// process ends, however it ends).
#[derive(Debug)]
pub struct CampaignLock {
    // Holding the open file holds the lock.
    _file: File,
    path: PathBuf,
}

/// The run that holds a campaign's lock, as it wrote itself into the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub started: Timestamp,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another run holds it.
    #[error(
        "campaign {campaign} is already being sent by another run{} (lock {})\n\
         Nothing was sent: two sends of one campaign at once could mail people twice. Let that run \
         finish (or stop it), then run the same command again to send to anyone it did not reach.",
        holder.as_ref().map_or_else(|| ", which has not yet written who it is".to_owned(), |h| format!(": {h}")),
        path.display()
    )]
    Held { campaign: String, path: PathBuf, holder: Option<Holder> },
    /// Another run is sending the same bulletin, or a near copy of it,
    /// under another campaign's name.
    #[error(
        "campaign {campaign} is the same bulletin as campaign {other} (the same text, or nearly), which \
         another run is sending now{} (lock {})\n\
         Nothing was sent: two sends of one bulletin at once could mail people twice. Let that run \
         finish (or stop it), then run the same command again: whoever it reached is skipped.",
        holder.as_ref().map_or_else(String::new, |h| format!(": {h}")),
        path.display()
    )]
    SameText { campaign: String, other: String, path: PathBuf, holder: Option<Holder> },
    #[error("cannot {action} the send lock {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} on {}, started {}", self.pid, self.host, self.started)
    }
}

/// How long a refused run waits for the holder to finish writing who it is.
const DESCRIBE_WAIT: Duration = Duration::from_millis(500);

impl CampaignLock {
    /// The lock file of `campaign` in `state_dir`.
    pub fn path(state_dir: &Path, campaign: &CampaignId) -> PathBuf {
        // Campaign ids are lower-case letters, digits and hyphens: a safe
        // file name.
        state_dir.join(format!("send-{campaign}.lock"))
    }

    /// Takes the lock of `campaign` (making `state_dir` if needed) and
    /// writes this process into it, or says who holds it. Never waits.
    pub fn acquire(state_dir: &Path, campaign: &CampaignId, clock: &dyn Clock) -> Result<Self, LockError> {
        let path = Self::path(state_dir, campaign);
        let io = |action: &'static str| {
            let path = path.clone();
            move |source| LockError::Io { action, path, source }
        };
        fs::create_dir_all(state_dir).map_err(io("make the folder of"))?;
        // Not truncated on opening: the holder's description must survive
        // a refused run opening the same file.
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io("open"))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    campaign: campaign.to_string(),
                    holder: Self::holder(&mut file),
                    path,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io("take")(e)),
        }
        let holder = Holder {
            pid: std::process::id(),
            host: hostname::get()
                .map_or_else(|_| "an unknown host".to_owned(), |h| h.to_string_lossy().into_owned()),
            started: clock.now(),
        };
        let text = format!("pid {}\nhost {}\nstarted {}\n", holder.pid, holder.host, holder.started);
        file.set_len(0).map_err(io("write"))?;
        file.rewind().map_err(io("write"))?;
        file.write_all(text.as_bytes()).map_err(io("write"))?;
        file.flush().map_err(io("write"))?;
        Ok(Self { _file: file, path })
    }

    /// Says who holds the lock of `campaign`, if anyone, without taking it
    /// or making anything: for refusing before the plan is shown and
    /// confirmed. [`CampaignLock::acquire`] still decides.
    pub fn check(state_dir: &Path, campaign: &CampaignId) -> Result<(), LockError> {
        let path = Self::path(state_dir, campaign);
        match Self::probe(&path) {
            Some(holder) => Err(LockError::Held { campaign: campaign.to_string(), holder, path }),
            None => Ok(()),
        }
    }

    /// Refuses, naming the holder, if a run holds the lock of one of
    /// `others`: campaigns the journal says send the same text as
    /// `campaign`, or nearly. Called under the [`StartLock`], which every
    /// run holds while it takes its own lock, so a probe never makes
    /// another run's `acquire` fail.
    pub fn refuse_if_sending(
        state_dir: &Path,
        campaign: &CampaignId,
        others: &[String],
    ) -> Result<(), LockError> {
        for other in others {
            // The journal's campaign ids are ids, so a safe file name.
            let path = state_dir.join(format!("send-{other}.lock"));
            if let Some(holder) = Self::probe(&path) {
                return Err(LockError::SameText {
                    campaign: campaign.to_string(),
                    other: other.clone(),
                    path,
                    holder,
                });
            }
        }
        Ok(())
    }

    /// `Some(who)` if a run holds the lock file at `path` (who, if it has
    /// written itself), `None` if it is free or missing.
    fn probe(path: &Path) -> Option<Option<Holder>> {
        let mut file = File::open(path).ok()?;
        match file.try_lock_shared() {
            Err(TryLockError::WouldBlock) => Some(Self::holder(&mut file)),
            // Free (the shared lock goes with the file), or not lockable
            // here: acquire will say.
            Ok(()) | Err(TryLockError::Error(_)) => None,
        }
    }

    /// The lock file.
    pub fn file(&self) -> &Path {
        &self.path
    }

    /// Who holds the lock, as the holder wrote it: read again for a moment
    /// if it has not finished writing.
    fn holder(file: &mut File) -> Option<Holder> {
        let started = std::time::Instant::now();
        loop {
            let mut text = String::new();
            let read = file.rewind().and_then(|()| file.read_to_string(&mut text));
            if let Some(holder) = read.ok().and_then(|_| Holder::parse(&text)) {
                return Some(holder);
            }
            if started.elapsed() >= DESCRIBE_WAIT {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Holder {
    /// Reads what [`CampaignLock::acquire`] writes; `None` unless whole.
    fn parse(text: &str) -> Option<Self> {
        let (mut pid, mut host, mut started) = (None, None, None);
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("pid", value)) => pid = value.trim().parse().ok(),
                Some(("host", value)) => host = Some(value.trim().to_owned()),
                Some(("started", value)) => started = Timestamp::parse(value),
                _ => {}
            }
        }
        Some(Self { pid: pid?, host: host?, started: started? })
    }
}

/// `start.lock`: held alone, for a moment, by each send while it takes its
/// campaign's lock, records its text and looks for a run of the same text
/// ([`CampaignLock::refuse_if_sending`]); waits for the one holding it.
#[derive(Debug)]
pub struct StartLock {
    // Holding the open file holds the lock.
    _file: File,
}

impl StartLock {
    pub const FILE_NAME: &str = "start.lock";

    pub fn acquire(state_dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(state_dir)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(state_dir.join(Self::FILE_NAME))?;
        file.lock()?;
        Ok(Self { _file: file })
    }
}

/// The whole state folder's lock, `state.lock`: every send holds it shared
/// from before it reads the lists to its end, and `bulletin forget` holds it
/// alone, so an address being erased is never read, sent to and written
/// back into the journal by a send that started a moment before.
#[derive(Debug)]
pub struct StateLock {
    // Holding the open file holds the lock.
    _file: File,
}

/// `forget` found a send running.
#[derive(Debug, thiserror::Error)]
#[error("a send is running (it holds {} shared)", path.display())]
pub struct Busy {
    pub path: PathBuf,
}

impl StateLock {
    pub const FILE_NAME: &str = "state.lock";

    fn open(state_dir: &Path) -> io::Result<(File, PathBuf)> {
        fs::create_dir_all(state_dir)?;
        let path = state_dir.join(Self::FILE_NAME);
        let file = OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path)?;
        Ok((file, path))
    }

    /// Shared, as a send holds it; waits (saying so once, through
    /// `waiting`) while `forget` holds it, which takes seconds.
    pub fn shared(state_dir: &Path, waiting: impl FnOnce()) -> io::Result<Self> {
        let (file, _) = Self::open(state_dir)?;
        match file.try_lock_shared() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                waiting();
                file.lock_shared()?;
            }
            Err(TryLockError::Error(e)) => return Err(e),
        }
        Ok(Self { _file: file })
    }

    /// Alone, as `forget` holds it; never waits.
    pub fn exclusive(state_dir: &Path) -> io::Result<Result<Self, Busy>> {
        let (file, path) = Self::open(state_dir)?;
        match file.try_lock() {
            Ok(()) => Ok(Ok(Self { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(Err(Busy { path })),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign(id: &str) -> CampaignId {
        CampaignId::for_tests(id)
    }

    /// 2025-10-09T08:53:20Z.
    const T: u64 = 1_760_000_000;

    #[test]
    fn a_second_lock_on_a_campaign_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let held =
            CampaignLock::acquire(dir.path(), &campaign("2025-10-16-prayer"), &Timestamp::from_unix(T))
                .unwrap();
        let refused =
            CampaignLock::acquire(dir.path(), &campaign("2025-10-16-prayer"), &Timestamp::from_unix(T))
                .unwrap_err();
        let LockError::Held { holder: Some(holder), path, .. } = &refused else { panic!("{refused:?}") };
        assert_eq!(holder.pid, std::process::id());
        assert_eq!(holder.started, Timestamp::from_unix(T));
        assert!(!holder.host.is_empty());
        assert_eq!(path, held.file());
        let message = refused.to_string();
        assert!(
            message.contains("campaign 2025-10-16-prayer is already being sent by another run"),
            "{message}"
        );
        assert!(message.contains(&format!("pid {} on ", std::process::id())), "{message}");
        assert!(message.contains("started 2025-10-09T08:53:20Z"), "{message}");
    }

    #[test]
    fn the_lock_is_free_again_once_dropped_and_its_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let lock = CampaignLock::acquire(dir.path(), &campaign("a"), &Timestamp::from_unix(T)).unwrap();
        let path = lock.file().to_owned();
        drop(lock);
        assert!(path.exists());
        let again = CampaignLock::acquire(dir.path(), &campaign("a"), &Timestamp::from_unix(5)).unwrap();
        let text = fs::read_to_string(again.file()).unwrap();
        assert!(text.contains("started 1970-01-01T00:00:05Z"), "rewritten whole by the new holder: {text}");
        assert_eq!(text.lines().count(), 3, "{text}");
    }

    #[test]
    fn a_check_refuses_while_the_lock_is_held_and_makes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        CampaignLock::check(&state, &campaign("a")).unwrap();
        assert!(!state.exists(), "nothing is made");
        let held = CampaignLock::acquire(&state, &campaign("a"), &Timestamp::from_unix(T)).unwrap();
        let refused = CampaignLock::check(&state, &campaign("a")).unwrap_err();
        assert!(matches!(&refused, LockError::Held { holder: Some(h), .. } if h.pid == std::process::id()));
        CampaignLock::check(&state, &campaign("b")).unwrap();
        drop(held);
        CampaignLock::check(&state, &campaign("a")).unwrap();
        CampaignLock::acquire(&state, &campaign("a"), &Timestamp::from_unix(T)).unwrap();
    }

    #[test]
    fn two_campaigns_lock_independently() {
        let dir = tempfile::tempdir().unwrap();
        let _a = CampaignLock::acquire(dir.path(), &campaign("a"), &Timestamp::from_unix(T)).unwrap();
        let _b = CampaignLock::acquire(dir.path(), &campaign("b"), &Timestamp::from_unix(T)).unwrap();
    }

    #[test]
    fn a_holder_that_has_not_written_itself_yet_is_refused_all_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = CampaignLock::path(dir.path(), &campaign("a"));
        let other = File::create(&path).unwrap();
        other.lock().unwrap();
        let refused =
            CampaignLock::acquire(dir.path(), &campaign("a"), &Timestamp::from_unix(T)).unwrap_err();
        assert!(matches!(refused, LockError::Held { holder: None, .. }), "{refused:?}");
        assert!(refused.to_string().contains("which has not yet written who it is"), "{refused}");
    }

    #[test]
    fn only_a_whole_description_is_believed() {
        assert_eq!(Holder::parse(""), None);
        assert_eq!(Holder::parse("pid 12\nhost h\n"), None);
        assert_eq!(
            Holder::parse("pid 12\nhost box.example\nstarted 2025-10-09T08:53:20Z\n"),
            Some(Holder { pid: 12, host: "box.example".to_owned(), started: Timestamp::from_unix(T) })
        );
    }

    #[test]
    fn sends_share_the_state_lock_and_forget_waits_for_none_of_them() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateLock::shared(dir.path(), || panic!("no wait")).unwrap();
        let _second = StateLock::shared(dir.path(), || panic!("sends share it")).unwrap();
        assert!(StateLock::exclusive(dir.path()).unwrap().is_err(), "a send is running");
        drop(first);
        drop(_second);
        let alone = StateLock::exclusive(dir.path()).unwrap().expect("no send runs");
        assert!(StateLock::exclusive(dir.path()).unwrap().is_err());
        // A send starting meanwhile waits for it, and says so.
        let waited = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let path = dir.path().to_owned();
        let flag = waited.clone();
        let send = std::thread::spawn(move || {
            StateLock::shared(&path, || flag.store(true, std::sync::atomic::Ordering::SeqCst)).unwrap()
        });
        std::thread::sleep(Duration::from_millis(200));
        drop(alone);
        let _ = send.join().unwrap();
        assert!(waited.load(std::sync::atomic::Ordering::SeqCst));
    }
}
