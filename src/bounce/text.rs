//! Bounces written for people rather than programs: Exim's "This message
//! was created automatically by mail delivery software", qmail's "I'm
//! afraid I wasn't able to deliver your message", older Gmail and Yahoo
//! notices, Microsoft's "Delivery has failed to these recipients", and the
//! human half of any notification. They name the failed addresses and
//! quote the remote server's reply in free text, then (often) append the
//! returned message below a separator line.

use std::sync::LazyLock;

use regex::Regex;

/// An address as it appears in running text.
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
        .expect("valid pattern")
});

/// Lines that introduce the returned message (Exim, qmail and Yahoo,
/// Gmail, Microsoft, Sendmail and others).
const SEPARATORS: &[&str] = &[
    "this is a copy of the message",
    "below this line is a copy of the message",
    "original message",
    "returned message",
    "undelivered message",
    "message headers follow",
    "headers of the original",
];

/// The separator line before the returned message, if there is one: where
/// it starts and where the line after it starts.
fn separator(text: &str) -> Option<(usize, usize)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let lower = line.trim().to_lowercase();
        let dashed = lower.starts_with("--") || lower.starts_with("==") || lower.starts_with("**");
        let is_separator = SEPARATORS.iter().any(|s| lower.contains(s))
            && (dashed || lower.ends_with(':') || lower.starts_with("original message headers"));
        if is_separator {
            return Some((offset, offset + line.len()));
        }
        offset += line.len();
    }
    None
}

/// Where the returned message starts in a notification's text, if it is
/// there: the line after a separator.
pub fn returned_message_start(text: &str) -> Option<usize> {
    separator(text).map(|(_, after)| after)
}

/// The notification without the returned message and its separator.
pub fn notification(text: &str) -> &str {
    match separator(text) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// Every address in `text`, in order of appearance, each once (compared
/// without case), leaving out those `skip` says to.
pub fn addresses(text: &str, skip: impl Fn(&str) -> bool) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ADDRESS
        .find_iter(text)
        .map(|m| m.as_str().trim_matches('.').to_owned())
        .filter(|a| !skip(a) && seen.insert(a.to_lowercase()))
        .collect()
}

/// What the text says about each of `addresses`: the words from where the
/// address is first named up to where another of them is, gathered over
/// every mention and with white space collapsed. An address the text never
/// names gets nothing.
pub fn about_each(text: &str, addresses: &[String]) -> Vec<String> {
    let lower = text.to_lowercase();
    let wanted: Vec<String> = addresses.iter().map(|a| a.to_lowercase()).collect();
    let mut mentions: Vec<(usize, usize)> = Vec::new();
    for (index, address) in wanted.iter().enumerate() {
        let mut from = 0;
        while let Some(at) = lower[from..].find(address.as_str()) {
            mentions.push((from + at, index));
            from += at + address.len();
        }
    }
    mentions.sort_unstable();
    let mut about = vec![String::new(); addresses.len()];
    let mut i = 0;
    while i < mentions.len() {
        let (start, index) = mentions[i];
        let mut j = i + 1;
        while j < mentions.len() && mentions[j].1 == index {
            j += 1;
        }
        let end = mentions.get(j).map_or(text.len(), |&(at, _)| at);
        if !about[index].is_empty() {
            about[index].push(' ');
        }
        about[index].push_str(&squeeze(&text[start..end]));
        i = j;
    }
    about
}

/// Runs of white space as one space, trimmed.
pub fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// [`squeeze`]d, at most `LIMIT` characters.
pub fn collapse(text: &str) -> String {
    const LIMIT: usize = 600;
    let mut out = squeeze(text);
    if out.chars().count() > LIMIT {
        out = out.chars().take(LIMIT).collect::<String>() + "…";
    }
    out
}

/// Phrases of the subject lines MTAs give bounces.
const BOUNCE_SUBJECTS: &[&str] = &[
    "undeliverable",
    "undelivered mail",
    "undeliverable mail",
    "delivery status notification",
    "delivery failure",
    "delivery failed",
    "failure notice",
    "mail delivery failed",
    "returned mail",
    "returned to sender",
    "could not be delivered",
    "delivery has failed",
    "message not delivered",
    "mail system error",
    "non remis",
    "nicht zustellbar",
    "unzustellbar",
    "no entregado",
];

