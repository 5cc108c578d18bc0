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

/// The form addresses are compared in, one identity however an address is
/// spelled: trimmed and lower-case, the domain in its one IDNA (ASCII)
/// form, and a quoted local part that needs no quotes (`"bob"`) without
/// them. So `Bob@Bücher.test`, `"bob"@xn--bcher-kva.test` and
/// `bob@bücher.test` are the same person. Journal rows, suppression,
/// duplicates and erasure are keyed by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailKey(String);

impl EmailKey {
    /// The key of text that may not be a valid address (a row the list
    /// skipped, a suppression row, a command-line argument, an address a
    /// bounce report names), to compare with the keys of valid ones.
    pub fn of(raw: &str) -> Self {
        let raw = raw.trim();
        let Some((local, domain)) = raw.rsplit_once('@') else { return Self(raw.to_lowercase()) };
        // Nearly every address: nothing but case to change.
        if !local.starts_with('"') && domain.is_ascii() {
            return Self(raw.to_lowercase());
        }
        let local = unquoted(local).unwrap_or(local).to_lowercase();
        let domain = if domain.is_ascii() {
            domain.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_lowercase())
        };
        Self(format!("{local}@{domain}"))
    }

    /// This key, and the key the same address had before domains were
    /// put in their IDNA form (lower case, the domain as written in
    /// Unicode): what pseudonyms made then were made from.
    pub fn spellings(&self) -> Vec<Self> {
        std::iter::once(self.clone()).chain(self.unicode_spelling()).collect()
    }

    /// The key of the same address with its domain in Unicode, when that
    /// differs (an `xn--` label): the key such an address had before.
    pub fn unicode_spelling(&self) -> Option<Self> {
        let (local, domain) = self.0.rsplit_once('@')?;
        if !domain.contains("xn--") {
            return None;
        }
        let (unicode, result) = idna::domain_to_unicode(domain);
        (result.is_ok() && unicode != domain).then(|| Self(format!("{local}@{}", unicode.to_lowercase())))
    }

    /// The mailbox behind the address, for limits on how often one inbox
    /// is written to: the key without a `+tag`, and, at domains known to
    /// ignore dots (Gmail's), without dots. Two keys with one mailbox may
    /// still be two subscribers; this is only for counting.
    pub fn mailbox(&self) -> String {
        let Some((local, domain)) = self.0.rsplit_once('@') else { return self.0.clone() };
        let local = local.split_once('+').map_or(local, |(base, _)| base);
        match domain {
            "gmail.com" | "googlemail.com" => format!("{}@gmail.com", local.replace('.', "")),
            _ => format!("{local}@{domain}"),
        }
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

/// The inside of a quoted local part (`"bob"`) when it needs no quotes
/// (a dot-atom: RFC 5322's atext and single dots inside).
fn unquoted(local: &str) -> Option<&str> {
    let inner = local.strip_prefix('"')?.strip_suffix('"')?;
    let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii();
    let dot_atom = !inner.is_empty()
        && !inner.starts_with('.')
        && !inner.ends_with('.')
        && !inner.contains("..")
        && inner.chars().all(|c| c == '.' || atext(c));
    dot_atom.then_some(inner)
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

#[cfg(test)]
mod identity_tests {
    use super::*;

    #[test]
    fn one_address_is_one_key_however_it_is_spelled() {
        let key = |s: &str| EmailKey::of(s).as_str().to_owned();
        assert_eq!(key("\"bob\"@Victim.test"), "bob@victim.test");
        assert_eq!(key(" BOB@victim.test "), "bob@victim.test");
        assert_eq!(key("ulla@bücher.test"), "ulla@xn--bcher-kva.test");
        assert_eq!(key("Ulla@XN--BCHER-KVA.test"), "ulla@xn--bcher-kva.test");
        assert_eq!(key("ulla@BÜCHER.test"), "ulla@xn--bcher-kva.test");
        // Quotes that are needed stay: this is another mailbox.
        assert_eq!(key("\"bo b\"@victim.test"), "\"bo b\"@victim.test");
        assert_eq!(key("\"bob.\"@victim.test"), "\"bob.\"@victim.test");
        let parsed = EmailAddress::parse("\"bob\"@victim.test").unwrap();
        assert_eq!(parsed.key(), EmailAddress::parse("bob@victim.test").unwrap().key());
    }

    #[test]
    fn a_key_of_a_unicode_domain_also_has_the_spelling_pseudonyms_were_once_made_from() {
        let spellings = EmailKey::of("ulla@bücher.test").spellings();
        let spellings: Vec<&str> = spellings.iter().map(EmailKey::as_str).collect();
        assert_eq!(spellings, ["ulla@xn--bcher-kva.test", "ulla@bücher.test"]);
        assert_eq!(EmailKey::of("a@example.org").spellings().len(), 1);
    }

    #[test]
    fn tags_and_gmail_dots_fold_into_one_mailbox_for_counting() {
        let mailbox = |s: &str| EmailKey::of(s).mailbox();
        assert_eq!(mailbox("carol+1@victim.test"), "carol@victim.test");
        assert_eq!(mailbox("carol+300@victim.test"), "carol@victim.test");
        assert_eq!(mailbox("b.o.b@gmail.com"), "bob@gmail.com");
        assert_eq!(mailbox("Bob+x@googlemail.com"), "bob@gmail.com");
        assert_eq!(mailbox("b.o.b@victim.test"), "b.o.b@victim.test", "dots matter elsewhere");
    }
}
