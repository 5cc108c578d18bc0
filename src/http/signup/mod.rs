//! Signing up from the website, with double opt-in (part of `bulletin
//! serve`, beside the unsubscribe links):
//!
//! * `GET /subscribe`: the form (name, address, the `INTERESTS` as
//!   check boxes, the `CONSENT_TEXT`).
//! * `POST /subscribe`, a form or JSON (with CORS for `ALLOWED_ORIGINS`):
//!   sends a confirmation email through the relay, in the background, and
//!   answers the same whoever the address is (on the list or not, emailed
//!   or not), so the form tells nobody who is subscribed. Limited per
//!   client network, per mailbox, per recipient domain and in all (see
//!   [`limits`]), bodies of at most [`BODY_LIMIT`], and a honeypot field
//!   (`website`) that sends nothing when filled. No email goes to an
//!   address a confirmation could not bring back (a complaint, a bounce,
//!   an erasure: see [`crate::subscribers::consent`]), nor to a domain
//!   literal (`bob@[192.0.2.1]`).
//! * `GET /confirm?t=TOKEN`: a page with a Confirm button; changes nothing,
//!   so a mail scanner fetching the link confirms nobody.
//! * `POST /confirm?t=TOKEN`: adds the sign-up, with its consent record, to
//!   `signups.csv` ([`SignupsFile`]), under the consent ledger's lock and
//!   only when the ledger lets the confirmation count: a link issued
//!   before the reader's latest opt-out changes nothing. The token is
//!   signed, says when it was issued, and expires
//!   ([`crate::message::confirmation`]).

pub mod limits;
pub mod page;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::respond::{mask, respond};
use crate::config::{Settings, SignupSettings};
use crate::deliver::smtp::Relay;
use anyhow::Context;

use crate::domain::{Clock, chain};
use crate::message::Composer;
use crate::message::confirmation::{ConfirmSigner, Pending, Refusal};
use crate::render::{Notice, ShownLogo, Span};
use crate::subscribers::signups::{Signup, SignupsFile};
use crate::subscribers::{Confirmation, EmailAddress, SuppressionFile};
use limits::Limits;
use page::Texts;

/// The largest sign-up read: a form is a few hundred bytes.
pub const BODY_LIMIT: usize = 16 * 1024;

/// What the sign-up needs beyond the unsubscribe server's settings.
#[derive(Debug, Clone)]
pub struct SignupOptions {
    pub relay: Relay,
    pub signups: SignupsFile,
    /// `CONFIRM_HOURS`, as a duration.
    pub confirm_for: Duration,
    /// `INTERESTS`: tags (lower case) and labels.
    pub interests: Vec<crate::config::Interest>,
    /// `CONSENT_TEXT`.
    pub consent: String,
    /// `ALLOWED_ORIGINS`.
    pub allowed_origins: Vec<HeaderValue>,
    /// The state folder, whose store counts the confirmation emails sent
    /// today ([`limits::TABLE`]).
    pub state_dir: std::path::PathBuf,
    /// `TRUSTED_PROXIES`: whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl SignupOptions {
    /// The options the sign-up `settings` give, with the relay, the
    /// sign-ups file and the state folder (made if missing) where the
    /// confirmation emails sent today are counted.
    pub fn new(
        signup: SignupSettings,
        settings: &Settings,
        relay: Relay,
        signups: SignupsFile,
        state_dir: &std::path::Path,
    ) -> anyhow::Result<Self> {
        let consent = signup.consent_text.unwrap_or_else(|| {
            format!(
                "I agree to receive {} by email from {}. I can unsubscribe at any time.",
                settings.list_name, settings.org_name
            )
        });
        let allowed_origins = signup
            .allowed_origins
            .iter()
            .map(|origin| HeaderValue::from_str(origin).expect("an origin is ASCII"))
            .collect();
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("cannot make the state folder {}", state_dir.display()))?;
        Ok(Self {
            relay,
            signups,
            confirm_for: signup.confirm_for,
            interests: signup.interests,
            consent,
            allowed_origins,
            state_dir: state_dir.to_owned(),
            trusted_proxies: signup.trusted_proxies,
        })
    }
}

