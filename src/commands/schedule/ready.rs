//! Which bulletin a `SEND_EVERY` occurrence sends: the newest bulletin in
//! `content/` that is ready, if it has not been sent to the list.
//!
//! The rule, in full:
//! 1. Ready: a `content/*.md` file that loads, is not a draft
//!    (`draft = true`), has no `TODO:` slot `bulletin new` left, is not
//!    `bulletin init`'s welcome sample nor the welcome bulletin `serve`
//!    sends each new reader (`welcome = true`, or `WELCOME_BULLETIN`), and is dated (its front matter's
//!    `date`, which `bulletin new` writes and names the file after) from
//!    seven days before the occurrence's day to that day. A bulletin dated
//!    later is for a later week; one dated earlier is old news (a past
//!    issue kept for the web archive, never sent by `bulletin`), never
//!    sent by the rule.
//! 2. Newest: the latest date; of one date, the last file name.
//! 3. Not sent: the journal has no run of its campaign that went through
//!    the whole list (as `bulletin status` says "finished"), and nobody
//!    received its text (or a near copy) as another campaign, which `send`
//!    would refuse as a duplicate. A campaign started and stopped part way
//!    (interrupted, the day's allowance) is not yet sent: the weekly send
//!    resumes it, as `bulletin send` would, mailing nobody twice.
//!
//! Only the newest ready bulletin is considered: if it was sent, an older
//! one is not sent instead, and nothing is ready.

use std::path::{Path, PathBuf};

use jiff::civil::Date;

use crate::config::Welcome;
use crate::content::Bulletin;
use crate::deliver::plan::received_elsewhere;
use crate::domain::Timestamp;
use crate::journal::Journal;
use crate::report::printable;

/// How many days before an occurrence a bulletin may be dated.
pub const WEEK_DAYS: i32 = 7;

/// What an occurrence would send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ready {
    /// This bulletin (its path as found in `content/`, absolute when the
    /// folder is), and whether its campaign is resumed.
    Bulletin { path: PathBuf, resumes: bool },
    /// Nothing, and why, in a sentence starting "no new bulletin in content/".
    Nothing(String),
}

/// The bulletin the occurrence on `day` sends, by `content/` and the
/// journal in `state_dir` as of `now`.
pub fn ready(
    content: &Path,
    state_dir: &Path,
    day: Date,
    now: Timestamp,
    welcome: &Welcome,
) -> anyhow::Result<Ready> {
    let first = (1..=WEEK_DAYS).try_fold(day, |d, _| d.yesterday())?;
    let dates = format!("dated {first} to {day}");
    let (newest, passed) = newest(content, first, day, welcome)?;
    let passed =
        if passed.is_empty() { String::new() } else { format!(" (passed over: {})", passed.join("; ")) };
    let Some(bulletin) = newest else {
        return Ok(Ready::Nothing(format!(
            "no new bulletin in content/: none {dates} is ready (not a draft, no TODO: left){passed}"
        )));
    };
    let shown = printable(&bulletin.path.display().to_string()).into_owned();
    let journal = Journal::open_existing(state_dir, &bulletin.campaign)?;
    let summary = match &journal {
        Some(journal) => journal.summary()?,
        None => Default::default(),
    };
    if let Some(finished) = summary.finished_at {
        return Ok(Ready::Nothing(format!(
            "no new bulletin in content/: the newest {dates}, {shown}, was sent to the list on {finished}"
        )));
    }
    let elsewhere = received_elsewhere(journal.as_ref(), &bulletin, now)?;
    if !elsewhere.is_empty() {
        return Ok(Ready::Nothing(format!(
            "no new bulletin in content/: the newest {dates}, {shown}, has the text of a bulletin already sent \
             ({} readers received it as another campaign)",
            elsewhere.len()
        )));
    }
    let resumes = summary.sent + summary.failed + summary.sending > 0;
    Ok(Ready::Bulletin { path: bulletin.path, resumes })
}

