//! The relay settings: where messages are submitted and how fast.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use super::{CaFile, ConfigError, Secret, Source};
use crate::domain::{DEFAULT_RATE, Rate, RateLimit};

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (usually port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS, which is required (usually port 587).
    StartTls,
    /// No encryption: only to a relay on this machine, unless allowed.
    None,
}

impl Security {
    fn default_port(self) -> u16 {
        match self {
            Self::Tls => 465,
            Self::StartTls => 587,
            Self::None => 25,
        }
    }
}

impl FromStr for Security {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tls" | "ssl" | "implicit" => Ok(Self::Tls),
            "starttls" => Ok(Self::StartTls),
            "none" | "plain" | "plaintext" => Ok(Self::None),
            _ => Err("must be tls, starttls or none".to_owned()),
        }
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tls => "tls",
            Self::StartTls => "starttls",
            Self::None => "none",
        })
    }
}

/// A user name and the password that goes with it.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
}

/// Command-line values that win over the settings.
#[derive(Debug, Clone, Default)]
pub struct SmtpOverrides {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Option<Security>,
    pub username: Option<String>,
    pub rate: Option<RateLimit>,
    pub concurrency: Option<usize>,
    pub attempts: Option<u32>,
    /// Allow `none` security to a relay that is not on this machine.
    pub allow_insecure: bool,
}

/// Everything needed to submit messages.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// `SMTP_HOST`: the relay's host name. Required.
    pub host: String,
    /// `SMTP_PORT`: defaults to 465, 587 or 25 by security.
    pub port: u16,
    /// `SMTP_SECURITY`: `tls`, `starttls` (default) or `none`.
    pub security: Security,
    /// `SMTP_CA_FILE`: authorities trusted for the relay's certificate
    /// besides Mozilla's roots, for a relay whose certificate comes from an
    /// organisation's own authority. Default: none, Mozilla's roots alone.
    pub ca_file: Option<CaFile>,
    /// `SMTP_USERNAME` and `SMTP_PASSWORD`, when the relay wants a login.
    pub credentials: Option<Credentials>,
    /// `SMTP_TIMEOUT`: for connecting and for each command. Default 30s.
    pub timeout: Duration,
    /// `SMTP_RATE`: the run's rate limit. Default 10/s.
    pub rate: Rate,
    /// `SMTP_RATE`'s daily allowance (`…,2000/day`): messages handed over
    /// in any 24 hours at most, across runs and campaigns. Default none.
    pub per_day: Option<std::num::NonZeroU32>,
    /// `SMTP_CONCURRENCY`: connections used in parallel. Default 4.
    pub concurrency: usize,
    /// `SMTP_ATTEMPTS`: tries per message for temporary failures. Default 4.
    pub attempts: u32,
    /// `SMTP_RETRY_DELAY`: the first wait before a retry; it doubles each
    /// time (with jitter), up to a minute. Default 2s.
    pub retry_delay: Duration,
}

impl SmtpSettings {
    /// Reads the relay settings, with `overrides` from the command line.
    pub fn from_source(source: &Source, overrides: &SmtpOverrides) -> Result<Self, ConfigError> {
        let host = match &overrides.host {
            Some(host) => host.clone(),
            None => source.get("SMTP_HOST").map(|(v, _)| v).ok_or(ConfigError::Missing {
                key: "SMTP_HOST",
                why: "it names the relay to submit messages to; see .env.example",
            })?,
        };
        let security = match overrides.security {
            Some(s) => s,
            None => parse(source, "SMTP_SECURITY", Security::from_str)?.unwrap_or(Security::StartTls),
        };
        let port = match overrides.port {
            Some(p) => p,
            None => parse(source, "SMTP_PORT", |s| s.parse::<u16>().map_err(|_| "not a port number"))?
                .unwrap_or(security.default_port()),
        };
        if security == Security::None && !is_loopback(&host) && !overrides.allow_insecure {
            return Err(ConfigError::Invalid {
                key: "SMTP_SECURITY",
                value: "none".to_owned(),
                origin: "the settings".to_owned(),
                reason: format!(
                    "{host} is not on this machine, so the password and every message would cross the network \
                     unencrypted; use tls or starttls, or pass --allow-insecure"
                ),
            });
        }
        let username = overrides.username.clone().or_else(|| source.get("SMTP_USERNAME").map(|(v, _)| v));
        let password = source.get("SMTP_PASSWORD").map(|(v, _)| Secret::new(v));
        let credentials = match (username, password) {
            (Some(username), Some(password)) => Some(Credentials { username, password }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::Missing {
                    key: "SMTP_PASSWORD",
                    why: "SMTP_USERNAME is set; leave SMTP_USERNAME empty if your relay needs no login",
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError::Missing { key: "SMTP_USERNAME", why: "SMTP_PASSWORD is set" });
            }
        };
        let duration = |s: &str| humantime::parse_duration(s).map_err(|e| e.to_string());
        let setting = parse(source, "SMTP_RATE", RateLimit::from_str)?.unwrap_or_default();
        let limit = overrides.rate.unwrap_or_default().or(setting);
        let (rate, per_day) = (limit.pace.unwrap_or(DEFAULT_RATE), limit.per_day);
        let concurrency = match overrides.concurrency {
            Some(n) => n,
            None => parse(source, "SMTP_CONCURRENCY", count)?.unwrap_or(4),
        };
        let attempts = match overrides.attempts {
            Some(n) => n,
            None => parse(source, "SMTP_ATTEMPTS", count)?.map_or(4, |n| n as u32),
        };
        Ok(Self {
            host,
            port,
            security,
            ca_file: CaFile::from_source(source)?,
            credentials,
            timeout: parse(source, "SMTP_TIMEOUT", duration)?.unwrap_or(Duration::from_secs(30)),
            rate,
            per_day,
            concurrency,
            attempts,
            retry_delay: parse(source, "SMTP_RETRY_DELAY", duration)?.unwrap_or(Duration::from_secs(2)),
        })
    }
}

