//! The suppression list: addresses never to mail, whatever the subscriber
//! list says (people who asked by reply, hard bounces, complaints).

use std::collections::HashSet;
use std::path::Path;

use super::{EmailAddress, EmailKey, LineCount, Row, Skip, SkipReason, SubscriberReader, SubscribersError};

/// A set of addresses, compared without case.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    set: HashSet<EmailKey>,
    /// Every line of the file it was read from.
    lines: Option<LineCount>,
}

impl Suppressions {
    /// Reads a CSV file with an `email` column. Rows that hold no valid
    /// address are returned so the caller can report them; they suppress
    /// nothing.
    pub fn load(path: &Path) -> Result<(Self, Vec<Skip>), SubscribersError> {
        let mut set = HashSet::new();
        let mut problems = Vec::new();
        let mut rows = SubscriberReader::open(path, super::Audience::default())?;
        for row in rows.by_ref() {
            match row? {
                Row::Subscribed(s) => {
                    set.insert(s.email().key().clone());
                }
                // The file's own status column, if any, does not matter here.
                Row::Skipped(Skip {
                    email: Some(email),
                    reason:
                        SkipReason::Unsubscribed | SkipReason::Invalid(super::RowProblem::UnknownStatus(_)),
                    ..
                }) => {
                    set.insert(EmailKey::of(&email));
                }
                Row::Skipped(skip)
                    if skip.reason.is_problem() && !matches!(skip.reason, SkipReason::Duplicate { .. }) =>
                {
                    problems.push(skip);
                }
                Row::Skipped(_) => {}
            }
        }
        Ok((Self { set, lines: rows.lines() }, problems))
    }

    /// Every line of the file it was read from; `None` when there was none.
    pub fn lines(&self) -> Option<LineCount> {
        self.lines
    }

    /// Reads `path` if it exists; a missing file is an empty list.
    pub fn load_optional(path: &Path) -> Result<(Self, Vec<Skip>), SubscribersError> {
        if path.exists() { Self::load(path) } else { Ok(Self::default()).map(|s| (s, Vec::new())) }
    }

    pub fn contains(&self, email: &EmailAddress) -> bool {
        self.set.contains(email.key())
    }

    /// Whether the address whose key is `key` is on the list.
    pub fn contains_key(&self, key: &EmailKey) -> bool {
        self.set.contains(key)
    }

    /// Adds every address of `other`.
    pub fn extend(&mut self, other: Self) {
        self.set.extend(other.set);
        self.lines = other.lines.or(self.lines);
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

impl<S: AsRef<str>> FromIterator<S> for Suppressions {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self { set: iter.into_iter().map(|s| EmailKey::of(s.as_ref())).collect(), lines: None }
    }
}
