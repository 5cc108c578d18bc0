//! The suppression list: addresses never to mail, whatever the subscriber
//! list says (people who asked by reply, hard bounces, complaints).

use std::collections::HashSet;
use std::path::Path;

use super::{EmailAddress, EmailKey, Row, Skip, SkipReason, SubscriberReader, SubscribersError};

/// A set of addresses, compared without case.
#[derive(Debug, Clone, Default)]
pub struct Suppressions(HashSet<EmailKey>);

impl Suppressions {
    /// Reads a CSV file with an `email` column. Rows that hold no valid
    /// address are returned so the caller can report them; they suppress
    /// nothing.
    pub fn load(path: &Path) -> Result<(Self, Vec<Skip>), SubscribersError> {
        let mut set = HashSet::new();
        let mut problems = Vec::new();
        for row in SubscriberReader::open(path, super::Audience::default())? {
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
        Ok((Self(set), problems))
    }

    /// Reads `path` if it exists; a missing file is an empty list.
    pub fn load_optional(path: &Path) -> Result<(Self, Vec<Skip>), SubscribersError> {
        if path.exists() { Self::load(path) } else { Ok(Self::default()).map(|s| (s, Vec::new())) }
    }

    pub fn contains(&self, email: &EmailAddress) -> bool {
        self.0.contains(email.key())
    }

    /// Whether the address whose key is `key` is on the list.
    pub fn contains_key(&self, key: &EmailKey) -> bool {
        self.0.contains(key)
    }

    /// Adds every address of `other`.
    pub fn extend(&mut self, other: Self) {
        self.0.extend(other.0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<S: AsRef<str>> FromIterator<S> for Suppressions {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self(iter.into_iter().map(|s| EmailKey::of(s.as_ref())).collect())
    }
}
