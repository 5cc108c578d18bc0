//! `STAFF_EMAIL`: who gets the staff report after each send (what was
//! sent, failed, skipped, and the list's changes since the last report),
//! and the alert when a send stops early. Unset: no report is sent.

use super::{ConfigError, Source, parse_with};
use crate::domain::EmailAddress;

/// `STAFF_EMAIL`: one address, or `None` when unset or empty.
pub fn staff_email(source: &Source) -> Result<Option<EmailAddress>, ConfigError> {
    parse_with(source, "STAFF_EMAIL", |raw| EmailAddress::parse(raw.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(value: &str) -> Result<Option<EmailAddress>, ConfigError> {
        staff_email(&Source::from_pairs([("STAFF_EMAIL", value)]))
    }

    #[test]
    fn a_staff_address_is_read_and_an_unset_one_sends_no_report() {
        assert_eq!(staff("office@hope.example.org").unwrap().unwrap().as_str(), "office@hope.example.org");
        assert_eq!(staff_email(&Source::from_pairs([])).unwrap(), None);
    }

    #[test]
    fn a_staff_address_that_is_not_one_is_rejected_naming_the_setting() {
        let error = staff("the office").unwrap_err().to_string();
        assert!(error.contains("STAFF_EMAIL"), "{error}");
    }
}
