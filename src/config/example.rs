//! The worked example: `.env.example` (filled in for the fictional Hope &
//! Justice Trust) and the sample's logo, compiled in, and which of a
//! newsletter's settings still hold them. A dry run and a preview may use
//! them; a real send refuses them and `check` reports them, because nothing
//! of an example organisation may reach a supporter. Where it ends: this
//! module says *which* settings; the send and `check` decide what to do.

use std::fmt;

use super::{KEYS, Source};
use crate::domain::EmailAddress;

/// The documented settings, filled in for a fictional charity.
pub const ENV_EXAMPLE: &str = include_str!("../../.env.example");

/// The sample's logo (made for this project, CC0), which `.env.example`'s
/// `LOGO` names.
pub const STOCK_LOGO: &[u8] = include_bytes!("../../content/images/logo.png");

/// Settings whose example value names the example organisation, a person
/// or a domain: a newsletter that still holds one of these values is
/// sending as someone else.
pub const ORGANISATION_KEYS: [&str; 19] = [
    "FROM_EMAIL",
    "FROM_NAME",
    "REPLY_TO",
    "BOUNCE_ADDRESS",
    "ORG_NAME",
    "ORG_ADDRESS",
    "ORG_WEBSITE",
    "DONATE_URL",
    "SUBSCRIPTION_REASON",
    "LIST_NAME",
    "LIST_ID",
    "UNSUBSCRIBE_MAILTO",
    "UNSUBSCRIBE_URL",
    "CONSENT_TEXT",
    "ALLOWED_ORIGINS",
    "PREFERENCES_URL",
    "LOGO_ALT",
    "SMTP_HOST",
    "SMTP_USERNAME",
];

/// The settings without which a message cannot say who sends it; unset,
/// they fall back to example.org placeholders.
pub const REQUIRED_KEYS: [&str; 3] = ["ORG_NAME", "ORG_ADDRESS", "FROM_EMAIL"];

/// The example's own domain; it and every name under it (`hope.example.org`).
const EXAMPLE_DOMAIN: &str = "example.org";

/// Settings never looked at here: their values are secrets.
const SECRET_KEYS: [&str; 3] = ["UNSUBSCRIBE_SECRET", "SMTP_PASSWORD", "BOUNCE_IMAP_PASSWORD"];

/// Why a setting is still the example's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// A required setting with no value (a placeholder stands in).
    LeftEmpty,
    /// The value is one of `.env.example`'s.
    FromExample(String),
    /// The value names this domain, which is the example's.
    ExampleDomain(String),
    /// `LOGO` is a file holding the sample's logo.
    StockLogo,
}

/// A setting that still holds (or lacks, for a required one) what only the
/// example may have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleSetting {
    pub key: &'static str,
    pub why: Why,
}

impl fmt::Display for ExampleSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.why {
            Why::LeftEmpty => write!(f, "{} (empty)", self.key),
            Why::FromExample(value) => write!(f, "{} (the example's {value:?})", self.key),
            Why::ExampleDomain(domain) => write!(f, "{} (on the example domain {domain})", self.key),
            Why::StockLogo => write!(f, "{} (the sample's logo)", self.key),
        }
    }
}

/// The required settings that have no value, in [`REQUIRED_KEYS`]' order.
pub fn left_empty(source: &Source) -> Vec<ExampleSetting> {
    REQUIRED_KEYS
        .iter()
        .filter(|key| source.get(key).is_none())
        .map(|key| ExampleSetting { key, why: Why::LeftEmpty })
        .collect()
}

/// The settings whose value is the example's, in [`KEYS`]' order: equal to
/// a value `.env.example` gives an organisation setting, naming the
/// example's domain, or (for `LOGO`) the sample's logo file.
pub fn example_values(source: &Source) -> Vec<ExampleSetting> {
    let examples = organisation_values();
    let mut found = Vec::new();
    for key in KEYS.iter().filter(|k| !SECRET_KEYS.contains(k)) {
        let Some((value, _)) = source.get(key) else { continue };
        let why = if examples.contains(&value) {
            Some(Why::FromExample(value))
        } else if let Some(domain) = example_domain_in(&value) {
            Some(Why::ExampleDomain(domain))
        } else if *key == "LOGO" && is_stock_logo(&value) {
            Some(Why::StockLogo)
        } else {
            None
        };
        found.extend(why.map(|why| ExampleSetting { key, why }));
    }
    found
}

/// `.env.example`'s values of the [`ORGANISATION_KEYS`].
fn organisation_values() -> Vec<String> {
    dotenvy::from_read_iter(ENV_EXAMPLE.as_bytes())
        .filter_map(Result::ok)
        .filter(|(key, value)| ORGANISATION_KEYS.contains(&key.as_str()) && !value.trim().is_empty())
        .map(|(_, value)| value.trim().to_owned())
        .collect()
}

