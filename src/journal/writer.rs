//! The journal's writer: one thread that owns the journal during a send
//! and commits the senders' changes in groups, in the order they arrive.

use std::path::PathBuf;

use super::{Journal, JournalError, JournalFault, Recipient, State};
use crate::domain::{EmailKey, MessageId, Reply, chain};

/// One change to a recipient's row.
#[derive(Debug, Clone)]
pub enum Change {
    /// See [`Journal::sending`].
    Sending { recipient: Recipient, message_id: MessageId },
    /// See [`Journal::answered`].
    Answered { key: EmailKey, state: State, reply: Reply },
    /// See [`Journal::forget`].
    Forget { key: EmailKey },
}

impl Journal {
    fn apply(&self, change: &Change) -> Result<(), JournalError> {
        match change {
            Change::Sending { recipient, message_id } => self.sending(recipient, message_id),
            Change::Answered { key, state, reply } => self.answered(key, *state, reply),
            Change::Forget { key } => self.forget(key),
        }
    }

    /// Applies `changes` in one transaction: one sync to disk for all.
    fn apply_all(&self, changes: &[Change]) -> Result<(), JournalError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| self.fail(e))?;
        let result = changes.iter().try_for_each(|c| self.apply(c));
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.conn.execute_batch(end).map_err(|e| self.fail(e))?;
        result
    }
}

/// Where a committed change's outcome goes.
type Done = tokio::sync::oneshot::Sender<Result<(), String>>;

/// Writes changes from many senders with group commit: whatever changes
/// arrive while one transaction is being synced go together in the next, so
/// N connections cost about one sync per round instead of N.
///
/// A change is either awaited ([`Writer::write`]: the caller goes on once
/// it is on disk) or queued ([`Writer::queue`]: the caller goes on at
/// once). Changes are committed in the order they arrive, so a queued
/// change is on disk by the time any later awaited change is: a sender
/// that queues a message's answer and then awaits the next message's
/// `sending` never has more than one row in doubt, as if it had awaited
/// both, at the cost of one sync per message instead of two.
pub struct Writer {
    tx: std::sync::mpsc::Sender<(Change, Option<Done>)>,
    thread: Option<std::thread::JoinHandle<(Journal, Option<String>)>>,
    path: PathBuf,
}

impl Writer {
    /// Starts the writing thread, which owns `journal` until [`Writer::close`].
    pub fn start(journal: Journal) -> Self {
        let path = journal.path.clone();
        let (tx, rx) = std::sync::mpsc::channel::<(Change, Option<Done>)>();
        let thread = std::thread::spawn(move || {
            // The first failed commit: every later change is refused with it.
            let mut broken: Option<String> = None;
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                batch.extend(rx.try_iter());
                let result = match &broken {
                    Some(text) => Err(text.clone()),
                    None => {
                        let changes: Vec<Change> = batch.iter().map(|(c, _)| c.clone()).collect();
                        journal.apply_all(&changes).map_err(|e| chain(&e.source))
                    }
                };
                if let Err(text) = &result {
                    broken.get_or_insert_with(|| text.clone());
                }
                for reply in batch.into_iter().filter_map(|(_, reply)| reply) {
                    let _ = reply.send(result.clone());
                }
            }
            (journal, broken)
        });
        Self { tx, thread: Some(thread), path }
    }

    fn error(&self, text: String) -> JournalError {
        JournalError::new(&self.path, JournalFault::Writer(text))
    }

    /// Records `change`; returns once it is committed.
    pub async fn write(&self, change: Change) -> Result<(), JournalError> {
        let (reply, done) = tokio::sync::oneshot::channel();
        let lost = || self.error("the journal writer stopped".to_owned());
        self.tx.send((change, Some(reply))).map_err(|_| lost())?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(text)) => Err(self.error(text)),
            Err(_) => Err(lost()),
        }
    }

    /// Queues `change` to be committed with the next group, without
    /// waiting. If that commit fails, the next [`Writer::write`] and
    /// [`Writer::close`] say so.
    pub fn queue(&self, change: Change) -> Result<(), JournalError> {
        self.tx.send((change, None)).map_err(|_| self.error("the journal writer stopped".to_owned()))
    }

    /// Waits for every change sent so far and gives the journal back, or
    /// the first commit that failed.
    pub fn close(mut self) -> Result<Journal, JournalError> {
        let thread = self.thread.take().expect("closed once");
        let path = self.path.clone();
        drop(self);
        let (journal, broken) = thread.join().expect("the journal writer panicked");
        match broken {
            None => Ok(journal),
            Some(text) => Err(JournalError::new(&path, JournalFault::Writer(text))),
        }
    }
}
