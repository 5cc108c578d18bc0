//! The one rate limit of a send, checked at the moment each message is
//! handed over, whichever sender carries it (governor's GCRA, with the
//! burst [`Rate::burst`] allows).

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::domain::Rate;

/// A limiter for `rate`, or `None` when unlimited.
pub fn limiter(rate: Rate) -> Option<DefaultDirectRateLimiter> {
    let Rate::Limited { count, period } = rate else { return None };
    let interval = period.duration() / count.get();
    let burst = NonZeroU32::new(rate.burst()).expect("burst is at least one");
    let quota = Quota::with_period(interval).expect("a rate has a period").allow_burst(burst);
    Some(RateLimiter::direct(quota))
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
    fn unlimited_has_no_limiter() {
        assert!(limiter(Rate::Unlimited).is_none());
    }
}
