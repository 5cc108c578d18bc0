//! Everything that serves HTTP: the live [`preview`] of a bulletin
//! (`bulletin preview --serve`) and `bulletin serve` ([`serve`], which
//! composes the one-click [`unsubscribe`], [`preferences`] and [`signup`]
//! routers and the relays' [`webhooks`]), with the start and stop (`Server`), the connection limits
//! (`Limits`), the page `layout` and the answers (`respond`) they share.
//!
//! Ends at the edge of HTTP: what the pages show is made by `job` and
//! `lint`, the tokens are checked by `message::unsubscribe`, and the
//! suppression list is written by `subscribers`.

pub mod health;
mod layout;
pub mod preferences;
pub mod preview;
mod respond;
pub mod serve;
pub mod signup;
pub mod unsubscribe;
pub mod webhooks;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use hyper::body::{Body as _, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What every router of `bulletin serve` shares: the consent ledger
/// (the suppression list), the one clock and the organisation's look.
#[derive(Clone)]
pub(crate) struct Shared {
    pub suppressed: crate::subscribers::SuppressionFile,
    pub clock: Arc<dyn Clock>,
    pub look: Arc<layout::Look>,
}

/// The longest one request of `bulletin serve` may take once its headers
/// are in: reading the body and writing the ledger. A slower one gets 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

use crate::domain::Clock;
pub use respond::mask;

/// How long a client has to send a request's headers, counted from when
/// it connects or was last answered: an idle connection, or one sending
/// its headers a byte at a time (slowloris), is closed after it.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// A knob for the integration tests, not a setting: whole milliseconds,
/// 1 to 10,000, that replace [`HEADER_TIMEOUT`], so a test of the timeout
/// need not wait 10 s for it. Read from the process environment only (a
/// `.env` never sets it), it can only shorten the timeout, and the server's
/// banner shows the timeout in force. Not a user-facing setting because
/// the server sits behind a reverse proxy, whose own timeouts are the
/// place to tune, and 10 s is what the guide promises.
pub const HEADER_TIMEOUT_TEST_KNOB: &str = "BULLETIN_TEST_HEADER_TIMEOUT_MS";

/// File descriptors kept back from connections: the listener, standard
/// streams, the runtime, the suppression list and the preview's watcher.
const RESERVED_DESCRIPTORS: u64 = 64;

/// The most connections held at once, however many descriptors there are.
const MAX_CONNECTIONS: usize = 4096;

/// Connections the kernel queues for the server to accept.
const BACKLOG: u32 = 1024;

/// The busiest a server's log gets about shedding load: a line at most
/// this often.
const BUSY_LOG_EVERY: Duration = Duration::from_secs(10);

/// The address a request's connection came from, as `accept` got it; in
/// every request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// How one of the servers listens and stops.
pub(crate) struct Server {
    /// What the server is called in errors: "the preview server".
    pub name: &'static str,
    /// The address and port to listen on (port 0 picks a free one).
    pub listen: SocketAddr,
    /// Added to the error when `listen` cannot be had, e.g. what may hold it.
    pub busy_hint: &'static str,
    /// How long a stop waits for requests in flight before stopping anyway.
    pub grace: Duration,
    /// With a clock, a stop is logged with its time on stderr, and
    /// `Stopped.` printed at the end; without one, it stops quietly.
    pub log_stop: Option<Arc<dyn Clock>>,
}

/// How many connections a server holds at once: as many as fit below the
/// process's file descriptor limit, less [`RESERVED_DESCRIPTORS`], and at
/// most [`MAX_CONNECTIONS`]. Past that a newcomer makes room (see
/// `accept`), rather than every `accept` failing for want of a descriptor,
/// which lost every request, real ones too. And how long a client has to
/// send a request's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The soft `RLIMIT_NOFILE` the server runs with; `None` for unlimited.
    pub descriptors: Option<u64>,
    /// Connections held at once.
    pub connections: usize,
    /// How long a client has to send a request's headers:
    /// [`HEADER_TIMEOUT`] unless [`HEADER_TIMEOUT_TEST_KNOB`] shortens it.
    pub header_timeout: Duration,
}

impl Limits {
    /// Raises the soft descriptor limit towards the hard one (a service
    /// manager's default soft limit, 1,024, is lower than the connections
    /// wanted), then measures it; takes the header timeout from
    /// [`header_timeout`].
    fn measure() -> anyhow::Result<Self> {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let wanted = MAX_CONNECTIONS as u64 + RESERVED_DESCRIPTORS;
        let limit = getrlimit(Resource::Nofile);
        let target = limit.maximum.map_or(wanted, |hard| hard.min(wanted));
        if limit.current.is_some_and(|soft| soft < target) {
            // Failing leaves the limit as it was, which is then measured.
            let _ = setrlimit(Resource::Nofile, Rlimit { current: Some(target), maximum: limit.maximum });
        }
        let header_timeout = header_timeout(std::env::var_os(HEADER_TIMEOUT_TEST_KNOB))?;
        Ok(Self { header_timeout, ..Self::below(getrlimit(Resource::Nofile).current) })
    }

