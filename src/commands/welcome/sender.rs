//! One round of the welcome sender: who is due a welcome now
//! ([`super`]'s rule), and the send to them, made of the send's own
//! pieces: the job, the feed, the relay, one rate limit, the live
//! suppression check and the journal, under the campaign's lock.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Failed, Welcomer, failed};
use crate::config::{Settings, SmtpOverrides, SmtpSettings};
use crate::content::CampaignId;
use crate::deliver::plan::{Choice, plan, received_elsewhere, text_of};
use crate::deliver::smtp::Relay;
use crate::deliver::{Counts, Feeding, Finished, Halt, Policy};
use crate::domain::{EmailAddress, EmailKey, Timestamp, chain};
use crate::job::Job;
use crate::journal::welcomes::Welcomes;
use crate::journal::{Archive, CampaignLock, Journal, LockError, State, StateLock};
use crate::subscribers::LiveSuppression;

impl Welcomer {
    /// Whether the welcome bulletin could be sent now, or why not.
    pub(super) fn check(&self) -> Result<(), String> {
        let (job, _) =
            Job::prepare_welcome(&self.path, &self.list, &self.env, HashSet::new()).map_err(|e| chain(&e))?;
        refuse_examples(&job.settings, &[]).map_err(|e| chain(e.as_ref()))
    }

    /// Sends every welcome due now. A round that found nobody to welcome
    /// (and nobody paused, whose pause ends by itself) is not made again
    /// until the ledger, the list or `signups.csv` changes: at 10,000 rows
    /// of ledger, reading it every 15 s cost an idle `serve` (debug build)
    /// 0.29 s of CPU a minute, 0.5% of a core; skipped, no tick in 60 s.
    pub(super) fn round(&self) -> Result<(), Failed> {
        let cannot_read = "the state folder or the ledger cannot be read";
        let Some(since) = Welcomes::open(&self.state_dir)
            .map_err(failed(cannot_read))?
            .since()
            .map_err(failed(cannot_read))?
        else {
            return Ok(());
        };
        let files = self.files(since);
        if self.quiet.get().is_some_and(|quiet| quiet == files) {
            return Ok(());
        }
        let (newcomers, paused) = self.newcomers(since).map_err(failed(cannot_read))?;
        if newcomers.is_empty() {
            if !paused {
                self.quiet.set(Some(files));
            }
            return Ok(());
        }
        let keys: HashSet<EmailKey> = newcomers.iter().map(|e| e.key().clone()).collect();
        let (job, rows) = Job::prepare_welcome(&self.path, &self.list, &self.env, keys)
            .map_err(|e| failed("the welcome bulletin cannot be sent")(e))?;
        if job.bulletin.draft {
            return Err(failed("the welcome bulletin cannot be sent")(anyhow::anyhow!(
                "it is a draft now (`draft = true`)"
            )));
        }
        refuse_examples(&job.settings, &newcomers).map_err(failed("the welcome bulletin cannot be sent"))?;
        let reached = self.send(job, rows, &newcomers)?;
        if !reached && !paused {
            self.quiet.set(Some(files));
        }
        Ok(())
    }

    /// What a round's answer depends on besides the journal (which only
    /// the welcome writes to): the welcome's start, and the size and time
    /// of the ledger, the list and `signups.csv`.
    fn files(&self, since: Timestamp) -> super::Files {
        let stamp =
            |path: &std::path::Path| std::fs::metadata(path).ok().map(|m| (m.len(), m.modified().ok()));
        let (ledger, _) = self.list.suppression_path();
        let signups = crate::subscribers::signups::beside(&self.list.subscribers);
        super::Files { since, stamps: [stamp(&ledger), stamp(&self.list.subscribers), stamp(&signups)] }
    }

