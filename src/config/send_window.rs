//! `SEND_WINDOW`: the hours of the week in which a live send may hand
//! messages to the relay (`Mon-Fri 08:00-18:00, Sat 09:00-12:00`), in
//! `TIME_ZONE`'s local time, so 08:00 stays 08:00 across a change of
//! daylight-saving time. Outside them a send pauses, and resumes at the
//! next opening. Unset: always open.
//!
//! The grammar, case-insensitive: spans separated by `;`, or by a comma
//! after hours. A span is days then hours: days are names (`Mon` or
//! `Monday`), ranges (`Mon-Fri`, `Fri-Mon` wraps over the weekend) and lists
//! (`Sat,Sun`); hours are `HH:MM-HH:MM` on the 24-hour clock, the end not
//! included (`24:00` is the end of the day). Days without hours are the
//! whole day; hours without days are every day; hours after hours keep
//! the same days (`Mon 08:00-12:00, 13:00-17:00`). Hours whose end is at or
//! before their start run past midnight into the next day
//! (`Fri 22:00-02:00` is Friday 22:00 to Saturday 02:00).

use std::fmt;

use jiff::civil::{Date, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};

use super::{ConfigError, ScheduleSettings, Source, parse_with};
use crate::domain::Timestamp;

/// Minutes in a day: the end of the last hour.
const DAY: u16 = 24 * 60;

/// Days ahead [`SendWindow::next_opening`] looks: a week, and a day either
/// side for a span past midnight and a change of clocks.
const LOOK_AHEAD_DAYS: i64 = 9;

/// `SEND_WINDOW`: when a live send may hand messages over.
#[derive(Debug, Clone)]
pub struct SendWindow {
    spans: Vec<Span>,
    /// As written (spaces collapsed), for messages.
    text: String,
    zone: TimeZone,
}

/// Some days' hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    /// The days the hours start on, Monday first.
    days: [bool; 7],
    /// Minutes after midnight: the first open, and the first closed after
    /// it (on the next day when not after `from`).
    from: u16,
    to: u16,
}

/// What is wrong with a `SEND_WINDOW` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error(
        "{0:?} is neither a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun, or a range such as Mon-Fri) nor hours such as 08:00-18:00"
    )]
    Word(String),
    #[error("{0:?} is not hours such as 08:00-18:00 (24-hour clock, HH:MM-HH:MM)")]
    Hours(String),
    #[error("the hours {0} start and end at the same time; for the whole day, leave the hours out")]
    Empty(String),
    #[error(
        "there are days or hours missing around a separator; write spans such as Mon-Fri 08:00-18:00; Sat 09:00-12:00"
    )]
    Separator,
}

/// `SEND_WINDOW` with `TIME_ZONE`: `None` when unset (always open).
pub fn send_window(source: &Source) -> Result<Option<SendWindow>, ConfigError> {
    let Some(spans) = parse_with(source, "SEND_WINDOW", |raw| SendWindow::parse(raw, TimeZone::UTC))? else {
        return Ok(None);
    };
    let zone = ScheduleSettings::from_source(source)?.time_zone;
    Ok(Some(SendWindow { zone, ..spans }))
}

impl SendWindow {
    /// Reads `text` (see the module's grammar) as hours in `zone`.
    pub fn parse(text: &str, zone: TimeZone) -> Result<Self, WindowError> {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        // `Mon - Fri` is `Mon-Fri`.
        let joined = text.replace(" -", "-").replace("- ", "-");
        let mut spans = Vec::new();
        for group in joined.split(';') {
            let mut days: Option<[bool; 7]> = None;
            let mut last: Option<[bool; 7]> = None;
            let mut any = false;
            for word in group.split([' ', ',']).filter(|w| !w.is_empty()) {
                any = true;
                if word.contains(':') {
                    let (from, to) = hours(word)?;
                    let days = days.take().or(last).unwrap_or([true; 7]);
                    spans.push(Span { days, from, to });
                    last = Some(days);
                } else {
                    let named = day_set(word)?;
                    let set = days.get_or_insert([false; 7]);
                    for (day, on) in set.iter_mut().zip(named) {
                        *day |= on;
                    }
                }
            }
            if let Some(days) = days {
                spans.push(Span { days, from: 0, to: DAY });
            }
            if !any {
                return Err(WindowError::Separator);
            }
        }
        Ok(Self { spans, text, zone })
    }