/// Phrases of the notification text.
const BOUNCE_PHRASES: &[&str] = &[
    "could not be delivered",
    "couldn't be delivered",
    "wasn't delivered",
    "was not delivered",
    "delivery has failed",
    "delivery to the following recipient",
    "failed permanently",
    "permanent error",
    "permanent fatal error",
    "wasn't able to deliver",
    "unable to deliver",
    "were unable to deliver",
    "following address(es) failed",
    "message could not be delivered",
    "undeliverable",
];

/// Words of a delay warning: the server is still trying.
const DELAY_PHRASES: &[&str] = &[
    "delayed mail",
    "(delay)",
    "delivery delayed",
    "has been delayed",
    "warning only",
    "still being retried",
    "will be retried",
    "will keep trying",
    "will continue trying",
    "not yet been delivered",
];

pub fn says_bounce(subject: &str, text: &str) -> (bool, bool) {
    let subject = subject.to_lowercase();
    let text: String = text.chars().take(4000).collect::<String>().to_lowercase();
    (BOUNCE_SUBJECTS.iter().any(|p| subject.contains(p)), BOUNCE_PHRASES.iter().any(|p| text.contains(p)))
}

pub fn says_delay(subject: &str, text: &str) -> bool {
    let subject = subject.to_lowercase();
    let text: String = text.chars().take(4000).collect::<String>().to_lowercase();
    DELAY_PHRASES.iter().any(|p| subject.contains(p) || text.contains(p))
}

/// Subject lines of out-of-office and other automatic replies.
pub fn says_auto_reply(subject: &str) -> bool {
    let subject = subject.trim().to_lowercase();
    [
        "auto:",
        "automatic reply",
        "autoreply",
        "auto-reply",
        "auto reply",
        "out of office",
        "out of the office",
        "away",
        "vacation",
        "abwesenheit",
        "réponse automatique",
        "respuesta automática",
        "risposta automatica",
    ]
    .iter()
    .any(|p| subject.starts_with(p) || subject.contains(&format!(" {p}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const EXIM: &str = "This message was created automatically by mail delivery software.\n\n\
        A message that you sent could not be delivered to one or more of its\n\
        recipients. This is a permanent error. The following address(es) failed:\n\n\
        \x20 kijitora@example.jp\n\
        \x20   SMTP error from remote mail server after RCPT TO:<kijitora@example.jp>:\n\
        \x20   host mx.example.jp [192.0.2.153]: 550 5.1.1 <kijitora@example.jp>... User Unknown\n\
        \x20 sabatora@example.jp\n\
        \x20   host mx.example.jp [192.0.2.153]: 550 5.2.1 <sabatora@example.jp>... Disabled\n\n\
        ------ This is a copy of the message, including all the headers. ------\n\n\
        Return-path: <shironeko@example.jp>\nSubject: test\n\ntest\n";

    #[test]
    fn the_returned_message_is_cut_off_at_its_separator() {
        let start = returned_message_start(EXIM).unwrap();
        assert!(EXIM[start..].trim_start().starts_with("Return-path:"));
        assert!(!notification(EXIM).contains("Return-path"));
        assert!(!notification(EXIM).contains("copy of the message"));
        assert_eq!(returned_message_start("no separator here\n"), None);
        let ms = "Diagnostic information for administrators:\n\nOriginal message headers:\n\nReceived: x\n";
        assert!(ms[returned_message_start(ms).unwrap()..].trim_start().starts_with("Received"));
    }

    #[test]
    fn each_address_gets_the_words_about_it() {
        let text = notification(EXIM);
        let found = addresses(text, |_| false);
        assert_eq!(found, ["kijitora@example.jp", "sabatora@example.jp"]);
        let about = about_each(text, &found);
        assert!(about[0].contains("5.1.1") && !about[0].contains("5.2.1"), "{about:?}");
        assert!(about[1].contains("5.2.1") && !about[1].contains("5.1.1"), "{about:?}");
    }

    #[test]
    fn subjects_and_phrases_are_recognised() {
        assert_eq!(says_bounce("Mail delivery failed: returning message to sender", ""), (true, false));
        assert_eq!(says_bounce("Re: your order", "It could not be delivered"), (false, true));
        assert!(says_delay("Delayed Mail (still being retried)", ""));
        assert!(says_auto_reply("Automatic reply: Prayer requests"));
        assert!(says_auto_reply("Away until May 5"));
        assert!(says_auto_reply("Re: Out of Office"));
        assert!(!says_auto_reply("Prayer requests for the week"));
    }

    #[test]
    fn long_text_is_collapsed_and_cut() {
        assert_eq!(collapse("  a \n\t b  "), "a b");
        assert!(collapse(&"x ".repeat(1000)).ends_with('…'));
    }
}
