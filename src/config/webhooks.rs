//! The relays' webhooks that `bulletin serve` answers, each on only when
//! its settings are set: Postmark (`WEBHOOK_POSTMARK_USER`,
//! `WEBHOOK_POSTMARK_PASSWORD`), Mailgun (`MAILGUN_SIGNING_KEY`), SendGrid
//! (`SENDGRID_VERIFICATION_KEY`) and Amazon SES through SNS
//! (`SES_SNS_TOPIC_ARN`, with `SNS_CERT_URL_HOSTS` and `SNS_CERT_CA_FILE`
//! for tests and mirrors). Read once into typed values; each wrong value is
//! an error naming the setting, never showing a secret.

use std::fmt;

use base64::Engine as _;

use super::{CaFile, ConfigError, Secret, Source};

/// The hosts an SNS `SigningCertURL` or `SubscribeURL` may name unless
/// `SNS_CERT_URL_HOSTS` says: Amazon SNS's own, in any region.
pub const DEFAULT_SNS_HOSTS: &str = "sns.*.amazonaws.com, sns.*.amazonaws.com.cn";

/// Every setting this module reads.
pub const KEYS: [&str; 7] = [
    "WEBHOOK_POSTMARK_USER",
    "WEBHOOK_POSTMARK_PASSWORD",
    "MAILGUN_SIGNING_KEY",
    "SENDGRID_VERIFICATION_KEY",
    "SES_SNS_TOPIC_ARN",
    "SNS_CERT_URL_HOSTS",
    "SNS_CERT_CA_FILE",
];

/// The webhooks' settings; `None` for a webhook that is off.
#[derive(Debug, Clone, Default)]
pub struct WebhookSettings {
    pub postmark: Option<PostmarkAuth>,
    /// `MAILGUN_SIGNING_KEY`: the HTTP webhook signing key Mailgun shows.
    pub mailgun: Option<Secret>,
    /// `SENDGRID_VERIFICATION_KEY`: SendGrid's ECDSA P-256 public key, as
    /// the uncompressed point ring verifies with.
    pub sendgrid: Option<Vec<u8>>,
    pub ses: Option<SesSettings>,
}

/// The basic-auth user and password Postmark's webhook URL carries.
#[derive(Debug, Clone)]
pub struct PostmarkAuth {
    pub user: String,
    pub password: Secret,
}

/// Which SNS topic is believed and where its certificates may come from.
#[derive(Debug, Clone)]
pub struct SesSettings {
    /// `SES_SNS_TOPIC_ARN`: the only topic whose messages are believed.
    pub topic_arn: String,
    /// `SNS_CERT_URL_HOSTS`: the hosts (`*` standing for one label,
    /// `host:port` for another port than 443) of the certificate and
    /// subscription addresses. Defaults to [`DEFAULT_SNS_HOSTS`].
    pub hosts: Vec<HostPattern>,
    /// `SNS_CERT_CA_FILE`: authorities trusted for those hosts besides
    /// Mozilla's roots.
    pub ca_file: Option<CaFile>,
}

/// One entry of `SNS_CERT_URL_HOSTS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    labels: Vec<String>,
    port: u16,
}

