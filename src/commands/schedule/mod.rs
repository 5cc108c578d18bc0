//! `bulletin schedule`: a send of a bulletin at a set time, stored in the
//! state folder for `bulletin serve` to run ([`runner`]); `schedule list`
//! and `schedule cancel ID`. The time is read in `TIME_ZONE` (or as RFC
//! 3339 with its own offset) and stored in UTC.

mod ready;
pub(super) mod runner;
mod weekly;

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{Context, bail};

use super::Outcome;
use crate::config::{ScheduleSettings, Source};
use crate::domain::Timestamp;
use crate::journal::schedules::{Cancel, ScheduleState, Schedules};
use crate::report::printable;

/// Options of `bulletin schedule`.
#[derive(Debug, Clone)]
pub enum ScheduleOptions {
    /// `schedule BULLETIN --at TIME`.
    Add { bulletin: PathBuf, at: String, state_dir: PathBuf },
    /// `schedule list`; with `SEND_EVERY`, the next weekly send and the
    /// bulletin of `content` it would send now.
    List { state_dir: PathBuf, content: PathBuf },
    /// `schedule cancel ID`.
    Cancel { id: i64, state_dir: PathBuf },
}

pub(super) fn run(options: &ScheduleOptions, env: &Source, now: SystemTime) -> anyhow::Result<Outcome> {
    let settings = ScheduleSettings::from_source(env)?;
    let now = Timestamp::from(now);
    match options {
        ScheduleOptions::Add { bulletin, at, state_dir } => add(bulletin, at, state_dir, &settings, now),
        ScheduleOptions::List { state_dir, content } => {
            let welcome = crate::config::Welcome::from_source(env).unwrap_or(crate::config::Welcome::Off);
            list(state_dir, content, &settings, &welcome, now)
        }
        ScheduleOptions::Cancel { id, state_dir } => cancel(*id, state_dir, now),
    }
}

fn add(
    bulletin: &std::path::Path,
    at: &str,
    state_dir: &std::path::Path,
    settings: &ScheduleSettings,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let loaded = crate::content::Bulletin::load(bulletin)?;
    if loaded.draft {
        bail!(
            "{} is a draft (`draft = true` in its front matter): take that line out before scheduling it",
            printable(&bulletin.display().to_string())
        );
    }
    let due = due_time(at, &settings.time_zone)?;
    if due <= now {
        bail!(
            "{} ({due}) is not in the future: a scheduled send must be later than now ({now})",
            local(due, settings)
        );
    }
    // Stored absolute: `serve` may run from another folder.
    let path = std::fs::canonicalize(bulletin)
        .with_context(|| format!("cannot find {}", printable(&bulletin.display().to_string())))?;
    let id = Schedules::open(state_dir)?.add(&path, due, now)?;
    println!(
        "Scheduled #{id}: {} at {} ({due} UTC).\n`bulletin serve` sends it then, as `bulletin send --yes` \
         would; `bulletin schedule cancel {id}` cancels it.",
        printable(&path.display().to_string()),
        local(due, settings)
    );
    Ok(Outcome::Done)
}

fn list(
    state_dir: &std::path::Path,
    content: &std::path::Path,
    settings: &ScheduleSettings,
    welcome: &crate::config::Welcome,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let all = Schedules::open(state_dir)?.all()?;
    if all.is_empty() && settings.send_every.is_none() {
        println!("Nothing is scheduled.");
    }
    for s in all {
        let why = if s.why.is_empty() { String::new() } else { format!("\n     {}", printable(&s.why)) };
        let what = match &s.occurrence {
            Some(_) if s.bulletin.as_os_str().is_empty() => "weekly (SEND_EVERY)".to_owned(),
            Some(_) => format!("weekly (SEND_EVERY): {}", printable(&s.bulletin.display().to_string())),
            None => printable(&s.bulletin.display().to_string()).into_owned(),
        };
        println!(
            "#{:<3} {:<9} {} ({} UTC)  {what}{why}",
            s.id,
            s.state.as_str(),
            local(s.due, settings),
            s.due
        );
    }
    if let Some(rule) = &settings.send_every {
        let next = rule.next(now, &settings.time_zone);
        let picked = match ready::ready(content, state_dir, next.date(), now, welcome)? {
            ready::Ready::Bulletin { path, resumes } => format!(
                "would send {}{} (the newest ready bulletin, as of now)",
                printable(&path.display().to_string()),
                if resumes { ", resuming its campaign" } else { "" }
            ),
            ready::Ready::Nothing(why) => format!("would send nothing as of now: {}", printable(&why)),
        };
        println!(
            "Next weekly send (SEND_EVERY, every {rule}): {} ({} UTC)\n     {picked}",
            local(next.at, settings),
            next.at
        );
    }
    Ok(Outcome::Done)
}

fn cancel(id: i64, state_dir: &std::path::Path, now: Timestamp) -> anyhow::Result<Outcome> {
    match Schedules::open(state_dir)?.cancel(id, now)? {
        Cancel::Cancelled => println!("Cancelled #{id}."),
        Cancel::NotFound => bail!("there is no scheduled send #{id} (see `bulletin schedule list`)"),
        Cancel::Not(ScheduleState::Claimed) => bail!(
            "#{id} cannot be cancelled: `bulletin serve` is sending it now. Stop that `serve` to stop the \
             send; the journal keeps who has it, and the next `serve` finishes it."
        ),
        Cancel::Not(state) => bail!("#{id} cannot be cancelled: it is {}", state.as_str()),
    }
    Ok(Outcome::Done)
}

/// `2026-12-10 07:00` in `zone`, or RFC 3339 with its own offset.
fn due_time(text: &str, zone: &jiff::tz::TimeZone) -> anyhow::Result<Timestamp> {
    let text = text.trim();
    let instant = match text.parse::<jiff::Timestamp>() {
        Ok(instant) => instant,
        Err(_) => {
            let civil: jiff::civil::DateTime = text.parse().with_context(|| {
                format!("--at {text:?} is not a time: write it as 2026-12-10 07:00, or RFC 3339")
            })?;
            zone.to_zoned_datetime(civil)?.timestamp()
        }
    };
    Ok(Timestamp::from_unix(u64::try_from(instant.as_second()).unwrap_or(0)))
}

/// `2026-12-10 07:00 GMT`: the time in `TIME_ZONE`.
fn local(at: Timestamp, settings: &ScheduleSettings) -> String {
    match jiff::Timestamp::try_from(at.as_system_time()) {
        Ok(instant) => jiff::ZonedDateTime::new(instant, settings.time_zone.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string(),
        Err(_) => at.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_without_offset_is_read_in_the_zone_and_rfc_3339_keeps_its_own() {
        let london = jiff::tz::TimeZone::get("Europe/London").unwrap();
        assert_eq!(due_time("2026-12-10 07:00", &london).unwrap().to_string(), "2026-12-10T07:00:00Z");
        assert_eq!(due_time("2026-07-10 07:00", &london).unwrap().to_string(), "2026-07-10T06:00:00Z");
        assert_eq!(
            due_time("2026-07-10T07:00:00+02:00", &london).unwrap().to_string(),
            "2026-07-10T05:00:00Z"
        );
        assert!(due_time("next tuesday", &london).unwrap_err().to_string().contains("2026-12-10 07:00"));
    }
}
