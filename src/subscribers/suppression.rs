//! The suppression list: addresses never to mail, whatever the subscriber
//! list says (people who asked by reply, hard bounces, complaints), and
//! the pseudonyms of people who asked to be forgotten (see
//! [`super::pseudonym`]).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::pseudonym::{self, Salt};
use super::{
    EmailAddress, EmailKey, LineCount, Row, RowProblem, Skip, SkipReason, SubscriberReader, SubscribersError,
};

/// A set of addresses, compared without case.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    set: HashSet<EmailKey>,
    /// Forgotten addresses' digests, by salt.
    forgotten: HashMap<Salt, HashSet<String>>,
    /// Every line of the file it was read from.
    lines: Option<LineCount>,
}

impl Suppressions {
    /// Reads a CSV file with an `email` column. Rows that hold no valid
    /// address are returned so the caller can report them; they suppress
    /// nothing.
    pub fn load(path: &Path) -> Result<(Self, Vec<Skip>), SubscribersError> {
        let mut set = HashSet::new();
        let mut forgotten: HashMap<Salt, HashSet<String>> = HashMap::new();
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
                Row::Skipped(Skip {
                    reason: SkipReason::Invalid(RowProblem::InvalidEmail { value, .. }),
                    ..
                }) if pseudonym::parse(&value).is_some() => {
                    let (salt, digest) = pseudonym::parse(&value).expect("just parsed");
                    forgotten.entry(salt).or_default().insert(digest);
                }
                Row::Skipped(skip) if skip.reason.is_problem() && !skip.reason.is_duplicate() => {
                    problems.push(skip);
                }
                Row::Skipped(_) => {}
            }
        }
        Ok((Self { set, forgotten, lines: rows.lines() }, problems))
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
        self.contains_key(email.key())
    }

    /// Whether the address whose key is `key` is on the list, as itself or
    /// as a forgotten address's pseudonym.
    pub fn contains_key(&self, key: &EmailKey) -> bool {
        self.set.contains(key)
            || self.forgotten.iter().any(|(salt, digests)| digests.contains(&salt.digest(key)))
    }

    /// Adds every address of `other`.
    pub fn extend(&mut self, other: Self) {
        self.set.extend(other.set);
        for (salt, digests) in other.forgotten {
            self.forgotten.entry(salt).or_default().extend(digests);
        }
        self.lines = other.lines.or(self.lines);
    }

    /// How many entries: addresses and pseudonyms.
    pub fn len(&self) -> usize {
        self.set.len() + self.forgotten.values().map(HashSet::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<S: AsRef<str>> FromIterator<S> for Suppressions {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self {
            set: iter.into_iter().map(|s| EmailKey::of(s.as_ref())).collect(),
            forgotten: HashMap::new(),
            lines: None,
        }
    }
}
