//! Preference tokens: the per-recipient token of the footer's link to the
//! preference page. Signed with `UNSUBSCRIBE_SECRET` over a payload that
//! starts with its purpose, so it passes for neither an unsubscribe nor a
//! confirmation token. Like an unsubscribe link, it does not expire.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{HttpsUrl, Settings};
use crate::message::unsubscribe::{DEVELOPMENT_SECRET, KeyedMac, with_token};
use crate::subscribers::EmailAddress;

const PURPOSE: &str = "bulletin-preferences";

/// Signs and checks preference tokens for one list.
#[derive(Debug, Clone)]
pub struct PreferencesSigner {
    mac: KeyedMac,
    list_id: String,
}

impl PreferencesSigner {
    /// The signer the settings call for, falling back to the development key
    /// as the unsubscribe links do.
    pub fn from_settings(settings: &Settings) -> Self {
        let key = settings
            .unsubscribe_secret
            .clone()
            .unwrap_or_else(|| crate::config::Secret::new(DEVELOPMENT_SECRET.to_owned()));
        Self { mac: KeyedMac::new(&key), list_id: settings.list_id.as_str().to_owned() }
    }

    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        self.mac.of(payload)
    }

    pub fn token(&self, email: &EmailAddress) -> String {
        let payload = format!("{PURPOSE}\n{}\n{}", self.list_id, email.key().as_str());
        let tag = self.mac(payload.as_bytes()).finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(tag))
    }

    /// The address a genuine token names.
    pub fn verify(&self, token: &str) -> Option<EmailAddress> {
        let (payload, tag) = token.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(&payload).verify_slice(&tag).ok()?;
        let payload = String::from_utf8(payload).ok()?;
        let mut parts = payload.split('\n');
        let (purpose, list, email) = (parts.next()?, parts.next()?, parts.next()?);
        if purpose != PURPOSE || list != self.list_id || parts.next().is_some() {
            return None;
        }
        EmailAddress::parse(email).ok()
    }

    /// `base` with the reader's token as its `t` parameter.
    pub fn url(&self, base: &HttpsUrl, email: &EmailAddress) -> String {
        with_token(base, &self.token(email))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::unsubscribe::Signer;

    fn settings() -> Settings {
        Settings::from_source(&crate::config::Source::from_pairs([
            ("UNSUBSCRIBE_SECRET", "prefs-secret-prefs-secret"),
            ("LIST_ID", "prayer.example.org"),
        ]))
        .unwrap()
    }

    #[test]
    fn a_preference_token_names_its_reader_and_no_unsubscribe_token_passes_for_one() {
        let s = PreferencesSigner::from_settings(&settings());
        let ana = EmailAddress::parse("Ana@example.org").unwrap();
        assert_eq!(s.verify(&s.token(&ana)).map(|e| e.to_string()), Some("ana@example.org".to_owned()));
        assert_eq!(s.verify(&Signer::from_settings(&settings()).token(&ana)), None);
        assert_eq!(s.verify("x.y"), None);
    }
}