    /// Whether a message may be handed over at `at`.
    pub fn is_open(&self, at: Timestamp) -> bool {
        let local = self.zone.to_datetime(instant(at));
        let day = usize::from(local.weekday().to_monday_zero_offset().unsigned_abs());
        let yesterday = (day + 6) % 7;
        let minute = u16::from(local.hour().unsigned_abs()) * 60 + u16::from(local.minute().unsigned_abs());
        self.spans.iter().any(|span| {
            if span.from < span.to {
                span.days[day] && (span.from..span.to).contains(&minute)
            } else {
                (span.days[day] && minute >= span.from) || (span.days[yesterday] && minute < span.to)
            }
        })
    }

    /// The first moment, from `at` on, that the window is open: `at` itself
    /// when it is open. `None` only if no span falls on a time that exists
    /// in the next nine days.
    pub fn next_opening(&self, at: Timestamp) -> Option<Timestamp> {
        if self.is_open(at) {
            return Some(at);
        }
        let today = self.zone.to_datetime(instant(at)).date();
        (0..LOOK_AHEAD_DAYS)
            .filter_map(|ahead| today.checked_add(jiff::Span::new().days(ahead)).ok())
            .flat_map(|date| self.starts_on(date))
            .filter(|start| *start >= at && self.is_open(*start))
            .min()
    }

    /// When the spans that start on `date` open, as instants; a start in
    /// a gap of the clocks (01:30 on the day they go forward) is the
    /// moment after the gap.
    fn starts_on(&self, date: Date) -> Vec<Timestamp> {
        let day = usize::from(date.weekday().to_monday_zero_offset().unsigned_abs());
        self.spans
            .iter()
            .filter(|span| span.days[day])
            .filter_map(|span| {
                let time = Time::new((span.from / 60) as i8, (span.from % 60) as i8, 0, 0).ok()?;
                let start = date.to_datetime(time);
                let instant = match self.zone.to_ambiguous_timestamp(start).offset() {
                    // The start does not happen: the window opens as the
                    // clocks go forward.
                    AmbiguousOffset::Gap { after, .. } => {
                        self.zone.following(after.to_timestamp(start).ok()?).next()?.timestamp()
                    }
                    _ => self.zone.to_zoned_datetime(start).ok()?.timestamp(),
                };
                Some(Timestamp::from_unix(u64::try_from(instant.as_second()).ok()?))
            })
            .collect()
    }

    /// `Mon 2026-12-14 08:00 (Europe/London)`: `at` as the window reads it.
    pub fn local(&self, at: Timestamp) -> String {
        let zoned = jiff::ZonedDateTime::new(instant(at), self.zone.clone());
        let zone = self.zone.iana_name().map_or_else(|| zoned.strftime("%Z").to_string(), str::to_owned);
        format!("{} ({zone})", zoned.strftime("%a %Y-%m-%d %H:%M"))
    }
}

/// `SEND_WINDOW` as written.
impl fmt::Display for SendWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn instant(at: Timestamp) -> jiff::Timestamp {
    let seconds = i64::try_from(at.unix_seconds()).unwrap_or(i64::MAX);
    jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::MAX)
}

const DAY_NAMES: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// `Mon`, `Monday`, `Tues`: a day's index, Monday 0.
fn day(word: &str) -> Option<usize> {
    let word = word.to_ascii_lowercase();
    (word.len() >= 3).then(|| DAY_NAMES.iter().position(|name| name.starts_with(&word)))?
}

/// `Mon`, or `Mon-Fri` (`Fri-Mon` wraps round the weekend).
fn day_set(word: &str) -> Result<[bool; 7], WindowError> {
    let unknown = || WindowError::Word(word.to_owned());
    let (first, last) = match word.split_once('-') {
        Some((first, last)) => (day(first).ok_or_else(unknown)?, day(last).ok_or_else(unknown)?),
        None => {
            let one = day(word).ok_or_else(unknown)?;
            (one, one)
        }
    };
    let mut set = [false; 7];
    let mut at = first;
    loop {
        set[at] = true;
        if at == last {
            return Ok(set);
        }
        at = (at + 1) % 7;
    }
}

