//! Everything that serves HTTP: the live [`preview`] of a bulletin
//! (`bulletin preview --serve`) and the one-click [`unsubscribe`] server
//! (`bulletin unsubscribe-server`), with the start and stop (`Server`) and
//! the page `layout` they share.
//!
//! Ends at the edge of HTTP: what the pages show is made by `job` and
//! `lint`, the tokens are checked by `message::unsubscribe`, and the
//! suppression list is written by `subscribers`.

mod layout;
pub mod preview;
pub mod unsubscribe;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::domain::Clock;

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

impl Server {
    /// Listens, catches Ctrl-C and SIGTERM, then calls `start` with the
    /// address it got, which prints the banner and gives the routes; serves
    /// them on the program's runtime until a stop signal, then lets the
    /// requests in flight finish for at most `grace`.
    pub fn serve(self, start: impl FnOnce(SocketAddr) -> anyhow::Result<Router>) -> anyhow::Result<()> {
        let Server { name, listen, busy_hint, grace, log_stop } = self;
        let runtime = crate::runtime()?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}{busy_hint}"))?;
            let address = listener.local_addr()?;
            // Listen for the stop signals before saying we are up, so a stop
            // sent as soon as the banner shows is not fatal.
            let stopped = stop_signal().context("cannot listen for Ctrl-C and SIGTERM")?;
            let app = start(address)?;
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
            let server = axum::serve(listener, app).with_graceful_shutdown(stop.clone().cancelled_owned());
            tokio::select! {
                result = server => result.with_context(|| format!("{name} stopped"))?,
                // A client that never finishes its request (or a page that
                // holds its event stream open) cannot hold the server up for
                // ever.
                () = async {
                    stop.cancelled().await;
                    tokio::time::sleep(grace).await;
                } => if let Some(clock) = &log_stop {
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
        let error = server.serve(|_| panic!("started on a taken address")).unwrap_err();
        assert_eq!(error.to_string(), format!("cannot listen on {listen} (is another one running?)"));
    }
}
