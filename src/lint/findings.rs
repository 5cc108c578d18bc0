//! Findings: every problem with a bulletin, its list and the settings,
//! gathered at once without sending or writing anything, for `check` and
//! the live preview. The inputs come through the same door as a send's
//! ([`crate::job`]), so what `check` passes, a send accepts.

use std::path::Path;
use std::time::SystemTime;

use crate::config::{Settings, Source};
use crate::job::{Inputs, Job, JobError};
use crate::subscribers::{Audience, Lists, Row, SubscriberReader, Suppressions};

/// What a check found.
#[derive(Debug, Default)]
pub struct Findings {
    /// Problems that need fixing: each one line, naming file and line.
    pub errors: Vec<String>,
    /// Risks worth a look.
    pub warnings: Vec<String>,
    /// How many would receive the bulletin.
    pub recipients: u64,
    /// How many rows are not mailed.
    pub skipped: u64,
    /// The bulletin's campaign and subject, or its path if it did not parse.
    pub what: String,
    /// Each list's lines accounted for, and how it was read: one line each.
    pub read: Vec<String>,
    /// The DKIM signer, when set up: its DNS record is printed.
    pub dkim: Option<std::sync::Arc<crate::dkim::Dkim>>,
}

/// Checks the bulletin, its merge fields against the list, every row of the
/// list, the suppression list and the settings; prints nothing.
pub fn findings(bulletin_path: &Path, lists: &Lists, env: &Source) -> Findings {
    let mut found = Findings::default();
    let Inputs { settings, bulletin, suppressed } = Inputs::load(bulletin_path, lists, env);
    let settings = match settings {
        Ok(settings) => {
            found.warnings.extend(settings.other_warnings());
            found.warnings.extend(super::settings(&settings));
            found.dkim = settings.dkim.clone();
            settings
        }
        Err(e) => {
            found.errors.push(e.to_string());
            Settings::from_source(&Source::default()).expect("placeholders are valid")
        }
    };
    let bulletin = match bulletin {
        Ok(bulletin) => {
            found.warnings.extend(super::bulletin(&bulletin));
            if let Ok(text) = std::fs::read_to_string(&bulletin.path) {
                found.errors.extend(super::slots(&bulletin.path, &text));
            }
            Some(bulletin)
        }
        Err(e) => {
            found.errors.push(e.to_string());
            None
        }
    };
    let suppressed = match suppressed {
        Ok((suppressed, problems)) => {
            found.warnings.extend(problems);
            if let Some(lines) = suppressed.lines() {
                let how = lines.how_read().map(|how| format!("; {how}")).unwrap_or_default();
                found.read.push(format!("{}: {lines}{how}", lists.suppression_path().0.display()));
            }
            suppressed
        }
        Err(e) => {
            found.errors.push(e.to_string());
            Suppressions::default()
        }
    };
    found.what = bulletin.as_ref().map_or_else(|| bulletin_path.display().to_string(), |b| b.describe());

    let list = &lists.subscribers;
    let audience = Audience { suppressed, segment: bulletin.as_ref().and_then(|b| b.segment.clone()) };
    let rows = match SubscriberReader::with_signups(list, audience.clone()) {
        Ok(rows) => rows,
        Err(e) => {
            found.errors.push(e.to_string());
            // Who would receive it is unknown: the example's values count as reaching someone.
            super::examples(&mut found, &settings, env.has_file(), true);
            return found;
        }
    };
    let columns = rows.columns().clone();
    let settings_only = bulletin.is_none().then(|| settings.clone());
    let job = bulletin.and_then(|b| match Job::new(settings, b, audience, columns, list, Vec::new()) {
        Ok(job) => {
            found.warnings.extend(job.warnings.iter().cloned());
            Some(job)
        }
        Err(JobError::Fields(unknown)) => {
            found.errors.extend(unknown.iter().map(ToString::to_string));
            None
        }
        Err(e) => {
            found.errors.push(e.to_string());
            None
        }
    });
    let reaches_anyone = check_rows(&mut found, job.as_ref(), rows, &lists.subscribers.display().to_string());
    if let Some(settings) = job.as_ref().map(|job| &job.settings).or(settings_only.as_ref()) {
        super::examples(&mut found, settings, env.has_file(), reaches_anyone);
    }
    found
}

/// Reads every row, then makes the first recipient's message and looks at
/// it; says whether any recipient is on a domain that is someone's (see
/// [`crate::config::reaches_no_one`]).
fn check_rows(found: &mut Findings, job: Option<&Job>, mut rows: SubscriberReader, list: &str) -> bool {
    let mut reaches_anyone = false;
    let mut tally = crate::subscribers::Tally::keeping(usize::MAX);
    let mut first = None;
    let mut international = Vec::new();
    for row in rows.by_ref() {
        match row {
            Err(e) => {
                found.errors.push(e.to_string());
                break;
            }
            Ok(Row::Skipped(skip)) => tally.skip(skip),
            Ok(Row::Subscribed(s)) => {
                tally.recipients += 1;
                reaches_anyone |= !crate::config::reaches_no_one(s.email());
                if !s.email().as_lettre().user().is_ascii() {
                    international.push(s.email().to_string());
                }
                first.get_or_insert(s);
            }
        }
    }
    if let Some(lines) = rows.lines() {
        let how = lines.how_read().map(|how| format!("; {how}")).unwrap_or_default();
        found.read.insert(0, format!("{list}: {lines}{how}"));
    }
    found.errors.extend(tally.problems().iter().map(|p| p.located(list)));
    if let Some(example) = international.first() {
        found.warnings.push(format!(
            "{} address(es), such as {example}, have non-ASCII letters before the @: only a relay \
             that supports SMTPUTF8 can take them; others will fail",
            international.len()
        ));
    }
    if let (Some(job), Some(subscriber)) = (job, first) {
        let (content, _) = job.content_for(&subscriber);
        found.warnings.extend(super::message(&job.bulletin, &content));
        if let Err(e) = job.message_for(&subscriber, SystemTime::UNIX_EPOCH) {
            found.errors.push(e.to_string());
        }
    }
    found.recipients = tally.recipients;
    found.skipped = tally.skipped();
    reaches_anyone
}
