//! Who a send goes to: the list read against the journal, so a re-run
//! skips those already sent, those who already received the same bulletin
//! as another campaign ([`received_elsewhere`]) are not mailed twice, and
//! `--limit` leaves the rest for later.

use std::collections::BTreeMap;

use crate::content::Bulletin;
use crate::domain::{EmailKey, Timestamp};
use crate::journal::{Elsewhere, Journal, Received, State, Text};
use crate::subscribers::{Row, SkipReason, SubscriberReader};

/// Who already received `bulletin` as another campaign, by what `journal`
/// says as of `now`: the same text at any time, or a near copy (a
/// corrected version) within the last [`crate::journal::NEAR_COPY_DAYS`]
/// days. Never by the subject alone.
pub fn received_elsewhere(
    journal: Option<&Journal>,
    bulletin: &Bulletin,
    now: Timestamp,
) -> anyhow::Result<Elsewhere> {
    let Some(journal) = journal else { return Ok(Elsewhere::default()) };
    Ok(journal.received_elsewhere(text_of(bulletin), now)?)
}

/// What `bulletin` says, as the journal compares it.
pub fn text_of(bulletin: &Bulletin) -> Text<'_> {
    Text { fingerprint: bulletin.fingerprint, shingles: &bulletin.shingles }
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
    /// Send to the rest even when most already received the bulletin as
    /// another campaign (see [`Plan::stop_for_duplicates`]).
    pub skip_duplicates: bool,
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
    skipped_elsewhere: BTreeMap<Earlier, u64>,
    resent_elsewhere: BTreeMap<Earlier, u64>,
}

/// An earlier campaign that sent the bulletin: its day, its name, and
/// whether what it sent was a near copy.
type Earlier = (String, String, bool);

fn earlier(received: Received) -> Earlier {
    (received.day(), received.campaign, received.near_copy)
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
                *self.skipped_elsewhere.entry(earlier(received)).or_default() += 1;
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
            *self.resent_elsewhere.entry(earlier(received)).or_default() += 1;
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

    /// Those the send has yet to reach: everyone but those this campaign
    /// already sent to or failed.
    pub fn pending(&self) -> u64 {
        self.to_send + self.left_for_later + self.skipped_as_duplicates()
    }

    /// A line for each earlier campaign that already sent this bulletin to
    /// someone this run would send it to, in the words `check`, the dry run
    /// and the send all use: "5 recipients already received this bulletin
    /// on 2025-10-16 as 2025-10-16-news: a send skips them", or that
    /// `--resend-duplicates` sends it again.
    pub fn duplicates(&self) -> Vec<String> {
        let line = |(day, campaign, near_copy): &Earlier, count: u64, then: &str| {
            let recipients = if count == 1 { "recipient" } else { "recipients" };
            let what = if *near_copy { "a near copy of this bulletin" } else { "this bulletin" };
            format!("{count} {recipients} already received {what} on {day} as {campaign}: {then}")
        };
        let skipped = self.skipped_elsewhere.iter().map(|(group, count)| {
            line(group, *count, "a send skips them (--resend-duplicates sends it again)")
        });
        let resent = self
            .resent_elsewhere
            .iter()
            .map(|(group, count)| line(group, *count, "sent again (--resend-duplicates)"));
        skipped.chain(resent).collect()
    }

    /// Why a send stops before sending anything: more than half of those it
    /// has yet to reach would be skipped as having received the bulletin
    /// already, which is what a new week's bulletin that is by mistake a
    /// copy of last week's looks like, so a cron job is never quietly
    /// turned into a send to almost nobody. `--skip-duplicates` (send to
    /// the rest) and `--resend-duplicates` (send to all) say it is meant.
    pub fn stop_for_duplicates(&self, choice: Choice) -> Option<String> {
        let skipped = self.skipped_as_duplicates();
        if choice.skip_duplicates || choice.resend_duplicates || skipped * 2 <= self.pending() {
            return None;
        }
        let mut campaigns: Vec<(&Earlier, &u64)> = self.skipped_elsewhere.iter().collect();
        campaigns.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let named: Vec<String> = campaigns
            .iter()
            .map(|((day, campaign, near_copy), count)| {
                let copy = if *near_copy { ", a near copy" } else { "" };
                format!("{count} as {campaign} on {day}{copy}")
            })
            .collect();
        let rest = self.pending() - skipped;
        Some(format!(
            "{skipped} of the {pending} recipients still to send to already received this bulletin ({}). \
             If this is a new issue, its text is the same as, or nearly the same as, that one's: write this \
             issue's text. If it is meant, add --skip-duplicates to send to the other {rest}, or \
             --resend-duplicates to send it to everyone again.",
            named.join("; "),
            pending = self.pending()
        ))
    }

    /// "3 already sent, 1 failed before, 2 suppressed", leaving out zeros.
    pub fn skips(&self) -> Vec<String> {
        crate::domain::counted(&[
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
        Received { campaign: campaign.to_owned(), at: Timestamp::parse(at).unwrap(), near_copy: false }
    }

    #[test]
    fn those_who_received_the_bulletin_as_another_campaign_are_skipped_and_counted_by_campaign() {
        let mut plan = Plan::default();
        let news = received("2025-10-16-news", "2025-10-16T09:00:00Z");
        assert!(!plan.admit(Decision::ReceivedElsewhere(news.clone()), Some(1)));
        assert!(!plan.admit(Decision::ReceivedElsewhere(news.clone()), Some(1)));
        let copy = Received { near_copy: true, ..received("2025-10-16-copy", "2025-10-17T23:59:59Z") };
        assert!(!plan.admit(Decision::ReceivedElsewhere(copy), Some(1)));
        assert!(plan.admit(Decision::SendAgain(news.clone()), Some(1)));
        assert!(!plan.admit(Decision::SendAgain(news), Some(1)));
        assert_eq!(
            plan.duplicates(),
            [
                "2 recipients already received this bulletin on 2025-10-16 as 2025-10-16-news: a send skips \
                 them (--resend-duplicates sends it again)",
                "1 recipient already received a near copy of this bulletin on 2025-10-17 as 2025-10-16-copy: \
                 a send skips them (--resend-duplicates sends it again)",
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
    fn a_send_stops_when_more_than_half_of_those_still_to_send_to_already_received_the_bulletin() {
        let news = received("2026-12-03-prayer", "2026-12-03T07:00:00Z");
        let mut half = Plan::default();
        for _ in 0..2 {
            half.admit(Decision::ReceivedElsewhere(news.clone()), None);
            half.admit(Decision::Send, None);
        }
        half.admit(Decision::AlreadySent, None);
        assert_eq!(half.stop_for_duplicates(Choice::default()), None, "half is not more than half");

        let mut most = Plan::default();
        for _ in 0..14 {
            most.admit(Decision::ReceivedElsewhere(news.clone()), None);
        }
        most.admit(Decision::Send, None);
        let stop = most.stop_for_duplicates(Choice::default()).expect("14 of 15 is most");
        assert!(
            stop.starts_with(
                "14 of the 15 recipients still to send to already received this bulletin (14 as \
             2026-12-03-prayer on 2026-12-03)"
            ),
            "{stop}"
        );
        assert!(stop.contains("--skip-duplicates to send to the other 1"), "{stop}");
        for choice in [
            Choice { skip_duplicates: true, ..Choice::default() },
            Choice { resend_duplicates: true, ..Choice::default() },
        ] {
            assert_eq!(most.stop_for_duplicates(choice), None);
        }
        assert_eq!(Plan::default().stop_for_duplicates(Choice::default()), None, "an empty list never stops");
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
