//! The suppression list as it stands now, for a send that runs long: the
//! unsubscribe server, `bulletin unsubscribe` and the bounce import add to
//! the file while the send goes on, and someone who unsubscribes at 10:01
//! must not be mailed at 10:05.
//!
//! The send loop asks [`LiveSuppression::contains`] just before it hands
//! each message over. At most once every [`LiveSuppression::EVERY`], that
//! looks at the file's metadata (modified time, length, inode), and reads
//! the file again only when one of them changed. During a send the set only
//! grows: an address taken off the list meanwhile stays suppressed until the
//! run ends (a run after it mails them), and a file that cannot be read or
//! makes no sense keeps the last good set, with one warning for the run.

use std::fmt;
use std::fs;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use super::{EmailKey, Lists, Suppressions};

/// The suppression file followed while a send runs.
pub struct LiveSuppression {
    lists: Lists,
    every: Duration,
    warn: Box<dyn Fn(String) + Send + Sync>,
    seen: Mutex<Seen>,
}

/// What the last look found.
struct Seen {
    /// When the metadata was last looked at.
    checked: Instant,
    /// The file as it was when last read; `None` when it did not exist.
    stamp: Option<Stamp>,
    /// Every address suppressed so far in this run.
    set: Suppressions,
    /// Whether the run has been told the file could not be read.
    warned: bool,
    /// How many times the file was read.
    reads: u64,
}

/// Enough of a file's metadata to tell that it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Self> {
        let metadata = fs::metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Self { modified: metadata.modified().ok(), len: metadata.len(), inode })
    }
}

impl fmt::Debug for LiveSuppression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveSuppression")
            .field("path", &self.lists.suppression_path().0)
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

impl LiveSuppression {
    /// How often the file's metadata is looked at, at most.
    pub const EVERY: Duration = Duration::from_secs(1);

    /// Follows the suppression list of `lists`, reading it now; `warn` is
    /// told (once) if a later read fails.
    pub fn new(lists: Lists, warn: impl Fn(String) + Send + Sync + 'static) -> Self {
        Self::every(lists, Self::EVERY, warn)
    }

    /// As [`LiveSuppression::new`], looking at the file at most once every
    /// `every`.
    pub fn every(lists: Lists, every: Duration, warn: impl Fn(String) + Send + Sync + 'static) -> Self {
        let seen = Seen {
            checked: Instant::now(),
            stamp: None,
            set: Suppressions::default(),
            warned: false,
            reads: 0,
        };
        let live = Self { lists, every, warn: Box::new(warn), seen: Mutex::new(seen) };
        {
            let mut seen = live.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            live.read(&mut seen);
        }
        live
    }

