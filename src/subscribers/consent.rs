//! Consent: whether an address may be mailed now, and why not, decided by
//! one rule over one ledger of events.
//!
//! The ledger is the suppression list, `suppressed.csv`, read as an
//! append-only log of every change to whether an address may be mailed,
//! in the order it happened, each with its `reason`, its `date`, where it
//! came from (`detail`) and, for a confirmation, when its link was
//! `issued`:
//!
//! - every opt-out: an unsubscribe by link, by one-click or by hand, a
//!   complaint, a bounce, an import's unsubscribed and cleaned people, an
//!   erasure;
//! - every lift of one: a confirmed sign-up, a `bulletin resubscribe`;
//! - every way onto the list: a confirmation link sent (`signed-up`), its
//!   confirmation (`confirmed`), a Mailchimp member imported (`imported`),
//!   a sign-up moved into the list (`merged`);
//! - the reader's own changes: a pause (`paused`), their interests
//!   (`interests`).
//!
//! Nothing lifts a row by deleting it: a lift is a later row.
//! Every writer goes through [`super::SuppressionFile`], which decides and
//! appends under the file's one lock; every reader ([`super::Suppressions`],
//! the server's pages) applies [`standing`].
//!
//! Chosen over SQLite in the state folder (measured in `BENCHMARKS.md`):
//! the file staff already open, edit and back up stays the record, a hand
//! edit is still honoured, the existing lists are taken over as they are,
//! and reading 10,000 rows costs a few milliseconds per send.
//!
//! **The rule** (the user guide's "Who is mailed" says the same):
//!
//! 1. An address with no opt-out may be mailed (the subscriber list decides).
//! 2. Each opt-out row blocks it, from its date.
//! 3. A `resubscribed` row (staff's decision) lifts any block.
//! 4. A `confirmed` row lifts a block only when the block is the reader's
//!    own choice or a run of soft bounces (`unsubscribed`, `requested`,
//!    `mailchimp-unsubscribed`, `soft-bounces`), is dated, and the
//!    confirmation's link was issued after that date (whole seconds): an
//!    old link never undoes a later opt-out, whatever the settings. A
//!    complaint, a hard bounce, a Mailchimp "cleaned" address, an erasure,
//!    a reason typed by hand or a row without a date stands until
//!    `resubscribe`; no confirmation email is sent to such an address.
//! 5. The latest row decides: rows are applied in file order.
//! 6. Not blocked, an address is still not mailed while its latest
//!    `paused` row's `until` is in the future (a pause chosen on the
//!    preference page; it lifts nothing and blocks nothing for good).
//!
//! The rows that record how someone joined (`signed-up`, `imported`,
//! `merged`) and their `interests` are the record of consent a charity may
//! be asked for; they lift nothing and block nothing. A `signed-up` row
//! says a confirmation link is out: an opt-out of an address already
//! blocked is written again only while such a link is out
//! ([`opt_out_counts`]), as its date is then what makes that link count
//! for nothing, so an unsubscribe racing a confirmation is never lost;
//! otherwise the file does not repeat a choice it already holds.

use std::time::SystemTime;

/// Why an address is on the suppression list; written in its `reason`
/// column as `unsubscribed`, `requested`, `hard-bounce`, `soft-bounces`,
/// `complaint`, `mailchimp-unsubscribed`, `mailchimp-cleaned` or
/// `forgotten` (`Display`, `AsRef<str>` and `&'static str::from` give it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::AsRefStr, strum::Display, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum Reason {
    /// The reader used the unsubscribe link or their mail program's
    /// one-click unsubscribe button.
    Unsubscribed,
    /// Added by hand, for example after a "please remove me" reply.
    Requested,
    /// The address does not exist or refuses mail for good.
    HardBounce,
    /// Temporary failures too many times in a row.
    SoftBounces,
    /// The reader marked a message as spam.
    Complaint,
    /// In the unsubscribed file of a Mailchimp export.
    MailchimpUnsubscribed,
    /// In the cleaned file of a Mailchimp export: Mailchimp stopped
    /// mailing the address after it bounced.
    MailchimpCleaned,
    /// The address was erased on its owner's request (`bulletin forget`);
    /// only its pseudonym is left.
    Forgotten,
}

