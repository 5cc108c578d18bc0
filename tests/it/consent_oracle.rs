//! The consent checker's oracle: given what the actors of
//! `tests/it/consent.rs` did (each operation with its start and end, and
//! whether it was acknowledged), what the SMTP sink received and what the
//! newsletter folder held when looked at, which of the five consent
//! invariants of issue 23 were broken, and a timeline of each offending
//! address to read them by.
//!
//! It decides only from "ended before started": two operations that overlap
//! in time are concurrent and may have taken effect in either order, and
//! every rule below gives such a pair the benefit of the doubt. It never
//! reads the suppression list to learn who is suppressed (its format is
//! the consent store's business); only what the binary answered and what
//! it mailed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Seconds since the Unix epoch: the clock of the actors and of the
/// aiosmtpd sink (both the system's real-time clock).
pub type Time = f64;

/// What an operation was.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `POST /subscribe` (its own id is the marker in the name it posted).
    SignUp,
    /// `POST /confirm` with a link from a confirmation email: the sign-up
    /// operation that link came from, when the link told.
    Confirm {
        signup: Option<u64>,
    },
    /// `POST` to the `List-Unsubscribe` URL with `List-Unsubscribe=One-Click`.
    OneClick,
    /// `POST /preferences` with `action=unsubscribe`, `pause` or `save`.
    PrefUnsubscribe,
    PrefPause,
    PrefSave,
    /// `bulletin unsubscribe`, `resubscribe`, `forget`, `signups merge`.
    Unsubscribe,
    Resubscribe,
    Forget,
    Merge,
    /// `bulletin send --yes` of issue `n` (its subject says `Issue n`).
    Send {
        issue: u32,
    },
    /// `serve` stopped and started again with `CONFIRM_HOURS` = `hours`.
    Restart {
        hours: f64,
    },
}

impl Kind {
    /// A short name, for counting operations by kind.
    pub fn label(&self) -> &'static str {
        match self {
            Self::SignUp => "sign-up",
            Self::Confirm { .. } => "confirm",
            Self::OneClick => "one-click",
            Self::PrefUnsubscribe => "page-unsubscribe",
            Self::PrefPause => "pause",
            Self::PrefSave => "save",
            Self::Unsubscribe => "unsubscribe",
            Self::Resubscribe => "resubscribe",
            Self::Forget => "forget",
            Self::Merge => "merge",
            Self::Send { .. } => "send",
            Self::Restart { .. } => "restart",
        }
    }

    fn name(&self) -> String {
        match self {
            Self::SignUp => "sign-up POST /subscribe".into(),
            Self::Confirm { signup: Some(id) } => format!("confirm POST /confirm (link of sign-up #{id})"),
            Self::Confirm { signup: None } => "confirm POST /confirm (link of an unknown sign-up)".into(),
            Self::OneClick => "one-click unsubscribe".into(),
            Self::PrefUnsubscribe => "preference page: unsubscribe".into(),
            Self::PrefPause => "preference page: pause".into(),
            Self::PrefSave => "preference page: save".into(),
            Self::Unsubscribe => "bulletin unsubscribe".into(),
            Self::Resubscribe => "bulletin resubscribe".into(),
            Self::Forget => "bulletin forget".into(),
            Self::Merge => "bulletin signups merge".into(),
            Self::Send { issue } => format!("bulletin send (Issue {issue})"),
            Self::Restart { hours } => format!("serve restarted with CONFIRM_HOURS={hours}"),
        }
    }

    /// An opt-out: after it, the address is not to be mailed.
    fn is_opt_out(&self) -> bool {
        matches!(self, Self::OneClick | Self::PrefUnsubscribe | Self::Unsubscribe | Self::Forget)
    }
}

/// One operation an actor made.
#[derive(Debug, Clone)]
pub struct Op {
    pub id: u64,
    pub actor: String,
    pub kind: Kind,
    /// The address it is about (none for a merge, a send, a restart).
    pub address: Option<String>,
    pub start: Time,
    pub end: Time,
    /// HTTP 200, or exit code 0.
    pub acked: bool,
    /// The status or exit code, as printed in a timeline.
    pub outcome: String,
}

