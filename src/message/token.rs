//! The one token helper: every link a reader or a relay brings back
//! (unsubscribe, preferences, sign-up confirmation) carries a token sealed
//! here with `UNSUBSCRIBE_SECRET` (HMAC-SHA256), over a payload that names
//! its [`Purpose`] and the list, so no kind of token passes for another and
//! no list's token for another list's. Tokens that must be short (VERP's,
//! inside an envelope sender's local part) are sealed here too, by
//! [`ShortSealer`], under a key derived for their [`ShortPurpose`]; every
//! kind falls back to the same development key ([`secret_or_development`]).
//!
//! A preference or confirmation token also carries the time it was issued,
//! under the seal: no setting (a shorter `CONFIRM_HOURS`, say) can make an
//! old link look new, and the consent ledger can tell a link made before an
//! opt-out from one made after it. Tokens already in supporters' inboxes
//! keep working: an unsubscribe token has always had the same layout (and
//! needs no time: an opt-out counts whenever its link was made), and a
//! preference or confirmation token of the earlier layout opens with no
//! issue time, which the ledger reads as "before anything dated".

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::{ListId, Secret, Settings};

/// Stands in for `UNSUBSCRIBE_SECRET` when it is not set, so a dry run still
/// shows real-looking links. `Settings::warnings` says so; sending and the
/// server refuse it.
pub(crate) const DEVELOPMENT_SECRET: &str = "bulletin-development-secret-do-not-send-with-this";

/// The key every token is sealed with: `UNSUBSCRIBE_SECRET`, or the
/// development key when it is not set (the one fallback).
pub fn secret(settings: &Settings) -> Secret {
    secret_or_development(settings.unsubscribe_secret.as_ref())
}

/// `secret`, or the development key when there is none: the one fallback.
pub fn secret_or_development(secret: Option<&Secret>) -> Secret {
    secret.cloned().unwrap_or_else(|| Secret::new(DEVELOPMENT_SECRET.to_owned()))
}

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An unsubscribe link: the list and the address, nothing else (the
    /// layout of every unsubscribe link ever sent).
    Unsubscribe,
    /// A link to the preference page.
    Preferences,
    /// A sign-up's confirmation link.
    Confirmation,
}

impl Purpose {
    /// The first line of the payload: the earlier layout's (no issue time)
    /// and the current one's. An unsubscribe token has no purpose line.
    fn labels(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::Unsubscribe => None,
            Self::Preferences => Some(("bulletin-preferences", "bulletin-preferences/2")),
            Self::Confirmation => Some(("bulletin-confirm-signup", "bulletin-confirm-signup/2")),
        }
    }
}

/// What an opened token holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// When the link was made; `None` for a token of the earlier layout.
    pub issued: Option<SystemTime>,
    /// The purpose's own fields, in the order they were sealed.
    pub fields: Vec<String>,
}

/// HMAC-SHA256 under one key, keyed once: each message's links are signed
/// from a copy, without working the key into the hash state again.
#[derive(Clone)]
pub(crate) struct KeyedMac(Hmac<Sha256>);

impl KeyedMac {
    pub(crate) fn new(key: &Secret) -> Self {
        Self::of_bytes(key.expose_secret().as_bytes())
    }

    fn of_bytes(key: &[u8]) -> Self {
        Self(<Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length"))
    }

    /// The MAC of `payload`, to finalise or verify.
    pub(crate) fn of(&self, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        mac.update(payload);
        mac
    }
}

impl std::fmt::Debug for KeyedMac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyedMac(..)")
    }
}

/// Seals and opens the tokens of one list.
#[derive(Debug, Clone)]
pub struct Sealer {
    mac: KeyedMac,
    list_id: ListId,
}

impl Sealer {
    pub fn new(key: &Secret, list_id: ListId) -> Self {
        Self { mac: KeyedMac::new(key), list_id }
    }

    /// The sealer of the settings' list, with their secret or the
    /// development key.
    pub fn from_settings(settings: &Settings) -> Self {
        Self::new(&secret(settings), settings.list_id.clone())
    }

    /// A keyed digest (hex, 128 bits) of `text` for `purpose`: for counting
    /// or matching without keeping what was counted.
    pub fn digest(&self, purpose: &str, text: &str) -> String {
        let payload = format!("{purpose}\n{}\n{text}", self.list_id.as_str());
        hex::encode(&self.mac.of(payload.as_bytes()).finalize().into_bytes()[..16])
    }