impl Reason {
    /// The reason's name in the `reason` column.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The `reason` of a row that lifts a block rather than making one.
pub const CONFIRMED: &str = "confirmed";
/// The `reason` of staff's lift (`bulletin resubscribe`).
pub const RESUBSCRIBED: &str = "resubscribed";
/// The `reason` of a sign-up, written when its confirmation link is
/// issued: it lifts nothing, but says a link is out, so an opt-out made
/// after it must be written down too.
pub const SIGNED_UP: &str = "signed-up";
/// The `reason` of a subscribed Mailchimp member added to the list.
pub const IMPORTED: &str = "imported";
/// The `reason` of a confirmed sign-up moved into the list.
pub const MERGED: &str = "merged";
/// The `reason` of a change of interests on the preference page; its
/// `detail` holds them.
pub const INTERESTS: &str = "interests";
/// The `reason` of a pause chosen on the preference page; its `until`
/// column says when mail starts again.
pub const PAUSED: &str = "paused";

/// One row of the ledger, for one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: Kind,
    /// When it happened; `None` for a row typed without a date.
    pub at: Option<SystemTime>,
    /// For a confirmation: when its link was issued.
    pub issued: Option<SystemTime>,
    /// For a pause: when it ends.
    pub until: Option<SystemTime>,
}

/// What a row says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Do not mail: the `reason` as written (lower case).
    OptOut(String),
    /// A sign-up confirmed by its link.
    Confirmed,
    /// Staff took the address back.
    Resubscribed,
    /// A sign-up whose confirmation link is out.
    SignedUp,
    /// Not mailed until `until`, at the reader's choice.
    Paused,
    /// Put on the list by an import or a merge (`imported`, `merged`),
    /// or a change of interests: a record that decides nothing.
    Noted(&'static str),
}

impl Kind {
    /// The kind a `reason` cell names: anything but the lifts and the
    /// records above is an opt-out, an empty cell included (a row typed by
    /// hand).
    pub fn of(reason: &str) -> Self {
        let reason = reason.trim().to_ascii_lowercase();
        match reason.as_str() {
            CONFIRMED => Self::Confirmed,
            RESUBSCRIBED => Self::Resubscribed,
            SIGNED_UP => Self::SignedUp,
            PAUSED => Self::Paused,
            IMPORTED => Self::Noted(IMPORTED),
            MERGED => Self::Noted(MERGED),
            INTERESTS => Self::Noted(INTERESTS),
            _ => Self::OptOut(reason),
        }
    }
}

impl Event {
    /// An event read from a row's `reason`, `date`, `issued` and `until`
    /// cells.
    pub fn read(reason: &str, date: &str, issued: &str, until: &str) -> Self {
        let time = |cell: &str| humantime::parse_rfc3339_weak(cell.trim()).ok();
        Self { kind: Kind::of(reason), at: time(date), issued: time(issued), until: time(until) }
    }
}

/// Why an address may not be mailed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The opt-out's `reason`, as written.
    pub reason: String,
    /// Its date, when it has one.
    pub since: Option<SystemTime>,
}

/// Reasons a confirmed sign-up made after them lifts.
const LIFTED_BY_CONFIRMATION: [Reason; 4] =
    [Reason::Unsubscribed, Reason::Requested, Reason::MailchimpUnsubscribed, Reason::SoftBounces];

impl Block {
    /// Whether a confirmation whose link was issued at `issued` lifts it.
    pub fn lifted_by_confirmation(&self, issued: Option<SystemTime>) -> bool {
        let own = LIFTED_BY_CONFIRMATION.iter().any(|r| r.as_str() == self.reason);
        match (own, self.since, issued) {
            (true, Some(since), Some(issued)) => secs(issued) > secs(since),
            _ => false,
        }
    }

    /// Whether the address was erased (`bulletin forget`).
    pub fn is_erasure(&self) -> bool {
        self.reason == Reason::Forgotten.as_str()
    }
}

/// Whether an address may be mailed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    Free,
    Blocked(Block),
}

impl Standing {
    pub fn is_blocked(&self) -> bool {
        matches!(self, Self::Blocked(_))
    }

    /// Whether a sign-up made now may be sent a confirmation email: only
    /// when confirming it could bring the address back (rule 4).
    pub fn may_confirm_at(&self, now: SystemTime) -> bool {
        match self {
            Self::Free => true,
            Self::Blocked(block) => block.lifted_by_confirmation(Some(now)),
        }
    }
}

