//! Unsubscribe tokens: makes and checks the per-recipient token each
//! message's unsubscribe link carries. It names the recipient and the list
//! and cannot be forged without the signing secret (HMAC-SHA256). Ends at the
//! token: the server that takes the requests those links make is under
//! `http`.

use crate::config::{HttpsUrl, Settings};
use crate::subscribers::EmailAddress;

pub(crate) use super::token::{DEVELOPMENT_SECRET, with_token};
use super::token::{Purpose, Sealer};

/// Signs and checks unsubscribe tokens for one list.
#[derive(Debug, Clone)]
pub struct Signer(Sealer);

impl Signer {
    /// The signer the settings call for, falling back to the development key.
    pub fn from_settings(settings: &Settings) -> Self {
        Self(Sealer::from_settings(settings))
    }

    /// The token for `email`: URL-safe, the same every time.
    pub fn token(&self, email: &EmailAddress) -> String {
        self.0.seal(Purpose::Unsubscribe, std::time::UNIX_EPOCH, &[email.key().as_str()])
    }

    /// The address a genuine token names, or `None` for anything forged,
    /// altered or made for another list.
    pub fn verify(&self, token: &str) -> Option<String> {
        self.0.open(Purpose::Unsubscribe, token, 1).map(|opened| opened.fields.concat())
    }

    /// `base` with this recipient's token added as the `t` query parameter.
    pub fn url(&self, base: &HttpsUrl, email: &EmailAddress) -> String {
        with_token(base, &self.token(email))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn a_link_is_written_as_the_url_crate_would_write_it_whatever_the_base() {
        for base in [
            "https://hope.example.org/unsubscribe",
            "https://hope.example.org/u/",
            "https://hope.example.org/u?list=weekly",
            "https://hope.example.org/u?",
            "https://hope.example.org/u?a=1&",
            "https://hope.example.org/u#top",
            "https://hope.example.org:8443/p%C3%A1gina?x=%20y",
        ] {
            let base = HttpsUrl::parse(base).unwrap();
            for token in ["YWJj.ZGVm-_", "not a token & more"] {
                let mut expected = base.as_url().clone();
                expected.query_pairs_mut().append_pair("t", token);
                assert_eq!(with_token(&base, token), expected.as_str(), "{base:?} {token:?}");
            }
        }
    }
    use crate::config::Source;

    fn signer(secret: &str, list: &str) -> Signer {
        let settings = Settings::from_source(&Source::from_pairs([
            ("UNSUBSCRIBE_SECRET", secret),
            ("LIST_ID", list),
            ("UNSUBSCRIBE_URL", "https://example.org/unsubscribe?list=prayer"),
        ]))
        .unwrap();
        Signer::from_settings(&settings)
    }

    fn email(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    #[test]
    fn a_token_verifies_back_to_its_address() {
        let s = signer("s3cret", "prayer.example.org");
        let token = s.token(&email("Ana@Example.org"));
        assert_eq!(s.verify(&token).as_deref(), Some("ana@example.org"));
    }

    #[test]
    fn a_token_is_the_same_every_time_and_differs_per_recipient() {
        let s = signer("s3cret", "prayer.example.org");
        assert_eq!(s.token(&email("a@example.org")), s.token(&email("A@example.org")));
        assert_ne!(s.token(&email("a@example.org")), s.token(&email("b@example.org")));
    }

    #[test]
    fn forged_altered_or_foreign_tokens_are_refused() {
        let s = signer("s3cret", "prayer.example.org");
        let token = s.token(&email("a@example.org"));
        let (_, tag) = token.split_once('.').unwrap();
        let forged_payload = URL_SAFE_NO_PAD.encode("prayer.example.org\nb@example.org");
        assert_eq!(s.verify(&format!("{forged_payload}.{tag}")), None);
        assert_eq!(signer("other", "prayer.example.org").verify(&token), None);
        assert_eq!(signer("s3cret", "news.example.org").verify(&token), None);
        assert_eq!(s.verify("garbage"), None);
        assert_eq!(s.verify(""), None);
    }

    #[test]
    fn the_url_keeps_existing_query_parameters() {
        let settings = Settings::from_source(&Source::from_pairs([
            ("UNSUBSCRIBE_SECRET", "k"),
            ("UNSUBSCRIBE_URL", "https://example.org/unsubscribe?list=prayer"),
        ]))
        .unwrap();
        let s = Signer::from_settings(&settings);
        let url = s.url(settings.unsubscribe_url.as_ref().unwrap(), &email("a@example.org"));
        assert!(url.starts_with("https://example.org/unsubscribe?list=prayer&t="), "{url}");
    }

    #[test]
    fn the_secret_is_not_in_the_token() {
        let s = signer("correct-horse-battery-staple", "prayer.example.org");
        let token = s.token(&email("a@example.org"));
        let decoded = URL_SAFE_NO_PAD.decode(token.split_once('.').unwrap().0).unwrap();
        assert!(!String::from_utf8_lossy(&decoded).contains("correct-horse"));
    }
}