    /// The limits with `descriptors` file descriptors.
    fn below(descriptors: Option<u64>) -> Self {
        let room = descriptors.map_or(u64::MAX, |d| d.saturating_sub(RESERVED_DESCRIPTORS).max(1));
        let connections = usize::try_from(room).unwrap_or(usize::MAX).min(MAX_CONNECTIONS);
        Self { descriptors, connections, header_timeout: HEADER_TIMEOUT }
    }
}

/// [`HEADER_TIMEOUT`], or what `knob` (the value of
/// [`HEADER_TIMEOUT_TEST_KNOB`]) shortens it to.
fn header_timeout(knob: Option<std::ffi::OsString>) -> anyhow::Result<Duration> {
    let Some(knob) = knob else { return Ok(HEADER_TIMEOUT) };
    let millis = knob.to_str().and_then(|text| text.parse::<u64>().ok());
    match millis.map(Duration::from_millis) {
        Some(timeout) if !timeout.is_zero() && timeout <= HEADER_TIMEOUT => Ok(timeout),
        _ => anyhow::bail!(
            "{HEADER_TIMEOUT_TEST_KNOB} = {knob:?}: must be whole milliseconds from 1 to {}",
            HEADER_TIMEOUT.as_millis()
        ),
    }
}

impl fmt::Display for Limits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} connections at once (", self.connections)?;
        match self.descriptors {
            Some(n) => write!(f, "{n} file descriptors")?,
            None => write!(f, "no file descriptor limit")?,
        }
        write!(f, "), {} s to send a request's headers", self.header_timeout.as_secs_f64())
    }
}

impl Server {
    /// Listens, catches Ctrl-C and SIGTERM, then calls `start` with the
    /// address it got and its limits, which prints the banner and gives
    /// the routes; serves them on the program's runtime until a stop
    /// signal, then lets the requests in flight finish for at most `grace`.
    pub fn serve(
        self,
        start: impl FnOnce(SocketAddr, Limits) -> anyhow::Result<Router>,
    ) -> anyhow::Result<()> {
        let Server { name, listen, busy_hint, grace, log_stop } = self;
        let limits = Limits::measure()?;
        let runtime = crate::runtime()?;
        runtime.block_on(async move {
            let listener = bind(listen).with_context(|| format!("cannot listen on {listen}{busy_hint}"))?;
            let address = listener.local_addr()?;
            // Listen for the stop signals before saying we are up, so a stop
            // sent as soon as the banner shows is not fatal.
            let stopped = stop_signal().context("cannot listen for Ctrl-C and SIGTERM")?;
            let app = start(address, limits)?;
            let stop = CancellationToken::new();
            let on_signal = stop.clone();
            let log = log_stop.clone();
            tokio::spawn(async move {
                stopped.await;
                if let Some(clock) = log {
                    eprintln!("{} stopping: finishing the requests in flight", clock.now());
                }
                on_signal.cancel();
            });
            let say = Say { name, clock: log_stop.clone() };
            let connections = accept(listener, app, limits, &stop, &say).await;
            tokio::select! {
                () = connections.shutdown() => {}
                // A client that never finishes its request (or a page that
                // holds its event stream open) cannot hold the server up for
                // ever.
                () = tokio::time::sleep(grace) => if let Some(clock) = &log_stop {
                    eprintln!("{} stopping without waiting any longer for unfinished requests", clock.now());
                },
            }
            if log_stop.is_some() {
                println!("Stopped.");
            }
            Ok(())
        })
    }
}

/// Where a server says what happens to it: its log (stderr, dated) when
/// it has a clock, else a warning.
struct Say {
    name: &'static str,
    clock: Option<Arc<dyn Clock>>,
}

impl Say {
    fn line(&self, what: fmt::Arguments<'_>) {
        match &self.clock {
            Some(clock) => eprintln!("{} {what}", clock.now()),
            None => eprintln!("warning: {}: {what}", self.name),
        }
    }
}

