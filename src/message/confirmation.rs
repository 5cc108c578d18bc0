//! Sign-up confirmation tokens: what a confirmation email's link carries,
//! sealed by [`super::token`] for its own purpose. The token holds
//! everything the sign-up said (address, name, interests), when it was
//! issued and when it stops working, so nothing is stored until the reader
//! confirms, and the issue time, under the seal, is what the consent
//! ledger compares with the reader's latest opt-out: no setting can make
//! an old link look new.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::token::{Purpose, Sealer};
use crate::config::Settings;
use crate::subscribers::EmailAddress;

/// A sign-up waiting for its confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub email: EmailAddress,
    pub name: String,
    /// Lower case, without `;` or line breaks.
    pub tags: Vec<String>,
    /// When the link was made (whole seconds); `None` for a link of the
    /// earlier layout, which said only when it expired.
    pub issued: Option<SystemTime>,
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
pub struct ConfirmSigner(Sealer);

impl ConfirmSigner {
    /// The signer for the settings' list and `UNSUBSCRIBE_SECRET`, when set:
    /// a confirmation is never signed with the development key.
    pub fn from_settings(settings: &Settings) -> Option<Self> {
        settings.unsubscribe_secret.as_ref()?;
        Some(Self(Sealer::from_settings(settings)))
    }

    /// The token for `pending`: URL-safe. A sign-up's `issued` is now.
    pub fn token(&self, pending: &Pending) -> String {
        let name = pending.name.replace(['\n', '\r'], " ");
        let expires = pending.expires.to_string();
        let tags = pending.tags.join(";");
        let issued = pending.issued.unwrap_or(UNIX_EPOCH);
        self.0.seal(Purpose::Confirmation, issued, &[&expires, pending.email.as_str(), &name, &tags])
    }

    /// A keyed digest of `key` (hex), for counting the emails sent to a
    /// mailbox without keeping the address.
    pub fn address_digest(&self, key: &str) -> String {
        self.0.digest("bulletin-confirm-count", key)
    }

    /// The sign-up a genuine token made before `now` (Unix seconds) holds.
    pub fn verify(&self, token: &str, now: u64) -> Result<Pending, Refusal> {
        let opened = self.0.open(Purpose::Confirmation, token, 4).ok_or(Refusal::Invalid)?;
        let [expires, email, name, tags] = &opened.fields[..] else { return Err(Refusal::Invalid) };
        let expires: u64 = expires.parse().map_err(|_| Refusal::Invalid)?;
        if now > expires {
            return Err(Refusal::Expired);
        }
        Ok(Pending {
            email: EmailAddress::parse(email).map_err(|_| Refusal::Invalid)?,
            name: name.clone(),
            tags: tags.split(';').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
            issued: opened.issued,
            expires,
        })
    }
}

/// `secs` seconds after the Unix epoch.
pub fn at_secs(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::unsubscribe::Signer;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

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
            issued: Some(at_secs(400)),
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
        let later = URL_SAFE_NO_PAD
            .encode("bulletin-confirm-signup/2\nprayer.example.org\n900\n9999\nana@example.org\n\n");
        assert_eq!(s.verify(&format!("{later}.{tag}"), 0), Err(Refusal::Invalid));
        assert_eq!(s.verify("", 0), Err(Refusal::Invalid));
    }

    #[test]
    fn an_unsubscribe_token_made_with_the_same_secret_confirms_nothing() {
        let secret = "s3cret-s3cret-s3cret";
        let unsubscribe = Signer::from_settings(&settings(secret)).token(&pending().email);
        assert_eq!(signer(secret).verify(&unsubscribe, 0), Err(Refusal::Invalid));
    }

    #[test]
    fn a_link_says_when_it_was_made_whatever_the_link_lifetime_and_old_links_say_nothing() {
        let s = signer("s3cret-s3cret-s3cret");
        let mut long = pending();
        long.expires = 900_000;
        assert_eq!(s.verify(&s.token(&long), 0).unwrap().issued, Some(at_secs(400)));
        // A link of the earlier layout: its purpose line without `/2`, and
        // no issue time.
        let payload = "bulletin-confirm-signup\nprayer.example.org\n1000\nana@example.org\nAna\n";
        let sealer = Sealer::from_settings(&settings("s3cret-s3cret-s3cret"));
        let old = sealer.seal_raw(payload);
        let opened = s.verify(&old, 0).unwrap();
        assert_eq!((opened.issued, opened.email.as_str()), (None, "ana@example.org"));
    }
}
