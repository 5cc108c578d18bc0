//! The real send: every pending recipient's message handed to the relay
//! by `--concurrency` senders, each with a connection of its own, under one
//! rate limit, with retries, and each step written to the journal, so a
//! re-run resumes where this one stopped.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use anyhow::bail;
use backon::{BackoffBuilder, ExponentialBuilder};
use governor::DefaultDirectRateLimiter;
use lettre::address::Envelope;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::SendOptions;
use super::batches::{Flow, Next, make_in_order};
use super::plan::{Plan, decide, plan};
use crate::commands::{Job, Outcome, Ui, describe_bulletin, prepare, warn};
use crate::config::{Settings, SmtpSettings, Source};
use crate::deliver::early_stop::EarlyStop;
use crate::deliver::smtp::{Connection, Failure, Relay};
use crate::journal::{Change, Journal, State, Writer};
use crate::render::Reader;
use crate::report::{Counts, Progress, Tally};
use crate::subscribers::{EmailAddress, Row};
use crate::unsubscribe::UNSIGNED_RECIPIENTS_MAX;

/// Longest wait between two tries of one message.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

pub(super) fn run(options: &SendOptions, env: &Source, ui: Ui) -> anyhow::Result<Outcome> {
    let job = prepare(&options.bulletin, &options.list, env)?;
    refuse_placeholders(&job.settings)?;
    let smtp = SmtpSettings::from_source(env, &options.smtp)?;
    let runtime = crate::runtime()?;
    let relay = Relay::new(&smtp)?;
    if !options.to.is_empty() {
        return runtime.block_on(test_copies(options, job, &relay));
    }
    // Nothing is created on disk until the send is confirmed.
    let existing = Journal::open_existing(&options.state_dir, &job.bulletin.campaign)?;
    let plan = plan(options, &job, existing.as_ref())?;
    refuse_unsigned_links(&job.settings, plan.audience())?;
    let uncertain = match &existing {
        Some(journal) => journal.entries(Some(State::Sending))?,
        None => Vec::new(),
    };
    if !uncertain.is_empty() {
        warn(&format!(
            "{} recipient(s) were being sent to when the last run stopped, so the relay may or may not have \
             taken their message; they are sent again with the same Message-ID, which mail programs use to \
             show one copy",
            uncertain.len()
        ));
    }
    if !ui.quiet || !options.yes {
        // What is about to happen; -q leaves it out only when nobody is asked.
        print_plan(&job, &plan, &relay, &smtp, options);
    }
    if plan.to_send == 0 {
        println!("Nothing to send.");
        return Ok(Outcome::Done);
    }
    confirm(options.yes)?;

    let journal = match existing {
        Some(journal) => journal,
        None => Journal::open(&options.state_dir, &job.bulletin.campaign)?,
    };
    runtime.block_on(send_all(options, job, journal, relay, smtp, ui, plan.to_send))
}

fn print_plan(job: &Job, plan: &Plan, relay: &Relay, smtp: &SmtpSettings, options: &SendOptions) {
    println!("Sending {}", describe_bulletin(&job.bulletin));
    let skips = plan.skips();
    let skips = if skips.is_empty() { String::new() } else { format!(" ({})", skips.join(", ")) };
    println!("  to        {} recipient(s){skips}", plan.to_send);
    println!("  via       {}", relay.name());
    println!("  bounces   to {}", job.settings.envelope_sender());
    println!("  rate      {} (burst {}), {} connection(s)", smtp.rate, burst(smtp), smtp.concurrency);
    println!("  journal   {}", options.state_dir.join(crate::journal::FILE_NAME).display());
    if let Some(dkim) = &job.settings.dkim {
        println!(
            "  dkim      signed as {} (selector {}, {})",
            dkim.domain(),
            dkim.selector(),
            dkim.algorithm()
        );
    }
}

fn burst(smtp: &SmtpSettings) -> String {
    match smtp.rate.per_second() {
        None => "none".to_owned(),
        Some(_) => smtp.rate.burst().to_string(),
    }
}

/// A real send never goes out from the example.org placeholders.
fn refuse_placeholders(settings: &Settings) -> anyhow::Result<()> {
    if !settings.placeholders.is_empty() {
        bail!(
            "refusing to send with example.org placeholders for {}: set them in .env (see .env.example)",
            settings.placeholders.join(", ")
        );
    }
    Ok(())
}

