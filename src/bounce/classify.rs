//! Why a message was not delivered, and what that means for the address:
//! hard (it will never take mail: suppress it), soft (it may again: count
//! it), blocked (the receiving side refused *the sender*: the address is
//! not at fault, never suppress it), or unknown.
//!
//! Sources, in the order they are trusted:
//! * RFC 3463 (enhanced status codes): `X.1.x` address status, `X.2.x`
//!   mailbox status, `X.3.x` mail system, `X.4.x` network and routing,
//!   `X.5.x` protocol, `X.6.x` content, `X.7.x` security or policy. Class 4
//!   is "persistent transient": the same message may be delivered later.
//! * RFC 7505 (`5.1.10`: the domain publishes a null MX and takes no mail)
//!   and RFC 7372 (`5.7.20`–`5.7.26`: DKIM, SPF and DMARC failures).
//! * RFC 5321 §4.2 reply codes when a server gives no enhanced code: 550
//!   "mailbox unavailable" covers unknown users and policy refusals alike,
//!   so it is decided by the words; 551 "user not local", 552 "exceeded
//!   storage allocation" (RFC 5321 §4.5.3.1.10 says to treat it as
//!   temporary), 553 "mailbox name not allowed".
//! * The words big providers use:
//!   Gmail, <https://support.google.com/a/answer/3726730> ("550 5.1.1 The
//!   email account that you tried to reach does not exist", "550 5.2.1 …
//!   is disabled", "552 5.2.2 … is over quota", "550 5.7.1 … unsolicited
//!   mail", "550 5.7.26 … DMARC");
//!   Microsoft 365 / Outlook.com,
//!   <https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/non-delivery-reports-in-exchange-online>
//!   ("5.1.10 RESOLVER.ADR.RecipientNotFound", "5.1.1
//!   RESOLVER.ADR.RecipNotFound", "5.4.1 Recipient address rejected:
//!   Access denied" for an address the tenant does not have, "5.7.606
//!   Access denied, banned sending IP", "550 5.5.0 Requested action not
//!   taken: mailbox unavailable");
//!   Yahoo, <https://senders.yahooinc.com/smtp-error-codes/> ("554 delivery
//!   error: dd This user doesn't have a yahoo.com account", "… This mailbox
//!   is disabled", "421 4.7.0 [TSS04] … temporarily deferred", "553 5.7.1
//!   [BL21] … Spamhaus");
//!   Sisimai's reason tables (<https://libsisimai.org/en/reason/>) for the
//!   wording of Postfix, Exim, qmail and Sendmail.
//!
//! When in doubt the answer is never "hard": a wrongly suppressed reader is
//! lost silently, while an unknown bounce is only listed.

use std::fmt;

use super::phrases::{AUTHENTICATION, CONTENT, DISABLED, FULL, NO_DOMAIN, NO_MAILBOX, POLICY, SENDER, SPAM};
use crate::domain::{Limit, Reply, ReplyCode, StatusCode};

/// What a failure means for the address. Its name (`hard`, `soft`,
/// `blocked`, `unknown`) is what the ledger stores and listings show:
/// `Display`, `AsRef<str>`, `&'static str::from` and `FromStr` all use it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::AsRefStr,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[strum(serialize_all = "lowercase")]
pub enum Class {
    /// The address does not exist or refuses mail for good: suppress it.
    Hard,
    /// A temporary condition (a full mailbox, a server down for days):
    /// counted, and suppressed after `BOUNCE_SOFT_LIMIT` in a row.
    Soft,
    /// The receiving side refused the sender (spam filter, reputation,
    /// SPF/DKIM/DMARC, policy, content): not the address's fault, never
    /// suppressed. Look at the sending domain's setup and reputation.
    Blocked,
    /// Not enough to tell; never suppressed.
    Unknown,
}

