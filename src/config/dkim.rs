//! The DKIM settings: `DKIM_DOMAIN`, `DKIM_SELECTOR` and `DKIM_PRIVATE_KEY`,
//! all three or none. The key file is read and checked here, once per run.

use std::sync::Arc;

use super::{ConfigError, Source, parse_with};
use crate::dkim::{Dkim, DnsName, PrivateKey};

/// The three settings, in the order they are named in messages.
pub const DKIM_KEYS: [&str; 3] = ["DKIM_DOMAIN", "DKIM_SELECTOR", "DKIM_PRIVATE_KEY"];

/// The signer the settings describe, or `None` when none of them is set.
pub(super) fn from_source(source: &Source) -> Result<Option<Arc<Dkim>>, ConfigError> {
    let (set, missing): (Vec<&'static str>, Vec<&'static str>) =
        DKIM_KEYS.iter().partition(|key| source.get(key).is_some());
    if set.is_empty() {
        return Ok(None);
    }
    if !missing.is_empty() {
        return Err(ConfigError::Incomplete { group: "DKIM signing", set, missing });
    }
    let domain = parse_with(source, "DKIM_DOMAIN", DnsName::domain)?.expect("set");
    let selector = parse_with(source, "DKIM_SELECTOR", DnsName::selector)?.expect("set");
    let (raw, origin) = source.get("DKIM_PRIVATE_KEY").expect("set");
    if looks_like_key_material(&raw) {
        return Err(ConfigError::NotShown {
            key: "DKIM_PRIVATE_KEY",
            origin,
            reason: "holds a key, not the path of a key file: put the key in a file and set \
                     DKIM_PRIVATE_KEY to that file's path"
                .into(),
        });
    }
    let path = source.path("DKIM_PRIVATE_KEY", &raw);
    let key = PrivateKey::load(&path).map_err(|e| ConfigError::Invalid {
        key: "DKIM_PRIVATE_KEY",
        value: raw.clone(),
        origin,
        reason: crate::domain::chain(&e),
    })?;
    Ok(Some(Arc::new(Dkim::new(domain, selector, key))))
}

/// A PEM block, or anything long or multi-line, is not a path: it must not
/// be echoed in an error.
fn looks_like_key_material(value: &str) -> bool {
    value.contains("-----") || value.contains('\n') || value.len() > 1024
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn no_dkim_setting_means_no_signing() {
        assert!(from_source(&Source::from_pairs([])).unwrap().is_none());
    }

    #[test]
    fn a_partial_set_names_what_is_missing() {
        let source = Source::from_pairs([("DKIM_DOMAIN", "hope.example.org")]);
        let err = from_source(&source).unwrap_err().to_string();
        assert_eq!(
            err,
            "DKIM signing needs DKIM_SELECTOR and DKIM_PRIVATE_KEY too (only DKIM_DOMAIN is set); \
             set them all or none"
        );
    }

    #[test]
    fn a_key_pasted_into_the_setting_is_refused_without_echoing_it() {
        let pasted = "-----BEGIN PRIVATE KEY-----MC4CAQAwBQYDK2VwBCIEIPasted-----END PRIVATE KEY-----";
        let source = Source::from_pairs([
            ("DKIM_DOMAIN", "hope.example.org"),
            ("DKIM_SELECTOR", "sel"),
            ("DKIM_PRIVATE_KEY", pasted),
        ]);
        let err = from_source(&source).unwrap_err().to_string();
        assert!(err.contains("DKIM_PRIVATE_KEY") && err.contains("not the path"), "{err}");
        assert!(!err.contains("MC4CAQAw"), "{err}");
    }

    #[test]
    fn a_missing_key_file_names_the_setting_the_file_and_why() {
        let source = Source::from_pairs([
            ("DKIM_DOMAIN", "hope.example.org"),
            ("DKIM_SELECTOR", "sel"),
            ("DKIM_PRIVATE_KEY", "/nonexistent/dkim.pem"),
        ]);
        let err = from_source(&source).unwrap_err().to_string();
        assert!(err.starts_with("setting DKIM_PRIVATE_KEY = \"/nonexistent/dkim.pem\""), "{err}");
        assert!(err.contains("cannot read /nonexistent/dkim.pem"), "{err}");
        let why = std::fs::read("/nonexistent/dkim.pem").unwrap_err().to_string();
        assert!(err.contains(&format!("/nonexistent/dkim.pem: {why}")), "{err}");
    }

    #[test]
    fn a_bad_domain_or_selector_is_named() {
        let source = Source::from_pairs([
            ("DKIM_DOMAIN", "hope example"),
            ("DKIM_SELECTOR", "sel"),
            ("DKIM_PRIVATE_KEY", "dkim.pem"),
        ]);
        assert!(from_source(&source).unwrap_err().to_string().contains("DKIM_DOMAIN"));
        let source = Source::from_pairs([
            ("DKIM_DOMAIN", "hope.example.org"),
            ("DKIM_SELECTOR", "my_selector"),
            ("DKIM_PRIVATE_KEY", "dkim.pem"),
        ]);
        assert!(from_source(&source).unwrap_err().to_string().contains("DKIM_SELECTOR"));
    }

    #[test]
    fn a_relative_key_path_in_a_settings_file_is_taken_from_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path().join("conf/.env");
        std::fs::create_dir_all(env.parent().unwrap()).unwrap();
        std::fs::write(&env, "DKIM_PRIVATE_KEY=keys/dkim.pem\n").unwrap();
        let mut source = Source::load(&env, true).unwrap();
        source.env.clear();
        assert_eq!(source.path("DKIM_PRIVATE_KEY", "keys/dkim.pem"), dir.path().join("conf/keys/dkim.pem"));
        assert_eq!(source.path("DKIM_PRIVATE_KEY", "/abs/dkim.pem"), Path::new("/abs/dkim.pem"));
        source.env.insert("DKIM_PRIVATE_KEY".into(), "keys/dkim.pem".into());
        assert_eq!(source.path("DKIM_PRIVATE_KEY", "keys/dkim.pem"), Path::new("keys/dkim.pem"));
    }
}
