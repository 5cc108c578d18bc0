//! The send window (`SEND_WINDOW`) at each hand-over: while it is closed
//! the senders wait at the [`Gate`], before they take a message and, with
//! one taken, before its `sending` row is written, so messages in flight
//! finish and nothing new is recorded; the feed [holds](Gate::hold) too,
//! making no message. The run pauses and resumes whole. One line says that it
//! paused and until when, one that it resumed. The wait reads the clock
//! again every [`STEP`] at most, so a clock that jumps (a machine that
//! slept, the tests' clock) is followed.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::config::SendWindow;
use crate::domain::{Clock, Timestamp};

/// The longest the gate waits before it reads the clock again.
pub const STEP: Duration = Duration::from_secs(1);

/// Where the senders wait while the window is closed.
pub struct Gate {
    window: SendWindow,
    clock: Arc<dyn Clock>,
    tell: Box<dyn Fn(Notice) + Send + Sync>,
    pauses: Mutex<Pauses>,
    /// [`STEP`]; shorter in this module's tests.
    step: Duration,
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate").field("window", &self.window.to_string()).finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Pauses {
    /// When the pause under way began.
    since: Option<Timestamp>,
    /// The pauses that ended.
    total: Duration,
    times: u32,
}

/// How long the window held a run up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paused {
    pub times: u32,
    /// All of them together, a pause still under way counted to now.
    pub total: Duration,
}

/// What the gate has to say: a line for the terminal and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The window closed (or was closed at the start); it opens at
    /// `opens`, as the window writes it, if it ever does.
    Paused { window: String, opens: Option<String> },
    /// It opened again after `after`.
    Resumed { window: String, after: Duration },
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Paused { window, opens } => {
                let opens = opens.as_ref().map_or_else(
                    || "checking again every second".to_owned(),
                    |at| format!("resuming at {at}"),
                );
                write!(
                    f,
                    "Paused: outside SEND_WINDOW ({window}); {opens}. Messages in flight were finished; \
                     nothing more goes until then. Ctrl-C is safe meanwhile: run the same command again to \
                     resume."
                )
            }
            Self::Resumed { window, after } => {
                write!(f, "Resumed: inside SEND_WINDOW ({window}) after {} paused.", rounded(*after))
            }
        }
    }
}

/// `2days 14h`, `3m 20s`: whole minutes past an hour, whole seconds below.
pub fn rounded(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let seconds = if seconds >= 3600 { seconds - seconds % 60 } else { seconds };
    humantime::format_duration(Duration::from_secs(seconds)).to_string()
}

impl Gate {
    /// A gate for `window` on `clock`, saying what it does through `tell`.
    pub fn new(
        window: SendWindow,
        clock: Arc<dyn Clock>,
        tell: impl Fn(Notice) + Send + Sync + 'static,
    ) -> Self {
        Self { window, clock, tell: Box::new(tell), pauses: Mutex::new(Pauses::default()), step: STEP }
    }

    /// The gate with the clock read again every `step` at most.
    #[cfg(test)]
    pub(super) fn stepping(mut self, step: Duration) -> Self {
        self.step = step;
        self
    }

    /// Whether a message may be handed over now.
    pub fn is_open(&self) -> bool {
        self.window.is_open(self.clock.now())
    }

    /// Returns once the window is open: at once if it is; else after
    /// saying the run paused (once, whichever sender finds it closed
    /// first), and saying it resumed (once) when it opens.
    pub async fn wait(&self) {
        loop {
            let now = self.clock.now();
            if self.window.is_open(now) {
                self.resumed(now);
                return;
            }
            let opens = self.window.next_opening(now);
            self.paused(now, opens);
            let step =
                opens.map_or(self.step, |at| at.since(now).min(self.step).max(Duration::from_millis(1)));
            tokio::time::sleep(step).await;
        }
    }

    /// Blocks the calling thread (the feed's) while the window is closed,
    /// reading the clock every step, and says nothing (the senders do).
    /// False when `cancel` fires meanwhile.
    pub fn hold(&self, cancel: &CancellationToken) -> bool {
        while !self.is_open() {
            if cancel.is_cancelled() {
                return false;
            }
            std::thread::sleep(self.step);
        }
        true
    }

