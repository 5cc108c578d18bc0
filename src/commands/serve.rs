//! `bulletin serve`: the one long-running process (`unsubscribe-server` is
//! its old name), serving the one-click unsubscribe links, the preference
//! page and, with a relay, sign-ups ([`crate::http::serve`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use super::bounces::imap::Poller;
use super::{Outcome, settings_without_dkim};
use crate::bounce::intake::Intake;
use crate::config::{
    BounceSettings, ImapSettings, Settings, SignupSettings, SmtpOverrides, SmtpSettings, Source,
    WebhookSettings,
};
use crate::deliver::smtp::Relay;
use crate::domain::SystemClock;
use crate::http::health::Health;
use crate::http::preferences::PreferencesOptions;
use crate::http::serve::{self as server, Setup};
use crate::http::signup::SignupOptions;
use crate::http::webhooks::WebhooksOptions;
use crate::subscribers::Lists;
use crate::subscribers::signups::SignupsFile;

/// Options of `bulletin serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub list: Lists,
    pub listen: SocketAddr,
    /// Where the sign-up counts today's confirmation emails, the webhooks
    /// find the journal and the bounce ledger and remember event ids.
    pub state_dir: PathBuf,
    /// The newsletter's `content/`, where `SEND_EVERY` finds the bulletin.
    pub content: PathBuf,
}

impl ServeOptions {
    /// The address `--listen` takes unless told otherwise.
    pub const DEFAULT_LISTEN: &str = server::DEFAULT_LISTEN;
}

pub(super) fn run(options: &ServeOptions, env: &Source) -> anyhow::Result<Outcome> {
    // With a relay it takes sign-ups, emailing each a link to confirm (DKIM
    // signed when set up); without one it makes no message and needs no key.
    let signup_on = env.get("SMTP_HOST").is_some();
    let settings =
        if signup_on { super::announce(Settings::from_source(env)?)? } else { settings_without_dkim(env)? };
    let suppressed = super::suppress::suppression_file(&options.list)?;
    let clock: Arc<dyn crate::domain::Clock> = Arc::new(SystemClock);
    let signup = if signup_on {
        let smtp = SmtpSettings::from_source(env, &SmtpOverrides::default())?;
        let relay = Relay::new(&smtp)?;
        let signups = SignupsFile::new(crate::subscribers::signups::beside(&options.list.subscribers));
        Some(SignupOptions::new(
            SignupSettings::from_source(env)?,
            &settings,
            relay,
            signups,
            &options.state_dir,
        )?)
    } else {
        None
    };
    let preferences = PreferencesOptions::from_source(env, &options.list.subscribers)?;
    let webhooks = WebhooksOptions {
        settings: WebhookSettings::from_source(env)?,
        intake: Intake {
            state_dir: options.state_dir.clone(),
            suppressed: suppressed.clone(),
            soft_limit: BounceSettings::from_source(env)?.soft_limit.get(),
        },
    };
    // How the workers beside the server are doing, for `/healthz`.
    let health = Health::new(clock.clone());
    // Scheduled sends (`bulletin schedule`) run beside the server, on the
    // same clock.
    super::schedule::runner::Scheduler {
        list: options.list.clone(),
        state_dir: options.state_dir.clone(),
        content: options.content.clone(),
        env: env.clone(),
        clock: clock.clone(),
        ready_seen: Default::default(),
        health: health.part("scheduler", super::schedule::runner::WAKE),
    }
    .start()?;
    let poller = ImapSettings::from_source(env)?.map(|settings| {
        let health = health.part("bounce mailbox", settings.every);
        Poller {
            settings,
            list: &options.list,
            state_dir: &options.state_dir,
            env,
            clock: clock.clone(),
            health,
        }
    });
    if poller.is_none() {
        health.off("bounce mailbox", "not configured");
    }
    // The welcome bulletin, once to each reader who confirms from now on.
    let welcomer = super::welcome::Setup {
        list: options.list.clone(),
        state_dir: options.state_dir.clone(),
        env: env.clone(),
        clock: clock.clone(),
    };
    let welcome = super::welcome::start(welcomer, signup_on, &health)?;
    if let Some(poller) = &poller {
        let s = &poller.settings;
        let after = if s.delete { "deleted".to_owned() } else { format!("moved to {}", s.done_folder) };
        println!(
            "Bounce mailbox {}: read every {}, messages read {after}",
            poller.describe(),
            humantime::format_duration(s.every)
        );
    }
    // The poller runs beside the server on a thread of its own, and stops
    // when the server does (its `stop` dropped).
    std::thread::scope(|scope| {
        let (stop, stopped) = tokio::sync::watch::channel(());
        if let Some(poller) = &poller {
            scope.spawn(move || poller.run(stopped));
        }
        let served = server::serve(
            &settings,
            Setup {
                listen: options.listen,
                suppressed,
                clock: clock.clone(),
                signup,
                preferences,
                webhooks,
                health,
            },
        );
        drop(stop);
        // A welcome being sent is finished and recorded before the end.
        if let Some(welcome) = welcome {
            welcome.stop(std::time::Duration::from_secs(10));
        }
        served
    })?;
    Ok(Outcome::Done)
}
