//! The send loop: `--concurrency` senders, each with a [`Transport`] of its
//! own, take the messages from one queue in turn under one rate limit,
//! retry temporary failures with backoff, and write each step to the
//! journal so that a re-run resumes where this one stopped.
//!
//! The journal's rules, each tested below with a scripted transport:
//! * a message's `sending` row is committed before it is handed over;
//! * the answer is queued, and on disk before the same sender's next
//!   `sending`, so at most one row per sender is ever in doubt;
//! * a message that was never handed over on its last attempt (cancelled
//!   while waiting) is forgotten: pending again, not failed;
//! * when the first messages of a run all fail the same way with nothing
//!   sent, the run stops and those failures are forgotten too.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use governor::DefaultDirectRateLimiter;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::early_stop::EarlyStop;
use super::limiter::limiter;
use super::transport::{Failure, Outgoing, Transport};
use crate::domain::{Rate, Reply};
use crate::journal::{Change, Journal, JournalError, State, Writer};
use crate::subscribers::LiveSuppression;

/// Longest wait between two tries of one message.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// Counts shared by the senders and the progress display.
#[derive(Debug, Default)]
pub struct Counts {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub retries: AtomicU64,
    /// Not sent: unsubscribed while the run went on (still pending).
    pub suppressed: AtomicU64,
}

/// How hard to try.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Messages handed over per second at most, across every sender.
    pub rate: Rate,
    /// Tries of one message, the first included.
    pub attempts: u32,
    /// The wait before the first retry; doubled (with jitter) each time,
    /// up to a minute.
    pub retry_delay: Duration,
    /// The suppression list as it changes during the run, looked at just
    /// before each message is handed over.
    pub suppressed: Option<Arc<LiveSuppression>>,
}

/// How the senders finished.
#[derive(Debug)]
pub struct Finished {
    /// The journal, every change on disk.
    pub journal: Journal,
    /// Why the run stopped early, and how many failures were made pending
    /// again, when it did.
    pub early_stop: Option<(Reply, usize)>,
}

struct Shared {
    journal: Writer,
    limiter: Option<DefaultDirectRateLimiter>,
    policy: Policy,
    cancel: CancellationToken,
    counts: Arc<Counts>,
    early_stop: EarlyStop,
}

impl Shared {
    /// Records a change without waiting: for answers, which are on disk
    /// before this sender's next `sending` is (see [`Writer`]).
    fn queue(&self, change: Change) -> Result<(), JournalError> {
        self.journal.queue(change)
    }

    fn forget(&self, outgoing: &Outgoing) -> Result<(), JournalError> {
        self.queue(Change::Forget { key: outgoing.recipient.key.clone() })
    }
}

/// Sends every message `queue` yields, one sender per transport, until the
/// queue ends or `cancel` fires (then messages in flight are finished and
/// recorded). Cancels `cancel` itself when the run stops early.
pub async fn send_all<T: Transport>(
    transports: Vec<T>,
    queue: mpsc::Receiver<Outgoing>,
    journal: Journal,
    policy: Policy,
    cancel: CancellationToken,
    counts: Arc<Counts>,
) -> anyhow::Result<Finished> {
    let shared = Arc::new(Shared {
        journal: Writer::start(journal),
        limiter: limiter(policy.rate),
        policy,
        cancel,
        counts,
        early_stop: EarlyStop::default(),
    });
    let queue = Arc::new(Mutex::new(queue));
    let mut senders = JoinSet::new();
    for transport in transports {
        senders.spawn(sender(Arc::clone(&shared), Arc::clone(&queue), transport));
    }
    drop(queue);
    let mut journal_error = None;
    while let Some(result) = senders.join_next().await {
        if let Err(e) = result.expect("a sender panicked") {
            journal_error.get_or_insert(e);
        }
    }
    let shared = Arc::into_inner(shared).expect("every sender has finished");
    let journal = shared.journal.close();
    if let Some(e) = journal_error {
        return Err(e.into());
    }
    let journal = journal?;
    let early_stop = match shared.early_stop.reason() {
        Some(reason) => {
            let failures = shared.early_stop.failed_keys();
            for key in &failures {
                journal.forget(key)?;
            }
            Some((reason, failures.len()))
        }
        None => None,
    };
    Ok(Finished { journal, early_stop })
}

