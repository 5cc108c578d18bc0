//! The welcome bulletin (`WELCOME_BULLETIN`), sent by `bulletin serve` to
//! each reader who confirms a sign-up while it is on, once.
//!
//! **The rule**: a reader is welcomed when the consent ledger holds a
//! `confirmed` row of theirs dated at or after the moment the welcome was
//! turned on (the first `serve` started with it; see
//! [`crate::journal::welcomes`]), the journal has no welcome sent to them
//! (or failed for good), the consent rule lets them be mailed at the moment
//! of sending, and a send would reach them now (on the list, or in
//! `signups.csv` with `SIGNUPS=auto`). Never the list as it was before.
//!
//! A thread beside the server wakes every [`WAKE`] and sends any welcome
//! due through the send's own pieces: the [`Job`] (personalised, with the
//! unsubscribe links and DKIM), the feed, the relay, one rate limit, the
//! live suppression check before each hand-over, and the journal under
//! campaign [`CampaignId::welcome`], whose `sending` row is written before
//! a message goes. The campaign's send lock is held while it sends: of two
//! `serve` processes on one folder, one sends, and a `serve` that dies
//! mid-send leaves the journal to say who is in doubt, sent again under
//! the same Message-ID by the next round.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::{Settings, SmtpOverrides, SmtpSettings, Source, Welcome};
use crate::content::{Bulletin, CampaignId};
use crate::deliver::plan::{Choice, plan, received_elsewhere, text_of};
use crate::deliver::smtp::Relay;
use crate::deliver::{Counts, FeedSource, Finished, Halt, Outgoing, Policy, feed, send_all};
use crate::domain::{Clock, EmailAddress, EmailKey, Timestamp, chain};
use crate::http::health::{Alive, Health};
use crate::job::Job;
use crate::journal::welcomes::Welcomes;
use crate::journal::{Archive, CampaignLock, Journal, LockError, State, StateLock};
use crate::subscribers::{Lists, LiveSuppression};

/// How often the welcome sender looks for newly confirmed readers: 15 s.
/// Tests may shorten it with `BULLETIN_TEST_WELCOME_WAKE_MS` (never longer).
pub const WAKE: Duration = Duration::from_secs(15);

/// What the welcome sender needs from `serve`.
pub(super) struct Welcomer {
    /// The welcome bulletin ([`start`] sets it from `WELCOME_BULLETIN`).
    pub path: PathBuf,
    pub list: Lists,
    pub state_dir: PathBuf,
    pub env: Source,
    pub clock: Arc<dyn Clock>,
}

/// Why a round failed, in the words `/healthz` may show.
struct Failed {
    what: &'static str,
    error: anyhow::Error,
}

fn failed<E: Into<anyhow::Error>>(what: &'static str) -> impl FnOnce(E) -> Failed {
    move |error| Failed { what, error: error.into() }
}

/// At `serve`'s start: reads `WELCOME_BULLETIN`, says what the welcome is,
/// records since when it is on (or that it is off), and starts the sender
/// when there is one to send. `relay` is whether `serve` has a relay
/// (sign-up is on).
pub(super) fn start(welcomer: Welcomer, relay: bool, health: &Health) -> anyhow::Result<()> {
    let welcome = Welcome::from_source(&welcomer.env)?;
    let store = Welcomes::open(&welcomer.state_dir)?;
    let off = |why: &'static str, said: String| -> anyhow::Result<()> {
        store.turned_off()?;
        println!("Welcome bulletin: {said}");
        health.off("welcome", why);
        Ok(())
    };
    let Some(path) = welcome.path().filter(|_| relay) else {
        return match welcome.path() {
            Some(path) => off(
                "off (no relay)",
                format!("{} is not sent: without a relay (SMTP_HOST) there is no sign-up", path.display()),
            ),
            None => off("off", "off (WELCOME_BULLETIN)".to_owned()),
        };
    };
    let shown = crate::report::printable(&path.display().to_string()).into_owned();
    if let Ok(bulletin) = Bulletin::load(path)
        && bulletin.draft
    {
        return off(
            "off (a draft)",
            format!(
                "{shown} is a draft: nobody is welcomed until `draft = true` is taken out and serve restarted"
            ),
        );
    }
    let since = store.turned_on(welcomer.clock.now())?;
    println!("Welcome bulletin: {shown}, once to each reader who confirms a sign-up from {since} on");
    let welcomer = Welcomer { path: path.to_owned(), ..welcomer };
    if let Err(problem) = welcomer.check() {
        eprintln!(
            "warning: the welcome bulletin {shown} cannot be sent: {}; sign-ups go on, and each welcome waits \
             until it is fixed",
            crate::report::printable(&problem)
        );
    }
    let part = health.part("welcome", WAKE);
    std::thread::Builder::new().name("welcome".to_owned()).spawn(move || {
        let _alive = Alive(Arc::clone(&part));
        let runtime = match crate::runtime() {
            Ok(runtime) => runtime,
            Err(e) => return eprintln!("{} welcome: cannot start: {e:#}", welcomer.clock.now()),
        };
        // A failure is logged when it starts or changes, not every round.
        let mut said: Option<String> = None;
        loop {
            match welcomer.round(&runtime) {
                Ok(()) => {
                    part.succeeded(welcomer.clock.now());
                    said = None;
                }
                Err(Failed { what, error }) => {
                    part.failed(welcomer.clock.now(), what);
                    let line = format!("{what}: {}", chain(error.as_ref()));
                    if said.as_ref() != Some(&line) {
                        eprintln!(
                            "{} welcome: error: {line}; tried again every {}",
                            welcomer.clock.now(),
                            humantime::format_duration(wake())
                        );
                        said = Some(line);
                    }
                }
            }
            std::thread::sleep(wake());
        }
    })?;
    Ok(())
}

