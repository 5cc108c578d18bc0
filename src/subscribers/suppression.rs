//! The suppression list: addresses never to mail, whatever the subscriber
//! list says (people who asked by reply, hard bounces, complaints), and
//! the pseudonyms of people who asked to be forgotten (see
//! [`super::pseudonym`]).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::ledger::{Ledger, read_ledger};
use super::pseudonym::Salt;
use super::{EmailAddress, EmailKey, LineCount, Skip, SubscribersError};

/// A set of addresses, compared without case.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    set: HashSet<EmailKey>,
    /// Forgotten addresses' digests, by salt.
    forgotten: HashMap<Salt, HashSet<String>>,
    /// When the latest pause of an address not blocked ends.
    paused: HashMap<EmailKey, std::time::SystemTime>,
    /// Every line of the file it was read from.
    lines: Option<LineCount>,
}

impl Suppressions {
    /// Reads the consent ledger, a CSV file with an `email` column (and
    /// `reason`, `date` and `issued` where it has them), and keeps the
    /// addresses [`super::consent::standing`] blocks. Rows that hold no
    /// valid address are returned so the caller can report them; they
    /// suppress nothing.
    pub fn load(path: &Path) -> Result<(Self, Vec<Skip>), SubscribersError> {
        let (ledger, problems, lines) = read_ledger(path)?;
        Ok((Self::of_ledger(ledger, lines), problems))
    }

    /// Whom `ledger` blocks and pauses now, read from a file of `lines`.
    pub(super) fn of_ledger(ledger: Ledger, lines: Option<LineCount>) -> Self {
        let standings = ledger.standings();
        let (set, forgotten, paused) = (standings.blocked, standings.forgotten, standings.paused);
        Self { set, forgotten, paused, lines }
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
            || self.forgotten.iter().any(|(salt, digests)| {
                digests.contains(&salt.digest(key))
                    || key.unicode_spelling().is_some_and(|k| digests.contains(&salt.digest(&k)))
            })
    }

    /// When `key`'s latest pause ends, if it paused (over or not).
    pub fn paused_until(&self, key: &EmailKey) -> Option<std::time::SystemTime> {
        self.paused.get(key).copied()
    }

    /// Adds every address of `other`.
    pub fn extend(&mut self, other: Self) {
        self.set.extend(other.set);
        self.paused.extend(other.paused);
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
            paused: HashMap::new(),
            lines: None,
        }
    }
}
