//! A relay's reply, kept typed from the wire to the journal: the reply code
//! (RFC 5321 §4.2), the enhanced status code (RFC 3463) when the relay gave
//! one, and its words. Read once where it arrives, so nothing downstream
//! (early stop, the journal, bounce classes) parses text again.

use std::fmt;

use super::{ReplyCode, StatusCode};

/// What the relay said, or what went wrong on the way to it (then with no
/// codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    code: Option<ReplyCode>,
    status: Option<StatusCode>,
    text: String,
}

impl Reply {
    /// A reply with the codes as given.
    pub fn new(code: Option<ReplyCode>, status: Option<StatusCode>, text: impl Into<String>) -> Self {
        Self { code, status, text: text.into() }
    }

    /// A reply whose code is known and whose enhanced status code, if any,
    /// is in its words (`250 2.0.0 Ok: queued as 4ABC`).
    pub fn coded(code: Option<ReplyCode>, text: impl Into<String>) -> Self {
        let text = text.into();
        Self { code, status: StatusCode::find(&text), text }
    }

    /// Something that went wrong before the relay could answer (a refused
    /// connection, a timeout, a message we would not send): no codes.
    pub fn local(text: impl Into<String>) -> Self {
        Self { code: None, status: None, text: text.into() }
    }

    /// Codes read back from words alone, for replies stored before the
    /// journal kept them.
    pub fn from_text(text: impl Into<String>) -> Self {
        let text = text.into();
        Self { code: ReplyCode::find(&text), status: StatusCode::find(&text), text }
    }

    pub fn code(&self) -> Option<ReplyCode> {
        self.code
    }

    pub fn status(&self) -> Option<StatusCode> {
        self.status
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The same reply with more words after it (why it was given up).
    pub fn with_note(mut self, note: &str) -> Self {
        self.text.push_str(note);
        self
    }

    /// True when the enhanced status code blames the recipient's address
    /// (x.1.1 to x.1.6, x.1.9, x.1.10) or mailbox (x.2.*), as opposed to the
    /// sender, the relay or the message.
    pub fn is_about_the_recipient(&self) -> bool {
        self.status.is_some_and(|s| match s.subject() {
            2 => true,
            1 => matches!(s.detail(), 1..=6 | 9 | 10),
            _ => false,
        })
    }

    /// True when the enhanced status code is X.6.7, "non-ASCII addresses
    /// not permitted" (RFC 6531, RFC 6533): the address has letters the
    /// path cannot carry, which says nothing of any other address.
    pub fn is_about_non_ascii_letters(&self) -> bool {
        self.status.is_some_and(|s| (s.subject(), s.detail()) == (6, 7))
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_from_the_wire_keeps_its_code_and_finds_its_enhanced_status() {
        let reply = Reply::coded(ReplyCode::new(550), "permanent error (550): 5.1.1 User unknown");
        assert_eq!(reply.code().map(ReplyCode::value), Some(550));
        assert_eq!(reply.status().map(|s| s.to_string()).as_deref(), Some("5.1.1"));
        assert_eq!(reply.to_string(), "permanent error (550): 5.1.1 User unknown");
    }

    #[test]
    fn old_replies_are_read_back_from_their_words() {
        let reply = Reply::from_text("452 4.2.2 Mailbox full");
        assert_eq!(reply.code().map(ReplyCode::value), Some(452));
        assert_eq!(reply.status().map(|s| s.to_string()).as_deref(), Some("4.2.2"));
        assert_eq!(Reply::local("connection refused").code(), None);
    }

    #[test]
    fn only_address_and_mailbox_statuses_blame_the_recipient() {
        let blames = |text: &str| Reply::from_text(text).is_about_the_recipient();
        assert!(blames("permanent error (550): 5.1.1 User unknown"));
        assert!(blames("permanent error (552): 5.2.2 Mailbox full"));
        assert!(blames("550 5.1.10 RESOLVER.ADR.RecipientNotFound"));
        assert!(!blames("permanent error (553): 5.1.8 Bad sender's system address"));
        assert!(!blames("permanent error (554): 5.7.1 Relay access denied"));
        assert!(!blames("permanent error (550): Sender rejected"));
    }
}
