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
use sha2::{Digest, Sha256};

use super::{print_suppressed, timestamp, write_suppressions};
use crate::bounce::Class;
use crate::bounce::intake;
use crate::bounce::ledger::{self, Kind, Ledger};
use crate::bounce::mailbox::Source;
use crate::bounce::notice::{self, Finding, NotBounce, Notice};
use crate::bounce::origin::{Evidence, NotOurs, Ours};
use crate::commands::{Outcome, Ui};
use crate::config::{BounceSettings, Settings, Source as EnvSource};
use crate::domain::EmailKey;
use crate::domain::MessageId;
use crate::journal::{Archive, Sent};
use crate::message::Composer;
use crate::message::verp::Verp;
use crate::report::printable;
use crate::subscribers::EmailAddress;
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

/// What the import found.
#[derive(Debug, Default)]
struct Tally {
    messages: u64,
    hard: u64,
    soft: u64,
    blocked: u64,
    unknown: u64,
    complaints: u64,
    delayed: u64,
    auto_replies: u64,
    not_bounces: u64,
    /// Reports recorded by an earlier import.
    seen_before: u64,
    /// Messages that could not be used, and why.
    unusable: Vec<(String, String)>,
    /// Reports not believed: where from, the address they name, and why.
    not_ours: Vec<(String, String, String)>,
    /// Reports that matched no message of ours, believed because of
    /// `--trust-unmatched`.
    trusted: u64,
}

struct Import {
    ledger: Ledger,
    now: SystemTime,
    trust_unmatched: bool,
    tally: Tally,
    /// Reports recorded by this import, in the order read.
    recorded: Vec<ledger::Entry>,
}

