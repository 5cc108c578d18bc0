//! The consent ledger read into memory: each address's events, in file
//! order, by who they are about (the address, or the pseudonym an erasure
//! left; see [`super::pseudonym`]). Built by the readers of the suppression
//! list ([`super::Suppressions`]) and by its writer under the lock
//! ([`super::SuppressionFile`]), so both apply [`consent::standing`] to the
//! same events.

use std::collections::HashMap;

use super::consent::{self, Event, Standing};
use super::pseudonym::{self, Salt};
use crate::domain::EmailKey;

/// Whom a row is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// An address, by its key.
    Key(EmailKey),
    /// An erased address: its salt and digest.
    Pseudonym(Salt, String),
}

/// Every address's events.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    by_key: HashMap<EmailKey, Vec<Event>>,
    by_pseudonym: HashMap<Salt, HashMap<String, Vec<Event>>>,
}

impl Ledger {
    /// Adds the event of a row whose `email` cell is `cell`: an address's
    /// key or a pseudonym. Returns the identity it was filed under.
    pub fn push(&mut self, cell: &str, event: Event) -> Identity {
        let identity = match pseudonym::parse(cell) {
            Some((salt, digest)) => Identity::Pseudonym(salt, digest),
            None => Identity::Key(EmailKey::of(cell)),
        };
        self.push_for(&identity, event);
        identity
    }

    /// Adds `event` to `identity`'s.
    pub fn push_for(&mut self, identity: &Identity, event: Event) {
        match identity {
            Identity::Key(key) => self.by_key.entry(key.clone()).or_default().push(event),
            Identity::Pseudonym(salt, digest) => self
                .by_pseudonym
                .entry(salt.clone())
                .or_default()
                .entry(digest.clone())
                .or_default()
                .push(event),
        }
    }

    /// Whom rows about `key` are filed under: its pseudonym once it was
    /// erased (so nothing written later names the address again), else
    /// the address.
    pub fn identity_of(&self, key: &EmailKey) -> Identity {
        for (salt, digests) in &self.by_pseudonym {
            for key in key.spellings() {
                let digest = salt.digest(&key);
                if digests.contains_key(&digest) {
                    return Identity::Pseudonym(salt.clone(), digest);
                }
            }
        }
        Identity::Key(key.clone())
    }

    /// The events about `identity`, in file order.
    pub fn events(&self, identity: &Identity) -> &[Event] {
        let found = match identity {
            Identity::Key(key) => self.by_key.get(key),
            Identity::Pseudonym(salt, digest) => self.by_pseudonym.get(salt).and_then(|d| d.get(digest)),
        };
        found.map_or(&[], Vec::as_slice)
    }

    /// Whether `key` may be mailed now ([`consent::standing`]).
    pub fn standing_of(&self, key: &EmailKey) -> Standing {
        consent::standing(self.events(&self.identity_of(key)))
    }

    /// The blocked addresses, and the blocked pseudonyms by salt.
    pub fn blocked(
        self,
    ) -> (std::collections::HashSet<EmailKey>, HashMap<Salt, std::collections::HashSet<String>>) {
        let keys = self
            .by_key
            .into_iter()
            .filter(|(_, events)| consent::standing(events).is_blocked())
            .map(|(key, _)| key)
            .collect();
        let pseudonyms = self
            .by_pseudonym
            .into_iter()
            .map(|(salt, digests)| {
                let blocked = digests
                    .into_iter()
                    .filter(|(_, events)| consent::standing(events).is_blocked())
                    .map(|(digest, _)| digest)
                    .collect();
                (salt, blocked)
            })
            .collect();
        (keys, pseudonyms)
    }
}

impl Identity {
    /// What a row about this identity writes in its `email` column: the
    /// pseudonym, or `address` as given.
    pub fn cell(&self, address: &str) -> String {
        match self {
            Self::Key(_) => address.to_owned(),
            Self::Pseudonym(salt, digest) => format!("{}{}:{digest}", pseudonym::PREFIX, salt.as_str()),
        }
    }

    pub fn is_pseudonym(&self) -> bool {
        matches!(self, Self::Pseudonym(..))
    }
}
