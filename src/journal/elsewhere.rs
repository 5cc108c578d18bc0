//! Who already received a bulletin under another campaign's name: the same
//! text (its [`Fingerprint`]) at any time, or a near copy of it (its
//! [`Shingles`] nearly all shared: a corrected version) lately. The subject
//! alone never counts: a newsletter may keep one subject every week. Asked
//! once per run, before anything is sent, and again once the run holds its
//! locks.

use std::collections::HashMap;
use std::time::Duration;

use rusqlite::params;

use super::{Journal, JournalError, time_at};
use crate::domain::{EmailKey, Fingerprint, Shingles, Timestamp};

/// For how long a near copy (a corrected version) of a bulletin counts as
/// the bulletin itself: 30 days. The same text counts at any time.
pub const NEAR_COPY_DAYS: u64 = 30;

/// What a campaign sends, as the journal compares it with other campaigns.
#[derive(Debug, Clone, Copy)]
pub struct Text<'a> {
    pub fingerprint: Fingerprint,
    pub shingles: &'a Shingles,
}

/// Where and when a recipient already received a bulletin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The campaign they received it as.
    pub campaign: String,
    /// When: the relay took it, or (left uncertain by a run that stopped)
    /// it was handed over.
    pub at: Timestamp,
    /// They received a near copy (a corrected version), not the same text.
    pub near_copy: bool,
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
    /// Records `text` as what this campaign's latest run sends: its
    /// shingles under its fingerprint, and the fingerprint on the
    /// campaign's row (made by [`Journal::started`]).
    pub(super) fn record_text(&self, text: Text<'_>) -> Result<(), JournalError> {
        let fingerprint = text.fingerprint.to_string();
        self.conn
            .execute(
                "INSERT INTO texts (fingerprint, shingles) VALUES (?1, ?2) ON CONFLICT (fingerprint) DO NOTHING",
                params![fingerprint, text.shingles.to_bytes()],
            )
            .and_then(|_| {
                self.conn.execute(
                    "UPDATE campaigns SET fingerprint = ?2 WHERE id = ?1",
                    params![self.campaign, fingerprint],
                )
            })
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// The texts the journal knows, other than `text` itself, that are near
    /// copies of it.
    fn near_copies(&self, text: Text<'_>) -> Result<Vec<String>, JournalError> {
        let mut stmt = self
            .conn
            .prepare("SELECT fingerprint, shingles FROM texts WHERE fingerprint <> ?1")
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![text.fingerprint.to_string()], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .map_err(|e| self.fail(e))?;
        let mut near = Vec::new();
        for row in rows {
            let (fingerprint, bytes) = row.map_err(|e| self.fail(e))?;
            if Shingles::from_bytes(&bytes).is_some_and(|other| text.shingles.is_near_copy_of(&other)) {
                near.push(fingerprint);
            }
        }
        Ok(near)
    }

    /// Everyone who, in a campaign other than this one, was sent a message
    /// (or was being sent one when a run stopped: it may have arrived) with
    /// the same text as `text` at any time, or with a near copy of it at
    /// `now` less [`NEAR_COPY_DAYS`] or later. One query for the same text,
    /// by the fingerprint index, and one for each near copy the journal
    /// knows (a handful).
    pub fn received_elsewhere(&self, text: Text<'_>, now: Timestamp) -> Result<Elsewhere, JournalError> {
        let window = Duration::from_secs(NEAR_COPY_DAYS * 24 * 60 * 60);
        let since =
            Timestamp::from(now.as_system_time().checked_sub(window).unwrap_or(std::time::UNIX_EPOCH));
        let mut stmt = self
            .conn
            .prepare(
                "SELECT email_key, campaign, updated_at FROM recipients
                 WHERE fingerprint = ?2 AND campaign <> ?1 AND state IN ('sent', 'sending') AND updated_at >= ?3
                 ORDER BY 3, 2",
            )
            .map_err(|e| self.fail(e))?;
        let mut found: HashMap<EmailKey, Received> = HashMap::new();
        let mut gather = |fingerprint: String, since: &str, near_copy: bool| -> Result<(), JournalError> {
            let rows = stmt
                .query_map(params![self.campaign, fingerprint, since], |row| {
                    Ok((EmailKey::stored(row.get(0)?), row.get::<_, String>(1)?, time_at(row, 2)?))
                })
                .map_err(|e| self.fail(e))?;
            for row in rows {
                let (key, campaign, at) = row.map_err(|e| self.fail(e))?;
                let received = Received { campaign, at, near_copy };
                // Oldest first: the first time is the one kept.
                found
                    .entry(key)
                    .and_modify(|kept| {
                        if (&received.at, &received.campaign) < (&kept.at, &kept.campaign) {
                            *kept = received.clone();
                        }
                    })
                    .or_insert(received);
            }
            Ok(())
        };
        gather(text.fingerprint.to_string(), "", false)?;
        for fingerprint in self.near_copies(text)? {
            gather(fingerprint, &since.to_string(), true)?;
        }
        Ok(Elsewhere(found))
    }

    /// The other campaigns whose latest run sent `text` or a near copy of
    /// it (of any age: a run still going may have started long ago), for
    /// refusing to send one while another runs.
    pub fn campaigns_sending_the_same(&self, text: Text<'_>) -> Result<Vec<String>, JournalError> {
        let mut near = self.near_copies(text)?;
        near.push(text.fingerprint.to_string());
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM campaigns WHERE fingerprint = ?2 AND id <> ?1 ORDER BY id")
            .map_err(|e| self.fail(e))?;
        let mut campaigns = Vec::new();
        for fingerprint in near {
            let ids = stmt
                .query_map(params![self.campaign, fingerprint], |row| row.get::<_, String>(0))
                .map_err(|e| self.fail(e))?;
            for id in ids {
                campaigns.push(id.map_err(|e| self.fail(e))?);
            }
        }
        campaigns.sort();
        campaigns.dedup();
        Ok(campaigns)
    }
}
