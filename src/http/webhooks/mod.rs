//! The relays' webhooks of `bulletin serve`: `POST /webhooks/postmark`,
//! `/webhooks/mailgun`, `/webhooks/sendgrid` and `/webhooks/ses` (Amazon
//! SES through SNS), each answered only when its settings are set (else
//! 404).
//!
//! Nothing a request says is believed before it is proved to come from the
//! relay: Postmark's basic auth, Mailgun's HMAC ([`mailgun`]), SendGrid's
//! ECDSA signature ([`sendgrid`]), SNS's RSA signature by a certificate
//! fetched from an allowed host ([`sns`]). Signed timestamps must be
//! recent, and each event's id is remembered ([`seen`]) so a replay
//! changes nothing. A believed event goes through [`crate::bounce::intake`],
//! as `bounces import`'s reports do: only about addresses the journal has
//! mailed, into the bounce ledger and the suppression list.
//!
//! Ends at the edge of HTTP and the relays' formats: what an event does is
//! `bounce::intake`'s.

mod fetch;
mod mailgun;
mod postmark;
pub mod seen;
mod sendgrid;
mod sns;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::respond::mask;
use crate::bounce::intake::{Intake, Report, Taken};
use crate::config::WebhookSettings;
use crate::domain::{Clock, Timestamp, chain};

/// How far a signed timestamp may be from the clock (Mailgun, SendGrid).
pub const SIGNED_WINDOW: Duration = Duration::from_secs(5 * 60);

/// How old an unsigned-time event (Postmark) or an SNS message may be:
/// as long as its id is remembered.
pub const REMEMBERED_WINDOW: Duration = seen::KEPT;

/// What the webhooks need.
#[derive(Debug, Clone)]
pub struct WebhooksOptions {
    pub settings: WebhookSettings,
    pub intake: Intake,
}

/// One relay's events in a request, each with the id the relay gave it.
pub(crate) struct Event {
    pub id: String,
    /// What it says of whom; none for an event that is not acted on
    /// (a delivery, an open).
    pub reports: Vec<Report>,
}

/// Why a request is refused; nothing is changed.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// No credentials, wrong ones, or a signature that does not verify.
    Unproved(&'static str),
    /// Proved, but not for us: another topic, a certificate from a host
    /// not allowed.
    Forbidden(String),
    /// A signed time too far from the clock.
    Stale,
    /// Every event in it was taken before.
    Replay,
    /// Not what the relay sends.
    Malformed(String),
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Self::Unproved(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::Stale => StatusCode::FORBIDDEN,
            Self::Replay => StatusCode::CONFLICT,
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Unproved(why) => (*why).to_owned(),
            Self::Forbidden(why) | Self::Malformed(why) => why.clone(),
            Self::Stale => "its timestamp is too far from the clock".to_owned(),
            Self::Replay => "every event in it was taken before".to_owned(),
        }
    }
}

/// What every webhook shares.
pub(crate) struct Hooks {
    pub settings: WebhookSettings,
    intake: Intake,
    seen: seen::Seen,
    pub clock: Arc<dyn Clock>,
    pub certificates: sns::Certificates,
}

/// The routes of the webhooks whose settings are set.
pub fn router(options: WebhooksOptions, clock: Arc<dyn Clock>) -> anyhow::Result<Router> {
    let seen = seen::Seen::open(&options.intake.state_dir, clock.now())?;
    let hooks = Arc::new(Hooks {
        certificates: sns::Certificates::new(options.settings.ses.as_ref())?,
        settings: options.settings,
        intake: options.intake,
        seen,
        clock,
    });
    let mut router = Router::new();
    if hooks.settings.postmark.is_some() {
        router = router.route("/webhooks/postmark", axum::routing::post(postmark::hook));
    }
    if hooks.settings.mailgun.is_some() {
        router = router.route("/webhooks/mailgun", axum::routing::post(mailgun::hook));
    }
    if hooks.settings.sendgrid.is_some() {
        router = router.route("/webhooks/sendgrid", axum::routing::post(sendgrid::hook));
    }
    if hooks.settings.ses.is_some() {
        router = router.route("/webhooks/ses", axum::routing::post(sns::hook));
    }
    Ok(router.with_state(hooks))
}

