//! Where setting values come from: the settings file (`.env`) overlaid by
//! the process environment, and the one way a value is parsed and its
//! mistake named with where it came from.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::ConfigError;

/// Where setting values come from: the `.env` file overlaid by the
/// environment.
#[derive(Debug, Default, Clone)]
pub struct Source {
    file: HashMap<String, String>,
    file_name: Option<String>,
    /// The settings file's folder, which relative paths in it start from.
    file_dir: Option<PathBuf>,
    pub(super) env: HashMap<String, String>,
}

impl Source {
    /// Reads `env_file` (if it exists, or fails if `required`) and the
    /// process environment.
    pub fn load(env_file: &Path, required: bool) -> Result<Self, ConfigError> {
        let mut source = Self { env: std::env::vars().collect(), ..Self::default() };
        if env_file.exists() || required {
            let read_error =
                |e| ConfigError::Read { path: env_file.to_owned(), reason: describe_env_error(env_file, e) };
            for item in dotenvy::from_path_iter(env_file).map_err(read_error)? {
                let (key, value) = item.map_err(read_error)?;
                source.file.insert(key, value);
            }
            source.file_name = Some(env_file.display().to_string());
            source.file_dir = env_file.parent().map(Path::to_owned);
        }
        Ok(source)
    }

    /// A source from fixed values, as if they were in the environment.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            env: pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
            ..Self::default()
        }
    }

    /// The value of `key`, trimmed, with where it came from; empty counts as unset.
    pub fn get(&self, key: &str) -> Option<(String, String)> {
        let from_env = self.env.get(key).map(|v| (v, "the environment".to_owned()));
        let from_file = || self.file.get(key).map(|v| (v, self.file_name.clone().unwrap_or_default()));
        from_env
            .or_else(from_file)
            // U+E000..U+E003 mark merge-field slots inside rendering; a value
            // never carries them in.
            .map(|(v, origin)| {
                (v.trim().replace(['\u{E000}', '\u{E001}', '\u{E002}', '\u{E003}'], ""), origin)
            })
            .filter(|(v, _)| !v.is_empty())
    }

    /// True when a settings file was found.
    pub fn has_file(&self) -> bool {
        self.file_name.is_some()
    }

    /// The path `raw`, the value of `key`: a relative path is taken from
    /// the folder of the settings file that sets it, or from the current
    /// folder when it comes from the environment.
    pub(crate) fn path(&self, key: &str, raw: &str) -> PathBuf {
        let path = Path::new(raw);
        let from_file = !self.env.contains_key(key);
        match (&self.file_dir, from_file) {
            (Some(dir), true) if path.is_relative() => dir.join(path),
            _ => path.to_owned(),
        }
    }
}

/// Says what is wrong with a settings file without repeating its text.
fn describe_env_error(path: &Path, error: dotenvy::Error) -> String {
    match error {
        dotenvy::Error::LineParse(content, _) => {
            let line = std::fs::read_to_string(path)
                .ok()
                .and_then(|text| text.find(&content).map(|at| text[..at].matches('\n').count() + 1));
            let place = line.map_or_else(|| "a line".to_owned(), |n| format!("line {n}"));
            format!(
                "{place} is not KEY=value (put quotes around a value with spaces, and close every quote); \
                 its text is not shown in case it holds a secret"
            )
        }
        dotenvy::Error::Io(e) => e.to_string(),
        other => {
            other.to_string().chars().take_while(|c| *c != '\'').collect::<String>().trim_end().to_owned()
        }
    }
}

pub(crate) fn parse_with<T, E: fmt::Display>(
    source: &Source,
    key: &'static str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, ConfigError> {
    let Some((value, origin)) = source.get(key) else {
        return Ok(None);
    };
    parse(&value).map(Some).map_err(|reason| ConfigError::Invalid {
        key,
        value,
        origin,
        reason: reason.to_string(),
    })
}
