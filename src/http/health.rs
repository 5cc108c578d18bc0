//! `GET /healthz` of `bulletin serve`: whether the work it does beside its
//! pages is getting done. Each worker (the scheduler, the bounce mailbox's
//! poller, the welcome sender) is a [`Part`] that says when a round of it
//! succeeded or failed; the page answers 200 while every part that runs
//! has succeeded within its bound ([`Part::bound`]: three of its intervals
//! and [`MARGIN`]; counted from the start until its first success) and its
//! thread lives, and 503 otherwise, saying which part and why.
//!
//! The page is public: it shows times, intervals and a failure's kind in
//! words the worker chose for it (`login refused`), never an error's text,
//! which may hold an address, a mailbox's user or a path.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::domain::{Clock, Timestamp};

/// Added to three intervals to make a part's bound: room for one slow
/// round (a relay or mailbox taking its time) on top of two missed ones.
pub const MARGIN: Duration = Duration::from_secs(60);

/// The parts of one `serve`, on its clock.
#[derive(Debug)]
pub struct Health {
    clock: Arc<dyn Clock>,
    started: Timestamp,
    parts: Mutex<Vec<Arc<Part>>>,
}

/// One worker's record: its name, how often it runs, and how its rounds
/// went.
#[derive(Debug)]
pub struct Part {
    name: &'static str,
    /// `None` for a part that does not run, with the words saying why.
    every: Option<Duration>,
    off: &'static str,
    state: Mutex<State>,
}

#[derive(Debug, Default, Clone)]
struct State {
    success: Option<Timestamp>,
    failure: Option<(Timestamp, &'static str)>,
    /// Its thread ended.
    stopped: bool,
}

impl Health {
    pub fn new(clock: Arc<dyn Clock>) -> Arc<Self> {
        let started = clock.now();
        Arc::new(Self { clock, started, parts: Mutex::new(Vec::new()) })
    }

    /// A part that runs a round every `every`.
    pub fn part(&self, name: &'static str, every: Duration) -> Arc<Part> {
        self.add(Part { name, every: Some(every), off: "", state: Mutex::default() })
    }

    /// A part that does not run here, shown with `why` (`not configured`).
    pub fn off(&self, name: &'static str, why: &'static str) -> Arc<Part> {
        self.add(Part { name, every: None, off: why, state: Mutex::default() })
    }

    fn add(&self, part: Part) -> Arc<Part> {
        let part = Arc::new(part);
        self.parts.lock().unwrap_or_else(PoisonError::into_inner).push(Arc::clone(&part));
        part
    }

    /// Whether every part is well, and the page that says so.
    pub fn report(&self) -> (bool, String) {
        let now = self.clock.now();
        let parts = self.parts.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let mut well = true;
        let mut lines = String::new();
        for part in &parts {
            let (ok, line) = part.line(now, self.started);
            well &= ok;
            let _ = writeln!(lines, "{}: {line}", part.name);
        }
        (well, format!("{}\n{lines}", if well { "ok" } else { "unhealthy" }))
    }

    /// The `/healthz` route.
    pub fn router(self: &Arc<Self>) -> Router {
        let health = Arc::clone(self);
        Router::new().route(
            "/healthz",
            get(move || async move {
                let (well, body) = health.report();
                let status = if well { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
                (
                    status,
                    [
                        (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                        (header::CACHE_CONTROL, "no-store"),
                    ],
                    body,
                )
                    .into_response()
            }),
        )
    }
}

impl Part {
    /// A round succeeded at `at`.
    pub fn succeeded(&self, at: Timestamp) {
        self.state().success = Some(at);
    }

    /// A round failed at `at`; `why` is what the page shows: a few public
    /// words, never an error's text.
    pub fn failed(&self, at: Timestamp, why: &'static str) {
        self.state().failure = Some((at, why));
    }

    /// The part's thread ended: unhealthy from now on.
    pub fn stopped(&self) {
        self.state().stopped = true;
    }

    /// How long the part may go without a success: three of its intervals
    /// and [`MARGIN`].
    pub fn bound(&self) -> Option<Duration> {
        self.every.map(|every| every * 3 + MARGIN)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the part is well at `now`, and its line.
    fn line(&self, now: Timestamp, started: Timestamp) -> (bool, String) {
        let (Some(every), Some(bound)) = (self.every, self.bound()) else {
            return (true, self.off.to_owned());
        };
        let state = self.state().clone();
        let ago = |at: Timestamp| format!("{at} ({} s ago)", now.since(at).as_secs());
        let mut line = match state.success {
            Some(at) => format!("last success {}", ago(at)),
            None => "no success yet".to_owned(),
        };
        let _ = write!(line, "; runs every {}", humantime::format_duration(every));
        if let Some((at, why)) = state.failure.filter(|(at, _)| state.success.is_none_or(|s| *at >= s)) {
            let _ = write!(line, "; last failure {}: {why}", ago(at));
        }
        let quiet = now.since(state.success.unwrap_or(started));
        if state.stopped {
            return (false, format!("{line}; UNHEALTHY: its thread stopped"));
        }
        if quiet > bound {
            let _ = write!(
                line,
                "; UNHEALTHY: no success for {} s, more than {} s (3 intervals and {} s)",
                quiet.as_secs(),
                bound.as_secs(),
                MARGIN.as_secs()
            );
            return (false, line);
        }
        (true, line)
    }
}

/// Marks `part` stopped when dropped: held by a worker's thread, so its
/// end (a panic included) is seen.
#[derive(Debug)]
pub struct Alive(pub Arc<Part>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.stopped();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct At(Mutex<u64>);

    impl Clock for At {
        fn now(&self) -> Timestamp {
            Timestamp::from_unix(*self.0.lock().unwrap())
        }
    }

    #[test]
    fn a_part_is_well_within_three_intervals_and_a_margin_of_its_last_success_and_unwell_after() {
        let clock = Arc::new(At(Mutex::new(1_000)));
        let health = Health::new(clock.clone());
        let every = Duration::from_secs(10);
        let part = health.part("scheduler", every);
        health.off("bounce mailbox", "not configured");
        let (well, body) = health.report();
        assert!(well, "{body}");
        assert!(body.starts_with("ok\n") && body.contains("bounce mailbox: not configured"), "{body}");
        *clock.0.lock().unwrap() = 1_000 + 90;
        assert!(health.report().0, "never succeeded, but only 90 s after the start");
        *clock.0.lock().unwrap() = 1_000 + 91;
        assert!(!health.report().0, "never succeeded, 91 s after the start");
        part.succeeded(clock.now());
        assert!(health.report().0);
        part.failed(Timestamp::from_unix(1_095), "login refused");
        *clock.0.lock().unwrap() = 1_091 + 90;
        let (well, body) = health.report();
        assert!(well, "{body}");
        *clock.0.lock().unwrap() = 1_091 + 91;
        let (well, body) = health.report();
        assert!(!well && body.starts_with("unhealthy\n"), "{body}");
        assert!(body.contains("login refused") && body.contains("no success for 91 s"), "{body}");
        part.succeeded(clock.now());
        assert!(health.report().0);
        drop(Alive(Arc::clone(&part)));
        let (well, body) = health.report();
        assert!(!well && body.contains("thread stopped"), "{body}");
    }
}
