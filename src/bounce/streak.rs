//! Soft bounces "in a row".
//!
//! The messages sent to an address are put in the order they were sent:
//! those in the journal at the time the relay answered, a report about a
//! message the journal does not know at the time that message was written.
//! Each message either bounced (its class), or was taken by the relay with
//! no bounce heard of. Counting back from the most recent message that
//! bounced, the soft bounces in a row are the soft ones reached before a
//! message that did not bounce. Hard, blocked and unknown bounces are
//! passed over: they neither add to the count nor end it.
//!
//! Messages sent after the most recent bounce do not count either way: a
//! soft bounce is only reported when the sending server gives up, days
//! later, so their bounces may still be on the way. A weekly bulletin to a
//! full mailbox therefore reaches a count of three with the third report,
//! even though the fourth issue has gone out meanwhile; and one issue
//! delivered between two soft bounces starts the count again.

use super::Class;
use super::classify::Verdict;
use super::ledger::{Entry, Kind};
use crate::domain::MessageId;
use crate::journal::{Sent, State};

/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Bounced(Class),
    /// Taken by the relay, and no bounce about it imported.
    NoBounce,
}

/// One message to the address, and when it was sent (RFC 3339 UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub at: String,
    pub fate: Fate,
}

/// The messages to one address, oldest first, from the journal's rows for
/// it and the bounce reports about it.
pub fn timeline(sent: &[Sent], reports: &[Entry]) -> Vec<Step> {
    // The ledger keeps report ids without their angle brackets.
    let bare = |id: &str| MessageId::parse(id).map_or_else(|| id.to_owned(), |id| id.inner().to_owned());
    let bounces: Vec<(&Entry, Class)> = reports
        .iter()
        .filter_map(|r| match r.kind {
            Kind::Bounce(class) => Some((r, class)),
            Kind::Complaint => None,
        })
        .collect();
    let mut steps = Vec::new();
    let mut known_ids = std::collections::HashSet::new();
    for message in sent {
        let id = bare(&message.message_id);
        known_ids.insert(id.clone());
        let fate = match message.state {
            State::Sending => continue,
            State::Failed => Fate::Bounced(Verdict::of(&message.reply).class()),
            State::Sent => bounces
                .iter()
                .find(|(r, _)| r.message_id.as_deref() == Some(id.as_str()))
                .map_or(Fate::NoBounce, |(_, class)| Fate::Bounced(*class)),
        };
        steps.push(Step { at: message.updated_at.to_string(), fate });
    }
    for (report, class) in bounces {
        if report.message_id.as_ref().is_none_or(|id| !known_ids.contains(id)) {
            steps.push(Step { at: report.sent_at.clone(), fate: Fate::Bounced(class) });
        }
    }
    steps.sort_by(|a, b| a.at.cmp(&b.at));
    steps
}

/// The soft bounces in a row in `steps` (oldest first); see the module
/// documentation.
pub fn soft_in_a_row(steps: &[Step]) -> u32 {
    let Some(last) = steps.iter().rposition(|s| matches!(s.fate, Fate::Bounced(_))) else { return 0 };
    let mut count = 0;
    for step in steps[..=last].iter().rev() {
        match step.fate {
            Fate::Bounced(Class::Soft) => count += 1,
            Fate::Bounced(_) => {}
            Fate::NoBounce => break,
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EmailKey;
    use pretty_assertions::assert_eq;

    fn step(at: &str, fate: Fate) -> Step {
        Step { at: at.into(), fate }
    }

    const SOFT: Fate = Fate::Bounced(Class::Soft);
    const OK: Fate = Fate::NoBounce;

    #[test]
    fn soft_bounces_count_back_from_the_latest_bounce_until_a_delivered_message() {
        let cases: [(&[Fate], u32); 8] = [
            (&[], 0),
            (&[OK, OK], 0),
            (&[SOFT], 1),
            (&[SOFT, SOFT, SOFT], 3),
            (&[SOFT, OK, SOFT, SOFT], 2),
            // Sent after the latest bounce: not known yet, so not counted.
            (&[SOFT, SOFT, OK, OK], 2),
            (&[SOFT, Fate::Bounced(Class::Blocked), SOFT], 2),
            (&[SOFT, SOFT, Fate::Bounced(Class::Unknown)], 2),
        ];
        for (fates, want) in cases {
            let steps: Vec<Step> =
                fates.iter().enumerate().map(|(i, f)| step(&format!("2025-10-{:02}", i + 1), *f)).collect();
            assert_eq!(soft_in_a_row(&steps), want, "{fates:?}");
        }
    }

    fn sent(id: &str, state: State, reply: &str, at: &str) -> Sent {
        Sent {
            campaign: "c".into(),
            address: "a@example.org".into(),
            message_id: format!("<{id}>"),
            state,
            reply: crate::domain::Reply::from_text(reply),
            updated_at: crate::domain::Timestamp::parse(at).expect("a test time"),
        }
    }

    fn report(id: Option<&str>, class: Class, at: &str) -> Entry {
        Entry {
            key: format!("message:{id:?}"),
            address: "a@example.org".into(),
            email_key: EmailKey::of("a@example.org"),
            kind: Kind::Bounce(class),
            why: String::new(),
            status: String::new(),
            detail: String::new(),
            campaign: None,
            message_id: id.map(str::to_owned),
            sent_at: at.into(),
            source: String::new(),
            imported_at: String::new(),
        }
    }

    #[test]
    fn the_timeline_joins_the_journal_and_the_reports_in_the_order_sent() {
        let journal = [
            sent("1@x", State::Sent, "250 ok", "2025-10-02T10:00:00Z"),
            sent(
                "2@x",
                State::Failed,
                "transient error (452): 4.2.2 full (gave up after 4 attempts)",
                "2025-10-09T10:00:00Z",
            ),
            sent("3@x", State::Sent, "250 ok", "2025-10-16T10:00:00Z"),
            sent("4@x", State::Sending, "", "2025-10-23T10:00:00Z"),
        ];
        let reports = [
            report(Some("3@x"), Class::Soft, "2025-10-16T10:00:00Z"),
            report(None, Class::Soft, "2025-09-25T08:00:00Z"),
        ];
        let steps = timeline(&journal, &reports);
        let fates: Vec<Fate> = steps.iter().map(|s| s.fate).collect();
        assert_eq!(fates, [SOFT, OK, SOFT, SOFT]);
        assert_eq!(soft_in_a_row(&steps), 2);
    }
}
