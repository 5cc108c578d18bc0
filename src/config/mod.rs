//! Organisation settings: who the email is from and what its footer and list
//! headers say, read from `.env` and the environment (the environment wins).
//!
//! Every setting has an example.org placeholder so the sample dry-runs on a
//! fresh machine; a warning names the ones that fell back to it.

mod bounce;
mod bounce_imap;
mod brand;
mod ca_file;
mod dkim;
mod dns;
pub mod example;
mod interests;
pub mod newsletter;
mod schedule;
mod send_window;
mod signup;
mod smtp;
mod source;
mod staff;
mod webhooks;
mod weekly;
mod welcome;

use std::fmt;

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::domain::EmailAddress;
pub use bounce::BounceSettings;
pub use bounce_imap::{ImapSecurity, ImapSettings};
pub use brand::{Brand, DEFAULT_BRAND_COLOR, SOCIAL_KEYS, text_on};
pub use ca_file::CaFile;
pub use dkim::DKIM_KEYS;
pub use dns::{DNS_PORT, dns_server};
pub use example::{ExampleSetting, reaches_no_one};
pub use interests::{Interest, interests, label_of};
pub use newsletter::NewsletterFolder;
pub use schedule::{DEFAULT_CATCH_UP, ScheduleSettings};
pub use send_window::{SendWindow, WindowError, send_window};
pub use signup::{DEFAULT_CONFIRM_HOURS, SignupSettings};
pub use smtp::{Credentials, Security, SmtpOverrides, SmtpSettings, is_loopback};
pub use source::Source;
pub(crate) use source::parse_with;
pub use staff::staff_email;
pub use webhooks::{HostPattern, KEYS as WEBHOOK_KEYS, PostmarkAuth, SesSettings, WebhookSettings};
pub use weekly::{Occurrence, Weekly};
pub use welcome::{DEFAULT_WELCOME, Signups, Welcome};

/// A value that must never be printed: a `secrecy::SecretString` (wiped
/// from memory when dropped, read only through [`ExposeSecret`]) whose
/// `Debug` shows `[redacted]`, as the DKIM key's does, and which has no
/// `Display`.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(SecretString::from(value))
    }

    /// The secret itself, for the few places that need it. Also here as
    /// well as through [`ExposeSecret`], so a caller needs no `use` of the
    /// trait.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl ExposeSecret<str> for Secret {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A checked https address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsUrl(url::Url);

impl HttpsUrl {
    pub(crate) fn parse(raw: &str) -> Result<Self, &'static str> {
        let url = url::Url::parse(raw).map_err(|_| "not a web address")?;
        if url.scheme() != "https" {
            return Err("must start with https://");
        }
        if url.host_str().is_none_or(|h| !h.contains('.') && h != "localhost") {
            return Err("has no host name");
        }
        Ok(Self(url))
    }

    pub fn as_url(&self) -> &url::Url {
        &self.0
    }
}

/// The display width of a logo when `LOGO_WIDTH` is not set.
pub const DEFAULT_LOGO_WIDTH: u32 = 160;

/// The `LOGO` setting: an image file (relative to the folder `bulletin`
/// runs in) or an https address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logo {
    File(std::path::PathBuf),
    Url(HttpsUrl),
}

impl Logo {
    fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.contains("://") || ["data:", "file:", "http:", "https:"].iter().any(|s| raw.starts_with(s)) {
            return HttpsUrl::parse(raw).map(Self::Url).map_err(|reason| {
                format!("{reason}; a logo is an image file beside .env or an https:// address")
            });
        }
        let path = std::path::PathBuf::from(raw);
        if !path.is_file() {
            return Err(format!(
                "no such image file {} (a path relative to the folder bulletin runs in, or an https:// address)",
                path.display()
            ));
        }
        Ok(Self::File(path))
    }
}

/// The `List-Id` of RFC 2919: a name and a dotted identifier such as
/// `prayer.example.org`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListId(String);

