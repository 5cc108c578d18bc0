//! The bounce mailbox `bulletin serve` reads over IMAP: `BOUNCE_IMAP_URL`
//! (`imaps://user@host/INBOX`, or `imap://` for STARTTLS), its password
//! (`BOUNCE_IMAP_PASSWORD` or `BOUNCE_IMAP_PASSWORD_FILE`), how often
//! (`BOUNCE_IMAP_EVERY`), where read reports go (`BOUNCE_IMAP_DONE_FOLDER`,
//! or deleted with `BOUNCE_IMAP_DELETE`) and the authorities trusted
//! besides Mozilla's roots (`BOUNCE_IMAP_CA_FILE`). Read once into typed
//! values; an error names the setting and never shows the password.

use std::time::Duration;

use super::{CaFile, ConfigError, Secret, Source, parse_with};

/// How the connection is made secret: TLS from the start (`imaps://`,
/// port 993) or STARTTLS after the greeting (`imap://`, port 143). There is
/// no plain-text IMAP: the password never crosses the network in clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapSecurity {
    Tls,
    StartTls,
}

/// The bounce mailbox's settings.
#[derive(Debug, Clone)]
pub struct ImapSettings {
    pub security: ImapSecurity,
    pub host: String,
    pub port: u16,
    pub user: String,
    /// The folder read: the URL's path, `INBOX` when it has none.
    pub mailbox: String,
    pub password: Secret,
    /// `BOUNCE_IMAP_EVERY`: time between rounds. Defaults to 5 minutes.
    pub every: Duration,
    /// `BOUNCE_IMAP_DONE_FOLDER`: where read messages are moved, created
    /// if missing. Defaults to `bulletin-processed`.
    pub done_folder: String,
    /// `BOUNCE_IMAP_DELETE`: delete read messages instead. Defaults to no.
    pub delete: bool,
    /// `BOUNCE_IMAP_CA_FILE`: authorities trusted besides Mozilla's roots.
    pub ca_file: Option<CaFile>,
}

/// The default of `BOUNCE_IMAP_EVERY`.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(300);
/// The default of `BOUNCE_IMAP_DONE_FOLDER`.
pub const DEFAULT_DONE_FOLDER: &str = "bulletin-processed";

impl ImapSettings {
    /// The settings, or `None` when `BOUNCE_IMAP_URL` is not set (the
    /// poller is off).
    pub fn from_source(source: &Source) -> Result<Option<Self>, ConfigError> {
        let Some(url) = parse_with(source, "BOUNCE_IMAP_URL", parse_url)? else { return Ok(None) };
        let password = password(source)?;
        let every = parse_with(source, "BOUNCE_IMAP_EVERY", |s| {
            let every = humantime::parse_duration(s).map_err(|e| e.to_string())?;
            if every < Duration::from_secs(1) {
                return Err("must be at least 1s".to_owned());
            }
            Ok(every)
        })?;
        let done_folder = parse_with(source, "BOUNCE_IMAP_DONE_FOLDER", |s| {
            if s.chars().any(|c| c.is_control() || matches!(c, '"' | '\\' | '%' | '*')) {
                return Err(
                    "must be a folder name without quotes, backslashes, % or * or control characters",
                );
            }
            Ok(s.to_owned())
        })?;
        let delete = parse_with(source, "BOUNCE_IMAP_DELETE", |s| match s.to_ascii_lowercase().as_str() {
            "yes" | "true" | "1" => Ok(true),
            "no" | "false" | "0" => Ok(false),
            _ => Err("must be yes or no"),
        })?;
        let ca_file = match source.get("BOUNCE_IMAP_CA_FILE") {
            None => None,
            Some((raw, origin)) => {
                Some(CaFile::load(&source.path("BOUNCE_IMAP_CA_FILE", &raw)).map_err(|reason| {
                    ConfigError::Invalid { key: "BOUNCE_IMAP_CA_FILE", value: raw, origin, reason }
                })?)
            }
        };
        Ok(Some(Self {
            security: url.security,
            host: url.host,
            port: url.port,
            user: url.user,
            mailbox: url.mailbox,
            password,
            every: every.unwrap_or(DEFAULT_EVERY),
            done_folder: done_folder.unwrap_or_else(|| DEFAULT_DONE_FOLDER.to_owned()),
            delete: delete.unwrap_or(false),
            ca_file,
        }))
    }
}

/// What `BOUNCE_IMAP_URL` says.
struct ImapUrl {
    security: ImapSecurity,
    host: String,
    port: u16,
    user: String,
    mailbox: String,
}

fn parse_url(raw: &str) -> Result<ImapUrl, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("is not a URL ({e})"))?;
    let (security, default_port) = match url.scheme() {
        "imaps" => (ImapSecurity::Tls, 993),
        "imap" => (ImapSecurity::StartTls, 143),
        _ => return Err("must start with imaps:// (TLS) or imap:// (STARTTLS)".to_owned()),
    };
    if url.password().is_some() {
        return Err(
            "holds a password: set BOUNCE_IMAP_PASSWORD or BOUNCE_IMAP_PASSWORD_FILE instead".to_owned()
        );
    }
    let decode = |s: &str| percent_decode(s).ok_or_else(|| "has a badly encoded %".to_owned());
    let user = decode(url.username())?;
    if user.is_empty() {
        return Err("names no user: imaps://USER@HOST/INBOX".to_owned());
    }
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or("names no host")?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let mailbox = decode(url.path().trim_start_matches('/'))?;
    let mailbox = if mailbox.is_empty() { "INBOX".to_owned() } else { mailbox };
    Ok(ImapUrl { security, host, port: url.port().unwrap_or(default_port), user, mailbox })
}