impl HostPattern {
    fn parse(raw: &str) -> Result<Self, String> {
        let (host, port) = match raw.rsplit_once(':') {
            Some((host, port)) => {
                (host, port.parse::<u16>().map_err(|_| format!("{raw:?} has a port that is not a number"))?)
            }
            None => (raw, 443),
        };
        let labels: Vec<String> = host.split('.').map(str::to_ascii_lowercase).collect();
        let fine = |l: &String| {
            l == "*" || (!l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        };
        if labels.len() < 2 || !labels.iter().all(fine) || labels.iter().all(|l| l == "*") {
            return Err(format!("{raw:?} is not a host name such as sns.*.amazonaws.com"));
        }
        Ok(Self { labels, port })
    }

    /// Whether `url` is https on a host and port this pattern allows.
    pub fn allows(&self, url: &url::Url) -> bool {
        let Some(host) = url.host_str() else { return false };
        let labels: Vec<String> = host.split('.').map(str::to_ascii_lowercase).collect();
        url.scheme() == "https"
            && url.port_or_known_default() == Some(self.port)
            && labels.len() == self.labels.len()
            && self.labels.iter().zip(&labels).all(|(p, l)| p == l || (p == "*" && !l.is_empty()))
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.labels.join("."))?;
        if self.port != 443 {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

impl WebhookSettings {
    pub fn from_source(source: &Source) -> Result<Self, ConfigError> {
        let user = source.get("WEBHOOK_POSTMARK_USER");
        let password = source.get("WEBHOOK_POSTMARK_PASSWORD");
        let postmark = match (user, password) {
            (None, None) => None,
            (Some((user, _)), Some((password, _))) => {
                Some(PostmarkAuth { user, password: Secret::new(password) })
            }
            (user, _) => {
                let (set, missing) = if user.is_some() {
                    ("WEBHOOK_POSTMARK_USER", "WEBHOOK_POSTMARK_PASSWORD")
                } else {
                    ("WEBHOOK_POSTMARK_PASSWORD", "WEBHOOK_POSTMARK_USER")
                };
                return Err(ConfigError::Incomplete {
                    group: "The Postmark webhook",
                    set: vec![set],
                    missing: vec![missing],
                });
            }
        };
        let mailgun = source.get("MAILGUN_SIGNING_KEY").map(|(key, _)| Secret::new(key));
        let sendgrid = match source.get("SENDGRID_VERIFICATION_KEY") {
            None => None,
            Some((raw, origin)) => Some(sendgrid_key(&raw).map_err(|reason| ConfigError::Invalid {
                key: "SENDGRID_VERIFICATION_KEY",
                value: raw,
                origin,
                reason,
            })?),
        };
        let ses = match source.get("SES_SNS_TOPIC_ARN") {
            None => None,
            Some((topic_arn, origin)) => {
                if !topic_arn.starts_with("arn:") || topic_arn.split(':').count() != 6 {
                    return Err(ConfigError::Invalid {
                        key: "SES_SNS_TOPIC_ARN",
                        value: topic_arn,
                        origin,
                        reason: "not a topic ARN such as arn:aws:sns:eu-west-1:123456789012:bounces".into(),
                    });
                }
                let (raw, origin) = source
                    .get("SNS_CERT_URL_HOSTS")
                    .unwrap_or_else(|| (DEFAULT_SNS_HOSTS.to_owned(), "the default".into()));
                let hosts = raw
                    .split(',')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(HostPattern::parse)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|reason| ConfigError::Invalid {
                        key: "SNS_CERT_URL_HOSTS",
                        value: raw.clone(),
                        origin,
                        reason,
                    })?;
                let ca_file = match source.get("SNS_CERT_CA_FILE") {
                    None => None,
                    Some((raw, origin)) => {
                        Some(CaFile::load(&source.path("SNS_CERT_CA_FILE", &raw)).map_err(|reason| {
                            ConfigError::Invalid { key: "SNS_CERT_CA_FILE", value: raw, origin, reason }
                        })?)
                    }
                };
                Some(SesSettings { topic_arn, hosts, ca_file })
            }
        };
        Ok(Self { postmark, mailgun, sendgrid, ses })
    }
}

/// The public key SendGrid shows (base64 of a DER SubjectPublicKeyInfo of
/// an ECDSA P-256 key) as the uncompressed point ring verifies with.
fn sendgrid_key(raw: &str) -> Result<Vec<u8>, String> {
    let der = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .map_err(|_| "not base64: paste the verification key SendGrid shows, in one line".to_owned())?;
    let spki = spki::SubjectPublicKeyInfoRef::try_from(der.as_slice())
        .map_err(|_| "not a public key (a base64 DER SubjectPublicKeyInfo)".to_owned())?;
    let ec = spki::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    let p256 = spki::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    let curve = spki.algorithm.parameters_oid().ok();
    if spki.algorithm.oid != ec || curve != Some(p256) {
        return Err("not an ECDSA P-256 key, which SendGrid signs with".to_owned());
    }
    spki.subject_public_key.as_bytes().map(<[u8]>::to_vec).ok_or_else(|| "a damaged public key".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<WebhookSettings, String> {
        WebhookSettings::from_source(&Source::from_pairs(pairs.iter().copied())).map_err(|e| e.to_string())
    }

    #[test]
    fn unset_every_webhook_is_off() {
        let settings = read(&[]).unwrap();
        assert!(settings.postmark.is_none() && settings.mailgun.is_none());
        assert!(settings.sendgrid.is_none() && settings.ses.is_none());
    }

    #[test]
    fn a_postmark_user_without_a_password_is_refused_naming_both_and_showing_neither() {
        let error = read(&[("WEBHOOK_POSTMARK_USER", "hook-user-71")]).unwrap_err();
        assert!(error.contains("WEBHOOK_POSTMARK_PASSWORD") && !error.contains("hook-user-71"), "{error}");
    }

    #[test]
    fn a_sendgrid_key_that_is_not_a_p256_public_key_is_refused() {
        for bad in ["not base64!", "aGVsbG8="] {
            let error = read(&[("SENDGRID_VERIFICATION_KEY", bad)]).unwrap_err();
            assert!(error.starts_with("setting SENDGRID_VERIFICATION_KEY"), "{error}");
        }
    }

    #[test]
    fn sns_hosts_match_one_label_per_star_and_only_https_on_their_port() {
        let settings = read(&[("SES_SNS_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:bounces")]).unwrap();
        let hosts = settings.ses.unwrap().hosts;
        let allowed = |url: &str| hosts.iter().any(|h| h.allows(&url::Url::parse(url).unwrap()));
        assert!(allowed("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem"));
        assert!(!allowed("http://sns.eu-west-1.amazonaws.com/a.pem"));
        assert!(!allowed("https://sns.eu-west-1.amazonaws.com:8443/a.pem"));
        assert!(!allowed("https://sns.evil.example.amazonaws.com/a.pem"));
        assert!(!allowed("https://sns.eu-west-1.amazonaws.com.evil.example/a.pem"));
        assert!(!allowed("https://evil.example/sns.eu-west-1.amazonaws.com/a.pem"));
        let local = read(&[
            ("SES_SNS_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:bounces"),
            ("SNS_CERT_URL_HOSTS", "127.0.0.1:8443"),
        ])
        .unwrap();
        let host = &local.ses.unwrap().hosts[0];
        assert!(host.allows(&url::Url::parse("https://127.0.0.1:8443/c.pem").unwrap()));
        assert!(!host.allows(&url::Url::parse("https://127.0.0.1/c.pem").unwrap()));
    }

    #[test]
    fn env_example_documents_every_webhook_setting() {
        let text = include_str!("../../.env.example");
        for key in KEYS {
            assert!(text.contains(&format!("{key}=")), "{key} is not in .env.example");
        }
    }

    #[test]
    fn a_topic_that_is_not_an_arn_is_refused() {
        let error = read(&[("SES_SNS_TOPIC_ARN", "bounces")]).unwrap_err();
        assert!(error.starts_with("setting SES_SNS_TOPIC_ARN"), "{error}");
    }
}
