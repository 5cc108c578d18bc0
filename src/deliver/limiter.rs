//! The one rate limit of a send, checked at the moment each message is
//! handed over, whichever sender carries it (governor's GCRA, with the
//! burst [`Rate::burst`] allows).

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::domain::Rate;

/// A limiter for `rate`, or `None` when unlimited.
pub fn limiter(rate: Rate) -> Option<DefaultDirectRateLimiter> {
    quota(rate).map(RateLimiter::direct)
}

/// The quota of `rate`: one message an interval, and [`Rate::burst`] at
/// once at most, however long the limiter went unused (a send paused
/// overnight by its window resumes at the rate, not in a rush).
fn quota(rate: Rate) -> Option<Quota> {
    let Rate::Limited { count, period } = rate else { return None };
    let interval = period.duration() / count.get();
    let burst = NonZeroU32::new(rate.burst()).expect("burst is at least one");
    Some(Quota::with_period(interval).expect("a rate has a period").allow_burst(burst))
}

/// A limiter for `per_second` messages a second (a fraction allowed), with
/// the same burst as [`Rate::burst`]: a tenth of a second's worth, at
/// least one.
pub fn limiter_at(per_second: f64) -> DefaultDirectRateLimiter {
    let interval = Duration::from_secs_f64(1.0 / per_second);
    let burst = NonZeroU32::new(((per_second / 10.0).floor() as u32).max(1)).expect("at least one");
    let quota = Quota::with_period(interval).expect("a rate above zero has a period").allow_burst(burst);
    RateLimiter::direct(quota)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limiter_admits_the_burst_then_refuses() {
        let limiter = limiter("100/s".parse::<Rate>().unwrap()).unwrap();
        let admitted = (0..50).filter(|_| limiter.check().is_ok()).count();
        assert_eq!(admitted, 10);
    }

    #[test]
    fn hours_unused_admit_no_more_than_the_burst_at_once() {
        let clock = governor::clock::FakeRelativeClock::default();
        let quota = quota("100/s".parse::<Rate>().unwrap()).unwrap();
        let limiter = RateLimiter::direct_with_clock(quota, clock.clone());
        clock.advance(Duration::from_secs(14 * 3600));
        let admitted = (0..50).filter(|_| limiter.check().is_ok()).count();
        assert_eq!(admitted, 10, "the burst of 100/s, a tenth of a second's worth, as after no wait at all");
        clock.advance(Duration::from_millis(10));
        assert!(limiter.check().is_ok(), "then one each hundredth of a second");
        assert!(limiter.check().is_err());
    }

    #[test]
    fn unlimited_has_no_limiter() {
        assert!(limiter(Rate::Unlimited).is_none());
    }
}