impl Class {
    /// The class's name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The inverse of [`Class::as_str`]: `None` for any other text (exact,
    /// lower case).
    pub fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

/// Why a message was not delivered, in a few words; each belongs to one
/// [`Class`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    NoSuchMailbox,
    NoSuchDomain,
    MailboxDisabled,
    MailboxMoved,
    BadAddress,
    MailboxFull,
    Temporary,
    Network,
    SpamOrReputation,
    Authentication,
    Policy,
    Content,
    SenderRefused,
    /// The sender's daily allowance is used up (see [`Limit::Quota`]).
    QuotaUsed,
    /// The relay asked the sender to slow down or use fewer connections.
    Throttled,
    /// An address with non-ASCII letters before the @ and a relay (or
    /// server) that does not offer SMTPUTF8 (RFC 6531; `X.6.7`, RFC 6533):
    /// neither the address's fault nor one another try mends.
    NonAsciiAddress,
    Unrecognised,
}

impl Cause {
    pub fn class(self) -> Class {
        match self {
            Self::NoSuchMailbox
            | Self::NoSuchDomain
            | Self::MailboxDisabled
            | Self::MailboxMoved
            | Self::BadAddress => Class::Hard,
            Self::MailboxFull | Self::Temporary | Self::Network => Class::Soft,
            Self::SpamOrReputation
            | Self::Authentication
            | Self::Policy
            | Self::Content
            | Self::SenderRefused
            | Self::QuotaUsed
            | Self::NonAsciiAddress => Class::Blocked,
            Self::Throttled | Self::Unrecognised => Class::Unknown,
        }
    }

    /// A few words for listings.
    pub fn describe(self) -> &'static str {
        match self {
            Self::NoSuchMailbox => "no such mailbox",
            Self::NoSuchDomain => "no such domain",
            Self::MailboxDisabled => "mailbox disabled",
            Self::MailboxMoved => "mailbox moved",
            Self::BadAddress => "malformed address",
            Self::MailboxFull => "mailbox full",
            Self::Temporary => "temporary failure",
            Self::Network => "network or routing failure",
            Self::SpamOrReputation => "spam filter or sender reputation",
            Self::Authentication => "sender authentication (SPF/DKIM/DMARC)",
            Self::Policy => "refused by policy",
            Self::Content => "message refused (content or size)",
            Self::SenderRefused => "sender address refused",
            Self::QuotaUsed => "the sender's sending quota is used up",
            Self::Throttled => "the relay asked to slow down",
            Self::NonAsciiAddress => "non-ASCII address without SMTPUTF8",
            Self::Unrecognised => "not recognised",
        }
    }

    /// What to do about a failure of this cause that another try would
    /// only repeat, for listings; `None` when there is nothing to say
    /// beyond the reply itself.
    pub fn remedy(self) -> Option<&'static str> {
        Some(match self {
            Self::NonAsciiAddress => {
                "ask the reader for another address (without non-ASCII letters before the @), or send \
                 through a relay that offers SMTPUTF8"
            }
            Self::NoSuchMailbox | Self::NoSuchDomain | Self::MailboxDisabled | Self::MailboxMoved => {
                "the address takes no mail: ask the reader for a new one, or take it off the list"
            }
            Self::BadAddress => "the address is not one: correct it on the list",
            Self::SpamOrReputation
            | Self::Authentication
            | Self::Policy
            | Self::Content
            | Self::SenderRefused => {
                "the relay refused the sender or the message, not the reader: mend that first"
            }
            Self::MailboxFull
            | Self::Temporary
            | Self::Network
            | Self::QuotaUsed
            | Self::Throttled
            | Self::Unrecognised => return None,
        })
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Classifies a relay's reply, by the codes it came with.
pub fn classify_reply(reply: &Reply) -> Cause {
    classify(reply.status(), reply.code(), reply.text())
}

/// Who a relay's refusal at send time puts the fault on. Only a
/// recipient-caused failure counts towards the address's bounce record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::AsRefStr, strum::Display, strum::IntoStaticStr)]
pub enum Blame {
    /// The recipient's address or mailbox: unknown user, disabled or full
    /// mailbox, no such domain.
    #[strum(serialize = "recipient-caused")]
    Recipient,
    /// Ours: quota, authentication, relay access, sender policy, the
    /// message's content or size, or a permanent refusal we cannot read.
    #[strum(serialize = "sender-caused")]
    Sender,
    /// Neither, for now: throttling, a relay or network having trouble, a
    /// temporary refusal we cannot read.
    #[strum(serialize = "transient")]
    Transient,
}