impl ListId {
    fn parse(raw: &str) -> Result<Self, &'static str> {
        let ok = raw.contains('.')
            && !raw.starts_with('.')
            && !raw.ends_with('.')
            && !raw.contains("..")
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
        if ok {
            Ok(Self(raw.to_ascii_lowercase()))
        } else {
            Err("must look like a domain name, such as prayer.example.org")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Without `UNSUBSCRIBE_SECRET`, a send whose messages carry
/// `UNSUBSCRIBE_URL` goes to at most this many recipients (a trial to
/// oneself and a colleague or two); test copies (`--to`) always go. Their
/// links are signed with the development key, which the unsubscribe server
/// refuses.
pub const UNSIGNED_RECIPIENTS_MAX: u64 = 5;

/// What the messages say about who sends them.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `FROM_EMAIL`: the sender address. Defaults to `newsletter@example.org`.
    pub from_email: EmailAddress,
    /// `FROM_NAME`: the sender's display name. Defaults to `ORG_NAME`.
    pub from_name: String,
    /// `REPLY_TO`: where replies go, if not to the sender.
    pub reply_to: Option<EmailAddress>,
    /// `BOUNCE_ADDRESS`: the envelope sender (`MAIL FROM`, which receivers
    /// record as `Return-Path`), where bounce reports go, if not to the
    /// sender.
    pub bounce_address: Option<EmailAddress>,
    /// `ORG_NAME`: the organisation named in the footer. Defaults to `Example Charity`.
    pub org_name: String,
    /// `ORG_ADDRESS`: the postal address the footer shows (required by
    /// anti-spam law in many countries).
    pub org_address: String,
    /// `ORG_WEBSITE`: an https address linked from the footer, optional.
    pub org_website: Option<HttpsUrl>,
    /// `LIST_NAME`: what the list is called. Defaults to `<ORG_NAME> bulletin`.
    pub list_name: String,
    /// `LIST_ID`: the list's dotted identifier. Defaults to `bulletin.<from domain>`.
    pub list_id: ListId,
    /// `SUBSCRIPTION_REASON`: why the reader gets this email, for the footer.
    pub subscription_reason: String,
    /// `UNSUBSCRIBE_MAILTO`: address that takes unsubscribe requests by email.
    /// Defaults to `unsubscribe@<from domain>`.
    pub unsubscribe_mailto: EmailAddress,
    /// `UNSUBSCRIBE_URL`: the https one-click unsubscribe endpoint, optional.
    pub unsubscribe_url: Option<HttpsUrl>,
    /// `PREFERENCES_URL`: the preference page of `bulletin serve`
    /// (`https://…/preferences`), linked from every email's footer with the
    /// reader's signed token. Default: `/preferences` on `UNSUBSCRIBE_URL`'s
    /// host; none without it, or when set to `none`.
    pub preferences_url: Option<HttpsUrl>,
    /// `LOGO`: a logo shown at the top of the HTML, a local image file
    /// (checked to exist) or an https address. Default: none.
    pub logo: Option<Logo>,
    /// `LOGO_ALT`: the logo's alt text. Defaults to `ORG_NAME`.
    pub logo_alt: String,
    /// `LOGO_WIDTH`: the logo's display width in CSS pixels (1 to 600).
    /// Defaults to 160.
    pub logo_width: u32,
    /// `ASSETS_URL`: an https folder the bulletin's images are uploaded to
    /// (`bulletin assets`) and linked from; unset, they are embedded.
    pub assets_url: Option<HttpsUrl>,
    /// `ARCHIVE_URL`: the https address the web archive (`bulletin
    /// publish`) is served at; every email then links its issue's page.
    pub archive_url: Option<HttpsUrl>,
    /// `SUBSCRIBE_URL`: an https page to sign up, linked from the archive.
    pub subscribe_url: Option<HttpsUrl>,
    /// `UNSUBSCRIBE_SECRET`: the key that signs unsubscribe tokens.
    pub unsubscribe_secret: Option<Secret>,
    /// `DKIM_DOMAIN`, `DKIM_SELECTOR`, `DKIM_PRIVATE_KEY`: the DKIM signer,
    /// its key read and checked. Default: none, messages are not signed.
    pub dkim: Option<Arc<crate::dkim::Dkim>>,
    /// Settings that fell back to an example.org placeholder.
    pub placeholders: Vec<&'static str>,
    /// Settings that still hold `.env.example`'s values, its domain or the
    /// sample's logo (see [`example`]): fine for a dry run, refused by a
    /// real send.
    pub examples: Vec<ExampleSetting>,
    /// `BRAND_COLOR`, `BRAND_TEXT_COLOR`, `DONATE_URL` and the social links.
    pub brand: Brand,
}

/// A setting with a bad value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The reason never quotes the file, whose lines may hold secrets.
    #[error("cannot read settings file {}: {reason}", path.display())]
    Read { path: std::path::PathBuf, reason: String },
    #[error("setting {key} is not set ({why})")]
    Missing { key: &'static str, why: &'static str },
    #[error("setting {key} = {value:?} (from {origin}): {reason}")]
    Invalid { key: &'static str, value: String, origin: String, reason: String },
    /// For a value that must not be echoed.
    #[error("setting {key} (from {origin}) {reason}; its value is not shown")]
    NotShown { key: &'static str, origin: String, reason: String },
    /// Some settings of a group that only works whole.
    #[error("{group} needs {} too ({}); set them all or none", and_list(missing), set_phrase(set))]
    Incomplete { group: &'static str, set: Vec<&'static str>, missing: Vec<&'static str> },
}

/// `A`, `A and B`, `A, B and C`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn set_phrase(set: &[&str]) -> String {
    match set {
        [one] => format!("only {one} is set"),
        _ => format!("{} are set", and_list(set)),
    }
}

/// Every setting this module reads, for `.env.example` and the docs.
pub const KEYS: [&str; 63] = [
    "FROM_EMAIL",
    "FROM_NAME",
    "REPLY_TO",
    "BOUNCE_ADDRESS",
    "ORG_NAME",
    "ORG_ADDRESS",
    "ORG_WEBSITE",
    "LIST_NAME",
    "LIST_ID",
    "SUBSCRIPTION_REASON",
    "UNSUBSCRIBE_MAILTO",
    "UNSUBSCRIBE_URL",
    "ASSETS_URL",
    "ARCHIVE_URL",
    "SUBSCRIBE_URL",
    "LOGO",
    "LOGO_ALT",
    "LOGO_WIDTH",
    "UNSUBSCRIBE_SECRET",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_SECURITY",
    "SMTP_CA_FILE",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_TIMEOUT",
    "SMTP_RATE",
    "SMTP_CONCURRENCY",
    "SMTP_ATTEMPTS",
    "SMTP_RETRY_DELAY",
    "DKIM_DOMAIN",
    "DKIM_SELECTOR",
    "DKIM_PRIVATE_KEY",
    "BOUNCE_SOFT_LIMIT",
    "BOUNCE_IMAP_URL",
    "BOUNCE_IMAP_PASSWORD",
    "BOUNCE_IMAP_PASSWORD_FILE",
    "BOUNCE_IMAP_EVERY",
    "BOUNCE_IMAP_DONE_FOLDER",
    "BOUNCE_IMAP_DELETE",
    "BOUNCE_IMAP_CA_FILE",
    "BRAND_COLOR",
    "BRAND_TEXT_COLOR",
    "DONATE_URL",
    "FACEBOOK_URL",
    "INSTAGRAM_URL",
    "X_URL",
    "YOUTUBE_URL",
    "LINKEDIN_URL",
    "PREFERENCES_URL",
    "INTERESTS",
    "CONSENT_TEXT",
    "CONFIRM_HOURS",
    "TRUSTED_PROXIES",
    "ALLOWED_ORIGINS",
    "DNS_SERVER",
    "STAFF_EMAIL",
    "TIME_ZONE",
    "CATCH_UP",
    "SEND_EVERY",
    "SEND_WINDOW",
    "SIGNUPS",
    "WELCOME_BULLETIN",
];

impl Settings {
    /// Builds settings from `source`, using placeholders where a setting is
    /// missing; reads and checks the DKIM key, if there is one.
    pub fn from_source(source: &Source) -> Result<Self, ConfigError> {
        let settings = Self::without_dkim(source)?;
        Ok(Self { dkim: dkim::from_source(source)?, ..settings })
    }

    /// [`Settings::from_source`] without the DKIM settings, for what never
    /// makes a message (the unsubscribe server): the private key need not be
    /// on that machine.
    pub fn without_dkim(source: &Source) -> Result<Self, ConfigError> {
        let mut placeholders = Vec::new();
        let mut text = |key: &'static str, default: &dyn Fn() -> String| match source.get(key) {
            Some((value, _)) => value,
            None => {
                placeholders.push(key);
                default()
            }
        };
        let org_name = text("ORG_NAME", &|| "Example Charity".to_owned());
        let org_address = text("ORG_ADDRESS", &|| "1 Example Street, Exampletown, EX1 2MP".to_owned());
        let from_email = parse_with(source, "FROM_EMAIL", EmailAddress::parse)?;
        let from_email = from_email.unwrap_or_else(|| {
            placeholders.push("FROM_EMAIL");
            EmailAddress::parse("newsletter@example.org").expect("placeholder is valid")
        });
        let from_domain = from_email.as_lettre().domain().to_owned();
        let optional = |key| source.get(key).map(|(v, _)| v);
        let from_name = optional("FROM_NAME").unwrap_or_else(|| org_name.clone());
        let list_name = optional("LIST_NAME").unwrap_or_else(|| format!("{org_name} bulletin"));
        let subscription_reason = optional("SUBSCRIPTION_REASON").unwrap_or_else(|| {
            format!("You are receiving this email because you signed up for the {list_name}.")
        });
        let list_id = parse_with(source, "LIST_ID", ListId::parse)?
            .unwrap_or_else(|| ListId(format!("bulletin.{}", from_domain.to_ascii_lowercase())));
        let unsubscribe_mailto = match parse_with(source, "UNSUBSCRIBE_MAILTO", EmailAddress::parse)? {
            Some(address) => address,
            None => EmailAddress::parse(&format!("unsubscribe@{from_domain}")).map_err(|e| {
                ConfigError::Invalid {
                    key: "FROM_EMAIL",
                    value: from_email.to_string(),
                    origin: "the derived unsubscribe address".into(),
                    reason: e.to_string(),
                }
            })?,
        };
        let unsubscribe_url = parse_with(source, "UNSUBSCRIBE_URL", HttpsUrl::parse)?;
        Ok(Self {
            from_name: clean_header_text(&from_name),
            reply_to: parse_with(source, "REPLY_TO", EmailAddress::parse)?,
            bounce_address: parse_with(source, "BOUNCE_ADDRESS", EmailAddress::parse)?,
            org_website: parse_with(source, "ORG_WEBSITE", HttpsUrl::parse)?,
            unsubscribe_url: unsubscribe_url.clone(),
            preferences_url: preferences_url(source, unsubscribe_url.as_ref())?,
            assets_url: parse_with(source, "ASSETS_URL", HttpsUrl::parse)?,
            archive_url: parse_with(source, "ARCHIVE_URL", HttpsUrl::parse)?,
            subscribe_url: parse_with(source, "SUBSCRIBE_URL", HttpsUrl::parse)?,
            logo: parse_with(source, "LOGO", Logo::parse)?,
            logo_alt: optional("LOGO_ALT").unwrap_or_else(|| org_name.clone()),
            logo_width: parse_with(source, "LOGO_WIDTH", |raw| match raw.trim().parse::<u32>() {
                Ok(width) if (1..=600).contains(&width) => Ok(width),
                _ => Err("must be a width in pixels from 1 to 600"),
            })?
            .unwrap_or(DEFAULT_LOGO_WIDTH),
            unsubscribe_secret: Self::unsubscribe_secret_in(source),
            dkim: None,
            brand: Brand::from_source(source)?,
            from_email,
            org_name,
            org_address,
            list_name: clean_header_text(&list_name),
            list_id,
            subscription_reason,
            unsubscribe_mailto,
            placeholders,
            examples: example::example_values(source),
        })
    }

    /// The envelope sender: where bounce reports go.
    pub fn envelope_sender(&self) -> &EmailAddress {
        self.bounce_address.as_ref().unwrap_or(&self.from_email)
    }

    /// `UNSUBSCRIBE_SECRET` alone, for a command that needs only the key
    /// (the bounce import checks VERP tokens with it) and must not fail on
    /// the other settings.
    pub fn unsubscribe_secret_in(source: &Source) -> Option<Secret> {
        source.get("UNSUBSCRIBE_SECRET").map(|(v, _)| Secret::new(v))
    }

    /// Warnings worth printing before any run: placeholders in use, the
    /// example's values, an unsubscribe URL without a signing secret.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings: Vec<String> =
            self.placeholder_warning().into_iter().chain(self.example_warning()).collect();
        warnings.extend(self.other_warnings());
        warnings
    }

