//! Findings: every problem with a bulletin, its list and the settings,
//! gathered at once without sending or writing anything, for `check` and
//! the live preview. The inputs come through the same door as a send's
//! ([`crate::job`]), so what `check` passes, a send accepts.

use std::path::Path;
use std::time::SystemTime;

use crate::config::{Settings, Source};
use crate::deliver::plan::{Choice, Plan, decide, received_elsewhere};
use crate::domain::{Clock, SystemClock, chain};
use crate::job::{Inputs, Job, JobError};
use crate::journal::{Elsewhere, Journal};
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
    /// Who a send would skip as having received the bulletin already as
    /// another campaign, in the words the dry run and the send use.
    pub earlier: Vec<String>,
    /// Those a send would not mail by what the journal says ("3 already
    /// sent"), in the send's words.
    pub not_sent: Vec<String>,
}

/// Checks the bulletin, its merge fields against the list, every row of the
/// list, the suppression list and the settings; prints nothing.
pub fn findings(bulletin_path: &Path, lists: &Lists, env: &Source) -> Findings {
    findings_with_journal(bulletin_path, lists, env, None)
}

/// [`findings`], and the list read against the journal in `state_dir` as a
/// send reads it: "would receive" is who a send would send to, and those
/// it would skip as having received the bulletin already are named.
pub fn findings_with_journal(
    bulletin_path: &Path,
    lists: &Lists,
    env: &Source,
    state_dir: Option<&Path>,
) -> Findings {
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
            found.errors.push(chain(&e));
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
            found.errors.push(chain(&e));
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
            found.errors.push(chain(&e));
            Suppressions::default()
        }
    };
    found.what = bulletin.as_ref().map_or_else(|| bulletin_path.display().to_string(), |b| b.describe());

    let list = &lists.subscribers;
    let signups_wait = match crate::config::Signups::from_source(env) {
        Ok(mode) => mode == crate::config::Signups::Manual,
        Err(e) => {
            found.errors.push(chain(&e));
            false
        }
    };
    let segment = bulletin.as_ref().and_then(|b| b.segment.clone());
    let audience = Audience { suppressed, segment, signups_wait, only: None };
    match crate::job::waiting_signups(list, &audience) {
        Ok(waiting) => found.warnings.extend(waiting),
        Err(e) => found.errors.push(chain(&e)),
    }
    let rows = match SubscriberReader::with_signups(list, audience.clone()) {
        Ok(rows) => rows,
        Err(e) => {
            found.errors.push(chain(&e));
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
            found.errors.extend(unknown.iter().map(|e| chain(e)));
            None
        }
        Err(e) => {
            found.errors.push(chain(&e));
            None
        }
    });
    let journal = match (state_dir, &job) {
        (Some(state_dir), Some(job)) => match against_journal(state_dir, job) {
            Ok(journal) => journal,
            Err(e) => {
                found.errors.push(format!("{e:#}"));
                None
            }
        },
        _ => None,
    };
    let reaches_anyone =
        check_rows(&mut found, job.as_ref(), rows, &lists.subscribers.display().to_string(), journal);
    if let Some(settings) = job.as_ref().map(|job| &job.settings).or(settings_only.as_ref()) {
        super::examples(&mut found, settings, env.has_file(), reaches_anyone);
    }
    found
}

/// The campaign's journal and who received the bulletin elsewhere, if the
/// state folder has a journal.
fn against_journal(state_dir: &Path, job: &Job) -> anyhow::Result<Option<(Journal, Elsewhere)>> {
    let Some(journal) = Journal::open_existing(state_dir, &job.bulletin.campaign)? else { return Ok(None) };
    let elsewhere = received_elsewhere(Some(&journal), &job.bulletin, SystemClock.now())?;
    Ok(Some((journal, elsewhere)))
}

/// Reads every row, then makes the first recipient's message and looks at
/// it; says whether any recipient is on a domain that is someone's (see
/// [`crate::config::reaches_no_one`]). With `journal`, only those a send
/// would send to count as receiving it.
fn check_rows(
    found: &mut Findings,
    job: Option<&Job>,
    mut rows: SubscriberReader,
    list: &str,
    journal: Option<(Journal, Elsewhere)>,
) -> bool {
    let mut reaches_anyone = false;
    let mut tally = crate::subscribers::Tally::keeping(usize::MAX);
    let mut plan = Plan::default();
    let mut first = None;
    let mut international = Vec::new();
    for row in rows.by_ref() {
        match row {
            Err(e) => {
                found.errors.push(chain(&e));
                break;
            }
            Ok(Row::Skipped(skip)) => tally.skip(skip),
            Ok(Row::Subscribed(s)) => {
                reaches_anyone |= !crate::config::reaches_no_one(s.email());
                if let Some((journal, elsewhere)) = &journal {
                    match decide(Some(journal), elsewhere, s.email().key(), Choice::default()) {
                        Ok(decision) => {
                            if !plan.admit(decision, None) {
                                continue;
                            }
                        }
                        Err(e) => {
                            found.errors.push(format!("{e:#}"));
                            break;
                        }
                    }
                }
                tally.recipients += 1;
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
    // A duplicate row is mailed once and harms nothing: worth tidying, not
    // an error. A row that cannot be read is a reader left out.
    for problem in tally.problems() {
        let kept = if problem.reason.is_duplicate() { &mut found.warnings } else { &mut found.errors };
        kept.push(problem.located(list));
    }
    if let Some(example) = international.first() {
        found.warnings.push(format!(
            "{} address(es), such as {example}, have non-ASCII letters before the @: only a relay \
             that supports SMTPUTF8 can take them; others will fail",
            international.len()
        ));
    }
    if let (Some(job), Some(subscriber)) = (job, first) {
        let (content, _) = job.content_for(&subscriber, SystemTime::UNIX_EPOCH);
        found.warnings.extend(super::message(&job.bulletin, &content));
        found.warnings.extend(super::image_ratio(job, &content.html));
        if let Err(e) = job.message_for(&subscriber, SystemTime::UNIX_EPOCH) {
            found.errors.push(chain(&e));
        }
    }
    found.recipients = tally.recipients;
    found.skipped = tally.skipped();
    found.earlier = plan.duplicates();
    found.not_sent = plan.skips();
    if let Some(why) = plan.stop_for_duplicates(Choice::default()) {
        found.errors.push(format!("a send would stop before sending anything: {why}"));
    }
    reaches_anyone
}