/// Accepts connections until `stop`, each served by hyper's HTTP/1 with
/// `limits.header_timeout`, at most `limits.connections` at once; gives back
/// the connections still open, to be shut down.
///
/// With every connection taken, a newcomer closes the one that has waited
/// longest without a request in progress (a crowd of idle connections
/// cannot lock real readers out for the length of the timeout), or, when
/// all are in the middle of a request, waits for one to end. A request
/// whose body its client is still sending is not yet in progress: a crowd
/// trickling bodies a byte at a time is shed as an idle one is.
///
/// Hand-written rather than `axum::serve`, which has no header timeout and
/// no limit; the limit is a semaphore around `accept` (what tower's
/// `ConcurrencyLimit` is for requests), since the descriptor is taken at
/// `accept`, before any request, and no crate closes the idle ones first.
async fn accept(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    stop: &CancellationToken,
    say: &Say,
) -> GracefulShutdown {
    let connections = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(limits.connections));
    let open = Arc::new(Open::default());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let mut said_busy: Option<Instant> = None;
    let mut said_failed: Option<Instant> = None;
    let due = |said: &mut Option<Instant>| {
        let due = said.is_none_or(|at| at.elapsed() >= BUSY_LOG_EVERY);
        if due {
            *said = Some(Instant::now());
        }
        due
    };
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors or memory, or a client gone before
                    // it was accepted: wait a little rather than spin.
                    if due(&mut said_failed) {
                        say.line(format_args!("error: cannot accept a connection: {error}"));
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        let permit = match Arc::clone(&permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let made_room = open.close_oldest_idle();
                if due(&mut said_busy) {
                    let what = if made_room {
                        "closing the one idle longest for each new one"
                    } else {
                        "all in the middle of a request, so new ones wait until one ends"
                    };
                    say.line(format_args!(
                        "busy: {} connections open, the most allowed ({limits}); {what}",
                        limits.connections
                    ));
                }
                tokio::select! {
                    permit = Arc::clone(&permits).acquire_owned() => permit.expect("the semaphore is never closed"),
                    () = stop.cancelled() => break,
                }
            }
        };
        let (id, slot) = open.add();
        let app = TowerToHyperService::new(app.clone());
        let in_slot = Arc::clone(&slot);
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let request_in_progress = InRequest::start(&in_slot);
            let mut request = request.map(|body| FromClient::new(body, &in_slot));
            request.extensions_mut().insert(Peer(peer));
            let response = hyper::service::Service::call(&app, request);
            async move {
                let response = response.await;
                drop(request_in_progress);
                response
            }
        });
        let served = connections.watch(http.serve_connection(TokioIo::new(stream), service));
        let open = Arc::clone(&open);
        tokio::spawn(async move {
            tokio::select! {
                // A client that goes away, or is timed out, is no error of ours.
                _ = served => {}
                // Closed to make room: dropping it closes the socket.
                () = slot.close.cancelled() => {}
            }
            open.remove(id);
            drop(permit);
        });
    }
    connections
}

/// The connections open, in the order they came.
#[derive(Default)]
struct Open(std::sync::Mutex<(u64, std::collections::BTreeMap<u64, Arc<Slot>>)>);

/// One open connection: how many of its requests are in progress, how
/// many of those still wait for their client to send the body, and how to
/// close it.
#[derive(Default)]
struct Slot {
    requests: AtomicUsize,
    waiting: AtomicUsize,
    close: CancellationToken,
}

impl Open {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, std::collections::BTreeMap<u64, Arc<Slot>>)> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn add(&self) -> (u64, Arc<Slot>) {
        let mut open = self.lock();
        let id = open.0;
        open.0 += 1;
        let slot = Arc::new(Slot::default());
        open.1.insert(id, Arc::clone(&slot));
        (id, slot)
    }

    fn remove(&self, id: u64) {
        self.lock().1.remove(&id);
    }

    /// Closes the oldest connection with no request in progress but those
    /// waiting for their client's body; whether there was one.
    fn close_oldest_idle(&self) -> bool {
        let open = self.lock();
        let idle = open.1.values().find(|s| {
            s.requests.load(Ordering::SeqCst) <= s.waiting.load(Ordering::SeqCst) && !s.close.is_cancelled()
        });
        idle.inspect(|slot| slot.close.cancel()).is_some()
    }
}

/// A request in progress on a [`Slot`], from its headers to its answer.
struct InRequest(Arc<Slot>);

impl InRequest {
    fn start(slot: &Arc<Slot>) -> Self {
        slot.requests.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(slot))
    }
}

