//! Time: the one [`Clock`] the program reads, and the [`Timestamp`] it
//! gives, written as RFC 3339 UTC to the second wherever it is stored or
//! shown. Code that needs "now" is handed a clock (or a time) so that tests
//! can fix it; `clippy.toml` bans `SystemTime::now` everywhere else.

use std::fmt;
use std::time::{Duration, SystemTime};

/// A point in time, to the second when stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(SystemTime);

impl Timestamp {
    /// The time `since` after the Unix epoch.
    pub fn from_unix(seconds: u64) -> Self {
        Self(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
    }

    /// Reads RFC 3339 (`2025-10-09T08:53:20Z`), as [`Timestamp`]'s
    /// `Display` writes it.
    pub fn parse(text: &str) -> Option<Self> {
        humantime::parse_rfc3339_weak(text.trim()).ok().map(Self)
    }

    pub fn as_system_time(self) -> SystemTime {
        self.0
    }

    /// Whole seconds since the Unix epoch (0 for a time before it): what
    /// tokens, limits and signatures count in.
    pub fn unix_seconds(self) -> u64 {
        self.0.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }

    /// How long after `earlier` this is (zero if it is not after).
    pub fn since(self, earlier: Self) -> Duration {
        self.0.duration_since(earlier.0).unwrap_or_default()
    }

    /// Its date in UTC (a new bulletin's, say); `None` for a time jiff
    /// cannot hold (before year -9999 or after 9999).
    pub fn utc_date(self) -> Option<jiff::civil::Date> {
        let at = jiff::Timestamp::try_from(self.0).ok()?;
        Some(jiff::tz::Offset::UTC.to_datetime(at).date())
    }
}

impl From<SystemTime> for Timestamp {
    fn from(time: SystemTime) -> Self {
        Self(time)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_rfc3339_seconds(self.0))
    }
}

/// Where "now" comes from. The program runs on [`SystemClock`]; tests give
/// a fixed or stepped one.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The machine's clock: the only place the program reads it.
///
/// For the tests of the real binary only: when the environment variable
/// [`TEST_CLOCK_KNOB`] names a file, the seconds written in it (a decimal
/// number, possibly negative) are added to the machine's time at every
/// reading, so a test moves a running server's "now" forward by writing the
/// file instead of sleeping. A missing or unreadable file adds nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

/// The environment variable that names the tests' clock file.
pub const TEST_CLOCK_KNOB: &str = "BULLETIN_TEST_CLOCK_FILE";

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The one place that may.
    fn now(&self) -> Timestamp {
        let now = SystemTime::now();
        Timestamp(test_offset().map_or(now, |offset| offset.apply(now)))
    }
}

/// Seconds the tests' clock file adds to the machine's time, if the tests
/// set one.
fn test_offset() -> Option<Offset> {
    static FILE: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    let file = FILE.get_or_init(|| std::env::var_os(TEST_CLOCK_KNOB).map(Into::into)).as_ref()?;
    let seconds: f64 = std::fs::read_to_string(file).ok()?.trim().parse().ok()?;
    let size = Duration::try_from_secs_f64(seconds.abs()).ok()?;
    Some(if seconds < 0.0 { Offset::Back(size) } else { Offset::Ahead(size) })
}

/// How far the tests' clock is from the machine's.
enum Offset {
    Ahead(Duration),
    Back(Duration),
}

impl Offset {
    fn apply(self, time: SystemTime) -> SystemTime {
        match self {
            Self::Ahead(by) => time.checked_add(by),
            Self::Back(by) => time.checked_sub(by),
        }
        .unwrap_or(time)
    }
}

/// A clock that always says the same time.
impl Clock for Timestamp {
    fn now(&self) -> Timestamp {
        *self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_is_written_and_read_back_as_rfc_3339_seconds() {
        let t = Timestamp::from_unix(1_760_000_000);
        assert_eq!(t.to_string(), "2025-10-09T08:53:20Z");
        assert_eq!(Timestamp::parse("2025-10-09T08:53:20Z"), Some(t));
        assert_eq!(Timestamp::parse("yesterday"), None);
    }

    #[test]
    fn a_fixed_clock_always_says_the_same_time() {
        let t = Timestamp::from_unix(5);
        assert_eq!(t.now(), t);
        assert_eq!(Timestamp::from_unix(9).since(t), Duration::from_secs(4));
        assert_eq!(t.since(Timestamp::from_unix(9)), Duration::ZERO);
    }
}