/// Unsubscribe links signed with the development key (no
/// `UNSUBSCRIBE_SECRET`) could be forged by anyone and do not work on the
/// unsubscribe server: fine for a trial to a handful of people, refused
/// for a list of `audience` recipients beyond that.
fn refuse_unsigned_links(settings: &Settings, audience: u64) -> anyhow::Result<()> {
    if settings.unsubscribe_url.is_none() || settings.unsubscribe_secret.is_some() {
        return Ok(());
    }
    if audience > UNSIGNED_RECIPIENTS_MAX {
        bail!(
            "refusing to send to {audience} recipients: UNSUBSCRIBE_URL is set but UNSUBSCRIBE_SECRET is not, \
             so the unsubscribe links would be signed with bulletin's public development key: anyone could \
             unsubscribe anyone, and the unsubscribe server rejects them. Make a secret with \
             `openssl rand -hex 32`, set UNSUBSCRIBE_SECRET to it here and on the unsubscribe server, and run \
             the same command again (without a secret, only lists of at most {UNSIGNED_RECIPIENTS_MAX} and \
             --to test copies are sent)"
        );
    }
    Ok(())
}

/// Asks on the terminal; without one, only `--yes` goes ahead.
fn confirm(yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!("refusing to send without confirmation: not on a terminal, so add --yes to send");
    }
    print!("Send now? Type yes to send: ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim().eq_ignore_ascii_case("yes") || answer.trim().eq_ignore_ascii_case("y") {
        Ok(())
    } else {
        bail!("not sent: the answer was not yes")
    }
}