/// One message the sink received.
#[derive(Debug, Clone)]
pub struct Mail {
    pub file: String,
    pub to: String,
    /// When the sink took it.
    pub time: Time,
    /// The campaign part of its Message-ID (`notice` for confirmations).
    pub campaign: String,
    /// A confirmation email: the sign-up its link came from, when it told.
    pub confirmation: Option<Option<u64>>,
    /// A bulletin: the issue its subject names.
    pub issue: Option<u32>,
}

/// The newsletter folder's lists looked at, file by file, between `start`
/// and `end`: which files held each address of the pool.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub start: Time,
    pub end: Time,
    pub holding: BTreeMap<String, Vec<String>>,
}

/// Why an address was on the suppression list before the actors started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initially {
    Unsubscribed,
    Complaint,
    HardBounce,
}

/// Everything the oracle judges.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// When the actors started (times in timelines count from it).
    pub origin: Time,
    pub initially: BTreeMap<String, Initially>,
    pub ops: Vec<Op>,
    pub mails: Vec<Mail>,
    pub snapshots: Vec<Snapshot>,
    /// The issue of the send made after the actors stopped.
    pub final_issue: u32,
}

/// One broken invariant.
#[derive(Debug, Clone)]
pub struct Violation {
    /// 1 to 5, as numbered in issue 23's checker.
    pub invariant: u8,
    pub address: String,
    pub what: String,
    /// Which row of issue 23 this most likely is, from the timeline.
    pub likely: String,
}

/// An opt-out as the oracle sees it: an acknowledged operation, or the
/// suppression row the address started with (at the origin, instant).
#[derive(Debug, Clone)]
struct OptOut {
    start: Time,
    end: Time,
    op: Option<u64>,
    forget: bool,
}

/// An opt-in: an acknowledged `resubscribe`, or an acknowledged
/// confirmation. `decided` is when the reader's choice was made: the
/// resubscribe itself, or the sign-up POST the confirmation's link came
/// from; `start` is when it could first take effect.
#[derive(Debug, Clone)]
struct OptIn {
    decided_end: Time,
    start: Time,
}

impl OptIn {
    /// Whether this opt-in may come after `out` in some order the times
    /// allow: its decision did not end before the opt-out started. The
    /// issue says "started after the opt-out ended"; overlapping in time,
    /// either order is allowed, so an overlapping opt-in is given the
    /// benefit of the doubt (the less strict reading).
    fn may_follow(&self, out: &OptOut) -> bool {
        self.decided_end > out.start
    }
}

impl History {
    fn op(&self, id: u64) -> Option<&Op> {
        self.ops.iter().find(|o| o.id == id)
    }

