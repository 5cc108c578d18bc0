//! `bulletin send`: every recipient's message, made and (for now) written by
//! a dry run.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::bail;

use super::{ListOptions, Outcome, describe_bulletin, prepare, warn};
use crate::config::Source;
use crate::deliver::FileOutbox;
use crate::message::GMAIL_CLIP_BYTES;
use crate::render::Reader;
use crate::report::Tally;
use crate::subscribers::Row;

/// Options of `bulletin send`.
#[derive(Debug, Clone)]
pub struct SendOptions {
    pub bulletin: PathBuf,
    pub list: ListOptions,
    /// Make and check every message but send nothing.
    pub dry_run: bool,
    /// Where a dry run writes its messages, if anywhere.
    pub out: Option<PathBuf>,
}

pub(super) fn run(options: &SendOptions, env: &Source, now: SystemTime) -> anyhow::Result<Outcome> {
    if !options.dry_run {
        bail!(
            "sending over SMTP is not built yet; run with --dry-run to make and check every message (add --out DIR to see them)"
        );
    }
    let mut job = prepare(&options.bulletin, &options.list, env)?;
    let list = options.list.subscribers.display().to_string();
    let mut outbox = match &options.out {
        Some(dir) => Some(FileOutbox::create(dir, &describe_bulletin(&job.bulletin))?),
        None => None,
    };

    let mut tally = Tally::new();
    let mut clipped = 0u64;
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
        if let Some(outbox) = &mut outbox {
            outbox.write(&subscriber, &content.subject, &message.formatted(), &content.html)?;
        }
        tally.recipients += 1;
    }

    println!("Dry run of {} to {list}", describe_bulletin(&job.bulletin));
    print!("{}", tally.dry_run_summary(&list));
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