/// The rule: the standing `events` (one address's rows, in file order)
/// leave it in.
pub fn standing<'a>(events: impl IntoIterator<Item = &'a Event>) -> Standing {
    events.into_iter().fold(Standing::Free, |now, event| match (&event.kind, now) {
        (Kind::OptOut(reason), _) => Standing::Blocked(Block { reason: reason.clone(), since: event.at }),
        (Kind::Resubscribed, _) => Standing::Free,
        (Kind::Confirmed, Standing::Blocked(block)) if block.lifted_by_confirmation(event.issued) => {
            Standing::Free
        }
        (Kind::Confirmed | Kind::SignedUp | Kind::Paused | Kind::Noted(_), now) => now,
    })
}

/// Until when the reader paused their emails (rule 6): the `until` of
/// their latest `paused` row, if any (it may be over: the reader compares
/// it with the time of the send).
pub fn paused_until(events: &[Event]) -> Option<SystemTime> {
    events.iter().rev().find(|e| e.kind == Kind::Paused).and_then(|e| e.until)
}

/// Whether an opt-out of an address whose events are `events` must be
/// written: when it may be mailed now, or when a sign-up's confirmation
/// link went out since its latest opt-out (that link could lift the block,
/// and only a later opt-out's date stops it). Otherwise the address is
/// blocked already and nothing could lift the block unseen: writing the
/// same choice again would only repeat it.
pub fn opt_out_counts(events: &[Event]) -> bool {
    !standing(events).is_blocked()
        || events
            .iter()
            .rev()
            .take_while(|e| !matches!(e.kind, Kind::OptOut(_)))
            .any(|e| e.kind == Kind::SignedUp)
}

/// Whether `events` erased the address at or after `issued` (a link's
/// issue time; `None`, a link of the earlier layout, counts as before
/// everything): such a link may no longer write anything about them.
pub fn erased_since(events: &[Event], issued: Option<SystemTime>) -> bool {
    let issued = issued.map_or(0, secs);
    events.iter().any(|e| {
        e.kind == Kind::OptOut(Reason::Forgotten.as_str().to_owned())
            && e.at.is_none_or(|at| secs(at) >= issued)
    })
}

/// Whether the link issued at `issued` was confirmed since the latest
/// opt-out: the same link used again is not another confirmation.
pub fn confirmed_by(events: &[Event], issued: Option<SystemTime>) -> bool {
    let Some(issued) = issued else { return false };
    events
        .iter()
        .rev()
        .take_while(|e| !matches!(e.kind, Kind::OptOut(_)))
        .any(|e| e.kind == Kind::Confirmed && e.issued.map(secs) == Some(secs(issued)))
}