/// `08:00-18:00`: minutes after midnight of the start and the end.
fn hours(word: &str) -> Result<(u16, u16), WindowError> {
    let bad = || WindowError::Hours(word.to_owned());
    let (from, to) = word.split_once('-').ok_or_else(bad)?;
    let (from, to) = (minutes(from).ok_or_else(bad)?, minutes(to).ok_or_else(bad)?);
    if from == DAY {
        return Err(bad());
    }
    if from == to {
        return Err(WindowError::Empty(word.to_owned()));
    }
    Ok((from, to))
}

/// `08:00` → 480; `24:00` → the end of the day.
fn minutes(text: &str) -> Option<u16> {
    let (hour, minute) = text.split_once(':')?;
    let digits =
        |s: &str, most: usize| !s.is_empty() && s.len() <= most && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hour, 2) || minute.len() != 2 || !digits(minute, 2) {
        return None;
    }
    let (hour, minute): (u16, u16) = (hour.parse().ok()?, minute.parse().ok()?);
    match (hour, minute) {
        (24, 0) => Some(DAY),
        (0..=23, 0..=59) => Some(hour * 60 + minute),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn london(text: &str) -> SendWindow {
        SendWindow::parse(text, TimeZone::get("Europe/London").unwrap()).unwrap()
    }

    /// `2026-12-11 17:59` in London, as an instant.
    fn at(local: &str) -> Timestamp {
        let civil: jiff::civil::DateTime = local.parse().unwrap();
        let zoned = TimeZone::get("Europe/London").unwrap().to_zoned_datetime(civil).unwrap();
        Timestamp::from_unix(zoned.timestamp().as_second() as u64)
    }

    fn next(window: &SendWindow, local: &str) -> String {
        window.local(window.next_opening(at(local)).unwrap())
    }

    #[test]
    fn days_ranges_lists_and_several_spans_are_read() {
        let window = london("mon-FRI 08:00-18:00, Sat 09:00-12:00; Sunday");
        assert_eq!(
            window.spans,
            [
                Span { days: [true, true, true, true, true, false, false], from: 480, to: 1080 },
                Span { days: [false, false, false, false, false, true, false], from: 540, to: 720 },
                Span { days: [false, false, false, false, false, false, true], from: 0, to: DAY },
            ]
        );
        let weekend = london("Sat,Sun");
        assert_eq!(
            weekend.spans,
            [Span { days: [false, false, false, false, false, true, true], from: 0, to: DAY }]
        );
        assert_eq!(london("Sat , Sun").spans, weekend.spans);
        assert_eq!(london("Fri - Mon").spans[0].days, [true, false, false, false, true, true, true]);
        let split = london("Mon 08:00-12:00, 13:00-17:00");
        assert_eq!(split.spans.len(), 2);
        assert_eq!(split.spans[1].days, split.spans[0].days);
        assert_eq!(london("9:30-24:00").spans, [Span { days: [true; 7], from: 570, to: DAY }]);
        assert_eq!(london("  Mon-Fri   08:00-18:00 ").to_string(), "Mon-Fri 08:00-18:00");
    }

    #[test]
    fn a_word_that_is_not_a_day_or_hours_is_refused_naming_it() {
        let zone = || TimeZone::UTC;
        for (text, error) in [
            ("Mon-Fry 08:00-18:00", WindowError::Word("Mon-Fry".to_owned())),
            ("Mo 08:00-18:00", WindowError::Word("Mo".to_owned())),
            ("Mon 8am-6pm", WindowError::Word("8am-6pm".to_owned())),
            ("Mon 08:00-25:00", WindowError::Hours("08:00-25:00".to_owned())),
            ("Mon 08:00", WindowError::Hours("08:00".to_owned())),
            ("Mon 08:0-18:00", WindowError::Hours("08:0-18:00".to_owned())),
            ("Mon 24:00-08:00", WindowError::Hours("24:00-08:00".to_owned())),
            ("Mon 08:00-08:00", WindowError::Empty("08:00-08:00".to_owned())),
            ("Mon 00:00-24:00; ", WindowError::Separator),
        ] {
            assert_eq!(SendWindow::parse(text, zone()).unwrap_err(), error, "{text}");
        }
    }

    #[test]
    fn a_bad_send_window_is_refused_naming_the_setting_and_an_unset_one_is_always_open() {
        let error = send_window(&Source::from_pairs([("SEND_WINDOW", "weekdays")])).unwrap_err().to_string();
        assert!(error.contains("SEND_WINDOW") && error.contains("\"weekdays\""), "{error}");
        assert!(send_window(&Source::from_pairs([])).unwrap().is_none());
        let window = send_window(&Source::from_pairs([
            ("SEND_WINDOW", "Mon-Fri 08:00-18:00"),
            ("TIME_ZONE", "Europe/London"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(window.local(at("2026-12-14 08:00")), "Mon 2026-12-14 08:00 (Europe/London)");
    }

    #[test]
    fn the_window_is_open_from_its_start_until_just_before_its_end() {
        let window = london("Mon-Fri 08:00-18:00");
        let open = |local| window.is_open(at(local));
        // 2026-12-11 is a Friday.
        assert!(!open("2026-12-11 07:59:59"));
        assert!(open("2026-12-11 08:00"));
        assert!(open("2026-12-11 17:59:59"));
        assert!(!open("2026-12-11 18:00"));
        assert!(!open("2026-12-12 12:00"), "Saturday");
    }

    #[test]
    fn after_friday_closing_it_next_opens_on_monday_morning() {
        let window = london("Mon-Fri 08:00-18:00");
        assert_eq!(next(&window, "2026-12-11 18:00"), "Mon 2026-12-14 08:00 (Europe/London)");
        assert_eq!(next(&window, "2026-12-13 23:59"), "Mon 2026-12-14 08:00 (Europe/London)");
        assert_eq!(next(&window, "2026-12-14 07:00"), "Mon 2026-12-14 08:00 (Europe/London)");
        assert_eq!(next(&window, "2026-12-14 09:15"), "Mon 2026-12-14 09:15 (Europe/London)", "open: now");
        let weekend = london("Sat,Sun");
        assert_eq!(next(&weekend, "2026-12-14 07:00"), "Sat 2026-12-19 00:00 (Europe/London)");
    }

    #[test]
    fn hours_past_midnight_run_into_the_next_day() {
        let window = london("Fri 22:00-02:00");
        assert!(!window.is_open(at("2026-12-11 21:59")));
        assert!(window.is_open(at("2026-12-11 23:00")));
        assert!(window.is_open(at("2026-12-12 01:59")), "Saturday, early");
        assert!(!window.is_open(at("2026-12-12 02:00")));
        assert!(!window.is_open(at("2026-12-10 01:00")), "Thursday, early: Wednesday has no span");
        assert_eq!(next(&window, "2026-12-12 02:00"), "Fri 2026-12-18 22:00 (Europe/London)");
    }

    #[test]
    fn local_hours_stay_local_across_a_change_of_the_clocks() {
        let window = london("Mon-Fri 08:00-18:00");
        // London goes from GMT to BST on Sunday 2026-03-29: Friday's 08:00 is
        // 08:00 GMT, Monday's is 07:00 UTC.
        assert_eq!(window.next_opening(at("2026-03-27 18:00")).unwrap().to_string(), "2026-03-30T07:00:00Z");
        assert_eq!(window.next_opening(at("2026-03-26 18:00")).unwrap().to_string(), "2026-03-27T08:00:00Z");
        assert!(window.is_open(Timestamp::parse("2026-03-30T07:00:00Z").unwrap()));
        assert!(!window.is_open(Timestamp::parse("2026-03-30T06:59:59Z").unwrap()), "07:59 BST");
        // And back on Sunday 2026-10-25.
        assert_eq!(window.next_opening(at("2026-10-23 18:00")).unwrap().to_string(), "2026-10-26T08:00:00Z");
    }

    #[test]
    fn a_start_the_clocks_skip_opens_when_they_have_gone_forward() {
        // 01:00-02:00 GMT on 2026-03-29 does not happen: 01:00 is 02:00 BST.
        let window = london("Sun 01:30-03:00");
        let opens = window.next_opening(at("2026-03-28 12:00")).unwrap();
        assert_eq!(opens.to_string(), "2026-03-29T01:00:00Z", "the moment they go forward");
        assert_eq!(window.local(opens), "Sun 2026-03-29 02:00 (Europe/London)");
    }
}
