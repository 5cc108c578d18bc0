//! SMTP status codes as they appear in relay replies, delivery status
//! notifications and free-text bounce messages: the three-digit reply code
//! of RFC 5321 §4.2 (`550`) and the enhanced status code of RFC 3463 §2
//! (`5.1.1`).

use std::fmt;

/// An enhanced mail system status code, `class.subject.detail` (RFC 3463
/// §2): class 2 success, 4 persistent transient failure, 5 permanent
/// failure; subject and detail have one to three digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusCode {
    class: u8,
    subject: u16,
    detail: u16,
}

impl StatusCode {
    /// Parses a code standing alone, such as a DSN's `Status:` field
    /// (`5.1.1`, or `5.1.1 (bad destination mailbox)`: a comment after it
    /// is allowed).
    pub fn parse(text: &str) -> Option<Self> {
        let token = text.trim().split(|c: char| c.is_whitespace() || c == '(').next()?;
        let (code, rest) = Self::at(token.as_bytes(), 0)?;
        (rest == token.len()).then_some(code)
    }

    /// The first code in free text (`550 5.1.1 <a@b>: no such user`,
    /// qmail's `(#5.5.0)`), ignoring IP addresses and version numbers.
    pub fn find(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        (0..bytes.len()).find_map(|i| {
            let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.');
            boundary.then(|| Self::at(bytes, i)).flatten().map(|(code, _)| code)
        })
    }

    /// A code starting at `bytes[i]`, and the index after it; the code must
    /// not run on into more digits or dots (as in `192.0.2.1`).
    fn at(bytes: &[u8], i: usize) -> Option<(Self, usize)> {
        let class = match bytes.get(i)? {
            b'2' => 2,
            b'4' => 4,
            b'5' => 5,
            _ => return None,
        };
        let number = |start: usize| -> Option<(u16, usize)> {
            let len = bytes[start..].iter().take_while(|b| b.is_ascii_digit()).count();
            if !(1..=3).contains(&len) {
                return None;
            }
            let digits = std::str::from_utf8(&bytes[start..start + len]).ok()?;
            Some((digits.parse().ok()?, start + len))
        };
        if bytes.get(i + 1) != Some(&b'.') {
            return None;
        }
        let (subject, end) = number(i + 2)?;
        if bytes.get(end) != Some(&b'.') {
            return None;
        }
        let (detail, end) = number(end + 1)?;
        let runs_on = match bytes.get(end) {
            Some(b) if b.is_ascii_alphanumeric() => true,
            Some(b'.') => bytes.get(end + 1).is_some_and(u8::is_ascii_digit),
            _ => false,
        };
        (!runs_on).then_some((Self { class, subject, detail }, end))
    }

    /// 2, 4 or 5.
    pub fn class(self) -> u8 {
        self.class
    }

    pub fn subject(self) -> u16 {
        self.subject
    }

    pub fn detail(self) -> u16 {
        self.detail
    }

    /// Class 5: the server will not accept it, however often it is tried.
    pub fn is_permanent(self) -> bool {
        self.class == 5
    }

    /// Class 4: the condition may pass.
    pub fn is_transient(self) -> bool {
        self.class == 4
    }

