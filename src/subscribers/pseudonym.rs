//! Forgotten addresses: what `bulletin forget` leaves in the suppression
//! list in place of an address, so that a later import of an old list, or
//! an old spreadsheet saved over the new one, does not mail that person
//! again, while the file no longer says who they were.
//!
//! A pseudonym is written in the `email` column as
//! `forgotten:<salt>:<digest>`, where the digest is SHA-256 over the salt
//! and the address's [`EmailKey`] (so it matches without case, as every
//! other entry does), in lower-case hex.
//!
//! The salt is random (16 bytes) and kept in the pseudonym itself, one salt
//! per suppression file: `forget` reuses the salt of the file's other
//! pseudonyms. Chosen over a salt kept in the state folder, or one derived
//! from `UNSUBSCRIBE_SECRET`, because the suppression list is read by every
//! command and by the unsubscribe server, with or without that folder and
//! that setting: a salt kept elsewhere would, once the folder is moved or
//! the secret changed, silently stop matching and mail the very person who
//! asked to be forgotten, the worst way this can fail. Salted, the digests
//! cannot be looked up in tables made beforehand, nor matched between
//! lists; nothing that must match offline can stop someone holding both the
//! file and a guessed address from confirming the guess. Checking a list
//! stays O(1) per row: one SHA-256 per salt in the file (one, unless files
//! were merged by hand) and a hash-set look-up.

use crate::domain::EmailKey;
use sha2::{Digest, Sha256};

/// What starts a pseudonym in the `email` column.
pub const PREFIX: &str = "forgotten:";

/// The salt of a suppression file's pseudonyms: lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Salt(String);

impl Salt {
    /// A new random salt.
    pub fn random() -> Self {
        use ring::rand::SecureRandom;
        let mut bytes = [0u8; 16];
        ring::rand::SystemRandom::new().fill(&mut bytes).expect("the system's random source failed");
        Self(hex::encode(bytes))
    }

    /// The salt as written in a pseudonym.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digest of `key` under this salt, lower-case hex.
    pub fn digest(&self, key: &EmailKey) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.0.as_bytes());
        hasher.update(b":");
        hasher.update(key.as_str().as_bytes());
        hex::encode(hasher.finalize())
    }

    /// The pseudonym of `key` under this salt.
    pub fn pseudonym(&self, key: &EmailKey) -> String {
        format!("{PREFIX}{}:{}", self.0, self.digest(key))
    }
}

/// A pseudonym read back: its salt and digest; `None` when `text` is not
/// one.
pub fn parse(text: &str) -> Option<(Salt, String)> {
    let rest = text.trim().strip_prefix(PREFIX)?;
    let (salt, digest) = rest.split_once(':')?;
    let hex_of = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex_of(salt, 32) && hex_of(digest, 64))
        .then(|| (Salt(salt.to_ascii_lowercase()), digest.to_ascii_lowercase()))
}

/// Whether `cell`, an `email` cell, names `key`: the address itself
/// (without case) or its pseudonym.
pub fn names(cell: &str, key: &EmailKey) -> bool {
    if &EmailKey::of(cell) == key {
        return true;
    }
    parse(cell).is_some_and(|(salt, digest)| key.spellings().iter().any(|k| salt.digest(k) == digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pseudonym_names_its_address_in_any_case_and_no_other() {
        let salt = Salt::random();
        let key = EmailKey::of("Ana@Example.org");
        let pseudonym = salt.pseudonym(&key);
        assert!(pseudonym.starts_with("forgotten:"));
        assert!(!pseudonym.to_lowercase().contains("ana"));
        assert!(names(&pseudonym, &EmailKey::of("ana@example.ORG")));
        assert!(!names(&pseudonym, &EmailKey::of("bo@example.org")));
        assert_eq!(parse(&pseudonym).unwrap().0, salt);
    }

    #[test]
    fn two_salts_give_two_pseudonyms_of_one_address() {
        let key = EmailKey::of("ana@example.org");
        assert_ne!(Salt::random().pseudonym(&key), Salt::random().pseudonym(&key));
    }

    #[test]
    fn text_that_only_looks_like_a_pseudonym_is_not_one() {
        for text in ["forgotten:", "forgotten:abc:def", "ana@example.org", "forgotten:zz:zz"] {
            assert!(parse(text).is_none(), "{text}");
        }
    }
}