    /// Those who confirmed since `since`, not welcomed yet and not blocked
    /// or paused by the consent ledger now.
    fn newcomers(&self, since: Timestamp) -> anyhow::Result<(Vec<EmailAddress>, bool)> {
        let (ledger, _) = self.list.suppression_path();
        let confirmed = crate::subscribers::confirmed_since(&ledger, since.as_system_time())?;
        if confirmed.is_empty() {
            return Ok((confirmed, false));
        }
        let journal = Journal::open_existing(&self.state_dir, &CampaignId::welcome())?;
        let (suppressed, _) = self.list.read_suppressions()?;
        let now = self.clock.now().as_system_time();
        let (mut due, mut paused) = (Vec::new(), false);
        for email in confirmed {
            let state = match &journal {
                Some(journal) => journal.state(email.key())?,
                None => None,
            };
            if matches!(state, Some(State::Sent | State::Failed)) || suppressed.contains(&email) {
                continue;
            }
            if suppressed.paused_until(email.key()).is_some_and(|until| until > now) {
                paused = true;
                continue;
            }
            due.push(email);
        }
        Ok((due, paused))
    }

    /// The send itself, as `bulletin send --yes` makes it, to the
    /// newcomers the job's list admits; one log line for each welcome sent
    /// or failed. Whether the list admitted anyone to send to.
    fn send(
        &self,
        job: Job,
        rows: crate::subscribers::SubscriberReader,
        newcomers: &[EmailAddress],
    ) -> Result<bool, Failed> {
        let journal_failed = "the journal cannot be written";
        let campaign = job.bulletin.campaign.clone();
        let now = self.clock.now();
        let existing = Journal::open_existing(&self.state_dir, &campaign).map_err(failed(journal_failed))?;
        let elsewhere =
            received_elsewhere(existing.as_ref(), &job.bulletin, now).map_err(failed(journal_failed))?;
        let choice = Choice::default();
        let to_send =
            plan(rows, existing.as_ref(), &elsewhere, choice).map_err(failed(journal_failed))?.to_send;
        if to_send == 0 {
            // Not on what a send reads yet (SIGNUPS=manual), or had it as
            // another campaign: nothing to do.
            return Ok(false);
        }
        let relay_failed = "the relay could not be used";
        let smtp =
            SmtpSettings::from_source(&self.env, &SmtpOverrides::default()).map_err(failed(relay_failed))?;
        let relay = Relay::new(&smtp).map_err(failed(relay_failed))?;
        let allowance = match smtp.per_day {
            Some(per_day) => {
                let since = Timestamp::from(now.as_system_time() - Duration::from_secs(24 * 3600));
                let handed_over =
                    match Archive::open_existing(&self.state_dir).map_err(failed(journal_failed))? {
                        Some(archive) => archive.handed_over_since(since).map_err(failed(journal_failed))?.0,
                        None => 0,
                    };
                let left = u64::from(per_day.get()).saturating_sub(handed_over);
                if left == 0 {
                    return Err(failed("today's allowance is used up; the welcomes wait")(anyhow::anyhow!(
                        "{handed_over} messages went in the last 24 hours"
                    )));
                }
                Some(left)
            }
            None => None,
        };
        // As a send: never beside `bulletin forget`, and one sender of the
        // campaign at a time (another `serve` holding it is at work).
        let _state = StateLock::shared(&self.state_dir, || {}).map_err(failed(journal_failed))?;
        let _lock = match CampaignLock::acquire(&self.state_dir, &campaign, &*self.clock) {
            Ok(lock) => lock,
            Err(LockError::Held { .. } | LockError::SameText { .. }) => return Ok(true),
            Err(e) => return Err(failed(journal_failed)(e)),
        };
        let journal = Journal::open(&self.state_dir, &campaign).map_err(failed(journal_failed))?;
        journal
            .started(&job.bulletin.path, &job.bulletin.subject_text(), text_of(&job.bulletin))
            .map_err(failed(journal_failed))?;
        let rows = job.rows().map_err(failed(journal_failed))?;
        let reader_journal = Journal::open(&self.state_dir, &campaign).map_err(failed(journal_failed))?;
        let clock = Arc::clone(&self.clock);
        let list = self.list.clone();
        // A runtime of its own for the send alone: an idle `serve` keeps
        // no threads for the welcome but its own.
        let runtime = crate::runtime().map_err(failed(relay_failed))?;
        let finished = runtime.block_on(async move {
            let first = relay
                .connect()
                .await
                .map_err(|f| anyhow::anyhow!("cannot use the relay {}: {f}", relay.name()))?;
            let feeding = Feeding {
                job,
                rows,
                journal: reader_journal,
                elsewhere,
                choice,
                clock,
                // A welcome answers the reader's confirmation, so it goes
                // at once, whatever SEND_WINDOW says.
                gate: None,
                queue: 2,
            };
            let policy = Policy {
                rate: smtp.rate,
                attempts: smtp.attempts,
                retry_delay: smtp.retry_delay,
                allowance,
                suppressed: Some(Arc::new(LiveSuppression::new(list, |w| eprintln!("warning: {w}")))),
                gate: None,
            };
            let counts = Arc::new(Counts::default());
            let (finished, read) = crate::deliver::run(
                feeding,
                vec![first],
                journal,
                policy,
                CancellationToken::new(),
                Arc::clone(&counts),
            )
            .await;
            read.map_err(|_| anyhow::anyhow!("the reader panicked"))??;
            let held_back = counts.suppressed.load(Ordering::SeqCst);
            finished.map(|finished| (finished, held_back))
        });
        let (Finished { journal, halt, .. }, held_back) = finished.map_err(failed(relay_failed))?;
        self.log(&journal, newcomers, held_back);
        match halt {
            None => Ok(true),
            Some(Halt::Failing { reason, .. }) => {
                Err(failed("the relay refused the welcomes")(anyhow::anyhow!(
                    "{}; they are tried again next round",
                    crate::report::printable(&reason.to_string())
                )))
            }
            Some(Halt::Quota(reply)) => Err(failed("the relay's quota is used up; the welcomes wait")(
                anyhow::anyhow!("{}", crate::report::printable(&reply.to_string())),
            )),
            Some(Halt::Allowance) => Err(failed("today's allowance is used up; the welcomes wait")(
                anyhow::anyhow!("SMTP_RATE's daily allowance"),
            )),
        }
    }

