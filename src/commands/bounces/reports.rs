//! The reports of one import or one round of the IMAP poller, read,
//! matched against the journal and recorded: each message through
//! [`crate::bounce::notice`], believed only when [`crate::bounce::origin`]
//! finds our message in it (or with `--trust-unmatched`), recorded once in
//! the bounce ledger, then decided by [`crate::bounce::intake`] and written
//! to the suppression list. `bounces import` prints what it returns;
//! `serve`'s poller logs it.

use std::path::Path;
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::{Suppressed, timestamp, write_suppressions};
use crate::bounce::Class;
use crate::bounce::intake;
use crate::bounce::ledger::{self, Kind, Ledger};
use crate::bounce::mailbox::Item;
use crate::bounce::notice::{self, Finding, NotBounce, Notice};
use crate::bounce::origin::{Evidence, NotOurs, Ours};
use crate::config::{BounceSettings, Settings, Source as EnvSource};
use crate::domain::EmailKey;
use crate::domain::MessageId;
use crate::journal::{Archive, Sent};
use crate::message::Composer;
use crate::message::verp::Verp;
use crate::subscribers::EmailAddress;
use crate::subscribers::Lists;

/// Where reports go and how they are judged.
pub(super) struct Intake<'a> {
    pub list: &'a Lists,
    pub state_dir: &'a Path,
    pub env: &'a EnvSource,
    pub now: SystemTime,
    /// Read and decide everything, write nothing.
    pub dry_run: bool,
    /// Believe reports that match no message in the journal.
    pub trust_unmatched: bool,
}

/// What a batch of reports did.
pub(super) struct Taken {
    pub tally: Tally,
    /// Reports recorded by this batch, in the order read.
    pub recorded: Vec<ledger::Entry>,
    /// Each soft bounce's address and how many in a row it makes.
    pub soft_counts: Vec<(String, u32)>,
    pub suppressed: Suppressed,
    /// `BOUNCE_SOFT_LIMIT`.
    pub limit: u32,
}

/// Reads, matches and records every item, then suppresses whom they call
/// for; the ledger commits only after the suppression list is written, so
/// a crash in between finds the reports new again and adds nothing twice.
pub(super) fn take(intake: &Intake, items: impl IntoIterator<Item = Item>) -> anyhow::Result<Taken> {
    let limit = BounceSettings::from_source(intake.env)?.soft_limit.get();
    let ledger = match (intake.dry_run, Ledger::open_existing(intake.state_dir)?) {
        (_, Some(ledger)) => ledger,
        (true, None) => Ledger::in_memory()?,
        (false, None) => Ledger::open(intake.state_dir)?,
    };
    ledger.begin()?;
    let archive = Archive::open_existing(intake.state_dir)?;
    // Every message of ours, by token and Message-ID, once.
    let verp = Verp::from_secret(Settings::unsubscribe_secret_in(intake.env).as_ref());
    let ours = Ours::load(archive.as_ref(), &verp)?;
    let mut import = Import {
        ledger,
        now: intake.now,
        trust_unmatched: intake.trust_unmatched,
        tally: Tally::default(),
        recorded: Vec::new(),
    };
    for item in items {
        import.tally.messages += 1;
        match item.bytes {
            Ok(bytes) => import.message(&ours, &item.origin, &bytes)?,
            Err(why) => import.tally.unusable.push((item.origin, why)),
        }
    }
    // The same decision as the relays' webhooks make (`bounce::intake`).
    let (suppress, soft_counts) = intake::decide(&import.recorded, archive.as_ref(), &import.ledger, limit)?;
    let suppressed = match write_suppressions(intake.list, suppress, intake.now, intake.dry_run) {
        Ok(s) => s,
        Err(e) => {
            import.ledger.rollback()?;
            return Err(e);
        }
    };
    if intake.dry_run {
        import.ledger.rollback()?;
    } else {
        import.ledger.commit()?;
    }
    Ok(Taken { tally: import.tally, recorded: import.recorded, soft_counts, suppressed, limit })
}

/// What the import found.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub(super) messages: u64,
    pub(super) hard: u64,
    pub(super) soft: u64,
    pub(super) blocked: u64,
    pub(super) unknown: u64,
    pub(super) complaints: u64,
    pub(super) delayed: u64,
    pub(super) auto_replies: u64,
    pub(super) not_bounces: u64,
    /// Reports recorded by an earlier import.
    pub(super) seen_before: u64,
    /// Messages that could not be used, and why.
    pub(super) unusable: Vec<(String, String)>,
    /// Reports not believed: where from, the address they name, and why.
    pub(super) not_ours: Vec<(String, String, String)>,
    /// Reports that matched no message of ours, believed because of
    /// `--trust-unmatched`.
    pub(super) trusted: u64,
}

struct Import {
    ledger: Ledger,
    now: SystemTime,
    trust_unmatched: bool,
    tally: Tally,
    /// Reports recorded by this import, in the order read.
    recorded: Vec<ledger::Entry>,
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
