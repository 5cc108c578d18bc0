//! A live send's loop, as every live send runs it (`bulletin send`, a
//! scheduled send, the welcome `serve` sends): the feed on a thread of its
//! own, reading the list and making the messages in order, and the senders
//! on the runtime handing them over and recording them; then the feed's
//! account of the list, once it has stopped.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::feed::{FeedSource, Read, feed};
use super::gate::Gate;
use super::plan::Choice;
use super::senders::{Counts, Finished, Policy, send_all};
use super::transport::{Outgoing, Transport};
use crate::domain::Clock;
use crate::job::Job;
use crate::journal::{Elsewhere, Journal};
use crate::subscribers::SubscriberReader;

/// What the feed reads and makes the messages from.
pub struct Feeding {
    pub job: Job,
    pub rows: SubscriberReader,
    /// A reading connection of the campaign's own (the senders write
    /// through another).
    pub journal: Journal,
    /// Who received the bulletin under another campaign.
    pub elsewhere: Elsewhere,
    pub choice: Choice,
    /// Dates each message, and the journal's rows.
    pub clock: Arc<dyn Clock>,
    /// The send window, if there is one.
    pub gate: Option<Arc<Gate>>,
    /// How many made messages may wait for a sender.
    pub queue: usize,
}

/// Runs the feed and the senders over `transports` until the list is done,
/// `cancel` is called or the senders stop; `journal` (the writing
/// connection) records each message, with the feed's clock and the
/// bulletin's fingerprint. Returns what the senders finished with, and
/// the feed's account of the list (`Err` if its thread panicked: the
/// caller decides what that means).
pub async fn run<T: Transport>(
    feeding: Feeding,
    transports: Vec<T>,
    journal: Journal,
    policy: Policy,
    cancel: CancellationToken,
    counts: Arc<Counts>,
) -> (anyhow::Result<Finished>, std::thread::Result<anyhow::Result<Read>>) {
    let Feeding { job, rows, journal: mut reading, elsewhere, choice, clock, gate, queue } = feeding;
    let journal = journal.with_clock(Arc::clone(&clock)).with_fingerprint(job.bulletin.fingerprint);
    let (tx, rx) = mpsc::channel::<Outgoing>(queue);
    let producer = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            let source = FeedSource {
                job: &job,
                journal: &mut reading,
                elsewhere: &elsewhere,
                choice,
                clock: &clock,
                gate: gate.as_deref(),
            };
            feed(source, rows, &tx, &cancel)
        })
    };
    let finished = send_all(transports, rx, journal, policy, cancel, counts).await;
    (finished, producer.join())
}
