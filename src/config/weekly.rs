//! `SEND_EVERY` (`Thursday 07:00`): the weekly rule `bulletin serve`
//! sends by, and its occurrences in `TIME_ZONE`.
//!
//! The time is wall-clock time in the zone: `07:00` stays 07:00 local
//! across daylight-saving changes (07:00 GMT in winter, 07:00 BST = 06:00
//! UTC in summer in `Europe/London`). On the rare day the time does not
//! exist or exists twice, it is resolved as jiff's
//! [`Disambiguation::Compatible`](jiff::tz::Disambiguation::Compatible)
//! does, and as RFC 5545 (iCalendar) says:
//! - a time in the spring-forward gap (01:30 on the last Sunday of March
//!   in London, when clocks jump from 01:00 to 02:00) runs as if the clock
//!   had not jumped: shifted forward by the gap's length (01:30 GMT, which
//!   the clocks show as 02:30 BST);
//! - a time in the fall-back fold (01:30 on the last Sunday of October in
//!   London, which happens twice) runs the first time (01:30 BST, 00:30
//!   UTC), once.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;

use crate::domain::Timestamp;

/// A weekly time: a day of the week and a time of day, in `TIME_ZONE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weekly {
    day: Weekday,
    time: Time,
}

/// One occurrence of a [`Weekly`] rule: the local time it names and the
/// instant it runs at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// As the zone's clocks name it (`2026-12-10T07:00`), even when the
    /// instant is shifted by a gap.
    pub local: DateTime,
    pub at: Timestamp,
}

impl Occurrence {
    /// The occurrence's unique name, its local date and time
    /// (`2026-12-10T07:00`): the key that makes it run once.
    pub fn key(&self) -> String {
        self.local.strftime("%Y-%m-%dT%H:%M").to_string()
    }

    /// Its local date.
    pub fn date(&self) -> Date {
        self.local.date()
    }

    /// `Thursday 10 December 2026 07:00`, for people.
    pub fn describe(&self) -> String {
        self.local.strftime("%A %-d %B %Y %H:%M").to_string()
    }
}

/// Why a `SEND_EVERY` value is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("write a day of the week and a 24-hour time, such as \"Thursday 07:00\" or \"thu 7:00\"")]
pub struct NotWeekly;

impl FromStr for Weekly {
    type Err = NotWeekly;

    /// `Thursday 07:00`, `thu 7:00`, `THURSDAY 19:30`: the day in full or
    /// its first three letters, any case; then `HH:MM`, 24-hour.
    fn from_str(text: &str) -> Result<Self, NotWeekly> {
        let mut words = text.split_whitespace();
        let (Some(day), Some(time), None) = (words.next(), words.next(), words.next()) else {
            return Err(NotWeekly);
        };
        let day = weekday(day).ok_or(NotWeekly)?;
        let (hours, minutes) = time.split_once(':').ok_or(NotWeekly)?;
        let digits = |s: &str, max: i8| -> Option<i8> {
            let ok = (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
            ok.then(|| s.parse().ok()).flatten().filter(|n| *n <= max)
        };
        let (Some(hours), Some(minutes), 2) = (digits(hours, 23), digits(minutes, 59), minutes.len()) else {
            return Err(NotWeekly);
        };
        let time = Time::new(hours, minutes, 0, 0).map_err(|_| NotWeekly)?;
        Ok(Self { day, time })
    }
}

fn weekday(word: &str) -> Option<Weekday> {
    const DAYS: [(&str, Weekday); 7] = [
        ("monday", Weekday::Monday),
        ("tuesday", Weekday::Tuesday),
        ("wednesday", Weekday::Wednesday),
        ("thursday", Weekday::Thursday),
        ("friday", Weekday::Friday),
        ("saturday", Weekday::Saturday),
        ("sunday", Weekday::Sunday),
    ];
    let word = word.to_ascii_lowercase();
    DAYS.iter().find(|(name, _)| *name == word || name[..3] == word).map(|(_, day)| *day)
}

impl fmt::Display for Weekly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = format!("{:?}", self.day);
        write!(f, "{day} {}", self.time.strftime("%H:%M"))
    }
}