/// The newest ready bulletin of `content/` dated `first` to `last`, and
/// the files that do not load, each with why.
fn newest(
    content: &Path,
    first: Date,
    last: Date,
    welcome: &Welcome,
) -> anyhow::Result<(Option<Bulletin>, Vec<String>)> {
    let entries = match std::fs::read_dir(content) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((None, Vec::new())),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot list {}", content.display()))),
    };
    let mut best: Option<Bulletin> = None;
    let mut passed = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "md") || !path.is_file() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let bulletin = match Bulletin::parse(&path, &text) {
            Ok(bulletin) => bulletin,
            Err(e) => {
                passed.push(printable(&crate::domain::chain(&e)).into_owned());
                continue;
            }
        };
        let date = bulletin.date.to_string();
        let in_week = date >= first.to_string() && date <= last.to_string();
        let unready = bulletin.draft
            || !crate::lint::slots(&path, &text).is_empty()
            || crate::commands::init::is_welcome_sample(&text)
            || bulletin.welcome
            || welcome.is(&path);
        if !in_week || unready {
            continue;
        }
        if best.as_ref().is_none_or(|b| (&date, &path) > (&b.date.to_string(), &b.path)) {
            best = Some(bulletin);
        }
    }
    Ok((best, passed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, date: &str, extra: &str) {
        let preheader = if extra.contains("preheader") { "" } else { "preheader = \"This week\"\n" };
        let text = format!(
            "+++\nsubject = \"{name}\"\ndate = {date}\n{preheader}{extra}+++\n\nThe news of {name}.\n"
        );
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn now() -> Timestamp {
        Timestamp::parse("2026-12-10T07:00:00Z").unwrap()
    }

    fn picked(ready: Ready) -> String {
        match ready {
            Ready::Bulletin { path, .. } => path.file_name().unwrap().to_string_lossy().into_owned(),
            Ready::Nothing(why) => why,
        }
    }

    #[test]
    fn the_newest_bulletin_of_the_week_that_is_not_a_draft_nor_unfilled_is_picked() {
        let (content, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write(content.path(), "2026-12-08-ready.md", "2026-12-08", "");
        write(content.path(), "2026-12-07-older.md", "2026-12-07", "");
        write(content.path(), "2026-12-09-draft.md", "2026-12-09", "draft = true\n");
        write(content.path(), "2026-12-09-todo.md", "2026-12-09", "preheader = \"TODO: a line\"\n");
        write(content.path(), "2026-12-11-next-week.md", "2026-12-11", "");
        let got = ready(content.path(), state.path(), day("2026-12-10"), now(), &Welcome::Off).unwrap();
        assert_eq!(picked(got), "2026-12-08-ready.md");
    }

    #[test]
    fn nothing_is_ready_when_the_only_bulletins_are_old_news_drafts_or_for_later() {
        let (content, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        assert!(
            picked(ready(content.path(), state.path(), day("2026-12-10"), now(), &Welcome::Off).unwrap())
                .starts_with("no new bulletin in content/")
        );
        write(content.path(), "2026-12-02-old.md", "2026-12-02", "");
        write(content.path(), "2026-12-09-draft.md", "2026-12-09", "draft = true\n");
        write(content.path(), "2026-12-11-later.md", "2026-12-11", "");
        write(content.path(), "broken.md", "2026-12-09", "date = 2026-12-09\n");
        let why =
            picked(ready(content.path(), state.path(), day("2026-12-10"), now(), &Welcome::Off).unwrap());
        assert!(why.contains("none dated 2026-12-03 to 2026-12-10 is ready"), "{why}");
        assert!(why.contains("passed over: ") && why.contains("broken.md"), "{why}");
        write(content.path(), "2026-12-03-a-week-before.md", "2026-12-03", "");
        let got = ready(content.path(), state.path(), day("2026-12-10"), now(), &Welcome::Off).unwrap();
        assert_eq!(picked(got), "2026-12-03-a-week-before.md");
    }

    #[test]
    fn the_welcome_bulletin_is_never_the_weeks_bulletin() {
        let (content, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write(content.path(), "2026-12-07-news.md", "2026-12-07", "");
        write(content.path(), "2026-12-09-marked.md", "2026-12-09", "welcome = true\n");
        write(content.path(), "2026-12-09-named.md", "2026-12-09", "");
        let named = Welcome::Bulletin { path: content.path().join("2026-12-09-named.md"), configured: true };
        let got = ready(content.path(), state.path(), day("2026-12-10"), now(), &named).unwrap();
        assert_eq!(picked(got), "2026-12-07-news.md");
    }
}
