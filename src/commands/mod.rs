//! The commands: each strings the pipeline's stages together for one job.
//! They take typed options (see `cli`) and return an [`Outcome`] or an error
//! that says what stopped them.

mod assets;
mod bounces;
mod check;
mod import;
mod init;
mod new;
mod personal_data;
mod preview;
mod publish;
mod schedule;
mod send;
mod serve;
mod shell;
mod signups;
mod status;
mod suppress;
mod welcome;

use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use crate::config::{Settings, Source};
use crate::job::Job;
use crate::subscribers::{Lists, SubscriberReader, Suppressions};

pub use assets::AssetsOptions;
pub use bounces::{BouncesOptions, ImportOptions};
pub use check::{CheckOptions, DnsCheck};
pub use import::ImportMailchimpOptions;
pub use init::InitOptions;
pub use new::NewOptions;
pub use personal_data::PersonOptions;
pub use preview::{PreviewOptions, Serve};
pub use publish::PublishOptions;
pub use schedule::ScheduleOptions;
pub use send::SendOptions;
pub use serve::ServeOptions;
pub use shell::{CompletionsOptions, ManOptions};
pub use status::StatusOptions;
pub use suppress::{ResubscribeOptions, UnsubscribeOptions};

/// What to run.
#[derive(Debug)]
pub enum Command {
    Send(SendOptions),
    Status(StatusOptions),
    Preview(PreviewOptions),
    Check(CheckOptions),
    Assets(AssetsOptions),
    Unsubscribe(UnsubscribeOptions),
    Resubscribe(ResubscribeOptions),
    Serve(ServeOptions),
    Bounces(BouncesOptions),
    ImportBounces(ImportOptions),
    ImportMailchimp(ImportMailchimpOptions),
    Export(PersonOptions),
    Forget(PersonOptions),
    Publish(PublishOptions),
    Init(InitOptions),
    New(NewOptions),
    Completions(CompletionsOptions),
    Man(ManOptions),
    MergeSignups(Lists),
    Schedule(ScheduleOptions),
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
    /// The relay's quota, or today's allowance, is used up: the rest are
    /// pending, for the same command once it resets.
    QuotaUsed,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Self::Done => ExitCode::SUCCESS,
            Self::Problems => ExitCode::from(1),
            Self::Interrupted => ExitCode::from(130),
            Self::QuotaUsed => ExitCode::from(3),
        }
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
        Command::Status(options) => status::run(&options, env),
        Command::Preview(options) => preview::run(&options, env, now),
        Command::Check(options) => check::run(&options, env),
        Command::Assets(options) => assets::run(&options, env),
        Command::Unsubscribe(options) => suppress::unsubscribe(&options),
        Command::Resubscribe(options) => suppress::resubscribe(&options),
        Command::Serve(options) => serve::run(&options, env),
        Command::Bounces(options) => bounces::list(&options, env, now),
        Command::ImportBounces(options) => bounces::import(&options, env, now, ui),
        Command::ImportMailchimp(options) => import::mailchimp(&options, now),
        Command::Export(options) => personal_data::export(&options),
        Command::Forget(options) => personal_data::forget(&options, now),
        Command::Publish(options) => publish::run(&options, env),
        Command::Init(options) => init::run(&options, now),
        Command::New(options) => new::run(&options, now),
        Command::Completions(options) => shell::completions(&options),
        Command::Man(options) => shell::man(&options),
        Command::MergeSignups(lists) => signups::merge(&lists, now),
        Command::Schedule(options) => schedule::run(&options, env, now),
    }
}

/// Prints a warning on standard error.
fn warn(message: &str) {
    if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("warning: {}", crate::report::printable(message));
    }
}

/// Set by `-q`: warnings are not printed.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

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

/// Reads the suppression list, warning of rows it cannot use.
fn suppressions(lists: &Lists) -> anyhow::Result<Suppressions> {
    let (suppressed, problems) = lists.read_suppressions()?;
    problems.iter().for_each(|p| warn(p));
    Ok(suppressed)
}

/// Prepares the job, printing its warnings: every error that would stop a
/// run comes out here, before any message is made.
fn prepare(bulletin: &Path, lists: &Lists, env: &Source) -> anyhow::Result<(Job, SubscriberReader)> {
    let (job, rows) = Job::prepare(bulletin, lists, env)?;
    job.warnings.iter().for_each(|w| warn(w));
    Ok((job, rows))
}
