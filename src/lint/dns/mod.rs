//! `check --dns`: what receivers will find in the DNS about the sending
//! setup, looked up for real: SPF for the envelope sender and the relay's
//! addresses, the DKIM key, the DMARC policy and alignment, and where
//! bounce reports go. One finding per item, each saying what to publish.
//! It ends at the findings; `commands::check` prints them.

mod key;
mod records;
mod resolver;
mod spf;

use std::fmt;
use std::net::SocketAddr;
use std::time::SystemTime;

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
    let envelope = records::ascii_domain(setup.settings.envelope_sender().as_lettre().domain());
    // The first question tells whether the server answers at all.
    let spf_records = match dns.txt(&envelope).await {
        Answer::Failed(why) => return vec![finding(Item::Server, Severity::Error, why)],
        Answer::Found(texts) => texts.into_iter().filter(|t| records::is_spf(t)).collect(),
        Answer::Nothing => Vec::new(),
    };
    vec![
        finding(Item::Server, Severity::Fine, format!("asked {}", dns.name)),
        spf::spf(&dns, setup, &envelope, &spf_records).await,
        key::dkim(&dns, setup).await,
        dmarc(&dns, setup, &envelope).await,
        bounces(&dns, &envelope).await,
    ]
}

/// The DMARC record of From's domain, or else of its organisational
/// domain (RFC 7489 section 6.6.3), and what aligns with From.
async fn dmarc(dns: &Dns, setup: &DnsSetup<'_>, envelope: &str) -> DnsFinding {
    let from = records::ascii_domain(setup.settings.from_email.as_lettre().domain());
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