    fn ops_on(&self, address: &str) -> impl Iterator<Item = &Op> + use<'_> {
        let address = address.to_owned();
        self.ops.iter().filter(move |o| o.address.as_deref() == Some(address.as_str()))
    }

    fn opt_outs(&self, address: &str) -> Vec<OptOut> {
        // The rows the list started with count as opt-outs made before
        // anything else. A complaint or a hard bounce is lifted here by a
        // confirmation as an unsubscribe is (the binary says it never
        // should be): the less strict reading, as invariant 3 already
        // says such an address is not even to be sent a confirmation.
        let initial = self.initially.get(address).map(|_| OptOut {
            start: self.origin - 1.0,
            end: self.origin - 1.0,
            op: None,
            forget: false,
        });
        initial
            .into_iter()
            .chain(self.ops_on(address).filter(|o| o.acked && o.kind.is_opt_out()).map(|o| OptOut {
                start: o.start,
                end: o.end,
                op: Some(o.id),
                forget: o.kind == Kind::Forget,
            }))
            .collect()
    }

    /// The sign-up operations a confirmation's link may have come from:
    /// the one its link names, or, when it did not say, every sign-up of
    /// the address that started before `before`.
    fn signups_behind(&self, address: &str, signup: Option<u64>, before: Time) -> Vec<&Op> {
        match signup.and_then(|id| self.op(id)) {
            Some(op) => vec![op],
            None => self.ops_on(address).filter(|o| o.kind == Kind::SignUp && o.start < before).collect(),
        }
    }

    fn opt_ins(&self, address: &str) -> Vec<OptIn> {
        let mut ins = Vec::new();
        for op in self.ops_on(address).filter(|o| o.acked) {
            match &op.kind {
                Kind::Resubscribe => ins.push(OptIn { decided_end: op.end, start: op.start }),
                Kind::Confirm { signup } => {
                    // Of the sign-ups it may have come from, the latest.
                    let decided = self
                        .signups_behind(address, *signup, op.end)
                        .iter()
                        .map(|s| s.end)
                        .fold(f64::NEG_INFINITY, f64::max);
                    if decided.is_finite() {
                        ins.push(OptIn { decided_end: decided, start: op.start });
                    }
                }
                _ => {}
            }
        }
        ins
    }

    /// The send that mailed issue `issue`.
    fn send_of(&self, issue: u32) -> Option<&Op> {
        self.ops.iter().find(|o| o.kind == Kind::Send { issue })
    }

    /// Whether `address` was not to be sent a confirmation for `signup`:
    /// it started suppressed for a complaint or a hard bounce with no
    /// `resubscribe` that may have come before the sign-up, or it was
    /// forgotten before the sign-up started with no `resubscribe` that may
    /// have come in between.
    fn blocked(&self, address: &str, signup: &Op) -> bool {
        let resubscribes: Vec<&Op> =
            self.ops_on(address).filter(|o| o.acked && o.kind == Kind::Resubscribe).collect();
        let bounced =
            matches!(self.initially.get(address), Some(Initially::Complaint | Initially::HardBounce));
        if bounced && !resubscribes.iter().any(|r| r.start < signup.end) {
            return true;
        }
        self.ops_on(address)
            .filter(|o| o.acked && o.kind == Kind::Forget && o.end < signup.start)
            .any(|forget| !resubscribes.iter().any(|r| r.end > forget.start && r.start < signup.end))
    }

    /// Checks the five invariants; every violation found, not just the first.
    pub fn violations(&self) -> Vec<Violation> {
        let mut found = Vec::new();
        self.lost_opt_outs(&mut found);
        self.confirmations_to_the_suppressed(&mut found);
        self.campaigns_received_twice(&mut found);
        self.addresses_back_after_forget(&mut found);
        found
    }

    /// Invariants 1 and 2: an opt-out that no opt-in may follow, then a
    /// bulletin to the address from a send that began after it ended (1 is
    /// the final send's case).
    fn lost_opt_outs(&self, found: &mut Vec<Violation>) {
        for mail in self.mails.iter().filter(|m| m.confirmation.is_none()) {
            let Some(issue) = mail.issue else { continue };
            let Some(send) = self.send_of(issue) else { continue };
            let ins = self.opt_ins(&mail.to);
            // The latest opt-out first: its timeline is the one to read.
            let mut outs = self.opt_outs(&mail.to);
            outs.sort_by(|a, b| b.end.total_cmp(&a.end));
            for out in outs.iter().filter(|o| o.end < send.start) {
                // The issue: "unless an opt-in started after the opt-out
                // ended and finished before the send began". Less strict:
                // it may follow the opt-out and started before the message
                // was taken (a send checks the list while it runs).
                if ins.iter().any(|i| i.may_follow(out) && i.start < mail.time) {
                    continue;
                }
                let invariant = if issue == self.final_issue { 1 } else { 2 };
                let what = format!(
                    "Issue {issue} ({}) went to {} at {}, after {} had ended at {}, with no opt-in that may follow it",
                    mail.file,
                    mail.to,
                    self.at(mail.time),
                    out.op.and_then(|id| self.op(id)).map_or(
                        "the suppression it started with".to_owned(),
                        |op| format!("{} #{}", op.kind.name(), op.id)
                    ),
                    self.at(out.end)
                );
                found.push(Violation {
                    invariant,
                    address: mail.to.clone(),
                    what,
                    likely: self.likely_row_of_lost(&mail.to, out, mail.time),
                });
                break;
            }
        }
    }

    /// Invariant 3.
    fn confirmations_to_the_suppressed(&self, found: &mut Vec<Violation>) {
        for mail in &self.mails {
            let Some(signup) = mail.confirmation else { continue };
            let behind = self.signups_behind(&mail.to, signup, mail.time);
            if !behind.is_empty() && behind.iter().all(|s| self.blocked(&mail.to, s)) {
                let ids: Vec<String> = behind.iter().map(|s| format!("#{}", s.id)).collect();
                let why = match self.initially.get(&mail.to) {
                    Some(Initially::Complaint) => "suppressed for a complaint",
                    Some(Initially::HardBounce) => "suppressed for a hard bounce",
                    _ => "forgotten before the sign-up started",
                };
                found.push(Violation {
                    invariant: 3,
                    address: mail.to.clone(),
                    what: format!(
                        "a confirmation email ({}) went to {}, {why} (sign-up {})",
                        mail.file,
                        mail.to,
                        ids.join(" or ")
                    ),
                    likely: "not rows 1-3: the sign-up form emails suppressed and forgotten addresses".into(),
                });
            }
        }
    }

    /// Invariant 4.
    fn campaigns_received_twice(&self, found: &mut Vec<Violation>) {
        let mut copies: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
        for mail in self.mails.iter().filter(|m| m.confirmation.is_none()) {
            copies.entry((mail.campaign.as_str(), mail.to.as_str())).or_default().push(&mail.file);
        }
        for ((campaign, to), files) in copies.into_iter().filter(|(_, f)| f.len() > 1) {
            found.push(Violation {
                invariant: 4,
                address: to.to_owned(),
                what: format!(
                    "{to} received campaign {campaign} {} times: {}",
                    files.len(),
                    files.join(", ")
                ),
                likely: "a duplicate within one campaign".into(),
            });
        }
    }

    /// Invariant 5, on every look at the folder (the actors' and the last).
    fn addresses_back_after_forget(&self, found: &mut Vec<Violation>) {
        let mut reported = BTreeSet::new();
        for snapshot in &self.snapshots {
            for (address, files) in &snapshot.holding {
                let ins = self.opt_ins(address);
                let forgotten =
                    self.opt_outs(address).into_iter().filter(|o| o.forget && o.end < snapshot.start).find(
                        // An opt-in that may follow the forget and started
                        // before the look ended may have written it back.
                        |f| !ins.iter().any(|i| i.may_follow(f) && i.start < snapshot.end),
                    );
                let Some(forget) = forgotten else { continue };
                if !reported.insert(address.clone()) {
                    continue;
                }
                found.push(Violation {
                    invariant: 5,
                    address: address.clone(),
                    what: format!(
                        "{address} is in {} at {}, after forget #{} ended at {}, with no opt-in that may follow it",
                        files.join(", "),
                        self.at(snapshot.start),
                        forget.op.unwrap_or_default(),
                        self.at(forget.end)
                    ),
                    likely: self.likely_row_of_written_back(address, &forget, snapshot.end),
                });
            }
        }
    }

    /// Rows 1 and 2 of issue 23: a confirmation whose sign-up came before
    /// the opt-out, posted while or after it ran (and before `before`, when
    /// the address was mailed): row 1, or row 2 when `serve` was restarted
    /// between the sign-up and the confirmation (the restart may have been
    /// needed, or not). The latest such confirmation of each row is named.
    fn likely_row_of_lost(&self, address: &str, out: &OptOut, before: Time) -> String {
        let restart_between = |from: Time, to: Time| {
            self.ops.iter().any(|o| matches!(o.kind, Kind::Restart { .. }) && o.start > from && o.end < to)
        };
        let mut confirms: Vec<&Op> =
            self.ops_on(address).filter(|o| o.acked && o.end > out.start && o.start < before).collect();
        confirms.sort_by(|a, b| b.start.total_cmp(&a.start));
        let (mut row1, mut row2) = (None, None);
        for confirm in confirms {
            let Kind::Confirm { signup } = confirm.kind else { continue };
            for signup in self.signups_behind(address, signup, confirm.end) {
                if signup.end > out.start {
                    continue;
                }
                if restart_between(signup.end, confirm.start) {
                    row2 = row2.or(Some(format!(
                        "row 2: the link of sign-up #{} was used (#{}) after a restart with a lower CONFIRM_HOURS",
                        signup.id, confirm.id
                    )));
                } else {
                    row1 = row1.or(Some(format!(
                        "row 1: confirm #{} (of sign-up #{}, made before the opt-out) lifted the opt-out",
                        confirm.id, signup.id
                    )));
                }
            }
        }
        let rows: Vec<String> = row1.into_iter().chain(row2).collect();
        if rows.is_empty() { "unclassified".into() } else { rows.join("; ") }
    }

    /// Row 3 of issue 23: an old preference link or confirmation link used
    /// after `forget` started and before the folder was looked at (the
    /// first of each).
    fn likely_row_of_written_back(&self, address: &str, forget: &OptOut, look: Time) -> String {
        let after = self.ops_on(address).filter(|o| o.acked && o.end > forget.start && o.start < look);
        let (mut preference, mut confirmation) = (None, None);
        for op in after {
            match op.kind {
                Kind::PrefSave | Kind::PrefPause => preference = preference.or(Some(op.id)),
                Kind::Confirm { .. } => confirmation = confirmation.or(Some(op.id)),
                _ => {}
            }
        }
        let mut rows = Vec::new();
        if let Some(id) = preference {
            rows.push(format!("row 3: an old preference link used after forget (#{id})"));
        }
        if let Some(id) = confirmation {
            rows.push(format!("row 3: an old confirmation link replayed after forget (#{id})"));
        }
        if rows.is_empty() { "unclassified".into() } else { rows.join("; ") }
    }

    fn at(&self, time: Time) -> String {
        format!("+{:.3}s", time - self.origin)
    }

    /// Everything that happened to `address`, in order of start: the
    /// operations on it, the messages it was sent and the restarts.
    pub fn timeline(&self, address: &str) -> String {
        let mut lines: Vec<(Time, String)> = Vec::new();
        if let Some(initially) = self.initially.get(address) {
            lines.push((
                self.origin - 1.0,
                format!("  (start)            on the suppression list: {initially:?}"),
            ));
        }
        let mailed: BTreeSet<u32> =
            self.mails.iter().filter(|m| m.to == address).filter_map(|m| m.issue).collect();
        for op in self.ops.iter().filter(|o| match o.kind {
            Kind::Restart { .. } | Kind::Merge => true,
            Kind::Send { issue } => mailed.contains(&issue),
            _ => o.address.as_deref() == Some(address),
        }) {
            lines.push((
                op.start,
                format!(
                    "  {}..{}  #{:<5} {:<10} {}  -> {}{}",
                    self.at(op.start),
                    self.at(op.end),
                    op.id,
                    op.actor,
                    op.kind.name(),
                    op.outcome,
                    if op.acked { " (acknowledged)" } else { "" }
                ),
            ));
        }
        for mail in self.mails.iter().filter(|m| m.to == address) {
            let what = match (mail.confirmation, mail.issue) {
                (Some(Some(id)), _) => format!("confirmation email, link of sign-up #{id}"),
                (Some(None), _) => "confirmation email".to_owned(),
                (None, Some(issue)) => format!("bulletin Issue {issue} ({})", mail.campaign),
                (None, None) => format!("message of campaign {}", mail.campaign),
            };
            lines.push((
                mail.time,
                format!("  {}           (sink)     {what} [{}]", self.at(mail.time), mail.file),
            ));
        }
        lines.sort_by(|a, b| a.0.total_cmp(&b.0));
        lines.into_iter().map(|(_, l)| l + "\n").collect()
    }

    /// The failure report: every violation, then the timeline of each
    /// offending address (the first few).
    pub fn report(&self, seed: u64, violations: &[Violation]) -> String {
        let mut out = format!(
            "consent checker, seed {seed} (replay: CONSENT_SEED={seed} cargo test --test it consent -- --ignored): {} violation(s)\n",
            violations.len()
        );
        let mut by_invariant: BTreeMap<u8, usize> = BTreeMap::new();
        for v in violations {
            *by_invariant.entry(v.invariant).or_default() += 1;
        }
        let _ = writeln!(out, "by invariant: {by_invariant:?}");
        let mut rows: BTreeMap<(u8, &str), usize> = BTreeMap::new();
        for v in violations {
            for cause in v.likely.split("; ") {
                *rows.entry((v.invariant, cause.split(':').next().unwrap_or_default())).or_default() += 1;
            }
        }
        let _ = writeln!(out, "by invariant and likely cause: {rows:?}");
        for v in violations.iter().take(40) {
            let _ = writeln!(out, "invariant {}: {}\n    likely {}", v.invariant, v.what, v.likely);
        }
        let addresses: BTreeSet<&str> = violations.iter().map(|v| v.address.as_str()).collect();
        for address in addresses {
            let _ = write!(out, "\ntimeline of {address}:\n{}", self.timeline(address));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: &str = "x@example.org";

    fn op(id: u64, kind: Kind, start: Time, end: Time) -> Op {
        let address = match kind {
            Kind::Send { .. } | Kind::Restart { .. } | Kind::Merge => None,
            _ => Some(X.to_owned()),
        };
        Op { id, actor: "t".into(), kind, address, start, end, acked: true, outcome: "200".into() }
    }

    fn bulletin(issue: u32, time: Time) -> Mail {
        Mail {
            file: format!("{issue}.eml"),
            to: X.into(),
            time,
            campaign: format!("issue-{issue}"),
            confirmation: None,
            issue: Some(issue),
        }
    }

    fn history(ops: Vec<Op>, mails: Vec<Mail>) -> History {
        History { ops, mails, final_issue: 9, ..History::default() }
    }

    #[test]
    fn a_confirmation_whose_sign_up_came_before_the_unsubscribe_does_not_excuse_the_final_send() {
        let h = history(
            vec![
                op(1, Kind::SignUp, 1.0, 1.1),
                op(2, Kind::OneClick, 2.0, 2.1),
                op(3, Kind::Confirm { signup: Some(1) }, 2.2, 2.3),
                op(4, Kind::Send { issue: 9 }, 5.0, 6.0),
            ],
            vec![bulletin(9, 5.5)],
        );
        let found = h.violations();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].invariant, 1);
        assert!(found[0].likely.starts_with("row 1"), "{found:?}");
    }

    #[test]
    fn an_unsubscribe_overlapping_the_sign_up_may_come_first_and_is_not_flagged() {
        let h = history(
            vec![
                op(1, Kind::SignUp, 1.0, 2.05),
                op(2, Kind::OneClick, 2.0, 2.1),
                op(3, Kind::Confirm { signup: Some(1) }, 2.2, 2.3),
                op(4, Kind::Send { issue: 9 }, 5.0, 6.0),
            ],
            vec![bulletin(9, 5.5)],
        );
        assert!(h.violations().is_empty());
    }

    #[test]
    fn a_send_overlapping_the_unsubscribe_may_mail_the_reader() {
        let h = history(
            vec![op(2, Kind::OneClick, 2.0, 5.1), op(4, Kind::Send { issue: 3 }, 5.0, 6.0)],
            vec![bulletin(3, 5.5)],
        );
        assert!(h.violations().is_empty());
    }

    #[test]
    fn an_address_written_back_after_forget_is_flagged_unless_a_new_sign_up_was_confirmed() {
        let look = |start| Snapshot {
            start,
            end: start + 0.01,
            holding: BTreeMap::from([(X.to_owned(), vec!["preferences.csv".to_owned()])]),
        };
        let mut h = history(vec![op(1, Kind::Forget, 1.0, 1.2), op(2, Kind::PrefSave, 1.5, 1.6)], Vec::new());
        h.snapshots = vec![look(1.1), look(2.0)];
        let found = h.violations();
        assert_eq!(found.len(), 1, "the look during the forget is not judged: {found:?}");
        assert_eq!(found[0].invariant, 5);
        assert!(found[0].likely.starts_with("row 3"), "{found:?}");

        h.ops.push(op(3, Kind::SignUp, 1.3, 1.35));
        h.ops.push(op(4, Kind::Confirm { signup: Some(3) }, 1.4, 1.45));
        assert!(h.violations().is_empty());
    }

    #[test]
    fn a_confirmation_to_a_hard_bounced_address_is_flagged_and_after_a_resubscribe_is_not() {
        let mut h = history(vec![op(1, Kind::SignUp, 1.0, 1.1)], Vec::new());
        h.initially.insert(X.into(), Initially::HardBounce);
        h.mails.push(Mail {
            file: "1.eml".into(),
            to: X.into(),
            time: 1.2,
            campaign: "notice".into(),
            confirmation: Some(Some(1)),
            issue: None,
        });
        assert_eq!(h.violations().iter().map(|v| v.invariant).collect::<Vec<_>>(), [3]);
        h.ops.push(op(0, Kind::Resubscribe, 0.5, 1.05));
        assert!(h.violations().is_empty());
    }

    #[test]
    fn one_campaign_twice_to_one_reader_is_flagged() {
        let h =
            history(vec![op(4, Kind::Send { issue: 3 }, 5.0, 6.0)], vec![bulletin(3, 5.5), bulletin(3, 5.6)]);
        assert_eq!(h.violations().iter().map(|v| v.invariant).collect::<Vec<_>>(), [4]);
    }
}
