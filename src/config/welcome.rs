//! What happens to a confirmed sign-up: `SIGNUPS` (whether it joins the
//! next send by itself or waits for `bulletin signups merge`) and
//! `WELCOME_BULLETIN` (the bulletin `bulletin serve` sends it once).

use std::path::{Path, PathBuf};

use super::{ConfigError, Source, parse_with};

/// Where the welcome bulletin is looked for when `WELCOME_BULLETIN` is
/// unset: `content/welcome.md`, from the settings file's folder.
pub const DEFAULT_WELCOME: &str = "content/welcome.md";

/// `SIGNUPS`: what a confirmed sign-up (a row of `signups.csv`) is until
/// staff merge it into the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Signups {
    /// `auto` (the default): on the list for the next send.
    #[default]
    Auto,
    /// `manual`: left out of every send until `bulletin signups merge`.
    Manual,
}

impl Signups {
    pub fn from_source(source: &Source) -> Result<Self, ConfigError> {
        let mode = parse_with(source, "SIGNUPS", |raw| match raw.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "manual" => Ok(Self::Manual),
            _ => Err("must be `auto` (confirmed sign-ups join the next send) or `manual` (they wait for \
                      `bulletin signups merge`)"),
        })?;
        Ok(mode.unwrap_or_default())
    }
}

/// `WELCOME_BULLETIN`: the bulletin each newly confirmed reader gets once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Welcome {
    /// `off`, or unset with no `content/welcome.md`.
    Off,
    /// This bulletin; `configured` when `WELCOME_BULLETIN` named it (then a
    /// missing file is an error, not "off").
    Bulletin { path: PathBuf, configured: bool },
}

impl Welcome {
    pub fn from_source(source: &Source) -> Result<Self, ConfigError> {
        let named = parse_with(source, "WELCOME_BULLETIN", |raw| {
            if raw.trim().eq_ignore_ascii_case("off") {
                return Ok(None);
            }
            let path = source.path("WELCOME_BULLETIN", raw.trim());
            if path.is_file() {
                Ok(Some(path))
            } else {
                Err(format!("no such file {} (a bulletin's path, or `off`)", path.display()))
            }
        })?;
        Ok(match named {
            Some(Some(path)) => Self::Bulletin { path, configured: true },
            Some(None) => Self::Off,
            None => {
                let path = source.path("WELCOME_BULLETIN", DEFAULT_WELCOME);
                if path.is_file() { Self::Bulletin { path, configured: false } } else { Self::Off }
            }
        })
    }

    /// The welcome bulletin's path, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Off => None,
            Self::Bulletin { path, .. } => Some(path),
        }
    }

    /// Whether `bulletin` is this welcome bulletin (the same file).
    pub fn is(&self, bulletin: &Path) -> bool {
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        };
        self.path().is_some_and(|path| same(path, bulletin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signups_are_auto_unless_set_manual_and_anything_else_is_refused_naming_the_setting() {
        let read = |pairs: &[(&str, &str)]| Signups::from_source(&Source::from_pairs(pairs.iter().copied()));
        assert_eq!(read(&[]).unwrap(), Signups::Auto);
        assert_eq!(read(&[("SIGNUPS", "Manual")]).unwrap(), Signups::Manual);
        assert_eq!(read(&[("SIGNUPS", "auto")]).unwrap(), Signups::Auto);
        let error = read(&[("SIGNUPS", "sometimes")]).unwrap_err().to_string();
        assert!(error.contains("SIGNUPS") && error.contains("manual"), "{error}");
    }

    #[test]
    fn the_welcome_is_a_named_file_off_or_a_missing_named_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hello.md");
        std::fs::write(&file, "x").unwrap();
        let read = |value: &str| Welcome::from_source(&Source::from_pairs([("WELCOME_BULLETIN", value)]));
        let named = read(file.to_str().unwrap()).unwrap();
        assert_eq!(named, Welcome::Bulletin { path: file.clone(), configured: true });
        assert!(named.is(&file) && !named.is(&dir.path().join("other.md")));
        assert_eq!(read("OFF").unwrap(), Welcome::Off);
        let missing = read("/no/such/welcome.md").unwrap_err().to_string();
        assert!(missing.contains("WELCOME_BULLETIN") && missing.contains("no such file"), "{missing}");
    }
}
