//! Who already received a bulletin under another campaign's name: the same
//! text (its [`Fingerprint`]) at any time, or a bulletin with the same
//! subject lately. Asked once per run, before anything is sent.

use std::collections::HashMap;

use rusqlite::params;

use super::{Journal, JournalError, time_at};
use crate::domain::{EmailKey, Fingerprint, Timestamp};

/// Where and when a recipient already received a bulletin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The campaign they received it as.
    pub campaign: String,
    /// When: the relay took it, or (left uncertain by a run that stopped)
    /// it was handed over.
    pub at: Timestamp,
}

impl Received {
    /// The day of [`Received::at`], `2025-10-16` (UTC).
    pub fn day(&self) -> String {
        let at = self.at.to_string();
        at.split_once('T').map_or(at.clone(), |(day, _)| day.to_owned())
    }
}

/// The recipients who already received this bulletin in another campaign,
/// each with the first time they did.
#[derive(Debug, Default)]
pub struct Elsewhere(HashMap<EmailKey, Received>);

impl Elsewhere {
    /// Where and when the recipient whose key is `key` received it, if they did.
    pub fn get(&self, key: &EmailKey) -> Option<&Received> {
        self.0.get(key)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Journal {
    /// Everyone who, in a campaign other than this one, was sent a message
    /// (or was being sent one when a run stopped: it may have arrived) that
    /// had `fingerprint`, at any time, or that belonged to a campaign whose
    /// subject is `subject`, at `since` or later. One query for the whole
    /// list: the campaigns with that subject, then their rows; the rows with
    /// that fingerprint by its index.
    pub fn received_elsewhere(
        &self,
        fingerprint: Fingerprint,
        subject: &str,
        since: Timestamp,
    ) -> Result<Elsewhere, JournalError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT email_key, campaign, updated_at FROM recipients
                 WHERE fingerprint = ?2 AND campaign <> ?1 AND state IN ('sent', 'sending')
                 UNION ALL
                 SELECT r.email_key, r.campaign, r.updated_at FROM campaigns c JOIN recipients r ON r.campaign = c.id
                 WHERE c.subject = ?3 AND c.id <> ?1 AND r.state IN ('sent', 'sending') AND r.updated_at >= ?4
                 ORDER BY 3, 2",
            )
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![self.campaign, fingerprint.to_string(), subject, since.to_string()], |row| {
                Ok((EmailKey::stored(row.get(0)?), Received { campaign: row.get(1)?, at: time_at(row, 2)? }))
            })
            .map_err(|e| self.fail(e))?;
        let mut found = HashMap::new();
        for row in rows {
            let (key, received) = row.map_err(|e| self.fail(e))?;
            // Oldest first: the first time is the one kept.
            found.entry(key).or_insert(received);
        }
        Ok(Elsewhere(found))
    }
}