    /// One line per newcomer whose welcome was sent or failed.
    fn log(&self, journal: &Journal, newcomers: &[EmailAddress], held_back: u64) {
        let now = self.clock.now();
        for email in newcomers {
            let who = crate::http::mask(email);
            match journal
                .entries(None)
                .map(|entries| entries.into_iter().find(|e| EmailKey::of(&e.address) == *email.key()))
            {
                Ok(Some(entry)) if entry.state == State::Sent => eprintln!("{now} welcome sent to {who}"),
                Ok(Some(entry)) if entry.state == State::Failed => eprintln!(
                    "{now} welcome to {who} failed: {}",
                    crate::report::printable(&entry.reply.to_string())
                ),
                Ok(_) => {}
                Err(e) => eprintln!("{now} welcome: error: the journal cannot be read: {}", chain(&e)),
            }
        }
        if held_back > 0 {
            eprintln!("{now} welcome: {held_back} not sent: unsubscribed or paused just before");
        }
    }
}

/// A welcome never goes out from the example.org placeholders, nor from
/// the example's values to anyone but addresses on domains reserved for
/// examples, which reach no one (as a send to the list decides).
fn refuse_examples(settings: &Settings, newcomers: &[EmailAddress]) -> anyhow::Result<()> {
    anyhow::ensure!(
        settings.placeholders.is_empty(),
        "the settings still hold example.org placeholders: set them in .env"
    );
    let reaches_someone = newcomers.iter().any(|e| !crate::config::reaches_no_one(e));
    anyhow::ensure!(
        settings.examples.is_empty() || !reaches_someone,
        "the settings still hold the example's values: set your organisation's own in .env"
    );
    Ok(())
}