/// `%XX` escapes decoded; `None` for a bad one or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `BOUNCE_IMAP_PASSWORD`, or the first line of `BOUNCE_IMAP_PASSWORD_FILE`.
fn password(source: &Source) -> Result<Secret, ConfigError> {
    match (source.get("BOUNCE_IMAP_PASSWORD"), source.get("BOUNCE_IMAP_PASSWORD_FILE")) {
        (Some((value, _)), None) => Ok(Secret::new(value)),
        (None, Some((raw, origin))) => {
            let path = source.path("BOUNCE_IMAP_PASSWORD_FILE", &raw);
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Invalid {
                key: "BOUNCE_IMAP_PASSWORD_FILE",
                value: raw.clone(),
                origin: origin.clone(),
                reason: format!("cannot be read ({e})"),
            })?;
            let line = text.lines().next().unwrap_or("").trim_end_matches('\r').to_owned();
            if line.is_empty() {
                return Err(ConfigError::Invalid {
                    key: "BOUNCE_IMAP_PASSWORD_FILE",
                    value: raw,
                    origin,
                    reason: "is empty".to_owned(),
                });
            }
            Ok(Secret::new(line))
        }
        (Some(_), Some(_)) => Err(ConfigError::Missing {
            key: "BOUNCE_IMAP_PASSWORD",
            why: "set BOUNCE_IMAP_PASSWORD or BOUNCE_IMAP_PASSWORD_FILE, not both",
        }),
        (None, None) => Err(ConfigError::Missing {
            key: "BOUNCE_IMAP_PASSWORD",
            why: "BOUNCE_IMAP_URL is set: set BOUNCE_IMAP_PASSWORD or BOUNCE_IMAP_PASSWORD_FILE",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Option<ImapSettings>, String> {
        ImapSettings::from_source(&Source::from_pairs(pairs.iter().copied())).map_err(|e| e.to_string())
    }

    #[test]
    fn without_a_url_the_poller_is_off() {
        assert!(read(&[("BOUNCE_IMAP_PASSWORD", "pw")]).unwrap().is_none());
    }

    #[test]
    fn an_imaps_url_gives_user_host_port_and_folder_with_the_defaults() {
        let s = read(&[
            ("BOUNCE_IMAP_URL", "imaps://bounces%40example.org@mail.example.org/Bounces"),
            ("BOUNCE_IMAP_PASSWORD", "pw"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(s.security, ImapSecurity::Tls);
        assert_eq!((s.host.as_str(), s.port), ("mail.example.org", 993));
        assert_eq!((s.user.as_str(), s.mailbox.as_str()), ("bounces@example.org", "Bounces"));
        assert_eq!((s.every, s.done_folder.as_str(), s.delete), (DEFAULT_EVERY, DEFAULT_DONE_FOLDER, false));
        assert_eq!(s.password.expose_secret(), "pw");
    }

    #[test]
    fn an_imap_url_means_starttls_on_port_143_and_inbox_by_default() {
        let s = read(&[
            ("BOUNCE_IMAP_URL", "imap://u@[::1]"),
            ("BOUNCE_IMAP_PASSWORD", "pw"),
            ("BOUNCE_IMAP_EVERY", "2s"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!((s.security, s.host.as_str(), s.port), (ImapSecurity::StartTls, "::1", 143));
        assert_eq!((s.mailbox.as_str(), s.every), ("INBOX", Duration::from_secs(2)));
    }

    #[test]
    fn a_url_with_a_password_is_refused_without_showing_it() {
        let err = read(&[("BOUNCE_IMAP_URL", "imaps://u:hunter2@host/INBOX")]).unwrap_err();
        assert!(err.contains("BOUNCE_IMAP_URL") && err.contains("holds a password"), "{err}");
    }

    #[test]
    fn the_password_comes_from_a_file_or_a_setting_and_one_is_required() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\n").unwrap();
        let url = ("BOUNCE_IMAP_URL", "imaps://u@host/INBOX");
        let s = read(&[url, ("BOUNCE_IMAP_PASSWORD_FILE", file.to_str().unwrap())]).unwrap().unwrap();
        assert_eq!(s.password.expose_secret(), "s3cret");
        let err = read(&[url]).unwrap_err();
        assert!(err.contains("BOUNCE_IMAP_PASSWORD"), "{err}");
        let both =
            read(&[url, ("BOUNCE_IMAP_PASSWORD", "x"), ("BOUNCE_IMAP_PASSWORD_FILE", "y")]).unwrap_err();
        assert!(both.contains("not both"), "{both}");
    }

    #[test]
    fn wrong_schemes_intervals_and_switches_are_refused_naming_the_setting() {
        let pw = ("BOUNCE_IMAP_PASSWORD", "pw");
        let url = ("BOUNCE_IMAP_URL", "imaps://u@host/INBOX");
        for (pairs, key) in [
            (vec![("BOUNCE_IMAP_URL", "https://u@host/INBOX"), pw], "BOUNCE_IMAP_URL"),
            (vec![("BOUNCE_IMAP_URL", "imaps://host/INBOX"), pw], "BOUNCE_IMAP_URL"),
            (vec![url, pw, ("BOUNCE_IMAP_EVERY", "soon")], "BOUNCE_IMAP_EVERY"),
            (vec![url, pw, ("BOUNCE_IMAP_EVERY", "10ms")], "BOUNCE_IMAP_EVERY"),
            (vec![url, pw, ("BOUNCE_IMAP_DELETE", "maybe")], "BOUNCE_IMAP_DELETE"),
            (vec![url, pw, ("BOUNCE_IMAP_DONE_FOLDER", "a\"b")], "BOUNCE_IMAP_DONE_FOLDER"),
        ] {
            let err = read(&pairs).unwrap_err();
            assert!(err.contains(key), "{err}");
        }
    }
}
