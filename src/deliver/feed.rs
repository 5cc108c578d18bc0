//! The feed: the list read once, in order, against the journal, each
//! pending recipient's message made (on every core, a small batch at a
//! time) and queued for the senders; it stops when they stop listening.
//! While the send window is closed it takes no row, so the messages it
//! makes next are dated when the window has opened.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::batches::{Flow, Next, make_in_order};
use super::gate::Gate;
use super::plan::{Choice, Plan, decide};
use super::transport::Outgoing;
use crate::domain::{Clock, MessageId};
use crate::job::Job;
use crate::journal::{Elsewhere, Journal, Recipient};
use crate::subscribers::{Row, SubscriberReader, Tally};

/// How many pending recipients' messages are made at once, on every core
/// (see [`make_in_order`]): small, so the first goes out at once and at
/// most two batches wait in memory.
const BATCH: usize = 64;

/// What the feed saw of the list.
#[derive(Debug, Default)]
pub struct Read {
    pub tally: Tally,
    pub plan: Plan,
    /// Every row was read and every message made was queued.
    pub whole_list: bool,
}

/// What the reading side keeps while it reads the list.
struct Reading<'a> {
    read: Read,
    journal: &'a mut Journal,
    /// Every row was read.
    exhausted: bool,
}

/// What the feed decides and makes messages from.
pub struct FeedSource<'a> {
    pub job: &'a Job,
    /// A reading connection of the campaign's own.
    pub journal: &'a mut Journal,
    /// Who received the bulletin under another campaign.
    pub elsewhere: &'a Elsewhere,
    /// Whether to send again to them.
    pub choice: Choice,
    /// Dates each message.
    pub clock: &'a Arc<dyn Clock>,
    /// The send window, if there is one.
    pub gate: Option<&'a Gate>,
}

/// Reads `rows`, makes each pending recipient's message from `source`,
/// and queues it on `tx` in list order, until the list ends, the senders
/// stop listening or `cancel` fires. Those who received the bulletin
/// elsewhere are skipped unless the source's `choice` says to send again.
pub fn feed(
    source: FeedSource,
    mut rows: SubscriberReader,
    tx: &mpsc::Sender<Outgoing>,
    cancel: &CancellationToken,
) -> anyhow::Result<Read> {
    let FeedSource { job, journal, elsewhere, choice, clock, gate } = source;
    let mut state =
        Reading { read: Read { tally: Tally::new(), ..Read::default() }, journal, exhausted: false };
    let mut stopped = false;
    make_in_order(
        BATCH,
        &mut state,
        |state| {
            if cancel.is_cancelled() || gate.is_some_and(|gate| !gate.hold(cancel)) {
                return Ok(Next::End);
            }
            let subscriber = match rows.next().transpose()? {
                None => {
                    state.exhausted = true;
                    return Ok(Next::End);
                }
                Some(Row::Skipped(skip)) => {
                    state.read.tally.skip(skip);
                    return Ok(Next::Nothing);
                }
                Some(Row::Subscribed(s)) => s,
            };
            let decision = decide(Some(&*state.journal), elsewhere, subscriber.email().key(), choice)?;
            Ok(if state.read.plan.admit(decision, choice.limit) {
                Next::Item(subscriber)
            } else {
                Next::Nothing
            })
        },
        |subscriber| -> anyhow::Result<Outgoing> {
            let made = job.message_for(subscriber, clock.now().as_system_time())?;
            let message = made.message;
            // Read back rather than hashed again: it is per message.
            let message_id = message
                .headers()
                .get_raw("Message-ID")
                .and_then(MessageId::parse)
                .unwrap_or_else(|| job.composer.message_id(subscriber.email()));
            Ok(Outgoing {
                recipient: Recipient::from(subscriber.email()),
                message_id,
                envelope: message.envelope().clone(),
                bytes: message.formatted(),
            })
        },
        |state, _, outgoing| {
            if tx.blocking_send(outgoing?).is_err() {
                stopped = true;
                return Ok(Flow::Stop);
            }
            state.read.tally.recipients += 1;
            Ok(Flow::Continue)
        },
    )?;
    let mut read = state.read;
    read.tally.lines = rows.lines();
    read.whole_list = state.exhausted && !stopped;
    Ok(read)
}
