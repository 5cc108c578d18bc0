//! The command line: clap's view of the arguments ([`defs`]), turned here
//! into the typed options the commands take. Nothing outside this module
//! knows clap.

use std::path::{Path, PathBuf};

use clap::{CommandFactory, FromArgMatches};

use crate::commands::{
    AssetsOptions, BouncesOptions, CheckOptions, Command, ImportOptions, PreviewOptions, ResubscribeOptions,
    SendOptions, Serve, ServeOptions, StatusOptions, Ui, UnsubscribeOptions,
};
use crate::commands::{CompletionsOptions, InitOptions, ManOptions, NewOptions};
use crate::commands::{ImportMailchimpOptions, PersonOptions};
use crate::config::SmtpOverrides;
use crate::subscribers::Lists;

mod defs;

pub use defs::Cli;
use defs::*;

/// Parses the process's arguments (exiting with clap's message on a
/// mistake), noting which were typed rather than defaulted.
pub fn parse() -> Cli {
    parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit())
}

fn parse_from<I: IntoIterator<Item = T>, T: Into<std::ffi::OsString> + Clone>(
    args: I,
) -> Result<Cli, clap::Error> {
    let matches = Cli::command().try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    cli.typed = typed(&matches);
    Ok(cli)
}

fn typed(matches: &clap::ArgMatches) -> Vec<String> {
    let mut ids: Vec<String> = matches
        .ids()
        .filter(|id| matches.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine))
        .map(|id| id.as_str().to_owned())
        .collect();
    if let Some((_, sub)) = matches.subcommand() {
        ids.extend(typed(sub));
    }
    ids
}

/// The completion script for `shell`.
fn completions(shell: ShellArg) -> Vec<u8> {
    let shell = match shell {
        ShellArg::Bash => clap_complete::Shell::Bash,
        ShellArg::Zsh => clap_complete::Shell::Zsh,
        ShellArg::Fish => clap_complete::Shell::Fish,
        ShellArg::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "bulletin", &mut script);
    script
}

/// The man page, in roff.
fn man_page() -> Vec<u8> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page).expect("writing to memory does not fail");
    page
}

impl From<RelayArgs> for SmtpOverrides {
    fn from(a: RelayArgs) -> Self {
        Self {
            host: a.smtp_host,
            port: a.smtp_port,
            security: a.smtp_security,
            username: a.smtp_username,
            rate: a.rate,
            concurrency: a.concurrency.map(usize::from),
            attempts: a.attempts,
            allow_insecure: a.allow_insecure,
        }
    }
}

impl From<PersonArgs> for PersonOptions {
    fn from(a: PersonArgs) -> Self {
        Self { address: a.address, list: a.list.into(), state_dir: a.state.state_dir }
    }
}

impl From<ListArgs> for Lists {
    fn from(args: ListArgs) -> Self {
        Self { subscribers: args.subscribers, suppressed: args.suppressed }
    }
}

impl Cli {
    /// The folder --dir names.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Whether the command runs without a newsletter folder or settings:
    /// `init` (which makes one), `completions`, `man`.
    pub fn is_setup(&self) -> bool {
        matches!(self.command, CliCommand::Init(_) | CliCommand::Completions(_) | CliCommand::Man(_))
    }