/// The first name in `value` (an address, a web address, a bare domain)
/// that is the example's domain or under it.
fn example_domain_in(value: &str) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .map(|name| name.trim_matches('.'))
        .find(|name| is_under(name, EXAMPLE_DOMAIN))
        .map(str::to_owned)
}

fn is_under(name: &str, domain: &str) -> bool {
    name == domain || name.strip_suffix(domain).is_some_and(|rest| rest.ends_with('.'))
}

/// Whether the file `LOGO` names holds the sample's logo, byte for byte.
fn is_stock_logo(value: &str) -> bool {
    if value.contains("://") {
        return false;
    }
    std::fs::read(value).is_ok_and(|bytes| bytes == STOCK_LOGO)
}

/// Whether `address` is on a domain reserved for examples and tests
/// (RFC 2606 and RFC 6761: example.com, example.net, example.org and the
/// `.example`, `.test`, `.invalid` and `.localhost` names): no one's
/// mailbox, so no supporter is reached through it.
pub fn reaches_no_one(address: &EmailAddress) -> bool {
    let domain = address.as_lettre().domain().trim_end_matches('.').to_ascii_lowercase();
    ["example.com", "example.net", "example.org"].iter().any(|reserved| is_under(&domain, reserved))
        || ["example", "test", "invalid", "localhost"]
            .iter()
            .any(|tld| domain.rsplit('.').next() == Some(tld))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> Vec<String> {
        example_values(&Source::from_pairs(pairs.iter().copied())).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_value_copied_from_the_example_is_named_with_it() {
        assert_eq!(
            values(&[("ORG_NAME", "Hope & Justice Trust"), ("SMTP_PORT", "587")]),
            ["ORG_NAME (the example's \"Hope & Justice Trust\")"]
        );
    }

    #[test]
    fn a_value_on_the_example_domain_or_under_it_is_named_with_the_domain() {
        assert_eq!(
            values(&[
                ("FROM_EMAIL", "news@hope.example.org"),
                ("ORG_WEBSITE", "https://www.Example.org/about"),
                ("LIST_ID", "prayer.hopeexample.org"),
                ("REPLY_TO", "office@example.org.uk"),
            ]),
            [
                "FROM_EMAIL (on the example domain hope.example.org)",
                "ORG_WEBSITE (on the example domain www.example.org)"
            ]
        );
    }

    #[test]
    fn an_organisations_own_values_are_not_named() {
        assert!(
            values(&[
                ("ORG_NAME", "St Mary's Food Bank"),
                ("FROM_EMAIL", "news@stmarys-foodbank.org.uk"),
                ("BRAND_COLOR", "#1d4f91"),
                ("LOGO", "https://stmarys-foodbank.org.uk/logo.png"),
            ])
            .is_empty()
        );
    }

    #[test]
    fn the_stock_logo_is_known_by_its_bytes_not_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let stock = dir.path().join("ours.png");
        std::fs::write(&stock, STOCK_LOGO).unwrap();
        assert_eq!(values(&[("LOGO", stock.to_str().unwrap())]), ["LOGO (the sample's logo)"]);
        std::fs::write(&stock, b"our own logo").unwrap();
        assert!(values(&[("LOGO", stock.to_str().unwrap())]).is_empty());
    }

    #[test]
    fn required_settings_left_empty_are_named_in_order() {
        let source = Source::from_pairs([("ORG_ADDRESS", "1 High St"), ("FROM_EMAIL", " ")]);
        let named: Vec<String> = left_empty(&source).iter().map(ToString::to_string).collect();
        assert_eq!(named, ["ORG_NAME (empty)", "FROM_EMAIL (empty)"]);
    }

    #[test]
    fn the_example_reaches_no_one_but_a_real_domain_does() {
        let reaches = |a: &str| !reaches_no_one(&EmailAddress::parse(a).unwrap());
        for nobody in ["you@example.org", "a@Hope.Example.COM", "b@example.net", "c@shop.test", "d@x.invalid"]
        {
            assert!(!reaches(nobody), "{nobody}");
        }
        for someone in ["grace@stmarys-foodbank.org.uk", "e@example.org.uk", "f@notexample.com"] {
            assert!(reaches(someone), "{someone}");
        }
    }

    #[test]
    fn every_organisation_key_has_a_value_in_the_example() {
        let set: Vec<String> = dotenvy::from_read_iter(ENV_EXAMPLE.as_bytes())
            .filter_map(Result::ok)
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, _)| k)
            .collect();
        for key in ORGANISATION_KEYS {
            assert!(set.iter().any(|k| k == key), "{key} has no example value");
        }
    }
}
