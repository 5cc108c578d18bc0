//! Signing up from the website, with double opt-in (part of `bulletin
//! serve`, beside the unsubscribe links):
//!
//! * `GET /subscribe`: the form (name, address, the `INTERESTS` as
//!   check boxes, the `CONSENT_TEXT`).
//! * `POST /subscribe`, a form or JSON (with CORS for `ALLOWED_ORIGINS`):
//!   sends a confirmation email through the relay, in the background, and
//!   answers the same whoever the address is (on the list or not, emailed
//!   or not), so the form tells nobody who is subscribed. Limited per
//!   client and in all ([`RATE_PER_CLIENT`], [`RATE_IN_ALL`]), one email
//!   per address a day (counted in [`SENT_LOG`] in the state folder, so a
//!   restart keeps the count), bodies of at
//!   most [`BODY_LIMIT`], and a honeypot field (`website`) that sends
//!   nothing when filled.
//! * `GET /confirm?t=TOKEN`: a page with a Confirm button; changes nothing,
//!   so a mail scanner fetching the link confirms nobody.
//! * `POST /confirm?t=TOKEN`: adds the sign-up, with its consent record, to
//!   `signups.csv` ([`SignupsFile`]). The token is signed and expires
//!   ([`crate::message::confirmation`]).

pub mod page;

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};
use sha2::{Digest, Sha256};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::Peer;
use super::unsubscribe::{mask, respond};
use crate::config::Settings;
use crate::deliver::smtp::Relay;
use anyhow::Context;

use crate::domain::Clock;
use crate::message::Composer;
use crate::message::confirmation::{ConfirmSigner, Pending, Refusal};
use crate::render::Personalised;
use crate::subscribers::signups::{Signup, SignupsFile};
use crate::subscribers::{EmailAddress, Reason, SuppressionFile, SuppressionFileError};
use page::Texts;

/// The largest sign-up read: a form is a few hundred bytes.
pub const BODY_LIMIT: usize = 16 * 1024;

/// Sign-ups from one client (by IP address): this many at once, then one
/// more a minute.
pub const RATE_PER_CLIENT: u32 = 5;

/// Sign-ups from everyone together: this many at once, then two a second.
pub const RATE_IN_ALL: u32 = 200;

/// Confirmation emails to one address in a day, at most.
pub const EMAILS_PER_ADDRESS_A_DAY: u32 = 1;

/// The file in the state folder counting today's confirmation emails: a
/// `DAY DIGEST` line for each, the digest keyed with `UNSUBSCRIBE_SECRET`
/// so the file names nobody. A restart reads it back.
pub const SENT_LOG: &str = "confirmations-sent";

/// How long a confirmation link works unless `CONFIRM_HOURS` says.
pub const DEFAULT_CONFIRM_HOURS: f64 = 72.0;

/// What the sign-up needs beyond the unsubscribe server's settings.
#[derive(Debug, Clone)]
pub struct SignupOptions {
    pub relay: Relay,
    pub signups: SignupsFile,
    /// `CONFIRM_HOURS`, as a duration.
    pub confirm_for: Duration,
    /// `INTERESTS`, lower case.
    pub interests: Vec<String>,
    /// `CONSENT_TEXT`.
    pub consent: String,
    /// `ALLOWED_ORIGINS`.
    pub allowed_origins: Vec<HeaderValue>,
    /// Where the confirmation emails sent today are counted
    /// (`confirmations-sent` in the state folder).
    pub sent_log: std::path::PathBuf,
}

