//! The scheduler inside `bulletin serve`: a thread that wakes every
//! [`WAKE`], reads "now" from the injected clock, and runs each due
//! schedule through the very send `bulletin send BULLETIN --yes` makes
//! (`commands::send::run`: the same job, locks, journal, checks and staff
//! report). Exactly once: a schedule is claimed in the store under its
//! lock before anything goes (see [`crate::journal::schedules`]); a `serve`
//! killed mid-send leaves it claimed, and the next `serve` runs the same
//! send again, which the journal resumes without mailing anyone twice.
//! A schedule missed by more than `CATCH_UP` is skipped instead, and a
//! bulletin that fails the send's checks is not sent: both are recorded
//! with the reason, logged, and told to `STAFF_EMAIL`. With `SEND_EVERY`,
//! each tick first records the weekly occurrence due, if any, as one more
//! schedule ([`super::weekly`]), so the same claim runs it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::commands::send::{SendOptions, refuse_for_list};
use crate::commands::{Outcome, Ui};
use crate::config::{ScheduleSettings, Settings, SmtpOverrides, SmtpSettings, Source};
use crate::deliver::smtp::Relay;
use crate::domain::{Clock, Timestamp, chain};
use crate::journal::schedules::{Schedule, ScheduleState, Schedules};
use crate::report::Count;
use crate::report::staff::{Delivery, Reminder, Run};
use crate::subscribers::Lists;

/// How often the scheduler looks for due sends: 15 s. Tests may shorten
/// it with `BULLETIN_TEST_SCHEDULER_WAKE_MS` (never longer).
pub const WAKE: Duration = Duration::from_secs(15);

/// What the scheduler needs from `serve`.
pub(in crate::commands) struct Scheduler {
    pub list: Lists,
    pub state_dir: PathBuf,
    /// The newsletter's `content/`, where `SEND_EVERY` finds its bulletin.
    pub content: PathBuf,
    pub env: Source,
    pub clock: Arc<dyn Clock>,
    /// When the reminder's look at `content/` last found a bulletin ready:
    /// looked at again only [`super::weekly::READY_AGAIN`] later, so a
    /// large `content/` is not read at every wake for a day.
    pub ready_seen: std::cell::Cell<Option<Timestamp>>,
    /// Told of each tick that succeeded (`/healthz`).
    pub health: Arc<crate::http::health::Part>,
}

impl Scheduler {
    /// Checks the settings, then runs the scheduler on a thread of its own
    /// for as long as the process lives.
    pub fn start(self) -> anyhow::Result<()> {
        let settings = ScheduleSettings::from_source(&self.env)?;
        if let Some(rule) = &settings.send_every {
            let next = rule.next(self.clock.now(), &settings.time_zone);
            println!(
                "Weekly send (SEND_EVERY): every {rule} {}; the next, {}, sends the newest ready bulletin in {}",
                settings.zone_name(),
                next.describe(),
                self.content.display()
            );
        }
        std::thread::Builder::new().name("scheduler".to_owned()).spawn(move || {
            loop {
                if let Err(error) = self.tick(&settings) {
                    eprintln!("{} error: scheduled sends: {}", self.clock.now(), chain(error.as_ref()));
                } else {
                    self.health.succeeded(self.clock.now());
                }
                std::thread::sleep(wake());
            }
        })?;
        Ok(())
    }

    /// Runs or skips every schedule due now.
    fn tick(&self, settings: &ScheduleSettings) -> anyhow::Result<()> {
        let store = Schedules::open(&self.state_dir)?;
        if let Some(rule) = &settings.send_every {
            self.weekly(rule, settings, &store)?;
        }
        for due in store.due(self.clock.now())? {
            // Another `serve` at work on it holds its lock: leave it.
            let Some(lock) = store.lock(due.id)? else { continue };
            let now = self.clock.now();
            let late = now.since(due.due);
            if due.state == ScheduleState::Pending && late > settings.catch_up {
                let why = format!(
                    "skipped: missed by {} (more than CATCH_UP, {}); send it with `bulletin send {} --yes`",
                    humantime::format_duration(Duration::from_secs(late.as_secs())),
                    humantime::format_duration(settings.catch_up),
                    due.bulletin.display()
                );
                if store.skip(due.id, &why, now)? {
                    self.tell(&due, &why);
                }
                continue;
            }
            let me = format!("{}@{}", std::process::id(), host());
            if !store.claim(&lock, due.id, &me, now)? {
                continue;
            }
            let started = self.clock.now();
            let (state, why) = self.send(&due);
            match state {
                // Interrupted (Ctrl-C): left claimed, for the next `serve`.
                ScheduleState::Claimed => eprintln!("{} schedule #{}: {why}", self.clock.now(), due.id),
                ScheduleState::Failed if !self.reported_since(started) => {
                    store.settle(due.id, state, &why, self.clock.now())?;
                    self.tell(&due, &why);
                }
                _ => {
                    store.settle(due.id, state, &why, self.clock.now())?;
                    eprintln!("{} schedule #{}: {why}", self.clock.now(), due.id);
                }
            }
            drop(lock);
        }
        Ok(())
    }

