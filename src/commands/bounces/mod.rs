//! `bulletin bounces`: the recipients a campaign bounced from, and
//! `bulletin bounces import`: bounce reports that arrived later by email.
//! Both may add addresses to the suppression list; this module holds what
//! they share: deciding who to suppress and writing it.

mod import;
mod list;

use std::collections::HashMap;
use std::time::SystemTime;

use crate::bounce::Class;
use crate::bounce::ledger::{self, Kind, Ledger};
use crate::bounce::streak;
use crate::domain::EmailKey;
use crate::journal::Archive;
use crate::subscribers::Lists;
use crate::subscribers::{EmailAddress, Entry, Reason, SuppressionFile};

pub use import::ImportOptions;
pub(super) use import::run as import;
pub use list::BouncesOptions;
pub(super) use list::run as list;

/// RFC 3339 UTC to the second, as the journal writes times.
fn timestamp(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

/// The soft bounces the address whose key is `key` has had in a row, from
/// the journal and the ledger (see [`streak`]).
fn soft_in_a_row(archive: Option<&Archive>, ledger: Option<&Ledger>, key: &EmailKey) -> anyhow::Result<u32> {
    let sent = match archive {
        Some(archive) => archive.messages_to(key)?,
        None => Vec::new(),
    };
    let reports = match ledger {
        Some(ledger) => ledger.for_address(key)?,
        None => Vec::new(),
    };
    Ok(streak::soft_in_a_row(&streak::timeline(&sent, &reports)))
}

/// Addresses to add to the suppression list, each once: a hard bounce wins
/// over a complaint, a complaint over soft bounces.
#[derive(Default)]
struct Suppress {
    entries: Vec<Entry>,
    index: HashMap<EmailKey, usize>,
}

impl Suppress {
    fn rank(reason: Reason) -> u8 {
        match reason {
            Reason::HardBounce => 0,
            Reason::Complaint => 1,
            _ => 2,
        }
    }

    fn add(&mut self, email: EmailAddress, reason: Reason, detail: String) {
        let entry = Entry { email, reason, detail };
        match self.index.get(entry.email.key()) {
            Some(&at) if Self::rank(self.entries[at].reason) <= Self::rank(reason) => {}
            Some(&at) => self.entries[at] = entry,
            None => {
                self.index.insert(entry.email.key().clone(), self.entries.len());
                self.entries.push(entry);
            }
        }
    }
}

/// What adding to the suppression list did, or would do.
struct Suppressed {
    path: std::path::PathBuf,
    added: Vec<Entry>,
    already: usize,
}

/// Adds `suppress` to the suppression list (or, for a dry run, says what
/// would be added).
fn write_suppressions(
    list: &Lists,
    suppress: Suppress,
    now: SystemTime,
    dry_run: bool,
) -> anyhow::Result<Suppressed> {
    let (path, _) = list.suppression_path();
    if dry_run {
        let (present, _) = list.read_suppressions()?;
        let (already, added): (Vec<Entry>, Vec<Entry>) =
            suppress.entries.into_iter().partition(|e| present.contains(&e.email));
        return Ok(Suppressed { path, added, already: already.len() });
    }
    let file = SuppressionFile::new(&path);
    let outcome = file.add(&suppress.entries, now)?;
    let added_keys: std::collections::HashSet<EmailKey> =
        outcome.added.iter().map(|a| EmailKey::of(a)).collect();
    let added = suppress.entries.into_iter().filter(|e| added_keys.contains(e.email.key())).collect();
    Ok(Suppressed { path, added, already: outcome.already.len() })
}

/// Says how many were (or would be) added and, unless `quiet`, which.
fn print_suppressed(s: &Suppressed, dry_run: bool, quiet: bool) {
    let verb = if dry_run { "Would suppress" } else { "Suppressed" };
    let already = if s.already > 0 { format!(" ({} already there)", s.already) } else { String::new() };
    let colon = if s.added.is_empty() || quiet { "." } else { ":" };
    println!("{verb} {} address(es) in {}{already}{colon}", s.added.len(), s.path.display());
    if quiet {
        return;
    }
    let width = s.added.iter().map(|e| e.email.as_str().chars().count()).max().unwrap_or(0);
    for entry in &s.added {
        println!(
            "  {:width$}  {}: {}",
            entry.email.as_str(),
            entry.reason.as_str(),
            one_line(&entry.detail, 100)
        );
    }
}

/// `text` on one line, cut to `limit` characters.
fn one_line(text: &str, limit: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = if text.chars().count() > limit {
        text.chars().take(limit).collect::<String>() + "…"
    } else {
        text
    };
    crate::report::printable(&text).into_owned()
}

/// What a class means to the reader, once.
fn blocked_advice() -> &'static str {
    "not the addresses' fault: check the sending domain's reputation and its SPF, DKIM and DMARC records"
}

/// The order rows are listed in.
fn kind_rank(kind: Kind) -> u8 {
    match kind {
        Kind::Bounce(Class::Hard) => 0,
        Kind::Complaint => 1,
        Kind::Bounce(Class::Soft) => 2,
        Kind::Bounce(Class::Blocked) => 3,
        Kind::Bounce(Class::Unknown) => 4,
    }
}

/// Suppression detail for a hard bounce or complaint from the ledger.
fn detail_of(entry: &ledger::Entry) -> String {
    match (entry.status.is_empty(), entry.detail.is_empty()) {
        (true, _) => entry.detail.clone(),
        (false, true) => entry.status.clone(),
        (false, false) if entry.detail.contains(&entry.status) => entry.detail.clone(),
        (false, false) => format!("{} {}", entry.status, entry.detail),
    }
}
