//! The sending rate: one limit for the whole run, checked at the moment each
//! message is handed to the relay, whichever connection carries it.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

/// How many messages may be submitted per period, or no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    Unlimited,
    Limited { count: NonZeroU32, period: Period },
}

/// The period a rate is counted over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Second,
    Minute,
    Hour,
}

impl Period {
    pub fn duration(self) -> Duration {
        match self {
            Self::Second => Duration::from_secs(1),
            Self::Minute => Duration::from_secs(60),
            Self::Hour => Duration::from_secs(3600),
        }
    }
}

/// The default when neither `--rate` nor `SMTP_RATE` says otherwise: slow
/// enough for any relay.
pub const DEFAULT_RATE: Rate = Rate::Limited { count: NonZeroU32::new(10).unwrap(), period: Period::Second };

impl Rate {
    /// Messages per second, or `None` when unlimited.
    pub fn per_second(self) -> Option<f64> {
        match self {
            Self::Unlimited => None,
            Self::Limited { count, period } => Some(f64::from(count.get()) / period.duration().as_secs_f64()),
        }
    }

    /// The burst allowed above the steady rate: a tenth of a second's worth
    /// of messages, at least one. Over any window of `w` seconds at most
    /// `rate × w + burst` messages are submitted; the burst lets the limiter
    /// catch up on timer lateness without falling behind the rate.
    pub fn burst(self) -> u32 {
        match self.per_second() {
            None => u32::MAX,
            Some(per_second) => ((per_second / 10.0).floor() as u32).max(1),
        }
    }
}

/// A rate that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a rate: write it as 14/s, 600/min, 5000/h or unlimited, a daily allowance such as 2000/day, or both: 14/s,2000/day"
)]
pub struct BadRate(String);

/// `--rate` or `SMTP_RATE` as written: a pace ([`Rate`]), a daily
/// allowance (`2000/day`: at most that many messages handed over in any
/// 24 hours, counted across runs and campaigns), or both, comma-separated
/// (`14/s,2000/day`). Each part given on the command line wins over the
/// same part in the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateLimit {
    pub pace: Option<Rate>,
    pub per_day: Option<NonZeroU32>,
}

impl RateLimit {
    /// This, with the parts it leaves out taken from `fallback`.
    pub fn or(self, fallback: Self) -> Self {
        Self { pace: self.pace.or(fallback.pace), per_day: self.per_day.or(fallback.per_day) }
    }
}

impl From<Rate> for RateLimit {
    fn from(pace: Rate) -> Self {
        Self { pace: Some(pace), per_day: None }
    }
}

impl FromStr for RateLimit {
    type Err = BadRate;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadRate(s.to_owned());
        let mut limit = Self::default();
        for part in s.split(',') {
            let lower = part.trim().to_ascii_lowercase();
            match lower.split_once('/') {
                Some((count, "day" | "d")) => {
                    let count: NonZeroU32 = count.trim().parse().map_err(|_| bad())?;
                    if limit.per_day.replace(count).is_some() {
                        return Err(bad());
                    }
                }
                _ => {
                    if limit.pace.replace(part.parse().map_err(|_| bad())?).is_some() {
                        return Err(bad());
                    }
                }
            }
        }
        Ok(limit)
    }
}

impl FromStr for Rate {
    type Err = BadRate;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim().to_ascii_lowercase();
        if text == "unlimited" || text == "none" {
            return Ok(Self::Unlimited);
        }
        let bad = || BadRate(s.to_owned());
        let (count, unit) = text.split_once('/').ok_or_else(bad)?;
        let count: NonZeroU32 = count.trim().parse().map_err(|_| bad())?;
        let period = match unit.trim() {
            "s" | "sec" | "second" => Period::Second,
            "m" | "min" | "minute" => Period::Minute,
            "h" | "hour" => Period::Hour,
            _ => return Err(bad()),
        };
        if count.get() > 1_000_000 {
            return Err(bad());
        }
        Ok(Self::Limited { count, period })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unlimited => f.write_str("unlimited"),
            Self::Limited { count, period } => {
                let unit = match period {
                    Period::Second => "s",
                    Period::Minute => "min",
                    Period::Hour => "h",
                };
                write!(f, "{count}/{unit}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_read_in_the_documented_forms() {
        assert_eq!("14/s".parse::<Rate>().unwrap().per_second(), Some(14.0));
        assert_eq!("600/min".parse::<Rate>().unwrap().per_second(), Some(10.0));
        assert_eq!("3600/h".parse::<Rate>().unwrap().per_second(), Some(1.0));
        assert_eq!(" Unlimited ".parse::<Rate>().unwrap(), Rate::Unlimited);
        assert_eq!("600/min".parse::<Rate>().unwrap().to_string(), "600/min");
    }

    #[test]
    fn nonsense_rates_are_refused() {
        for bad in ["", "fast", "0/s", "-3/s", "10/day", "10", "1.5/s", "9999999/s"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_daily_allowance_is_read_alone_or_beside_a_pace() {
        let both: RateLimit = "14/s, 2000/day".parse().unwrap();
        assert_eq!(both.pace, Some("14/s".parse().unwrap()));
        assert_eq!(both.per_day.map(NonZeroU32::get), Some(2000));
        let daily: RateLimit = "2000/day".parse().unwrap();
        assert_eq!((daily.pace, daily.per_day.map(NonZeroU32::get)), (None, Some(2000)));
        let fallback: RateLimit = "5/s,100/day".parse().unwrap();
        assert_eq!(daily.or(fallback).pace, Some("5/s".parse().unwrap()));
        for bad in ["0/day", "10/day,20/day", "1/s,2/s", "x/day", "10/day,"] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_burst_is_a_tenth_of_a_second_and_at_least_one() {
        assert_eq!("200/s".parse::<Rate>().unwrap().burst(), 20);
        assert_eq!("10/s".parse::<Rate>().unwrap().burst(), 1);
        assert_eq!("600/min".parse::<Rate>().unwrap().burst(), 1);
    }
}
