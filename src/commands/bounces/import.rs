//! `bulletin bounces import PATH...`: reads the bounce mailbox, records
//! each bounce and complaint once in the ledger, and suppresses hard
//! bounces, complaints, and addresses with `BOUNCE_SOFT_LIMIT` soft bounces
//! in a row. A message that cannot be read or used is listed with the
//! reason and the import goes on; it then exits 1 so that a script notices.
//!
//! A report is believed only when it is about a message the journal holds
//! (by VERP token or quoted `Message-ID`, see [`crate::bounce::origin`]);
//! the others are listed as not ours and ignored, unless
//! `--trust-unmatched`.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Context;

use super::print_suppressed;
use super::reports::{self, Intake, Taken, Tally};
use crate::bounce::Class;
use crate::bounce::ledger::{self, Kind};
use crate::bounce::mailbox::Source;
use crate::commands::{Outcome, Ui};
use crate::config::Source as EnvSource;
use crate::report::printable;
use crate::subscribers::Lists;

/// Options of `bulletin bounces import`.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Maildirs, mbox files, message files or folders of them.
    pub paths: Vec<PathBuf>,
    pub list: Lists,
    pub state_dir: PathBuf,
    /// Read and report everything, write nothing.
    pub dry_run: bool,
    /// Believe reports that match no message in the journal (the import's
    /// behaviour before VERP).
    pub trust_unmatched: bool,
}

pub fn run(options: &ImportOptions, env: &EnvSource, now: SystemTime, ui: Ui) -> anyhow::Result<Outcome> {
    let sources = options
        .paths
        .iter()
        .map(|path| Source::detect(path).with_context(|| format!("cannot read {}", path.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let intake = Intake {
        list: &options.list,
        state_dir: &options.state_dir,
        env,
        now,
        dry_run: options.dry_run,
        trust_unmatched: options.trust_unmatched,
    };
    let Taken { tally, recorded, soft_counts, suppressed, limit } =
        reports::take(&intake, sources.iter().flat_map(Source::items))?;

    let names: Vec<String> = sources.iter().map(Source::describe).collect();
    let dry = if options.dry_run { " (dry run: nothing is written)" } else { "" };
    println!("Read {} message(s) from {}{dry}", tally.messages, printable(&names.join(", ")));
    print_tally(&tally, options.trust_unmatched);
    if !ui.quiet {
        print_recorded(&recorded, &soft_counts, limit);
    }
    print_suppressed(&suppressed, options.dry_run, ui.quiet);
    print_not_ours(&tally.not_ours);
    if !tally.unusable.is_empty() {
        println!("Could not use {} message(s):", tally.unusable.len());
        for (origin, why) in &tally.unusable {
            println!("  {}: {}", printable(origin), printable(why));
        }
    }
    Ok(if tally.unusable.is_empty() { Outcome::Done } else { Outcome::Problems })
}

fn print_tally(t: &Tally, trust_unmatched: bool) {
    let line = |label: &str, n: u64, note: &str| {
        let note = if n > 0 && !note.is_empty() { format!(" ({note})") } else { String::new() };
        println!("  {label:<13}{n}{note}");
    };
    line("hard", t.hard, "");
    line("soft", t.soft, "");
    line("blocked", t.blocked, super::blocked_advice());
    line("unknown", t.unknown, "not acted on");
    line("complaints", t.complaints, "");
    line("delayed", t.delayed, "warnings: still being tried, not counted");
    let auto = match t.auto_replies {
        0 => "ignored".to_owned(),
        1 => "ignored, 1 of them an auto-reply".to_owned(),
        n => format!("ignored, {n} of them auto-replies"),
    };
    line("not bounces", t.not_bounces, &auto);
    line("seen before", t.seen_before, "imported earlier, not counted again");
    let not_ours = if trust_unmatched {
        "ignored: they contradict the journal; listed below"
    } else {
        "ignored: no VERP token or Message-ID we sent; --trust-unmatched to believe them; listed below"
    };
    line("not ours", t.not_ours.len() as u64, not_ours);
    if trust_unmatched {
        line("trusted", t.trusted, "matched no message we sent, believed because of --trust-unmatched");
    }
    line("unusable", t.unusable.len() as u64, "listed below");
}

fn print_recorded(recorded: &[ledger::Entry], soft_counts: &[(String, u32)], limit: u32) {
    if recorded.is_empty() {
        return;
    }
    println!("New:");
    let width = recorded.iter().map(|e| e.address.chars().count()).max().unwrap_or(0);
    for entry in recorded {
        let kind = match entry.kind {
            Kind::Bounce(Class::Soft) => {
                let count = soft_counts.iter().find(|(a, _)| a == &entry.address).map_or(0, |(_, n)| *n);
                format!("soft, {count} of {limit} in a row")
            }
            other => other.to_string(),
        };
        println!(
            "  {:width$}  {kind}: {} ({})",
            printable(&entry.address),
            super::one_line(&entry.detail, 90),
            printable(&entry.source)
        );
    }
}

/// Lists the reports not believed, with the address each names and why.
fn print_not_ours(not_ours: &[(String, String, String)]) {
    if not_ours.is_empty() {
        return;
    }
    println!("Not ours, so ignored: {} report(s):", not_ours.len());
    for (origin, address, why) in not_ours {
        println!("  {}: {}: {}", printable(origin), printable(address), printable(why));
    }
}
