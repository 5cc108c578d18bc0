//! The one-click unsubscribe service (`bulletin unsubscribe-server`): a
//! small plain-HTTP server meant to sit behind the organisation's HTTPS
//! reverse proxy, answering on the path of `UNSUBSCRIBE_URL`.
//!
//! * `POST` with `List-Unsubscribe=One-Click` in the body (form-urlencoded
//!   or multipart, RFC 8058; a form-urlencoded body labelled `text/plain`
//!   or not labelled at all is read too), as mail programs send from their
//!   "Unsubscribe" button and as the confirmation page's button sends:
//!   the token in the query string is checked and the address added to the
//!   suppression list before the answer, 200 with no redirect.
//! * `GET` shows a confirmation page with that button and changes nothing,
//!   so a link scanner following every link unsubscribes nobody.
//! * A missing, damaged or forged token gets 400 and changes nothing.
//!
//! Ends where the suppression list begins: writing it is
//! [`SuppressionFile`]'s job, which makes concurrent additions safe.

pub(crate) mod page;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::Markup;
use tower_http::timeout::TimeoutLayer;

use super::Server;
use crate::config::Settings;
use crate::domain::Clock;
use crate::message::confirmation::ConfirmSigner;
use crate::message::unsubscribe::{DEVELOPMENT_SECRET, Signer};
use crate::subscribers::{EmailAddress, Entry, Reason, SuppressionFile};
use page::Texts;

/// The address `--listen` takes unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The shortest `UNSUBSCRIBE_SECRET` the server accepts: a short key can be
/// found by trying keys against any token from any message.
pub const MIN_SECRET_CHARS: usize = 16;

/// The largest request body read. A one-click body is 26 bytes; a
/// multipart one a few hundred.
const BODY_LIMIT: usize = 16 * 1024;

/// How long a stop waits for requests in flight. A write to the
/// suppression list takes milliseconds.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// The longest one request may take once its headers are in: reading the
/// body and adding to the suppression list. A slower one gets 408.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The field and value of an RFC 8058 one-click request.
const ONE_CLICK: (&str, &str) = ("List-Unsubscribe", "One-Click");

/// Where the server listens and what it writes to.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The address and port to listen on (port 0 picks a free one).
    pub listen: SocketAddr,
    /// The suppression list the sends read.
    pub suppressed: SuppressionFile,
    /// Dates the log lines and the rows added to the suppression list.
    pub clock: Arc<dyn Clock>,
    /// Sign-ups (`/subscribe`, `/confirm`), when the relay is set up.
    pub signup: Option<super::signup::SignupOptions>,
    /// The preference page (`/preferences`).
    pub preferences: super::preferences::PreferencesOptions,
}

struct Service {
    signer: Signer,
    file: SuppressionFile,
    texts: Texts,
    clock: Arc<dyn Clock>,
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub fn serve(settings: &Settings, options: ServerOptions) -> anyhow::Result<()> {
    let (signer, path) = checked(settings)?;
    // A list it cannot read whole is not one to add to.
    crate::subscribers::Suppressions::load_optional(options.suppressed.path())?;
    options
        .suppressed
        .check_writable()
        .context("the unsubscribe server cannot write the suppression list")?;
    let ServerOptions { listen, suppressed, clock, signup, preferences } = options;
    preferences.file.check_writable().context("the server cannot write the preferences file")?;
    if let Some(signup) = &signup {
        signup.signups.check_writable().context("the server cannot write the sign-ups file")?;
    }
    let server = Server {
        name: "the unsubscribe server",
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
            super::signup::router(settings, signer, options, suppressed.clone(), Arc::clone(&clock))
                .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        });
        println!("  preferences  http://{address}/preferences ({})", preferences.file.path().display());
        let preferences =
            super::preferences::router(settings, preferences, suppressed.clone(), Arc::clone(&clock))
                .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT));
        let service = Service { signer, file: suppressed, texts: Texts::from(settings), clock };
        let router = router(&path, Arc::new(service), REQUEST_TIMEOUT).merge(preferences);
        Ok(match signups {
            Some(signups) => router.merge(signups),
            None => router,
        })
    })
}