    /// Sends `due` as `bulletin send BULLETIN --yes` would.
    fn send(&self, due: &Schedule) -> (ScheduleState, String) {
        let options = SendOptions {
            bulletin: due.bulletin.clone(),
            list: self.list.clone(),
            dry_run: false,
            out: None,
            smtp: SmtpOverrides::default(),
            yes: true,
            state_dir: self.state_dir.clone(),
            to: Vec::new(),
            limit: None,
            retry_failed: false,
            resend_duplicates: false,
            skip_duplicates: false,
            allow_draft: false,
        };
        // The checks first, so that a bulletin that fails them is told to
        // staff here; past them, the send's own report tells them.
        let checked = refuse_for_list(&options)
            .and_then(|()| crate::commands::prepare(&options.bulletin, &options.list, &self.env).map(|_| ()));
        if let Err(error) = checked {
            return (ScheduleState::Failed, format!("not sent: {}", chain(error.as_ref())));
        }
        eprintln!(
            "{} schedule #{}: sending {} (due {})",
            self.clock.now(),
            due.id,
            due.bulletin.display(),
            due.due
        );
        let ui = Ui { quiet: true, verbose: false };
        match super::super::send::run(&options, &self.env, self.clock.now().as_system_time(), ui) {
            Ok(Outcome::Done) => (ScheduleState::Sent, "sent".to_owned()),
            Ok(Outcome::Problems) => {
                (ScheduleState::Sent, "sent; some recipients failed (see `bulletin status`)".to_owned())
            }
            Ok(Outcome::Interrupted) => {
                (ScheduleState::Claimed, "interrupted; the next `serve` resumes it".to_owned())
            }
            Ok(Outcome::QuotaUsed) => (
                ScheduleState::Failed,
                "stopped: the relay's quota or today's allowance is used up; the rest are pending for \
                 `bulletin send BULLETIN --yes` once it resets"
                    .to_owned(),
            ),
            Err(error) => (ScheduleState::Failed, format!("stopped: {}", chain(error.as_ref()))),
        }
    }

    /// Whether the send's own staff report (the alert, for a send that
    /// stopped once under way) went since `started`: then staff are not
    /// told twice.
    fn reported_since(&self, started: Timestamp) -> bool {
        crate::report::staff::last_sent(&self.state_dir)
            .is_ok_and(|last| last.is_some_and(|at| at.unix_seconds() >= started.unix_seconds()))
    }

    /// Logs why `due` was not sent, and tells `STAFF_EMAIL` if set.
    pub(super) fn tell(&self, due: &Schedule, why: &str) {
        let what = match &due.occurrence {
            Some(key) => format!("weekly send {key} (#{})", due.id),
            None => format!("schedule #{}", due.id),
        };
        eprintln!("{} {what}: {}", self.clock.now(), crate::report::printable(why));
        if let Err(error) = self.alert(due, why) {
            eprintln!("{} {what}: staff were not told: {}", self.clock.now(), chain(error.as_ref()));
        }
    }

    /// Emails `reminder` to `STAFF_EMAIL`, if set.
    pub(super) fn post_reminder(&self, reminder: &Reminder) -> anyhow::Result<()> {
        self.email_staff(Email::Reminder(reminder))
    }

    /// Emails `what` to `STAFF_EMAIL`, if set, through the relay the sends use.
    fn email_staff(&self, what: Email<'_>) -> anyhow::Result<()> {
        let Some(to) = crate::config::staff_email(&self.env)? else { return Ok(()) };
        let settings = Settings::from_source(&self.env)?;
        let relay = Relay::new(&SmtpSettings::from_source(&self.env, &SmtpOverrides::default())?)?;
        let ledger = self.list.suppression_path().0;
        let delivery = Delivery {
            to: &to,
            settings: &settings,
            relay: &relay,
            state_dir: &self.state_dir,
            ledger: &ledger,
            now: self.clock.now(),
        };
        let runtime = crate::runtime()?;
        match what {
            Email::Report(run) => runtime.block_on(crate::report::staff::send(delivery, run))?,
            Email::Reminder(reminder) => {
                runtime.block_on(crate::report::staff::remind(delivery, reminder))?
            }
        }
        Ok(())
    }

    fn alert(&self, due: &Schedule, why: &str) -> anyhow::Result<()> {
        let now = self.clock.now();
        // The bulletin's own subject and campaign when it still loads.
        let (subject, campaign) = match (crate::content::Bulletin::load(&due.bulletin), &due.occurrence) {
            (Ok(b), _) => {
                (format!("scheduled send #{} of {}", due.id, b.subject_text()), b.campaign.to_string())
            }
            (Err(_), Some(key)) => {
                (format!("weekly send #{} ({key}, SEND_EVERY)", due.id), "weekly".to_owned())
            }
            (Err(_), None) => {
                let stem = due.bulletin.file_stem().map(|s| s.to_string_lossy().into_owned());
                (format!("scheduled send #{}", due.id), stem.unwrap_or_default())
            }
        };
        let run = Run {
            subject,
            campaign,
            bulletin: due.bulletin.clone(),
            started: now,
            finished: now,
            count: Count { sent: 0, failed: 0, held_back: 0, of: 0 },
            pending: 0,
            skipped: Vec::new(),
            failures: Vec::new(),
            stopped: Some(format!("scheduled for {} UTC, {why}", due.due)),
        };
        self.email_staff(Email::Report(&run))
    }
}

/// What the scheduler emails staff: the report of a send it did not make,
/// or the reminder the day before a weekly send.
enum Email<'a> {
    Report(&'a Run),
    Reminder(&'a Reminder),
}

fn wake() -> Duration {
    std::env::var("BULLETIN_TEST_SCHEDULER_WAKE_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(WAKE, |ms| Duration::from_millis(ms).min(WAKE))
}

/// This machine's name, for `pid@host` in a claim.
fn host() -> String {
    hostname::get().map_or_else(|_| "localhost".to_owned(), |name| name.to_string_lossy().into_owned())
}
