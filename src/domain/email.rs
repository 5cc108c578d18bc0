//! An email address we are willing to mail.

use std::fmt;
use std::str::FromStr;

/// A checked, deliverable-looking email address. The only way to make one is
/// [`EmailAddress::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress {
    address: lettre::Address,
    key: EmailKey,
}

/// The form addresses are compared in: trimmed and lower-case, so two rows
/// whose addresses differ only in case are the same person. Journal rows,
/// suppression and bounce records are keyed by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailKey(String);

impl EmailKey {
    /// The key of text that may not be a valid address (a row the list
    /// skipped, a suppression row, a command-line argument, an address a
    /// bounce report names), to compare with the keys of valid ones.
    pub fn of(raw: &str) -> Self {
        Self(raw.trim().to_lowercase())
    }

    /// A key read back from where it was stored.
    pub fn stored(key: String) -> Self {
        Self(key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a string is not an address we can mail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressProblem {
    #[error("no `@`")]
    NoAt,
    #[error("the part before `@` is not valid")]
    BadUser,
    #[error("the domain is not valid")]
    BadDomain,
    #[error("the domain has no dot (a typo such as `gmailcom`?)")]
    NoDotInDomain,
    #[error("contains white space")]
    WhiteSpace,
}

impl EmailAddress {
    /// Parses `raw` (already trimmed by the caller or not), refusing anything
    /// lettre would refuse and domains without a dot, which in a supporter
    /// list are always typos.
    pub fn parse(raw: &str) -> Result<Self, AddressProblem> {
        let raw = raw.trim();
        if raw.chars().any(char::is_whitespace) {
            return Err(AddressProblem::WhiteSpace);
        }
        let (user, domain) = raw.rsplit_once('@').ok_or(AddressProblem::NoAt)?;
        if user.is_empty() {
            return Err(AddressProblem::BadUser);
        }
        let is_literal = domain.starts_with('[');
        if !is_literal && (!domain.contains('.') || domain.ends_with('.')) {
            return Err(AddressProblem::NoDotInDomain);
        }
        let address = lettre::Address::from_str(raw).map_err(|e| match e {
            lettre::address::AddressError::InvalidUser => AddressProblem::BadUser,
            lettre::address::AddressError::MissingParts => AddressProblem::NoAt,
            _ => AddressProblem::BadDomain,
        })?;
        Ok(Self { address, key: EmailKey::of(raw) })
    }

    /// The lower-case form used to compare addresses: two rows whose
    /// addresses differ only in case are the same person.
    pub fn key(&self) -> &EmailKey {
        &self.key
    }

    /// The address in the form lettre sends.
    pub fn as_lettre(&self) -> &lettre::Address {
        &self.address
    }

    pub fn as_str(&self) -> &str {
        self.address.as_ref()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_are_accepted() {
        for ok in [
            "jane@example.org",
            "José.Núñez@example.com",
            "first.last+news@sub.example.co.uk",
            "o'brien@example.org",
        ] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn broken_addresses_say_why() {
        assert_eq!(EmailAddress::parse("jane.example.org"), Err(AddressProblem::NoAt));
        assert_eq!(EmailAddress::parse("jane@gmailcom"), Err(AddressProblem::NoDotInDomain));
        assert_eq!(EmailAddress::parse("jane@example.org."), Err(AddressProblem::NoDotInDomain));
        assert_eq!(EmailAddress::parse("@example.org"), Err(AddressProblem::BadUser));
        assert_eq!(EmailAddress::parse("ja ne@example.org"), Err(AddressProblem::WhiteSpace));
        assert_eq!(EmailAddress::parse("jane@exa_mple..org"), Err(AddressProblem::BadDomain));
        assert_eq!(EmailAddress::parse("jane@example.org\r\nBcc: x@y.z"), Err(AddressProblem::WhiteSpace));
    }

    #[test]
    fn addresses_compare_without_case() {
        let a = EmailAddress::parse("Jane@Example.org").unwrap();
        let b = EmailAddress::parse("jane@example.ORG").unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.as_str(), "Jane@Example.org");
    }

    #[test]
    fn text_that_is_not_a_valid_address_still_has_a_key_to_compare() {
        let valid = EmailAddress::parse("Ana@Example.org").unwrap();
        assert_eq!(&EmailKey::of("  ana@EXAMPLE.org "), valid.key());
        assert_eq!(EmailKey::of("Not An Address").as_str(), "not an address");
    }
}
