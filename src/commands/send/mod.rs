//! `bulletin send`: the dry run, a test copy, or the real thing.

mod allowance;
mod dry_run;
mod live;
mod refusals;
mod staff;
mod window;

use std::path::PathBuf;
use std::time::SystemTime;

use super::{Outcome, Ui};
use crate::config::{SmtpOverrides, Source};
use crate::deliver::plan::Choice;
use crate::subscribers::Lists;
pub(in crate::commands) use window::plan_line as window_line;

/// Options of `bulletin send`.
#[derive(Debug, Clone)]
pub struct SendOptions {
    pub bulletin: PathBuf,
    pub list: Lists,
    /// Make and check every message but send nothing.
    pub dry_run: bool,
    /// Where a dry run writes its messages, if anywhere.
    pub out: Option<PathBuf>,
    /// Relay settings from the command line.
    pub smtp: SmtpOverrides,
    /// Send without asking.
    pub yes: bool,
    /// Where the journal lives.
    pub state_dir: PathBuf,
    /// Send a test copy to these addresses only.
    pub to: Vec<String>,
    /// Send to at most this many pending recipients.
    pub limit: Option<u64>,
    /// Try again the recipients an earlier run failed.
    pub retry_failed: bool,
    /// Send to those who already received the bulletin as another campaign.
    pub resend_duplicates: bool,
    /// Send to the rest though most already received the bulletin as
    /// another campaign.
    pub skip_duplicates: bool,
    /// Send a bulletin marked `draft = true` to the list.
    pub allow_draft: bool,
}

impl SendOptions {
    /// Whom the options let a send take from the list.
    fn choice(&self) -> Choice {
        Choice {
            limit: self.limit,
            retry_failed: self.retry_failed,
            resend_duplicates: self.resend_duplicates,
            skip_duplicates: self.skip_duplicates,
        }
    }
}

pub(super) fn run(options: &SendOptions, env: &Source, now: SystemTime, ui: Ui) -> anyhow::Result<Outcome> {
    if !options.dry_run && options.to.is_empty() {
        refuse_for_list(options)?;
        super::welcome::refuse_for_list(&options.bulletin, env)?;
    }
    if options.dry_run { dry_run::run(options, env, now) } else { live::run(options, env, ui) }
}

/// The checks a send to the list makes of the bulletin before anything
/// else: no draft (unless allowed), no slot left to fill. A scheduled send
/// makes them too, before it says it is sending.
pub(super) fn refuse_for_list(options: &SendOptions) -> anyhow::Result<()> {
    if !options.allow_draft {
        refuse_a_draft(&options.bulletin)?;
    }
    refuse_unfilled_slots(&options.bulletin)
}

/// A bulletin with a slot `bulletin new` left unfilled (a `TODO:` line) is
/// never sent to the list: its readers would see last week's shape with
/// nothing in it. A dry run, a preview and test copies show it as it is.
fn refuse_unfilled_slots(path: &std::path::Path) -> anyhow::Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(()) };
    let slots = crate::lint::slots(path, &text);
    if !slots.is_empty() {
        anyhow::bail!(
            "nothing was sent: the bulletin still has {} slot(s) to fill in\n{}",
            slots.len(),
            slots.iter().map(|s| crate::report::printable(s)).collect::<Vec<_>>().join("\n")
        );
    }
    Ok(())
}

/// A draft is not sent to the list without `--allow-draft`; a dry run, a
/// preview and test copies (`--to`) are how a draft is looked at, so they
/// go ahead. A bulletin that does not load is left for the send to report.
fn refuse_a_draft(path: &std::path::Path) -> anyhow::Result<()> {
    if let Ok(bulletin) = crate::content::Bulletin::load(path) {
        anyhow::ensure!(
            !bulletin.draft,
            "{} is a draft (`draft = true` in its front matter): take that line out to send it, or send \
             anyway with --allow-draft. A dry run, a preview and test copies (--to) work on drafts.",
            crate::report::printable(&path.display().to_string())
        );
    }
    Ok(())
}
