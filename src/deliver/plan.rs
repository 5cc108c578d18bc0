//! Who a send goes to: the list read against the journal, so a re-run
//! skips those already sent, those who already received the same bulletin
//! as another campaign ([`received_elsewhere`]) are not mailed twice, and
//! `--limit` leaves the rest for later.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::content::Bulletin;
use crate::domain::{EmailKey, Timestamp};
use crate::journal::{Elsewhere, Journal, Received, State};
use crate::subscribers::{Row, SkipReason, SubscriberReader};

/// For how long a bulletin with the same subject counts as the same
/// bulletin, whatever its text: a correction sent within this time is a
/// duplicate for those who had the first version.
pub const SAME_SUBJECT_DAYS: u64 = 14;

/// Who already received `bulletin` as another campaign, by what `journal`
/// says as of `now`: the same text (its fingerprint) at any time, or the same
/// subject within the last [`SAME_SUBJECT_DAYS`] days. One query.
pub fn received_elsewhere(
    journal: Option<&Journal>,
    bulletin: &Bulletin,
    now: Timestamp,
) -> anyhow::Result<Elsewhere> {
    let Some(journal) = journal else { return Ok(Elsewhere::default()) };
    let window = Duration::from_secs(SAME_SUBJECT_DAYS * 24 * 60 * 60);
    let since = now.as_system_time().checked_sub(window).unwrap_or(std::time::UNIX_EPOCH);
    Ok(journal.received_elsewhere(bulletin.fingerprint, &bulletin.subject_text(), since.into())?)
}

/// Whom a send may take from the list, beyond what the journal says.
#[derive(Debug, Clone, Copy, Default)]
pub struct Choice {
    /// Send to at most this many pending recipients.
    pub limit: Option<u64>,
    /// Try again the recipients an earlier run failed.
    pub retry_failed: bool,
    /// Send to those who already received the bulletin as another campaign.
    pub resend_duplicates: bool,
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
    /// Recipients who already received the bulletin as another campaign,
    /// by the day and the campaign: those skipped, and those sent it again
    /// (`--resend-duplicates`).
    skipped_elsewhere: BTreeMap<(String, String), u64>,
    resent_elsewhere: BTreeMap<(String, String), u64>,
}

/// What the journal says to do with one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Send,
    /// Send, though they already received the bulletin as another
    /// campaign (`--resend-duplicates`).
    SendAgain(Received),
    AlreadySent,
    FailedBefore,
    /// Skip: they already received the bulletin as another campaign. They
    /// stay pending in this one.
    ReceivedElsewhere(Received),
}

/// What to do with the recipient whose key is `key`, by this campaign's
/// journal and who received the bulletin `elsewhere`.
pub fn decide(
    journal: Option<&Journal>,
    elsewhere: &Elsewhere,
    key: &EmailKey,
    choice: Choice,
) -> anyhow::Result<Decision> {
    let state = match journal {
        Some(journal) => journal.state(key)?,
        None => None,
    };
    Ok(match state {
        Some(State::Sent) => Decision::AlreadySent,
        Some(State::Failed) if !choice.retry_failed => Decision::FailedBefore,
        _ => match elsewhere.get(key) {
            None => Decision::Send,
            Some(received) if choice.resend_duplicates => Decision::SendAgain(received.clone()),
            Some(received) => Decision::ReceivedElsewhere(received.clone()),
        },
    })
}

impl Plan {
    /// Counts a recipient; true when this run sends to them.
    pub fn admit(&mut self, decision: Decision, limit: Option<u64>) -> bool {
        let again = match decision {
            Decision::AlreadySent => {
                self.already_sent += 1;
                return false;
            }
            Decision::FailedBefore => {
                self.failed_before += 1;
                return false;
            }
            Decision::ReceivedElsewhere(received) => {
                *self.skipped_elsewhere.entry((received.day(), received.campaign)).or_default() += 1;
                return false;
            }
            Decision::Send => None,
            Decision::SendAgain(received) => Some(received),
        };
        if limit.is_some_and(|limit| self.to_send >= limit) {
            self.left_for_later += 1;
            return false;
        }
        self.to_send += 1;
        if let Some(received) = again {
            *self.resent_elsewhere.entry((received.day(), received.campaign)).or_default() += 1;
        }
        true
    }

