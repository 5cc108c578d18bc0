//! SPF for `check --dns`: the envelope sender's record, evaluated by
//! mail-auth for each address the relay has.

use std::net::IpAddr;

use mail_auth::SpfResult;
use mail_auth::spf::verify::SpfParameters;

use super::resolver::{self, Answer, Dns};
use super::{DnsFinding, DnsSetup, Item, Severity, finding, records};

/// The envelope sender's SPF record, evaluated by mail-auth for each of
/// the relay's addresses.
pub(super) async fn spf(dns: &Dns, setup: &DnsSetup<'_>, domain: &str, found: &[String]) -> DnsFinding {
    let error = |text: String| finding(Item::Spf, Severity::Error, text);
    let Some(relay) = setup.relay else {
        return finding(
            Item::Spf,
            Severity::Warning,
            format!(
                "SMTP_HOST is not set, so whether {domain}'s SPF record authorises the relay is not known{}",
                found.first().map(|r| format!(" (the record: {r})")).unwrap_or_default()
            ),
        );
    };
    let ips = match dns.ips(relay).await {
        Answer::Found(ips) if !ips.is_empty() => ips,
        Answer::Found(_) | Answer::Nothing => {
            return error(format!("the relay SMTP_HOST = {relay} has no address in the DNS ({})", dns.name));
        }
        Answer::Failed(why) => return error(format!("cannot look up the relay {relay}: {why}")),
    };
    let listed = ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    if found.is_empty() {
        return error(format!(
            "{domain}, the envelope sender's domain, has no SPF record, so receivers cannot tell the relay \
             {relay} ({listed}) may send for it; publish a TXT record at {domain}: {}",
            records::spf_with(None, &ips)
        ));
    }
    // The domain in the form asked for above, which mail-auth evaluates.
    let sender = format!("{}@{domain}", setup.settings.envelope_sender().as_lettre().user());
    let mut refused: Vec<(IpAddr, SpfResult)> = Vec::new();
    for &ip in &ips {
        let params = SpfParameters::verify_mail_from(ip, relay, relay, &sender);
        match tokio::time::timeout(resolver::QUERY_TIMEOUT * 5, dns.auth.verify_spf(params)).await {
            Ok(output) if output.result() == SpfResult::Pass => {}
            Ok(output) => refused.push((ip, output.result())),
            Err(_) => refused.push((ip, SpfResult::TempError)),
        }
    }
    let record = &found[0];
    if refused.is_empty() {
        return finding(
            Item::Spf,
            Severity::Fine,
            format!("{domain}'s record authorises the relay {relay} ({listed}): {record}"),
        );
    }
    let worst = refused
        .iter()
        .map(|(_, result)| *result)
        .find(|r| *r != SpfResult::SoftFail && *r != SpfResult::Neutral);
    let results = refused
        .iter()
        .map(|(ip, result)| format!("{ip}: {}", result.to_string().to_lowercase()))
        .collect::<Vec<_>>();
    let missing: Vec<IpAddr> = refused.iter().map(|(ip, _)| *ip).collect();
    let text = match worst {
        Some(SpfResult::PermError) => format!(
            "{domain}'s SPF record is broken (permerror: two records, a syntax error or more than 10 look-ups), so \
             receivers ignore it: {record}; publish one record, such as: {}",
            records::spf_with(Some(record), &missing)
        ),
        Some(SpfResult::TempError) => format!(
            "{domain}'s SPF record could not be evaluated for the relay {relay} ({}): {}",
            results.join(", "),
            dns.name
        ),
        _ => format!(
            "{domain}'s record does not authorise the relay {relay} ({}): {record}; publish instead: {}",
            results.join(", "),
            records::spf_with(Some(record), &missing)
        ),
    };
    let severity = if worst.is_none() { Severity::Warning } else { Severity::Error };
    finding(Item::Spf, severity, text)
}
