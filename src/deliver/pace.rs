//! The run's pace: one rate limit shared by every sender, lowered when the
//! relay says "slow down" and raised again while it is content, as TCP's
//! congestion control does (AIMD: additive increase, multiplicative
//! decrease):
//!
//! * The run starts at `--rate` (or with no limit at all).
//! * A throttling reply (see [`crate::domain::Limit::Rate`]) lowers the
//!   rate to 0.7 × the messages the relay accepted in the last second (or
//!   the rate, if that is lower), but never below [`MIN_RATE`]. Replies to
//!   messages already on their way when the rate fell say nothing new, so
//!   the rate falls at most once a second. 0.7 rather than TCP's 0.5
//!   (CUBIC's choice): against a relay that allows 14 a second the run
//!   swings between about 10 and 14, not 7 and 14.
//! * Each second without one raises it by 5 %, at least one message a
//!   second, up to `--rate` (with no `--rate`, without end, until the
//!   relay says "slow down" again).
//!
//! governor's limiter (GCRA) keeps the pace itself; its quota is fixed, so
//! a change of rate makes a new one.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::DefaultDirectRateLimiter;

use super::limiter::{limiter, limiter_at};
use crate::domain::Rate;

/// The slowest the run goes, in messages a second, however often the
/// relay says "slow down".
pub const MIN_RATE: f64 = 0.5;

/// How much of the accepted rate a throttling reply keeps.
const DECREASE: f64 = 0.7;

/// How often the rate may change.
const STEP: Duration = Duration::from_secs(1);

/// The pace every sender keeps.
#[derive(Debug)]
pub struct Pace {
    /// `--rate` in messages a second; `None` when unlimited.
    ceiling: Option<f64>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The rate now; `None` while unlimited.
    rate: Option<f64>,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    /// When the rate last changed, and last fell.
    changed: Instant,
    fell: Option<Instant>,
    /// When the messages of the last second were accepted.
    accepted: VecDeque<Instant>,
    /// How often the rate fell, and how low.
    slowdowns: u32,
    lowest: Option<f64>,
}

/// How the relay's throttling shaped a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slowdowns {
    /// How often the rate was lowered.
    pub times: u32,
    /// The lowest rate, in messages a second.
    pub lowest: f64,
}

impl Pace {
    /// A pace that starts, and tops out, at `rate`.
    pub fn new(rate: Rate) -> Self {
        let state = State {
            rate: rate.per_second(),
            limiter: limiter(rate).map(Arc::new),
            changed: Instant::now(),
            fell: None,
            accepted: VecDeque::new(),
            slowdowns: 0,
            lowest: None,
        };
        Self { ceiling: rate.per_second(), state: Mutex::new(state) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("the pace's lock is never poisoned")
    }

    /// Waits until the next message may be handed over.
    pub async fn ready(&self) {
        let limiter = self.state().limiter.clone();
        if let Some(limiter) = limiter {
            limiter.until_ready().await;
        }
    }

    /// The relay accepted a message.
    pub fn accepted(&self) {
        self.accepted_at(Instant::now());
    }

    /// The relay said "slow down".
    pub fn throttled(&self) {
        self.throttled_at(Instant::now());
    }

    /// The rate now, in messages a second; `None` while unlimited.
    #[cfg(test)]
    fn rate(&self) -> Option<f64> {
        self.state().rate
    }

    /// How the relay slowed the run, if it did.
    pub fn slowdowns(&self) -> Option<Slowdowns> {
        let state = self.state();
        Some(Slowdowns { times: state.slowdowns, lowest: state.lowest? })
    }

    fn accepted_at(&self, now: Instant) {
        let mut state = self.state();
        state.accepted.push_back(now);
        while state.accepted.front().is_some_and(|t| now.duration_since(*t) >= STEP) {
            state.accepted.pop_front();
        }
        let Some(rate) = state.rate else { return };
        if Some(rate) == self.ceiling || now.duration_since(state.changed) < STEP {
            return;
        }
        let raised = rate + (rate * 0.05).max(1.0);
        state.set(Some(self.ceiling.map_or(raised, |ceiling| raised.min(ceiling))), now);
    }

    fn throttled_at(&self, now: Instant) {
        let mut state = self.state();
        if state.fell.is_some_and(|fell| now.duration_since(fell) < STEP) {
            return;
        }
        let recent = state.accepted.iter().filter(|t| now.duration_since(**t) < STEP).count() as f64;
        let base = match state.rate {
            Some(rate) if recent > 0.0 => rate.min(recent),
            Some(rate) => rate,
            None => recent.max(1.0),
        };
        let rate = (base * DECREASE).max(MIN_RATE);
        state.set(Some(rate), now);
        state.fell = Some(now);
        state.slowdowns += 1;
        state.lowest = Some(state.lowest.map_or(rate, |lowest| lowest.min(rate)));
    }
}

impl State {
    fn set(&mut self, rate: Option<f64>, now: Instant) {
        self.rate = rate;
        self.limiter = rate.map(|rate| Arc::new(limiter_at(rate)));
        self.changed = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(pace: &Pace, start: Instant, n: u32, over: Duration) {
        for i in 0..n {
            pace.accepted_at(start + over * i / n);
        }
    }

    #[test]
    fn a_throttling_reply_lowers_the_rate_to_seven_tenths_of_what_the_relay_took() {
        let pace = Pace::new(Rate::Unlimited);
        let start = Instant::now();
        accept(&pace, start, 14, Duration::from_millis(900));
        assert_eq!(pace.rate(), None);
        pace.throttled_at(start + Duration::from_millis(950));
        let rate = pace.rate().unwrap();
        assert!((rate - 9.8).abs() < 1e-9, "{rate}");
        assert_eq!(pace.slowdowns(), Some(Slowdowns { times: 1, lowest: rate }));
    }

    #[test]
    fn replies_to_messages_already_on_their_way_lower_it_once() {
        let pace = Pace::new("20/s".parse().unwrap());
        let start = Instant::now();
        accept(&pace, start, 10, Duration::from_millis(900));
        for ms in [950, 960, 1200, 1900] {
            pace.throttled_at(start + Duration::from_millis(ms));
        }
        assert!((pace.rate().unwrap() - 7.0).abs() < 1e-9);
        assert_eq!(pace.slowdowns().unwrap().times, 1);
        pace.throttled_at(start + Duration::from_millis(2000));
        assert_eq!(pace.slowdowns().unwrap().times, 2);
    }

    #[test]
    fn each_quiet_second_raises_the_rate_back_up_to_the_ceiling_and_never_past_it() {
        let pace = Pace::new("12/s".parse().unwrap());
        let start = Instant::now();
        accept(&pace, start, 10, Duration::from_millis(900));
        pace.throttled_at(start + Duration::from_millis(950));
        assert!((pace.rate().unwrap() - 7.0).abs() < 1e-9);
        let mut rates = vec![];
        for second in 2..10 {
            pace.accepted_at(start + Duration::from_secs(second));
            rates.push(pace.rate().unwrap());
        }
        assert_eq!(rates, [8.0, 9.0, 10.0, 11.0, 12.0, 12.0, 12.0, 12.0]);
    }

    #[test]
    fn the_rate_never_falls_below_the_minimum() {
        let pace = Pace::new("1/s".parse().unwrap());
        let start = Instant::now();
        for second in 0..10 {
            pace.throttled_at(start + Duration::from_secs(second));
        }
        assert_eq!(pace.rate(), Some(MIN_RATE));
    }
}
