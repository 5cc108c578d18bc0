//! `SEND_EVERY` in `serve`'s scheduler. At each tick, the latest
//! occurrence that is due is decided once, by whichever `serve` records it
//! first in the store ([`Schedules::decide`], a unique key): its bulletin
//! ([`ready`]) queued as a pending schedule, which the scheduler's usual
//! claim then sends exactly once; or skipped, and why (no bulletin ready,
//! or missed by more than `CATCH_UP`), logged and told to staff. An
//! occurrence missed before the rule's first recorded one (`SEND_EVERY`
//! just set) is recorded and logged but not told: nobody expected it.
//! Older occurrences than the latest are never sent.
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

impl Scheduler {
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
        let first = !store.any_occurrence()?;
        let late = now.since(occurrence.at);
        let skip = if late > settings.catch_up {
            format!(
                "skipped: missed by {} (more than CATCH_UP, {})",
                humantime::format_duration(Duration::from_secs(late.as_secs())),
                humantime::format_duration(settings.catch_up)
            )
        } else {
            match ready(&self.content, &self.state_dir, occurrence.date(), now)? {
                Ready::Bulletin { path, resumes, .. } => {
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
        let Some(id) = store.decide(&key, occurrence.at, Decided::Skip(&skip), now)? else { return Ok(()) };
        if first && late > settings.catch_up {
            self.log(
                &key,
                &format!("{skip}; before SEND_EVERY's first occurrence here, so staff are not told"),
            );
        } else if let Some(row) = store.get(id)? {
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
        let Ready::Nothing(why) = ready(&self.content, &self.state_dir, next.date(), now)? else {
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