/// `--to`: a test copy for each address, as the first recipient would get
/// it. The journal is not touched.
async fn test_copies(options: &SendOptions, mut job: Job, relay: &Relay) -> anyhow::Result<Outcome> {
    let addresses = options
        .to
        .iter()
        .map(|a| EmailAddress::parse(a).map_err(|e| anyhow::anyhow!("--to {a}: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let subscriber = loop {
        match job.reader.next().transpose()? {
            Some(Row::Subscribed(s)) => break s,
            Some(Row::Skipped(_)) => {}
            None => bail!(
                "nobody on the list would receive this bulletin, so there is no one to personalise the test as"
            ),
        }
    };
    let mut connection =
        relay.connect().await.map_err(|f| anyhow::anyhow!("cannot use the relay {}: {f}", relay.name()))?;
    let mut failed = 0;
    for to in &addresses {
        // The unsubscribe link is the test address's own: trying it out
        // must not unsubscribe the subscriber the copy is personalised as.
        let link = job.composer.unsubscribe_link(to);
        let content = job.rendered.personalise(&Reader { subscriber: &subscriber, unsubscribe_url: &link });
        let message = job.composer.compose_test(&subscriber, &content, &link, SystemTime::now(), to)?;
        match connection.submit(message.envelope(), &message.formatted()).await {
            Ok(reply) => println!("test copy sent to {to} (as {}): {reply}", subscriber.email()),
            Err(failure) => {
                failed += 1;
                eprintln!("error: test copy to {to} failed: {failure}");
            }
        }
    }
    connection.close().await;
    Ok(if failed == 0 { Outcome::Done } else { Outcome::Problems })
}

/// One message ready to hand over.
struct Outgoing {
    key: String,
    address: String,
    message_id: String,
    envelope: Envelope,
    bytes: Vec<u8>,
}

struct Shared {
    journal: Writer,
    limiter: Option<DefaultDirectRateLimiter>,
    smtp: SmtpSettings,
    cancel: CancellationToken,
    counts: Arc<Counts>,
    early_stop: EarlyStop,
}

impl Shared {
    /// Records a change and waits until it is on disk: for `sending`,
    /// which must be before the message is handed over.
    async fn record(&self, change: Change) -> anyhow::Result<()> {
        Ok(self.journal.write(change).await?)
    }

    /// Records a change without waiting: for answers, which are on disk
    /// before this sender's next `sending` is (see [`Writer`]).
    fn queue(&self, change: Change) -> anyhow::Result<()> {
        Ok(self.journal.queue(change)?)
    }

    fn forget(&self, key: &str) -> anyhow::Result<()> {
        self.queue(Change::Forget { key: key.to_owned() })
    }
}

/// What the reading side saw of the list.
#[derive(Default)]
struct Read {
    tally: Tally,
    plan: Plan,
    whole_list: bool,
}

async fn send_all(
    options: &SendOptions,
    job: Job,
    journal: Journal,
    relay: Relay,
    smtp: SmtpSettings,
    ui: Ui,
    total: u64,
) -> anyhow::Result<Outcome> {
    // The first connection is the check that the relay takes us; the first
    // sender keeps it.
    let first =
        relay.connect().await.map_err(|f| anyhow::anyhow!("cannot use the relay {}: {f}", relay.name()))?;
    journal.started(&job.bulletin.path, &describe_bulletin(&job.bulletin))?;
    let started = Instant::now();
    let cancel = CancellationToken::new();
    watch_interrupts(cancel.clone());

    let shared = Arc::new(Shared {
        journal: Writer::start(journal),
        limiter: smtp.rate.limiter(),
        smtp: smtp.clone(),
        cancel: cancel.clone(),
        counts: Arc::new(Counts::default()),
        early_stop: EarlyStop::default(),
    });
    let (tx, rx) = mpsc::channel::<Outgoing>(smtp.concurrency * 2);
    let mut reader_journal = Journal::open(&options.state_dir, &job.bulletin.campaign)?;
    let producer = {
        let (cancel, options) = (cancel.clone(), options.clone());
        std::thread::spawn(move || produce(job, &mut reader_journal, &options, &tx, &cancel))
    };
    let progress = Progress::start(total, ui.quiet, Arc::clone(&shared.counts));

    // --concurrency senders, each with a connection of its own, take the
    // messages in turn.
    let queue = Arc::new(Mutex::new(rx));
    let mut senders = JoinSet::new();
    let mut first = Some(first);
    for _ in 0..smtp.concurrency {
        let connection = first.take().unwrap_or_else(|| relay.connection());
        senders.spawn(sender(Arc::clone(&shared), Arc::clone(&queue), connection));
    }
    drop(queue);
    let mut journal_error = None;
    while let Some(result) = senders.join_next().await {
        if let Err(e) = result.expect("a sender panicked") {
            journal_error.get_or_insert(e);
        }
    }
    let read = producer.join().expect("the reader panicked")?;
    progress.finish().await;
    let shared = Arc::into_inner(shared).expect("every sender has finished");
    let journal = shared.journal.close();
    if let Some(e) = journal_error {
        return Err(e);
    }
    let journal = journal?;

    if let Some(reason) = shared.early_stop.reason() {
        let failures = shared.early_stop.failed_keys();
        for key in &failures {
            journal.forget(key)?;
        }
        bail!(
            "stopped: the first {} messages all failed the same way, so the fault is the relay's or the settings', \
             not the recipients': {reason}\nNothing was sent; fix that and run the same command again.",
            failures.len()
        );
    }
    let interrupted = cancel.is_cancelled();
    if read.whole_list && !interrupted {
        journal.finished()?;
    }
    let sent = shared.counts.sent.load(Ordering::SeqCst);
    let failed = shared.counts.failed.load(Ordering::SeqCst);
    let elapsed = started.elapsed();
    report(
        &read,
        sent,
        failed,
        shared.counts.retries.load(Ordering::SeqCst),
        elapsed,
        &options.list.subscribers,
    );
    if interrupted {
        println!(
            "Interrupted: messages in flight were finished and recorded. Run the same command again to resume."
        );
        return Ok(Outcome::Interrupted);
    }
    Ok(if failed > 0 { Outcome::Problems } else { Outcome::Done })
}

fn report(read: &Read, sent: u64, failed: u64, retries: u64, elapsed: Duration, list: &std::path::Path) {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 { sent as f64 / seconds } else { 0.0 };
    println!("  sent      {sent}");
    println!("  failed    {failed}{}", if failed > 0 { " (see `bulletin status`)" } else { "" });
    if retries > 0 {
        println!("  retried   {retries} time(s)");
    }
    let mut skipped = vec![];
    if read.tally.skipped() > 0 {
        skipped.push(read.tally.skipped_breakdown());
    }
    skipped.extend(read.plan.skips());
    if !skipped.is_empty() {
        println!("  skipped   {}", skipped.join(", "));
    }
    println!("  elapsed   {:.1}s, {rate:.1} messages/s", seconds);
    print!("{}", read.tally.problem_lines(&list.display().to_string()));
}

/// How many pending recipients' messages are made at once, on every core
/// (see [`make_in_order`]): small, so the first goes out at once and at
/// most two batches wait in memory.
const BATCH: usize = 64;

/// What the reading side keeps while it reads the list.
struct Reading<'a> {
    read: Read,
    journal: &'a mut Journal,
    /// Every row was read.
    exhausted: bool,
}

/// Reads the list and makes each pending recipient's message, feeding the
/// senders in list order; stops when they stop listening.
fn produce(
    job: Job,
    journal: &mut Journal,
    options: &SendOptions,
    tx: &mpsc::Sender<Outgoing>,
    cancel: &CancellationToken,
) -> anyhow::Result<Read> {
    let Job { mut reader, rendered, composer, .. } = job;
    let mut state =
        Reading { read: Read { tally: Tally::new(), ..Read::default() }, journal, exhausted: false };
    let mut stopped = false;
    make_in_order(
        BATCH,
        &mut state,
        |state| {
            if cancel.is_cancelled() {
                return Ok(Next::End);
            }
            let subscriber = match reader.next().transpose()? {
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
            let decision = decide(Some(&*state.journal), subscriber.email().key(), options.retry_failed)?;
            Ok(if state.read.plan.admit(decision, options.limit) {
                Next::Item(subscriber)
            } else {
                Next::Nothing
            })
        },
        |subscriber| -> anyhow::Result<Outgoing> {
            let link = composer.unsubscribe_link(subscriber.email());
            let content = rendered.personalise(&Reader { subscriber, unsubscribe_url: &link });
            let message = composer.compose(subscriber, &content, &link, SystemTime::now())?;
            Ok(Outgoing {
                key: subscriber.email().key().to_owned(),
                address: subscriber.email().to_string(),
                // Read back rather than hashed again: it is per message.
                message_id: message
                    .headers()
                    .get_raw("Message-ID")
                    .map_or_else(|| composer.message_id(subscriber.email()), str::to_owned),
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
    read.whole_list = state.exhausted && !stopped;
    Ok(read)
}

/// One sender: takes the next message until there are none or the run
/// stops, then closes its connection.
async fn sender(
    shared: Arc<Shared>,
    queue: Arc<Mutex<mpsc::Receiver<Outgoing>>>,
    mut connection: Connection,
) -> anyhow::Result<()> {
    let result = loop {
        let next = tokio::select! {
            biased;
            () = shared.cancel.cancelled() => break Ok(()),
            next = async { queue.lock().await.recv().await } => next,
        };
        let Some(outgoing) = next else { break Ok(()) };
        if let Err(e) = deliver(&shared, &mut connection, outgoing).await {
            break Err(e);
        }
    };
    connection.close().await;
    result
}

/// Hands one message over, trying again after temporary failures. Each
/// attempt's `sending` is on disk before the message is handed over; the
/// answer is queued, and on disk before this sender's next `sending`.
async fn deliver(shared: &Shared, connection: &mut Connection, outgoing: Outgoing) -> anyhow::Result<()> {
    let Outgoing { key, address, message_id, envelope, bytes } = outgoing;
    let mut backoff = ExponentialBuilder::default()
        .with_min_delay(shared.smtp.retry_delay)
        .with_max_delay(MAX_RETRY_DELAY)
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(shared.smtp.attempts.saturating_sub(1) as usize)
        .build();
    let mut attempt = 1;
    loop {
        if let Some(limiter) = &shared.limiter {
            tokio::select! {
                biased;
                () = shared.cancel.cancelled() => {
                    // Never handed over on this attempt: pending again.
                    if attempt > 1 {
                        shared.forget(&key)?;
                    }
                    return Ok(());
                }
                () = limiter.until_ready() => {}
            }
        } else if shared.cancel.is_cancelled() && attempt > 1 {
            shared.forget(&key)?;
            return Ok(());
        }
        let sending =
            Change::Sending { key: key.clone(), address: address.clone(), message_id: message_id.clone() };
        shared.record(sending).await?;
        let result = connection.submit(&envelope, &bytes).await;
        match result {
            Ok(reply) => {
                shared.queue(Change::Answered {
                    key: key.clone(),
                    state: State::Sent,
                    reply: reply.clone(),
                })?;
                shared.early_stop.sent();
                shared.counts.sent.fetch_add(1, Ordering::SeqCst);
                tracing::info!(to = %address, %reply, attempt, "sent");
                return Ok(());
            }
            Err(Failure { transient: true, text }) => {
                if let Some(delay) = backoff.next() {
                    tracing::info!(to = %address, %text, attempt, retry_in = ?delay, "temporary failure");
                    shared.counts.retries.fetch_add(1, Ordering::SeqCst);
                    attempt += 1;
                    tokio::select! {
                        () = shared.cancel.cancelled() => {
                            shared.forget(&key)?;
                            return Ok(());
                        }
                        () = tokio::time::sleep(delay) => continue,
                    }
                }
                let text = format!("{text} (gave up after {attempt} attempts)");
                failed(shared, &key, &address, &text)?;
                return Ok(());
            }
            Err(Failure { transient: false, text }) => {
                failed(shared, &key, &address, &text)?;
                return Ok(());
            }
        }
    }
}

fn failed(shared: &Shared, key: &str, address: &str, text: &str) -> anyhow::Result<()> {
    shared.queue(Change::Answered { key: key.to_owned(), state: State::Failed, reply: text.to_owned() })?;
    shared.counts.failed.fetch_add(1, Ordering::SeqCst);
    tracing::warn!(to = %address, reason = %text, "failed");
    if shared.early_stop.failed(key, text) {
        shared.cancel.cancel();
    }
    Ok(())
}

/// First Ctrl-C: stop taking new messages and finish those in flight.
/// Second: leave at once (every journal commit is whole, so it stays
/// consistent).
fn watch_interrupts(cancel: CancellationToken) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        eprintln!("\nStopping: finishing the messages in flight (Ctrl-C again to quit at once)…");
        cancel.cancel();
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("Quit. The journal is consistent; run the same command again to resume.");
            std::process::exit(130);
        }
    });
}
