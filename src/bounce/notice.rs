//! One message from the bounce mailbox, read: what it says happened to
//! which address.
//!
//! In order of trust:
//! 1. A feedback report (ARF, RFC 5965: `multipart/report;
//!    report-type=feedback-report`): a reader marked a message as spam.
//! 2. A delivery status notification (RFC 3464: `multipart/report;
//!    report-type=delivery-status` with a `message/delivery-status` part):
//!    one field group per recipient, with `Action`, `Status` and
//!    `Diagnostic-Code`.
//! 3. A bounce in words (see [`super::text`]): recognised by its sender
//!    (`MAILER-DAEMON`, `postmaster`), an `X-Failed-Recipients` header
//!    (Exim, Gmail) or its subject and phrases.
//!
//! Anything else is not a bounce: an out-of-office reply (RFC 3834), a
//! reader's answer, a forwarded message. Only the notification itself is
//! read, never a message it carries, so a forwarded bounce suppresses
//! nobody.

use std::time::{Duration, SystemTime};

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use super::classify::{Cause, classify, classify_text};
use super::fields::{self, Group};
use super::text;
use crate::domain::{ReplyCode, StatusCode};

/// What one message says.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The notice's own `Message-ID`, without angle brackets.
    pub id: Option<String>,
    /// When the notice was written (its `Date`).
    pub date: Option<SystemTime>,
    /// The addresses the notice itself was delivered to, as the bounce
    /// mailbox recorded them (`Delivered-To`, `X-Original-To`,
    /// `Envelope-To`, `X-Envelope-To`) and as it is addressed (`To`, `Cc`):
    /// a report comes back to the envelope sender, so with VERP one of them
    /// carries the token of the message it is about.
    pub delivered_to: Vec<String>,
    /// The message it is about, as far as it shows it.
    pub original: Original,
    pub finding: Finding,
}

/// The message that bounced or was complained about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Original {
    /// `Message-ID`s that may be the original's, best first, without
    /// angle brackets: the returned message's own, then the ones the
    /// notice refers to.
    pub message_ids: Vec<String>,
    /// When it was written (its `Date`).
    pub date: Option<SystemTime>,
    /// Its `To` addresses.
    pub to: Vec<String>,
    /// Its envelope sender, when the returned copy shows it
    /// (`Return-Path`).
    pub return_path: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Delivery failed for these recipients.
    Bounces(Vec<Bounce>),
    /// Readers reported the message as spam.
    Complaints(Vec<Complaint>),
    /// A warning that delivery is late and still being tried.
    Delayed,
    /// Nothing about delivery failing.
    NotBounce(NotBounce),
    /// A message that could not be used, and why.
    Unusable(String),
}

/// One recipient a delivery failed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    /// The address, if the notice names it; `None` leaves it to the
    /// original message's recipient.
    pub address: Option<String>,
    /// The enhanced status code, when there is one.
    pub status: Option<StatusCode>,
    /// The server's words (the DSN's `Diagnostic-Code`, or what the text
    /// says about the address), collapsed to one line.
    pub detail: String,
    pub cause: Cause,
}

/// One reader's spam report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complaint {
    /// The reader's address, if the report names it (many redact it).
    pub address: Option<String>,
    /// `abuse`, `fraud`, `virus` or `other` (RFC 5965 §7.3).
    pub feedback_type: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotBounce {
    /// An out-of-office or other automatic reply.
    AutoReply,
    /// A report that delivery succeeded.
    DeliveryReport,
    /// Ordinary mail.
    Other,
}

impl Notice {
    fn unusable(why: &str) -> Self {
        Self {
            id: None,
            date: None,
            delivered_to: Vec::new(),
            original: Original::default(),
            finding: Finding::Unusable(why.to_owned()),
        }
    }
}