    /// The warning that settings fell back to example.org placeholders.
    pub fn placeholder_warning(&self) -> Option<String> {
        (!self.placeholders.is_empty()).then(|| {
            format!(
                "using example.org placeholders for {} (set them in .env; see .env.example) — fine for a dry run, not for sending",
                self.placeholders.join(", ")
            )
        })
    }

    /// The warning that settings still hold the example's values.
    pub fn example_warning(&self) -> Option<String> {
        (!self.examples.is_empty()).then(|| {
            let named: Vec<String> = self.examples.iter().map(ToString::to_string).collect();
            format!(
                "settings still the example's: {} — fine for a dry run; a real send refuses them (set your \
                 organisation's own in .env, or empty them)",
                named.join(", ")
            )
        })
    }

    /// [`Settings::warnings`] besides the placeholders and the example's
    /// values, which `check` reports setting by setting.
    pub fn other_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.unsubscribe_url.is_some() && self.unsubscribe_secret.is_none() {
            warnings.push(format!(
                "UNSUBSCRIBE_URL is set but UNSUBSCRIBE_SECRET is not: unsubscribe links are signed with a \
                 development key that anyone could forge and the unsubscribe server rejects; a send to more \
                 than {} recipients refuses until UNSUBSCRIBE_SECRET is set",
                UNSIGNED_RECIPIENTS_MAX
            ));
        }
        if self.bounce_address.is_some() && self.unsubscribe_secret.is_none() {
            warnings.push(
                "BOUNCE_ADDRESS is set but UNSUBSCRIBE_SECRET is not: the token in each message's bounce \
                 address is signed with a development key that anyone could forge, so `bounces import` \
                 cannot tell a forged report from a real one; set UNSUBSCRIBE_SECRET"
                    .to_owned(),
            );
        }
        warnings
    }
}

