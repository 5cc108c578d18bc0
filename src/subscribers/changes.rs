//! What the consent ledger says happened to the list since a moment:
//! sign-ups confirmed, unsubscribes, bounces and complaints, counted from
//! its dated rows (see [`super::consent`] for what each `reason` means).
//! The staff report says these since the last report; it names nobody.

use std::path::Path;
use std::time::SystemTime;

use super::consent::{Event, Kind, Reason};
use super::{SubscriberReader, SubscribersError};

/// Rows of the ledger dated after a moment, by what they record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// Sign-ups confirmed by their link (`confirmed`).
    pub signups: u64,
    /// Opt-outs by the reader or on their request (`unsubscribed`,
    /// `requested`, `mailchimp-unsubscribed`).
    pub unsubscribes: u64,
    /// Addresses that do not exist or refuse mail for good (`hard-bounce`,
    /// `mailchimp-cleaned`).
    pub hard_bounces: u64,
    /// Addresses suppressed after soft bounces in a row (`soft-bounces`).
    pub soft_bounces: u64,
    /// Messages marked as spam (`complaint`).
    pub complaints: u64,
}

impl Changes {
    /// Counts `event` if it is dated after `since` (every dated row when
    /// `since` is `None`); rows without a date are not counted.
    fn count(&mut self, reason: &str, event: &Event, since: Option<SystemTime>) {
        let Some(at) = event.at else { return };
        if since.is_some_and(|since| at <= since) {
            return;
        }
        let slot = match &event.kind {
            Kind::Confirmed => &mut self.signups,
            Kind::OptOut(_) => match reason.trim().to_ascii_lowercase().as_str() {
                r if r == Reason::Unsubscribed.as_str()
                    || r == Reason::Requested.as_str()
                    || r == Reason::MailchimpUnsubscribed.as_str() =>
                {
                    &mut self.unsubscribes
                }
                r if r == Reason::HardBounce.as_str() || r == Reason::MailchimpCleaned.as_str() => {
                    &mut self.hard_bounces
                }
                r if r == Reason::SoftBounces.as_str() => &mut self.soft_bounces,
                r if r == Reason::Complaint.as_str() => &mut self.complaints,
                _ => return,
            },
            _ => return,
        };
        *slot += 1;
    }
}

/// The ledger at `path` counted from `since` (exclusive; from its first
/// row when `None`). A missing ledger has no changes.
pub fn changes_since(path: &Path, since: Option<SystemTime>) -> Result<Changes, SubscribersError> {
    let mut changes = Changes::default();
    if !path.exists() {
        return Ok(changes);
    }
    SubscriberReader::each_row(path, |columns, _line, cells| {
        let cell = |name: &str| columns.cell(&cells, name);
        let reason = cell("reason");
        let event = Event::read(reason, cell("date"), cell("issued"), cell("until"));
        changes.count(reason, &event, since);
    })?;
    Ok(changes)
}

/// The addresses the ledger at `path` records a confirmed sign-up of
/// (`confirmed`) dated at or after `since`, each once, in file order. Rows
/// an erasure left under a pseudonym are no address, and are left out.
pub fn confirmed_since(path: &Path, since: SystemTime) -> Result<Vec<super::EmailAddress>, SubscribersError> {
    let mut found = Vec::new();
    let mut seen = std::collections::HashSet::new();
    if !path.exists() {
        return Ok(found);
    }
    let since = crate::domain::Timestamp::from(since).unix_seconds();
    SubscriberReader::each_row(path, |columns, _line, cells| {
        let cell = |name: &str| columns.cell(&cells, name);
        let event = Event::read(cell("reason"), cell("date"), "", "");
        let recent = event.at.is_some_and(|at| crate::domain::Timestamp::from(at).unix_seconds() >= since);
        if event.kind == Kind::Confirmed
            && recent
            && let Ok(email) = super::EmailAddress::parse(cell("email"))
            && seen.insert(email.key().clone())
        {
            found.push(email);
        }
    })?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEDGER: &str = "email,reason,date,detail\n\
        old@example.org,unsubscribed,2026-11-01T10:00:00Z,link\n\
        new@example.org,unsubscribed,2026-12-02T10:00:00Z,link\n\
        hand@example.org,requested,2026-12-02T11:00:00Z,\n\
        joe@example.org,signed-up,2026-12-02T12:00:00Z,form\n\
        joe@example.org,confirmed,2026-12-02T12:05:00Z,form\n\
        gone@example.org,hard-bounce,2026-12-03T09:00:00Z,550 5.1.1\n\
        full@example.org,soft-bounces,2026-12-03T09:00:00Z,3 in a row\n\
        spam@example.org,complaint,2026-12-03T09:30:00Z,arf\n\
        typed@example.org,,,\n\
        ana@example.org,imported,2026-12-03T09:30:00Z,mailchimp\n";

    fn at(text: &str) -> SystemTime {
        humantime::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn rows_dated_after_the_last_report_are_counted_by_what_they_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        std::fs::write(&path, LEDGER).unwrap();
        let changes = changes_since(&path, Some(at("2026-12-01T00:00:00Z"))).unwrap();
        assert_eq!(
            changes,
            Changes { signups: 1, unsubscribes: 2, hard_bounces: 1, soft_bounces: 1, complaints: 1 }
        );
        let all = changes_since(&path, None).unwrap();
        assert_eq!(all.unsubscribes, 3, "the old unsubscribe too, and never the undated row");
        let later = changes_since(&path, Some(at("2026-12-03T09:00:00Z"))).unwrap();
        assert_eq!(
            later,
            Changes { complaints: 1, ..Changes::default() },
            "a row at the moment itself is not after it"
        );
    }

    #[test]
    fn a_missing_ledger_has_no_changes() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(changes_since(&dir.path().join("none.csv"), None).unwrap(), Changes::default());
    }

    #[test]
    fn confirmed_sign_ups_from_a_moment_on_are_each_named_once_and_earlier_ones_and_other_rows_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppressed.csv");
        let more = "early@example.org,confirmed,2026-12-02T12:04:59Z,form\n\
            joe@example.org,confirmed,2026-12-04T08:00:00Z,form\n\
            Cy@Example.org,confirmed,2026-12-04T09:00:00Z,form\n";
        std::fs::write(&path, format!("{LEDGER}{more}")).unwrap();
        let found = confirmed_since(&path, at("2026-12-02T12:05:00Z")).unwrap();
        let names: Vec<&str> = found.iter().map(|e| e.as_str()).collect();
        assert_eq!(names, ["joe@example.org", "Cy@Example.org"]);
        assert!(
            confirmed_since(&dir.path().join("none.csv"), at("2026-12-02T12:05:00Z")).unwrap().is_empty()
        );
    }
}
