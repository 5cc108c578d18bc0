//! The sign-up form's limits, which protect the people a flood would be
//! aimed at and keep the form open to real readers:
//!
//! * per client, keyed by network (an IPv6 /64, which one household or
//!   one server holds whole, or an IPv4 address), [`RATE_PER_CLIENT`] at
//!   once then one a minute; and for everyone together [`RATE_IN_ALL`] at
//!   once then two a second. The client's own limit is checked first, so a
//!   client over it spends nothing of everyone's: abusers are shed first;
//! * per mailbox ([`EmailKey::mailbox`]: `carol+1@` and `carol+2@`, or
//!   Gmail's `c.arol@`, are one inbox) [`EMAILS_PER_MAILBOX_A_DAY`]
//!   confirmation email a day, and per recipient domain
//!   [`EMAILS_PER_DOMAIN_AN_HOUR`] an hour and [`EMAILS_PER_DOMAIN_A_DAY`]
//!   a day (except at the large mailbox providers, where most real readers
//!   are);
//! * the client's address is the connection's, or, from a proxy named in
//!   `TRUSTED_PROXIES` (loopback unless set), the nearest address in
//!   `X-Forwarded-For` that is not a trusted proxy: a header from anyone
//!   else is ignored.
//!
//! The counts of emails are kept in the state folder's store (the
//! journal's SQLite file, table [`TABLE`]), as keyed digests that name
//! nobody, so a restart keeps them.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Mutex;

use axum::extract::Request;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};
use ipnet::IpNet;

use crate::domain::EmailKey;

/// Sign-ups from one client network: this many at once, then one more a
/// minute.
pub const RATE_PER_CLIENT: u32 = 5;

/// Sign-ups from everyone together: this many at once, then two a second.
pub const RATE_IN_ALL: u32 = 200;

/// Confirmation emails to one mailbox in a day, at most.
pub const EMAILS_PER_MAILBOX_A_DAY: u32 = 1;

/// Confirmation emails to one recipient domain in an hour, at most: an
/// organisation's own mail server is not flooded, and a busy evening of
/// real sign-ups from one company still gets through.
pub const EMAILS_PER_DOMAIN_AN_HOUR: u32 = 100;

/// Confirmation emails to one recipient domain in a day, at most.
pub const EMAILS_PER_DOMAIN_A_DAY: u32 = 500;

/// Mailbox providers big enough that most real sign-ups come from them and
/// no flood from one form hurts them: only the per-mailbox limit applies.
const LARGE_PROVIDERS: [&str; 14] = [
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.uk",
    "live.com",
    "msn.com",
    "yahoo.com",
    "yahoo.co.uk",
    "icloud.com",
    "me.com",
    "aol.com",
    "gmx.com",
    "proton.me",
];

/// The table of the journal's SQLite file counting the confirmation
/// emails sent: a row (day, hour, `mailbox` or `domain`, digest) for each
/// mailbox and domain emailed, the digest keyed with `UNSUBSCRIBE_SECRET`.
/// Only today's rows are kept.
pub const TABLE: &str = "confirmation_emails";

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS confirmation_emails (\
    day INTEGER NOT NULL, hour INTEGER NOT NULL, kind TEXT NOT NULL, digest TEXT NOT NULL);\
    CREATE INDEX IF NOT EXISTS confirmation_emails_day ON confirmation_emails (day);";

/// The text file earlier versions counted in, in the state folder: its
/// lines of today are taken into [`TABLE`] once, and it is removed.
const OLD_LOG: &str = "confirmations-sent";

/// Which limit stopped an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    #[error("its mailbox was emailed today already")]
    Mailbox,
    #[error("its domain had {EMAILS_PER_DOMAIN_AN_HOUR} confirmation emails this hour")]
    DomainHour,
    #[error("its domain had {EMAILS_PER_DOMAIN_A_DAY} confirmation emails today")]
    DomainDay,
}

/// Counts by (kind, digest): (day, hour) of each email.
type Counts = HashMap<(Kind, String), Vec<(u64, u64)>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Mailbox,
    Domain,
}

/// The limits of one server.
pub struct Limits {
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    in_all: DefaultDirectRateLimiter,
    trusted: Vec<IpNet>,
    counts: Mutex<Counts>,
    /// Where the counts are kept; `None` when the store cannot be opened
    /// (then they are kept in memory, and a warning says so).
    store: Option<Mutex<rusqlite::Connection>>,
}

