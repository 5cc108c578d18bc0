//! A relay holding the *sender* back, as opposed to refusing a message: it
//! wants the run slower, on fewer connections, or over for the day. Read
//! once from a [`Reply`], by the send loop (which slows down, drops a
//! connection or stops) and by the bounce classes (none of these is ever a
//! reader's bounce).
//!
//! The replies recognised, from the providers' own documentation:
//! * **Rate** (`421`/`451`/`454`/`450`, any `4.x.x`): Amazon SES `454
//!   Throttling failure: Maximum sending rate exceeded.`
//!   (<https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html>);
//!   Gmail `421 4.7.0 Try again later, closing connection.`, `421 4.7.28
//!   … unusual rate of unsolicited mail`, `454 4.7.0 Too many login
//!   attempts` (<https://support.google.com/a/answer/3726730>); Microsoft
//!   365 `4.5.127 Excessive message rate from sender`; Postfix's anvil
//!   `421 4.7.0 … Error: too much mail from …`; and any temporary reply
//!   whose words say rate, throttling or slow down.
//! * **Connections**: `421 4.3.2` refusals of one more connection and
//!   "too many connections" / "too many concurrent" / "connection limit"
//!   wording (Postfix `421 4.7.0 … Error: too many connections from …`).
//! * **Quota**, whatever the code: SES `454 Throttling failure: Daily
//!   message quota exceeded.`; Gmail and Google Workspace `550 5.4.5 Daily
//!   user sending limit exceeded.` and `550 5.4.5 Daily SMTP relay limit
//!   exceeded`; Microsoft 365 `550 5.1.90 … reached your daily limit for
//!   message recipients`, `550 5.7.232`/`5.7.233 … exceeded its daily
//!   limit for sending email to external recipients`, `554 5.2.0
//!   STOREDRV.Submission.Exception:SubmissionQuotaExceededException`; and
//!   "too many messages" wording (except "in this session" or "on this
//!   connection", a limit of one session, which a new one mends).
//!
//! A reply about the recipient's own address or mailbox (`x.1.x`, `x.2.x`:
//! "mailbox over quota", Gmail's `4.2.1` "receiving mail at a rate…") is
//! never one of these.

use super::{Reply, ReplyCode, StatusCode};

/// What the relay holds the sender to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Too fast: the whole run slows down, and the message is tried again
    /// without using up its retries.
    Rate,
    /// Too many connections at once: the run carries on with the ones the
    /// relay took.
    Connections,
    /// The sender's allowance (daily quota) is used up: the run stops, and
    /// the messages not taken stay pending for when it resets.
    Quota,
}

const QUOTA: &[&str] = &[
    "message quota exceeded",
    "sending quota",
    "daily quota",
    "quota exceeded for sending",
    "sending limit exceeded",
    "daily user sending limit",
    "daily sending limit",
    "relay limit exceeded",
    "submissionquotaexceeded",
    "exceeded its daily limit",
    "reached your daily limit",
    "daily limit for message recipients",
    "too many messages",
    "message limit exceeded",
];

/// Words after "too many messages" that make it a limit of one session.
const ONE_SESSION: &[&str] = &["session", "connection", "transaction"];

const CONNECTIONS: &[&str] = &[
    "too many connections",
    "too many concurrent",
    "too many simultaneous",
    "too many open connections",
    "connection limit",
    "concurrent connections",
    "maximum number of connections",
    "too many sessions",
];

const RATE: &[&str] = &[
    "throttl",
    "rate limit",
    "rate exceeded",
    "sending rate",
    "message rate",
    "excessive rate",
    "unusual rate",
    "too much mail",
    "too many login attempts",
    "too many requests",
    "slow down",
    "too fast",
    "try again later, closing connection",
];

impl Limit {
    /// The limit `reply` speaks of, if any.
    pub fn of(reply: &Reply) -> Option<Self> {
        Self::find(reply.code(), reply.status(), reply.text())
    }