    /// Whether the address whose key is `key` is on the list, as it stands
    /// now (or at most [`LiveSuppression::EVERY`] ago).
    pub fn contains(&self, key: &EmailKey) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.checked.elapsed() >= self.every {
            seen.checked = Instant::now();
            if Stamp::of(&self.lists.suppression_path().0) != seen.stamp {
                self.read(&mut seen);
            }
        }
        seen.set.contains_key(key)
    }

    /// Reads the file, adding what it holds; on failure keeps what was
    /// known, and says so the first time.
    fn read(&self, seen: &mut Seen) {
        // The stamp is taken before reading: a change made while the file is
        // read shows at the next look.
        let stamp = Stamp::of(&self.lists.suppression_path().0);
        seen.reads += 1;
        match self.lists.read_suppressions() {
            Ok((set, _problems)) => {
                // Rows it cannot use were reported when the send started, or
                // are new and suppress nothing either way.
                seen.set.extend(set);
                seen.stamp = stamp;
            }
            Err(e) => {
                // The stamp stays, so the file is read again once it changes.
                if !seen.warned {
                    seen.warned = true;
                    (self.warn)(format!(
                        "the suppression list changed during the send but cannot be read ({}); \
                         the addresses it held before are still not mailed, and new ones are \
                         picked up once it reads again",
                        crate::domain::chain(&e)
                    ));
                }
            }
        }
    }

    #[cfg(test)]
    fn reads(&self) -> u64 {
        self.seen.lock().unwrap().reads
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::subscribers::{EmailAddress, Entry, Reason, SuppressionFile};

    struct Fixture {
        dir: tempfile::TempDir,
        warnings: Arc<Mutex<Vec<String>>>,
    }

    impl Fixture {
        fn new() -> Self {
            Self { dir: tempfile::tempdir().unwrap(), warnings: Arc::default() }
        }

        fn suppressed(&self) -> PathBuf {
            self.dir.path().join("suppressed.csv")
        }

        /// Follows `suppressed.csv` beside `list.csv` (the default: it need
        /// not exist), looking every `every`.
        fn live(&self, every: Duration) -> LiveSuppression {
            let lists = Lists { subscribers: self.dir.path().join("list.csv"), suppressed: None };
            let warnings = Arc::clone(&self.warnings);
            LiveSuppression::every(lists, every, move |w| warnings.lock().unwrap().push(w))
        }

        /// Adds `address` as the unsubscribe server does.
        fn unsubscribe(&self, address: &str) {
            let entry = Entry::new(EmailAddress::parse(address).unwrap(), Reason::Unsubscribed);
            SuppressionFile::new(self.suppressed()).add(&[entry], SystemTime::UNIX_EPOCH).unwrap();
        }

        fn warnings(&self) -> Vec<String> {
            self.warnings.lock().unwrap().clone()
        }
    }

    fn key(address: &str) -> EmailKey {
        EmailKey::of(address)
    }

    #[test]
    fn an_address_added_during_the_send_is_suppressed_at_the_next_look() {
        let f = Fixture::new();
        f.unsubscribe("ana@example.org");
        let live = f.live(Duration::ZERO);
        assert!(live.contains(&key("ana@example.org")));
        assert!(!live.contains(&key("tom@example.org")));
        f.unsubscribe("Tom@Example.org");
        assert!(live.contains(&key("tom@example.org")), "added, and compared without case");
    }

    #[test]
    fn a_list_made_during_the_send_is_read() {
        let f = Fixture::new();
        let live = f.live(Duration::ZERO);
        assert!(!live.contains(&key("ana@example.org")));
        f.unsubscribe("ana@example.org");
        assert!(live.contains(&key("ana@example.org")));
        assert!(f.warnings().is_empty(), "{:?}", f.warnings());
    }

    #[test]
    fn the_file_is_looked_at_no_more_than_once_a_period() {
        let f = Fixture::new();
        let live = f.live(Duration::from_secs(3600));
        f.unsubscribe("ana@example.org");
        assert!(!live.contains(&key("ana@example.org")), "not looked at again within the hour");
        assert_eq!(live.reads(), 1);
    }

    #[test]
    fn an_unchanged_file_is_not_read_again() {
        let f = Fixture::new();
        f.unsubscribe("ana@example.org");
        let live = f.live(Duration::ZERO);
        for _ in 0..5 {
            assert!(live.contains(&key("ana@example.org")));
        }
        assert_eq!(live.reads(), 1, "read once, when the send started");
        f.unsubscribe("tom@example.org");
        assert!(live.contains(&key("tom@example.org")));
        assert!(live.contains(&key("ana@example.org")));
        assert_eq!(live.reads(), 2);
    }

    #[test]
    fn a_malformed_file_keeps_the_last_good_set_and_warns_once() {
        let f = Fixture::new();
        f.unsubscribe("ana@example.org");
        let live = f.live(Duration::ZERO);
        fs::write(f.suppressed(), "name,phone\nAna,123\n").unwrap();
        assert!(live.contains(&key("ana@example.org")), "still suppressed");
        fs::write(f.suppressed(), "name,phone\nAna,123\nTom,456\n").unwrap();
        assert!(live.contains(&key("ana@example.org")));
        let warnings = f.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("cannot be read"), "{warnings:?}");
        assert!(warnings[0].contains("suppressed.csv"), "names the file: {warnings:?}");

        // Mended: read again, and what it held before is still held.
        fs::write(f.suppressed(), "email\ntom@example.org\n").unwrap();
        assert!(live.contains(&key("tom@example.org")));
        assert!(live.contains(&key("ana@example.org")));
        assert_eq!(f.warnings().len(), 1);
    }

    #[test]
    fn a_quote_left_open_during_the_send_keeps_the_last_good_set_and_warns_with_its_line() {
        let f = Fixture::new();
        f.unsubscribe("ana@example.org");
        f.unsubscribe("tom@example.org");
        let live = f.live(Duration::ZERO);
        let text = fs::read_to_string(f.suppressed()).unwrap();
        // Someone edits the first row's detail and leaves a quote open.
        let damaged = text.replacen("unsubscribed,", "unsubscribed,\"by phone", 1);
        fs::write(f.suppressed(), format!("{damaged}lan@example.org,requested,,\r\n")).unwrap();
        assert!(live.contains(&key("ana@example.org")));
        assert!(live.contains(&key("tom@example.org")), "not lost to the open field");
        assert!(!live.contains(&key("lan@example.org")), "what the damaged file holds is not guessed at");
        let warnings = f.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("suppressed.csv:2: a quoted field opens on this line"), "{warnings:?}");
    }

    #[test]
    fn nobody_is_taken_off_the_list_during_the_send() {
        let f = Fixture::new();
        f.unsubscribe("ana@example.org");
        f.unsubscribe("tom@example.org");
        let live = f.live(Duration::ZERO);
        let removed = SuppressionFile::new(f.suppressed())
            .resubscribe(&EmailAddress::parse("tom@example.org").unwrap(), SystemTime::UNIX_EPOCH);
        assert!(removed.unwrap());
        f.unsubscribe("lan@example.org");
        assert!(live.contains(&key("lan@example.org")), "the new file was read");
        assert!(live.contains(&key("tom@example.org")), "still suppressed until the run ends");
    }
}