impl Limits {
    /// The limits, with today's counts in the store of `state_dir` read back.
    pub fn new(state_dir: &Path, trusted: Vec<IpNet>, now_secs: u64) -> Self {
        let today = now_secs / 86_400;
        let (store, counts) = match open_store(state_dir, today) {
            Ok((conn, counts)) => (Some(Mutex::new(conn)), counts),
            Err(error) => {
                eprintln!(
                    "warning: cannot keep the sign-up counts in {}: {error}; they are kept until the server stops",
                    state_dir.join(crate::journal::FILE_NAME).display()
                );
                (None, Counts::new())
            }
        };
        let per_minute =
            |n| Quota::per_minute(NonZeroU32::MIN).allow_burst(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self {
            per_client: governor::RateLimiter::keyed(per_minute(RATE_PER_CLIENT)),
            in_all: governor::RateLimiter::direct(
                Quota::per_second(NonZeroU32::new(2).expect("2 is not 0"))
                    .allow_burst(NonZeroU32::new(RATE_IN_ALL).expect("not 0")),
            ),
            trusted,
            counts: Mutex::new(counts),
            store,
        }
    }

    /// Whether a sign-up from `request`'s client is taken now.
    pub fn admit(&self, request: &Request) -> bool {
        let network = network(self.client(request));
        // The client's own limit first: one over it spends nothing of
        // everyone's.
        let admitted = self.per_client.check_key(&network).is_ok() && self.in_all.check().is_ok();
        if self.per_client.len() > 100_000 {
            self.per_client.retain_recent();
        }
        admitted
    }

    /// The client's address: the connection's, or the nearest untrusted
    /// address a trusted proxy put in `X-Forwarded-For`.
    pub fn client(&self, request: &Request) -> IpAddr {
        let peer =
            request.extensions().get::<super::super::Peer>().map_or(IpAddr::from([0, 0, 0, 0]), |p| p.0.ip());
        let trusted = |ip: &IpAddr| self.trusted.iter().any(|net| net.contains(ip));
        if !trusted(&peer) {
            return peer;
        }
        let hops: Vec<&str> = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        // From the nearest hop outwards: each trusted proxy vouches for the
        // hop before it; the first address no trusted proxy is is the
        // client. What cannot be read ends the walk at the last good one.
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else { break };
            client = ip;
            if !trusted(&ip) {
                break;
            }
        }
        client
    }

    /// Whether a confirmation email may go to `key` now; counts it when so,
    /// in memory and in [`SENT_LOG`]. `digest` keys what is kept.
    pub fn take_email(
        &self,
        key: &EmailKey,
        now_secs: u64,
        digest: impl Fn(&str) -> String,
    ) -> Result<(), Stop> {
        let (day, hour) = (now_secs / 86_400, now_secs / 3_600);
        let mailbox = (Kind::Mailbox, digest(&key.mailbox()));
        let domain_name = key.as_str().rsplit_once('@').map_or("", |(_, d)| d);
        let large = LARGE_PROVIDERS.contains(&domain_name);
        let domain = (Kind::Domain, digest(domain_name));
        {
            let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            counts.retain(|_, times| {
                times.retain(|(d, _)| *d == day);
                !times.is_empty()
            });
            let count = |counts: &Counts, key: &(Kind, String), within: &dyn Fn(&(u64, u64)) -> bool| {
                counts.get(key).map_or(0, |times| times.iter().filter(|t| within(t)).count() as u32)
            };
            if count(&counts, &mailbox, &|_| true) >= EMAILS_PER_MAILBOX_A_DAY {
                return Err(Stop::Mailbox);
            }
            if !large && count(&counts, &domain, &|(_, h)| *h == hour) >= EMAILS_PER_DOMAIN_AN_HOUR {
                return Err(Stop::DomainHour);
            }
            if !large && count(&counts, &domain, &|_| true) >= EMAILS_PER_DOMAIN_A_DAY {
                return Err(Stop::DomainDay);
            }
            counts.entry(mailbox.clone()).or_default().push((day, hour));
            counts.entry(domain.clone()).or_default().push((day, hour));
            // Written under the same lock, in the order counted.
            if let Some(store) = &self.store {
                let conn = store.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let written = conn.execute(
                    "INSERT INTO confirmation_emails (day, hour, kind, digest) VALUES (?1, ?2, 'mailbox', ?3), (?1, ?2, 'domain', ?4)",
                    rusqlite::params![day as i64, hour as i64, mailbox.1, domain.1],
                );
                if let Err(error) = written {
                    eprintln!("warning: cannot count a sign-up email in {TABLE}: {error}");
                }
            }
        }
        Ok(())
    }
}

/// The network a client address stands for: an IPv6 address's /64 (an
/// IPv4 address mapped into IPv6 is that IPv4 address), an IPv4 address
/// itself.
pub fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
        v4 => v4,
    }
}

