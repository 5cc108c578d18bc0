//! A `Message-ID` (RFC 5322 §3.6.4): kept with its angle brackets, as it is
//! written in a header and stored in the journal, however it was given.

use std::fmt;

/// A message's `Message-ID`, `<local@domain>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageId(String);

impl MessageId {
    /// Reads an id with or without its angle brackets and surrounding white
    /// space; `None` when nothing is left or it has no `@`.
    pub fn parse(text: &str) -> Option<Self> {
        let inner = text.trim().trim_start_matches('<').trim_end_matches('>').trim();
        (!inner.is_empty() && inner.contains('@') && !inner.contains(char::is_whitespace))
            .then(|| Self(format!("<{inner}>")))
    }

    /// `<local@domain>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `local@domain`, without the brackets.
    pub fn inner(&self) -> &str {
        &self.0[1..self.0.len() - 1]
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_kept_with_its_brackets_however_it_was_given() {
        let with = MessageId::parse(" <a.b@example.org> ").unwrap();
        let without = MessageId::parse("a.b@example.org").unwrap();
        assert_eq!(with, without);
        assert_eq!(with.as_str(), "<a.b@example.org>");
        assert_eq!(with.inner(), "a.b@example.org");
    }

    #[test]
    fn text_without_an_at_is_not_an_id() {
        assert_eq!(MessageId::parse("<>"), None);
        assert_eq!(MessageId::parse("nothing"), None);
        assert_eq!(MessageId::parse("a b@c"), None);
    }
}
