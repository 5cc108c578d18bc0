//! The staff report: after a send, an email to `STAFF_EMAIL` saying what
//! was sent, what failed (in the relay's words), what was skipped and why,
//! what is still pending, and what happened to the list since the last
//! report (sign-ups, unsubscribes, bounces, complaints); when the send
//! stopped early, the alert version, saying why and what to do next in the
//! words the terminal showed. It has the bulletin's look (a
//! [`Notice`](crate::render::Notice)) and goes through the same relay, with
//! the same DKIM signature.
//!
//! A command-line send fills a [`Run`] and calls [`send`]; a scheduled send
//! does the same. The report never touches the campaign's journal: the
//! staff address is no recipient of the bulletin. When the last report
//! went is kept in the state folder's store ([`store`]), so each report
//! counts the list's changes since the one before.

mod post;
mod store;

use std::path::PathBuf;

use crate::domain::{Reply, Timestamp};
use crate::render::{Notice, Span};
use crate::report::{Count, printable};
use crate::subscribers::Changes;
pub use post::{Delivery, StaffReportError, remind, send};
pub use store::{TABLE, last_sent};

/// The most failed addresses one report lists; the rest are counted.
pub const FAILURES_SHOWN: usize = 50;

/// One recipient the relay refused, or gave up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The address as written in the list.
    pub address: String,
    /// The relay's last answer.
    pub reply: Reply,
}

/// What one send did, as the report tells it.
#[derive(Debug, Clone)]
pub struct Run {
    /// The bulletin's subject.
    pub subject: String,
    /// Its campaign name.
    pub campaign: String,
    /// The bulletin's file, for `bulletin status`.
    pub bulletin: PathBuf,
    pub started: Timestamp,
    pub finished: Timestamp,
    /// The run's messages, by what became of them.
    pub count: Count,
    /// Messages the run set out to send that are still to go.
    pub pending: u64,
    /// Rows not mailed, and why, as the terminal's summary says them
    /// ("1 suppressed, 1 invalid", "3 already sent").
    pub skipped: Vec<String>,
    /// This run's failures, oldest first.
    pub failures: Vec<Failure>,
    /// Why the send stopped before the end, and what to do, as the
    /// terminal said it; `None` when it went through the list.
    pub stopped: Option<String>,
}

/// The reminder the day before a `SEND_EVERY` send, when no bulletin is
/// ready for it: in the report's look, saying what to do.
#[derive(Debug, Clone)]
pub struct Reminder {
    /// `Thursday`.
    pub day: String,
    /// `07:00`.
    pub time: String,
    /// `Thursday 10 December 2026 07:00 GMT`.
    pub when: String,
    /// Why nothing is ready, as the scheduler found it.
    pub why: String,
}

impl Reminder {
    /// The reminder's words: `list` is the list's name, for the footer.
    pub fn notice(&self, list: &str) -> Notice {
        let Self { day, time, when, why } = self;
        let subject = format!("No bulletin is ready for {day}'s {time} send");
        Notice::new(
            &subject,
            &format!("{when}: write one with bulletin new"),
            "A reminder for tomorrow",
            &format!(
                "This reminder goes to STAFF_EMAIL the day before each weekly send of {list} (SEND_EVERY) \
             when no bulletin is ready."
            ),
        )
        .paragraph([Span::Plain(&format!(
            "No bulletin is ready for {day}'s {time} send ({when}), so as things stand nothing will go."
        ))])
        .paragraph([Span::Strong("Why:"), Span::Plain(&format!(" {}", printable(why)))])
        .paragraph([
            Span::Plain("Write one with "),
            Span::Strong("bulletin new"),
            Span::Plain(", fill in every TODO: line, look at it with "),
            Span::Strong("bulletin preview"),
            Span::Plain(", and leave it without draft = true: it goes by itself at the time."),
        ])
    }
}

/// The list's changes since the last report.
#[derive(Debug, Clone, Copy)]
pub struct Since {
    /// When the last report went; `None` before the first.
    pub last: Option<Timestamp>,
    pub changes: Changes,
}

/// The report's words: `list` is the list's name, for the footer.
pub fn notice(run: &Run, since: &Since, list: &str) -> Notice {
    let count = run.count;
    let (subject, heading) = match run.stopped {
        Some(_) => (format!("Stopped: {} ({count})", run.subject), "The send stopped early"),
        None => (format!("Sent: {} ({count})", run.subject), "The send is done"),
    };
    let mut notice = Notice::new(
        &subject,
        &format!("{count}; {} pending", run.pending),
        heading,
        &format!("This report goes to STAFF_EMAIL after each send of {list}."),
    );
    if let Some(why) = &run.stopped {
        // As the terminal showed it: a paragraph a line.
        let mut lines = why.lines().map(|line| printable(line).into_owned());
        let first = lines.next().unwrap_or_default();
        notice = notice.paragraph([Span::Strong("Why it stopped:"), Span::Plain(&format!(" {first}"))]);
        for line in lines {
            notice = notice.paragraph([Span::Plain(&line)]);
        }
    }
    notice = notice.paragraph([Span::Strong(&run.subject)]).paragraph([Span::Plain(&format!(
        "Campaign {}, started {}, finished {}.",
        run.campaign, run.started, run.finished
    ))]);
    let skipped = if run.skipped.is_empty() { "none".to_owned() } else { run.skipped.join(", ") };
    let mut counts = vec![
        format!("Sent: {}", count.sent),
        format!("Failed: {}", count.failed),
        format!("Skipped: {skipped}"),
        format!("Still pending: {}", run.pending),
    ];
    if count.held_back > 0 {
        counts.push(format!("Held back (unsubscribed during the send): {}", count.held_back));
    }
    notice = notice.list(counts.iter().map(String::as_str));
    if !run.failures.is_empty() {
        let mut failed: Vec<String> = run
            .failures
            .iter()
            .take(FAILURES_SHOWN)
            .map(|f| format!("{}: {}", printable(&f.address), printable(&f.reply.to_string())))
            .collect();
        if run.failures.len() > FAILURES_SHOWN {
            failed.push(format!("and {} more", run.failures.len() - FAILURES_SHOWN));
        }
        notice = notice
            .paragraph([Span::Strong("Failed"), Span::Plain(", with the relay's words:")])
            .list(failed.iter().map(String::as_str));
    }
    let when = match since.last {
        Some(last) => format!("since the last report ({last})"),
        None => "in the whole suppression list (this is the first report)".to_owned(),
    };
    let c = since.changes;
    let changes = [
        format!("New sign-ups (confirmed): {}", c.signups),
        format!("Unsubscribes: {}", c.unsubscribes),
        format!("Bounces: {} hard, {} soft", c.hard_bounces, c.soft_bounces),
        format!("Complaints: {}", c.complaints),
    ];
    notice
        .paragraph([Span::Strong("The list"), Span::Plain(&format!(" {when}:"))])
        .list(changes.iter().map(String::as_str))
        .paragraph([
            Span::Plain("To see everything, run "),
            Span::Strong(&format!("bulletin status {}", run.bulletin.display())),
            Span::Plain("."),
        ])
}

#[cfg(test)]
mod tests;
