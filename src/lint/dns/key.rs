//! The DKIM record for `check --dns`: a test signature by
//! `DKIM_PRIVATE_KEY`, verified by mail-auth against the published key.

use std::time::SystemTime;

use mail_auth::{AuthenticatedMessage, DkimResult};

use super::resolver::{self, Dns};
use super::{DnsFinding, DnsSetup, Item, Severity, finding};

/// Signs a small message with `DKIM_PRIVATE_KEY` and has mail-auth verify
/// it against the record it looks up: proof the published key is ours.
pub(super) async fn dkim(dns: &Dns, setup: &DnsSetup<'_>) -> DnsFinding {
    let Some(dkim) = &setup.settings.dkim else {
        return finding(
            Item::Dkim,
            Severity::Warning,
            "not set up (DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY), so messages go unsigned unless the relay \
             signs them, and DMARC rests on SPF alone (see the user guide, Deliverability)",
        );
    };
    let record = dkim.dns_record();
    let publish = format!("publish this TXT record: {}", record.zone_file_line());
    let message = test_message(setup.settings.from_email.as_str(), setup.now);
    let signed = match dkim.sign(message.as_bytes(), setup.now) {
        Ok(field) => format!("{field}{message}"),
        Err(e) => return finding(Item::Dkim, Severity::Error, format!("{e}")),
    };
    let Some(parsed) = AuthenticatedMessage::parse(signed.as_bytes()) else {
        return finding(Item::Dkim, Severity::Error, "the test message did not parse (a bug in bulletin)");
    };
    let outputs = match tokio::time::timeout(resolver::QUERY_TIMEOUT * 2, dns.auth.verify_dkim(&parsed)).await
    {
        Ok(outputs) => outputs,
        Err(_) => {
            return finding(
                Item::Dkim,
                Severity::Error,
                format!("{} did not answer for {}", dns.name, record.name),
            );
        }
    };
    let name = &record.name;
    let (severity, text) = match outputs.first().map(|o| o.result()) {
        Some(DkimResult::Pass) => (
            Severity::Fine,
            format!("{name} publishes the public key of DKIM_PRIVATE_KEY (a test signature verifies)"),
        ),
        Some(
            DkimResult::PermError(mail_auth::Error::Dns(
                mail_auth::DnsError::RecordNotFound(_) | mail_auth::DnsError::InvalidRecordType,
            ))
            | DkimResult::None,
        )
        | None => (
            Severity::Error,
            format!("there is no DKIM record at {name}, so no signature verifies; {publish}"),
        ),
        Some(DkimResult::TempError(e)) => (Severity::Error, format!("cannot look up {name}: {e}")),
        Some(DkimResult::PermError(mail_auth::Error::Dkim(mail_auth::dkim::DkimError::RevokedPublicKey))) => {
            (
                Severity::Error,
                format!(
                    "the record at {name} is revoked (its p= is empty), so no signature verifies; {publish}"
                ),
            )
        }
        Some(DkimResult::Fail(_) | DkimResult::PermError(_) | DkimResult::Neutral(_)) => (
            Severity::Error,
            format!(
                "the record at {name} publishes another key than DKIM_PRIVATE_KEY's ({}), so no signature \
                 verifies; {publish}",
                dkim.key_path().display()
            ),
        ),
    };
    finding(Item::Dkim, severity, text)
}

/// A message just big enough to sign: CRLF line ends, as sent.
fn test_message(from: &str, now: SystemTime) -> String {
    let date = crate::domain::Timestamp::from(now).unix_seconds();
    format!("From: <{from}>\r\nSubject: bulletin check --dns {date}\r\n\r\nA test signature; never sent.\r\n")
}