/// `PREFERENCES_URL`: as set; `none` for no link; unset, the page `bulletin
/// serve` answers beside the unsubscribe links, `/preferences` on
/// `UNSUBSCRIBE_URL`'s host (the reverse proxy forwards it with
/// `/subscribe` and `/confirm`).
fn preferences_url(source: &Source, unsubscribe: Option<&HttpsUrl>) -> Result<Option<HttpsUrl>, ConfigError> {
    if source.get("PREFERENCES_URL").is_some_and(|(value, _)| value.trim().eq_ignore_ascii_case("none")) {
        return Ok(None);
    }
    if let Some(set) = parse_with(source, "PREFERENCES_URL", HttpsUrl::parse)? {
        return Ok(Some(set));
    }
    Ok(unsubscribe.map(|url| {
        let mut page = url.as_url().clone();
        page.set_path("/preferences");
        page.set_query(None);
        page.set_fragment(None);
        HttpsUrl(page)
    }))
}

/// Collapses white space and control characters so text from a setting can
/// stand in a header.
fn clean_header_text(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_source(&Source::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn without_any_setting_every_placeholder_is_example_org_and_named() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.from_email.as_str(), "newsletter@example.org");
        assert_eq!(s.unsubscribe_mailto.as_str(), "unsubscribe@example.org");
        assert_eq!(s.list_id.as_str(), "bulletin.example.org");
        assert_eq!(s.placeholders, ["ORG_NAME", "ORG_ADDRESS", "FROM_EMAIL"]);
        assert!(s.warnings()[0].contains("placeholders for ORG_NAME, ORG_ADDRESS, FROM_EMAIL"));
    }

    #[test]
    fn derived_defaults_follow_the_organisation() {
        let s = settings(&[
            ("ORG_NAME", "Hope Trust"),
            ("ORG_ADDRESS", "2 High St"),
            ("FROM_EMAIL", "news@hope.example.org"),
        ])
        .unwrap();
        assert!(s.placeholders.is_empty());
        assert_eq!(s.from_name, "Hope Trust");
        assert_eq!(s.list_name, "Hope Trust bulletin");
        assert_eq!(s.list_id.as_str(), "bulletin.hope.example.org");
        assert_eq!(s.unsubscribe_mailto.as_str(), "unsubscribe@hope.example.org");
    }

    #[test]
    fn the_preference_page_is_on_the_unsubscribe_server_unless_set_or_turned_off() {
        let unsubscribe = ("UNSUBSCRIBE_URL", "https://news.hope.example.org/u/unsubscribe?x=1");
        let page =
            |pairs: &[(&str, &str)]| settings(pairs).unwrap().preferences_url.map(|u| u.as_url().to_string());
        assert_eq!(page(&[unsubscribe]).as_deref(), Some("https://news.hope.example.org/preferences"));
        assert_eq!(
            page(&[unsubscribe, ("PREFERENCES_URL", "https://hope.example.org/choose")]).as_deref(),
            Some("https://hope.example.org/choose")
        );
        assert_eq!(page(&[unsubscribe, ("PREFERENCES_URL", "none")]), None);
        assert_eq!(page(&[]), None, "no server, no page");
        let err = settings(&[("PREFERENCES_URL", "http://hope.example.org/p")]).unwrap_err();
        assert!(err.to_string().contains("PREFERENCES_URL"), "{err}");
    }

    #[test]
    fn a_bad_value_names_the_setting() {
        let err = settings(&[("FROM_EMAIL", "news at example.org")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("setting FROM_EMAIL = \"news at example.org\" (from the environment)"),
            "{err}"
        );
        let err = settings(&[("UNSUBSCRIBE_URL", "http://example.org/u")]).unwrap_err();
        assert!(err.to_string().contains("must start with https://"), "{err}");
        let err = settings(&[("LIST_ID", "prayer list")]).unwrap_err();
        assert!(err.to_string().contains("LIST_ID"), "{err}");
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "ORG_NAME=\"From File\"\nBULLETIN_TEST_ONLY_KEY=file\n").unwrap();
        let mut source = Source::load(&path, true).unwrap();
        assert_eq!(source.get("ORG_NAME").unwrap().0, "From File");
        source.env.insert("ORG_NAME".into(), "From Env".into());
        assert_eq!(source.get("ORG_NAME").unwrap(), ("From Env".into(), "the environment".into()));
    }

    #[test]
    fn a_malformed_settings_line_is_named_by_number_without_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "ORG_NAME=\"Hope\"\n\nUNSUBSCRIBE_SECRET=\"s3cret-value\n").unwrap();
        let err = Source::load(&path, true).unwrap_err().to_string();
        assert!(err.contains("line 3 is not KEY=value"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn a_missing_required_settings_file_is_an_error() {
        assert!(Source::load(Path::new("/nonexistent/.env"), true).is_err());
        assert!(Source::load(Path::new("/nonexistent/.env"), false).is_ok());
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let s = settings(&[("UNSUBSCRIBE_SECRET", "hunter2-very-secret")]).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        let secret = s.unsubscribe_secret.unwrap();
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(ExposeSecret::expose_secret(&secret), "hunter2-very-secret");
    }

    #[test]
    fn values_cannot_carry_the_characters_that_mark_slots() {
        let s = settings(&[("ORG_NAME", "Hope\u{E002}0\u{E003} Trust")]).unwrap();
        assert_eq!(s.org_name, "Hope0 Trust");
    }

    #[test]
    fn header_text_loses_line_breaks() {
        let s = settings(&[("FROM_NAME", "Hope\r\nBcc: x@example.org")]).unwrap();
        assert_eq!(s.from_name, "Hope Bcc: x@example.org");
    }

    #[test]
    fn env_example_documents_every_setting_and_loads_cleanly() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".env.example");
        let text = std::fs::read_to_string(&path).unwrap();
        for key in KEYS {
            assert!(text.contains(&format!("\n{key}=")), "{key} is not in .env.example");
        }
        let mut source = Source::load(&path, true).unwrap();
        source.env.clear();
        let settings = Settings::from_source(&source).unwrap();
        assert!(settings.placeholders.is_empty());
        assert_eq!(settings.from_name, "Hope & Justice Prayer Team");
    }

    #[test]
    fn an_unsubscribe_url_without_a_secret_warns() {
        let s = settings(&[("UNSUBSCRIBE_URL", "https://example.org/unsubscribe")]).unwrap();
        assert!(s.warnings().iter().any(|w| w.contains("UNSUBSCRIBE_SECRET")));
    }

    #[test]
    fn a_bounce_address_without_a_secret_warns_that_its_tokens_can_be_forged() {
        let bounce = ("BOUNCE_ADDRESS", "bounces@example.org");
        let warned =
            |s: Settings| s.warnings().iter().any(|w| w.contains("BOUNCE_ADDRESS") && w.contains("forge"));
        assert!(warned(settings(&[bounce]).unwrap()));
        assert!(!warned(settings(&[bounce, ("UNSUBSCRIBE_SECRET", "k")]).unwrap()));
        assert!(!warned(settings(&[]).unwrap()));
    }
}
