//! `bulletin send --dry-run`: every recipient's message made and checked,
//! and written to files if asked, with no network.

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::SendOptions;
use crate::commands::{Outcome, prepare, warn};
use crate::config::Source;
use crate::deliver::FileOutbox;
use crate::deliver::plan::{Plan, decide, received_elsewhere};
use crate::deliver::{Flow, Next, make_in_order};
use crate::job::{Job, Made};
use crate::journal::Journal;
use crate::message::{GMAIL_CLIP_BYTES, MessageError};
use crate::subscribers::Tally;
use crate::subscribers::{Row, Subscriber};

/// How many subscribers are made into messages at once, on every core:
/// enough to keep each core busy between hand-overs, few enough that memory
/// stays flat (two batches at most, about 12 MB with `--out`).
const BATCH: usize = 256;

pub(super) fn run(options: &SendOptions, env: &Source, now: SystemTime) -> anyhow::Result<Outcome> {
    let (job, mut reader) = prepare(&options.bulletin, &options.list, env)?;
    let list = options.list.subscribers.display().to_string();
    let mut outbox = match &options.out {
        Some(dir) => Some(FileOutbox::create(dir, &job.bulletin.describe(), &job.embedded)?),
        None => None,
    };

    let mut clipped = 0u64;
    let mut total_bytes = 0u64;
    let mut empty_fields: BTreeMap<String, u64> = BTreeMap::new();
    // The first recipient's message is looked at as `check` looks at it.
    let mut first: Option<Subscriber> = None;
    // Whom a real send would send to: the list read against the journal,
    // as the send reads it, so "would send" is what the send sends and
    // who it skips as having received this bulletin already is said in
    // the same words.
    let mut journal = Journal::open_existing(&options.state_dir, &job.bulletin.campaign)?;
    let elsewhere = received_elsewhere(journal.as_ref(), &job.bulletin, now.into())?;
    let choice = options.choice();
    let mut reading = Reading { tally: Tally::new(), plan: Plan::default(), journal: journal.as_mut() };
    let maker = Maker { job: &job, now, keep: outbox.is_some() };
    make_in_order(
        BATCH,
        &mut reading,
        |reading| {
            Ok(match reader.next().transpose()? {
                None => Next::End,
                Some(Row::Skipped(skip)) => {
                    reading.tally.skip(skip);
                    Next::Nothing
                }
                Some(Row::Subscribed(subscriber)) => {
                    let journal = reading.journal.as_deref();
                    let decision = decide(journal, &elsewhere, subscriber.email().key(), choice)?;
                    if reading.plan.admit(decision, choice.limit) {
                        Next::Item(subscriber)
                    } else {
                        Next::Nothing
                    }
                }
            })
        },
        |subscriber| maker.make(subscriber),
        |reading, subscriber, made| {
            let made = made?;
            total_bytes += made.size as u64;
            clipped += u64::from(made.clipped);
            for name in made.empty_fields {
                *empty_fields.entry(name).or_default() += 1;
            }
            if let (Some(outbox), Some((bytes, subject, html, sender))) = (&mut outbox, made.files) {
                outbox.write(&subscriber, &subject, &bytes, &html, &sender)?;
            }
            reading.tally.recipients += 1;
            first.get_or_insert(subscriber);
            Ok(Flow::Continue)
        },
    )?;

    let Reading { mut tally, plan, .. } = reading;
    tally.lines = reader.lines();
    println!("Dry run of {} to {list}", job.bulletin.describe());
    print!("{}", tally.dry_run_summary());
    let not_sent = plan.skips();
    if !not_sent.is_empty() {
        println!("  not sent     {}", not_sent.join(", "));
    }
    if let Some(lines) = job.audience.suppressed.lines() {
        println!("  suppression  {}: {lines}", options.list.suppression_path().0.display());
    }
    if tally.recipients > 0 {
        println!(
            "  size         {:.1} KB a message on average",
            total_bytes as f64 / tally.recipients as f64 / 1024.0
        );
    }
    for line in plan.duplicates() {
        println!("  earlier      {line}");
    }
    if let Some(why) = plan.stop_for_duplicates(choice) {
        warn(&format!("a send would stop before sending anything: {why}"));
    }
    print!("{}", tally.problem_lines(&list));
    for (name, count) in &empty_fields {
        let lines: Vec<String> = job
            .bulletin
            .field_uses
            .iter()
            .filter(|u| u.name.as_str() == name)
            .map(|u| u.line.to_string())
            .collect();
        warn(&format!(
            "{count} recipient(s) have no `{name}`, which {} uses without a default on line {}: \
             they will see nothing there (add `| default(\"…\")`)",
            options.bulletin.display(),
            lines.join(", ")
        ));
    }
    if clipped > 0 {
        warn(&format!(
            "{clipped} message(s) have more than {} KB of HTML: Gmail will clip them",
            GMAIL_CLIP_BYTES / 1024
        ));
    }
    if let Some(first) = &first {
        let (content, _) = job.content_for(first, now);
        if let Some(warning) = crate::lint::image_ratio(&job, &content.html) {
            warn(&warning);
        }
    }
    if let Some(outbox) = outbox {
        let index = outbox.finish()?;
        println!("Wrote {} message(s); open {}", tally.recipients, index.display());
    }
    if tally.recipients == 0 && plan.audience() == 0 {
        warn("nobody on the list would receive this bulletin");
    }
    Ok(Outcome::Done)
}

/// What the reading side keeps while it reads the list.
struct Reading<'a> {
    tally: Tally,
    plan: Plan,
    journal: Option<&'a mut Journal>,
}

/// What making a message needs, shared by every core.
struct Maker<'a> {
    job: &'a Job,
    now: SystemTime,
    keep: bool,
}

impl Maker<'_> {
    fn make(&self, subscriber: &Subscriber) -> Result<Checked, MessageError> {
        let Made { content, message } = self.job.message_for(subscriber, self.now)?;
        let empty_fields = self.job.rendered.empty_fields(subscriber).map(ToString::to_string).collect();
        // Encoded as it would be sent, whether or not it is written.
        let bytes = message.formatted();
        Ok(Checked {
            size: bytes.len(),
            clipped: content.html.len() > GMAIL_CLIP_BYTES,
            empty_fields,
            files: self.keep.then(|| {
                let sender = message.envelope().from().map(ToString::to_string).unwrap_or_default();
                (bytes, content.subject, content.html, sender)
            }),
        })
    }
}

/// One subscriber's message, made and encoded.
struct Checked {
    size: usize,
    clipped: bool,
    /// Merge fields this subscriber has no value for.
    empty_fields: Vec<String>,
    /// The message, its subject, its HTML part and its envelope sender,
    /// kept only to be written.
    files: Option<(Vec<u8>, String, String, String)>,
}
