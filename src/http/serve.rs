//! `bulletin serve`: the one long-running server, a small plain-HTTP
//! server meant to sit behind the organisation's HTTPS reverse proxy. It
//! checks the settings it cannot run without, then composes its sibling
//! routers on one [`Server`]: the one-click unsubscribe
//! ([`super::unsubscribe`]), the preference page ([`super::preferences`]),
//! when a relay is set up, sign-up ([`super::signup`]), and the relays'
//! webhooks whose settings are set ([`super::webhooks`]).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use axum::http::StatusCode;
use tower_http::timeout::TimeoutLayer;

use super::{REQUEST_TIMEOUT, Server, preferences, signup, unsubscribe, webhooks};
use crate::config::Settings;
use crate::domain::Clock;
use crate::message::confirmation::ConfirmSigner;
use crate::message::unsubscribe::{DEVELOPMENT_SECRET, Signer};
use crate::subscribers::SuppressionFile;

/// The address `--listen` takes unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The shortest `UNSUBSCRIBE_SECRET` the server accepts: a short key can be
/// found by trying keys against any token from any message.
pub const MIN_SECRET_CHARS: usize = 16;

/// How long a stop waits for requests in flight. A write to the
/// suppression list takes milliseconds.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Where the server listens and what it writes to.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The address and port to listen on (port 0 picks a free one).
    pub listen: SocketAddr,
    /// The suppression list the sends read.
    pub suppressed: SuppressionFile,
    /// Dates the log lines and the rows added to the suppression list.
    pub clock: Arc<dyn Clock>,
    /// Sign-ups (`/subscribe`, `/confirm`), when the relay is set up.
    pub signup: Option<signup::SignupOptions>,
    /// The preference page (`/preferences`).
    pub preferences: preferences::PreferencesOptions,
    /// The relays' webhooks (`/webhooks/…`), those whose settings are set.
    pub webhooks: webhooks::WebhooksOptions,
    /// How the workers beside the server are doing (`/healthz`).
    pub health: Arc<super::health::Health>,
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub fn serve(settings: &Settings, setup: Setup) -> anyhow::Result<()> {
    let (signer, path) = checked(settings)?;
    // A list it cannot read whole is not one to add to.
    crate::subscribers::Suppressions::load_optional(setup.suppressed.path())?;
    setup.suppressed.check_writable().context("bulletin serve cannot write the suppression list")?;
    let Setup { listen, suppressed, clock, signup, preferences, webhooks, health } = setup;
    let look = Arc::new(super::layout::Look::new(settings)?);
    let shared = super::Shared { suppressed: suppressed.clone(), clock: Arc::clone(&clock), look };
    preferences.file.check_writable().context("the server cannot write the preferences file")?;
    if let Some(signup) = &signup {
        signup.signups.check_writable().context("the server cannot write the sign-ups file")?;
    }
    let server = Server {
        name: "bulletin serve",
        listen,
        busy_hint: "",
        grace: SHUTDOWN_GRACE,
        log_stop: Some(Arc::clone(&clock)),
    };
    server.serve(|address, limits| {
        let public = settings.unsubscribe_url.as_ref().expect("checked above").as_url();
        println!("Unsubscribe server for {} ({})", settings.list_name, settings.org_name);
        println!("  listening on http://{address}{path}");
        println!("  public URL   {public} (your HTTPS reverse proxy forwards it here)");
        println!("  suppression  {}", suppressed.path().display());
        match &signup {
            Some(options) => {
                println!("  sign-up      http://{address}/subscribe and /confirm");
                println!("  sign-ups     {}", options.signups.path().display());
            }
            None => {
                println!("  sign-up      off (set SMTP_HOST and the relay settings to send confirmations)")
            }
        }
        println!("  limits       {limits}, {} s per request", REQUEST_TIMEOUT.as_secs());
        println!("Ctrl-C or SIGTERM to stop.");
        if !address.ip().is_loopback() {
            eprintln!(
                "warning: {address} can be reached from other machines over plain HTTP; listen on 127.0.0.1 \
                 and let the HTTPS reverse proxy take the outside world"
            );
        }
        let signups = signup.map(|options| {
            let signer = ConfirmSigner::from_settings(settings).expect("the secret was checked");
            signup::router(settings, signer, options, shared.clone())
                .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        });
        println!("  preferences  http://{address}/preferences ({})", preferences.file.path().display());
        let preferences = preferences::router(settings, preferences, shared.clone())
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT));
        let hooks = webhooks::names(&webhooks.settings);
        if hooks.is_empty() {
            println!("  webhooks     off (see the guide's bounces page to set one up)");
        } else {
            println!("  webhooks     http://{address}/webhooks/{}", hooks.join(", /webhooks/"));
        }
        let hooks = webhooks::router(webhooks, Arc::clone(&clock))?
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT));
        println!("  health       http://{address}/healthz");
        let router = unsubscribe::routes(&path, settings, signer, shared.clone())
            .merge(preferences)
            .merge(hooks)
            .merge(health.router());
        Ok(match signups {
            Some(signups) => router.merge(signups),
            None => router,
        })
    })
}