/// Whether `bulletin` is the welcome bulletin: `welcome = true` in its
/// front matter, or the file `WELCOME_BULLETIN` names (or
/// `content/welcome.md`, when that is the welcome). A send to the whole
/// list refuses it, and a weekly send must not pick it.
pub fn is_welcome(bulletin: &Path, env: &Source) -> bool {
    let loaded = Bulletin::load(bulletin);
    let marked = loaded.as_ref().is_ok_and(|b| b.welcome);
    // A draft is no welcome `serve` sends (init's sample is one): it is
    // kept from the list by the draft rule instead.
    let draft = loaded.as_ref().is_ok_and(|b| b.draft);
    marked || (!draft && Welcome::from_source(env).is_ok_and(|w| w.is(bulletin)))
}

/// A send of the welcome bulletin to the whole list is refused: `serve`
/// sends it to each newcomer once. Test copies and dry runs go ahead.
pub(super) fn refuse_for_list(bulletin: &Path, env: &Source) -> anyhow::Result<()> {
    anyhow::ensure!(
        !is_welcome(bulletin, env),
        "{} is the welcome bulletin (WELCOME_BULLETIN, or `welcome = true` in its front matter): `bulletin \
         serve` sends it once to each reader who confirms a sign-up, and it is never sent to the whole list. \
         A dry run and test copies (--to) show it as it is.",
        crate::report::printable(&bulletin.display().to_string())
    );
    Ok(())
}

/// What `bulletin check BULLETIN` says of the welcome: that `bulletin`
/// is it (and so never sent to the list), and, of the welcome bulletin
/// `WELCOME_BULLETIN` names, why it could not be sent now. Warnings; a
/// setting that cannot be read is an error.
pub(super) fn check(bulletin: &Path, lists: &Lists, env: &Source) -> (Vec<String>, Vec<String>) {
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    let welcome = match Welcome::from_source(env) {
        Ok(welcome) => welcome,
        Err(e) => {
            errors.push(chain(&e));
            return (errors, warnings);
        }
    };
    if is_welcome(bulletin, env) {
        warnings.push(format!(
            "{} is the welcome bulletin: `bulletin serve` sends it once to each reader who confirms a sign-up; \
             `bulletin send` never sends it to the whole list",
            bulletin.display()
        ));
    }
    if let Some(path) = welcome.path() {
        let welcomer = Welcomer {
            path: path.to_owned(),
            list: lists.clone(),
            state_dir: PathBuf::new(),
            env: env.clone(),
            clock: Arc::new(crate::domain::SystemClock),
        };
        match Bulletin::load(path) {
            // Off, as init's sample is: nothing to say.
            Ok(b) if b.draft => {}
            _ => {
                if let Err(problem) = welcomer.check() {
                    warnings.push(format!(
                        "the welcome bulletin {} cannot be sent: {problem}; new sign-ups' welcomes wait until it \
                         is fixed",
                        path.display()
                    ));
                }
            }
        }
    }
    (errors, warnings)
}

impl Welcomer {
    /// Whether the welcome bulletin could be sent now, or why not.
    fn check(&self) -> Result<(), String> {
        let (job, _) =
            Job::prepare_welcome(&self.path, &self.list, &self.env, HashSet::new()).map_err(|e| chain(&e))?;
        refuse_examples(&job.settings, &[]).map_err(|e| chain(e.as_ref()))
    }

