//! The staff report after a send from the command line (`STAFF_EMAIL`):
//! what the live send learnt as it went ([`Ending`]), the failures the
//! journal holds for this run, gathered into a [`Run`] and sent by
//! [`crate::report::staff::send`]. Not sending it is a warning: the send's
//! outcome and journal stay as they are.

use std::path::PathBuf;

use super::SendOptions;
use crate::commands::{Outcome, warn};
use crate::config::Settings;
use crate::deliver::smtp::Relay;
use crate::domain::{Clock, EmailAddress, SystemClock, Timestamp, chain};
use crate::job::Job;
use crate::journal::{Journal, State};
use crate::report::Count;
use crate::report::staff::{Delivery, Failure, Run, send};

/// What a send says of itself as it goes, for the report.
#[derive(Debug, Default)]
pub(super) struct Ending {
    /// When messages started to go.
    pub started: Option<Timestamp>,
    pub count: Option<Count>,
    pub pending: u64,
    /// Rows not mailed and why, in the summary's words.
    pub skipped: Vec<String>,
    /// Why the send stopped early, as the terminal said it.
    pub stopped: Option<String>,
}

/// Who gets the report of this send, and what it is about.
pub(super) struct Staff {
    to: EmailAddress,
    settings: Settings,
    subject: String,
    campaign: crate::content::CampaignId,
    bulletin: PathBuf,
    ledger: PathBuf,
    state_dir: PathBuf,
    /// When the send was decided: the earliest this run's failures are.
    decided: Timestamp,
    quiet: bool,
}

impl Staff {
    pub(super) fn new(to: EmailAddress, job: &Job, options: &SendOptions, quiet: bool) -> Self {
        Self {
            to,
            settings: job.settings.clone(),
            subject: job.bulletin.subject_text(),
            campaign: job.bulletin.campaign.clone(),
            bulletin: options.bulletin.clone(),
            ledger: options.list.suppression_path().0,
            state_dir: options.state_dir.clone(),
            decided: SystemClock.now(),
            quiet,
        }
    }

    /// Sends the report of the send that ended with `outcome`, through
    /// `relay`; an error the send ended with is the alert's reason.
    pub(super) async fn report(&self, relay: &Relay, ending: Ending, outcome: &anyhow::Result<Outcome>) {
        let run = match self.run(ending, outcome) {
            Ok(run) => run,
            Err(error) => return warn(&format!("the staff report was not sent: {}", chain(error.as_ref()))),
        };
        let delivery = Delivery {
            to: &self.to,
            settings: &self.settings,
            relay,
            state_dir: &self.state_dir,
            ledger: &self.ledger,
            now: SystemClock.now(),
        };
        match send(delivery, &run).await {
            Ok(()) if !self.quiet => println!("  report    sent to {} (STAFF_EMAIL)", self.to),
            Ok(()) => {}
            Err(error) => warn(&format!("the staff report to {} was not sent: {}", self.to, chain(&error))),
        }
    }

    fn run(&self, ending: Ending, outcome: &anyhow::Result<Outcome>) -> anyhow::Result<Run> {
        let started = ending.started.unwrap_or(self.decided);
        let stopped = match outcome {
            Err(error) => Some(with_next_step(format!("{error:#}"))),
            Ok(_) => ending.stopped,
        };
        let count = ending.count.unwrap_or(Count { sent: 0, failed: 0, held_back: 0, of: ending.pending });
        Ok(Run {
            subject: self.subject.clone(),
            campaign: self.campaign.to_string(),
            bulletin: self.bulletin.clone(),
            started,
            finished: SystemClock.now(),
            count,
            pending: ending.pending,
            skipped: ending.skipped,
            failures: self.failures_since(started)?,
            stopped,
        })
    }

    /// The campaign's failures recorded since `started`: this run's.
    fn failures_since(&self, started: Timestamp) -> anyhow::Result<Vec<Failure>> {
        let Some(journal) = Journal::open_existing(&self.state_dir, &self.campaign)? else {
            return Ok(Vec::new());
        };
        // The journal keeps whole seconds: a row of the second the run
        // started is the run's.
        let from = started.unix_seconds();
        Ok(journal
            .entries(Some(State::Failed))?
            .into_iter()
            .filter(|entry| entry.updated_at.unix_seconds() >= from)
            .map(|entry| Failure { address: entry.address, reply: entry.reply })
            .collect())
    }
}

/// An error's account, with what to do next when it does not say.
fn with_next_step(account: String) -> String {
    if account.contains("run the same command again") {
        account
    } else {
        format!(
            "{account}\nOnce that is fixed, run the same command again: the journal keeps who has the \
             bulletin, so nobody gets it twice."
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_that_says_what_to_do_is_kept_and_one_that_does_not_is_told_how_to_resume() {
        let says = "stopped: …\nNothing was sent; fix that and run the same command again.";
        assert_eq!(with_next_step(says.to_owned()), says);
        let told = with_next_step("cannot use the relay 127.0.0.1:2525: 535 5.7.8 bad login".to_owned());
        assert!(told.starts_with("cannot use the relay 127.0.0.1:2525: 535 5.7.8 bad login\n"), "{told}");
        assert!(told.contains("run the same command again"), "{told}");
    }
}
