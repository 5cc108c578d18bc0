//! VERP tokens: the signed, per-recipient part of the envelope sender. With
//! `BOUNCE_ADDRESS=bounces@hope.example.org`, the message of campaign `C` to
//! `ana@example.org` is sent `MAIL FROM:<bounces+TOKEN@hope.example.org>`,
//! TOKEN an HMAC of `C` and the recipient's [`EmailKey`]. A bounce comes
//! back to that address, so the token says which message it is about; and
//! since nobody without the key can make a token, a report carrying one is
//! a report about a message we sent (see `bounce::origin`). Ends at the
//! token and the address: where it is put is `message`'s, where it is read
//! back the bounce import's.
//!
//! A token is the one token helper's short seal ([`ShortSealer`] for
//! [`ShortPurpose::Verp`]): 80 bits of HMAC-SHA256 in lower-case base32,
//! 16 characters, short enough for any local part, unguessable, and read
//! back without case, so a relay that upper-cases the address does not
//! break it.

use super::token::{SHORT_LEN, ShortPurpose, ShortSealer};
use crate::config::{Secret, Settings};
use crate::domain::EmailKey;
use crate::subscribers::EmailAddress;

/// Characters in a token.
pub const TOKEN_LEN: usize = SHORT_LEN;

/// Makes and checks VERP tokens.
///
/// The key is derived from `UNSUBSCRIBE_SECRET` for its purpose by the
/// token helper, not a setting of its own: it is the one secret a
/// real send already needs, it is kept out of the campaign's files, and it
/// is the same on the machine that sends and the one that imports bounces,
/// which is all a token needs. Without it the development key stands in, as
/// for unsubscribe links: fine for a dry run, but then anyone who has read
/// this code can make a token (`Settings::warnings` says so).
#[derive(Clone)]
pub struct Verp {
    seal: ShortSealer,
}

impl std::fmt::Debug for Verp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verp([redacted])")
    }
}

impl Verp {
    /// The tokens signed with `secret`.
    pub fn new(secret: &Secret) -> Self {
        Self { seal: ShortSealer::new(secret, ShortPurpose::Verp) }
    }

    /// The tokens signed with `secret`, or with the development key when
    /// there is none.
    pub fn from_secret(secret: Option<&Secret>) -> Self {
        Self::new(&super::token::secret_or_development(secret))
    }

    /// The tokens the settings call for (see [`Verp`]).
    pub fn from_settings(settings: &Settings) -> Self {
        Self::from_secret(settings.unsubscribe_secret.as_ref())
    }

    /// The token of the message of `campaign` to `recipient`: the same
    /// every time.
    pub fn token(&self, campaign: &str, recipient: &EmailKey) -> String {
        self.seal.seal(&[campaign, recipient.as_str()])
    }

    /// Whether `token` (in any case) is the one of the message of
    /// `campaign` to `recipient`; compared in constant time.
    pub fn verifies(&self, token: &str, campaign: &str, recipient: &EmailKey) -> bool {
        self.seal.opens(token, &[campaign, recipient.as_str()])
    }

    /// The envelope sender of the message of `campaign` to `recipient`:
    /// `bounce`'s local part, `+`, the token, `@`, its domain.
    pub fn address(&self, bounce: &EmailAddress, campaign: &str, recipient: &EmailKey) -> lettre::Address {
        let base = bounce.as_lettre();
        let user = format!("{}+{}", base.user(), self.token(campaign, recipient));
        lettre::Address::new(user, base.domain()).expect("a valid local part with `+` and base32 is valid")
    }