/// A relay's refusal at send time, classified once: why, and whose fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub cause: Cause,
    pub blame: Blame,
}

impl Verdict {
    /// The verdict on `reply`. At send time a temporary failure or a
    /// network trouble is the relay's, not the address's: the reader's
    /// server is not even reached until the relay has the message.
    pub fn of(reply: &Reply) -> Self {
        let cause = classify_reply(reply);
        let permanent =
            reply.status().map(StatusCode::class).or(reply.code().map(ReplyCode::class)) == Some(5);
        let blame = match cause {
            Cause::MailboxFull => Blame::Recipient,
            Cause::Temporary | Cause::Network | Cause::Throttled => Blame::Transient,
            // Our relay lacks SMTPUTF8: ours to mend, not the reader's.
            Cause::NonAsciiAddress => Blame::Sender,
            Cause::Unrecognised if permanent => Blame::Sender,
            Cause::Unrecognised => Blame::Transient,
            _ if cause.class() == Class::Blocked => Blame::Sender,
            _ => Blame::Recipient,
        };
        Self { cause, blame }
    }

    /// Whether another try could succeed with nothing changed: a passing
    /// trouble, a full mailbox, a quota that resets. A refusal of the
    /// address, the sender or the message would only be repeated.
    pub fn may_pass_later(self) -> bool {
        self.blame == Blame::Transient || matches!(self.cause, Cause::MailboxFull | Cause::QuotaUsed)
    }

    /// The class the failure counts as for the address: its own class when
    /// the recipient is at fault, else one that never suppresses.
    pub fn class(self) -> Class {
        match self.blame {
            Blame::Recipient => self.cause.class(),
            Blame::Sender => Class::Blocked,
            Blame::Transient => Class::Unknown,
        }
    }
}

/// Classifies a reply or diagnostic text on its own, taking the codes from
/// the text (a relay's reply as the journal keeps it, a DSN's
/// `Diagnostic-Code`, a line of a text bounce).
pub fn classify_text(text: &str) -> Cause {
    classify(StatusCode::find(text), ReplyCode::find(text), text)
}

/// Classifies a failure from its enhanced status code, its reply code and
/// its words; see the module documentation for the sources.
pub fn classify(status: Option<StatusCode>, reply: Option<ReplyCode>, text: &str) -> Cause {
    let lower = text.to_lowercase();
    let words = Words(&lower);
    let class = status.map(StatusCode::class).or(reply.map(ReplyCode::class));
    match class {
        Some(5 | 4) => {}
        // A success, or nothing to go by at all.
        _ => return Cause::Unrecognised,
    }
    let permanent = class == Some(5);
    match Limit::find(reply, status, text) {
        Some(Limit::Quota) => return Cause::QuotaUsed,
        Some(Limit::Rate | Limit::Connections) => return Cause::Throttled,
        None => {}
    }

    // X.7.x is security or policy (RFC 3463 §3.8); 5.7.20 to 5.7.26 are the
    // DKIM, SPF and DMARC failures of RFC 7372.
    if let Some(code) = status.filter(|c| c.subject() == 7) {
        return match code.detail() {
            20..=26 => Cause::Authentication,
            _ if words.any(AUTHENTICATION) => Cause::Authentication,
            _ if words.any(SPAM) => Cause::SpamOrReputation,
            _ => Cause::Policy,
        };
    }
    // X.6.7: non-ASCII addresses not permitted (RFC 6531 and 6533), whatever
    // the words around it.
    if status.is_some_and(|c| (c.subject(), c.detail()) == (6, 7)) {
        return Cause::NonAsciiAddress;
    }
    // Microsoft's directory-based edge blocking answers an address the
    // tenant does not have with "Access denied", and RFC 5321's own words
    // for 553 are "mailbox name not allowed": both would otherwise read as
    // a policy refusal.
    if permanent && words.any(&["recipient address rejected: access denied"]) {
        return Cause::NoSuchMailbox;
    }
    if permanent && words.any(&["mailbox name not allowed"]) {
        return Cause::BadAddress;
    }
    // A refusal of the sender can come with any code; it never makes the
    // address bad.
    if let Some(cause) = blocked_by_words(&words) {
        return cause;
    }
    if let Some(code) = status.filter(|c| !c.is_generic())
        && let Some(cause) = by_code(code, &words)
    {
        return cause;
    }
    if !permanent {
        return if words.any(FULL) { Cause::MailboxFull } else { Cause::Temporary };
    }
    if words.any(DISABLED) {
        return Cause::MailboxDisabled;
    }
    if words.any(NO_DOMAIN) {
        return Cause::NoSuchDomain;
    }
    if words.any(NO_MAILBOX) {
        return Cause::NoSuchMailbox;
    }
    if words.any(FULL) {
        return Cause::MailboxFull;
    }
    match reply.map(ReplyCode::value) {
        Some(551) => Cause::MailboxMoved,
        Some(552) => Cause::MailboxFull,
        Some(553) => Cause::BadAddress,
        _ => Cause::Unrecognised,
    }
}

