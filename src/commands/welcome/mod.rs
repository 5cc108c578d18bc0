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

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::config::{Source, Welcome};
use crate::content::Bulletin;
use crate::domain::{Clock, Timestamp, chain};
use crate::http::health::{Alive, Health};
use crate::journal::welcomes::Welcomes;
use crate::subscribers::Lists;

/// How often the welcome sender looks for newly confirmed readers: 15 s.
/// Tests may shorten it with `BULLETIN_TEST_WELCOME_WAKE_MS` (never longer).
pub const WAKE: Duration = Duration::from_secs(15);

/// What the welcome sender needs from `serve`.
pub(super) struct Setup {
    pub list: Lists,
    pub state_dir: PathBuf,
    pub env: Source,
    pub clock: Arc<dyn Clock>,
}

/// The welcome sender: `serve`'s [`Setup`] and the welcome bulletin.
struct Welcomer {
    path: PathBuf,
    list: Lists,
    state_dir: PathBuf,
    env: Source,
    clock: Arc<dyn Clock>,
    /// The files as they were when a round last found nobody to welcome.
    quiet: std::cell::Cell<Option<Files>>,
}

/// What decides who is due a welcome, besides the journal: since when it
/// is on, and each file's size and time of change (the ledger, the list,
/// `signups.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Files {
    since: Timestamp,
    stamps: [Option<(u64, Option<std::time::SystemTime>)>; 3],
}

mod sender;

impl Setup {
    fn welcomer(self, path: &Path) -> Welcomer {
        let Self { list, state_dir, env, clock } = self;
        Welcomer { path: path.to_owned(), list, state_dir, env, clock, quiet: std::cell::Cell::new(None) }
    }
}

/// Why a round failed, in the words `/healthz` may show.
pub(super) struct Failed {
    what: &'static str,
    error: anyhow::Error,
}

pub(super) fn failed<E: Into<anyhow::Error>>(what: &'static str) -> impl FnOnce(E) -> Failed {
    move |error| Failed { what, error: error.into() }
}

/// At `serve`'s start: reads `WELCOME_BULLETIN`, says what the welcome is,
/// records since when it is on (or that it is off), and starts the sender
/// when there is one to send. `relay` is whether `serve` has a relay
/// (sign-up is on).
pub(super) fn start(setup: Setup, relay: bool, health: &Health) -> anyhow::Result<Option<Running>> {
    let welcome = match Welcome::from_source(&setup.env) {
        Ok(welcome) => welcome,
        // Unsubscribes and sign-ups matter more than the welcome: `serve`
        // runs on, says so, and `/healthz` turns 503 past the bound. The
        // welcome's start is left as it was, so nobody is dropped.
        Err(e) => {
            eprintln!(
                "warning: no welcome bulletin is sent until this is fixed and serve restarted: {}",
                chain(&e)
            );
            health.part("welcome", WAKE).failed(setup.clock.now(), "WELCOME_BULLETIN names no bulletin");
            return Ok(None);
        }
    };
    let store = Welcomes::open(&setup.state_dir)?;
    let off = |why: &'static str, said: String| -> anyhow::Result<Option<Running>> {
        store.turned_off()?;
        println!("Welcome bulletin: {said}");
        health.off("welcome", why);
        Ok(None)
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
    let since = store.turned_on(setup.clock.now())?;
    println!("Welcome bulletin: {shown}, once to each reader who confirms a sign-up from {since} on");
    let welcomer = setup.welcomer(path);
    if let Err(problem) = welcomer.check() {
        eprintln!(
            "warning: the welcome bulletin {shown} cannot be sent: {}; sign-ups go on, and each welcome waits \
             until it is fixed",
            crate::report::printable(&problem)
        );
    }
    let part = health.part("welcome", WAKE);
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let thread = std::thread::Builder::new().name("welcome".to_owned()).spawn(move || {
        let _alive = Alive(Arc::clone(&part));
        // A failure is logged when it starts or changes, not every round.
        let mut said: Option<String> = None;
        while !stopping.load(Ordering::SeqCst) {
            match welcomer.round() {
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
            let next = std::time::Instant::now() + wake();
            while !stopping.load(Ordering::SeqCst) && std::time::Instant::now() < next {
                std::thread::sleep(Duration::from_millis(50).min(wake()));
            }
        }
    })?;
    Ok(Some(Running { stop, thread }))
}

/// The welcome sender at work, until [`Running::stop`].
pub(super) struct Running {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Running {
    /// Asks the sender to stop after its round, and waits for it at most
    /// `grace`: a welcome being sent when `serve` is stopped is finished
    /// and recorded, not left in doubt.
    pub fn stop(self, grace: Duration) {
        self.stop.store(true, Ordering::SeqCst);
        let deadline = std::time::Instant::now() + grace;
        while !self.thread.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
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
        let setup = Setup {
            list: lists.clone(),
            state_dir: PathBuf::new(),
            env: env.clone(),
            clock: Arc::new(crate::domain::SystemClock),
        };
        let welcomer = setup.welcomer(path);
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

fn wake() -> Duration {
    std::env::var("BULLETIN_TEST_WELCOME_WAKE_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(WAKE, |ms| Duration::from_millis(ms).min(WAKE))
}