/// Opens the store in `state_dir`, forgets the days before `today`, takes
/// in the text file of earlier versions, and reads today's counts.
fn open_store(state_dir: &Path, today: u64) -> Result<(rusqlite::Connection, Counts), String> {
    let conn = crate::journal::sqlite::open(state_dir, crate::journal::FILE_NAME, SCHEMA)
        .map_err(|e| e.to_string())?;
    let today = today as i64;
    conn.execute("DELETE FROM confirmation_emails WHERE day <> ?1", [today]).map_err(|e| e.to_string())?;
    let old = state_dir.join(OLD_LOG);
    if let Ok(text) = std::fs::read_to_string(&old) {
        for (day, hour, kind, digest) in text.lines().filter_map(old_line) {
            if day == today {
                conn.execute(
                    "INSERT INTO confirmation_emails (day, hour, kind, digest) VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![day, hour, kind.as_str(), digest],
                )
                .map_err(|e| e.to_string())?;
            }
        }
        std::fs::remove_file(&old).map_err(|e| format!("cannot remove {}: {e}", old.display()))?;
    }
    let mut counts = Counts::new();
    let mut rows = conn
        .prepare("SELECT day, hour, kind, digest FROM confirmation_emails WHERE day = ?1")
        .map_err(|e| e.to_string())?;
    let read = rows
        .query_map([today], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ))
        })
        .map_err(|e| e.to_string())?;
    for row in read {
        let (day, hour, kind, digest) = row.map_err(|e| e.to_string())?;
        let kind = if kind == "domain" { Kind::Domain } else { Kind::Mailbox };
        counts.entry((kind, digest)).or_default().push((day as u64, hour as u64));
    }
    drop(rows);
    Ok((conn, counts))
}

/// A line of the earlier text file: `DAY HOUR mailbox|domain DIGEST`, or
/// the first form, `DAY DIGEST`, which counted mailboxes.
fn old_line(line: &str) -> Option<(i64, i64, Kind, String)> {
    let parts: Vec<&str> = line.split(' ').collect();
    let (day, hour, kind, digest) = match parts[..] {
        [day, hour, "mailbox", digest] => (day, hour.parse().unwrap_or(0), Kind::Mailbox, digest),
        [day, hour, "domain", digest] => (day, hour.parse().unwrap_or(0), Kind::Domain, digest),
        [day, digest] => (day, 0, Kind::Mailbox, digest),
        _ => return None,
    };
    Some((day.parse().ok()?, hour, kind, digest.to_owned()))
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Mailbox => "mailbox",
            Self::Domain => "domain",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `TRUSTED_PROXIES` unset.
    fn loopback() -> Vec<IpNet> {
        crate::config::SignupSettings::from_source(&crate::config::Source::default()).unwrap().trusted_proxies
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64_and_an_ipv4_client_itself() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(network(ip("2001:db8:1:2:aaaa::1")), network(ip("2001:db8:1:2:bbbb::9")));
        assert_ne!(network(ip("2001:db8:1:2::1")), network(ip("2001:db8:1:3::1")));
        assert_eq!(network(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(network(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
    }

    #[test]
    fn one_mailbox_gets_one_email_a_day_and_one_domain_a_bounded_number_an_hour() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits::new(dir.path(), loopback(), 0);
        let digest = |s: &str| format!("d-{s}");
        let now = 86_400 * 100;
        assert_eq!(limits.take_email(&EmailKey::of("carol+1@victim.test"), now, digest), Ok(()));
        assert_eq!(limits.take_email(&EmailKey::of("carol+2@victim.test"), now, digest), Err(Stop::Mailbox));
        for i in 1..EMAILS_PER_DOMAIN_AN_HOUR {
            assert_eq!(limits.take_email(&EmailKey::of(&format!("p{i}@victim.test")), now, digest), Ok(()));
        }
        assert_eq!(limits.take_email(&EmailKey::of("late@victim.test"), now, digest), Err(Stop::DomainHour));
        assert_eq!(limits.take_email(&EmailKey::of("reader@other.test"), now, digest), Ok(()));
        for i in 0..EMAILS_PER_DOMAIN_AN_HOUR + 5 {
            let key = EmailKey::of(&format!("reader{i}@gmail.com"));
            assert_eq!(limits.take_email(&key, now, digest), Ok(()), "a large provider: mailboxes only");
        }
        // A restart reads the counts back.
        let again = Limits::new(dir.path(), loopback(), now);
        assert_eq!(again.take_email(&EmailKey::of("carol+3@victim.test"), now, digest), Err(Stop::Mailbox));
        // The next day starts afresh.
        assert_eq!(again.take_email(&EmailKey::of("carol@victim.test"), now + 86_400, digest), Ok(()));
    }

    #[test]
    fn the_counts_of_an_earlier_version_s_text_file_are_taken_over_and_the_file_removed() {
        let dir = tempfile::tempdir().unwrap();
        let now = 86_400 * 100 + 3_600 * 5;
        let (today, hour) = (now / 86_400, now / 3_600);
        std::fs::write(
            dir.path().join(OLD_LOG),
            format!("{} d-yesterday@other.test\n{today} d-carol@other.test\n{today} {hour} domain d-victim.test\n", today - 1),
        )
        .unwrap();
        let limits = Limits::new(dir.path(), loopback(), now);
        assert!(!dir.path().join(OLD_LOG).exists(), "taken over once");
        let digest = |s: &str| format!("d-{s}");
        assert_eq!(limits.take_email(&EmailKey::of("carol@other.test"), now, digest), Err(Stop::Mailbox));
        assert_eq!(limits.take_email(&EmailKey::of("yesterday@other.test"), now, digest), Ok(()));
        drop(limits);
        let again = Limits::new(dir.path(), loopback(), now);
        assert_eq!(again.take_email(&EmailKey::of("yesterday@other.test"), now, digest), Err(Stop::Mailbox));
    }
}
