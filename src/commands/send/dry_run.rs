//! `bulletin send --dry-run`: every recipient's message made and checked,
//! and written to files if asked, with no network.

use std::collections::BTreeMap;
use std::time::SystemTime;

use rayon::prelude::*;

use super::SendOptions;
use crate::commands::{Outcome, describe_bulletin, prepare, warn};
use crate::config::Source;
use crate::deliver::FileOutbox;
use crate::message::{Composer, GMAIL_CLIP_BYTES, MessageError};
use crate::render::{Reader, Rendered};
use crate::report::Tally;
use crate::subscribers::{Row, Subscriber, SubscriberReader};

/// How many subscribers are made into messages at once, on every core:
/// enough to keep each core busy between hand-overs, few enough that memory
/// stays flat (two batches at most, about 6 MB with `--out`).
const BATCH: usize = 256;

pub(super) fn run(options: &SendOptions, env: &Source, now: SystemTime) -> anyhow::Result<Outcome> {
    let mut job = prepare(&options.bulletin, &options.list, env)?;
    let list = options.list.subscribers.display().to_string();
    let mut outbox = match &options.out {
        Some(dir) => Some(FileOutbox::create(dir, &describe_bulletin(&job.bulletin))?),
        None => None,
    };

    let mut tally = Tally::new();
    let mut clipped = 0u64;
    let mut total_bytes = 0u64;
    let mut empty_fields: BTreeMap<String, u64> = BTreeMap::new();
    let maker = Maker { rendered: &job.rendered, composer: &job.composer, now, keep: outbox.is_some() };
    let reader = &mut job.reader;
    let mut batch = read_batch(reader, &mut tally);
    loop {
        // Read the next batch while every core makes this one.
        let (next, made) = rayon::join(
            || if batch.error.is_none() { Some(read_batch(reader, &mut tally)) } else { None },
            || batch.subscribers.par_iter().map(|s| maker.make(s)).collect::<Vec<_>>(),
        );
        for (subscriber, made) in batch.subscribers.iter().zip(made) {
            let made = made?;
            total_bytes += made.size as u64;
            clipped += u64::from(made.clipped);
            for name in made.empty_fields {
                *empty_fields.entry(name).or_default() += 1;
            }
            if let (Some(outbox), Some((bytes, subject, html))) = (&mut outbox, made.files) {
                outbox.write(subscriber, &subject, &bytes, &html)?;
            }
            tally.recipients += 1;
        }
        if let Some(error) = batch.error {
            return Err(error);
        }
        match next {
            Some(next) if !next.subscribers.is_empty() || next.error.is_some() => batch = next,
            _ => break,
        }
    }

    println!("Dry run of {} to {list}", describe_bulletin(&job.bulletin));
    print!("{}", tally.dry_run_summary());
    if tally.recipients > 0 {
        println!(
            "  size         {:.1} KB a message on average",
            total_bytes as f64 / tally.recipients as f64 / 1024.0
        );
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
    if let Some(outbox) = outbox {
        let index = outbox.finish()?;
        println!("Wrote {} message(s); open {}", tally.recipients, index.display());
    }
    if tally.recipients == 0 {
        warn("nobody on the list would receive this bulletin");
    }
    Ok(Outcome::Done)
}

/// What making a message needs, shared by every core.
struct Maker<'a> {
    rendered: &'a Rendered,
    composer: &'a Composer,
    now: SystemTime,
    keep: bool,
}

impl Maker<'_> {
    fn make(&self, subscriber: &Subscriber) -> Result<Made, MessageError> {
        let link = self.composer.unsubscribe_link(subscriber.email());
        let content = self.rendered.personalise(&Reader { subscriber, unsubscribe_url: &link });
        let empty_fields = self.rendered.empty_fields(subscriber).map(ToString::to_string).collect();
        let message = self.composer.compose(subscriber, &content, &link, self.now)?;
        // Encoded as it would be sent, whether or not it is written.
        let bytes = message.formatted();
        Ok(Made {
            size: bytes.len(),
            clipped: content.html.len() > GMAIL_CLIP_BYTES,
            empty_fields,
            files: self.keep.then_some((bytes, content.subject, content.html)),
        })
    }
}

/// One subscriber's message, made and encoded.
struct Made {
    size: usize,
    clipped: bool,
    /// Merge fields this subscriber has no value for.
    empty_fields: Vec<String>,
    /// The message, its subject and its HTML part, kept only to be written.
    files: Option<(Vec<u8>, String, String)>,
}

/// The next batch of subscribers, and the error that ended it early.
struct Batch {
    subscribers: Vec<Subscriber>,
    error: Option<anyhow::Error>,
}

fn read_batch(reader: &mut SubscriberReader, tally: &mut Tally) -> Batch {
    let mut subscribers = Vec::with_capacity(BATCH);
    while subscribers.len() < BATCH {
        match reader.next() {
            None => break,
            Some(Err(e)) => return Batch { subscribers, error: Some(e.into()) },
            Some(Ok(Row::Skipped(skip))) => tally.skip(skip),
            Some(Ok(Row::Subscribed(subscriber))) => subscribers.push(subscriber),
        }
    }
    Batch { subscribers, error: None }
}