    /// Sends every welcome due now.
    fn round(&self, runtime: &tokio::runtime::Runtime) -> Result<(), Failed> {
        let cannot_read = "the state folder or the ledger cannot be read";
        let Some(since) = Welcomes::open(&self.state_dir)
            .map_err(failed(cannot_read))?
            .since()
            .map_err(failed(cannot_read))?
        else {
            return Ok(());
        };
        let newcomers = self.newcomers(since).map_err(failed(cannot_read))?;
        if newcomers.is_empty() {
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
        self.send(runtime, job, rows, &newcomers)
    }

    /// Those who confirmed since `since`, not welcomed yet and not blocked
    /// or paused by the consent ledger now.
    fn newcomers(&self, since: Timestamp) -> anyhow::Result<Vec<EmailAddress>> {
        let (ledger, _) = self.list.suppression_path();
        let confirmed = crate::subscribers::confirmed_since(&ledger, since.as_system_time())?;
        if confirmed.is_empty() {
            return Ok(confirmed);
        }
        let journal = Journal::open_existing(&self.state_dir, &CampaignId::welcome())?;
        let (suppressed, _) = self.list.read_suppressions()?;
        let now = self.clock.now().as_system_time();
        let mut due = Vec::new();
        for email in confirmed {
            let state = match &journal {
                Some(journal) => journal.state(email.key())?,
                None => None,
            };
            let welcomed = matches!(state, Some(State::Sent | State::Failed));
            let held = suppressed.contains(&email)
                || suppressed.paused_until(email.key()).is_some_and(|until| until > now);
            if !welcomed && !held {
                due.push(email);
            }
        }
        Ok(due)
    }

    /// The send itself, as `bulletin send --yes` makes it, to the
    /// newcomers the job's list admits; one log line for each welcome sent
    /// or failed.
    fn send(
        &self,
        runtime: &tokio::runtime::Runtime,
        job: Job,
        rows: crate::subscribers::SubscriberReader,
        newcomers: &[EmailAddress],
    ) -> Result<(), Failed> {
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
            return Ok(());
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
            Err(LockError::Held { .. } | LockError::SameText { .. }) => return Ok(()),
            Err(e) => return Err(failed(journal_failed)(e)),
        };
        let journal = Journal::open(&self.state_dir, &campaign).map_err(failed(journal_failed))?;
        journal
            .started(&job.bulletin.path, &job.bulletin.subject_text(), text_of(&job.bulletin))
            .map_err(failed(journal_failed))?;
        let fingerprint = job.bulletin.fingerprint;
        let rows = job.rows().map_err(failed(journal_failed))?;
        let mut reader_journal = Journal::open(&self.state_dir, &campaign).map_err(failed(journal_failed))?;
        let clock = Arc::clone(&self.clock);
        let list = self.list.clone();
        let finished = runtime.block_on(async move {
            let first = relay
                .connect()
                .await
                .map_err(|f| anyhow::anyhow!("cannot use the relay {}: {f}", relay.name()))?;
            let (tx, rx) = mpsc::channel::<Outgoing>(2);
            let cancel = CancellationToken::new();
            let producer = {
                let (cancel, clock) = (cancel.clone(), Arc::clone(&clock));
                std::thread::spawn(move || {
                    let source = FeedSource {
                        job: &job,
                        journal: &mut reader_journal,
                        elsewhere: &elsewhere,
                        choice,
                        clock: &clock,
                    };
                    feed(source, rows, &tx, &cancel)
                })
            };
            let policy = Policy {
                rate: smtp.rate,
                attempts: smtp.attempts,
                retry_delay: smtp.retry_delay,
                allowance,
                suppressed: Some(Arc::new(LiveSuppression::new(list, |w| eprintln!("warning: {w}")))),
            };
            let counts = Arc::new(Counts::default());
            let finished = send_all(
                vec![first],
                rx,
                journal.with_clock(clock).with_fingerprint(fingerprint),
                policy,
                cancel,
                Arc::clone(&counts),
            )
            .await;
            producer.join().map_err(|_| anyhow::anyhow!("the reader panicked"))??;
            let held_back = counts.suppressed.load(Ordering::SeqCst);
            finished.map(|finished| (finished, held_back))
        });
        let (Finished { journal, halt, .. }, held_back) = finished.map_err(failed(relay_failed))?;
        self.log(&journal, newcomers, held_back);
        match halt {
            None => Ok(()),
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

fn wake() -> Duration {
    std::env::var("BULLETIN_TEST_WELCOME_WAKE_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(WAKE, |ms| Duration::from_millis(ms).min(WAKE))
}