/// Reads one message. Never fails: what cannot be read is
/// [`Finding::Unusable`], saying why.
pub fn read(raw: &[u8]) -> Notice {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Notice::unusable("the file is empty");
    }
    let Some(message) = MessageParser::default().parse(raw) else {
        return Notice::unusable("not an email message: it has no header lines");
    };
    if !message.headers().iter().any(|h| !h.name().is_empty())
        || message.from().is_none() && message.date().is_none() && message.subject().is_none()
    {
        return Notice::unusable("not an email message: no From, Date or Subject header");
    }
    let parts = Parts::of(&message);
    let original = original(&message, &parts);
    let finding = find(&message, &parts, &original);
    Notice {
        id: message.message_id().map(str::to_owned),
        date: message.date().and_then(to_system_time),
        delivered_to: addresses_in_headers(
            &message,
            &["Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To", "Cc"],
        ),
        original,
        finding,
    }
}

/// The parts of a notice that matter.
#[derive(Default)]
struct Parts<'a> {
    delivery_status: Option<String>,
    feedback_report: Option<String>,
    returned: Option<&'a Message<'a>>,
    returned_headers: Option<Message<'a>>,
    /// The human-readable text, the returned message cut off.
    notification: String,
    /// All of the human-readable text.
    full_text: String,
    report_type: Option<String>,
}

