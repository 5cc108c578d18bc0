//! The DNS look-ups of `check --dns`, through mail-auth's hickory resolver
//! pointed at `DNS_SERVER` or the system's resolver, each bounded in time.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use mail_auth::common::cache::NoCache;
use mail_auth::hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use mail_auth::hickory_resolver::net::NetError;
use mail_auth::hickory_resolver::proto::rr::RData;
use mail_auth::{MessageAuthenticator, Txt};

/// How long one DNS query may take before it counts as unanswered.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// What a look-up found.
#[derive(Debug)]
pub enum Answer<T> {
    Found(T),
    /// The name does not exist, or has no records of the kind asked for.
    Nothing,
    /// The server did not answer, or answered with an error.
    Failed(String),
}

/// A resolver and what it is called in findings.
pub struct Dns {
    pub auth: MessageAuthenticator,
    /// `DNS server 127.0.0.1:5353` or `the system's resolver`.
    pub name: String,
}

impl Dns {
    /// A resolver asking `server`, or the ones in `/etc/resolv.conf`:
    /// one try of [`QUERY_TIMEOUT`] per query, no cache.
    pub fn new(server: Option<SocketAddr>) -> Result<Self, String> {
        let (config, mut options, name) = match server {
            Some(server) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = server.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = server.port();
                let config = ResolverConfig::from_name_servers(vec![NameServerConfig::new(
                    server.ip(),
                    true,
                    vec![udp, tcp],
                )]);
                let mut options = ResolverOpts::default();
                // The answers are the server's alone, not /etc/hosts'.
                options.use_hosts_file = ResolveHosts::Never;
                (config, options, format!("DNS server {server} (DNS_SERVER)"))
            }
            None => {
                let (config, options) = mail_auth::hickory_resolver::system_conf::read_system_conf()
                    .map_err(|e| format!("cannot read the system's DNS settings (/etc/resolv.conf): {e}"))?;
                (
                    config,
                    options,
                    "the system's resolver (/etc/resolv.conf; set DNS_SERVER to ask another)".to_owned(),
                )
            }
        };
        options.timeout = QUERY_TIMEOUT;
        options.attempts = 1;
        options.cache_size = 0;
        let auth = MessageAuthenticator::new(config, options)
            .map_err(|e| format!("cannot set up the DNS resolver: {e}"))?;
        Ok(Self { auth, name })
    }

    /// The TXT records at `name`, each one string (its parts joined).
    pub async fn txt(&self, name: &str) -> Answer<Vec<String>> {
        match bounded(self.auth.resolver().txt_lookup(format!("{name}."))).await {
            Ok(lookup) => Answer::Found(
                lookup
                    .answers()
                    .iter()
                    .filter_map(|record| match &record.data {
                        RData::TXT(txt) => {
                            Some(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part)).collect())
                        }
                        _ => None,
                    })
                    .collect(),
            ),
            Err(e) => self.failure(e),
        }
    }

    /// The addresses of `host` (A and AAAA); an IP address is its own.
    pub async fn ips(&self, host: &str) -> Answer<Vec<IpAddr>> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Answer::Found(vec![ip]);
        }
        match bounded(self.auth.resolver().lookup_ip(format!("{host}."))).await {
            Ok(lookup) => Answer::Found(lookup.iter().collect()),
            Err(e) => self.failure(e),
        }
    }

    /// The mail exchangers of `domain`, most preferred first, without the
    /// final dot (`.` alone is RFC 7505's null MX).
    pub async fn mx(&self, domain: &str) -> Answer<Vec<String>> {
        match bounded(self.auth.resolver().mx_lookup(format!("{domain}."))).await {
            Ok(lookup) => {
                let mut exchanges: Vec<(u16, String)> = lookup
                    .answers()
                    .iter()
                    .filter_map(|record| match &record.data {
                        RData::MX(mx) => {
                            let host = mx.exchange.to_ascii();
                            let host = if host == "." { host } else { host.trim_end_matches('.').to_owned() };
                            Some((mx.preference, host))
                        }
                        _ => None,
                    })
                    .collect();
                exchanges.sort();
                Answer::Found(exchanges.into_iter().map(|(_, host)| host).collect())
            }
            Err(e) => self.failure(e),
        }
    }

    /// The record at `name` parsed by mail-auth as `T` (a DMARC record,
    /// say): `Nothing` when no TXT record there is one.
    pub async fn parsed<T>(&self, name: &str) -> Answer<Result<Arc<T>, String>>
    where
        T: mail_auth::common::parse::TxtRecordParser
            + Into<Txt>
            + mail_auth::common::resolver::UnwrapTxtRecord,
    {
        let lookup = self.auth.txt_lookup::<T>(format!("{name}."), None::<&NoCache<Box<str>, Txt>>);
        match tokio::time::timeout(QUERY_TIMEOUT * 2, lookup).await {
            Ok(Ok(record)) => Answer::Found(Ok(record)),
            Ok(Err(mail_auth::Error::Dns(
                mail_auth::DnsError::RecordNotFound(_) | mail_auth::DnsError::InvalidRecordType,
            ))) => Answer::Nothing,
            Ok(Err(mail_auth::Error::Dns(mail_auth::DnsError::Resolver(e)))) => {
                Answer::Failed(format!("{} did not answer: {e}", self.name))
            }
            Ok(Err(e)) => Answer::Found(Err(e.to_string())),
            Err(_) => Answer::Failed(format!(
                "{} did not answer within {} s",
                self.name,
                (QUERY_TIMEOUT * 2).as_secs()
            )),
        }
    }

    fn failure<T>(&self, e: Error) -> Answer<T> {
        match e {
            Error::Net(e) if e.is_no_records_found() => Answer::Nothing,
            Error::Net(e) => Answer::Failed(format!("{} did not answer: {e}", self.name)),
            Error::Late => Answer::Failed(format!(
                "{} did not answer within {} s",
                self.name,
                (QUERY_TIMEOUT * 2).as_secs()
            )),
        }
    }
}

enum Error {
    Net(NetError),
    Late,
}

/// The look-up, given at most twice [`QUERY_TIMEOUT`] (the UDP try and,
/// for a long answer, TCP).
async fn bounded<T>(lookup: impl Future<Output = Result<T, NetError>>) -> Result<T, Error> {
    match tokio::time::timeout(QUERY_TIMEOUT * 2, lookup).await {
        Ok(result) => result.map_err(Error::Net),
        Err(_) => Err(Error::Late),
    }
}
