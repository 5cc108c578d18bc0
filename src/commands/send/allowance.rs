//! A daily allowance of our own (`--rate 2000/day`): what is left of it,
//! counted from the journal across every campaign, and what to say when it
//! is used up.

use std::time::Duration;

use crate::domain::Timestamp;
use crate::journal::Archive;

/// A daily allowance (`--rate N/day`) against what the journal says was
/// handed over in the last 24 hours, in every campaign.
pub(super) struct Allowance {
    per_day: u32,
    /// Messages that may still go today.
    pub left: u64,
    /// When the first message of the last 24 hours went: 24 hours later,
    /// more may go.
    first: Option<Timestamp>,
    now: Timestamp,
}

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

impl Allowance {
    pub fn today(state_dir: &std::path::Path, per_day: u32, now: Timestamp) -> anyhow::Result<Self> {
        let since = Timestamp::from(now.as_system_time() - DAY);
        let (handed_over, first) = match Archive::open_existing(state_dir)? {
            Some(archive) => archive.handed_over_since(since)?,
            None => (0, None),
        };
        Ok(Self { per_day, left: u64::from(per_day).saturating_sub(handed_over), first, now })
    }

    /// What to say when it is used up, with `sent` sent by this run and
    /// `pending` left.
    pub fn used_up(&self, sent: u64, pending: u64) -> String {
        let resume = Timestamp::from(self.first.unwrap_or(self.now).as_system_time() + DAY);
        format!(
            "today's allowance of {per_day} messages (--rate {per_day}/day) is sent: {sent} sent, {pending} pending; \
             run the same command again after {resume} (24 hours after the first of them)",
            per_day = self.per_day
        )
    }
}
