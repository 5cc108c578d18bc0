//! The preview server (`bulletin preview --serve`): a small web server on
//! 127.0.0.1 that shows the bulletin as a chosen reader will get it, and
//! reloads the page whenever the bulletin, the list or the settings file is
//! saved. Sends nothing: the `page` shows what `view` makes from
//! the files with `job` and `lint`, afresh for every request.

mod page;
mod view;
mod watch;

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tokio::sync::broadcast;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

pub use view::Sources;

use crate::content::images::PreparedImage;

use super::Server;

/// The port `--serve` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 8025;

/// How long a stop waits for requests in flight: an open page holds its
/// event stream for ever, so not long.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

struct Shared {
    sources: Sources,
    changes: broadcast::Sender<u64>,
    /// The images the email last shown embeds, by file name: the frames
    /// ask for them straight after the email, and preparing them again for
    /// each would slow every reload.
    images: std::sync::Mutex<Vec<PreparedImage>>,
    /// Watches while the server serves.
    _watch: watch::Watch,
}

#[derive(Debug, Deserialize)]
struct Params {
    to: Option<String>,
    scheme: Option<String>,
}

/// Serves the preview of `sources` on 127.0.0.1:`port` (0 for any free
/// port) until Ctrl-C or SIGTERM; opens it in the default browser when
/// `open`.
pub fn serve(sources: Sources, port: u16, open: bool) -> anyhow::Result<()> {
    let server = Server {
        name: "the preview server",
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        busy_hint: " (is another preview running? try --port)",
        grace: SHUTDOWN_GRACE,
        log_stop: None,
    };
    server.serve(|address, _| {
        let (changes, _) = broadcast::channel(16);
        let (suppressed, _) = sources.list.suppression_path();
        let files = [
            sources.bulletin.clone(),
            sources.list.subscribers.clone(),
            suppressed,
            sources.env_file.clone(),
        ];
        let watch = watch::start(&files, changes.clone()).context("cannot watch the bulletin's files")?;
        let url = format!("http://{address}/");
        println!("Previewing {} at {url}", sources.bulletin.display());
        println!("Edit and save the bulletin, the list or .env and the page reloads. Ctrl-C to stop.");
        if open && let Err(e) = webbrowser::open(&url) {
            eprintln!("warning: could not open a browser ({e}); open {url} yourself");
        }
        let shared = Arc::new(Shared { sources, changes, images: Default::default(), _watch: watch });
        Ok(Router::new()
            .route("/", get(page))
            .route("/email", get(email))
            .route("/images/{name}", get(image))
            .route("/events", get(events))
            .with_state(shared)
            .layer(middleware::from_fn_with_state(Arc::new(LocalHosts::at(address.port())), only_local)))
    })
}

/// The `Host` names the preview answers to: its own address, by number or
/// as `localhost`. Any other is a page elsewhere whose name was pointed at
/// 127.0.0.1 (DNS rebinding) to read the readers' names and addresses.
struct LocalHosts {
    port: u16,
    names: Vec<String>,
}

impl LocalHosts {
    fn at(port: u16) -> Self {
        let hosts = ["127.0.0.1", "localhost", "[::1]"];
        let mut names: Vec<String> = hosts.iter().map(|h| format!("{h}:{port}")).collect();
        if port == 80 {
            names.extend(hosts.map(str::to_owned));
        }
        Self { port, names }
    }

    fn allows(&self, host: &str) -> bool {
        self.names.iter().any(|name| name.eq_ignore_ascii_case(host))
    }
}

/// Passes on requests for a [`LocalHosts`] name (in `Host`, and in the
/// request line when it names one); answers any other with 421 and no
/// reader data.
async fn only_local(State(hosts): State<Arc<LocalHosts>>, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    let named = request.uri().authority().map(|a| a.as_str());
    if host.is_some_and(|h| hosts.allows(h)) && named.is_none_or(|h| hosts.allows(h)) {
        return next.run(request).await;
    }
    (
        StatusCode::MISDIRECTED_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!(
            "The preview answers only at http://127.0.0.1:{port}/ and http://localhost:{port}/.\n",
            port = hosts.port
        ),
    )
        .into_response()
}

/// Renders on a blocking thread: it reads files and the whole list.
async fn blocking<T: Send + 'static>(
    shared: &Arc<Shared>,
    f: impl FnOnce(&Sources) -> T + Send + 'static,
) -> T {
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || f(&shared.sources)).await.expect("rendering panicked")
}

async fn page(State(shared): State<Arc<Shared>>, Query(params): Query<Params>) -> Html<String> {
    let to = params.to.clone();
    let view = blocking(&shared, move |s| s.view(to.as_deref())).await;
    Html(page::render(&view, params.to.as_deref()).into_string())
}

async fn email(State(shared): State<Arc<Shared>>, Query(params): Query<Params>) -> Response {
    let to = params.to.clone();
    let made = blocking(&shared, move |s| s.html(to.as_deref())).await.map(|(html, images)| {
        *shared.images.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = images;
        html
    });
    match made {
        Ok(html) if params.scheme.as_deref() == Some("dark") => Html(view::dark(&html)).into_response(),
        Ok(html) => Html(html).into_response(),
        Err(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            errors.join("\n"),
        )
            .into_response(),
    }
}

/// An image the email embeds, which the browser cannot have by `cid:`.
async fn image(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    let shown = shared
        .images
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .find(|image| image.name == name)
        .map(|image| (image.picture.mime, image.picture.bytes.clone()));
    let found = match shown {
        Some(found) => Some(found),
        None => blocking(&shared, move |s| s.image(&name)).await,
    };
    match found {
        Some((mime, bytes)) => {
            ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "no-store")], bytes).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn events(
    State(shared): State<Arc<Shared>>,
) -> Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(shared.changes.subscribe())
        .filter_map(|change| change.ok().map(|n| Ok(Event::default().data(n.to_string()))));
    Sse::new(stream).keep_alive(KeepAlive::default())
}
