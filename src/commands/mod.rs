//! The commands: each strings the pipeline's stages together for one job.
//! They take typed options (see `cli`) and return an [`Outcome`] or an error
//! that says what stopped them.

mod bounces;
mod check;
mod preview;
mod send;
mod status;
mod suppress;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use crate::config::{Settings, Source};
use crate::content::{Bulletin, ContentError};
use crate::message::Composer;
use crate::render::Rendered;
use crate::subscribers::{Audience, SubscriberReader, SubscribersError, Suppressions};

pub use bounces::{BouncesOptions, ImportOptions};
pub use check::{CheckOptions, Findings, findings};
pub use preview::{PreviewOptions, Serve};
pub use send::SendOptions;
pub use status::StatusOptions;
pub use suppress::{ResubscribeOptions, UnsubscribeOptions, UnsubscribeServerOptions};

/// What to run.
#[derive(Debug)]
pub enum Command {
    Send(SendOptions),
    Status(StatusOptions),
    Preview(PreviewOptions),
    Check(CheckOptions),
    Unsubscribe(UnsubscribeOptions),
    Resubscribe(ResubscribeOptions),
    UnsubscribeServer(UnsubscribeServerOptions),
    Bounces(BouncesOptions),
    ImportBounces(ImportOptions),
}

/// Where the list comes from.
#[derive(Debug, Clone)]
pub struct ListOptions {
    /// The subscriber CSV.
    pub subscribers: PathBuf,
    /// The suppression CSV; `None` means `suppressed.csv` beside the
    /// subscriber list, if it exists.
    pub suppressed: Option<PathBuf>,
}

/// How a command ended, when it could run at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything was done.
    Done,
    /// Some recipients failed, or a check found problems; all reported.
    Problems,
    /// Stopped by Ctrl-C before the list was done; resumable.
    Interrupted,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Self::Done => ExitCode::SUCCESS,
            Self::Problems => ExitCode::from(1),
            Self::Interrupted => ExitCode::from(130),
        }
    }
}

/// Several errors, reported one per line.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct Problems(pub Vec<String>);

impl From<Vec<ContentError>> for Problems {
    fn from(errors: Vec<ContentError>) -> Self {
        Self(errors.iter().map(ToString::to_string).collect())
    }
}

/// How much the commands say.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ui {
    /// No progress display and no warnings; errors and the summary only.
    pub quiet: bool,
    /// A log line per message.
    pub verbose: bool,
}

/// Runs `command` with settings from `env`; `now` dates the messages of a
/// dry run or preview.
pub fn run(command: Command, env: &Source, now: SystemTime, ui: Ui) -> anyhow::Result<Outcome> {
    QUIET.store(ui.quiet, std::sync::atomic::Ordering::Relaxed);
    match command {
        Command::Send(options) => send::run(&options, env, now, ui),
        Command::Status(options) => status::run(&options),
        Command::Preview(options) => preview::run(&options, env, now),
        Command::Check(options) => check::run(&options, env),
        Command::Unsubscribe(options) => suppress::unsubscribe(&options),
        Command::Resubscribe(options) => suppress::resubscribe(&options),
        Command::UnsubscribeServer(options) => suppress::serve(&options, env),
        Command::Bounces(options) => bounces::list(&options, env, now),
        Command::ImportBounces(options) => bounces::import(&options, env, now, ui),
    }
}

/// Everything a run over the list needs, checked before the first message.
struct Job {
    settings: Settings,
    bulletin: Bulletin,
    /// Who the reader admits, for a second pass over the list.
    audience: Audience,
    reader: SubscriberReader,
    rendered: Rendered,
    composer: Composer,
}

impl ListOptions {
    pub(crate) fn suppression_path(&self) -> (PathBuf, bool) {
        match &self.suppressed {
            Some(path) => (path.clone(), true),
            None => {
                let dir = self.subscribers.parent().unwrap_or(Path::new(""));
                (dir.join("suppressed.csv"), false)
            }
        }
    }

    /// Reads the suppression list (a missing default file is an empty
    /// list), with one line for each row it cannot use.
    pub(crate) fn read_suppressions(&self) -> Result<(Suppressions, Vec<String>), SubscribersError> {
        let (path, required) = self.suppression_path();
        let (suppressed, problems) =
            if required { Suppressions::load(&path)? } else { Suppressions::load_optional(&path)? };
        let name = path.display().to_string();
        let problems = problems
            .iter()
            .map(|skip| format!("{} (this row suppresses nothing)", crate::report::describe(&name, skip)))
            .collect();
        Ok((suppressed, problems))
    }

    /// Reads the suppression list, warning of rows it cannot use.
    fn suppressions(&self) -> anyhow::Result<Suppressions> {
        let (suppressed, problems) = self.read_suppressions()?;
        problems.iter().for_each(|p| warn(p));
        Ok(suppressed)
    }
}

/// Prints a warning on standard error.
fn warn(message: &str) {
    if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("warning: {message}");
    }
}

/// Set by `-q`: warnings are not printed.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Loads the settings and prints their warnings.
fn settings(env: &Source) -> anyhow::Result<Settings> {
    announce(Settings::from_source(env)?)
}

/// Loads the settings but not the DKIM key, and prints their warnings.
fn settings_without_dkim(env: &Source) -> anyhow::Result<Settings> {
    announce(Settings::without_dkim(env)?)
}

fn announce(settings: Settings) -> anyhow::Result<Settings> {
    for warning in settings.warnings() {
        warn(&warning);
    }
    Ok(settings)
}

/// Reads and checks the bulletin, the settings and the list's header, and
/// renders the bulletin: every error that would stop a run comes out here,
/// before any message is made.
fn prepare(bulletin: &Path, list: &ListOptions, env: &Source) -> anyhow::Result<Job> {
    let settings = settings(env)?;
    let bulletin = Bulletin::load(bulletin)?;
    let audience = Audience { suppressed: list.suppressions()?, segment: bulletin.segment.clone() };
    let reader = SubscriberReader::open(&list.subscribers, audience.clone())?;
    let rendered = Rendered::new(&bulletin, &settings, reader.columns()).map_err(Problems::from)?;
    let composer = Composer::new(&settings, bulletin.campaign.clone());
    Ok(Job { settings, bulletin, audience, reader, rendered, composer })
}

/// The subject of the bulletin as the list would see it, for headings.
fn describe_bulletin(bulletin: &Bulletin) -> String {
    let subject: String = bulletin
        .subject
        .0
        .iter()
        .map(|s| match s {
            crate::merge::Segment::Literal(l) => l.clone(),
            crate::merge::Segment::Field(f) => format!("{{{{ {} }}}}", f.name),
        })
        .collect();
    format!("{} (subject: {subject})", bulletin.campaign)
}