    /// Everyone on the list the bulletin is for, sent to or not.
    pub fn audience(&self) -> u64 {
        self.to_send
            + self.already_sent
            + self.failed_before
            + self.left_for_later
            + self.skipped_as_duplicates()
    }

    /// Those skipped because they already received the bulletin as
    /// another campaign.
    pub fn skipped_as_duplicates(&self) -> u64 {
        self.skipped_elsewhere.values().sum()
    }

    /// A line for each earlier campaign that already sent this bulletin to
    /// someone this run would send it to: "5 recipients already received
    /// this bulletin on 2025-10-16 as 2025-10-16-news: ", then `skipped`
    /// (what becomes of them), or that `--resend-duplicates` sends it again.
    pub fn duplicates(&self, skipped: &str) -> Vec<String> {
        let line = |(day, campaign): &(String, String), count: u64, then: &str| {
            let recipients = if count == 1 { "recipient" } else { "recipients" };
            format!("{count} {recipients} already received this bulletin on {day} as {campaign}: {then}")
        };
        let skipped = self.skipped_elsewhere.iter().map(|(group, count)| line(group, *count, skipped));
        let resent = self
            .resent_elsewhere
            .iter()
            .map(|(group, count)| line(group, *count, "sent again (--resend-duplicates)"));
        skipped.chain(resent).collect()
    }

    /// "3 already sent, 1 failed before, 2 suppressed", leaving out zeros.
    pub fn skips(&self) -> Vec<String> {
        crate::subscribers::counted(&[
            (self.suppressed, "suppressed"),
            (self.unsubscribed, "unsubscribed"),
            (self.already_sent, "already sent"),
            (self.failed_before, "failed before (--retry-failed to try them again)"),
            (
                self.skipped_as_duplicates(),
                "already received as another campaign (--resend-duplicates to send again)",
            ),
            (self.left_for_later, "left for later by --limit"),
        ])
    }
}

/// Counts the list against the journal, and who received the bulletin
/// `elsewhere`, before anything is sent.
pub fn plan(
    rows: SubscriberReader,
    journal: Option<&Journal>,
    elsewhere: &Elsewhere,
    choice: Choice,
) -> anyhow::Result<Plan> {
    let mut plan = Plan::default();
    for row in rows {
        match row? {
            Row::Subscribed(subscriber) => {
                plan.admit(decide(journal, elsewhere, subscriber.email().key(), choice)?, choice.limit);
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

    fn received(campaign: &str, at: &str) -> Received {
        Received { campaign: campaign.to_owned(), at: Timestamp::parse(at).unwrap() }
    }

    #[test]
    fn those_who_received_the_bulletin_as_another_campaign_are_skipped_and_counted_by_campaign() {
        let mut plan = Plan::default();
        let news = received("2025-10-16-news", "2025-10-16T09:00:00Z");
        assert!(!plan.admit(Decision::ReceivedElsewhere(news.clone()), Some(1)));
        assert!(!plan.admit(Decision::ReceivedElsewhere(news.clone()), Some(1)));
        let copy = received("2025-10-16-copy", "2025-10-17T23:59:59Z");
        assert!(!plan.admit(Decision::ReceivedElsewhere(copy), Some(1)));
        assert!(plan.admit(Decision::SendAgain(news.clone()), Some(1)));
        assert!(!plan.admit(Decision::SendAgain(news), Some(1)));
        assert_eq!(
            plan.duplicates("skipped"),
            [
                "2 recipients already received this bulletin on 2025-10-16 as 2025-10-16-news: skipped",
                "1 recipient already received this bulletin on 2025-10-17 as 2025-10-16-copy: skipped",
                "1 recipient already received this bulletin on 2025-10-16 as 2025-10-16-news: sent again \
                 (--resend-duplicates)",
            ]
        );
        assert_eq!(
            plan.skips(),
            [
                "3 already received as another campaign (--resend-duplicates to send again)",
                "1 left for later by --limit"
            ]
        );
        assert_eq!((plan.to_send, plan.audience()), (1, 5));
    }

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