pub fn run(options: &ImportOptions, env: &EnvSource, now: SystemTime, ui: Ui) -> anyhow::Result<Outcome> {
    let limit = BounceSettings::from_source(env)?.soft_limit.get();
    let sources = options
        .paths
        .iter()
        .map(|path| Source::detect(path).with_context(|| format!("cannot read {}", path.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ledger = match (options.dry_run, Ledger::open_existing(&options.state_dir)?) {
        (_, Some(ledger)) => ledger,
        (true, None) => Ledger::in_memory()?,
        (false, None) => Ledger::open(&options.state_dir)?,
    };
    ledger.begin()?;
    let archive = Archive::open_existing(&options.state_dir)?;
    // Every message of ours, by token and Message-ID, once.
    let verp = Verp::from_secret(Settings::unsubscribe_secret_in(env).as_ref());
    let ours = Ours::load(archive.as_ref(), &verp)?;
    let mut import = Import {
        ledger,
        now,
        trust_unmatched: options.trust_unmatched,
        tally: Tally::default(),
        recorded: Vec::new(),
    };
    for source in &sources {
        for item in source.items() {
            import.tally.messages += 1;
            match item.bytes {
                Ok(bytes) => import.message(&ours, &item.origin, &bytes)?,
                Err(why) => import.tally.unusable.push((item.origin, why)),
            }
        }
    }

    // The same decision as the relays' webhooks make (`bounce::intake`).
    let (suppress, soft_counts) = intake::decide(&import.recorded, archive.as_ref(), &import.ledger, limit)?;

    let names: Vec<String> = sources.iter().map(Source::describe).collect();
    let dry = if options.dry_run { " (dry run: nothing is written)" } else { "" };
    println!("Read {} message(s) from {}{dry}", import.tally.messages, printable(&names.join(", ")));
    print_tally(&import.tally, options.trust_unmatched);
    if !ui.quiet {
        print_recorded(&import.recorded, &soft_counts, limit);
    }
    // The suppression list first: a crash before the ledger commits means
    // the next import finds these reports new again and adds nothing twice.
    let suppressed = write_suppressions(&options.list, suppress, now, options.dry_run);
    let suppressed = match suppressed {
        Ok(s) => s,
        Err(e) => {
            import.ledger.rollback()?;
            return Err(e);
        }
    };
    if options.dry_run {
        import.ledger.rollback()?;
    } else {
        import.ledger.commit()?;
    }
    print_suppressed(&suppressed, options.dry_run, ui.quiet);
    print_not_ours(&import.tally.not_ours);
    if !import.tally.unusable.is_empty() {
        println!("Could not use {} message(s):", import.tally.unusable.len());
        for (origin, why) in &import.tally.unusable {
            println!("  {}: {}", printable(origin), printable(why));
        }
    }
    Ok(if import.tally.unusable.is_empty() { Outcome::Done } else { Outcome::Problems })
}

/// A bounce or complaint report: where it was read, its bytes, and what
/// was read from it.
#[derive(Clone, Copy)]
struct Report<'a> {
    origin: &'a str,
    bytes: &'a [u8],
    notice: &'a Notice,
}

/// What a report says of one address: the message of ours it is about
/// (when the journal knows it), the address, and the bounce or complaint.
struct Said<'a> {
    sent: Option<&'a Sent>,
    address: &'a str,
    kind: Kind,
    why: &'a str,
    status: &'a str,
    detail: &'a str,
}

impl Import {
    fn message(&mut self, ours: &Ours<'_>, origin: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let notice = notice::read(bytes);
        match &notice.finding {
            Finding::Unusable(why) => self.tally.unusable.push((origin.to_owned(), why.clone())),
            Finding::Delayed => self.tally.delayed += 1,
            Finding::NotBounce(kind) => {
                self.tally.not_bounces += 1;
                if *kind == NotBounce::AutoReply {
                    self.tally.auto_replies += 1;
                }
            }
            Finding::Bounces(bounces) => {
                let evidence = ours.evidence(&notice)?;
                for bounce in bounces {
                    let Some((address, sent)) = self.whom(
                        ours,
                        &evidence,
                        origin,
                        bounce.address.as_deref(),
                        bounces.len() == 1,
                        "a bounce that names no address, about a message the journal does not know",
                    ) else {
                        continue;
                    };
                    let status = bounce.status.map(|s| s.to_string()).unwrap_or_default();
                    let kind = Kind::Bounce(bounce.cause.class());
                    let why = bounce.cause.describe();
                    let report = Report { origin, bytes, notice: &notice };
                    let said =
                        Said { sent, address: &address, kind, why, status: &status, detail: &bounce.detail };
                    self.record(&report, said);
                }
            }
            Finding::Complaints(complaints) => {
                let evidence = ours.evidence(&notice)?;
                for complaint in complaints {
                    let Some((address, sent)) = self.whom(
                        ours,
                        &evidence,
                        origin,
                        complaint.address.as_deref(),
                        complaints.len() == 1,
                        "a complaint that does not say which address it is about (the report hides it)",
                    ) else {
                        continue;
                    };
                    let detail = format!("feedback report: {}", complaint.feedback_type);
                    let report = Report { origin, bytes, notice: &notice };
                    let said = Said {
                        sent,
                        address: &address,
                        kind: Kind::Complaint,
                        why: "complaint",
                        status: "",
                        detail: &detail,
                    };
                    self.record(&report, said);
                }
            }
        }
        Ok(())
    }

    /// The address a report with `evidence` is about, for one address it
    /// `named`, and our message it is about; `None` when it is not believed
    /// (listed as not ours) or names nobody (listed as unusable).
    fn whom<'e>(
        &mut self,
        ours: &Ours<'_>,
        evidence: &'e Evidence,
        origin: &str,
        named: Option<&str>,
        sole: bool,
        nameless: &str,
    ) -> Option<(String, Option<&'e Sent>)> {
        match ours.believe(evidence, named, sole) {
            // Each of our messages goes to one address: what the journal
            // says it was sent to is the one to act on, even if it was
            // forwarded to another.
            Ok(sent) => Some((sent.address.clone(), Some(sent))),
            Err(NotOurs::Unmatched) if self.trust_unmatched => match named {
                Some(address) => {
                    self.tally.trusted += 1;
                    Some((address.to_owned(), None))
                }
                None => {
                    self.unusable(origin, nameless);
                    None
                }
            },
            Err(why) => {
                let named = named.unwrap_or("(no address named)").to_owned();
                self.tally.not_ours.push((origin.to_owned(), named, why.to_string()));
                None
            }
        }
    }

    fn unusable(&mut self, origin: &str, why: &str) {
        self.tally.unusable.push((origin.to_owned(), why.to_owned()));
    }

    /// Records what `report` said of one address, once.
    fn record(&mut self, report: &Report, said: Said) {
        let Report { origin, bytes, notice } = *report;
        let Said { sent, address, kind, why, status, detail } = said;
        if let Err(problem) = EmailAddress::parse(address) {
            self.unusable(
                origin,
                &format!("a report about {address:?}, which is not a usable address ({problem})"),
            );
            return;
        }
        let original_id = match sent {
            Some(sent) => Some(sent.message_id.trim_matches(['<', '>']).to_owned()),
            None => notice.original.message_ids.first().cloned(),
        };
        let key = match (&original_id, &notice.id) {
            (Some(id), _) => format!("message:{id}"),
            (None, Some(id)) => format!("notice:{id}"),
            (None, None) => {
                format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
            }
        };
        let campaign = sent.map(|s| s.campaign.clone()).or_else(|| {
            notice
                .original
                .message_ids
                .iter()
                .filter_map(|id| MessageId::parse(id))
                .find_map(|id| Composer::campaign_in(&id).map(str::to_owned))
        });
        let sent_at = match sent {
            Some(sent) => sent.updated_at.to_string(),
            None => timestamp(notice.original.date.or(notice.date).unwrap_or(self.now)),
        };
        let entry = ledger::Entry {
            key,
            address: address.to_owned(),
            email_key: EmailKey::of(address),
            kind,
            why: why.to_owned(),
            status: status.to_owned(),
            detail: detail.to_owned(),
            campaign,
            message_id: original_id,
            sent_at,
            source: origin.to_owned(),
            imported_at: timestamp(self.now),
        };
        match self.ledger.record(&entry) {
            Ok(true) => {
                let counter = match kind {
                    Kind::Bounce(Class::Hard) => &mut self.tally.hard,
                    Kind::Bounce(Class::Soft) => &mut self.tally.soft,
                    Kind::Bounce(Class::Blocked) => &mut self.tally.blocked,
                    Kind::Bounce(Class::Unknown) => &mut self.tally.unknown,
                    Kind::Complaint => &mut self.tally.complaints,
                };
                *counter += 1;
                self.recorded.push(entry);
            }
            Ok(false) => self.tally.seen_before += 1,
            Err(e) => self.unusable(origin, &format!("cannot record it: {}", crate::domain::chain(&e))),
        }
    }
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