struct Service {
    options: SignupOptions,
    signer: ConfirmSigner,
    composer: Composer,
    /// The logo as the confirmation email shows it: as a bulletin does.
    logo: Option<ShownLogo>,
    /// For the confirmation email's footer, as a bulletin's.
    settings: Settings,
    texts: Texts,
    /// Where the confirmation links point: UNSUBSCRIBE_URL's origin.
    public_origin: String,
    clock: Arc<dyn Clock>,
    limits: Limits,
    /// The consent ledger: what a sign-up may be sent, and what a
    /// confirmation may lift.
    suppressed: SuppressionFile,
}

/// The routes: `/subscribe` and `/confirm`.
pub(crate) fn router(
    settings: &Settings,
    signer: ConfirmSigner,
    options: SignupOptions,
    shared: super::Shared,
) -> Router {
    let super::Shared { suppressed, clock, look } = shared;
    let public = settings.unsubscribe_url.as_ref().map(|u| u.as_url().origin().ascii_serialization());
    let texts = Texts {
        list_name: settings.list_name.clone(),
        org_name: settings.org_name.clone(),
        consent: options.consent.clone(),
        interests: options.interests.clone(),
        look: Arc::clone(&look),
    };
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(options.allowed_origins.clone()))
        .allow_methods([Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    let now = clock.now().unix_seconds();
    let limits = Limits::new(&options.state_dir, options.trusted_proxies.clone(), now);
    let service = Service {
        signer,
        composer: Composer::new(settings, crate::content::CampaignId::notices())
            // As a bulletin's: carried inline, or linked at ASSETS_URL.
            .with_inline_images(if settings.assets_url.is_some() {
                &[]
            } else {
                look.prepared_logo.as_slice()
            }),
        logo: crate::job::shown_logo(settings, look.prepared_logo.as_ref(), |logo| {
            crate::job::shown_url(settings, logo)
        }),
        settings: settings.clone(),
        texts,
        public_origin: public.unwrap_or_default(),
        clock,
        limits,
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

fn too_many() -> Response {
    let mut response =
        (StatusCode::TOO_MANY_REQUESTS, "Too many sign-ups from here; try again in a minute.\n")
            .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    response
}

async fn subscribe(State(service): State<Arc<Service>>, request: Request) -> Response {
    if !service.limits.admit(&request) {
        return too_many();
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
    if posted.website.is_empty() {
        let tags: Vec<String> = posted
            .interests
            .iter()
            .map(|t| t.trim().to_lowercase())
            .filter(|t| service.options.interests.iter().any(|i| i.tag == *t))
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
        self.clock.now().unix_seconds()
    }

    /// Whether a confirmation email may go to `email` now: not to a domain
    /// literal, not to an address a confirmation could not bring back, and
    /// within the mailbox's and the domain's limits (counted when so).
    fn may_email(&self, email: &EmailAddress) -> bool {
        let now = self.clock.now();
        if email.as_str().ends_with(']') {
            eprintln!("{now} sign-up: {} is a domain literal, not emailed", mask(email));
            return false;
        }
        match self.suppressed.standing_of(email) {
            Ok(standing) if !standing.may_confirm_at(now.as_system_time()) => {
                eprintln!("{now} sign-up: {} is suppressed for good, not emailed", mask(email));
                return false;
            }
            Ok(_) => {}
            Err(error) => {
                eprintln!("{now} error: sign-up of {}: {}", mask(email), chain(&error));
                return false;
            }
        };
        if let Err(stop) =
            self.limits.take_email(email.key(), self.now_secs(), |text| self.signer.address_digest(text))
        {
            eprintln!("{now} sign-up: {} not emailed: {stop}", mask(email));
            return false;
        }
        // The ledger records the link before it goes out (it could lift
        // the reader's opt-out), so an opt-out made while it is out counts.
        match self.suppressed.signed_up(email, now.as_system_time()) {
            Ok(may) => may,
            Err(error) => {
                eprintln!("{now} error: sign-up of {}: {}", mask(email), chain(&error));
                false
            }
        }
    }

    async fn send_confirmation(&self, email: EmailAddress, name: String, tags: Vec<String>) {
        if !self.may_email(&email) {
            return;
        }
        let issued = self.now_secs();
        let expires = issued + self.options.confirm_for.as_secs().max(1);
        let issued = Some(crate::message::confirmation::at_secs(issued));
        let pending = Pending { email: email.clone(), name, tags, issued, expires };
        let link = format!("{}/confirm?t={}", self.public_origin, self.signer.token(&pending));
        let content =
            self.confirmation(&email, &link, &pending.tags).render(&self.settings, self.logo.clone(), &email);
        let now = self.clock.now();
        let message = match self.composer.compose_notice(&email, &content, now.as_system_time()) {
            Ok(message) => message,
            Err(error) => return eprintln!("{now} error: sign-up of {}: {}", mask(&email), chain(&error)),
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

    /// The words of the confirmation email to `email` with `link`, and the
    /// labels of the interests `tags` chosen; never the name given, which
    /// anyone could fill with words of their own for the list to send.
    fn confirmation(&self, email: &EmailAddress, link: &str, tags: &[String]) -> Notice {
        let hours = self.options.confirm_for.as_secs_f64() / 3600.0;
        let (list, org) = (&self.texts.list_name, &self.texts.org_name);
        let mut notice = Notice::new(
            &format!("Please confirm: {list}"),
            &format!("One click to start getting {list} from {org}."),
            "Please confirm your sign-up",
            &format!("This address was entered on the sign-up form for {list}."),
        )
        .paragraph([
            Span::Plain(&format!("Thank you for signing up for {list} from {org}. Please confirm that ")),
            Span::Strong(email.as_str()),
            Span::Plain(" is your address and that you would like these emails."),
        ]);
        if !tags.is_empty() {
            notice = notice.paragraph([Span::Plain("You chose:")]).list(self.texts.labels(tags));
        }
        notice
            .button("Yes, sign me up", link)
            .paragraph([Span::Plain(&format!("The button works for {hours:.0} hours."))])
            .paragraph([
                Span::Strong("If you do nothing, you will not be signed up"),
                Span::Plain(
                    " and we will not email you again. If it was not you, you can ignore this email.",
                ),
            ])
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
        respond(StatusCode::BAD_REQUEST, page::bad_link(&self.texts, refusal == Refusal::Expired))
    }
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
    let issued = pending.issued;
    // Decided and written under the ledger's lock: an opt-out is either
    // before the decision (and counts) or after the sign-up is written.
    let added = tokio::task::spawn_blocking(move || {
        let email = signup.email.clone();
        match suppressed.confirm(&email, issued, now, || file.add(&signup, now))? {
            Confirmation::Free(added) | Confirmation::Lifted(_, added) => added.map(Some),
            Confirmation::Overtaken(_) => Ok(None),
        }
    })
    .await;
    let email = pending.email;
    match added {
        Ok(Ok(None)) => {
            eprintln!(
                "{} refused POST /confirm for {}: the link is older than their latest opt-out",
                service.clock.now(),
                mask(&email)
            );
            respond(StatusCode::GONE, page::overtaken(&service.texts))
        }
        Ok(Ok(Some(added))) => {
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
                "{} error: could not add the sign-up of {}: {}",
                service.clock.now(),
                mask(&email),
                chain(&error)
            );
            respond(StatusCode::INTERNAL_SERVER_ERROR, page::failed(&service.texts))
        }
        Err(panic) => {
            eprintln!(
                "{} error: could not add the sign-up of {}: {panic}",
                service.clock.now(),
                mask(&email)
            );
            respond(StatusCode::INTERNAL_SERVER_ERROR, page::failed(&service.texts))
        }
    }
}