    /// The token in an address of the form [`Verp::address`] makes
    /// (`local+TOKEN@domain`), lower-cased; `None` for any other address.
    /// Says nothing about whether the token is genuine.
    pub fn token_in(address: &str) -> Option<String> {
        let address = address.trim().trim_start_matches('<').trim_end_matches('>');
        let (local, domain) = address.rsplit_once('@')?;
        let (_, token) = local.rsplit_once('+')?;
        let shaped = !domain.is_empty()
            && token.len() == TOKEN_LEN
            && token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b.to_ascii_lowercase()));
        shaped.then(|| token.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verp(secret: &str) -> Verp {
        Verp::new(&Secret::new(secret.to_owned()))
    }

    fn key(address: &str) -> EmailKey {
        EmailKey::of(address)
    }

    #[test]
    fn a_token_is_the_same_every_time_short_and_lower_case_base32() {
        let v = verp("s3cret");
        let token = v.token("2025-10-16-prayer", &key("ana@example.org"));
        assert_eq!(token, verp("s3cret").token("2025-10-16-prayer", &key("ana@example.org")));
        assert_eq!(token.len(), TOKEN_LEN);
        assert!(token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b)), "{token}");
    }

    #[test]
    fn a_token_differs_by_campaign_recipient_and_secret() {
        let v = verp("s3cret");
        let ana = v.token("2025-10-16-prayer", &key("ana@example.org"));
        assert_ne!(ana, v.token("2025-10-23-prayer", &key("ana@example.org")));
        assert_ne!(ana, v.token("2025-10-16-prayer", &key("bo@example.org")));
        assert_ne!(ana, verp("other").token("2025-10-16-prayer", &key("ana@example.org")));
        // The campaign and the address cannot trade characters.
        assert_ne!(v.token("a", &key("b\nc@example.org")), v.token("a\nb", &key("c@example.org")));
    }

    #[test]
    fn a_token_verifies_for_its_message_only() {
        let v = verp("s3cret");
        let token = v.token("2025-10-16-prayer", &key("ana@example.org"));
        assert!(v.verifies(&token, "2025-10-16-prayer", &key("ana@example.org")));
        assert!(!v.verifies(&token, "2025-10-16-prayer", &key("bo@example.org")));
        assert!(!v.verifies(&token, "2025-10-23-prayer", &key("ana@example.org")));
        assert!(!verp("other").verifies(&token, "2025-10-16-prayer", &key("ana@example.org")));
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let v = verp("s3cret");
        let token = v.token("c", &key("ana@example.org"));
        let verifies = |t: &str| v.verifies(t, "c", &key("ana@example.org"));
        for at in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
            assert!(!verifies(&String::from_utf8(bytes).unwrap()), "changed at {at}");
        }
        assert!(!verifies(&token[..TOKEN_LEN - 1]));
        assert!(!verifies(&format!("{token}0")));
        assert!(!verifies(""));
        assert!(!verifies("zzzzzzzzzzzzzzzz"));
    }

    #[test]
    fn a_token_is_read_without_case() {
        let v = verp("s3cret");
        let token = v.token("c", &key("ana@example.org"));
        assert!(v.verifies(&token.to_ascii_uppercase(), "c", &key("ana@example.org")));
        let address = format!("BOUNCES+{}@HOPE.EXAMPLE.ORG", token.to_ascii_uppercase());
        assert_eq!(Verp::token_in(&address), Some(token));
    }

    #[test]
    fn the_address_is_the_bounce_address_with_the_token_after_a_plus() {
        let v = verp("s3cret");
        let bounce = EmailAddress::parse("bounces@hope.example.org").unwrap();
        let address = v.address(&bounce, "c", &key("Ana@Example.org"));
        let token = v.token("c", &key("ana@example.org"));
        assert_eq!(address.to_string(), format!("bounces+{token}@hope.example.org"));
        assert_eq!(Verp::token_in(&format!("<{address}>")), Some(token.clone()));
        // A bounce address with a `+` of its own keeps it.
        let plus = EmailAddress::parse("news+bounces@hope.example.org").unwrap();
        let address = v.address(&plus, "c", &key("ana@example.org")).to_string();
        assert_eq!(address, format!("news+bounces+{token}@hope.example.org"));
        assert_eq!(Verp::token_in(&address), Some(token));
    }

    #[test]
    fn addresses_without_a_token_give_none() {
        for address in [
            "bounces@hope.example.org",
            "bounces+short@hope.example.org",
            "bounces+0123456789abcdefg@hope.example.org",
            "bounces+0123456789abcdew@hope.example.org",
            "bounces+0123456789abcdef",
            "",
        ] {
            assert_eq!(Verp::token_in(address), None, "{address}");
        }
    }

    #[test]
    fn the_key_is_not_the_unsubscribe_key() {
        use hmac::{Hmac, KeyInit, Mac};
        // Signing "c\nana@example.org" with the secret itself, as the
        // unsubscribe signer signs "list\naddress", gives another tag.
        let mut raw = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"s3cret").unwrap();
        raw.update(b"c\nana@example.org");
        let raw = data_encoding::BASE32_DNSSEC.encode(&raw.finalize().into_bytes()[..10]);
        assert_ne!(raw, verp("s3cret").token("c", &key("ana@example.org")));
    }

    #[test]
    fn tokens_in_the_return_paths_of_messages_already_sent_still_verify() {
        // Made by the signer before it moved into the token helper.
        let v = verp("s3cret");
        assert_eq!(v.token("2025-10-16-prayer", &key("ana@example.org")), "bo3u1haldh3jbgif");
        assert!(v.verifies("bo3u1haldh3jbgif", "2025-10-16-prayer", &key("ana@example.org")));
    }

    #[test]
    fn without_a_secret_the_development_key_signs() {
        let dev = Verp::from_secret(None);
        let token = dev.token("c", &key("ana@example.org"));
        assert_eq!(token, verp(super::super::token::DEVELOPMENT_SECRET).token("c", &key("ana@example.org")));
        assert!(!format!("{dev:?}").contains("development"));
    }
}