/// What a specific enhanced status code says, when it says enough.
fn by_code(code: StatusCode, words: &Words) -> Option<Cause> {
    let permanent = code.is_permanent();
    let hard_or_temporary = |hard: Cause| if permanent { hard } else { Cause::Temporary };
    Some(match (code.subject(), code.detail()) {
        // X.1.1 bad destination mailbox, X.1.3 bad syntax, X.1.4 ambiguous,
        // X.1.0 other address status.
        (1, 1 | 4 | 0) => hard_or_temporary(Cause::NoSuchMailbox),
        (1, 3) => hard_or_temporary(Cause::BadAddress),
        // X.1.2 bad destination system: the domain does not exist.
        (1, 2) => hard_or_temporary(Cause::NoSuchDomain),
        // X.1.10: RFC 7505 null MX; Microsoft uses it for unknown recipients.
        (1, 10) if words.any(&["null mx", "does not accept mail"]) => hard_or_temporary(Cause::NoSuchDomain),
        (1, 10) => hard_or_temporary(Cause::NoSuchMailbox),
        // X.1.6 destination mailbox has moved, no forwarding address.
        (1, 6) => hard_or_temporary(Cause::MailboxMoved),
        // X.1.7 and X.1.8: the sender's address is the problem.
        (1, 7 | 8) => Cause::SenderRefused,
        // X.2.1 mailbox disabled (Gmail's 4.2.1 is "receiving mail too
        // quickly", which passes).
        (2, 1) => hard_or_temporary(Cause::MailboxDisabled),
        // X.2.2 mailbox full, X.3.1 mail system full: they can empty.
        (2, 2) | (3, 1) => Cause::MailboxFull,
        // X.2.3 and X.3.4 message too big, X.6.x content.
        (2, 3) | (3, 4) | (6, _) => Cause::Content,
        // X.4.4 unable to route: no MX or A record for the domain.
        (4, 4) if permanent && words.any(NO_DOMAIN) => Cause::NoSuchDomain,
        // Other routing and network trouble: time outs, loops, refused
        // connections. Repeated, the soft count catches it.
        (4, _) => Cause::Network,
        (3, _) if !permanent => Cause::Temporary,
        _ => return None,
    })
}

fn blocked_by_words(words: &Words) -> Option<Cause> {
    if words.any(AUTHENTICATION) {
        Some(Cause::Authentication)
    } else if words.any(SPAM) {
        Some(Cause::SpamOrReputation)
    } else if words.any(SENDER) {
        Some(Cause::SenderRefused)
    } else if words.any(CONTENT) {
        Some(Cause::Content)
    } else if words.any(POLICY) {
        Some(Cause::Policy)
    } else {
        None
    }
}

/// Lower-case text to look for phrases in.
struct Words<'a>(&'a str);

