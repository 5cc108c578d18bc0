//! `bulletin preview`: one recipient's message as HTML, text and `.eml`
//! files, to look at before sending.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::bail;

use super::{Outcome, prepare};
use crate::config::Source;
use crate::deliver::file_stem;
use crate::domain::EmailKey;
use crate::job::Made;
use crate::output_folder::OutputFolder;
use crate::subscribers::Lists;
use crate::subscribers::{Row, Subscriber};

/// Options of `bulletin preview`.
#[derive(Debug, Clone)]
pub struct PreviewOptions {
    pub bulletin: PathBuf,
    pub list: Lists,
    /// Whose message to show; `None` for the first recipient.
    pub subscriber: Option<String>,
    /// Where to write the files.
    pub out: PathBuf,
    /// Serve a live preview instead of writing files.
    pub serve: Option<Serve>,
}

/// How to serve a live preview.
#[derive(Debug, Clone)]
pub struct Serve {
    pub port: u16,
    /// Open the page in the default browser.
    pub open: bool,
    /// The settings file to read (again on each change), and whether it must exist.
    pub env_file: PathBuf,
    pub env_required: bool,
}

impl Serve {
    /// The port `--serve` listens on unless told otherwise.
    pub const DEFAULT_PORT: u16 = crate::http::preview::DEFAULT_PORT;
}

pub(super) fn run(options: &PreviewOptions, env: &Source, now: SystemTime) -> anyhow::Result<Outcome> {
    if let Some(serve) = &options.serve {
        let sources = crate::http::preview::Sources {
            bulletin: options.bulletin.clone(),
            list: options.list.clone(),
            env_file: serve.env_file.clone(),
            env_required: serve.env_required,
            clock: std::sync::Arc::new(crate::domain::SystemClock),
        };
        crate::http::preview::serve(sources, serve.port, serve.open)?;
        return Ok(Outcome::Done);
    }
    let (job, mut rows) = prepare(&options.bulletin, &options.list, env)?;
    let list = options.list.subscribers.display().to_string();
    let wanted = options.subscriber.as_deref().map(EmailKey::of);
    let subscriber = find(&mut rows, wanted.as_ref(), &list)?;
    let Made { content, message } = job.message_for(&subscriber, now)?;

    let mut folder = OutputFolder::open(&options.out)?;
    let stem = file_stem(1, subscriber.email().as_str());
    // The HTML file finds the embedded images beside it, not by cid:.
    for image in &job.embedded {
        folder.write(&image.name, &image.picture.bytes)?;
    }
    let html = crate::content::images::shown_from(&content.html, &job.embedded, "");
    let files = [
        (format!("{stem}.html"), html.into_bytes()),
        (format!("{stem}.txt"), content.text.into_bytes()),
        (format!("{stem}.eml"), message.formatted()),
    ];
    let file = subscriber.file().map_or(list, |f| f.display().to_string());
    println!(
        "Preview for {} (line {} of {file}), subject: {}",
        subscriber.email(),
        subscriber.line(),
        content.subject
    );
    for (name, bytes) in files {
        let path = folder.write(&name, &bytes)?;
        println!("  {}", path.display());
    }
    Ok(Outcome::Done)
}

/// The first recipient, or the one whose address key is `wanted`; says why
/// when that person would not receive the bulletin.
fn find(
    rows: &mut impl Iterator<Item = Result<Row, crate::subscribers::SubscribersError>>,
    wanted: Option<&EmailKey>,
    list: &str,
) -> anyhow::Result<Subscriber> {
    for row in rows {
        match (row?, wanted) {
            (Row::Subscribed(s), None) => return Ok(s),
            (Row::Subscribed(s), Some(key)) if s.email().key() == key => return Ok(s),
            (Row::Skipped(skip), Some(key))
                if skip.email.as_deref().map(EmailKey::of).as_ref() == Some(key) =>
            {
                let file = skip.file.as_deref().map_or_else(|| list.to_owned(), |f| f.display().to_string());
                bail!(
                    "{file}:{}: {} would not receive this bulletin: {}",
                    skip.line,
                    skip.email.unwrap_or_default(),
                    skip.reason
                )
            }
            _ => {}
        }
    }
    match wanted {
        Some(key) => bail!("{key} is not in {list}"),
        None => bail!("nobody in {list} would receive this bulletin"),
    }
}