/// One sender: takes the next message until there are none or the run
/// stops, then closes its transport.
async fn sender<T: Transport>(
    shared: Arc<Shared>,
    queue: Arc<Mutex<mpsc::Receiver<Outgoing>>>,
    mut transport: T,
) -> Result<(), JournalError> {
    let result = loop {
        let next = tokio::select! {
            biased;
            () = shared.cancel.cancelled() => break Ok(()),
            next = async { queue.lock().await.recv().await } => next,
        };
        let Some(outgoing) = next else { break Ok(()) };
        if let Err(e) = deliver(&shared, &mut transport, outgoing).await {
            break Err(e);
        }
    };
    transport.close().await;
    result
}

/// Hands one message over, trying again after temporary failures. Each
/// attempt's `sending` is on disk before the message is handed over; the
/// answer is queued, and on disk before this sender's next `sending`.
async fn deliver<T: Transport>(
    shared: &Shared,
    transport: &mut T,
    outgoing: Outgoing,
) -> Result<(), JournalError> {
    let mut backoff = ExponentialBuilder::default()
        .with_min_delay(shared.policy.retry_delay)
        .with_max_delay(MAX_RETRY_DELAY)
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(shared.policy.attempts.saturating_sub(1) as usize)
        .build();
    let address = &outgoing.recipient.address;
    let mut attempt = 1;
    loop {
        if let Some(limiter) = &shared.limiter {
            tokio::select! {
                biased;
                () = shared.cancel.cancelled() => {
                    // Never handed over on this attempt: pending again.
                    if attempt > 1 {
                        shared.forget(&outgoing)?;
                    }
                    return Ok(());
                }
                () = limiter.until_ready() => {}
            }
        } else if shared.cancel.is_cancelled() && attempt > 1 {
            shared.forget(&outgoing)?;
            return Ok(());
        }
        if shared.policy.suppressed.as_ref().is_some_and(|s| s.contains(&outgoing.recipient.key)) {
            // Unsubscribed since the run started: never handed over, so
            // pending again, and skipped as suppressed by the next run.
            tracing::info!(to = %address, "unsubscribed during the send: not sent");
            if attempt > 1 {
                shared.forget(&outgoing)?;
            }
            shared.counts.suppressed.fetch_add(1, Ordering::SeqCst);
            return Ok(());
        }
        let sending = Change::Sending {
            recipient: outgoing.recipient.clone(),
            message_id: outgoing.message_id.clone(),
        };
        shared.journal.write(sending).await?;
        match transport.submit(&outgoing.envelope, &outgoing.bytes).await {
            Ok(reply) => {
                tracing::info!(to = %address, %reply, attempt, "sent");
                shared.queue(Change::Answered {
                    key: outgoing.recipient.key.clone(),
                    state: State::Sent,
                    reply,
                })?;
                shared.early_stop.sent();
                shared.counts.sent.fetch_add(1, Ordering::SeqCst);
                return Ok(());
            }
            Err(Failure { transient: true, reply }) => {
                if let Some(delay) = backoff.next() {
                    tracing::info!(to = %address, %reply, attempt, retry_in = ?delay, "temporary failure");
                    shared.counts.retries.fetch_add(1, Ordering::SeqCst);
                    attempt += 1;
                    tokio::select! {
                        () = shared.cancel.cancelled() => {
                            shared.forget(&outgoing)?;
                            return Ok(());
                        }
                        () = tokio::time::sleep(delay) => continue,
                    }
                }
                let reply = reply.with_note(&format!(" (gave up after {attempt} attempts)"));
                return failed(shared, &outgoing, reply);
            }
            Err(Failure { transient: false, reply }) => return failed(shared, &outgoing, reply),
        }
    }
}

fn failed(shared: &Shared, outgoing: &Outgoing, reply: Reply) -> Result<(), JournalError> {
    tracing::warn!(to = %outgoing.recipient.address, reason = %reply, "failed");
    let key = &outgoing.recipient.key;
    let stop = shared.early_stop.failed(key, &reply);
    shared.queue(Change::Answered { key: key.clone(), state: State::Failed, reply })?;
    shared.counts.failed.fetch_add(1, Ordering::SeqCst);
    if stop {
        shared.cancel.cancel();
    }
    Ok(())
}

#[cfg(test)]
#[path = "senders_tests.rs"]
mod tests;
