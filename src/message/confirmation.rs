//! Sign-up confirmation tokens: what a confirmation email's link carries.
//! Signed with `UNSUBSCRIBE_SECRET` like the unsubscribe tokens
//! ([`super::unsubscribe`]), but over a payload that starts with its
//! purpose, so neither kind of token passes for the other. The token holds
//! everything the sign-up said (address, name, interests) and when it stops
//! working, so nothing is stored until the reader confirms.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{ListId, Secret, Settings};
use crate::message::unsubscribe::KeyedMac;
use crate::subscribers::EmailAddress;

/// What a confirmation token's payload starts with.
const PURPOSE: &str = "bulletin-confirm-signup";

/// A sign-up waiting for its confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub email: EmailAddress,
    pub name: String,
    /// Lower case, without `;` or line breaks.
    pub tags: Vec<String>,
    /// Seconds since the Unix epoch after which the token is refused.
    pub expires: u64,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the link is damaged or forged")]
    Invalid,
    #[error("the link has expired")]
    Expired,
}

/// Signs and checks confirmation tokens for one list.
#[derive(Debug, Clone)]
pub struct ConfirmSigner {
    mac: KeyedMac,
    list_id: ListId,
}

impl ConfirmSigner {
    pub fn new(key: Secret, list_id: ListId) -> Self {
        Self { mac: KeyedMac::new(&key), list_id }
    }

    /// The signer for the settings' list and `UNSUBSCRIBE_SECRET`, when set.
    pub fn from_settings(settings: &Settings) -> Option<Self> {
        Some(Self::new(settings.unsubscribe_secret.clone()?, settings.list_id.clone()))
    }

    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        self.mac.of(payload)
    }

    /// The token for `pending`: URL-safe.
    pub fn token(&self, pending: &Pending) -> String {
        let payload = [
            PURPOSE,
            self.list_id.as_str(),
            &pending.expires.to_string(),
            pending.email.as_str(),
            &pending.name.replace(['\n', '\r'], " "),
            &pending.tags.join(";"),
        ]
        .join("\n");
        let tag = self.mac(payload.as_bytes()).finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(tag))
    }

    /// A keyed digest of `email` (hex), for counting the emails sent to an
    /// address without keeping the address.
    pub fn address_digest(&self, email: &EmailAddress) -> String {
        let payload = format!("bulletin-confirm-count\n{}\n{}", self.list_id.as_str(), email.key().as_str());
        hex::encode(&self.mac(payload.as_bytes()).finalize().into_bytes()[..16])
    }

    /// The sign-up a genuine token made before `now` (Unix seconds) holds.
    pub fn verify(&self, token: &str, now: u64) -> Result<Pending, Refusal> {
        let (payload, tag) = token.split_once('.').ok_or(Refusal::Invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| Refusal::Invalid)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| Refusal::Invalid)?;
        self.mac(&payload).verify_slice(&tag).map_err(|_| Refusal::Invalid)?;
        let payload = String::from_utf8(payload).map_err(|_| Refusal::Invalid)?;
        let parts: Vec<&str> = payload.split('\n').collect();
        let [purpose, list, expires, email, name, tags] = parts[..] else { return Err(Refusal::Invalid) };
        if purpose != PURPOSE || list != self.list_id.as_str() {
            return Err(Refusal::Invalid);
        }
        let expires: u64 = expires.parse().map_err(|_| Refusal::Invalid)?;
        if now > expires {
            return Err(Refusal::Expired);
        }
        Ok(Pending {
            email: EmailAddress::parse(email).map_err(|_| Refusal::Invalid)?,
            name: name.to_owned(),
            tags: tags.split(';').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
            expires,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::unsubscribe::Signer;

    fn settings(secret: &str) -> Settings {
        Settings::from_source(&crate::config::Source::from_pairs([
            ("UNSUBSCRIBE_SECRET", secret),
            ("LIST_ID", "prayer.example.org"),
        ]))
        .unwrap()
    }

    fn signer(secret: &str) -> ConfirmSigner {
        ConfirmSigner::from_settings(&settings(secret)).unwrap()
    }

    fn pending() -> Pending {
        Pending {
            email: EmailAddress::parse("Ana@example.org").unwrap(),
            name: "Ana Silva".into(),
            tags: vec!["prayer".into(), "news".into()],
            expires: 1_000,
        }
    }

    #[test]
    fn a_token_gives_back_its_sign_up_until_it_expires() {
        let s = signer("s3cret-s3cret-s3cret");
        let token = s.token(&pending());
        assert_eq!(s.verify(&token, 1_000), Ok(pending()));
        assert_eq!(s.verify(&token, 1_001), Err(Refusal::Expired));
    }

    #[test]
    fn forged_altered_or_foreign_tokens_are_refused() {
        let s = signer("s3cret-s3cret-s3cret");
        let token = s.token(&pending());
        assert_eq!(signer("another-secret-entirely").verify(&token, 0), Err(Refusal::Invalid));
        let (_, tag) = token.split_once('.').unwrap();
        let later =
            URL_SAFE_NO_PAD.encode(format!("{PURPOSE}\nprayer.example.org\n9999\nana@example.org\n\n"));
        assert_eq!(s.verify(&format!("{later}.{tag}"), 0), Err(Refusal::Invalid));
        assert_eq!(s.verify("", 0), Err(Refusal::Invalid));
    }

    #[test]
    fn an_unsubscribe_token_made_with_the_same_secret_confirms_nothing() {
        let secret = "s3cret-s3cret-s3cret";
        let unsubscribe = Signer::from_settings(&settings(secret)).token(&pending().email);
        assert_eq!(signer(secret).verify(&unsubscribe, 0), Err(Refusal::Invalid));
    }
}
