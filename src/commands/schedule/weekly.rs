//! `SEND_EVERY` in `serve`'s scheduler. At each tick, the latest
//! occurrence that is due is decided once, by whichever `serve` records it
//! first in the store ([`Schedules::decide`], a unique key): its bulletin
//! ([`ready`]) queued as a pending schedule, which the scheduler's usual
//! claim then sends exactly once; or skipped, and why (no bulletin ready,
//! or missed by more than `CATCH_UP`), logged and told to staff. At the
//! rule's first look in a state folder (no occurrence recorded yet), the
//! latest occurrence, gone by before `serve` ran with `SEND_EVERY`, is
//! recorded skipped and logged but neither sent nor told: setting the rule
//! never sends at once. Older occurrences than the latest are never sent.
//!
//! The day before each occurrence, at the same clock time, staff get one
//! reminder if no bulletin is ready for it (once per occurrence, however
//! many `serve` processes look; none without `STAFF_EMAIL`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::ready::{Ready, ready};
use super::runner::Scheduler;
use crate::config::{Occurrence, ScheduleSettings, Weekly};
use crate::domain::{Timestamp, chain};
use crate::journal::schedules::{Decided, Schedules};
use crate::report::printable;
use crate::report::staff::Reminder;

/// How long the reminder trusts a bulletin it found ready before it looks
/// at `content/` again: 5 minutes (reading 200 copies of the sample took
/// 0.43 s of CPU in a debug build; a look at every 15 s wake for a day
/// would be about 3% of a core).
pub const READY_AGAIN: Duration = Duration::from_secs(300);

impl Scheduler {
    /// The welcome bulletin `serve` sends each new reader, which the weekly
    /// rule never sends to the list (an unreadable setting: none).
    fn welcome(&self) -> crate::config::Welcome {
        crate::config::Welcome::from_source(&self.env).unwrap_or(crate::config::Welcome::Off)
    }

    /// Decides the latest due occurrence of `rule`, if no `serve` has, and
    /// reminds staff of the next if it is time.
    pub(super) fn weekly(
        &self,
        rule: &Weekly,
        settings: &ScheduleSettings,
        store: &Schedules,
    ) -> anyhow::Result<()> {
        let now = self.clock.now();
        let latest = rule.latest(now, &settings.time_zone);
        if store.occurrence(&latest.key())?.is_none() {
            self.decide(&latest, settings, store, now)?;
        }
        let next = rule.next(now, &settings.time_zone);
        if now >= Weekly::reminder(&next, &settings.time_zone) {
            self.remind(rule, &next, settings, store)?;
        }
        Ok(())
    }

    fn decide(
        &self,
        occurrence: &Occurrence,
        settings: &ScheduleSettings,
        store: &Schedules,
        now: Timestamp,
    ) -> anyhow::Result<()> {
        let key = occurrence.key();
        let late = now.since(occurrence.at);
        let late_text = humantime::format_duration(Duration::from_secs(late.as_secs()));
        if !store.any_occurrence()? {
            // The rule's first look here: its latest occurrence went by
            // before `SEND_EVERY` was set (or `serve` first ran with it).
            let why = format!("skipped: {late_text} ago, before `serve` first ran with SEND_EVERY");
            if store.decide(&key, occurrence.at, Decided::Skip(&why), now)?.is_some() {
                self.log(&key, &format!("{why}; staff are not told"));
            }
            return Ok(());
        }
        let skip = if late > settings.catch_up {
            format!(
                "skipped: missed by {late_text} (more than CATCH_UP, {})",
                humantime::format_duration(settings.catch_up)
            )
        } else {
            match ready(&self.content, &self.state_dir, occurrence.date(), now, &self.welcome())? {
                Ready::Bulletin { path, resumes } => {
                    let path = absolute(&path)?;
                    let Some(id) = store.decide(&key, occurrence.at, Decided::Send(&path), now)? else {
                        return Ok(());
                    };
                    let resumed = if resumes { " (resuming its campaign, started before)" } else { "" };
                    self.log(
                        &key,
                        &format!("queued as #{id}: {}{resumed}", printable(&path.display().to_string())),
                    );
                    return Ok(());
                }
                Ready::Nothing(why) => format!("skipped: {why}"),
            }
        };
        if let Some(id) = store.decide(&key, occurrence.at, Decided::Skip(&skip), now)?
            && let Some(row) = store.get(id)?
        {
            self.tell(&row, &skip);
        }
        Ok(())
    }

    /// Sends the reminder of `next` if no bulletin is ready for it, once.
    fn remind(
        &self,
        rule: &Weekly,
        next: &Occurrence,
        settings: &ScheduleSettings,
        store: &Schedules,
    ) -> anyhow::Result<()> {
        let key = next.key();
        if crate::config::staff_email(&self.env)?.is_none() || store.reminded(&key)? {
            return Ok(());
        }
        let now = self.clock.now();
        if self.ready_seen.get().is_some_and(|seen| seen <= now && now.since(seen) < READY_AGAIN) {
            return Ok(());
        }
        let Ready::Nothing(why) = ready(&self.content, &self.state_dir, next.date(), now, &self.welcome())?
        else {
            self.ready_seen.set(Some(now));
            return Ok(());
        };
        if !store.remind_once(&key, now)? {
            return Ok(());
        }
        let zone = next.local.to_zoned_datetime(settings.time_zone.clone())?;
        let reminder = Reminder {
            day: rule.day_name(),
            time: rule.time_text(),
            when: zone.strftime("%A %-d %B %Y %H:%M %Z").to_string(),
            why,
        };
        match self.post_reminder(&reminder) {
            Ok(()) => self.log(&key, "reminder sent to STAFF_EMAIL: no bulletin is ready for it"),
            Err(error) => self.log(&key, &format!("the reminder was not sent: {}", chain(error.as_ref()))),
        }
        Ok(())
    }

    fn log(&self, key: &str, what: &str) {
        eprintln!("{} weekly send {key}: {what}", self.clock.now());
    }
}

/// `path` from the root: `serve` may be started from another folder later.
fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    Ok(std::fs::canonicalize(path)?)
}
