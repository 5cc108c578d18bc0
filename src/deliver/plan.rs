//! Who a send goes to: the list read against the journal, so a re-run
//! skips those already sent and `--limit` leaves the rest for later.

use crate::domain::EmailKey;
use crate::journal::{Journal, State};
use crate::subscribers::{Row, SkipReason, SubscriberReader};

/// Whom a send may take from the list, beyond what the journal says.
#[derive(Debug, Clone, Copy, Default)]
pub struct Choice {
    /// Send to at most this many pending recipients.
    pub limit: Option<u64>,
    /// Try again the recipients an earlier run failed.
    pub retry_failed: bool,
}

/// Who this run sends to and who it leaves, by what the journal says.
#[derive(Debug, Default)]
pub struct Plan {
    pub to_send: u64,
    already_sent: u64,
    failed_before: u64,
    left_for_later: u64,
    /// Rows never mailed, counted for the plan: on the suppression list,
    /// or marked unsubscribed in the list itself.
    suppressed: u64,
    unsubscribed: u64,
}

/// What the journal says to do with one recipient.
pub enum Decision {
    Send,
    AlreadySent,
    FailedBefore,
}

pub fn decide(journal: Option<&Journal>, key: &EmailKey, retry_failed: bool) -> anyhow::Result<Decision> {
    let state = match journal {
        Some(journal) => journal.state(key)?,
        None => None,
    };
    Ok(match state {
        Some(State::Sent) => Decision::AlreadySent,
        Some(State::Failed) if !retry_failed => Decision::FailedBefore,
        _ => Decision::Send,
    })
}

impl Plan {
    /// Counts a recipient; true when this run sends to them.
    pub fn admit(&mut self, decision: Decision, limit: Option<u64>) -> bool {
        match decision {
            Decision::AlreadySent => self.already_sent += 1,
            Decision::FailedBefore => self.failed_before += 1,
            Decision::Send if limit.is_some_and(|limit| self.to_send >= limit) => self.left_for_later += 1,
            Decision::Send => {
                self.to_send += 1;
                return true;
            }
        }
        false
    }

    /// Everyone on the list the bulletin is for, sent to or not.
    pub fn audience(&self) -> u64 {
        self.to_send + self.already_sent + self.failed_before + self.left_for_later
    }

    /// "3 already sent, 1 failed before, 2 suppressed", leaving out zeros.
    pub fn skips(&self) -> Vec<String> {
        crate::subscribers::counted(&[
            (self.suppressed, "suppressed"),
            (self.unsubscribed, "unsubscribed"),
            (self.already_sent, "already sent"),
            (self.failed_before, "failed before (--retry-failed to try them again)"),
            (self.left_for_later, "left for later by --limit"),
        ])
    }
}

/// Counts the list against the journal before anything is sent.
pub fn plan(rows: SubscriberReader, journal: Option<&Journal>, choice: Choice) -> anyhow::Result<Plan> {
    let mut plan = Plan::default();
    for row in rows {
        match row? {
            Row::Subscribed(subscriber) => {
                plan.admit(decide(journal, subscriber.email().key(), choice.retry_failed)?, choice.limit);
            }
            Row::Skipped(skip) => match skip.reason {
                SkipReason::Suppressed => plan.suppressed += 1,
                SkipReason::Unsubscribed => plan.unsubscribed += 1,
                _ => {}
            },
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_leaves_the_rest_for_later() {
        let mut plan = Plan::default();
        let sent: Vec<bool> = (0..4).map(|_| plan.admit(Decision::Send, Some(2))).collect();
        assert_eq!(sent, [true, true, false, false]);
        assert!(!plan.admit(Decision::AlreadySent, Some(2)));
        assert!(!plan.admit(Decision::FailedBefore, Some(2)));
        assert_eq!(
            plan.skips(),
            [
                "1 already sent",
                "1 failed before (--retry-failed to try them again)",
                "2 left for later by --limit"
            ]
        );
    }
}
