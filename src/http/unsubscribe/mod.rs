//! The one-click unsubscribe pages of `bulletin serve` ([`super::serve`]),
//! answering on the path of `UNSUBSCRIBE_URL`.
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

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::timeout::TimeoutLayer;

use super::REQUEST_TIMEOUT;
use super::respond::{mask, respond};
use crate::config::Settings;
use crate::domain::{Clock, chain};
use crate::message::unsubscribe::Signer;
use crate::subscribers::{EmailAddress, Entry, Reason, SuppressionFile};
use page::Texts;

/// The largest request body read. A one-click body is 26 bytes; a
/// multipart one a few hundred.
const BODY_LIMIT: usize = 16 * 1024;

/// The field and value of an RFC 8058 one-click request.
const ONE_CLICK: (&str, &str) = ("List-Unsubscribe", "One-Click");

struct Service {
    signer: Signer,
    file: SuppressionFile,
    texts: Texts,
    clock: Arc<dyn Clock>,
}

/// The one-click routes: `GET` and `POST` on `path` (`UNSUBSCRIBE_URL`'s).
/// (`/healthz` is [`super::health`]'s.)
pub(super) fn routes(path: &str, settings: &Settings, signer: Signer, shared: super::Shared) -> Router {
    let texts = Texts::new(settings, shared.look);
    let service = Service { signer, file: shared.suppressed, texts, clock: shared.clock };
    router(path, Arc::new(service), REQUEST_TIMEOUT)
}

fn router(path: &str, service: Arc<Service>, request_timeout: std::time::Duration) -> Router {
    // The path is matched as it is: a segment starting with `:` or `*` is
    // text, not axum 0.7's capture syntax (which would panic here). The
    // URL parser has already escaped `{` and `}`, the captures of 0.8.
    Router::new()
        .without_v07_checks()
        .route(path, get(confirm).post(unsubscribe))
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
            eprintln!(
                "{} error: could not unsubscribe {}: {}",
                service.clock.now(),
                mask(&email),
                chain(&error)
            );
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::config::Source;
    use crate::http::serve::checked;

    pub(in crate::http) fn settings(pairs: &[(&str, &str)]) -> Settings {
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

    fn service(pairs: &[(&str, &str)]) -> (Service, Settings) {
        let settings = settings(pairs);
        let (signer, _) = checked(&settings).unwrap();
        let service = Service {
            signer,
            file: SuppressionFile::new("unused.csv"),
            texts: Texts::new(&settings, Arc::new(crate::http::layout::Look::new(&settings).unwrap())),
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