/// The signer and the path to answer on, or why the server must not run.
fn checked(settings: &Settings) -> anyhow::Result<(Signer, String)> {
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

fn router(path: &str, service: Arc<Service>, request_timeout: std::time::Duration) -> Router {
    // The path is matched as it is: a segment starting with `:` or `*` is
    // text, not axum 0.7's capture syntax (which would panic here). The
    // URL parser has already escaped `{` and `}`, the captures of 0.8.
    Router::new()
        .without_v07_checks()
        .route(path, get(confirm).post(unsubscribe))
        .route("/healthz", get(|| async { "ok\n" }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, request_timeout))
        .with_state(service)
}

impl Service {
    /// The address a genuine token in `query` names.
    fn reader(&self, query: Option<&str>) -> Option<EmailAddress> {
        // Every `t` is tried: the links add theirs after the query of
        // `UNSUBSCRIBE_URL`, which may hold a `t` of its own.
        url::form_urlencoded::parse(query?.as_bytes())
            .filter(|(k, _)| k == "t")
            .find_map(|(_, token)| self.signer.verify(&token))
            .and_then(|email| EmailAddress::parse(&email).ok())
    }

    fn refuse(&self, method: &str, why: &str) -> Response {
        eprintln!("{} refused {method}: {why}", self.clock.now());
        respond(StatusCode::BAD_REQUEST, page::invalid_link(&self.texts))
    }
}

/// `GET`: the confirmation page, with a button that sends the one-click
/// `POST`. Changes nothing.
async fn confirm(State(service): State<Arc<Service>>, RawQuery(query): RawQuery) -> Response {
    match service.reader(query.as_deref()) {
        Some(email) => respond(StatusCode::OK, page::confirm(&service.texts, &email)),
        None => service.refuse("GET", "no valid token"),
    }
}

/// `POST`: the one-click unsubscribe itself.
async fn unsubscribe(
    State(service): State<Arc<Service>>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let Some(email) = service.reader(query.as_deref()) else {
        return service.refuse("POST", "no valid token");
    };
    match is_one_click(request).await {
        Ok(true) => {}
        Ok(false) => {
            eprintln!(
                "{} refused POST for {}: no List-Unsubscribe=One-Click in the body",
                service.clock.now(),
                mask(&email)
            );
            return respond(StatusCode::BAD_REQUEST, page::not_one_click(&service.texts, &email));
        }
        Err(response) => return response,
    }
    let entry = Entry::new(email.clone(), Reason::Unsubscribed);
    let file = service.file.clone();
    let now = service.clock.now().as_system_time();
    let added = tokio::task::spawn_blocking(move || file.add(&[entry], now)).await;
    match added {
        Ok(Ok(added)) => {
            let what = if added.added.is_empty() { "already on the suppression list" } else { "added" };
            eprintln!("{} unsubscribed {} ({what})", service.clock.now(), mask(&email));
            respond(StatusCode::OK, page::done(&service.texts, &email))
        }
        Ok(Err(error)) => {
            eprintln!("{} error: could not unsubscribe {}: {error}", service.clock.now(), mask(&email));
            respond(StatusCode::INTERNAL_SERVER_ERROR, page::failed(&service.texts))
        }
        Err(panic) => {
            eprintln!("{} error: could not unsubscribe {}: {panic}", service.clock.now(), mask(&email));
            respond(StatusCode::INTERNAL_SERVER_ERROR, page::failed(&service.texts))
        }
    }
}

/// Whether the body holds `List-Unsubscribe=One-Click`, as multipart/form-data
/// or form-urlencoded; the response to send instead when the body cannot be
/// read. RFC 8058 asks for one of those two types, but some mail programs
/// send the form-urlencoded pair as `text/plain` or with no type at all, so
/// any body that is not multipart is read as form-urlencoded.
async fn is_one_click(request: Request) -> Result<bool, Response> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if content_type == "multipart/form-data" {
        let mut form = Multipart::from_request(request, &()).await.map_err(IntoResponse::into_response)?;
        while let Some(field) = form.next_field().await.map_err(IntoResponse::into_response)? {
            if field.name() == Some(ONE_CLICK.0) {
                let value = field.text().await.map_err(IntoResponse::into_response)?;
                return Ok(value.trim() == ONE_CLICK.1);
            }
        }
        return Ok(false);
    }
    let body = Bytes::from_request(request, &()).await.map_err(IntoResponse::into_response)?;
    // Trimmed like the multipart value: a body typed or piped in by hand
    // ends in a line break.
    Ok(url::form_urlencoded::parse(&body).any(|(k, v)| k.trim() == ONE_CLICK.0 && v.trim() == ONE_CLICK.1))
}

