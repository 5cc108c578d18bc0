//! The sign-up's settings, read once into typed values: how long a
//! confirmation link works (`CONFIRM_HOURS`), the interests offered
//! (`INTERESTS`), what the reader agrees to
//! (`CONSENT_TEXT`), which sites' pages may post the form
//! (`ALLOWED_ORIGINS`) and whose `X-Forwarded-For` is believed
//! (`TRUSTED_PROXIES`). Each wrong value is an error naming the setting.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

use super::{ConfigError, Source};

/// How long a confirmation link works unless `CONFIRM_HOURS` says.
pub const DEFAULT_CONFIRM_HOURS: f64 = 72.0;

/// The longest `CONFIRM_HOURS` may be: a year.
const LONGEST_CONFIRM_HOURS: f64 = 24.0 * 365.0;

/// What the sign-up pages read from the settings.
#[derive(Debug, Clone)]
pub struct SignupSettings {
    /// `CONFIRM_HOURS`, as a duration.
    pub confirm_for: Duration,
    /// `INTERESTS`, tags and labels, as the preference page reads them
    /// too ([`super::interests`]).
    pub interests: Vec<super::Interest>,
    /// `CONSENT_TEXT`, when set.
    pub consent_text: Option<String>,
    /// `ALLOWED_ORIGINS`, each as its origin (`https://example.org`).
    pub allowed_origins: Vec<String>,
    /// `TRUSTED_PROXIES`: addresses or networks; loopback when unset.
    pub trusted_proxies: Vec<IpNet>,
}

impl SignupSettings {
    pub fn from_source(source: &Source) -> Result<Self, ConfigError> {
        let invalid = |key: &'static str, value: &str, origin: &str, reason: String| ConfigError::Invalid {
            key,
            value: value.to_owned(),
            origin: origin.to_owned(),
            reason,
        };
        let hours = match source.get("CONFIRM_HOURS") {
            None => DEFAULT_CONFIRM_HOURS,
            Some((raw, origin)) => raw
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|h| h.is_finite() && *h > 0.0 && *h <= LONGEST_CONFIRM_HOURS)
                .ok_or_else(|| {
                    invalid("CONFIRM_HOURS", &raw, &origin, "not a number of hours from 0 to 8760".to_owned())
                })?,
        };
        let allowed_origins = match source.get("ALLOWED_ORIGINS") {
            None => Vec::new(),
            Some((raw, origin)) => items(&raw)
                .map(|item| match url::Url::parse(item).map(|url| url.origin()) {
                    Ok(found @ url::Origin::Tuple(..)) => Ok(found.ascii_serialization()),
                    Ok(url::Origin::Opaque(_)) => {
                        Err(invalid("ALLOWED_ORIGINS", &raw, &origin, format!("{item:?} has no origin")))
                    }
                    Err(e) => Err(invalid("ALLOWED_ORIGINS", &raw, &origin, format!("{item:?}: {e}"))),
                })
                .collect::<Result<_, _>>()?,
        };
        let trusted_proxies = match source.get("TRUSTED_PROXIES") {
            None => vec!["127.0.0.0/8".parse().expect("a network"), "::1/128".parse().expect("a network")],
            Some((raw, origin)) => items(&raw)
                .map(|item| {
                    item.parse::<IpNet>().or_else(|_| item.parse::<IpAddr>().map(IpNet::from)).map_err(|_| {
                        invalid(
                            "TRUSTED_PROXIES",
                            &raw,
                            &origin,
                            format!("{item:?} is neither an IP address nor a network such as 10.0.0.0/8"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let consent_text = source.get("CONSENT_TEXT").map(|(v, _)| v).filter(|v| !v.trim().is_empty());
        Ok(Self {
            confirm_for: Duration::from_secs_f64(hours * 3600.0),
            interests: super::interests(source)?,
            consent_text,
            allowed_origins,
            trusted_proxies,
        })
    }
}

/// The items of a comma-separated setting, trimmed, empty ones left out.
fn items(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(',').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<SignupSettings, String> {
        SignupSettings::from_source(&Source::from_pairs(pairs.iter().copied())).map_err(|e| e.to_string())
    }

    #[test]
    fn unset_the_link_works_three_days_and_only_this_machine_s_proxy_is_believed() {
        let settings = read(&[]).unwrap();
        assert_eq!(settings.confirm_for, Duration::from_secs(72 * 3600));
        assert!(settings.allowed_origins.is_empty() && settings.consent_text.is_none());
        let loopback =
            |ip: &str| settings.trusted_proxies.iter().any(|n| n.contains(&ip.parse::<IpAddr>().unwrap()));
        assert!(loopback("127.0.0.1") && loopback("::1") && !loopback("192.0.2.1"));
    }

    #[test]
    fn confirm_hours_must_be_a_positive_number_of_hours_up_to_a_year() {
        assert_eq!(read(&[("CONFIRM_HOURS", "1.5")]).unwrap().confirm_for, Duration::from_secs(5400));
        for bad in ["0", "-1", "many", "NaN", "9000"] {
            let error = read(&[("CONFIRM_HOURS", bad)]).unwrap_err();
            assert!(
                error.contains("CONFIRM_HOURS") && error.contains("not a number of hours"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn allowed_origins_are_kept_as_origins_and_a_bad_one_is_named() {
        let settings =
            read(&[("ALLOWED_ORIGINS", "https://hope.example.org/join, http://localhost:3000")]).unwrap();
        assert_eq!(settings.allowed_origins, ["https://hope.example.org", "http://localhost:3000"]);
        let error = read(&[("ALLOWED_ORIGINS", "hope.example.org")]).unwrap_err();
        assert!(error.contains("ALLOWED_ORIGINS") && error.contains("\"hope.example.org\""), "{error}");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks_and_anything_else_is_refused() {
        let nets = read(&[("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1,::1")]).unwrap().trusted_proxies;
        assert_eq!(nets.len(), 3);
        assert!(nets[1].contains(&"192.0.2.1".parse::<IpAddr>().unwrap()));
        let error = read(&[("TRUSTED_PROXIES", "proxy.example.org")]).unwrap_err();
        assert!(error.contains("proxy.example.org"), "{error}");
    }
}