    /// `X.0.0`: "other undefined status", which says nothing beyond the
    /// class, so the reply's words must.
    pub fn is_generic(self) -> bool {
        self.subject == 0 && self.detail == 0
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// A three-digit SMTP reply code (RFC 5321 §4.2.1), 200 to 599.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyCode(u16);

impl ReplyCode {
    /// The code `value`, when it is one (200 to 599).
    pub fn new(value: u16) -> Option<Self> {
        (200..600).contains(&value).then_some(Self(value))
    }

    /// The first reply code in free text: three digits starting 2 to 5,
    /// standing alone or followed by `-` (a continued reply line) or `)`
    /// (lettre's `permanent error (550)`), never part of a longer number,
    /// an IP address or a word.
    pub fn find(text: &str) -> Option<Self> {
        Self::locate(text).map(|(code, _)| code)
    }

    /// [`ReplyCode::find`], with the byte offset where the code starts.
    pub fn locate(text: &str) -> Option<(Self, usize)> {
        let bytes = text.as_bytes();
        (0..bytes.len().saturating_sub(2)).find_map(|i| {
            let digits = &bytes[i..i + 3];
            if !(b'2'..=b'5').contains(&digits[0]) || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let before_ok = i == 0
                || matches!(
                    bytes[i - 1],
                    b' ' | b'\t' | b'\n' | b'\r' | b'(' | b'#' | b'\'' | b'"' | b':' | b'[' | b';'
                );
            let after_ok = match bytes.get(i + 3) {
                None => true,
                Some(b' ' | b'\t' | b'\n' | b'\r' | b'-' | b')' | b'\'' | b',') => true,
                Some(_) => false,
            };
            let value: u16 = std::str::from_utf8(digits).ok()?.parse().ok()?;
            (before_ok && after_ok).then_some((Self(value), i))
        })
    }

    pub fn value(self) -> u16 {
        self.0
    }

    /// 2, 4 or 5.
    pub fn class(self) -> u8 {
        (self.0 / 100) as u8
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> Option<String> {
        StatusCode::find(text).map(|c| c.to_string())
    }

    #[test]
    fn a_dsn_status_field_parses_with_or_without_a_comment() {
        assert_eq!(StatusCode::parse("5.1.1").map(|c| c.to_string()), Some("5.1.1".into()));
        assert_eq!(StatusCode::parse(" 4.2.2 (mailbox full)").map(|c| c.to_string()), Some("4.2.2".into()));
        assert_eq!(StatusCode::parse("5.7.606").map(|c| c.detail()), Some(606));
        assert_eq!(StatusCode::parse("5.1.1.1"), None);
        assert_eq!(StatusCode::parse("6.1.1"), None);
        assert_eq!(StatusCode::parse("5.1"), None);
        assert_eq!(StatusCode::parse("5.1234.1"), None);
        assert_eq!(StatusCode::parse(""), None);
    }

    #[test]
    fn codes_are_found_in_replies_but_not_in_addresses_or_versions() {
        assert_eq!(code("550 5.1.1 <a@example.org>: no such user"), Some("5.1.1".into()));
        assert_eq!(code("remote host 192.0.2.32 said: 550 Unknown user. (#5.5.0)"), Some("5.5.0".into()));
        assert_eq!(code("host mx.example.jp [192.0.2.153]: 550 5.2.1 <a@b>"), Some("5.2.1".into()));
        assert_eq!(code("Exim 4.72 and SMTPSVC(7.5.7601.22712)"), None);
        assert_eq!(code("550-5.7.26 Unauthenticated email"), Some("5.7.26".into()));
        assert_eq!(code("permanent error (550): 5.1.1 User unknown"), Some("5.1.1".into()));
        assert_eq!(code("version 5.2.10b"), None);
        assert_eq!(code("at 5.1.1."), Some("5.1.1".into()));
    }

    #[test]
    fn reply_codes_are_found_standing_alone() {
        let find = |t: &str| ReplyCode::find(t).map(ReplyCode::value);
        assert_eq!(find("permanent error (550): 5.1.1 User unknown"), Some(550));
        assert_eq!(find("transient error (452): 4.2.2 full (gave up after 3 attempts)"), Some(452));
        assert_eq!(find("host [192.0.2.20]: 550-5.7.26 x"), Some(550));
        assert_eq!(find("Fri, 01 Oct 2010 19:15:23 +0900"), None);
        assert_eq!(find("id AS16012609 and 5550"), None);
        assert_eq!(find("#550 5.1.1 RESOLVER.ADR.RecipNotFound"), Some(550));
        assert_eq!(find("network error: connection refused"), None);
    }
}
