//! What a bounce or complaint, once believed, does: the one path from "this
//! address bounced (or complained, or left)" to the bounce ledger and the
//! consent ledger (the suppression list), shared by `bounces import` (the
//! bounce mailbox) and the relays' webhooks of `bulletin serve`.
//!
//! Hard bounces and complaints suppress at once; soft bounces are counted,
//! and `BOUNCE_SOFT_LIMIT` of them in a row (see [`super::streak`])
//! suppress; blocked and unknown bounces are recorded and never suppress.
//! Whether a report is to be believed is decided before: the import by
//! [`super::origin`], a webhook by its signature and [`Intake::take`]'s
//! look-up of the address in the journal.

use std::collections::HashMap;
use std::path::PathBuf;

use super::Class;
use super::ledger::{self, Kind, Ledger};
use super::streak;
use crate::domain::{EmailAddress, EmailKey, MessageId, Timestamp};
use crate::journal::{Archive, Sent};
use crate::subscribers::{Entry, Reason, SuppressionFile};

/// The soft bounces the address whose key is `key` has had in a row, from
/// the journal and the ledger (see [`streak`]).
pub fn soft_in_a_row(
    archive: Option<&Archive>,
    ledger: Option<&Ledger>,
    key: &EmailKey,
) -> anyhow::Result<u32> {
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
pub struct Suppress {
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

    pub fn add(&mut self, email: EmailAddress, reason: Reason, detail: String) {
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

    /// The rows to add, in the order first added.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn into_entries(self) -> Vec<Entry> {
        self.entries
    }
}

/// Suppression detail for a hard bounce or complaint from the ledger.
pub fn detail_of(entry: &ledger::Entry) -> String {
    match (entry.status.is_empty(), entry.detail.is_empty()) {
        (true, _) => entry.detail.clone(),
        (false, true) => entry.status.clone(),
        (false, false) if entry.detail.contains(&entry.status) => entry.detail.clone(),
        (false, false) => format!("{} {}", entry.status, entry.detail),
    }
}

/// Who the reports just `recorded` in `ledger` suppress, with `limit` soft
/// bounces in a row counting as one hard; and, for each soft bounce, its
/// address and how many in a row it makes.
pub fn decide(
    recorded: &[ledger::Entry],
    archive: Option<&Archive>,
    ledger: &Ledger,
    limit: u32,
) -> anyhow::Result<(Suppress, Vec<(String, u32)>)> {
    let mut suppress = Suppress::default();
    let mut soft_counts = Vec::new();
    for entry in recorded {
        let Ok(email) = EmailAddress::parse(&entry.address) else { continue };
        match entry.kind {
            Kind::Bounce(Class::Hard) => suppress.add(email, Reason::HardBounce, detail_of(entry)),
            Kind::Complaint => suppress.add(email, Reason::Complaint, detail_of(entry)),
            Kind::Bounce(Class::Soft) => {
                let count = soft_in_a_row(archive, Some(ledger), &entry.email_key)?;
                if count >= limit {
                    let detail = format!("{count} soft bounces in a row; last: {}", detail_of(entry));
                    suppress.add(email, Reason::SoftBounces, detail);
                }
                soft_counts.push((entry.address.clone(), count));
            }
            Kind::Bounce(_) => {}
        }
    }
    Ok((suppress, soft_counts))
}

/// What a relay said of one address, already proved to come from the relay.
#[derive(Debug, Clone)]
pub struct Report {
    pub address: EmailAddress,
    /// The `Message-ID` of our message, when the relay gives it.
    pub message_id: Option<String>,
    pub said: Said,
    /// The enhanced status code, or empty.
    pub status: String,
    /// The relay's words.
    pub detail: String,
    /// Where it came from, for the ledger: `Mailgun webhook`.
    pub source: &'static str,
}

/// What a relay reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Said {
    Bounce(Class),
    Complaint,
    /// The reader left through the relay's own link or list header.
    Unsubscribe,
}

/// What taking a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Added to the suppression list for this reason.
    Suppressed(Reason),
    /// Already on the suppression list.
    AlreadySuppressed,
    /// A soft bounce, this many in a row, not yet enough to suppress.
    Counted(u32),
    /// Recorded in the bounce ledger, which acts on it no further
    /// (blocked, unknown).
    Recorded,
    /// The same report about the same message was recorded before.
    SeenBefore,
    /// The journal has sent nothing to the address: not believed.
    NotOurs,
}

