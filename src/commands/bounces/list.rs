//! `bulletin bounces BULLETIN`: every recipient of a campaign that bounced,
//! whether the relay refused them during the send (from the journal) or a
//! bounce report said so later (from the ledger), each with its class and
//! the server's words; `--suppress` adds the hard bounces, complaints and
//! addresses with too many soft bounces in a row to the suppression list.
//!
//! The class of a send-time failure is worked out from the relay's reply
//! each time it is listed rather than stored: the reply is what the relay
//! said, journals written before this command existed need no change, and
//! a better rule applies to old failures too.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;

use super::{Suppress, kind_rank, one_line, print_suppressed, soft_in_a_row, write_suppressions};
use crate::bounce::ledger::{Kind, Ledger};
use crate::bounce::{Blame, Class, Verdict};
use crate::commands::Outcome;
use crate::config::{BounceSettings, Source};
use crate::content::Bulletin;
use crate::domain::EmailKey;
use crate::journal::{Archive, Journal, State};
use crate::subscribers::Lists;
use crate::subscribers::inert_in_spreadsheets;
use crate::subscribers::{EmailAddress, Reason};

/// Options of `bulletin bounces BULLETIN`.
#[derive(Debug, Clone)]
pub struct BouncesOptions {
    pub bulletin: PathBuf,
    pub list: Lists,
    pub state_dir: PathBuf,
    /// Also write a row per bounce to this CSV file.
    pub csv: Option<PathBuf>,
    /// Add hard bounces, complaints and addresses with too many soft
    /// bounces in a row to the suppression list.
    pub suppress: bool,
}

/// One bounced recipient.
#[derive(Debug, Clone)]
struct Row {
    address: String,
    kind: Kind,
    why: String,
    /// `send` (refused while sending) or `report` (a bounce report).
    via: &'static str,
    /// Whose fault: recipient-caused, sender-caused or transient (see
    /// [`Blame`]); a complaint is the reader's own doing.
    blame: &'static str,
    status: String,
    reply: String,
    at: String,
    /// Soft bounces in a row, for a soft bounce.
    in_a_row: Option<u32>,
}

pub fn run(options: &BouncesOptions, env: &Source, now: SystemTime) -> anyhow::Result<Outcome> {
    let limit = BounceSettings::from_source(env)?.soft_limit.get();
    let bulletin = Bulletin::load(&options.bulletin)?;
    println!("Bounces of {}", bulletin.describe());
    let campaign = bulletin.campaign.to_string();
    let journal = Journal::open_existing(&options.state_dir, &bulletin.campaign)?;
    let ledger = Ledger::open_existing(&options.state_dir)?;
    let archive = Archive::open_existing(&options.state_dir)?;
    match &journal {
        Some(journal) => println!("  journal    {}", journal.path().display()),
        None => println!("  journal    none yet in {} (nothing sent)", options.state_dir.display()),
    }

    let mut rows = Vec::new();
    if let Some(journal) = &journal {
        for entry in journal.entries(Some(State::Failed))? {
            let verdict = Verdict::of(&entry.reply);
            rows.push(Row {
                address: entry.address,
                kind: Kind::Bounce(verdict.class()),
                why: verdict.cause.describe().to_owned(),
                via: "send",
                blame: verdict.blame.into(),
                status: entry.reply.status().map(|s| s.to_string()).unwrap_or_default(),
                reply: entry.reply.text().to_owned(),
                at: entry.updated_at.to_string(),
                in_a_row: None,
            });
        }
    }
    if let Some(ledger) = &ledger {
        for entry in ledger.for_campaign(&campaign)? {
            rows.push(Row {
                address: entry.address,
                kind: entry.kind,
                why: entry.why,
                via: "report",
                blame: blame_of(entry.kind),
                status: entry.status,
                reply: entry.detail,
                at: entry.sent_at,
                in_a_row: None,
            });
        }
    }
    for row in &mut rows {
        if row.kind == Kind::Bounce(Class::Soft) {
            let key = EmailKey::of(&row.address);
            row.in_a_row = Some(soft_in_a_row(archive.as_ref(), ledger.as_ref(), &key)?);
        }
    }
    rows.sort_by(|a, b| kind_rank(a.kind).cmp(&kind_rank(b.kind)).then_with(|| a.address.cmp(&b.address)));

    print_counts(&rows);
    print_table(&rows, limit);
    if let Some(path) = &options.csv {
        write_csv(path, &rows).with_context(|| format!("cannot write {}", path.display()))?;
        println!("Wrote {}", path.display());
    }
    if options.suppress {
        let mut suppress = Suppress::default();
        for row in &rows {
            let Ok(email) = EmailAddress::parse(&row.address) else { continue };
            let detail = if row.reply.contains(&row.status) {
                row.reply.clone()
            } else {
                format!("{} {}", row.status, row.reply)
            };
            match (row.kind, row.in_a_row) {
                (Kind::Bounce(Class::Hard), _) => suppress.add(email, Reason::HardBounce, detail),
                (Kind::Complaint, _) => suppress.add(email, Reason::Complaint, detail),
                (Kind::Bounce(Class::Soft), Some(n)) if n >= limit => {
                    suppress.add(
                        email,
                        Reason::SoftBounces,
                        format!("{n} soft bounces in a row; last: {detail}"),
                    );
                }
                _ => {}
            }
        }
        let suppressed = write_suppressions(&options.list, suppress, now, false)?;
        print_suppressed(&suppressed, false, false);
    } else if rows.iter().any(|r| r.kind == Kind::Bounce(Class::Hard)) {
        println!("Run again with --suppress to add the hard bounces to the suppression list.");
    }
    Ok(Outcome::Done)
}