    /// The limit a reply with these codes and words speaks of.
    pub fn find(code: Option<ReplyCode>, status: Option<StatusCode>, text: &str) -> Option<Self> {
        let class = status.map(StatusCode::class).or(code.map(ReplyCode::class));
        let detail = status.map(|s| (s.subject(), s.detail()));
        if class == Some(5) && matches!(detail, Some((4, 5) | (1, 90) | (7, 232 | 233))) {
            return Some(Self::Quota);
        }
        let lower = text.to_lowercase();
        // Microsoft files its submission quota under 5.2.0 (mailbox status).
        if status.is_some_and(|s| matches!(s.subject(), 1 | 2)) && !lower.contains("submissionquotaexceeded")
        {
            return None;
        }
        let says = |phrases: &[&str]| phrases.iter().any(|p| lower.contains(p));
        if says(QUOTA) && !one_session(&lower) {
            return Some(Self::Quota);
        }
        if class != Some(4) {
            return None;
        }
        if says(CONNECTIONS) || (code.map(ReplyCode::value) == Some(421) && detail == Some((3, 2))) {
            return Some(Self::Connections);
        }
        if says(RATE) || matches!(detail, Some((7, 28) | (5, 127))) {
            return Some(Self::Rate);
        }
        None
    }
}

/// True when "too many messages" is about one session, not the account.
fn one_session(lower: &str) -> bool {
    lower.split("too many messages").skip(1).all(|after| ONE_SESSION.iter().any(|w| after.contains(w)))
        && lower.contains("too many messages")
}

impl Reply {
    /// The limit this reply holds the sender to, if any (see [`Limit`]).
    pub fn limit(&self) -> Option<Limit> {
        Limit::of(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(text: &str) -> Option<Limit> {
        Reply::from_text(text).limit()
    }

    #[test]
    fn the_providers_rate_replies_are_read_as_slow_down() {
        for text in [
            "454 Throttling failure: Maximum sending rate exceeded.",
            "421 4.7.0 Try again later, closing connection. (EHLO) s12sm3 - gsmtp",
            "421 4.7.28 [192.0.2.1] Our system has detected an unusual rate of unsolicited mail",
            "454 4.7.0 Too many login attempts, please try again later.",
            "450 4.5.127 Excessive message rate from sender",
            "421 4.7.0 mx.example.org Error: too much mail from 192.0.2.1",
            "451 4.7.1 Please slow down",
        ] {
            assert_eq!(limit(text), Some(Limit::Rate), "{text}");
        }
    }

    #[test]
    fn the_providers_quota_replies_are_read_as_the_allowance_used_up() {
        for text in [
            "454 Throttling failure: Daily message quota exceeded.",
            "550 5.4.5 Daily user sending limit exceeded. For more information go to https://support.google.com/a/answer/166852",
            "550 5.4.5 Daily SMTP relay limit exceeded for customer.",
            "550 5.1.90 Your message can't be sent because you've reached your daily limit for message recipients",
            "550 5.7.233 Your message can't be sent because your tenant exceeded its daily limit for sending email to external recipients (tenant external recipient rate limit)",
            "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message",
            "451 4.7.1 Too many messages sent today, try tomorrow",
        ] {
            assert_eq!(limit(text), Some(Limit::Quota), "{text}");
        }
    }

    #[test]
    fn connection_count_refusals_are_read_as_too_many_connections() {
        for text in [
            "421 4.3.2 Too many concurrent connections",
            "421 4.7.0 mx.example.org Error: too many connections from 192.0.2.1",
            "421 4.3.2 Service not available, closing transmission channel",
        ] {
            assert_eq!(limit(text), Some(Limit::Connections), "{text}");
        }
    }

    #[test]
    fn the_readers_mailbox_a_session_limit_and_plain_failures_are_no_limit() {
        for text in [
            "452 4.2.2 The email account that you tried to reach is over quota",
            "552 5.2.2 Mailbox full: quota exceeded",
            "450 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages",
            "421 4.7.0 closing: too many messages in this session",
            "451 4.3.0 Temporary failure, try again later",
            "550 5.1.1 User unknown",
            "554 5.7.1 Relay access denied",
            "250 2.0.0 Ok: queued as 4ABC",
        ] {
            assert_eq!(limit(text), None, "{text}");
        }
    }
}
