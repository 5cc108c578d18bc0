//! The `Name: value` field groups that machine-readable reports are made
//! of: a `message/delivery-status` body (RFC 3464 §2.1: per-message
//! fields, a blank line, then one group per recipient) and a
//! `message/feedback-report` body (RFC 5965 §3.1: one group).
//!
//! Fields follow RFC 5322's syntax: a line starting with white space
//! continues the field above it. Names compare without case. Real reports
//! bend the rules (CRLF or LF, stray spaces, a group that starts without a
//! blank line), so anything that is not a field is skipped, never fatal.

/// One group of fields, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group(Vec<(String, String)>);

impl Group {
    /// The first value of `name`, trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every value of `name` (some fields repeat, such as ARF's
    /// `Original-Rcpt-To`).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Splits `text` into groups at blank lines, unfolding continued lines.
pub fn groups(text: &str) -> Vec<Group> {
    let mut groups = Vec::new();
    let mut current = Group::default();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !current.is_empty() {
                groups.push(std::mem::take(&mut current));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.0.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':') else { continue };
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            continue;
        }
        current.0.push((name.to_owned(), value.trim().to_owned()));
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}

/// The value of a typed field (`rfc822; a@example.org`, `smtp; 550 …`)
/// without its type; a value with no type is returned as it is.
pub fn without_type(value: &str) -> &str {
    match value.split_once(';') {
        Some((kind, rest))
            if !kind.is_empty() && kind.trim().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            rest.trim()
        }
        _ => value.trim(),
    }
}

/// An address as reports write it, without angle brackets or a display
/// name: `rfc822; <A@example.org>` → `A@example.org`.
pub fn bare_address(value: &str) -> Option<String> {
    let value = without_type(value);
    let inner = match (value.find('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value,
    };
    let inner = inner.trim().trim_matches(|c| c == '"' || c == '\'');
    (inner.contains('@') && !inner.chars().any(char::is_whitespace)).then(|| inner.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use proptest::prelude::*;

    #[test]
    fn a_delivery_status_body_splits_into_message_and_recipient_groups() {
        let body = "Reporting-MTA: dns; mx.example.org\r\nArrival-Date: Thu, 29 Apr 2013\r\n\r\n\
                    Final-Recipient: rfc822; a@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\
                    Diagnostic-Code: smtp; 550 5.1.1 <a@example.org>:\r\n    no such user\r\n\r\n\r\n\
                    final-recipient: RFC822;b@example.org\nACTION: delayed\n";
        let groups = groups(body);
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].get("reporting-mta"), Some("dns; mx.example.org"));
        assert_eq!(groups[1].get("Diagnostic-Code"), Some("smtp; 550 5.1.1 <a@example.org>: no such user"));
        assert_eq!(groups[2].get("Action"), Some("delayed"));
        assert_eq!(bare_address(groups[2].get("Final-Recipient").unwrap()), Some("b@example.org".into()));
    }

    #[test]
    fn lines_that_are_not_fields_are_skipped() {
        let groups = groups("This is not a field\nStatus: 5.0.0\n: empty name\nbad name: x\n");
        assert_eq!(groups, [Group(vec![("Status".into(), "5.0.0".into())])]);
    }

    #[test]
    fn typed_values_lose_their_type_and_addresses_their_brackets() {
        assert_eq!(without_type("smtp; 550 no"), "550 no");
        assert_eq!(without_type("550 no; really"), "550 no; really");
        assert_eq!(bare_address("rfc822; <Ana@Example.org>"), Some("Ana@Example.org".into()));
        assert_eq!(bare_address("\"Ana\" <ana@example.org>"), Some("ana@example.org".into()));
        assert_eq!(bare_address("rfc822; redacted"), None);
        assert_eq!(bare_address("x400; /c=us/"), None);
    }

    proptest! {
        #[test]
        fn any_text_splits_without_panicking(text in "\\PC{0,300}") {
            for group in groups(&text) {
                prop_assert!(!group.is_empty());
            }
            let _ = bare_address(&text);
        }
    }
}