    /// Makes the relative paths typed on the command line relative to
    /// `here` (the folder the command was run in, before it moves to the
    /// newsletter folder), leaving the defaults to that folder.
    pub fn anchor_typed_paths(&mut self, here: &Path) {
        let typed = std::mem::take(&mut self.typed);
        let fix = |id: &str, path: &mut PathBuf| {
            if path.is_relative() && typed.iter().any(|t| t == id) {
                *path = here.join(&*path);
            }
        };
        let fix_list = |list: &mut ListArgs| {
            fix("subscribers", &mut list.subscribers);
            if let Some(p) = &mut list.suppressed {
                fix("suppressed", p);
            }
        };
        if let Some(p) = &mut self.env_file {
            fix("env_file", p);
        }
        let fix_option = |id: &str, path: &mut Option<PathBuf>| {
            if let Some(p) = path {
                fix(id, p);
            }
        };
        match &mut self.command {
            CliCommand::Send(a) => {
                fix("bulletin", &mut a.bulletin);
                fix_list(&mut a.list);
                fix_option("out", &mut a.out);
                fix("state_dir", &mut a.state.state_dir);
            }
            CliCommand::Status(a) => {
                fix("bulletin", &mut a.bulletin);
                fix_list(&mut a.list);
                fix("state_dir", &mut a.state.state_dir);
                fix_option("csv", &mut a.csv);
            }
            CliCommand::Preview(a) => {
                fix("bulletin", &mut a.bulletin);
                fix_list(&mut a.list);
                fix("out", &mut a.out);
            }
            CliCommand::Check(a) => {
                fix("bulletin", &mut a.bulletin);
                fix_list(&mut a.list);
                fix("site", &mut a.site);
                fix("state_dir", &mut a.state.state_dir);
            }
            CliCommand::Assets(a) => {
                fix("bulletin", &mut a.bulletin);
                fix("out", &mut a.out);
            }
            CliCommand::Unsubscribe(a) => {
                fix_list(&mut a.list);
                fix_option("from_file", &mut a.from_file);
            }
            CliCommand::Resubscribe(ResubscribeArgs { list, .. }) => fix_list(list),
            CliCommand::Serve(a) => {
                fix_list(&mut a.list);
                fix("state_dir", &mut a.state.state_dir);
            }
            CliCommand::Signups(SignupsCmdArgs { command: SignupsCommand::Merge(a) }) => {
                fix_list(&mut a.list)
            }
            CliCommand::Bounces(a) => {
                fix_option("bulletin", &mut a.bulletin);
                fix_list(&mut a.list);
                fix("state_dir", &mut a.state.state_dir);
                fix_option("csv", &mut a.csv);
                if let Some(BouncesCommand::Import(i)) = &mut a.command {
                    i.paths.iter_mut().for_each(|p| fix("paths", p));
                    fix_list(&mut i.list);
                    fix("state_dir", &mut i.state.state_dir);
                }
            }
            CliCommand::Import(ImportCmdArgs { command: ImportCommand::Mailchimp(a) }) => {
                fix("export", &mut a.export);
                fix_list(&mut a.list);
            }
            CliCommand::Export(a) | CliCommand::Forget(a) => {
                fix_list(&mut a.list);
                fix("state_dir", &mut a.state.state_dir);
            }
            CliCommand::Publish(a) => {
                a.bulletins.iter_mut().for_each(|p| fix("bulletins", p));
                fix("out", &mut a.out);
            }
            CliCommand::New(a) => {
                fix_option("from", &mut a.from);
                fix("state_dir", &mut a.state.state_dir);
            }
            CliCommand::Man(a) => fix_option("out", &mut a.out),
            // No paths to anchor. Every command is listed, so a new one
            // must say where its typed paths are taken from.
            CliCommand::Init(_) | CliCommand::Completions(_) => {}
        }
    }

    /// The settings file to read, and whether it must exist.
    pub fn env_file(&self) -> (PathBuf, bool) {
        match &self.env_file {
            Some(path) => (path.clone(), true),
            None => (PathBuf::from(".env"), false),
        }
    }

    /// How much to say.
    pub fn ui(&self) -> Ui {
        Ui { quiet: self.quiet, verbose: self.verbose }
    }