impl SignupOptions {
    /// The options `source` and `settings` give, with the relay and the
    /// sign-ups file; an error naming the setting that is wrong.
    pub fn from_settings(
        source: &crate::config::Source,
        settings: &Settings,
        relay: Relay,
        signups: SignupsFile,
        state_dir: &std::path::Path,
    ) -> anyhow::Result<Self> {
        let hours = match source.get("CONFIRM_HOURS") {
            None => DEFAULT_CONFIRM_HOURS,
            Some((raw, from)) => raw
                .parse::<f64>()
                .ok()
                .filter(|h| h.is_finite() && *h > 0.0 && *h <= 24.0 * 365.0)
                .ok_or_else(|| {
                    anyhow::anyhow!("CONFIRM_HOURS in {from}: {raw:?} is not a number of hours")
                })?,
        };
        let list = |key: &str| -> Vec<String> {
            source
                .get(key)
                .map(|(v, _)| v.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect())
                .unwrap_or_default()
        };
        let interests = crate::config::interests(source)?;
        let allowed_origins = list("ALLOWED_ORIGINS")
            .into_iter()
            .map(|o| {
                let url = url::Url::parse(&o).map_err(|e| anyhow::anyhow!("ALLOWED_ORIGINS: {o:?}: {e}"))?;
                HeaderValue::from_str(&url.origin().ascii_serialization())
                    .map_err(|e| anyhow::anyhow!("ALLOWED_ORIGINS: {o:?}: {e}"))
            })
            .collect::<anyhow::Result<_>>()?;
        let consent = source.get("CONSENT_TEXT").map(|(v, _)| v).unwrap_or_else(|| {
            format!(
                "I agree to receive {} by email from {}. I can unsubscribe at any time.",
                settings.list_name, settings.org_name
            )
        });
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("cannot make the state folder {}", state_dir.display()))?;
        Ok(Self {
            relay,
            signups,
            confirm_for: Duration::from_secs_f64(hours * 3600.0),
            interests,
            consent,
            allowed_origins,
            sent_log: state_dir.join(SENT_LOG),
        })
    }
}

struct Service {
    options: SignupOptions,
    signer: ConfirmSigner,
    composer: Composer,
    texts: Texts,
    /// Where the confirmation links point: UNSUBSCRIBE_URL's origin.
    public_origin: String,
    clock: Arc<dyn Clock>,
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    in_all: DefaultDirectRateLimiter,
    /// Confirmation emails sent today, by address digest: (day, count).
    emailed: Mutex<HashMap<String, (u64, u32)>>,
    /// Held while writing to [`SENT_LOG`].
    sent_log: Mutex<()>,
    /// The suppression list, from which a confirmed sign-up lifts the
    /// reader's own earlier unsubscribe.
    suppressed: SuppressionFile,
}

