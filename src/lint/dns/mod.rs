//! `check --dns`: what receivers will find in the DNS about the sending
//! setup, looked up for real: SPF for the envelope sender and the relay's
//! addresses, the DKIM key, the DMARC policy and alignment, and where
//! bounce reports go. One finding per item, each saying what to publish.
//! It ends at the findings; `commands::check` prints them.

mod records;
mod resolver;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::SystemTime;

use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, DkimResult, SpfResult};

use crate::config::Settings;
pub use records::Severity;
use records::{Dmarc, Mode, Policy};
use resolver::{Answer, Dns};

/// What is looked up and where.
#[derive(Debug)]
pub struct DnsSetup<'a> {
    pub settings: &'a Settings,
    /// The relay's host name or address (`SMTP_HOST`), if set.
    pub relay: Option<&'a str>,
    /// `DNS_SERVER`; `None` for the system's resolver.
    pub server: Option<SocketAddr>,
    /// When the test signature is made (the check's clock).
    pub now: SystemTime,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// The DNS server itself, when it does not answer.
    Server,
    Spf,
    Dkim,
    Dmarc,
    Bounces,
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Server => "DNS",
            Self::Spf => "SPF",
            Self::Dkim => "DKIM record",
            Self::Dmarc => "DMARC",
            Self::Bounces => "bounces",
        })
    }
}

/// One line of `check --dns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsFinding {
    pub item: Item,
    pub severity: Severity,
    /// What was found and, unless fine, what to publish or set.
    pub text: String,
}

impl fmt::Display for DnsFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.item, self.text)
    }
}

fn finding(item: Item, severity: Severity, text: impl Into<String>) -> DnsFinding {
    DnsFinding { item, severity, text: text.into() }
}

/// Looks everything up, one finding per item; a server that does not
/// answer is one error and nothing more (each query gives up after
/// [`resolver::QUERY_TIMEOUT`]).
pub fn check(setup: &DnsSetup<'_>) -> Vec<DnsFinding> {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            return vec![finding(
                Item::Server,
                Severity::Error,
                format!("cannot start the DNS look-ups: {e}"),
            )];
        }
    };
    runtime.block_on(check_all(setup))
}

async fn check_all(setup: &DnsSetup<'_>) -> Vec<DnsFinding> {
    let dns = match Dns::new(setup.server) {
        Ok(dns) => dns,
        Err(e) => return vec![finding(Item::Server, Severity::Error, e)],
    };
    let envelope = setup.settings.envelope_sender().as_lettre().domain().to_ascii_lowercase();
    // The first question tells whether the server answers at all.
    let spf_records = match dns.txt(&envelope).await {
        Answer::Failed(why) => return vec![finding(Item::Server, Severity::Error, why)],
        Answer::Found(texts) => texts.into_iter().filter(|t| records::is_spf(t)).collect(),
        Answer::Nothing => Vec::new(),
    };
    vec![
        spf(&dns, setup, &envelope, &spf_records).await,
        dkim(&dns, setup).await,
        dmarc(&dns, setup, &envelope).await,
        bounces(&dns, &envelope).await,
    ]
}

