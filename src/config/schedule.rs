//! `TIME_ZONE`, `CATCH_UP` and `SEND_EVERY`: how `bulletin schedule --at`
//! reads a time without an offset, how late `bulletin serve` may still run
//! a scheduled send it missed (the machine was off) before it skips it,
//! and the weekly rule it sends by ([`Weekly`]).

use std::time::Duration;

use super::weekly::Weekly;
use super::{ConfigError, Source, parse_with};

/// How late a missed scheduled send may still go: 12 hours.
pub const DEFAULT_CATCH_UP: Duration = Duration::from_secs(12 * 3600);

/// The scheduling settings.
#[derive(Debug, Clone)]
pub struct ScheduleSettings {
    /// `TIME_ZONE` (an IANA name such as `Europe/London`); defaults to the
    /// machine's.
    pub time_zone: jiff::tz::TimeZone,
    /// `CATCH_UP` (`12h`, `90m`); defaults to [`DEFAULT_CATCH_UP`].
    pub catch_up: Duration,
    /// `SEND_EVERY` (`Thursday 07:00`, in `time_zone`): the newest ready
    /// bulletin goes then each week; unset, none does.
    pub send_every: Option<Weekly>,
}

impl ScheduleSettings {
    pub fn from_source(source: &Source) -> Result<Self, ConfigError> {
        let zone = parse_with(source, "TIME_ZONE", |raw| jiff::tz::TimeZone::get(raw.trim()))?;
        let catch_up = parse_with(source, "CATCH_UP", |raw| humantime::parse_duration(raw.trim()))?;
        let send_every = parse_with(source, "SEND_EVERY", |raw| raw.parse::<Weekly>())?;
        Ok(Self {
            time_zone: zone.unwrap_or_else(jiff::tz::TimeZone::system),
            catch_up: catch_up.unwrap_or(DEFAULT_CATCH_UP),
            send_every,
        })
    }

    /// The zone's name, for messages (`Europe/London`, or the machine's).
    pub fn zone_name(&self) -> String {
        self.time_zone.iana_name().unwrap_or("the machine's time zone").to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_zone_and_a_catch_up_are_read_and_unset_ones_take_their_defaults() {
        let set = ScheduleSettings::from_source(&Source::from_pairs([
            ("TIME_ZONE", "Europe/London"),
            ("CATCH_UP", "90m"),
        ]))
        .unwrap();
        assert_eq!((set.zone_name().as_str(), set.catch_up), ("Europe/London", Duration::from_secs(5400)));
        let unset = ScheduleSettings::from_source(&Source::from_pairs([])).unwrap();
        assert_eq!(unset.catch_up, DEFAULT_CATCH_UP);
    }

    #[test]
    fn an_unknown_zone_or_a_bad_catch_up_is_rejected_naming_the_setting() {
        let zone = ScheduleSettings::from_source(&Source::from_pairs([("TIME_ZONE", "Mars/Olympus")]));
        assert!(zone.unwrap_err().to_string().contains("TIME_ZONE"));
        let late = ScheduleSettings::from_source(&Source::from_pairs([("CATCH_UP", "soon")]));
        assert!(late.unwrap_err().to_string().contains("CATCH_UP"));
        let every = ScheduleSettings::from_source(&Source::from_pairs([("SEND_EVERY", "Thursdays at 7")]));
        assert!(every.unwrap_err().to_string().contains("SEND_EVERY"));
    }

    #[test]
    fn a_weekly_rule_is_read_and_an_unset_one_is_none() {
        let set = ScheduleSettings::from_source(&Source::from_pairs([("SEND_EVERY", "thu 07:00")])).unwrap();
        assert_eq!(set.send_every.map(|w| w.to_string()).as_deref(), Some("Thursday 07:00"));
        let unset = ScheduleSettings::from_source(&Source::from_pairs([])).unwrap();
        assert_eq!(unset.send_every, None);
    }
}
