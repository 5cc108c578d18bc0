//! The consent ledger read: each address's events in memory, in file
//! order, by who they are about (the address, or the pseudonym an erasure
//! left; see [`super::pseudonym`]). Built by the readers of the suppression
//! list ([`super::Suppressions`]) and by the ledger's writes
//! ([`super::SuppressionFile`], in `ledger_file.rs`), so both apply
//! [`consent::standing`] to the same events.

use std::collections::HashMap;
use std::path::Path;

use super::consent::{self, Event, Standing};
use super::pseudonym::{self, Salt};
use super::{EmailAddress, LineCount, RowProblem, Skip, SkipReason, SubscriberReader, SubscribersError};
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

    /// The blocked addresses, the blocked pseudonyms by salt, and when the
    /// latest pause of each other address ends (rule 6).
    pub fn standings(self) -> Standings {
        let mut standings = Standings::default();
        for (key, events) in self.by_key {
            if consent::standing(&events).is_blocked() {
                standings.blocked.insert(key);
            } else if let Some(until) = consent::paused_until(&events) {
                standings.paused.insert(key, until);
            }
        }
        for (salt, digests) in self.by_pseudonym {
            let blocked = digests
                .into_iter()
                .filter(|(_, events)| consent::standing(events).is_blocked())
                .map(|(digest, _)| digest)
                .collect();
            standings.forgotten.insert(salt, blocked);
        }
        standings
    }
}

/// What the ledger says of every address at one moment.
#[derive(Debug, Default)]
pub struct Standings {
    pub blocked: std::collections::HashSet<EmailKey>,
    pub forgotten: HashMap<Salt, std::collections::HashSet<String>>,
    pub paused: HashMap<EmailKey, std::time::SystemTime>,
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

/// The ledger rows under `header` hold.
pub(super) fn ledger_of_rows(
    header: &csv::StringRecord,
    email: Option<usize>,
    records: &[csv::StringRecord],
) -> Ledger {
    let mut ledger = Ledger::default();
    let Some(email) = email else { return ledger };
    let column = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let (reason, date, issued, until) = (column("reason"), column("date"), column("issued"), column("until"));
    for record in records {
        let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or_default();
        let address = cell(Some(email)).trim();
        if address.is_empty() {
            continue;
        }
        ledger.push(address, consent::Event::read(cell(reason), cell(date), cell(issued), cell(until)));
    }
    ledger
}

/// The ledger at `path` read whole: every address's events in file order,
/// the rows that name no address (as problems), and the file's lines.
///
/// A file with no header yet holds no events: that is how a reader without
/// the lock (a send, the sign-up's first look) finds the ledger in the
/// moment between its first writer creating it and writing its first line.
pub(crate) fn read_ledger(path: &Path) -> Result<(Ledger, Vec<Skip>, Option<LineCount>), SubscribersError> {
    let mut ledger = Ledger::default();
    let mut problems = Vec::new();
    let read = SubscriberReader::each_row(path, |columns, line, cells| {
        let cell = |name: &str| columns.cell(&cells, name);
        let email = cells.get(columns.email).map_or("", String::as_str);
        let event = Event::read(cell("reason"), cell("date"), cell("issued"), cell("until"));
        if pseudonym::parse(email).is_some() {
            ledger.push(email, event);
            return;
        }
        match EmailAddress::parse(email) {
            Ok(address) => {
                ledger.push_for(&Identity::Key(address.key().clone()), event);
            }
            Err(_) if email.is_empty() => problems.push(Skip {
                file: None,
                line,
                email: None,
                reason: SkipReason::Invalid(RowProblem::MissingEmail),
            }),
            Err(problem) => problems.push(Skip {
                file: None,
                line,
                email: Some(email.to_owned()),
                reason: SkipReason::Invalid(RowProblem::InvalidEmail { value: email.to_owned(), problem }),
            }),
        }
    });
    let lines = match read {
        Err(SubscribersError::Empty { .. }) => None,
        other => other?,
    };
    Ok((ledger, problems, lines))
}