/// The webhooks that are on, for the banner.
pub fn names(settings: &WebhookSettings) -> Vec<&'static str> {
    let on = [
        (settings.postmark.is_some(), "postmark"),
        (settings.mailgun.is_some(), "mailgun"),
        (settings.sendgrid.is_some(), "sendgrid"),
        (settings.ses.is_some(), "ses"),
    ];
    on.into_iter().filter_map(|(on, name)| on.then_some(name)).collect()
}

impl Hooks {
    /// Whether `at` is within `window` of the clock.
    pub fn recent(&self, at: Timestamp, window: Duration) -> bool {
        let now = self.clock.now();
        now.since(at) <= window && at.since(now) <= window
    }

    /// Refuses with `refusal`, logging why (never a secret or a body).
    pub fn refuse(&self, relay: &str, refusal: Refusal) -> Response {
        eprintln!(
            "{} webhook {relay}: refused ({}): {}",
            self.clock.now(),
            refusal.status().as_u16(),
            refusal.describe()
        );
        (refusal.status(), format!("refused: {}\n", refusal.describe())).into_response()
    }

    /// Takes the events not taken before, each once; refuses a request all
    /// of whose events were taken before.
    pub async fn take(self: &Arc<Self>, relay: &'static str, events: Vec<Event>) -> Response {
        let seen: Vec<bool> = events.iter().map(|e| self.seen.contains(relay, &e.id)).collect();
        if !events.is_empty() && seen.iter().all(|s| *s) {
            return self.refuse(relay, Refusal::Replay);
        }
        let hooks = Arc::clone(self);
        let fresh: Vec<Event> = events.into_iter().zip(seen).filter(|(_, s)| !s).map(|(e, _)| e).collect();
        let taken = tokio::task::spawn_blocking(move || hooks.take_now(relay, fresh)).await;
        match taken {
            Ok(Ok(summary)) => (StatusCode::OK, format!("{summary}\n")).into_response(),
            Ok(Err(error)) => {
                eprintln!("{} webhook {relay}: error: {}", self.clock.now(), chain(&*error));
                (StatusCode::INTERNAL_SERVER_ERROR, "error: see the server's log\n").into_response()
            }
            Err(panic) => {
                eprintln!("{} webhook {relay}: error: {panic}", self.clock.now());
                (StatusCode::INTERNAL_SERVER_ERROR, "error: see the server's log\n").into_response()
            }
        }
    }

    /// One at a time: the ledgers are files, and the intake reads before it
    /// writes.
    fn take_now(&self, relay: &'static str, events: Vec<Event>) -> anyhow::Result<String> {
        static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut said = Vec::new();
        for event in events {
            if self.seen.contains(relay, &event.id) {
                continue;
            }
            for report in &event.reports {
                let now = self.clock.now();
                let taken = self.intake.take(report, now)?;
                let what = match &taken {
                    Taken::Suppressed(reason) => format!("suppressed ({})", reason.as_str()),
                    Taken::AlreadySuppressed => "already suppressed".to_owned(),
                    Taken::Counted(n) => format!("soft bounce, {n} in a row"),
                    Taken::Recorded => "recorded".to_owned(),
                    Taken::SeenBefore => "reported before".to_owned(),
                    Taken::NotOurs => "ignored: the journal has sent it nothing".to_owned(),
                };
                eprintln!("{now} webhook {relay}: {}: {what}", mask(&report.address));
                said.push(what);
            }
            // Remembered once taken: a failure above leaves it to be sent again.
            self.seen.remember(relay, &event.id, self.clock.now())?;
        }
        Ok(if said.is_empty() {
            "ok: nothing to act on".to_owned()
        } else {
            format!("ok: {}", said.join("; "))
        })
    }
}
