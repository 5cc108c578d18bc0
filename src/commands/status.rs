//! `bulletin status`: what the journal knows of a campaign, and who on the
//! list is still pending.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;

use super::Outcome;
use crate::bounce::Verdict;
use crate::content::Bulletin;
use crate::deliver::plan::received_elsewhere;
use crate::domain::{Clock, EmailKey, SystemClock};
use crate::journal::{Entry, Journal, State};
use crate::report::printable;
use crate::subscribers::Lists;
use crate::subscribers::{Audience, Row, SubscriberReader};

/// Options of `bulletin status`.
#[derive(Debug, Clone)]
pub struct StatusOptions {
    pub bulletin: PathBuf,
    pub list: Lists,
    pub state_dir: PathBuf,
    /// Write a row per recipient to this CSV file.
    pub csv: Option<PathBuf>,
}

pub(super) fn run(options: &StatusOptions, env: &crate::config::Source) -> anyhow::Result<Outcome> {
    let bulletin = Bulletin::load(&options.bulletin)?;
    println!("Campaign {}", bulletin.describe());
    let journal = Journal::open_existing(&options.state_dir, &bulletin.campaign)?;
    let (summary, entries) = match &journal {
        Some(journal) => (journal.summary()?, journal.entries(None)?),
        None => Default::default(),
    };
    let known: std::collections::HashSet<EmailKey> =
        entries.iter().map(|e| EmailKey::of(&e.address)).collect();

    let audience = Audience {
        suppressed: super::suppressions(&options.list)?,
        segment: bulletin.segment.clone(),
        // SIGNUPS=manual: the sign-ups waiting for a merge are not pending.
        signups_wait: crate::config::Signups::from_source(env)? == crate::config::Signups::Manual,
        only: None,
    };
    // Those who received this bulletin as another campaign are not
    // pending: a send skips them. Counted by the campaign they had it as.
    let elsewhere = received_elsewhere(journal.as_ref(), &bulletin, SystemClock.now())?;
    let mut pending = Vec::new();
    let mut received: Vec<(String, String)> = Vec::new();
    for row in SubscriberReader::with_signups(&options.list.subscribers, audience)? {
        if let Row::Subscribed(s) = row?
            && !known.contains(s.email().key())
        {
            match elsewhere.get(s.email().key()) {
                Some(r) => received.push((s.email().to_string(), r.campaign.clone())),
                None => pending.push(s.email().to_string()),
            }
        }
    }
    let mut received_as: BTreeMap<&str, u64> = BTreeMap::new();
    for (_, campaign) in &received {
        *received_as.entry(campaign.as_str()).or_default() += 1;
    }

    match &journal {
        Some(journal) => println!("  journal    {}", journal.path().display()),
        None => println!("  journal    none yet in {} (nothing sent)", options.state_dir.display()),
    }
    match (&summary.first_started_at, &summary.last_started_at) {
        (Some(first), Some(last)) if first != last => println!("  started    {first} (last run {last})"),
        (Some(first), _) => println!("  started    {first}"),
        _ => println!("  started    never"),
    }
    println!("  finished   {}", summary.finished_at.map_or_else(|| "not yet".to_owned(), |t| t.to_string()));
    println!("  sent       {}", summary.sent);
    println!("  failed     {}", summary.failed);
    println!("  uncertain  {}", summary.sending);
    for (campaign, count) in &received_as {
        println!(
            "  received   {count} as {campaign} (a send skips them; --resend-duplicates sends it again)"
        );
    }
    println!("  pending    {}", pending.len());
    let failures: Vec<(&Entry, Verdict)> =
        entries.iter().filter(|e| e.state == State::Failed).map(|e| (e, Verdict::of(&e.reply))).collect();
    let (passing, lasting): (Vec<_>, Vec<_>) = failures.iter().partition(|(_, v)| v.may_pass_later());
    if !passing.is_empty() {
        println!("Failures another try may mend (run `bulletin send --retry-failed` to try them again):");
        for (entry, verdict) in &passing {
            print_failure(entry, *verdict);
        }
    }
    if !lasting.is_empty() {
        println!("Failures another try would only repeat (mend the cause first):");
        for (entry, verdict) in &lasting {
            print_failure(entry, *verdict);
            if let Some(remedy) = verdict.cause.remedy() {
                println!("    what to do: {remedy}");
            }
        }
    }
    if summary.sending > 0 {
        println!(
            "Uncertain (a run stopped while sending; the next run sends them again with the same Message-ID):"
        );
        for entry in entries.iter().filter(|e| e.state == State::Sending) {
            println!("  {}", printable(&entry.address));
        }
    }
    if let Some(path) = &options.csv {
        write_csv(path, &entries, &received, &pending)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("Wrote {}", path.display());
    }
    Ok(Outcome::Done)
}

/// `  address: reply (blame)`.
fn print_failure(entry: &Entry, verdict: Verdict) {
    let reply = entry.reply.to_string();
    println!("  {}: {} ({})", printable(&entry.address), printable(&reply), verdict.blame);
}

fn write_csv(
    path: &std::path::Path,
    entries: &[Entry],
    received: &[(String, String)],
    pending: &[String],
) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_path(path)?;
    csv.write_record(["email", "state", "attempts", "updated_at", "message_id", "reply"])?;
    for e in entries {
        let state = match e.state {
            State::Sending => "uncertain",
            other => other.as_str(),
        };
        csv.write_record([
            &e.address,
            state,
            &e.attempts.to_string(),
            &e.updated_at.to_string(),
            &e.message_id,
            e.reply.text(),
        ])?;
    }
    for (address, campaign) in received {
        csv.write_record([address.as_str(), "received-elsewhere", "0", "", "", &format!("as {campaign}")])?;
    }
    for address in pending {
        csv.write_record([address.as_str(), "pending", "0", "", "", ""])?;
    }
    csv.flush()?;
    Ok(())
}
