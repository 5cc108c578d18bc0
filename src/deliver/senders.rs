//! The send loop: `--concurrency` senders, each with a [`Transport`] of its
//! own, take the messages from one queue in turn at one [`Pace`], retry
//! temporary failures with backoff, and write each step to the journal so
//! that a re-run resumes where this one stopped.
//!
//! The journal's rules, each tested with a scripted transport:
//! * a message's `sending` row is committed before it is handed over;
//! * the answer is queued, and on disk before the same sender's next
//!   `sending`, so at most one row per sender is ever in doubt;
//! * a message that was not taken, and will not be tried again in this
//!   run, is forgotten: pending again, not failed. That is so when the run
//!   is cancelled while it waits, when the relay's quota runs out, and
//!   when the first messages of a run all fail the same way with nothing
//!   sent (then the run stops).
//!
//! The relay's limits (see [`Limit`]) are the run's, not the message's:
//! * "slow down": the pace falls (see [`Pace`]) and the message is tried
//!   again without using up its retries;
//! * "too many connections": the sender hands its message to another and
//!   closes, so the run goes on with the connections the relay takes (the
//!   last sender left treats it as "slow down");
//! * "quota used up", or today's allowance (`--rate N/day`) sent: the run
//!   stops ([`Halt`]).
//!
//! The send window (`SEND_WINDOW`) is looked at before each hand-over,
//! retries included: while it is closed the senders wait at the [`Gate`]
//! before writing `sending`, so a pause records nothing and a cancelled
//! pause leaves nothing in doubt.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::early_stop::EarlyStop;
use super::gate::Gate;
use super::pace::{Pace, Slowdowns};
use super::transport::{Failure, Outgoing, Transport};
use crate::domain::{Limit, Rate, Reply};
use crate::journal::{Change, Journal, JournalError, State, Writer};
use crate::subscribers::LiveSuppression;

/// Longest wait between two tries of one message.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// Tries of one message that the relay answers with "slow down" before
/// they count against its retries after all: a bound for a relay that
/// never stops saying it.
const MAX_THROTTLED: u32 = 50;

/// Counts shared by the senders and the progress display.
#[derive(Debug, Default)]
pub struct Counts {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub retries: AtomicU64,
    /// Tries the relay answered with "slow down" (not retries).
    pub throttled: AtomicU64,
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
    /// Messages that may still be handed over today, when `--rate` sets a
    /// daily allowance (counted by the caller from the journal).
    pub allowance: Option<u64>,
    /// The suppression list as it changes during the run, looked at just
    /// before each message is handed over.
    pub suppressed: Option<Arc<LiveSuppression>>,
    /// The send window (`SEND_WINDOW`), looked at just before each message
    /// is handed over: while it is closed, the senders wait.
    pub gate: Option<Arc<Gate>>,
}

/// Why a run stopped before its queue ended, other than being cancelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Halt {
    /// The first messages all failed the same way with nothing sent: the
    /// fault is the relay's or the settings'. Those failures were made
    /// pending again.
    Failing { reason: Reply, forgotten: usize },
    /// The relay said the sender's quota is used up.
    Quota(Reply),
    /// Today's allowance (`--rate N/day`) is sent.
    Allowance,
}

/// How the senders finished.
#[derive(Debug)]
pub struct Finished {
    /// The journal, every change on disk.
    pub journal: Journal,
    /// Why the run stopped before the queue ended, if it did.
    pub halt: Option<Halt>,
    /// How the relay's throttling slowed the run, if it did.
    pub slowdowns: Option<Slowdowns>,
}

struct Shared {
    journal: Writer,
    pace: Pace,
    policy: Policy,
    cancel: CancellationToken,
    counts: Arc<Counts>,
    early_stop: EarlyStop,
    halt: StdMutex<Option<Halt>>,
    /// Messages still allowed today, when there is a daily allowance.
    allowance: Option<AtomicU64>,
    crew: StdMutex<Crew>,
}

/// The senders still at work, and the messages handed back by those the
/// relay would not take another connection from.
#[derive(Default)]
struct Crew {
    active: usize,
    handed_back: Vec<Outgoing>,
}

/// What a sender does after a message.
enum Then {
    Next,
    /// Close: the relay takes no more connections.
    Close,
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

    /// Records why the run stops, unless it was stopping already.
    fn halt(&self, halt: Halt) {
        self.halt.lock().expect("not poisoned").get_or_insert(halt);
    }

    fn crew(&self) -> std::sync::MutexGuard<'_, Crew> {
        self.crew.lock().expect("not poisoned")
    }

    /// Takes one message of today's allowance; false when none is left.
    fn take_allowance(&self) -> bool {
        self.allowance.as_ref().is_none_or(|left| {
            left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
        })
    }
}

