//! The command line: clap's view of the arguments, turned into the typed
//! options the commands take. Nothing outside this module knows clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands::{CheckOptions, Command, ListOptions, PreviewOptions, SendOptions};

/// Turn a Markdown bulletin into a personalised email for every supporter on
/// a CSV list.
///
/// Settings (sender, organisation, unsubscribe) come from `.env` in the
/// current folder and the environment; see `.env.example`. Without them,
/// clearly fake example.org placeholders are used so a dry run still works.
#[derive(Debug, Parser)]
#[command(name = "bulletin", version, about, long_about, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Settings file to read. Environment variables win over it.
    /// [default: .env in the current folder, if there is one]
    #[arg(long, global = true, value_name = "PATH")]
    env_file: Option<PathBuf>,

    #[command(subcommand)]
    command: CliCommand,
}

#[derive(Debug, Subcommand)]
enum CliCommand {
    /// Render the bulletin for every subscriber; with --dry-run, check and
    /// write the messages instead of sending them.
    ///
    /// Unsubscribed, suppressed, invalid and duplicate rows are skipped and
    /// reported with their line; a problem with the bulletin itself stops
    /// the run before any message is made.
    Send(SendArgs),
    /// Write the HTML, plaintext and .eml of one recipient's message.
    Preview(PreviewArgs),
    /// Check the bulletin, its merge fields against the list, every row of
    /// the list and the settings; exit 1 listing every problem.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
struct ListArgs {
    /// The subscriber list (CSV with an `email` column).
    #[arg(long, value_name = "PATH", default_value = "subscribers/subscribers.csv")]
    subscribers: PathBuf,

    /// Addresses never to mail (CSV with an `email` column).
    /// [default: suppressed.csv beside the subscriber list, if there is one]
    #[arg(long, value_name = "PATH")]
    suppressed: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct SendArgs {
    /// The bulletin: a Markdown file with front matter.
    #[arg(value_name = "BULLETIN")]
    bulletin: PathBuf,

    #[command(flatten)]
    list: ListArgs,

    /// Do everything but connect to a mail server: render and check every
    /// message and print what would be sent.
    #[arg(long)]
    dry_run: bool,

    /// With --dry-run, write each message as an .eml file (exactly the bytes
    /// that would be sent) and its HTML, plus an index.html listing them, to
    /// this folder. The folder must be new, empty, or from an earlier run.
    #[arg(long, value_name = "DIR", requires = "dry_run")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct PreviewArgs {
    /// The bulletin: a Markdown file with front matter.
    #[arg(value_name = "BULLETIN")]
    bulletin: PathBuf,

    #[command(flatten)]
    list: ListArgs,

    /// Preview the message for this subscriber. [default: the first one who
    /// would receive it]
    #[arg(long, value_name = "EMAIL")]
    subscriber: Option<String>,

    /// Folder to write the preview files to.
    #[arg(long, value_name = "DIR", default_value = "preview")]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The bulletin: a Markdown file with front matter.
    #[arg(value_name = "BULLETIN")]
    bulletin: PathBuf,

    #[command(flatten)]
    list: ListArgs,
}

impl From<ListArgs> for ListOptions {
    fn from(args: ListArgs) -> Self {
        Self { subscribers: args.subscribers, suppressed: args.suppressed }
    }
}

impl Cli {
    /// The settings file to read, and whether it must exist.
    pub fn env_file(&self) -> (PathBuf, bool) {
        match &self.env_file {
            Some(path) => (path.clone(), true),
            None => (PathBuf::from(".env"), false),
        }
    }

    /// The command to run, in the commands' own types.
    pub fn into_command(self) -> Command {
        match self.command {
            CliCommand::Send(a) => Command::Send(SendOptions {
                bulletin: a.bulletin,
                list: a.list.into(),
                dry_run: a.dry_run,
                out: a.out,
            }),
            CliCommand::Preview(a) => Command::Preview(PreviewOptions {
                bulletin: a.bulletin,
                list: a.list.into(),
                subscriber: a.subscriber,
                out: a.out,
            }),
            CliCommand::Check(a) => {
                Command::Check(CheckOptions { bulletin: a.bulletin, list: a.list.into() })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn out_requires_dry_run() {
        let err = Cli::try_parse_from(["bulletin", "send", "b.md", "--out", "x"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }
}
