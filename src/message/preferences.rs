//! Preference tokens: the per-recipient token of the footer's link to the
//! preference page, sealed by [`super::token`] for its own purpose with
//! the time the message was made. Like an unsubscribe link, it does not
//! expire; the issue time lets the server refuse a link made before the
//! reader was erased (`bulletin forget`).

use std::time::SystemTime;

use super::token::{Purpose, Sealer, with_token};
use crate::config::{HttpsUrl, Settings};
use crate::subscribers::EmailAddress;

/// Signs and checks preference tokens for one list.
#[derive(Debug, Clone)]
pub struct PreferencesSigner(Sealer);

/// What a genuine preference token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreferencesLink {
    pub email: EmailAddress,
    /// When the link was made; `None` for a link of the earlier layout.
    pub issued: Option<SystemTime>,
}

impl PreferencesSigner {
    /// The signer the settings call for, falling back to the development key
    /// as the unsubscribe links do.
    pub fn from_settings(settings: &Settings) -> Self {
        Self(Sealer::from_settings(settings))
    }

    /// The token for `email`, issued at `issued`.
    pub fn token(&self, email: &EmailAddress, issued: SystemTime) -> String {
        self.0.seal(Purpose::Preferences, issued, &[email.key().as_str()])
    }

    /// The reader a genuine token names, and when it was issued.
    pub fn verify(&self, token: &str) -> Option<PreferencesLink> {
        let opened = self.0.open(Purpose::Preferences, token, 1)?;
        let email = EmailAddress::parse(&opened.fields[0]).ok()?;
        Some(PreferencesLink { email, issued: opened.issued })
    }

    /// `base` with the reader's token, issued at `issued`, as its `t`
    /// parameter.
    pub fn url(&self, base: &HttpsUrl, email: &EmailAddress, issued: SystemTime) -> String {
        with_token(base, &self.token(email, issued))
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
        let issued = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let link = s.verify(&s.token(&ana, issued)).unwrap();
        assert_eq!((link.email.to_string(), link.issued), ("ana@example.org".to_owned(), Some(issued)));
        assert_eq!(s.verify(&Signer::from_settings(&settings()).token(&ana)), None);
        assert_eq!(s.verify("x.y"), None);
    }
}