impl Weekly {
    /// `Thursday`.
    pub fn day_name(&self) -> String {
        format!("{:?}", self.day)
    }

    /// `07:00`.
    pub fn time_text(&self) -> String {
        self.time.strftime("%H:%M").to_string()
    }

    /// The latest occurrence at or before `now`.
    pub fn latest(&self, now: Timestamp, zone: &TimeZone) -> Occurrence {
        let mut date = local_date(now, zone);
        // Today's may still be ahead, or not yet (a gap shifts it later):
        // at most eight days back finds one.
        for _ in 0..=8 {
            if date.weekday() == self.day {
                let occurrence = at(date.to_datetime(self.time), zone);
                if occurrence.at <= now {
                    return occurrence;
                }
            }
            date = date.yesterday().unwrap_or(date);
        }
        at(date.to_datetime(self.time), zone)
    }

    /// The first occurrence after `now`.
    pub fn next(&self, now: Timestamp, zone: &TimeZone) -> Occurrence {
        let mut date = local_date(now, zone).yesterday().unwrap_or_else(|_| local_date(now, zone));
        for _ in 0..=9 {
            if date.weekday() == self.day {
                let occurrence = at(date.to_datetime(self.time), zone);
                if occurrence.at > now {
                    return occurrence;
                }
            }
            date = date.tomorrow().unwrap_or(date);
        }
        at(date.to_datetime(self.time), zone)
    }

    /// When staff are reminded of `occurrence` if no bulletin is ready:
    /// the same clock time the day before (24 hours ahead, less an hour or
    /// more one when the clocks change in between), resolved as the
    /// occurrence itself is.
    pub fn reminder(occurrence: &Occurrence, zone: &TimeZone) -> Timestamp {
        let day_before = occurrence.date().yesterday().unwrap_or(occurrence.date());
        at(day_before.to_datetime(occurrence.local.time()), zone).at
    }
}

/// The date `now` is in `zone`.
fn local_date(now: Timestamp, zone: &TimeZone) -> Date {
    let seconds = i64::try_from(now.unix_seconds()).unwrap_or(i64::MAX);
    let instant = jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    zone.to_datetime(instant).date()
}