fn secs(time: SystemTime) -> u64 {
    crate::domain::Timestamp::from(time).unix_seconds()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn at(secs: u64) -> Option<SystemTime> {
        Some(UNIX_EPOCH + Duration::from_secs(secs))
    }

    fn out(reason: &str, when: u64) -> Event {
        Event { kind: Kind::of(reason), at: at(when), issued: None, until: None }
    }

    fn confirmed(when: u64, issued: Option<SystemTime>) -> Event {
        Event { kind: Kind::Confirmed, at: at(when), issued, until: None }
    }

    #[test]
    fn an_address_without_rows_is_free_and_an_opt_out_blocks_it() {
        assert_eq!(standing(&[]), Standing::Free);
        assert!(standing(&[out("unsubscribed", 10)]).is_blocked());
        assert!(standing(&[out("", 10)]).is_blocked(), "a row typed by hand blocks");
    }

    #[test]
    fn a_confirmation_lifts_the_reader_s_own_opt_out_only_when_its_link_is_newer() {
        for reason in ["unsubscribed", "requested", "mailchimp-unsubscribed", "soft-bounces"] {
            assert_eq!(standing(&[out(reason, 10), confirmed(30, at(11))]), Standing::Free, "{reason}");
            assert!(
                standing(&[out(reason, 10), confirmed(30, at(10))]).is_blocked(),
                "same second: {reason}"
            );
            assert!(standing(&[out(reason, 10), confirmed(30, at(9))]).is_blocked(), "older link: {reason}");
            assert!(standing(&[out(reason, 10), confirmed(30, None)]).is_blocked(), "undated link: {reason}");
        }
    }

    #[test]
    fn an_old_link_never_undoes_a_later_opt_out() {
        // Unsubscribed, signed up again (link at 20), unsubscribed at 25,
        // then the link of 20 used: the unsubscribe of 25 stands.
        let events = [out("unsubscribed", 10), out("unsubscribed", 25), confirmed(30, at(20))];
        assert!(standing(&events).is_blocked());
        // Confirmed first, then the unsubscribe: blocked again.
        let events = [out("unsubscribed", 10), confirmed(21, at(20)), out("unsubscribed", 22)];
        assert!(standing(&events).is_blocked());
    }

    #[test]
    fn complaints_bounces_erasures_and_undated_rows_stand_until_staff_resubscribe() {
        for reason in ["complaint", "hard-bounce", "mailchimp-cleaned", "forgotten", "asked by phone"] {
            let blocked = [out(reason, 10), confirmed(30, at(20))];
            assert!(standing(&blocked).is_blocked(), "{reason}");
            assert!(!standing(&blocked).may_confirm_at(at(40).unwrap()), "{reason}");
            let lifted =
                [out(reason, 10), Event { kind: Kind::Resubscribed, at: at(40), issued: None, until: None }];
            assert_eq!(standing(&lifted), Standing::Free, "{reason}");
        }
        let undated = Event { kind: Kind::of("unsubscribed"), at: None, issued: None, until: None };
        assert!(standing(&[undated.clone(), confirmed(30, at(20))]).is_blocked());
        assert!(!standing(&[undated]).may_confirm_at(at(40).unwrap()));
    }

    #[test]
    fn an_opt_out_of_a_blocked_address_is_written_only_while_a_sign_up_s_link_is_out() {
        let signed_up = Event { kind: Kind::SignedUp, at: at(20), issued: None, until: None };
        assert!(opt_out_counts(&[]));
        assert!(!opt_out_counts(&[out("unsubscribed", 10)]));
        assert!(opt_out_counts(&[out("unsubscribed", 10), signed_up.clone()]));
        assert!(!opt_out_counts(&[out("unsubscribed", 10), signed_up.clone(), out("unsubscribed", 30)]));
        assert!(standing(&[out("unsubscribed", 10), signed_up]).is_blocked(), "a sign-up lifts nothing");
    }

    #[test]
    fn a_link_made_before_an_erasure_is_told_apart_from_one_made_after() {
        let events = [out("forgotten", 100)];
        assert!(erased_since(&events, at(50)));
        assert!(erased_since(&events, None));
        assert!(!erased_since(&events, at(101)));
        assert!(!erased_since(&[out("unsubscribed", 100)], at(50)));
    }

    #[test]
    fn a_pause_holds_until_its_end_and_neither_lifts_nor_blocks_for_good() {
        let paused =
            |when, until: u64| Event { kind: Kind::Paused, at: at(when), issued: None, until: at(until) };
        let events = [paused(10, 100)];
        assert_eq!(standing(&events), Standing::Free);
        assert_eq!(paused_until(&events), at(100));
        // The latest pause counts: a shorter one ends a longer.
        assert_eq!(paused_until(&[paused(10, 100), paused(20, 30)]), at(30));
        assert_eq!(paused_until(&[out("unsubscribed", 5)]), None);
        assert!(standing(&[out("unsubscribed", 5), paused(10, 100)]).is_blocked());
        // An unsubscribe after a sign-up and a pause is still written.
        let signed_up = Event { kind: Kind::SignedUp, at: at(20), issued: None, until: None };
        assert!(opt_out_counts(&[out("unsubscribed", 5), signed_up, paused(21, 100)]));
    }

    #[test]
    fn the_records_of_joining_and_of_interests_decide_nothing_and_hide_no_link_that_is_out() {
        let noted =
            |reason: &str, when| Event { kind: Kind::of(reason), at: at(when), issued: None, until: None };
        for reason in [IMPORTED, MERGED, INTERESTS] {
            assert_eq!(noted(reason, 1).kind, Kind::Noted(reason));
            assert_eq!(standing(&[noted(reason, 1)]), Standing::Free, "{reason}");
            assert!(standing(&[out("unsubscribed", 5), noted(reason, 10)]).is_blocked(), "{reason}");
            assert!(
                standing(&[out("complaint", 5), noted(reason, 10)]).is_blocked(),
                "an import does not lift a complaint: {reason}"
            );
            // A link out, then one of these: an unsubscribe is still written.
            let signed_up = noted(SIGNED_UP, 8);
            assert!(opt_out_counts(&[out("unsubscribed", 5), signed_up, noted(reason, 9)]), "{reason}");
        }
        // A confirmation of a free address is a record too.
        assert_eq!(standing(&[noted(SIGNED_UP, 1), confirmed(2, at(1))]), Standing::Free);
    }
}