/// Sends every message `queue` yields, one sender per transport, until the
/// queue ends, the run halts, or `cancel` fires (then messages in flight
/// are finished and recorded). Cancels `cancel` itself when the run stops
/// early or the relay's quota is used up.
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
        pace: Pace::new(policy.rate),
        allowance: policy.allowance.map(AtomicU64::new),
        policy,
        cancel,
        counts,
        early_stop: EarlyStop::default(),
        halt: StdMutex::new(None),
        crew: StdMutex::new(Crew { active: transports.len(), handed_back: Vec::new() }),
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
    let halt = match shared.early_stop.reason() {
        Some(reason) => {
            let failures = shared.early_stop.failed_keys();
            for key in &failures {
                journal.forget(key)?;
            }
            Some(Halt::Failing { reason, forgotten: failures.len() })
        }
        None => shared.halt.into_inner().expect("not poisoned"),
    };
    Ok(Finished { journal, halt, slowdowns: shared.pace.slowdowns() })
}

/// One sender: takes the next message until there are none, the run
/// stops or the relay takes no more connections, then closes its
/// transport.
async fn sender<T: Transport>(
    shared: Arc<Shared>,
    queue: Arc<Mutex<mpsc::Receiver<Outgoing>>>,
    mut transport: T,
) -> Result<(), JournalError> {
    let result = loop {
        opening(&shared, &mut transport).await;
        let Some(outgoing) = next(&shared, &queue).await else { break Ok(()) };
        match deliver(&shared, &mut transport, outgoing).await {
            Ok(Then::Next) => {}
            Ok(Then::Close) => break Ok(()),
            Err(e) => {
                shared.crew().active -= 1;
                break Err(e);
            }
        }
    };
    transport.close().await;
    result
}

/// The next message: one handed back by another sender first, else the
/// queue's next. `None` when there are none or the run stops; the sender
/// has then left the crew.
async fn next(shared: &Shared, queue: &Mutex<mpsc::Receiver<Outgoing>>) -> Option<Outgoing> {
    if let Some(outgoing) = shared.crew().handed_back.pop() {
        return Some(outgoing);
    }
    let next = tokio::select! {
        biased;
        () = shared.cancel.cancelled() => None,
        next = async { queue.lock().await.recv().await } => next,
    };
    let mut crew = shared.crew();
    // Checked and left under one lock, so nothing is handed back to a
    // crew that has gone.
    match next.or_else(|| crew.handed_back.pop()) {
        Some(outgoing) => Some(outgoing),
        None => {
            crew.active -= 1;
            None
        }
    }
}

/// Hands one message over, trying again after temporary failures. Each
/// attempt's `sending` is on disk before the message is handed over; the
/// answer is queued, and on disk before this sender's next `sending`.
async fn deliver<T: Transport>(
    shared: &Shared,
    transport: &mut T,
    outgoing: Outgoing,
) -> Result<Then, JournalError> {
    let mut backoff = ExponentialBuilder::default()
        .with_min_delay(shared.policy.retry_delay)
        .with_max_delay(MAX_RETRY_DELAY)
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(shared.policy.attempts.saturating_sub(1) as usize)
        .build();
    let address = &outgoing.recipient.address;
    if !shared.take_allowance() {
        // Never handed over: it stays pending for tomorrow. The other
        // senders finish the messages they have (their share of the
        // allowance), and close in turn.
        shared.halt(Halt::Allowance);
        shared.crew().active -= 1;
        return Ok(Then::Close);
    }
    let mut attempt = 1;
    let mut throttled = 0;
    // A `sending` row is on disk for this message.
    let mut recorded = false;
    loop {
        tokio::select! {
            biased;
            () = shared.cancel.cancelled() => {
                // Never handed over on this attempt: pending again.
                if recorded {
                    shared.forget(&outgoing)?;
                }
                return Ok(Then::Next);
            }
            () = ready(shared, transport) => {}
        }
        if shared.policy.suppressed.as_ref().is_some_and(|s| s.contains(&outgoing.recipient.key)) {
            // Unsubscribed since the run started: never handed over, so
            // pending again, and skipped as suppressed by the next run.
            tracing::info!(to = %address, "unsubscribed during the send: not sent");
            if recorded {
                shared.forget(&outgoing)?;
            }
            shared.counts.suppressed.fetch_add(1, Ordering::SeqCst);
            return Ok(Then::Next);
        }
        let sending = Change::Sending {
            recipient: outgoing.recipient.clone(),
            message_id: outgoing.message_id.clone(),
        };
        shared.journal.write(sending).await?;
        recorded = true;
        let reply = match transport.submit(&outgoing.envelope, &outgoing.bytes).await {
            Ok(reply) => {
                tracing::info!(to = %address, %reply, attempt, "sent");
                shared.queue(Change::Answered {
                    key: outgoing.recipient.key.clone(),
                    state: State::Sent,
                    reply,
                })?;
                shared.pace.accepted();
                shared.early_stop.sent();
                shared.counts.sent.fetch_add(1, Ordering::SeqCst);
                return Ok(Then::Next);
            }
            Err(Failure { transient: true, reply }) => reply,
            Err(Failure { transient: false, reply }) => {
                if reply.limit() == Some(Limit::Quota) {
                    return quota_used(shared, &outgoing, reply);
                }
                return failed(shared, &outgoing, reply);
            }
        };
        match reply.limit() {
            Some(Limit::Quota) => return quota_used(shared, &outgoing, reply),
            Some(Limit::Connections) if hand_back(shared, &outgoing)? => {
                tracing::info!(to = %address, %reply, "the relay takes no more connections: carrying on with fewer");
                return Ok(Then::Close);
            }
            Some(Limit::Rate | Limit::Connections) if throttled < MAX_THROTTLED => {
                tracing::info!(to = %address, %reply, "the relay asked to slow down");
                throttled += 1;
                shared.counts.throttled.fetch_add(1, Ordering::SeqCst);
                shared.pace.throttled();
                continue;
            }
            _ => {}
        }
        if let Some(delay) = backoff.next() {
            tracing::info!(to = %address, %reply, attempt, retry_in = ?delay, "temporary failure");
            shared.counts.retries.fetch_add(1, Ordering::SeqCst);
            attempt += 1;
            tokio::select! {
                () = shared.cancel.cancelled() => {
                    shared.forget(&outgoing)?;
                    return Ok(Then::Next);
                }
                () = tokio::time::sleep(delay) => continue,
            }
        }
        let reply = reply.with_note(&format!(" (gave up after {attempt} attempts)"));
        return failed(shared, &outgoing, reply);
    }
}