/// A page with headers that keep it out of caches, frames, search engines
/// and other sites' `Referer` (its address holds the reader's token).
pub(crate) fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, axum::response::Html(markup.into_string())).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; \
             base-uri 'none'",
        ),
        (header::HeaderName::from_static("x-robots-tag"), "noindex, nofollow"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// `a***@example.org`: enough to tell events apart and see which provider
/// sends them, without copying whole addresses into logs that may be kept
/// for long. The suppression list holds the addresses themselves.
pub fn mask(email: &EmailAddress) -> String {
    let (user, domain) = email.as_str().rsplit_once('@').unwrap_or(("", email.as_str()));
    let first: String = user.chars().take(1).collect();
    format!("{first}***@{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Source;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let mut all = vec![
            ("FROM_EMAIL", "news@hope.example.org"),
            ("ORG_NAME", "Hope Trust"),
            ("ORG_ADDRESS", "2 High Street"),
            ("UNSUBSCRIBE_URL", "https://hope.example.org/u/leave?list=prayer"),
            ("UNSUBSCRIBE_SECRET", "a-long-enough-secret-for-tests"),
        ];
        all.retain(|(k, _)| !pairs.iter().any(|(p, _)| p == k));
        all.extend(pairs.iter().filter(|(_, v)| !v.is_empty()));
        Settings::from_source(&Source::from_pairs(all)).unwrap()
    }

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

    fn service(pairs: &[(&str, &str)]) -> (Service, Settings) {
        let settings = settings(pairs);
        let (signer, _) = checked(&settings).unwrap();
        let service = Service {
            signer,
            file: SuppressionFile::new("unused.csv"),
            texts: Texts::from(&settings),
            clock: Arc::new(crate::domain::Timestamp::from_unix(1_760_000_000)),
        };
        (service, settings)
    }

    #[test]
    fn a_link_still_works_when_the_unsubscribe_url_has_a_t_parameter_of_its_own() {
        let (service, settings) = service(&[("UNSUBSCRIBE_URL", "https://hope.example.org/leave?t=prayer")]);
        let email = EmailAddress::parse("ana@example.org").unwrap();
        let link = service.signer.url(settings.unsubscribe_url.as_ref().unwrap(), &email);
        let query = url::Url::parse(&link).unwrap().query().map(str::to_owned);
        assert_eq!(service.reader(query.as_deref()), Some(email));
    }

    fn one_click(content_type: Option<&str>, body: &str) -> Result<bool, StatusCode> {
        let mut request = Request::builder().method("POST").uri("/leave");
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let request = request.body(axum::body::Body::from(body.to_owned())).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(is_one_click(request)).map_err(|response| response.status())
    }

    #[test]
    fn one_click_bodies_as_mail_programs_really_send_them_are_accepted() {
        let form = Some("application/x-www-form-urlencoded");
        assert_eq!(one_click(form, "List-Unsubscribe=One-Click"), Ok(true));
        assert_eq!(
            one_click(Some("application/x-www-form-urlencoded; charset=utf-8"), "List-Unsubscribe=One-Click"),
            Ok(true)
        );
        assert_eq!(one_click(form, "foo=bar&List-Unsubscribe=One-Click"), Ok(true));
        assert_eq!(one_click(form, "List-Unsubscribe=One-Click\r\n"), Ok(true));
        // A fetch() with a string body and no explicit type (as some mail
        // program add-ons do) says text/plain; curl -X POST with
        // --data-binary from a pipe may say nothing.
        assert_eq!(one_click(Some("text/plain;charset=UTF-8"), "List-Unsubscribe=One-Click"), Ok(true));
        assert_eq!(one_click(None, "List-Unsubscribe=One-Click"), Ok(true));
    }

    #[test]
    fn bodies_without_the_one_click_pair_are_still_refused() {
        let form = Some("application/x-www-form-urlencoded");
        assert_eq!(one_click(form, ""), Ok(false));
        assert_eq!(one_click(form, "List-Unsubscribe=Later"), Ok(false));
        assert_eq!(one_click(Some("text/plain"), "hello"), Ok(false));
        assert_eq!(one_click(None, ""), Ok(false));
        assert_eq!(one_click(Some("application/json"), "{\"List-Unsubscribe\":\"One-Click\"}"), Ok(false));
    }

    #[test]
    fn the_server_answers_on_a_path_with_a_segment_starting_with_a_colon_or_a_star_taken_literally() {
        for (url, other) in [
            ("https://hope.example.org/:leave", "/leave"),
            ("https://hope.example.org/u/*/leave", "/u/x/leave"),
        ] {
            let (service, settings) = service(&[("UNSUBSCRIBE_URL", url)]);
            let (_, path) = checked(&settings).unwrap();
            let link = service.signer.url(
                settings.unsubscribe_url.as_ref().unwrap(),
                &EmailAddress::parse("ana@example.org").unwrap(),
            );
            let query = url::Url::parse(&link).unwrap().query().unwrap().to_owned();
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
            let origin = format!("http://{}", listener.local_addr().unwrap());
            let app = router(&path, Arc::new(service), REQUEST_TIMEOUT);
            runtime.spawn(async move { axum::serve(listener, app).await });
            let status = |path: &str| {
                let agent = ureq::Agent::new_with_config(
                    ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(std::time::Duration::from_secs(5)))
                        .build(),
                );
                let request = agent.get(format!("{origin}{path}?{query}"));
                runtime
                    .block_on(async { tokio::task::spawn_blocking(move || request.call()).await })
                    .unwrap()
                    .unwrap()
                    .status()
            };
            assert_eq!(status(&path), 200, "{path}");
            assert_eq!(status(other), 404, "{other}");
        }
    }

    #[test]
    fn a_request_whose_body_never_finishes_gets_408_when_its_time_is_up() {
        use std::io::{Read, Write};
        let (service, settings) = service(&[]);
        let (_, path) = checked(&settings).unwrap();
        let email = EmailAddress::parse("ana@example.org").unwrap();
        let link = service.signer.url(settings.unsubscribe_url.as_ref().unwrap(), &email);
        let query = url::Url::parse(&link).unwrap().query().unwrap().to_owned();
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let address = listener.local_addr().unwrap();
        let app = router(&path, Arc::new(service), std::time::Duration::from_millis(300));
        runtime.spawn(async move { axum::serve(listener, app).await });
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        // Headers promising 26 bytes of body, then only 5 of them.
        write!(stream, "POST {path}?{query} HTTP/1.1\r\nHost: a\r\nContent-Length: 26\r\n\r\nList-").unwrap();
        let mut answer = [0; 12];
        stream.read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"HTTP/1.1 408");
    }

    #[test]
    fn logged_addresses_are_masked() {
        assert_eq!(mask(&EmailAddress::parse("Ana.Silva@example.org").unwrap()), "A***@example.org");
    }
}
