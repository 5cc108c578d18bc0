//! `DNS_SERVER`: the DNS server `check --dns` asks, instead of the
//! system's resolver (`/etc/resolv.conf`).

use std::net::{IpAddr, SocketAddr};

use super::{ConfigError, Source, parse_with};

/// The port a DNS server listens on when `DNS_SERVER` names none.
pub const DNS_PORT: u16 = 53;

/// `DNS_SERVER`: an IP address (`192.0.2.53`, `2001:db8::53`) or an address
/// and port (`127.0.0.1:5353`, `[::1]:5353`). Unset: the system's resolver.
pub fn dns_server(source: &Source) -> Result<Option<SocketAddr>, ConfigError> {
    parse_with(source, "DNS_SERVER", parse_server)
}

fn parse_server(raw: &str) -> Result<SocketAddr, &'static str> {
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, DNS_PORT));
    }
    raw.parse::<SocketAddr>().map_err(|_| {
        "must be a DNS server's IP address, optionally with a port: 192.0.2.53, 127.0.0.1:5353 or [::1]:5353 \
         (a name cannot be used: it would need a DNS server to find it)"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(value: &str) -> Result<Option<SocketAddr>, ConfigError> {
        dns_server(&Source::from_pairs([("DNS_SERVER", value)]))
    }

    #[test]
    fn a_dns_server_is_an_address_with_an_optional_port() {
        assert_eq!(server("192.0.2.53").unwrap(), Some("192.0.2.53:53".parse().unwrap()));
        assert_eq!(server("127.0.0.1:5353").unwrap(), Some("127.0.0.1:5353".parse().unwrap()));
        assert_eq!(server("::1").unwrap(), Some("[::1]:53".parse().unwrap()));
        assert_eq!(server("[::1]:5353").unwrap(), Some("[::1]:5353".parse().unwrap()));
        assert_eq!(dns_server(&Source::from_pairs([])).unwrap(), None);
    }

    #[test]
    fn a_dns_server_given_by_name_or_with_a_bad_port_is_rejected_naming_the_setting() {
        for bad in ["dns.example.org", "127.0.0.1:99999", "127.0.0.1:", "1.2.3"] {
            let err = server(bad).unwrap_err().to_string();
            assert!(err.contains("DNS_SERVER") && err.contains("IP address"), "{bad}: {err}");
        }
    }
}