/// Before a sender takes its next message: waits while the send window is
/// closed (the feed makes no message meanwhile, see [`super::feed`]), with
/// the sender's conversation with the relay ended; returns at once if the
/// run is cancelled, for [`next`] to end the sender.
async fn opening<T: Transport>(shared: &Shared, transport: &mut T) {
    let Some(gate) = &shared.policy.gate else { return };
    if gate.is_open() {
        return;
    }
    transport.rest().await;
    tokio::select! {
        () = shared.cancel.cancelled() => {}
        () = gate.wait() => {}
    }
}

/// Waits until the next message may be handed over: the pace allows it
/// and the send window is open. The window is looked at on both sides of
/// the pace's wait, so a message never goes once it has closed, and a
/// sender does not keep through a pause a turn of the pace it took before
/// (the run resumes at the pace, not with every sender at once). A sender
/// that finds the window closed ends its conversation with the relay first.
async fn ready<T: Transport>(shared: &Shared, transport: &mut T) {
    let Some(gate) = &shared.policy.gate else { return shared.pace.ready().await };
    loop {
        if !gate.is_open() {
            transport.rest().await;
            gate.wait().await;
        }
        shared.pace.ready().await;
        if gate.is_open() {
            return;
        }
    }
}

/// The relay's quota is used up: the message was not taken, and stays
/// pending; the run stops.
fn quota_used(shared: &Shared, outgoing: &Outgoing, reply: Reply) -> Result<Then, JournalError> {
    tracing::warn!(to = %outgoing.recipient.address, %reply, "the relay's quota is used up");
    shared.forget(outgoing)?;
    shared.halt(Halt::Quota(reply));
    shared.cancel.cancel();
    Ok(Then::Next)
}

/// Hands `outgoing` to the other senders, when there are any: true when
/// this sender should close. The message was never handed over, so its
/// row is forgotten first (and the next sender's `sending` comes after).
fn hand_back(shared: &Shared, outgoing: &Outgoing) -> Result<bool, JournalError> {
    let mut crew = shared.crew();
    if crew.active <= 1 {
        return Ok(false);
    }
    shared.forget(outgoing)?;
    crew.active -= 1;
    crew.handed_back.push(outgoing.clone());
    Ok(true)
}

fn failed(shared: &Shared, outgoing: &Outgoing, reply: Reply) -> Result<Then, JournalError> {
    tracing::warn!(to = %outgoing.recipient.address, reason = %reply, "failed");
    let key = &outgoing.recipient.key;
    let stop = shared.early_stop.failed(key, &reply);
    shared.queue(Change::Answered { key: key.clone(), state: State::Failed, reply })?;
    shared.counts.failed.fetch_add(1, Ordering::SeqCst);
    if stop {
        shared.cancel.cancel();
    }
    Ok(Then::Next)
}

#[cfg(test)]
#[path = "senders_tests.rs"]
mod tests;
