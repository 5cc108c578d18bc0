//! `bulletin send --dry-run`: every recipient's message made and checked,
//! and written to files if asked, with no network.

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::SendOptions;
use crate::commands::{Outcome, describe_bulletin, prepare, warn};
use crate::config::Source;
use crate::deliver::FileOutbox;
use crate::message::GMAIL_CLIP_BYTES;
use crate::render::Reader;
use crate::report::Tally;
use crate::subscribers::Row;

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
    for row in job.reader.by_ref() {
        let subscriber = match row? {
            Row::Skipped(skip) => {
                tally.skip(skip);
                continue;
            }
            Row::Subscribed(subscriber) => subscriber,
        };
        let link = job.composer.unsubscribe_link(subscriber.email());
        let reader = Reader { subscriber: &subscriber, unsubscribe_url: &link };
        let content = job.rendered.personalise(&reader);
        for name in job.rendered.empty_fields(&subscriber) {
            *empty_fields.entry(name.to_string()).or_default() += 1;
        }
        if content.html.len() > GMAIL_CLIP_BYTES {
            clipped += 1;
        }
        let message = job.composer.compose(&subscriber, &content, &link, now)?;
        // Encoded as it would be sent, whether or not it is written.
        let bytes = message.formatted();
        total_bytes += bytes.len() as u64;
        if let Some(outbox) = &mut outbox {
            outbox.write(&subscriber, &content.subject, &bytes, &content.html)?;
        }
        tally.recipients += 1;
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