/// The signer and the path to answer on, or why the server must not run.
pub(super) fn checked(settings: &Settings) -> anyhow::Result<(Signer, String)> {
    let Some(url) = &settings.unsubscribe_url else {
        bail!(
            "UNSUBSCRIBE_URL is not set, so no message links to this server: set it to the public https \
             address your reverse proxy forwards here, e.g. https://example.org/unsubscribe"
        );
    };
    let Some(secret) = &settings.unsubscribe_secret else {
        bail!(
            "UNSUBSCRIBE_SECRET is not set: the server checks every unsubscribe link with it, and will not run \
             with the development key, which anyone could use to unsubscribe anyone. Make one with \
             `openssl rand -hex 32` and put the same value in the settings of the server and of every send"
        );
    };
    if secret.expose_secret() == DEVELOPMENT_SECRET {
        bail!(
            "UNSUBSCRIBE_SECRET is bulletin's public development key: make a secret one with `openssl rand -hex 32`"
        );
    }
    if secret.expose_secret().chars().count() < MIN_SECRET_CHARS {
        bail!(
            "UNSUBSCRIBE_SECRET is shorter than {MIN_SECRET_CHARS} characters, short enough to be guessed from \
             any unsubscribe link: make a longer one with `openssl rand -hex 32`"
        );
    }
    if !settings.placeholders.is_empty() {
        bail!(
            "refusing to serve with example.org placeholders for {}: set them in .env (see .env.example)",
            settings.placeholders.join(", ")
        );
    }
    let path = url.as_url().path().to_owned();
    if path == "/healthz" {
        bail!("UNSUBSCRIBE_URL's path cannot be /healthz, which the server keeps for health checks");
    }
    if ["/subscribe", "/confirm", "/preferences"].contains(&path.as_str()) {
        bail!("UNSUBSCRIBE_URL's path cannot be {path}, which the server keeps for sign-ups");
    }
    Ok((Signer::from_settings(settings), path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::unsubscribe::tests::settings;

    fn refusal(pairs: &[(&str, &str)]) -> String {
        checked(&settings(pairs)).unwrap_err().to_string()
    }

    #[test]
    fn the_server_answers_on_the_path_of_the_unsubscribe_url() {
        let (_, path) = checked(&settings(&[])).unwrap();
        assert_eq!(path, "/u/leave");
    }

    #[test]
    fn the_server_refuses_to_run_without_a_real_secret() {
        assert!(refusal(&[("UNSUBSCRIBE_SECRET", "")]).contains("UNSUBSCRIBE_SECRET is not set"));
        assert!(refusal(&[("UNSUBSCRIBE_SECRET", DEVELOPMENT_SECRET)]).contains("development key"));
        let short = refusal(&[("UNSUBSCRIBE_SECRET", "hunter2")]);
        assert!(short.contains("shorter than 16"), "{short}");
        assert!(!short.contains("hunter2"), "{short}");
    }

    #[test]
    fn the_server_refuses_to_run_without_an_unsubscribe_url_or_with_placeholders() {
        assert!(refusal(&[("UNSUBSCRIBE_URL", "")]).contains("UNSUBSCRIBE_URL is not set"));
        assert!(refusal(&[("ORG_NAME", "")]).contains("placeholders for ORG_NAME"));
    }
}