/// The envelope sender's SPF record, evaluated by mail-auth for each of
/// the relay's addresses.
async fn spf(dns: &Dns, setup: &DnsSetup<'_>, domain: &str, found: &[String]) -> DnsFinding {
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
    let sender = setup.settings.envelope_sender().as_str().to_owned();
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

/// Signs a small message with `DKIM_PRIVATE_KEY` and has mail-auth verify
/// it against the record it looks up: proof the published key is ours.
async fn dkim(dns: &Dns, setup: &DnsSetup<'_>) -> DnsFinding {
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

/// The DMARC record of From's domain, or else of its organisational
/// domain (RFC 7489 section 6.6.3), and what aligns with From.
async fn dmarc(dns: &Dns, setup: &DnsSetup<'_>, envelope: &str) -> DnsFinding {
    let from = setup.settings.from_email.as_lettre().domain().to_ascii_lowercase();
    let organisational = psl::domain_str(&from).unwrap_or(&from).to_owned();
    let mut names = vec![format!("_dmarc.{from}")];
    if organisational != from {
        names.push(format!("_dmarc.{organisational}"));
    }
    for name in &names {
        let record = match dns.parsed::<mail_auth::dmarc::Dmarc>(name).await {
            Answer::Nothing => continue,
            Answer::Failed(why) => {
                return finding(Item::Dmarc, Severity::Error, format!("cannot look up {name}: {why}"));
            }
            Answer::Found(Err(why)) => {
                return finding(
                    Item::Dmarc,
                    Severity::Error,
                    format!(
                        "the record at {name} does not parse ({why}); publish, for a start: {}",
                        records::first_dmarc_record()
                    ),
                );
            }
            Answer::Found(Ok(record)) => record,
        };
        let policy = match record.p {
            mail_auth::dmarc::Policy::None => Policy::None,
            mail_auth::dmarc::Policy::Quarantine => Policy::Quarantine,
            mail_auth::dmarc::Policy::Reject => Policy::Reject,
            mail_auth::dmarc::Policy::Unspecified => {
                return finding(
                    Item::Dmarc,
                    Severity::Error,
                    format!(
                        "the record at {name} has no p= policy, so receivers ignore it; publish, for a start: {}",
                        records::first_dmarc_record()
                    ),
                );
            }
        };
        let mode = |m: &mail_auth::dmarc::Alignment| match m {
            mail_auth::dmarc::Alignment::Relaxed => Mode::Relaxed,
            mail_auth::dmarc::Alignment::Strict => Mode::Strict,
        };
        let dkim = setup.settings.dkim.as_ref().map(|d| d.domain().as_str());
        let (severity, text) = Dmarc {
            name,
            policy,
            adkim: mode(&record.adkim),
            aspf: mode(&record.aspf),
            from: &from,
            dkim,
            envelope,
        }
        .verdict();
        return finding(Item::Dmarc, severity, text);
    }
    finding(
        Item::Dmarc,
        Severity::Error,
        format!(
            "there is no DMARC record at {}: Gmail and Yahoo require one of bulk senders; publish a TXT record at \
             _dmarc.{organisational}: {} (and add rua=mailto:ADDRESS to it to receive reports)",
            names.join(" or "),
            records::first_dmarc_record()
        ),
    )
}

/// Where bounce reports for the envelope sender go: its domain's MX
/// records, or its address (RFC 5321's implicit MX).
async fn bounces(dns: &Dns, domain: &str) -> DnsFinding {
    let publish = format!(
        "publish an MX record for {domain} naming the server that receives its mail ({domain}. IN MX 10 \
         mail.{domain}.), or set BOUNCE_ADDRESS to a mailbox on a domain that receives mail"
    );
    match dns.mx(domain).await {
        Answer::Found(hosts) if hosts.iter().any(|h| h == ".") => finding(
            Item::Bounces,
            Severity::Error,
            format!(
                "{domain} publishes a null MX (it accepts no mail), so bounce reports cannot arrive; {publish}"
            ),
        ),
        Answer::Found(hosts) if !hosts.is_empty() => finding(
            Item::Bounces,
            Severity::Fine,
            format!("{domain} receives mail at {}, so bounce reports can arrive", hosts.join(", ")),
        ),
        Answer::Failed(why) => {
            finding(Item::Bounces, Severity::Error, format!("cannot look up {domain}'s MX: {why}"))
        }
        Answer::Found(_) | Answer::Nothing => match dns.ips(domain).await {
            Answer::Found(ips) if !ips.is_empty() => finding(
                Item::Bounces,
                Severity::Fine,
                format!(
                    "{domain} has no MX record but an address ({}), which takes its mail (RFC 5321's implicit MX), \
                     so bounce reports can arrive",
                    ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                ),
            ),
            Answer::Failed(why) => {
                finding(Item::Bounces, Severity::Error, format!("cannot look up {domain}: {why}"))
            }
            Answer::Found(_) | Answer::Nothing => finding(
                Item::Bounces,
                Severity::Error,
                format!(
                    "{domain}, the envelope sender's domain, has no MX or address record, so bounce reports cannot arrive; {publish}"
                ),
            ),
        },
    }
}