    /// The URL-safe token for `purpose` holding `fields` (none of which may
    /// hold a line break), issued at `issued` (whole seconds; ignored for an
    /// unsubscribe token).
    pub fn seal(&self, purpose: Purpose, issued: SystemTime, fields: &[&str]) -> String {
        let secs = crate::domain::Timestamp::from(issued).unix_seconds().to_string();
        let mut lines: Vec<&str> = Vec::with_capacity(fields.len() + 3);
        if let Some((_, current)) = purpose.labels() {
            lines.extend([current, self.list_id.as_str(), &secs]);
        } else {
            lines.push(self.list_id.as_str());
        }
        lines.extend(fields.iter().map(|f| {
            debug_assert!(!f.contains('\n'), "a token field holds a line break");
            *f
        }));
        let payload = lines.join("\n");
        let tag = self.mac.of(payload.as_bytes()).finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(tag))
    }

    /// What a genuine token for `purpose` and this list holds; `None` for
    /// anything forged, altered, made for another purpose or list, or with
    /// a number of fields other than `fields`.
    pub fn open(&self, purpose: Purpose, token: &str, fields: usize) -> Option<Opened> {
        let (payload, tag) = token.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac.of(&payload).verify_slice(&tag).ok()?;
        let payload = String::from_utf8(payload).ok()?;
        let mut lines = payload.split('\n');
        let issued = match purpose.labels() {
            None => None,
            Some((earlier, current)) => match lines.next()? {
                label if label == current => Some(()),
                label if label == earlier => None,
                _ => return None,
            },
        };
        if lines.next()? != self.list_id.as_str() {
            return None;
        }
        let issued = match issued {
            Some(()) => Some(UNIX_EPOCH + Duration::from_secs(lines.next()?.parse().ok()?)),
            None => None,
        };
        let fields_found: Vec<String> = lines.map(str::to_owned).collect();
        (fields_found.len() == fields).then_some(Opened { issued, fields: fields_found })
    }
}

/// What a short token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShortPurpose {
    /// A VERP token: which message a bounce is about.
    Verp,
}

impl ShortPurpose {
    /// What the secret is mixed with to make this purpose's key, so a
    /// short token and any other token are never the same MAC of the same
    /// text (a token anyone can read in a `Return-Path` says nothing about
    /// an unsubscribe link). Changing it changes every token.
    fn label(self) -> &'static [u8] {
        match self {
            Self::Verp => b"bulletin VERP token v1",
        }
    }
}

/// Bytes of the MAC a short token keeps: 80 bits.
const SHORT_BYTES: usize = 10;

/// Characters in a short token: 16 of base32.
pub const SHORT_LEN: usize = 16;

/// Seals short tokens for one purpose: 80 bits of HMAC-SHA256, under a key
/// derived from the secret for the purpose, in lower-case base32 (RFC
/// 5155's alphabet, `0-9a-v`) and opened without case. It holds no
/// payload: the one who opens it says what it should be the seal of.
#[derive(Debug, Clone)]
pub struct ShortSealer {
    mac: KeyedMac,
}

impl ShortSealer {
    pub fn new(key: &Secret, purpose: ShortPurpose) -> Self {
        let derived = KeyedMac::new(key).of(purpose.label()).finalize().into_bytes();
        Self { mac: KeyedMac::of_bytes(&derived) }
    }

    /// The MAC of `fields`: each but the last preceded by its length, so
    /// no two lists of fields can be cut differently into the same text.
    fn of(&self, fields: &[&str]) -> Hmac<Sha256> {
        let mut mac = self.mac.of(b"");
        if let Some((last, first)) = fields.split_last() {
            for field in first {
                mac.update(&(field.len() as u64).to_be_bytes());
                mac.update(field.as_bytes());
            }
            mac.update(last.as_bytes());
        }
        mac
    }

    /// The token sealing `fields`: the same every time.
    pub fn seal(&self, fields: &[&str]) -> String {
        data_encoding::BASE32_DNSSEC.encode(&self.of(fields).finalize().into_bytes()[..SHORT_BYTES])
    }