/// Whose fault a reported bounce is, by its class.
fn blame_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Bounce(Class::Hard | Class::Soft) => Blame::Recipient.into(),
        Kind::Bounce(Class::Blocked) => Blame::Sender.into(),
        Kind::Bounce(Class::Unknown) => Blame::Transient.into(),
        Kind::Complaint => "complaint",
    }
}

fn print_counts(rows: &[Row]) {
    let count = |kind: Kind| rows.iter().filter(|r| r.kind == kind).count();
    let blocked = count(Kind::Bounce(Class::Blocked));
    println!("  hard       {}", count(Kind::Bounce(Class::Hard)));
    println!("  soft       {}", count(Kind::Bounce(Class::Soft)));
    let advice = if blocked > 0 { format!(" ({})", super::blocked_advice()) } else { String::new() };
    println!("  blocked    {blocked}{advice}");
    println!("  unknown    {}", count(Kind::Bounce(Class::Unknown)));
    println!("  complaints {}", count(Kind::Complaint));
}

fn print_table(rows: &[Row], limit: u32) {
    if rows.is_empty() {
        println!("No bounces recorded for this campaign.");
        return;
    }
    let kind = |row: &Row| match row.in_a_row {
        Some(n) => format!("{} ({n}/{limit} in a row)", row.kind),
        None => row.kind.to_string(),
    };
    let width = |f: &dyn Fn(&Row) -> String, title: &str| {
        rows.iter().map(|r| f(r).chars().count()).max().unwrap_or(0).max(title.len())
    };
    let (a, k, w) =
        (width(&|r| r.address.clone(), "address"), width(&kind, "class"), width(&|r| r.why.clone(), "why"));
    println!("  {:a$}  {:k$}  {:16}  {:w$}  {:6}  reply", "address", "class", "fault", "why", "via");
    for row in rows {
        println!(
            "  {:a$}  {:k$}  {:16}  {:w$}  {:6}  {}",
            crate::report::printable(&row.address),
            kind(row),
            row.blame,
            row.why,
            row.via,
            one_line(&row.reply, 160)
        );
    }
}

fn write_csv(path: &Path, rows: &[Row]) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_path(path)?;
    csv.write_record(["email", "class", "why", "via", "status", "reply", "date"])?;
    for row in rows {
        csv.write_record([
            &row.address,
            row.kind.as_str(),
            &row.why,
            row.via,
            &row.status,
            &inert_in_spreadsheets(&row.reply),
            &row.at,
        ])?;
    }
    csv.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounce_reply_that_a_spreadsheet_would_run_as_a_formula_is_written_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bounces.csv");
        let row = Row {
            address: "ana@example.org".to_owned(),
            kind: Kind::Bounce(Class::Hard),
            why: "no such address".to_owned(),
            via: "report",
            blame: "recipient-caused",
            status: "5.1.1".to_owned(),
            reply: "=HYPERLINK(\"http://evil.example/\") 5.1.1".to_owned(),
            at: "2026-09-21T14:13:20Z".to_owned(),
            in_a_row: None,
        };
        write_csv(&path, &[row]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(",\"'=HYPERLINK(\"\"http://evil.example/\"\") 5.1.1\","), "{text}");
    }
}
