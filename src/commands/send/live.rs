//! The real send: every pending recipient's message handed to the relay
//! by `--concurrency` senders, each with a connection of its own, under one
//! rate limit, with retries, and each step written to the journal, so a
//! re-run resumes where this one stopped.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio_util::sync::CancellationToken;

use super::SendOptions;
use super::allowance::Allowance;
use super::refusals::{refuse_duplicates, refuse_placeholders, refuse_unsigned_links};
use super::staff::{Ending, Staff};
use crate::commands::{Outcome, Ui, prepare, warn};
use crate::config::{SendWindow, SmtpSettings, Source};
use crate::deliver::plan::{Plan, plan, received_elsewhere, text_of};
use crate::deliver::smtp::{Connection, Relay};
use crate::deliver::{Counts, Feeding, Finished, Halt, Policy, Read, Slowdowns};
use crate::domain::{Clock, EmailAddress, SystemClock};
use crate::job::Job;
use crate::journal::{CampaignLock, Elsewhere, Journal, StartLock, State};
use crate::report::printable;
use crate::report::{Count, Progress};
use crate::subscribers::{LiveSuppression, Row, SubscriberReader};

pub(super) fn run(options: &SendOptions, env: &Source, ui: Ui) -> anyhow::Result<Outcome> {
    let (job, rows) = prepare(&options.bulletin, &options.list, env)?;
    refuse_placeholders(&job, &options.to)?;
    let smtp = SmtpSettings::from_source(env, &options.smtp)?;
    let runtime = crate::runtime()?;
    let relay = Relay::new(&smtp)?;
    if !options.to.is_empty() {
        return runtime.block_on(test_copies(options, job, rows, &relay, &SystemClock));
    }
    let staff_email = crate::config::staff_email(env)?;
    let window = crate::config::send_window(env)?;
    // A send of this campaign already running: refused before the plan.
    CampaignLock::check(&options.state_dir, &job.bulletin.campaign)?;
    // Nothing is created on disk until the send is confirmed.
    let existing = Journal::open_existing(&options.state_dir, &job.bulletin.campaign)?;
    let choice = options.choice();
    let elsewhere = received_elsewhere(existing.as_ref(), &job.bulletin, SystemClock.now())?;
    let plan = plan(job.rows()?, existing.as_ref(), &elsewhere, choice)?;
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
        if let Some(window) = &window {
            println!("  window    {}", super::window::plan_line(window, SystemClock.now()));
        }
    }
    refuse_duplicates(&plan, choice)?;
    if plan.to_send == 0 {
        println!("Nothing to send.");
        return Ok(Outcome::Done);
    }
    let allowance = match smtp.per_day {
        Some(per_day) => {
            let allowance = Allowance::today(&options.state_dir, per_day.get(), SystemClock.now())?;
            if allowance.left == 0 {
                println!("{}", allowance.used_up(0, plan.to_send));
                return Ok(Outcome::QuotaUsed);
            }
            println!("  allowance {} of {per_day} left today", allowance.left);
            Some(allowance)
        }
        None => None,
    };
    confirm(options.yes)?;
    // One send of a campaign at a time: refused here, before the relay is
    // contacted, if another run holds it; held until this run ends.
    // Shared by every send to its end, so `bulletin forget` never runs
    // beside one; a send that read the lists while an address was being
    // forgotten waits here, and the suppression list it reads again below
    // (LiveSuppression) then has the address's pseudonym.
    let _state = crate::journal::StateLock::shared(&options.state_dir, || {
        eprintln!("waiting for `bulletin forget` to finish…")
    })
    .with_context(|| format!("cannot lock the state folder {}", options.state_dir.display()))?;
    let (_lock, journal) = lock_the_text(options, &job, existing)?;
    // Read again under the locks: a run of a copy of this bulletin that
    // ended since the plan was made has reached people this run must skip.
    let again = received_elsewhere(Some(&journal), &job.bulletin, SystemClock.now())?;
    let (elsewhere, total) = if again.len() == elsewhere.len() {
        (elsewhere, plan.to_send)
    } else {
        let plan = crate::deliver::plan::plan(job.rows()?, Some(&journal), &again, choice)?;
        refuse_duplicates(&plan, choice)?;
        (again, plan.to_send)
    };
    let staff = staff_email.map(|to| Staff::new(to, &job, options, ui.quiet));
    let approved =
        Approved { job, rows, journal, elsewhere, total, allowance, relay: relay.clone(), smtp, window };
    let mut ending = Ending::default();
    let outcome = runtime.block_on(send(options, approved, ui, &mut ending));
    if let Some(staff) = staff {
        runtime.block_on(staff.report(&relay, ending, &outcome));
    }
    outcome
}