    /// Whether `token` (in any case) seals `fields`; compared in constant
    /// time.
    pub fn opens(&self, token: &str, fields: &[&str]) -> bool {
        if token.len() != SHORT_LEN {
            return false;
        }
        let Ok(bytes) = data_encoding::BASE32_DNSSEC.decode(token.as_bytes()) else { return false };
        bytes.len() == SHORT_BYTES && self.of(fields).verify_truncated_left(&bytes).is_ok()
    }
}

#[cfg(test)]
impl Sealer {
    /// A token over `payload` as it is: for links of earlier layouts.
    pub(crate) fn seal_raw(&self, payload: &str) -> String {
        let tag = self.mac.of(payload.as_bytes()).finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(tag))
    }
}

/// `base` with `token` as its `t` parameter: what `url`'s
/// `query_pairs_mut().append_pair("t", token)` makes, without parsing and
/// copying the address for every message (a token is base64url and `.`,
/// which the query takes as they are).
pub(crate) fn with_token(base: &crate::config::HttpsUrl, token: &str) -> String {
    let url = base.as_url();
    if url.fragment().is_some() || !token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        let mut url = url.clone();
        url.query_pairs_mut().append_pair("t", token);
        return url.into();
    }
    let separator = match url.query() {
        None => "?",
        Some("") => "",
        Some(_) => "&",
    };
    format!("{}{separator}t={token}", url.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(secret: &str, list: &str) -> Sealer {
        let settings = Settings::from_source(&crate::config::Source::from_pairs([
            ("UNSUBSCRIBE_SECRET", secret),
            ("LIST_ID", list),
        ]))
        .unwrap();
        Sealer::from_settings(&settings)
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_token_opens_to_its_fields_and_issue_time_for_its_own_purpose_only() {
        let s = sealer("key-key-key-key-key", "prayer.example.org");
        let token = s.seal(Purpose::Preferences, at(1_700_000_000), &["ana@example.org"]);
        let opened = s.open(Purpose::Preferences, &token, 1).unwrap();
        assert_eq!(opened.issued, Some(at(1_700_000_000)));
        assert_eq!(opened.fields, ["ana@example.org"]);
        assert_eq!(s.open(Purpose::Confirmation, &token, 1), None);
        assert_eq!(s.open(Purpose::Unsubscribe, &token, 1), None);
        assert_eq!(s.open(Purpose::Preferences, &token, 2), None, "a field count of its own");
        assert_eq!(
            sealer("key-key-key-key-key", "news.example.org").open(Purpose::Preferences, &token, 1),
            None
        );
        assert_eq!(
            sealer("another-key-entirely", "prayer.example.org").open(Purpose::Preferences, &token, 1),
            None
        );
    }

    #[test]
    fn the_issue_time_cannot_be_changed_without_the_key() {
        let s = sealer("key-key-key-key-key", "prayer.example.org");
        let token = s.seal(Purpose::Confirmation, at(1_000), &["ana@example.org"]);
        let (_, tag) = token.split_once('.').unwrap();
        let later =
            URL_SAFE_NO_PAD.encode("bulletin-confirm-signup/2\nprayer.example.org\n9000\nana@example.org");
        assert_eq!(s.open(Purpose::Confirmation, &format!("{later}.{tag}"), 1), None);
    }

    #[test]
    fn a_token_of_the_earlier_layout_opens_with_no_issue_time() {
        let s = sealer("key-key-key-key-key", "prayer.example.org");
        let token = s.seal_raw("bulletin-preferences\nprayer.example.org\nana@example.org");
        let opened = s.open(Purpose::Preferences, &token, 1).unwrap();
        assert_eq!((opened.issued, opened.fields), (None, vec!["ana@example.org".to_owned()]));
    }

    #[test]
    fn an_unsubscribe_token_keeps_the_layout_of_the_links_already_sent() {
        let s = sealer("key-key-key-key-key", "prayer.example.org");
        let token = s.seal(Purpose::Unsubscribe, at(5), &["ana@example.org"]);
        let payload = URL_SAFE_NO_PAD.decode(token.split_once('.').unwrap().0).unwrap();
        assert_eq!(payload, b"prayer.example.org\nana@example.org");
        assert_eq!(token, s.seal(Purpose::Unsubscribe, at(99), &["ana@example.org"]), "no time in it");
        let opened = s.open(Purpose::Unsubscribe, &token, 1).unwrap();
        assert_eq!((opened.issued, opened.fields), (None, vec!["ana@example.org".to_owned()]));
    }
}