/// The routes: `/subscribe` and `/confirm`.
pub fn router(
    settings: &Settings,
    signer: ConfirmSigner,
    options: SignupOptions,
    suppressed: SuppressionFile,
    clock: Arc<dyn Clock>,
) -> Router {
    let public = settings.unsubscribe_url.as_ref().map(|u| u.as_url().origin().ascii_serialization());
    let texts = Texts {
        list_name: settings.list_name.clone(),
        org_name: settings.org_name.clone(),
        consent: options.consent.clone(),
        interests: options.interests.clone(),
    };
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(options.allowed_origins.clone()))
        .allow_methods([Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    let per_minute =
        |n| Quota::per_minute(NonZeroU32::MIN).allow_burst(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
    let emailed = read_sent_log(&options.sent_log, day_of(clock.now().as_system_time()));
    let service = Service {
        signer,
        composer: Composer::new(settings, crate::content::CampaignId::notices()),
        texts,
        public_origin: public.unwrap_or_default(),
        clock,
        per_client: governor::RateLimiter::keyed(per_minute(RATE_PER_CLIENT)),
        in_all: governor::RateLimiter::direct(
            Quota::per_second(NonZeroU32::new(2).expect("2 is not 0"))
                .allow_burst(NonZeroU32::new(RATE_IN_ALL).expect("not 0")),
        ),
        emailed: Mutex::new(emailed),
        sent_log: Mutex::new(()),
        suppressed,
        options,
    };
    Router::new()
        .route("/subscribe", get(form).post(subscribe).layer(cors))
        .route("/confirm", get(confirm_page).post(confirm))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(Arc::new(service))
}

async fn form(State(service): State<Arc<Service>>) -> Response {
    respond(StatusCode::OK, page::form(&service.texts))
}

/// A sign-up as posted: a form or JSON.
#[derive(Debug, Default, serde::Deserialize)]
struct Posted {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    interests: Vec<String>,
    /// The honeypot.
    #[serde(default)]
    website: String,
}

impl Posted {
    fn read(headers: &HeaderMap, body: &[u8]) -> Option<Self> {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/json"));
        if json {
            return serde_json::from_slice(body).ok();
        }
        let mut posted = Self::default();
        for (key, value) in url::form_urlencoded::parse(body) {
            match &*key {
                "email" => posted.email = value.into_owned(),
                "name" => posted.name = value.into_owned(),
                "interests" => posted.interests.push(value.into_owned()),
                "website" => posted.website = value.into_owned(),
                _ => {}
            }
        }
        Some(posted)
    }
}

/// The client's address: the peer's, or, when the peer is this machine
/// (the reverse proxy), the last address the proxy added to
/// `X-Forwarded-For`.
fn client(request: &Request) -> IpAddr {
    let peer = request.extensions().get::<Peer>().map(|p| p.0.ip());
    let forwarded = || {
        let all = request.headers().get_all("x-forwarded-for");
        let last = all.iter().next_back()?.to_str().ok()?;
        last.rsplit(',').next()?.trim().parse().ok()
    };
    match peer {
        Some(ip) if ip.is_loopback() => forwarded().unwrap_or(ip),
        Some(ip) => ip,
        None => forwarded().unwrap_or(IpAddr::from([0, 0, 0, 0])),
    }
}

fn too_many() -> Response {
    let mut response =
        (StatusCode::TOO_MANY_REQUESTS, "Too many sign-ups from here; try again in a minute.\n")
            .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    response
}

async fn subscribe(State(service): State<Arc<Service>>, request: Request) -> Response {
    let ip = client(&request);
    if service.per_client.check_key(&ip).is_err() || service.in_all.check().is_err() {
        return too_many();
    }
    if service.per_client.len() > 100_000 {
        service.per_client.retain_recent();
    }
    let json_answer = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
        || request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/json"));
    let headers = request.headers().clone();
    let body = match Bytes::from_request(request, &()).await {
        Ok(body) => body,
        Err(rejection) => return rejection.into_response(),
    };
    let posted = Posted::read(&headers, &body);
    let email = posted.as_ref().and_then(|p| EmailAddress::parse(p.email.trim()).ok());
    let (Some(posted), Some(email)) = (posted, email) else {
        return if json_answer {
            (StatusCode::BAD_REQUEST, axum::Json(serde_json::json!({"status": "invalid-email"})))
                .into_response()
        } else {
            respond(StatusCode::BAD_REQUEST, page::bad_address(&service.texts))
        };
    };
    if posted.website.is_empty() && service.may_email(&email) {
        let tags: Vec<String> = posted
            .interests
            .iter()
            .map(|t| t.trim().to_lowercase())
            .filter(|t| service.options.interests.contains(t))
            .collect();
        let name: String = posted.name.chars().filter(|c| !c.is_control()).take(200).collect();
        let service = Arc::clone(&service);
        // In the background: the answer takes as long whether an email
        // goes or not.
        tokio::spawn(async move { service.send_confirmation(email, name, tags).await });
    } else if !posted.website.is_empty() {
        eprintln!("{} sign-up ignored: the honeypot field was filled", service.clock.now());
    }
    if json_answer {
        (StatusCode::OK, axum::Json(serde_json::json!({"status": "check-your-inbox"}))).into_response()
    } else {
        respond(StatusCode::OK, page::check_inbox(&service.texts))
    }
}

impl Service {
    fn now_secs(&self) -> u64 {
        self.clock.now().as_system_time().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }

    /// Whether another confirmation email may go to `email` today; counts
    /// it when so, in memory and in [`SENT_LOG`].
    fn may_email(&self, email: &EmailAddress) -> bool {
        let day = self.now_secs() / 86_400;
        let digest = self.signer.address_digest(email);
        {
            let mut emailed = self.emailed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            emailed.retain(|_, (d, _)| *d == day);
            let count = emailed.entry(digest.clone()).or_insert((day, 0));
            if count.1 >= EMAILS_PER_ADDRESS_A_DAY {
                eprintln!("{} sign-up: {} already emailed today, not again", self.clock.now(), mask(email));
                return false;
            }
            count.1 += 1;
        }
        let _writing = self.sent_log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let written =
            std::fs::OpenOptions::new().create(true).append(true).open(&self.options.sent_log).and_then(
                |mut file| std::io::Write::write_all(&mut file, format!("{day} {digest}\n").as_bytes()),
            );
        if let Err(error) = written {
            eprintln!(
                "{} warning: cannot write {}: {error}",
                self.clock.now(),
                self.options.sent_log.display()
            );
        }
        true
    }

    async fn send_confirmation(&self, email: EmailAddress, name: String, tags: Vec<String>) {
        let expires = self.now_secs() + self.options.confirm_for.as_secs().max(1);
        let pending = Pending { email: email.clone(), name, tags, expires };
        let link = format!("{}/confirm?t={}", self.public_origin, self.signer.token(&pending));
        let hours = self.options.confirm_for.as_secs_f64() / 3600.0;
        let list = &self.texts.list_name;
        let org = &self.texts.org_name;
        let text = format!(
            "Someone, we hope you, asked for {list} from {org} to be sent to {email}.\n\n\
             To confirm, open this link and press Confirm:\n\n{link}\n\n\
             The link works for {hours:.0} hours. If it was not you, ignore this email: nothing will be sent.\n"
        );
        let html = maud::html! {
            p { "Someone, we hope you, asked for " (list) " from " (org) " to be sent to " (email.as_str()) "." }
            p { a href=(link) { "Confirm your sign-up" } }
            p { "If it was not you, ignore this email: nothing will be sent." }
        }
        .into_string();
        let content = Personalised { subject: format!("Please confirm: {list}"), html, text };
        let now = self.clock.now();
        let message = match self.composer.compose_notice(&email, &content, now.as_system_time()) {
            Ok(message) => message,
            Err(error) => return eprintln!("{now} error: sign-up of {}: {error}", mask(&email)),
        };
        let sent = async {
            let mut connection = self.options.relay.connect().await?;
            let reply = connection.submit(message.envelope(), &message.formatted()).await;
            connection.close().await;
            reply
        };
        match sent.await {
            Ok(_) => eprintln!("{} sign-up: confirmation sent to {}", self.clock.now(), mask(&email)),
            Err(failure) => eprintln!(
                "{} error: the confirmation to {} failed: {failure}",
                self.clock.now(),
                mask(&email)
            ),
        }
    }

    fn pending(&self, query: Option<&str>) -> Result<Pending, Refusal> {
        let token = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .find(|(k, _)| k == "t")
            .map(|(_, v)| v.into_owned())
            .ok_or(Refusal::Invalid)?;
        self.signer.verify(&token, self.now_secs())
    }

    fn refuse(&self, method: &str, refusal: Refusal) -> Response {
        eprintln!("{} refused {method} /confirm: {refusal}", self.clock.now());
        respond(StatusCode::BAD_REQUEST, page::bad_link(refusal == Refusal::Expired))
    }
}

/// Takes `email` off the suppression list when every row naming it is the
/// reader's own choice (an unsubscribe, a request, a Mailchimp unsubscribe,
/// an erasure) made before they asked to sign up (`issued`, when the link
/// was made): confirming a sign-up is asking to be mailed again. A bounce
/// or a spam complaint stays, and the sign-up waits in `signups.csv`
/// unmailed, as `resubscribe` is then the staff's decision. So does a
/// choice made since, or undated: an old link used again (a page
/// reloaded, a forwarded email) never undoes a later unsubscribe. Read and
/// rewritten under the list's lock, so a row added meanwhile (a bounce
/// import, say) is seen.
fn lift_own_unsubscribe(
    suppressed: &SuppressionFile,
    email: &EmailAddress,
    issued: std::time::SystemTime,
) -> Result<(), SuppressionFileError> {
    let own = [Reason::Unsubscribed, Reason::Requested, Reason::MailchimpUnsubscribed, Reason::Forgotten];
    suppressed.rewrite(|table| {
        let Some(column) = table.email_column else { return (false, ()) };
        let named = |name: &str| table.header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
        let (reason_at, date_at) = (named("reason"), named("date"));
        let about = |row: &csv::StringRecord| {
            row.get(column).is_some_and(|e| crate::subscribers::pseudonym::names(e, email.key()))
        };
        let lifts = |row: &csv::StringRecord| {
            let at = |i: Option<usize>| i.and_then(|i| row.get(i)).map_or("", str::trim);
            let before = humantime::parse_rfc3339_weak(at(date_at)).is_ok_and(|date| date < issued);
            before && own.iter().any(|r| at(reason_at).eq_ignore_ascii_case(r.as_str()))
        };
        let rows: Vec<&csv::StringRecord> = table.records.iter().filter(|r| about(r)).collect();
        if rows.is_empty() || !rows.iter().all(|r| lifts(r)) {
            return (false, ());
        }
        table.records.retain(|r| !about(r));
        (true, ())
    })
}

fn day_of(time: std::time::SystemTime) -> u64 {
    time.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) / 86_400
}

/// Today's counts from [`SENT_LOG`] (a missing or unreadable file counts
/// nothing); the file is rewritten with today's lines only.
fn read_sent_log(path: &std::path::Path, today: u64) -> HashMap<String, (u64, u32)> {
    let mut counts: HashMap<String, (u64, u32)> = HashMap::new();
    let Ok(text) = std::fs::read_to_string(path) else { return counts };
    let mut kept = String::new();
    for line in text.lines() {
        let Some((day, digest)) = line.split_once(' ') else { continue };
        if day.parse::<u64>().ok() == Some(today) {
            counts.entry(digest.to_owned()).or_insert((today, 0)).1 += 1;
            kept.push_str(line);
            kept.push('\n');
        }
    }
    if kept.len() != text.len() {
        let _ = std::fs::write(path, kept);
    }
    counts
}

/// `GET /confirm`: the page with the button. Changes nothing.
async fn confirm_page(State(service): State<Arc<Service>>, RawQuery(query): RawQuery) -> Response {
    match service.pending(query.as_deref()) {
        Ok(pending) => respond(
            StatusCode::OK,
            page::confirm(&service.texts, pending.email.as_str(), &pending.name, &pending.tags),
        ),
        Err(refusal) => service.refuse("GET", refusal),
    }
}

/// `POST /confirm`: the sign-up goes into `signups.csv`.
async fn confirm(State(service): State<Arc<Service>>, RawQuery(query): RawQuery) -> Response {
    let pending = match service.pending(query.as_deref()) {
        Ok(pending) => pending,
        Err(refusal) => return service.refuse("POST", refusal),
    };
    let hash = hex::encode(Sha256::digest(service.options.consent.as_bytes()));
    let signup = Signup::named(pending.email.clone(), &pending.name, pending.tags, hash);
    let file = service.options.signups.clone();
    let suppressed = service.suppressed.clone();
    let now = service.clock.now().as_system_time();
    // When the link was made: the same sum as when it was signed.
    let issued = std::time::UNIX_EPOCH
        + Duration::from_secs(pending.expires.saturating_sub(service.options.confirm_for.as_secs().max(1)));
    let added = tokio::task::spawn_blocking(move || {
        let added = file.add(&signup, now)?;
        lift_own_unsubscribe(&suppressed, &signup.email, issued)?;
        Ok::<_, SuppressionFileError>(added)
    })
    .await;
    let email = pending.email;
    match added {
        Ok(Ok(added)) => {
            let what = if added { "added to" } else { "already in" };
            eprintln!(
                "{} sign-up confirmed: {} {what} {}",
                service.clock.now(),
                mask(&email),
                service.options.signups.path().display()
            );
            respond(StatusCode::OK, page::confirmed(&service.texts, email.as_str()))
        }
        Ok(Err(error)) => {
            eprintln!(
                "{} error: could not add the sign-up of {}: {error}",
                service.clock.now(),
                mask(&email)
            );
            respond(StatusCode::INTERNAL_SERVER_ERROR, page::failed())
        }
        Err(panic) => {
            eprintln!(
                "{} error: could not add the sign-up of {}: {panic}",
                service.clock.now(),
                mask(&email)
            );
            respond(StatusCode::INTERNAL_SERVER_ERROR, page::failed())
        }
    }
}