/// Takes the campaign's lock and records the run, with the text it sends,
/// in the journal; refuses if another run holds the lock of a campaign
/// with the same text or nearly (two names of one bulletin). All under the
/// [`StartLock`], so of two such runs started together one goes ahead.
fn lock_the_text(
    options: &SendOptions,
    job: &Job,
    existing: Option<Journal>,
) -> anyhow::Result<(CampaignLock, Journal)> {
    let state_dir = &options.state_dir;
    let _start = StartLock::acquire(state_dir)
        .with_context(|| format!("cannot lock the state folder {}", state_dir.display()))?;
    let lock = CampaignLock::acquire(state_dir, &job.bulletin.campaign, &SystemClock)?;
    let journal = match existing {
        Some(journal) => journal,
        None => Journal::open(state_dir, &job.bulletin.campaign)?,
    };
    let text = text_of(&job.bulletin);
    let others = journal.campaigns_sending_the_same(text)?;
    CampaignLock::refuse_if_sending(state_dir, &job.bulletin.campaign, &others)?;
    // Recorded before the start lock goes, so a run of the same text that
    // starts next finds this one.
    journal.started(&job.bulletin.path, &job.bulletin.subject_text(), text)?;
    Ok((lock, journal))
}

fn print_plan(job: &Job, plan: &Plan, relay: &Relay, smtp: &SmtpSettings, options: &SendOptions) {
    println!("Sending {}", job.bulletin.describe());
    let skips = plan.skips();
    let skips = if skips.is_empty() { String::new() } else { format!(" ({})", skips.join(", ")) };
    println!("  to        {} recipient(s){skips}", plan.to_send);
    for line in plan.duplicates() {
        println!("  earlier   {line}");
    }
    println!("  via       {}", relay.name());
    match &job.settings.bounce_address {
        Some(bounce) => {
            let text = bounce.to_string();
            let (local, domain) = text.rsplit_once('@').unwrap_or((&text, ""));
            println!(
                "  bounces   to {bounce}, as {local}+TOKEN@{domain} (a token signed per recipient, so \
                 only reports about our messages are believed)"
            );
        }
        None => println!("  bounces   to {}", job.settings.envelope_sender()),
    }
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
async fn test_copies(
    options: &SendOptions,
    job: Job,
    mut rows: SubscriberReader,
    relay: &Relay,
    clock: &dyn Clock,
) -> anyhow::Result<Outcome> {
    let addresses = options
        .to
        .iter()
        .map(|a| EmailAddress::parse(a).map_err(|e| anyhow::anyhow!("--to {a}: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let subscriber = loop {
        match rows.next().transpose()? {
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
        let message = job.test_copy_for(&subscriber, to, clock.now().as_system_time())?.message;
        match connection.submit(message.envelope(), &message.formatted()).await {
            Ok(reply) => {
                println!(
                    "test copy sent to {to} (as {}): {}",
                    subscriber.email(),
                    printable(&reply.to_string())
                );
            }
            Err(failure) => {
                failed += 1;
                eprintln!("error: test copy to {to} failed: {}", printable(&failure.to_string()));
            }
        }
    }
    connection.close().await;
    Ok(if failed == 0 { Outcome::Done } else { Outcome::Problems })
}

/// What the checks before a send settled: the job and its list, the
/// campaign's journal (locked), who had the bulletin under another
/// campaign, how many are to be sent, and today's allowance.
struct Approved {
    job: Job,
    rows: SubscriberReader,
    journal: Journal,
    elsewhere: Elsewhere,
    total: u64,
    allowance: Option<Allowance>,
    relay: Relay,
    smtp: SmtpSettings,
    /// `SEND_WINDOW`, if set.
    window: Option<SendWindow>,
}

/// The send itself: the feed on a thread of its own, the senders on the
/// runtime, the progress display, then the summary; what the staff
/// report needs is kept in `ending` as it goes.
async fn send(
    options: &SendOptions,
    approved: Approved,
    ui: Ui,
    ending: &mut Ending,
) -> anyhow::Result<Outcome> {
    let Approved { job, rows, journal, elsewhere, total, allowance, relay, smtp, window } = approved;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    ending.started = Some(clock.now());
    ending.pending = total;
    // The first connection is the check that the relay takes us; the first
    // sender keeps it.
    let first =
        relay.connect().await.map_err(|f| anyhow::anyhow!("cannot use the relay {}: {f}", relay.name()))?;
    let started = Instant::now();
    let cancel = CancellationToken::new();
    watch_interrupts(cancel.clone());

    let reader_journal = Journal::open(&options.state_dir, &job.bulletin.campaign)?;
    let gate = window.map(|window| super::window::gate(window, Arc::clone(&clock)));
    let feeding = Feeding {
        job,
        rows,
        journal: reader_journal,
        elsewhere,
        choice: options.choice(),
        clock: Arc::clone(&clock),
        gate: gate.clone(),
        queue: smtp.concurrency * 2,
    };
    let counts = Arc::new(Counts::default());
    let progress = Progress::start(total, ui.quiet, Arc::clone(&counts));
    let transports: Vec<Connection> =
        std::iter::once(first).chain((1..smtp.concurrency).map(|_| relay.connection())).collect();
    // Whoever unsubscribes while the send runs is not mailed after it.
    let suppressed = Some(Arc::new(LiveSuppression::new(options.list.clone(), |w| warn(&w))));
    let policy = Policy {
        rate: smtp.rate,
        attempts: smtp.attempts,
        retry_delay: smtp.retry_delay,
        allowance: allowance.as_ref().map(|a| a.left),
        suppressed,
        gate: gate.clone(),
    };
    let (finished, read) =
        crate::deliver::run(feeding, transports, journal, policy, cancel.clone(), Arc::clone(&counts)).await;
    let read = read.expect("the reader panicked")?;
    progress.finish().await;
    let Finished { journal, halt, slowdowns } = finished?;

    if let Some(Halt::Failing { reason, forgotten: failures }) = &halt {
        bail!(
            "stopped: the first {failures} messages all failed the same way, so the fault is the relay's or the settings', \
             not the recipients': {reason}\nNothing was sent; fix that and run the same command again."
        );
    }
    let interrupted = cancel.is_cancelled() && halt.is_none();
    if read.whole_list && !cancel.is_cancelled() {
        journal.finished()?;
    }
    let sent = counts.sent.load(Ordering::SeqCst);
    let failed = counts.failed.load(Ordering::SeqCst);
    let count = Count { sent, failed, held_back: counts.suppressed.load(Ordering::SeqCst), of: total };
    report(&read, count, counts.retries.load(Ordering::SeqCst), started.elapsed(), &options.list.subscribers);
    if let Some(paused) = gate.and_then(|gate| gate.paused_for()) {
        println!("  paused    {}", super::window::summary_line(paused));
    }
    if let Some(slowdowns) = slowdowns {
        report_slowdowns(slowdowns, counts.throttled.load(Ordering::SeqCst));
    }
    let pending = total.saturating_sub(sent + failed);
    (ending.count, ending.pending, ending.skipped) = (Some(count), pending, skipped(&read));
    let (stopped, outcome) = match &halt {
        Some(Halt::Quota(reply)) => (
            format!(
                "Stopped: the relay's quota is used up: {sent} sent, {pending} pending; run the same command \
                 again when it resets.\nThe relay said: {reply}"
            ),
            Outcome::QuotaUsed,
        ),
        Some(Halt::Allowance) => {
            let allowance = allowance.expect("only a daily allowance halts the run so");
            (format!("Stopped: {}", allowance.used_up(sent, pending)), Outcome::QuotaUsed)
        }
        _ if interrupted => (
            "Interrupted: messages in flight were finished and recorded. Run the same command again to resume."
                .to_owned(),
            Outcome::Interrupted,
        ),
        _ => return Ok(if failed > 0 { Outcome::Problems } else { Outcome::Done }),
    };
    println!("{stopped}");
    ending.stopped = Some(stopped);
    Ok(outcome)
}

fn report(read: &Read, count: Count, retries: u64, elapsed: Duration, list: &std::path::Path) {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 { count.sent as f64 / seconds } else { 0.0 };
    println!("  {count}{}", if count.failed > 0 { " (see `bulletin status`)" } else { "" });
    if retries > 0 {
        println!("  retried   {retries} time(s)");
    }
    let skipped = skipped(read);
    if !skipped.is_empty() {
        println!("  skipped   {}", skipped.join(", "));
    }
    if count.held_back > 0 {
        println!("  held back {} unsubscribed during the send (not mailed)", count.held_back);
    }
    if let Some(lines) = read.tally.lines {
        let how = lines.how_read().map(|how| format!("; {how}")).unwrap_or_default();
        println!("  read      {lines}{how}");
    }
    println!("  elapsed   {:.1}s, {rate:.1} messages/s", seconds);
    print!("{}", read.tally.problem_lines(&list.display().to_string()));
}

/// The rows not mailed, and why: the list's, then the journal's.
fn skipped(read: &Read) -> Vec<String> {
    let mut skipped = vec![];
    if read.tally.skipped() > 0 {
        skipped.push(read.tally.skipped_breakdown());
    }
    skipped.extend(read.plan.skips());
    skipped
}

/// How the relay's "slow down" replies shaped the run.
fn report_slowdowns(slowdowns: Slowdowns, throttled: u64) {
    println!(
        "  throttled the relay said \"slow down\" {throttled} time(s): the pace fell {} time(s), to {:.1} \
         messages/s at the lowest; those tries were made again and are not counted as retries",
        slowdowns.times, slowdowns.lowest,
    );
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