/// Takes reports into the ledgers of one state folder and list.
#[derive(Debug, Clone)]
pub struct Intake {
    pub state_dir: PathBuf,
    pub suppressed: SuppressionFile,
    /// `BOUNCE_SOFT_LIMIT`.
    pub soft_limit: u32,
}

impl Intake {
    /// Believes `report` only if the journal has mailed its address (its
    /// message, by `Message-ID`, or else the latest to the address), then
    /// records it once and suppresses as `bounces import` does.
    pub fn take(&self, report: &Report, now: Timestamp) -> anyhow::Result<Taken> {
        let Some(archive) = Archive::open_existing(&self.state_dir)? else { return Ok(Taken::NotOurs) };
        let Some(sent) = ours(&archive, report)? else { return Ok(Taken::NotOurs) };
        let kind = match report.said {
            Said::Unsubscribe => {
                let detail = format!("{}: {}", report.source, report.detail);
                let entry = Entry { email: report.address.clone(), reason: Reason::Unsubscribed, detail };
                return self.suppress(&[entry], now).map(|added| match added {
                    true => Taken::Suppressed(Reason::Unsubscribed),
                    false => Taken::AlreadySuppressed,
                });
            }
            Said::Complaint => Kind::Complaint,
            Said::Bounce(class) => Kind::Bounce(class),
        };
        let message_id = sent.message_id.trim_matches(['<', '>']).to_owned();
        let entry = ledger::Entry {
            key: format!("message:{message_id}"),
            address: sent.address.clone(),
            email_key: report.address.key().clone(),
            kind,
            why: match kind {
                Kind::Complaint => "complaint".to_owned(),
                Kind::Bounce(class) => format!("{} bounce reported by the relay", class.as_str()),
            },
            status: report.status.clone(),
            detail: report.detail.clone(),
            campaign: Some(sent.campaign.clone()),
            message_id: Some(message_id),
            sent_at: sent.updated_at.to_string(),
            source: report.source.to_owned(),
            imported_at: now.to_string(),
        };
        let ledger = Ledger::open(&self.state_dir)?;
        ledger.begin()?;
        let taken = self.record(&ledger, &archive, entry, now);
        match &taken {
            Ok(_) => ledger.commit()?,
            Err(_) => ledger.rollback()?,
        }
        taken
    }

    fn record(
        &self,
        ledger: &Ledger,
        archive: &Archive,
        entry: ledger::Entry,
        now: Timestamp,
    ) -> anyhow::Result<Taken> {
        if !ledger.record(&entry)? {
            return Ok(Taken::SeenBefore);
        }
        let (suppress, counts) =
            decide(std::slice::from_ref(&entry), Some(archive), ledger, self.soft_limit)?;
        // The suppression list before the ledger commits, as the import does:
        // a crash between them leaves the report new, and taking it again
        // adds nobody twice.
        let entries = suppress.into_entries();
        match entries.first() {
            Some(first) => {
                let reason = first.reason;
                Ok(if self.suppress(&entries, now)? {
                    Taken::Suppressed(reason)
                } else {
                    Taken::AlreadySuppressed
                })
            }
            None => Ok(counts.first().map_or(Taken::Recorded, |(_, n)| Taken::Counted(*n))),
        }
    }

    /// Adds `entries`; whether any was new.
    fn suppress(&self, entries: &[Entry], now: Timestamp) -> anyhow::Result<bool> {
        let added = self.suppressed.add(entries, now.as_system_time())?;
        Ok(!added.added.is_empty())
    }
}

/// Our message `report` is about: the one with its `Message-ID`, if that
/// went to its address, else the latest sent to its address.
fn ours(archive: &Archive, report: &Report) -> anyhow::Result<Option<Sent>> {
    let key = report.address.key();
    let by_id = match report.message_id.as_deref().and_then(MessageId::parse) {
        Some(id) => archive.keyed_message(&id)?,
        None => None,
    };
    if let Some((recipient, sent)) = by_id
        && &recipient == key
    {
        return Ok(Some(sent));
    }
    Ok(archive.messages_to(key)?.into_iter().max_by_key(|sent| sent.updated_at))
}