    fn pauses(&self) -> std::sync::MutexGuard<'_, Pauses> {
        self.pauses.lock().expect("not poisoned")
    }

    fn paused(&self, now: Timestamp, opens: Option<Timestamp>) {
        let mut pauses = self.pauses();
        if pauses.since.is_none() {
            pauses.since = Some(now);
            let opens = opens.map(|at| self.window.local(at));
            tracing::info!(window = %self.window, opens = ?opens, "paused outside the send window");
            (self.tell)(Notice::Paused { window: self.window.to_string(), opens });
        }
    }

    fn resumed(&self, now: Timestamp) {
        let mut pauses = self.pauses();
        if let Some(since) = pauses.since.take() {
            let after = now.since(since);
            pauses.total += after;
            pauses.times += 1;
            tracing::info!(window = %self.window, after = ?after, "resumed inside the send window");
            (self.tell)(Notice::Resumed { window: self.window.to_string(), after });
        }
    }

    /// How long the window held the run up, if it did.
    pub fn paused_for(&self) -> Option<Paused> {
        let pauses = self.pauses();
        let running = pauses.since.map(|since| self.clock.now().since(since));
        let times = pauses.times + u32::from(running.is_some());
        (times > 0).then(|| Paused { times, total: pauses.total + running.unwrap_or_default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock the test moves.
    #[derive(Debug)]
    struct Hand(Mutex<Timestamp>);

    impl Clock for Hand {
        fn now(&self) -> Timestamp {
            *self.0.lock().unwrap()
        }
    }

    fn utc(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[tokio::test]
    async fn a_closed_window_pauses_once_and_resumes_once_when_the_clock_reaches_the_opening() {
        let window = SendWindow::parse("Mon-Fri 08:00-18:00", jiff::tz::TimeZone::UTC).unwrap();
        // Friday 2026-12-11, after closing.
        let hand = Arc::new(Hand(Mutex::new(utc("2026-12-11T18:00:00Z"))));
        let told = Arc::new(Mutex::new(Vec::new()));
        let gate = {
            let told = Arc::clone(&told);
            let gate =
                Gate::new(window, Arc::clone(&hand) as Arc<dyn Clock>, move |n| told.lock().unwrap().push(n));
            Arc::new(gate.stepping(Duration::from_millis(5)))
        };
        assert!(!gate.is_open());
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                tokio::spawn({
                    let gate = Arc::clone(&gate);
                    async move { gate.wait().await }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(waiters.iter().all(|w| !w.is_finished()), "still closed");
        *hand.0.lock().unwrap() = utc("2026-12-14T08:00:00Z");
        for waiter in waiters {
            waiter.await.unwrap();
        }
        let told = told.lock().unwrap().clone();
        assert_eq!(
            told,
            [
                Notice::Paused {
                    window: "Mon-Fri 08:00-18:00".to_owned(),
                    opens: Some("Mon 2026-12-14 08:00 (UTC)".to_owned())
                },
                Notice::Resumed {
                    window: "Mon-Fri 08:00-18:00".to_owned(),
                    after: Duration::from_secs(62 * 3600)
                },
            ]
        );
        assert_eq!(
            told[1].to_string(),
            "Resumed: inside SEND_WINDOW (Mon-Fri 08:00-18:00) after 2days 14h paused."
        );
        assert!(told[0].to_string().starts_with(
            "Paused: outside SEND_WINDOW (Mon-Fri 08:00-18:00); resuming at Mon 2026-12-14 08:00 (UTC)."
        ));
        assert_eq!(gate.paused_for(), Some(Paused { times: 1, total: Duration::from_secs(62 * 3600) }));
    }

    #[tokio::test]
    async fn an_open_window_lets_every_sender_through_without_a_word() {
        let window = SendWindow::parse("Mon-Fri", jiff::tz::TimeZone::UTC).unwrap();
        let gate = Gate::new(window, Arc::new(utc("2026-12-11T18:00:00Z")), |n| panic!("said {n}"));
        gate.wait().await;
        assert!(gate.is_open());
        assert_eq!(gate.paused_for(), None);
    }
}