impl<'a> Parts<'a> {
    fn of(message: &'a Message<'a>) -> Self {
        let mut parts = Self::default();
        if let Some(ct) = message.content_type()
            && ct.ctype().eq_ignore_ascii_case("multipart")
            && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
        {
            parts.report_type = ct.attribute("report-type").map(str::to_ascii_lowercase);
        }
        for part in &message.parts {
            let (ctype, subtype) = match part.content_type() {
                Some(ct) => {
                    (ct.ctype().to_ascii_lowercase(), ct.subtype().unwrap_or("").to_ascii_lowercase())
                }
                None => ("text".to_owned(), "plain".to_owned()),
            };
            match (ctype.as_str(), subtype.as_str(), &part.body) {
                ("message", "delivery-status" | "global-delivery-status", _) => {
                    parts.delivery_status.get_or_insert_with(|| lossy(part.contents()));
                }
                ("message", "feedback-report", _) => {
                    parts.feedback_report.get_or_insert_with(|| lossy(part.contents()));
                }
                (_, _, PartType::Message(returned)) => {
                    parts.returned.get_or_insert(returned);
                }
                ("text" | "message", "rfc822-headers", _) if parts.returned_headers.is_none() => {
                    parts.returned_headers = MessageParser::default().parse_headers(part.contents());
                }
                ("text", "plain" | "html", PartType::Text(_) | PartType::Html(_)) => {}
                _ => {}
            }
        }
        let texts: Vec<String> = message
            .text_body
            .iter()
            .filter_map(|&id| {
                let part = message.parts.get(id as usize)?;
                let plain_or_html = part.content_type().is_none_or(|ct| {
                    ct.ctype().eq_ignore_ascii_case("text")
                        && ct.subtype().is_some_and(|s| {
                            s.eq_ignore_ascii_case("plain") || s.eq_ignore_ascii_case("html")
                        })
                });
                plain_or_html.then_some(part)
            })
            .filter_map(|part| match &part.body {
                PartType::Text(text) => Some(text.to_string()),
                PartType::Html(html) => Some(mail_parser::decoders::html::html_to_text(html)),
                _ => None,
            })
            .collect();
        parts.full_text = texts.join("\n");
        parts.notification = text::notification(&parts.full_text).to_owned();
        parts
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn to_system_time(date: &mail_parser::DateTime) -> Option<SystemTime> {
    let seconds = u64::try_from(date.to_timestamp()).ok()?;
    date.is_valid().then(|| SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
}

fn without_brackets(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_owned()
}

/// Message-IDs in a header's raw value (`In-Reply-To`, `References`).
fn ids_in(raw: &str) -> Vec<String> {
    raw.split(['<', '>', ' ', ',', '\t', '\r', '\n'])
        .filter(|s| s.contains('@'))
        .map(|s| s.trim().to_owned())
        .collect()
}

/// Every address in `message`'s fields named `names` (any case, each
/// occurrence), in that order, read from the raw text so that any form a
/// mail server writes (`<a@b>`, `a@b`, `Name <a@b>`, several in one field)
/// gives its addresses.
fn addresses_in_headers(message: &Message<'_>, names: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for name in names {
        for (_, raw) in message.headers_raw().filter(|(n, _)| n.eq_ignore_ascii_case(name)) {
            found.extend(
                raw.split(['<', '>', ' ', ',', ';', '"', '\t', '\r', '\n'])
                    .filter(|s| s.contains('@') && s.len() > 2)
                    .map(str::to_owned),
            );
        }
    }
    found
}

fn addresses_of(address: Option<&mail_parser::Address<'_>>) -> Vec<String> {
    address.map(|a| a.iter().filter_map(|a| a.address()).map(str::to_owned).collect()).unwrap_or_default()
}

/// What the notice shows of the original message.
fn original(message: &Message<'_>, parts: &Parts<'_>) -> Original {
    let from_text = || {
        let start = text::returned_message_start(&parts.full_text)?;
        let rest = parts.full_text[start..].trim_start();
        MessageParser::default().parse_headers(rest.as_bytes()).map(Message::into_owned)
    };
    let text_headers =
        if parts.returned.is_none() && parts.returned_headers.is_none() { from_text() } else { None };
    let returned: Option<&Message<'_>> =
        parts.returned.or(parts.returned_headers.as_ref()).or(text_headers.as_ref());

    let mut original = Original::default();
    if let Some(returned) = returned {
        original.message_ids.extend(returned.message_id().map(str::to_owned));
        original.date = returned.date().and_then(to_system_time);
        original.to = addresses_of(returned.to());
        original.return_path = addresses_in_headers(returned, &["Return-Path"]);
    }
    if let Some(dsn) = &parts.delivery_status
        && let Some(id) =
            fields::groups(dsn).iter().find_map(|g| g.get("X-Original-Message-ID").map(without_brackets))
    {
        original.message_ids.push(id);
    }
    for name in ["In-Reply-To", "References"] {
        if let Some(raw) = message.header_raw(name) {
            original.message_ids.extend(ids_in(raw));
        }
    }
    let mut seen = std::collections::HashSet::new();
    original.message_ids.retain(|id| !id.is_empty() && seen.insert(id.clone()));
    original
}

fn find(message: &Message<'_>, parts: &Parts<'_>, original: &Original) -> Finding {
    if parts.feedback_report.is_some() || parts.report_type.as_deref() == Some("feedback-report") {
        return complaints(parts, original);
    }
    if let Some(dsn) = &parts.delivery_status
        && let Some(finding) = from_dsn(dsn, &parts.notification)
    {
        return finding;
    }
    let subject = message.subject().unwrap_or("");
    let from = message.from().and_then(|f| f.first());
    let from_address = from.and_then(|a| a.address()).unwrap_or("").to_ascii_lowercase();
    let from_name = from.and_then(|a| a.name()).unwrap_or("").to_ascii_lowercase();
    let local = from_address.split('@').next().unwrap_or("");
    let daemon = ["mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mdaemon"].contains(&local)
        || from_name.contains("mail delivery")
        || from_name.contains("mailer-daemon");
    let null_sender = message.header_raw("Return-Path").is_some_and(|r| r.trim() == "<>");
    let failed_header = message.header_raw("X-Failed-Recipients");
    let (subject_says, text_says) = text::says_bounce(subject, &parts.notification);
    let delivery_report = parts.report_type.as_deref() == Some("delivery-status");

    let lower_subject = subject.to_lowercase();
    if (daemon || delivery_report)
        && [
            "(success)",
            "successful mail delivery",
            "delivered:",
            "relayed:",
            "delivery notification: delivered",
        ]
        .iter()
        .any(|p| lower_subject.contains(p))
    {
        return Finding::NotBounce(NotBounce::DeliveryReport);
    }
    let bounce = failed_header.is_some()
        || delivery_report
        || ((daemon || null_sender) && (subject_says || text_says));
    if bounce {
        if failed_header.is_none() && text::says_delay(subject, &parts.notification) && !text_says {
            return Finding::Delayed;
        }
        return from_text(message, parts, failed_header, original);
    }
    let auto_submitted =
        message.header_raw("Auto-Submitted").is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"));
    let auto_reply = auto_submitted
        || ["X-Autoreply", "X-Autorespond", "X-Auto-Reply"].iter().any(|h| message.header_raw(*h).is_some())
        || message.header_raw("Precedence").is_some_and(|p| p.trim().eq_ignore_ascii_case("auto_reply"))
        || text::says_auto_reply(subject);
    Finding::NotBounce(if auto_reply { NotBounce::AutoReply } else { NotBounce::Other })
}

/// Bounces from a `message/delivery-status` part; `None` if it has no
/// recipient group (some senders send an empty one), leaving the text.
fn from_dsn(dsn: &str, notification: &str) -> Option<Finding> {
    let groups = fields::groups(dsn);
    let recipients: Vec<&Group> = groups
        .iter()
        .filter(|g| {
            g.get("Final-Recipient").is_some()
                || g.get("Original-Recipient").is_some()
                || g.get("Action").is_some()
        })
        .collect();
    if recipients.is_empty() {
        return None;
    }
    let (mut bounces, mut delayed, mut delivered) = (Vec::new(), false, false);
    for group in recipients {
        let status = group.get("Status").and_then(StatusCode::parse);
        let action =
            group.get("Action").map(|a| a.split_whitespace().next().unwrap_or("").to_ascii_lowercase());
        let failed = match action.as_deref() {
            Some("failed") => true,
            Some("delayed") => {
                delayed = true;
                false
            }
            Some("delivered" | "relayed" | "expanded") => {
                delivered = true;
                false
            }
            _ => match status.map(StatusCode::class) {
                Some(4) => {
                    delayed = true;
                    false
                }
                Some(2) => {
                    delivered = true;
                    false
                }
                _ => true,
            },
        };
        if failed {
            bounces.push(dsn_bounce(group, status, notification));
        }
    }
    Some(if !bounces.is_empty() {
        Finding::Bounces(bounces)
    } else if delayed {
        Finding::Delayed
    } else {
        debug_assert!(delivered);
        Finding::NotBounce(NotBounce::DeliveryReport)
    })
}

fn dsn_bounce(group: &Group, status: Option<StatusCode>, notification: &str) -> Bounce {
    // The original recipient is the address as it was sent to (RFC 3464
    // §2.3.1); the final one may be where an alias led.
    let original = group.get("Original-Recipient").and_then(fields::bare_address);
    let last = group.get("Final-Recipient").and_then(fields::bare_address);
    let address = original.clone().or(last.clone());
    let diagnostic = text::collapse(fields::without_type(group.get("Diagnostic-Code").unwrap_or("")));
    let mentioned: Vec<String> = [original, last].into_iter().flatten().collect();
    let about =
        text::about_each(notification, &mentioned).into_iter().find(|t| !t.is_empty()).unwrap_or_default();
    let words = if diagnostic.is_empty() { about.as_str() } else { diagnostic.as_str() };
    // A generic Status (5.0.0) gives way to a specific code in the words.
    let status = match (status, StatusCode::find(words)) {
        (Some(s), Some(found)) if s.is_generic() && found.class() == s.class() => Some(found),
        (None, found) => found,
        (s, _) => s,
    };
    let reply = ReplyCode::find(words);
    let mut cause = classify(status, reply, words);
    if cause == Cause::Unrecognised && !about.is_empty() {
        cause = classify(status, ReplyCode::find(&about), &about);
    }
    let detail =
        if words.is_empty() { status.map(|s| s.to_string()).unwrap_or_default() } else { words.to_owned() };
    Bounce { address, status, detail, cause }
}

/// Bounces from the text of a notification that has no usable
/// `message/delivery-status` part.
fn from_text(
    message: &Message<'_>,
    parts: &Parts<'_>,
    failed_header: Option<&str>,
    original: &Original,
) -> Finding {
    let notification = &parts.notification;
    let mut not_recipients: Vec<String> = Vec::new();
    for header in [message.from(), message.to(), message.reply_to(), message.sender()] {
        not_recipients.extend(addresses_of(header));
    }
    if let Some(returned) = parts.returned.or(parts.returned_headers.as_ref()) {
        not_recipients.extend(addresses_of(returned.from()));
        not_recipients.extend(addresses_of(returned.sender()));
        not_recipients.extend(addresses_of(returned.reply_to()));
    }
    let not_recipients: Vec<String> = not_recipients.iter().map(|a| a.to_lowercase()).collect();
    let skip = |address: &str| {
        let lower = address.to_lowercase();
        let local = lower.split('@').next().unwrap_or("");
        not_recipients.contains(&lower) && !original.to.iter().any(|t| t.eq_ignore_ascii_case(address))
            || ["mailer-daemon", "postmaster", "mail-daemon", "noreply", "no-reply"].contains(&local)
    };
    let candidates = match failed_header {
        Some(raw) => text::addresses(raw, |_| false),
        None => text::addresses(notification, skip),
    };
    if candidates.is_empty() {
        let detail = text::collapse(notification);
        return Finding::Bounces(vec![Bounce {
            address: None,
            status: StatusCode::find(notification),
            cause: classify_text(notification),
            detail,
        }]);
    }
    let about = text::about_each(notification, &candidates);
    let bounces = candidates
        .into_iter()
        .zip(about)
        .map(|(address, about)| {
            let words = if about.is_empty() { notification.as_str() } else { about.as_str() };
            let status = StatusCode::find(words).or_else(|| StatusCode::find(notification));
            let reply = ReplyCode::find(words).or_else(|| ReplyCode::find(notification));
            let mut cause = classify(status, reply, words);
            if cause == Cause::Unrecognised {
                cause = classify(status, reply, notification);
            }
            // The server's own words, from its reply code on, say more
            // than the MTA's introduction to them.
            let from_reply = ReplyCode::locate(words).map_or(words, |(_, at)| &words[at..]);
            Bounce { address: Some(address), status, detail: text::collapse(from_reply), cause }
        })
        .collect();
    Finding::Bounces(bounces)
}

/// Complaints from a feedback report (RFC 5965).
fn complaints(parts: &Parts<'_>, original: &Original) -> Finding {
    let groups = parts.feedback_report.as_deref().map(fields::groups).unwrap_or_default();
    let field = |name: &str| groups.iter().find_map(|g| g.get(name)).map(str::to_owned);
    let feedback_type = field("Feedback-Type").map_or_else(|| "abuse".to_owned(), |t| t.to_ascii_lowercase());
    // RFC 6430: "not-spam" reports a message wrongly filtered as spam.
    if feedback_type == "not-spam" {
        return Finding::NotBounce(NotBounce::Other);
    }
    let mut addresses: Vec<String> = groups
        .iter()
        .flat_map(|g| g.all("Original-Rcpt-To").chain(g.all("Removal-Recipient")))
        .filter_map(fields::bare_address)
        .collect();
    if addresses.is_empty() {
        // Providers often redact the reader's address in the returned copy.
        addresses = original.to.iter().filter(|a| !a.to_lowercase().contains("redacted")).cloned().collect();
    }
    let complaints = if addresses.is_empty() {
        vec![Complaint { address: None, feedback_type }]
    } else {
        addresses
            .into_iter()
            .map(|address| Complaint { address: Some(address), feedback_type: feedback_type.clone() })
            .collect()
    };
    Finding::Complaints(complaints)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounce::Class;
    use pretty_assertions::assert_eq;
    use proptest::prelude::*;

    const DSN: &str = "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\n\
        To: news@hope.example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n\
        Date: Thu, 16 Oct 2025 14:02:13 +0000\r\nMessage-ID: <dsn-1@mx.example.org>\r\n\
        MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
        --B\r\nContent-Type: text/plain\r\n\r\n<ana@example.org>: host mx said: 550 5.1.1 no such user\r\n\r\n\
        --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n\
        Final-Recipient: rfc822; ana@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\
        Diagnostic-Code: smtp; 550 5.1.1 <ana@example.org>: Recipient address rejected: User unknown\r\n\r\n\
        Final-Recipient: rfc822; bo@example.org\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n\
        --B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: news@hope.example.org\r\nTo: ana@example.org\r\n\
        Date: Thu, 16 Oct 2025 14:02:11 +0000\r\nMessage-ID: <2025-10-16-x.0123@hope.example.org>\r\n\r\n--B--\r\n";

    #[test]
    fn a_dsn_gives_its_failed_recipients_and_the_returned_message() {
        let notice = read(DSN.as_bytes());
        assert_eq!(notice.id.as_deref(), Some("dsn-1@mx.example.org"));
        assert_eq!(notice.original.message_ids, ["2025-10-16-x.0123@hope.example.org"]);
        assert_eq!(notice.original.to, ["ana@example.org"]);
        let Finding::Bounces(bounces) = notice.finding else { panic!("{:?}", notice.finding) };
        assert_eq!(bounces.len(), 1, "the delayed recipient is not a bounce");
        assert_eq!(bounces[0].address.as_deref(), Some("ana@example.org"));
        assert_eq!(bounces[0].status.map(|s| s.to_string()).as_deref(), Some("5.1.1"));
        assert_eq!(bounces[0].cause.class(), Class::Hard);
        assert!(bounces[0].detail.contains("User unknown"));
    }

    #[test]
    fn the_addresses_a_notice_came_back_to_and_the_originals_return_path_are_kept() {
        let text = DSN
            .replacen(
                "From: MAILER-DAEMON",
                "Delivered-To: bounces+0123456789abcdef@hope.example.org\r\n\
                 X-Original-To: <BOUNCES+0123456789ABCDEF@hope.example.org>\r\nFrom: MAILER-DAEMON",
                1,
            )
            .replace(
                "Content-Type: text/rfc822-headers\r\n\r\n",
                "Content-Type: text/rfc822-headers\r\n\r\nReturn-Path: <bounces+fedcba9876543210@hope.example.org>\r\n",
            );
        let notice = read(text.as_bytes());
        assert_eq!(
            notice.delivered_to,
            [
                "bounces+0123456789abcdef@hope.example.org",
                "BOUNCES+0123456789ABCDEF@hope.example.org",
                "news@hope.example.org"
            ]
        );
        assert_eq!(notice.original.return_path, ["bounces+fedcba9876543210@hope.example.org"]);
    }

    #[test]
    fn a_dsn_with_only_delays_is_a_warning() {
        let text = DSN.replace("Action: failed", "Action: delayed");
        assert_eq!(read(text.as_bytes()).finding, Finding::Delayed);
    }

    #[test]
    fn empty_and_headerless_input_is_unusable_not_a_crash() {
        assert!(matches!(read(b"").finding, Finding::Unusable(_)));
        assert!(matches!(read(b"  \n\n").finding, Finding::Unusable(_)));
        assert!(matches!(read(b"\x00\x01\x02 binary junk").finding, Finding::Unusable(_)));
        assert!(matches!(read("just some words\nacross lines\n".as_bytes()).finding, Finding::Unusable(_)));
    }

    #[test]
    fn an_ordinary_reply_is_not_a_bounce() {
        let reply = "From: Ana <ana@example.org>\r\nTo: news@hope.example.org\r\nSubject: Re: Prayer requests\r\n\
                     Date: Thu, 16 Oct 2025 15:00:00 +0000\r\n\r\nThank you, praying with you. The delivery of aid failed permanently in my town.\r\n";
        assert_eq!(read(reply.as_bytes()).finding, Finding::NotBounce(NotBounce::Other));
    }

    proptest! {
        #[test]
        fn any_bytes_are_read_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = read(&bytes);
        }

        #[test]
        fn any_text_after_bounce_headers_is_read_without_panicking(body in "\\PC{0,400}") {
            let raw = format!("From: MAILER-DAEMON@x.example\r\nSubject: Undeliverable\r\nX-Failed-Recipients: a@b.example\r\n\r\n{body}");
            let _ = read(raw.as_bytes());
        }
    }
}