/// `local` in `zone`, a gap or a fold resolved as the module says.
fn at(local: DateTime, zone: &TimeZone) -> Occurrence {
    let instant = zone.to_ambiguous_timestamp(local).compatible().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    Occurrence { local, at: Timestamp::from_unix(u64::try_from(instant.as_second()).unwrap_or(0)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn london() -> TimeZone {
        TimeZone::get("Europe/London").unwrap()
    }

    fn utc(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn rule(text: &str) -> Weekly {
        text.parse().unwrap()
    }

    #[test]
    fn a_day_in_full_or_in_three_letters_of_any_case_and_a_24_hour_time_are_read() {
        assert_eq!(rule("Thursday 07:00").to_string(), "Thursday 07:00");
        assert_eq!(rule("thu 7:00").to_string(), "Thursday 07:00");
        assert_eq!(rule("  SUNDAY   23:59 ").to_string(), "Sunday 23:59");
        assert_eq!(rule("Mon 00:00").to_string(), "Monday 00:00");
        for bad in ["", "Thursday", "07:00", "Thursdays 07:00", "Th 07:00", "Thursday 7am", "Thursday 24:00"]
        {
            assert_eq!(bad.parse::<Weekly>(), Err(NotWeekly), "{bad:?}");
        }
        for bad in
            ["Thursday 07:60", "Thursday 07:0", "Thursday 007:00", "Thursday 07:00 weekly", "Thu -1:00"]
        {
            assert_eq!(bad.parse::<Weekly>(), Err(NotWeekly), "{bad:?}");
        }
    }

    #[test]
    fn thursday_at_seven_in_london_is_seven_gmt_in_december_and_six_utc_in_july() {
        let every = rule("Thursday 07:00");
        let december = every.next(utc("2026-12-08T12:00:00Z"), &london());
        assert_eq!((december.key().as_str(), december.at), ("2026-12-10T07:00", utc("2026-12-10T07:00:00Z")));
        let july = every.next(utc("2026-07-07T12:00:00Z"), &london());
        assert_eq!((july.key().as_str(), july.at), ("2026-07-09T07:00", utc("2026-07-09T06:00:00Z")));
        assert_eq!(july.describe(), "Thursday 9 July 2026 07:00");
    }

    #[test]
    fn the_latest_occurrence_is_the_one_at_or_before_now_and_the_next_the_one_after() {
        let every = rule("Thursday 07:00");
        let zone = london();
        let at_it = utc("2026-12-10T07:00:00Z");
        assert_eq!(every.latest(at_it, &zone).at, at_it);
        assert_eq!(every.next(at_it, &zone).at, utc("2026-12-17T07:00:00Z"));
        let just_before = utc("2026-12-10T06:59:59Z");
        assert_eq!(every.latest(just_before, &zone).at, utc("2026-12-03T07:00:00Z"));
        assert_eq!(every.next(just_before, &zone).at, at_it);
    }

    #[test]
    fn a_time_in_the_spring_forward_gap_runs_shifted_forward_by_the_gap() {
        // 29 March 2026, the last Sunday of March: London's clocks go from
        // 01:00 GMT to 02:00 BST, so 01:30 does not exist that day.
        let every = rule("Sunday 01:30");
        let gap = every.next(utc("2026-03-28T12:00:00Z"), &london());
        assert_eq!(gap.key(), "2026-03-29T01:30");
        assert_eq!(gap.at, utc("2026-03-29T01:30:00Z"), "01:30 GMT, shown as 02:30 BST");
        // The week before and after: 01:30 GMT and 01:30 BST.
        assert_eq!(every.latest(utc("2026-03-29T01:29:59Z"), &london()).at, utc("2026-03-22T01:30:00Z"));
        assert_eq!(every.next(gap.at, &london()).at, utc("2026-04-05T00:30:00Z"));
    }

    #[test]
    fn a_time_in_the_fall_back_fold_runs_the_first_time_only() {
        // 25 October 2026, the last Sunday of October: London's clocks go
        // from 02:00 BST back to 01:00 GMT, so 01:30 happens twice.
        let every = rule("Sunday 01:30");
        let fold = every.next(utc("2026-10-24T12:00:00Z"), &london());
        assert_eq!((fold.key().as_str(), fold.at), ("2026-10-25T01:30", utc("2026-10-25T00:30:00Z")));
        // The second 01:30 (GMT) is not another occurrence.
        assert_eq!(every.latest(utc("2026-10-25T01:30:00Z"), &london()).key(), "2026-10-25T01:30");
        assert_eq!(every.next(utc("2026-10-25T01:30:00Z"), &london()).at, utc("2026-11-01T01:30:00Z"));
    }

    #[test]
    fn the_reminder_is_the_same_clock_time_the_day_before_across_a_change_of_the_clocks() {
        let every = rule("Sunday 07:00");
        let zone = london();
        // Sunday 29 March 2026 07:00 BST; the clocks changed at 01:00 GMT
        // that morning, so the Saturday's 07:00 GMT is 23 hours before.
        let after_change = every.next(utc("2026-03-27T12:00:00Z"), &zone);
        assert_eq!(after_change.at, utc("2026-03-29T06:00:00Z"));
        assert_eq!(Weekly::reminder(&after_change, &zone), utc("2026-03-28T07:00:00Z"));
        let winter = every.next(utc("2026-12-01T12:00:00Z"), &zone);
        assert_eq!(Weekly::reminder(&winter, &zone), utc("2026-12-05T07:00:00Z"));
    }
}