impl Drop for InRequest {
    fn drop(&mut self) {
        self.0.requests.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A request's body as its client sends it: until it has all come (or is
/// dropped unread), its request counts as waiting on its [`Slot`].
struct FromClient {
    body: Incoming,
    waiting: Option<Arc<Slot>>,
}

impl FromClient {
    fn new(body: Incoming, slot: &Arc<Slot>) -> Self {
        let waiting = (!body.is_end_stream()).then(|| {
            slot.waiting.fetch_add(1, Ordering::SeqCst);
            Arc::clone(slot)
        });
        Self { body, waiting }
    }

    fn arrived(&mut self) {
        if let Some(slot) = self.waiting.take() {
            slot.waiting.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for FromClient {
    fn drop(&mut self) {
        self.arrived();
    }
}

impl hyper::body::Body for FromClient {
    type Data = axum::body::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let frame = std::pin::Pin::new(&mut self.body).poll_frame(cx);
        if matches!(frame, std::task::Poll::Ready(None | Some(Err(_)))) || self.body.is_end_stream() {
            self.arrived();
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// A listening socket at `address` whose queue of connections not yet
/// accepted holds [`BACKLOG`]: with the usual 128, a burst of connections
/// (a crowd of idle ones, then a real one) overflows it, and the kernel
/// drops the new ones' handshakes for a second or more.
fn bind(address: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    // As `TcpListener::bind` does: a restart can listen again at once.
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(BACKLOG)
}

/// Ctrl-C or SIGTERM (what `systemctl stop` sends): both are caught from
/// the moment this returns.
fn stop_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_address_is_named_with_the_hint_and_nothing_starts() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let listen = taken.local_addr().unwrap();
        let server = Server {
            name: "the test server",
            listen,
            busy_hint: " (is another one running?)",
            grace: Duration::ZERO,
            log_stop: None,
        };
        let error = server.serve(|_, _| panic!("started on a taken address")).unwrap_err();
        assert_eq!(error.to_string(), format!("cannot listen on {listen} (is another one running?)"));
    }

    #[test]
    fn room_is_made_by_closing_the_oldest_connection_without_a_request_in_progress() {
        let open = Open::default();
        let (_, first) = open.add();
        let (_, second) = open.add();
        let (third_id, third) = open.add();
        let request = InRequest::start(&first);
        assert!(open.close_oldest_idle());
        assert!(!first.close.is_cancelled() && second.close.is_cancelled() && !third.close.is_cancelled());
        open.remove(third_id);
        assert!(!open.close_oldest_idle(), "the one left is in the middle of a request");
        drop(request);
        assert!(open.close_oldest_idle());
        assert!(first.close.is_cancelled());
    }

    #[test]
    fn a_connection_whose_request_still_waits_for_its_body_is_closed_to_make_room_as_an_idle_one_is() {
        let open = Open::default();
        let (_, slow) = open.add();
        let (_, busy) = open.add();
        let _slow_request = InRequest::start(&slow);
        let _busy_request = InRequest::start(&busy);
        slow.waiting.fetch_add(1, Ordering::SeqCst);
        assert!(open.close_oldest_idle());
        assert!(slow.close.is_cancelled() && !busy.close.is_cancelled());
        assert!(!open.close_oldest_idle(), "the one left is answering its request");
    }

    #[test]
    fn connections_stay_below_the_descriptor_limit_with_room_for_the_servers_own_files() {
        assert_eq!(Limits::below(Some(1024)).connections, 960);
        assert_eq!(Limits::below(Some(200)).connections, 136);
        assert_eq!(Limits::below(Some(20)).connections, 1);
        assert_eq!(Limits::below(Some(1_048_576)).connections, MAX_CONNECTIONS);
        assert_eq!(Limits::below(None).connections, MAX_CONNECTIONS);
        assert_eq!(
            Limits::below(Some(1024)).to_string(),
            "960 connections at once (1024 file descriptors), 10 s to send a request's headers"
        );
    }

    #[test]
    fn only_the_test_knob_shortens_the_header_timeout_and_a_bad_value_is_refused() {
        assert_eq!(header_timeout(None).unwrap(), HEADER_TIMEOUT);
        assert_eq!(header_timeout(Some("1500".into())).unwrap(), Duration::from_millis(1500));
        assert_eq!(header_timeout(Some("10000".into())).unwrap(), HEADER_TIMEOUT);
        for bad in ["0", "10001", "-5", "1.5", "2s", ""] {
            let error = header_timeout(Some(bad.into())).unwrap_err().to_string();
            assert!(error.starts_with(HEADER_TIMEOUT_TEST_KNOB) && error.contains("1 to 10000"), "{error}");
        }
        let limits = Limits { header_timeout: Duration::from_millis(1500), ..Limits::below(Some(1024)) };
        assert!(limits.to_string().ends_with(", 1.5 s to send a request's headers"), "{limits}");
    }
}