impl Words<'_> {
    fn any(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.0.contains(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn class(text: &str) -> Class {
        classify_text(text).class()
    }

    #[test]
    fn enhanced_codes_decide_when_they_are_specific() {
        let table = [
            ("550 5.1.1 <a@example.org>: Recipient address rejected: User unknown", Class::Hard),
            ("550 5.1.2 bad destination system", Class::Hard),
            (
                "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
                Class::Hard,
            ),
            ("556 5.1.10 Recipient address has null MX", Class::Hard),
            ("550 5.2.1 The email account that you tried to reach is disabled", Class::Hard),
            ("550 5.1.6 mailbox has moved", Class::Hard),
            ("552 5.2.2 The email account that you tried to reach is over quota", Class::Soft),
            ("450 4.2.1 The user you are trying to contact is receiving mail too quickly", Class::Soft),
            ("451 4.3.0 Temporary failure, try again later", Class::Soft),
            ("450 4.1.1 <a@b.org>: Recipient address rejected: unverified address", Class::Soft),
            ("550 5.7.1 Message rejected as spam", Class::Blocked),
            (
                "550 5.7.26 Unauthenticated email from example.org is not accepted due to domain's DMARC policy",
                Class::Blocked,
            ),
            ("550 5.7.606 Access denied, banned sending IP [198.51.100.1]", Class::Blocked),
            (
                "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to user complaints",
                Class::Blocked,
            ),
            ("553 5.1.8 Bad sender's system address", Class::Blocked),
            ("554 5.6.0 Message content rejected", Class::Blocked),
            ("552 5.3.4 Message size exceeds fixed limit", Class::Blocked),
            ("550 5.4.1 Recipient address rejected: Access denied", Class::Hard),
            ("554 5.4.14 Hop count exceeded - possible mail loop", Class::Soft),
        ];
        for (reply, want) in table {
            assert_eq!(class(reply), want, "{reply}");
        }
    }

    #[test]
    fn without_a_specific_code_the_words_decide() {
        let table = [
            ("550 Unknown user kijitora@example.ne.jp. (#5.5.0)", Class::Hard),
            ("550 5.5.0 Requested action not taken: mailbox unavailable", Class::Hard),
            ("554 delivery error: dd This user doesn't have a yahoo.com account", Class::Hard),
            ("550 5.0.0 <a@b.org>: User unknown in virtual alias table", Class::Hard),
            (
                "Host or domain name not found. Name service error for name=x.example type=A: Host not found",
                Class::Unknown,
            ),
            ("550 Host or domain name not found", Class::Hard),
            ("550 Mailbox full", Class::Soft),
            ("550 you are not allowed to send mail to <a@b.org>", Class::Blocked),
            (
                "554 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
                Class::Blocked,
            ),
            ("550 Requested action not taken", Class::Unknown),
            ("551 User not local; please try <x@y.org>", Class::Hard),
            ("552 Requested mail action aborted: exceeded storage allocation", Class::Soft),
            ("553 Requested action not taken: mailbox name not allowed", Class::Hard),
            ("553 sorry, mailbox name invalid", Class::Hard),
            ("452 Too many recipients", Class::Soft),
            ("network error: Connection refused (os error 111)", Class::Unknown),
            ("", Class::Unknown),
        ];
        for (reply, want) in table {
            assert_eq!(class(reply), want, "{reply}");
        }
    }

    #[test]
    fn a_dsn_status_with_postfix_words_for_a_missing_domain_is_hard() {
        let text =
            "Host or domain name not found. Name service error for name=x.example type=A: Host not found";
        assert_eq!(classify(StatusCode::parse("5.4.4"), None, text), Cause::NoSuchDomain);
        assert_eq!(classify(StatusCode::parse("4.4.3"), None, text), Cause::Network);
    }

    #[test]
    fn a_block_never_reads_as_a_bad_address_whatever_the_code() {
        assert_eq!(
            classify_text("550 5.1.1 blocked using Spamhaus; see https://www.spamhaus.org"),
            Cause::SpamOrReputation
        );
        assert_eq!(class("554 5.7.1 <a@b.org>: user unknown"), Class::Blocked);
    }

    #[test]
    fn journal_replies_as_lettre_words_them_are_classified() {
        assert_eq!(
            class("permanent error (550): 5.1.1 <r6@example.org>: Recipient address rejected: no such user"),
            Class::Hard
        );
        assert_eq!(
            class("transient error (452): 4.2.2 Mailbox full (gave up after 3 attempts)"),
            Class::Soft
        );
        assert_eq!(class("permanent error (554): 5.7.1 Relay access denied"), Class::Blocked);
    }

    #[test]
    fn classes_read_back_from_their_names() {
        for c in [Class::Hard, Class::Soft, Class::Blocked, Class::Unknown] {
            assert_eq!(Class::parse(c.as_str()), Some(c));
        }
        assert_eq!(Class::parse("complaint"), None);
    }

    #[test]
    fn a_class_s_name_is_the_same_every_way_and_read_back_exactly() {
        for (c, name) in [
            (Class::Hard, "hard"),
            (Class::Soft, "soft"),
            (Class::Blocked, "blocked"),
            (Class::Unknown, "unknown"),
        ] {
            assert_eq!((c.as_str(), c.as_ref(), c.to_string().as_str()), (name, name, name));
        }
        assert_eq!(Class::parse("Hard"), None);
        assert_eq!(Class::parse(" hard"), None);
        assert_eq!(Class::parse(""), None);
    }

    #[test]
    fn a_quota_or_a_throttle_at_send_time_is_never_a_readers_bounce() {
        let verdict = |text: &str| Verdict::of(&Reply::from_text(text));
        let gmail = verdict("permanent error (550): 5.4.5 Daily user sending limit exceeded.");
        assert_eq!(
            (gmail.cause, gmail.blame, gmail.class()),
            (Cause::QuotaUsed, Blame::Sender, Class::Blocked)
        );
        let ses = verdict("transient error (454): Throttling failure: Maximum sending rate exceeded.");
        assert_eq!((ses.blame, ses.class()), (Blame::Transient, Class::Unknown));
        let relay = verdict("transient error (451): 4.3.0 Temporary failure (gave up after 4 attempts)");
        assert_eq!((relay.blame, relay.class()), (Blame::Transient, Class::Unknown));
    }

    #[test]
    fn only_the_readers_own_address_or_mailbox_is_recipient_caused() {
        let blame = |text: &str| Verdict::of(&Reply::from_text(text)).blame;
        assert_eq!(blame("550 5.1.1 <a@example.org>: User unknown"), Blame::Recipient);
        assert_eq!(
            blame("452 4.2.2 The email account that you tried to reach is over quota"),
            Blame::Recipient
        );
        assert_eq!(blame("554 5.7.1 Relay access denied"), Blame::Sender);
        assert_eq!(blame("535 5.7.8 Authentication credentials invalid"), Blame::Sender);
        assert_eq!(blame("552 5.3.4 Message size exceeds fixed limit"), Blame::Sender);
        assert_eq!(blame("554 Transaction failed"), Blame::Sender);
        assert_eq!(blame("cannot connect to 127.0.0.1:25: Connection refused"), Blame::Transient);
        assert_eq!(Blame::Recipient.to_string(), "recipient-caused");
    }

    fn verdict(text: &str) -> Verdict {
        Verdict::of(&Reply::from_text(text))
    }

    #[test]
    fn a_non_ascii_address_without_smtputf8_is_sender_caused_and_will_not_pass_later() {
        let verdict = verdict("553 5.6.7 Non-ASCII addresses not permitted for that recipient");
        assert_eq!(
            (verdict.cause, verdict.blame, verdict.class()),
            (Cause::NonAsciiAddress, Blame::Sender, Class::Blocked)
        );
        assert!(!verdict.may_pass_later());
        assert!(verdict.cause.remedy().is_some_and(|r| r.contains("relay that offers SMTPUTF8")));
    }

    #[test]
    fn only_passing_troubles_a_full_mailbox_or_a_quota_may_pass_later() {
        for text in [
            "transient error (451): 4.3.0 Temporary failure (gave up after 3 attempts)",
            "cannot connect to 127.0.0.1:25: Connection refused",
            "452 4.2.2 Mailbox full",
            "454 Throttling failure: Daily message quota exceeded.",
        ] {
            assert!(verdict(text).may_pass_later(), "{text}");
        }
        for text in ["550 5.1.1 User unknown", "554 5.7.1 Relay access denied", "554 Transaction failed"] {
            assert!(!verdict(text).may_pass_later(), "{text}");
        }
    }
}