    /// The command to run, in the commands' own types.
    pub fn into_command(self) -> Command {
        let (env_file, env_required) = self.env_file();
        match self.command {
            CliCommand::Send(a) => Command::Send(SendOptions {
                bulletin: a.bulletin,
                list: a.list.into(),
                dry_run: a.dry_run,
                out: a.out,
                smtp: a.relay.into(),
                yes: a.yes,
                state_dir: a.state.state_dir,
                to: a.to,
                limit: a.limit,
                retry_failed: a.retry_failed,
                resend_duplicates: a.resend_duplicates,
                skip_duplicates: a.skip_duplicates,
                allow_draft: a.allow_draft,
            }),
            CliCommand::Status(a) => Command::Status(StatusOptions {
                bulletin: a.bulletin,
                list: a.list.into(),
                state_dir: a.state.state_dir,
                csv: a.csv,
            }),
            CliCommand::Preview(a) => Command::Preview(PreviewOptions {
                bulletin: a.bulletin,
                list: a.list.into(),
                subscriber: a.subscriber,
                out: a.out,
                serve: a.serve.then_some(Serve { port: a.port, open: a.open, env_file, env_required }),
            }),
            CliCommand::Bounces(BouncesArgs { command: Some(BouncesCommand::Import(a)), .. }) => {
                Command::ImportBounces(ImportOptions {
                    paths: a.paths,
                    list: a.list.into(),
                    state_dir: a.state.state_dir,
                    dry_run: a.dry_run,
                    trust_unmatched: a.trust_unmatched,
                })
            }
            CliCommand::Bounces(a) => Command::Bounces(BouncesOptions {
                bulletin: a.bulletin.expect("clap requires BULLETIN when there is no subcommand"),
                list: a.list.into(),
                state_dir: a.state.state_dir,
                csv: a.csv,
                suppress: a.suppress,
            }),
            CliCommand::Publish(a) => Command::Publish(crate::commands::PublishOptions {
                bulletins: a.bulletins,
                out: a.out,
                base_url: a.base_url,
            }),
            CliCommand::Assets(a) => Command::Assets(AssetsOptions { bulletin: a.bulletin, out: a.out }),
            CliCommand::Check(a) => Command::Check(CheckOptions {
                bulletin: a.bulletin,
                list: a.list.into(),
                smtp: a.smtp.then(|| a.relay.into()),
                site: a.site,
                state_dir: a.state.state_dir,
            }),
            CliCommand::Unsubscribe(a) => Command::Unsubscribe(UnsubscribeOptions {
                list: a.list.into(),
                addresses: a.addresses,
                from_file: a.from_file,
                note: a.note,
            }),
            CliCommand::Resubscribe(a) => {
                Command::Resubscribe(ResubscribeOptions { list: a.list.into(), address: a.address })
            }
            CliCommand::Serve(a) => Command::Serve(ServeOptions {
                list: a.list.into(),
                listen: a.listen,
                state_dir: a.state.state_dir,
            }),
            CliCommand::Import(ImportCmdArgs { command: ImportCommand::Mailchimp(a) }) => {
                Command::ImportMailchimp(ImportMailchimpOptions { export: a.export, list: a.list.into() })
            }
            CliCommand::Export(a) => Command::Export(a.into()),
            CliCommand::Forget(a) => Command::Forget(a.into()),
            CliCommand::Init(a) => Command::Init(InitOptions {
                folder: a.folder.or(self.dir).unwrap_or_else(|| PathBuf::from(".")),
                force: a.force,
                org_name: a.org_name,
                org_address: a.org_address,
                from_email: a.from_email,
                website: a.website,
                yes: a.yes,
            }),
            CliCommand::New(a) => Command::New(NewOptions {
                title: a.title,
                date: a.date,
                from: a.from,
                state_dir: a.state.state_dir,
            }),
            CliCommand::Completions(a) => {
                Command::Completions(CompletionsOptions { script: completions(a.shell) })
            }
            CliCommand::Man(a) => Command::Man(ManOptions { out: a.out, page: man_page() }),
            CliCommand::Signups(SignupsCmdArgs { command: SignupsCommand::Merge(a) }) => {
                Command::MergeSignups(a.list.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn publish_takes_bulletins_an_out_folder_and_a_base_url_and_defaults_to_site() {
        let Command::Publish(o) = command(&["bulletin", "publish"]) else { panic!("not publish") };
        assert_eq!((o.bulletins.len(), o.out.to_str(), o.base_url), (0, Some("site"), None));
        let Command::Publish(o) = command(&[
            "bulletin",
            "publish",
            "a.md",
            "b.md",
            "--out",
            "www",
            "--base-url",
            "http://localhost:8000/",
        ]) else {
            panic!("not publish")
        };
        assert_eq!(o.bulletins, [PathBuf::from("a.md"), PathBuf::from("b.md")]);
        assert_eq!((o.out.to_str(), o.base_url.as_deref()), (Some("www"), Some("http://localhost:8000/")));
        let Command::Send(o) = command(&["bulletin", "send", "b.md", "--allow-draft"]) else {
            panic!("not send")
        };
        assert!(o.allow_draft);
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn command(args: &[&str]) -> Command {
        Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}")).into_command()
    }

    #[test]
    fn bounces_takes_a_bulletin_or_the_import_subcommand() {
        let Command::Bounces(o) = command(&["bulletin", "bounces", "b.md", "--suppress", "--csv", "x.csv"])
        else {
            panic!("not a listing")
        };
        assert_eq!((o.bulletin.to_str(), o.suppress, o.csv.is_some()), (Some("b.md"), true, true));
        let Command::ImportBounces(o) =
            command(&["bulletin", "bounces", "import", "Maildir", "x.mbox", "--dry-run"])
        else {
            panic!("not an import")
        };
        assert_eq!(o.paths, [PathBuf::from("Maildir"), PathBuf::from("x.mbox")]);
        assert!(o.dry_run);
        // A bulletin that happens to be called "import" is reached by its path.
        let Command::Bounces(o) = command(&["bulletin", "bounces", "./import"]) else {
            panic!("not a listing")
        };
        assert_eq!(o.bulletin, PathBuf::from("./import"));
        let Command::Bounces(o) = command(&["bulletin", "bounces", "import.md"]) else {
            panic!("not a listing")
        };
        assert_eq!(o.bulletin, PathBuf::from("import.md"));
    }

    #[test]
    fn bounces_refuses_what_does_not_fit_either_form() {
        let kind = |args: &[&str]| Cli::try_parse_from(args).unwrap_err().kind();
        use clap::error::ErrorKind;
        assert_eq!(kind(&["bulletin", "bounces"]), ErrorKind::MissingRequiredArgument);
        assert_eq!(kind(&["bulletin", "bounces", "import"]), ErrorKind::MissingRequiredArgument);
        assert_eq!(kind(&["bulletin", "bounces", "import", "x", "--suppress"]), ErrorKind::UnknownArgument);
        assert_eq!(kind(&["bulletin", "bounces", "b.md", "--dry-run"]), ErrorKind::UnknownArgument);
    }

    #[test]
    fn typed_relative_paths_are_anchored_where_the_user_is_and_defaults_are_not() {
        let mut cli = parse_from([
            "bulletin",
            "send",
            "b.md",
            "--dry-run",
            "--out",
            "/abs/out",
            "--subscribers",
            "l.csv",
        ])
        .unwrap();
        cli.anchor_typed_paths(Path::new("/here"));
        let Command::Send(o) = cli.into_command() else { panic!("not a send") };
        assert_eq!(o.bulletin, Path::new("/here/b.md"));
        assert_eq!(o.list.subscribers, Path::new("/here/l.csv"));
        assert_eq!(o.out.as_deref(), Some(Path::new("/abs/out")));
        assert_eq!(o.state_dir, Path::new(".bulletin"), "a default stays in the newsletter folder");

        let mut cli = parse_from(["bulletin", "preview", "b.md"]).unwrap();
        cli.anchor_typed_paths(Path::new("/here"));
        let Command::Preview(o) = cli.into_command() else { panic!("not a preview") };
        assert_eq!(
            (o.out.as_path(), o.list.subscribers.as_path()),
            (Path::new("preview"), Path::new("subscribers/subscribers.csv"))
        );
    }

    #[test]
    fn out_requires_dry_run() {
        let err = Cli::try_parse_from(["bulletin", "send", "b.md", "--out", "x"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }
}
