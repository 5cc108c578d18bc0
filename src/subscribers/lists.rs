//! Where a command's lists are: the subscriber CSV and the suppression CSV
//! beside it (or wherever `--suppressed` says). Reading the suppression list
//! here keeps the rule "a missing default file is an empty list" in one
//! place; changing it is [`super::SuppressionFile`]'s.

use std::path::{Path, PathBuf};

use super::{Skip, SkipReason, SubscribersError, Suppressions};

/// The lists a command reads.
#[derive(Debug, Clone)]
pub struct Lists {
    /// The subscriber CSV.
    pub subscribers: PathBuf,
    /// The suppression CSV; `None` means `suppressed.csv` beside the
    /// subscriber list, if it exists.
    pub suppressed: Option<PathBuf>,
}

impl Lists {
    /// The suppression list's path, and whether it was named (and so must
    /// exist).
    pub fn suppression_path(&self) -> (PathBuf, bool) {
        match &self.suppressed {
            Some(path) => (path.clone(), true),
            None => {
                let dir = self.subscribers.parent().unwrap_or(Path::new(""));
                (dir.join("suppressed.csv"), false)
            }
        }
    }

    /// Reads the suppression list (a missing default file is an empty
    /// list), with one line for each row it cannot use.
    pub fn read_suppressions(&self) -> Result<(Suppressions, Vec<String>), SubscribersError> {
        let (path, required) = self.suppression_path();
        let (suppressed, problems) =
            if required { Suppressions::load(&path)? } else { Suppressions::load_optional(&path)? };
        let name = path.display().to_string();
        let problems = problems
            .iter()
            .map(|skip| format!("{} (this row suppresses nothing)", skip.located(&name)))
            .collect();
        Ok((suppressed, problems))
    }
}

impl Skip {
    /// `list:line: reason`; for a duplicate, with the address and what to
    /// do: `list:17: duplicate of line 3 (a@example.org): delete line 17`.
    pub fn located(&self, list: &str) -> String {
        let line = self.line;
        let list = self.file.as_deref().map_or_else(|| list.to_owned(), |f| f.display().to_string());
        match (&self.reason, &self.email) {
            (SkipReason::Duplicate { .. }, Some(email)) => {
                format!("{list}:{line}: {} ({email}): delete line {line}", self.reason)
            }
            _ => format!("{list}:{line}: {}", self.reason),
        }
    }
}