fn count(s: &str) -> Result<usize, &'static str> {
    match s.parse::<usize>() {
        Ok(n) if (1..=1000).contains(&n) => Ok(n),
        _ => Err("must be a whole number from 1 to 1000"),
    }
}

fn parse<T, E: fmt::Display>(
    source: &Source,
    key: &'static str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, ConfigError> {
    super::parse_with(source, key, parse)
}

/// True for `localhost` and loopback addresses.
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(pairs: &[(&str, &str)], overrides: &SmtpOverrides) -> Result<SmtpSettings, ConfigError> {
        SmtpSettings::from_source(&Source::from_pairs(pairs.iter().copied()), overrides)
    }

    #[test]
    fn defaults_are_starttls_on_587_at_ten_a_second() {
        let s = smtp(&[("SMTP_HOST", "smtp.example.org")], &SmtpOverrides::default()).unwrap();
        assert_eq!((s.security, s.port, s.concurrency, s.attempts), (Security::StartTls, 587, 4, 4));
        assert_eq!(s.rate, DEFAULT_RATE);
        assert!(s.credentials.is_none());
    }

    #[test]
    fn the_port_follows_the_security() {
        let s =
            smtp(&[("SMTP_HOST", "smtp.example.org"), ("SMTP_SECURITY", "tls")], &SmtpOverrides::default())
                .unwrap();
        assert_eq!(s.port, 465);
    }

    #[test]
    fn a_missing_host_is_named() {
        let err = smtp(&[], &SmtpOverrides::default()).unwrap_err();
        assert!(err.to_string().contains("SMTP_HOST"), "{err}");
    }

    #[test]
    fn plaintext_is_only_for_this_machine_unless_allowed() {
        let plain = [("SMTP_HOST", "smtp.example.org"), ("SMTP_SECURITY", "none")];
        assert!(smtp(&plain, &SmtpOverrides::default()).is_err());
        assert!(smtp(&plain, &SmtpOverrides { allow_insecure: true, ..Default::default() }).is_ok());
        for host in ["127.0.0.1", "localhost", "::1", "[::1]"] {
            assert!(
                smtp(&[("SMTP_HOST", host), ("SMTP_SECURITY", "none")], &SmtpOverrides::default()).is_ok()
            );
        }
    }

    #[test]
    fn a_user_name_needs_a_password_and_the_password_never_prints() {
        let err = smtp(&[("SMTP_HOST", "h.example.org"), ("SMTP_USERNAME", "u")], &SmtpOverrides::default());
        let err = err.unwrap_err().to_string();
        assert!(err.contains("SMTP_PASSWORD is not set"), "{err}");
        assert!(err.contains("leave SMTP_USERNAME empty if your relay needs no login"), "{err}");
        let s = smtp(
            &[("SMTP_HOST", "h.example.org"), ("SMTP_USERNAME", "u"), ("SMTP_PASSWORD", "pa55-word-xyz")],
            &SmtpOverrides::default(),
        )
        .unwrap();
        assert!(!format!("{s:?}").contains("pa55-word-xyz"));
    }

    #[test]
    fn command_line_values_win() {
        let s = smtp(
            &[("SMTP_HOST", "h.example.org"), ("SMTP_RATE", "5/s"), ("SMTP_CONCURRENCY", "2")],
            &SmtpOverrides { rate: Some(Rate::Unlimited.into()), concurrency: Some(8), ..Default::default() },
        )
        .unwrap();
        assert_eq!((s.rate, s.concurrency), (Rate::Unlimited, 8));
    }

    #[test]
    fn bad_numbers_and_durations_are_named() {
        for (key, value) in [
            ("SMTP_PORT", "smtp"),
            ("SMTP_TIMEOUT", "soon"),
            ("SMTP_RATE", "fast"),
            ("SMTP_CONCURRENCY", "0"),
        ] {
            let err =
                smtp(&[("SMTP_HOST", "h.example.org"), (key, value)], &SmtpOverrides::default()).unwrap_err();
            assert!(err.to_string().contains(key), "{err}");
        }
    }
}
