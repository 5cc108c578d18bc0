//! The DNS side of DKIM: the signing domain and selector, the TXT record
//! that publishes the public key, and whether the signing domain aligns
//! with the sender's for DMARC.

use std::fmt;

/// A DNS name in ASCII (an internationalised one in its `xn--` form),
/// lower case, without a final dot: the `d=` and `s=` of a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsName(String);

impl DnsName {
    /// A domain such as `hope.example.org`: two labels or more.
    pub fn domain(raw: &str) -> Result<Self, &'static str> {
        let name = Self::labels(raw)?;
        if !name.0.contains('.') {
            return Err("must be a domain name with a dot, such as hope.example.org");
        }
        Ok(name)
    }

    /// A selector such as `bulletin2025`: one label or more (RFC 6376
    /// section 3.1).
    pub fn selector(raw: &str) -> Result<Self, &'static str> {
        Self::labels(raw)
    }

    fn labels(raw: &str) -> Result<Self, &'static str> {
        let name = raw.strip_suffix('.').unwrap_or(raw).to_ascii_lowercase();
        if name.len() > 253 {
            return Err("is longer than a DNS name can be (253 characters)");
        }
        let label_ok = |label: &str| {
            (1..=63).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        if name.split('.').all(label_ok) {
            Ok(Self(name))
        } else {
            Err("must be a DNS name: letters, digits and hyphens in dot-separated parts \
                 (write an international name in its xn-- form)")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The TXT record that publishes a public key: `<selector>._domainkey.<domain>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// The record's name, without a final dot.
    pub name: String,
    /// `v=DKIM1; k=rsa; p=…`, as one string.
    pub value: String,
}

/// The longest string one TXT character-string can hold (RFC 1035 section 3.3).
const MAX_TXT_STRING: usize = 255;

impl DnsRecord {
    pub(super) fn new(domain: &DnsName, selector: &DnsName, k: &str, public_base64: &str) -> Self {
        Self {
            name: format!("{selector}._domainkey.{domain}"),
            value: format!("v=DKIM1; k={k}; p={public_base64}"),
        }
    }

    /// The value cut into strings of at most 255 characters, as a zone file
    /// needs a long value to be written (receivers join them again).
    pub fn strings(&self) -> Vec<&str> {
        // The value is ASCII, so any byte offset is a character boundary.
        self.value.as_bytes().chunks(MAX_TXT_STRING).map(|c| std::str::from_utf8(c).expect("ASCII")).collect()
    }

    /// The record as a zone-file line (BIND syntax), its value in quoted
    /// strings of at most 255 characters.
    pub fn zone_file_line(&self) -> String {
        let quoted: Vec<String> = self.strings().iter().map(|s| format!("\"{s}\"")).collect();
        format!("{}. IN TXT ( {} )", self.name, quoted.join(" "))
    }
}

/// How a signing domain relates to the sender's domain, for DMARC
/// (RFC 7489 section 3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alignment {
    /// The same domain: aligned in strict and relaxed mode.
    Strict,
    /// The same organisational domain (such as `example.org` signing for
    /// `news.example.org`): aligned in relaxed mode, DMARC's default.
    Relaxed,
    /// Another organisation's domain: DMARC does not count the signature.
    None,
}

/// How `signing` aligns with `from`, using the Public Suffix List for the
/// organisational domains.
pub fn alignment(signing: &str, from: &str) -> Alignment {
    let (signing, from) = (signing.to_ascii_lowercase(), from.to_ascii_lowercase());
    if signing == from {
        return Alignment::Strict;
    }
    match (psl::domain_str(&signing), psl::domain_str(&from)) {
        (Some(a), Some(b)) if a == b => Alignment::Relaxed,
        _ => Alignment::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_lower_cased() {
        assert_eq!(DnsName::domain("Hope.Example.ORG.").unwrap().as_str(), "hope.example.org");
        assert_eq!(DnsName::selector("bulletin2025").unwrap().as_str(), "bulletin2025");
        assert_eq!(DnsName::selector("2025.news").unwrap().as_str(), "2025.news");
        assert!(DnsName::domain("localhost").is_err());
        assert!(DnsName::domain("hope example.org").is_err());
        assert!(DnsName::selector("-bad").is_err());
        assert!(DnsName::selector("a..b").is_err());
        assert!(DnsName::selector("under_score").is_err());
        assert!(DnsName::domain("bücher.example").is_err());
    }

    #[test]
    fn a_long_record_value_is_cut_into_strings_of_at_most_255_characters() {
        let domain = DnsName::domain("hope.example.org").unwrap();
        let selector = DnsName::selector("sel").unwrap();
        let record = DnsRecord::new(&domain, &selector, "rsa", &"A".repeat(392));
        assert_eq!(record.name, "sel._domainkey.hope.example.org");
        let strings = record.strings();
        assert_eq!(strings.len(), 2);
        assert!(strings.iter().all(|s| s.len() <= 255));
        assert_eq!(strings.concat(), record.value);
        assert_eq!(
            record.zone_file_line(),
            format!("sel._domainkey.hope.example.org. IN TXT ( \"{}\" \"{}\" )", strings[0], strings[1])
        );
    }

    #[test]
    fn alignment_follows_organisational_domains() {
        assert_eq!(alignment("hope.example.org", "Hope.Example.org"), Alignment::Strict);
        assert_eq!(alignment("example.org", "news.example.org"), Alignment::Relaxed);
        assert_eq!(alignment("mail.example.org", "news.example.org"), Alignment::Relaxed);
        assert_eq!(alignment("example.net", "example.org"), Alignment::None);
        // Two registrations under one public suffix are two organisations.
        assert_eq!(alignment("charity.org.uk", "other.org.uk"), Alignment::None);
        assert_eq!(alignment("news.charity.org.uk", "charity.org.uk"), Alignment::Relaxed);
        assert_eq!(alignment("org.uk", "charity.org.uk"), Alignment::None);
    }
}
