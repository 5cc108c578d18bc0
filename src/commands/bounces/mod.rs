//! `bulletin bounces`: the recipients a campaign bounced from, and
//! `bulletin bounces import`: bounce reports that arrived later by email.
//! Both may add addresses to the suppression list; this module holds what
//! they share: deciding who to suppress and writing it.

pub(super) mod imap;
mod import;
mod list;
mod reports;

use std::time::SystemTime;

use crate::bounce::Class;
use crate::bounce::intake::Suppress;
use crate::bounce::ledger::Kind;
use crate::domain::EmailKey;
use crate::subscribers::Lists;
use crate::subscribers::{Entry, SuppressionFile};
// What `import` and `list` share with the webhooks of `bulletin serve`.
use crate::bounce::intake::soft_in_a_row;

pub use import::ImportOptions;
pub(super) use import::run as import;
pub use list::BouncesOptions;
pub(super) use list::run as list;

/// RFC 3339 UTC to the second, as the journal writes times.
fn timestamp(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

/// What adding to the suppression list did, or would do.
pub(super) struct Suppressed {
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
            suppress.into_entries().into_iter().partition(|e| present.contains(&e.email));
        return Ok(Suppressed { path, added, already: already.len() });
    }
    let file = SuppressionFile::new(&path);
    let outcome = file.add(suppress.entries(), now)?;
    let added_keys: std::collections::HashSet<EmailKey> =
        outcome.added.iter().map(|a| EmailKey::of(a)).collect();
    let added = suppress.into_entries().into_iter().filter(|e| added_keys.contains(e.email.key())).collect();
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
