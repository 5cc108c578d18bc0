//! The command line: clap's view of the arguments ([`defs`]), turned here
//! into the typed options the commands take. Nothing outside this module
//! knows clap.

use std::path::{Path, PathBuf};

use clap::{CommandFactory, FromArgMatches};

use crate::commands::{
    AssetsOptions, BouncesOptions, CheckOptions, Command, ImportOptions, PreviewOptions, ResubscribeOptions,
    SendOptions, Serve, ServeOptions, StatusOptions, Ui, UnsubscribeOptions,
};
use crate::commands::{CompletionsOptions, DnsCheck, InitOptions, ManOptions, NewOptions};
use crate::commands::{ImportMailchimpOptions, PersonOptions, ScheduleOptions};
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
    Cli::from_arg_matches(&matches)
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

/// Where the command's paths start, so that every path it is given works
/// from the folder the process runs in (the process never changes folder):
/// the paths typed are taken from where the user is (or from `--dir`, as
/// with `git -C`), the defaults from the newsletter folder. When the
/// command runs in the newsletter folder itself, both are the current
/// folder and every path stays as typed. Every path argument goes through
/// it once, in [`Cli::into_command`].
#[derive(Debug, Clone, Default)]
pub struct Anchor {
    /// The absolute folder relative typed paths are taken from, when not
    /// the current one.
    typed_from: Option<PathBuf>,
    /// The newsletter folder: empty for the current folder, else absolute.
    folder: PathBuf,
}

/// Where the journal is kept unless `--state-dir` says.
const DEFAULT_STATE_DIR: &str = ".bulletin";
/// The subscriber list unless `--subscribers` says.
const DEFAULT_SUBSCRIBERS: &str = "subscribers/subscribers.csv";
/// Where `preview` writes unless `--out` says.
const DEFAULT_PREVIEW: &str = "preview";

impl Anchor {
    /// The newsletter folder is `folder` (absolute, not the current
    /// folder), and relative typed paths are taken from `typed_from`
    /// (absolute: where the user is, or the folder `--dir` names).
    pub fn elsewhere(folder: PathBuf, typed_from: PathBuf) -> Self {
        Self { typed_from: Some(typed_from), folder }
    }

    /// Every path taken as it is: the command runs in its newsletter
    /// folder, or outside any.
    pub fn none() -> Self {
        Self::default()
    }

    /// The newsletter folder, as a path from the current folder (empty
    /// when it is the current folder).
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// A path typed on the command line.
    fn typed(&self, path: PathBuf) -> PathBuf {
        match &self.typed_from {
            Some(from) if path.is_relative() => from.join(path),
            _ => path,
        }
    }

    /// A path typed, or else `default` in the newsletter folder.
    fn or(&self, typed: Option<PathBuf>, default: &str) -> PathBuf {
        typed.map_or_else(|| self.folder.join(default), |p| self.typed(p))
    }

    fn lists(&self, list: ListArgs) -> Lists {
        Lists {
            subscribers: self.or(list.subscribers, DEFAULT_SUBSCRIBERS),
            suppressed: list.suppressed.map(|p| self.typed(p)),
        }
    }

    fn person(&self, a: PersonArgs) -> PersonOptions {
        PersonOptions {
            address: a.address,
            list: self.lists(a.list),
            state_dir: self.or(a.state.state_dir, DEFAULT_STATE_DIR),
        }
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

    /// The settings file to read, and whether it must exist.
    pub fn env_file(&self, anchor: &Anchor) -> (PathBuf, bool) {
        match &self.env_file {
            Some(path) => (anchor.typed(path.clone()), true),
            None => (anchor.folder.join(".env"), false),
        }
    }

    /// How much to say.
    pub fn ui(&self) -> Ui {
        Ui { quiet: self.quiet, verbose: self.verbose }
    }

    /// The command to run, in the commands' own types, every path typed
    /// taken from `anchor` and every default from the newsletter folder.
    pub fn into_command(self, anchor: &Anchor) -> Command {
        let (env_file, env_required) = self.env_file(anchor);
        let lists = |list: ListArgs| anchor.lists(list);
        let state = |state: StateArgs| anchor.or(state.state_dir, DEFAULT_STATE_DIR);
        match self.command {
            CliCommand::Send(a) => Command::Send(SendOptions {
                bulletin: anchor.typed(a.bulletin),
                list: lists(a.list),
                dry_run: a.dry_run,
                out: a.out.map(|p| anchor.typed(p)),
                smtp: a.relay.into(),
                yes: a.yes,
                state_dir: state(a.state),
                to: a.to,
                limit: a.limit,
                retry_failed: a.retry_failed,
                resend_duplicates: a.resend_duplicates,
                skip_duplicates: a.skip_duplicates,
                allow_draft: a.allow_draft,
            }),
            CliCommand::Status(a) => Command::Status(StatusOptions {
                bulletin: anchor.typed(a.bulletin),
                list: lists(a.list),
                state_dir: state(a.state),
                csv: a.csv.map(|p| anchor.typed(p)),
            }),
            CliCommand::Preview(a) => Command::Preview(PreviewOptions {
                bulletin: anchor.typed(a.bulletin),
                list: lists(a.list),
                subscriber: a.subscriber,
                out: anchor.or(a.out, DEFAULT_PREVIEW),
                serve: a.serve.then_some(Serve { port: a.port, open: a.open, env_file, env_required }),
            }),
            CliCommand::Bounces(BouncesArgs { command: Some(BouncesCommand::Import(a)), .. }) => {
                Command::ImportBounces(ImportOptions {
                    paths: a.paths.into_iter().map(|p| anchor.typed(p)).collect(),
                    list: lists(a.list),
                    state_dir: state(a.state),
                    dry_run: a.dry_run,
                    trust_unmatched: a.trust_unmatched,
                })
            }
            CliCommand::Bounces(a) => Command::Bounces(BouncesOptions {
                bulletin: anchor
                    .typed(a.bulletin.expect("clap requires BULLETIN when there is no subcommand")),
                list: lists(a.list),
                state_dir: state(a.state),
                csv: a.csv.map(|p| anchor.typed(p)),
                suppress: a.suppress,
            }),
            CliCommand::Publish(a) => Command::Publish(crate::commands::PublishOptions {
                bulletins: a.bulletins.into_iter().map(|p| anchor.typed(p)).collect(),
                out: anchor.or(a.out, crate::commands::PublishOptions::DEFAULT_OUT),
                content: anchor.folder.join(crate::commands::PublishOptions::CONTENT),
                base_url: a.base_url,
            }),
            CliCommand::Assets(a) => Command::Assets(AssetsOptions {
                bulletin: anchor.typed(a.bulletin),
                out: anchor.typed(a.out),
            }),
            CliCommand::Check(a) => Command::Check(CheckOptions {
                bulletin: anchor.typed(a.bulletin),
                list: lists(a.list),
                dns: a.dns.then(|| DnsCheck { smtp_host: a.relay.smtp_host.clone() }),
                smtp: a.smtp.then(|| a.relay.into()),
                site: anchor.or(a.site, crate::commands::PublishOptions::DEFAULT_OUT),
                state_dir: state(a.state),
            }),
            CliCommand::Unsubscribe(a) => Command::Unsubscribe(UnsubscribeOptions {
                list: lists(a.list),
                addresses: a.addresses,
                from_file: a.from_file.map(|p| anchor.typed(p)),
                note: a.note,
            }),
            CliCommand::Resubscribe(a) => {
                Command::Resubscribe(ResubscribeOptions { list: lists(a.list), address: a.address })
            }
            CliCommand::Serve(a) => Command::Serve(ServeOptions {
                list: lists(a.list),
                listen: a.listen,
                state_dir: state(a.state),
                content: anchor.folder.join(crate::commands::PublishOptions::CONTENT),
            }),
            CliCommand::Import(ImportCmdArgs { command: ImportCommand::Mailchimp(a) }) => {
                Command::ImportMailchimp(ImportMailchimpOptions {
                    export: anchor.typed(a.export),
                    list: lists(a.list),
                })
            }
            CliCommand::Export(a) => Command::Export(anchor.person(a)),
            CliCommand::Forget(a) => Command::Forget(anchor.person(a)),
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
                from: a.from.map(|p| anchor.typed(p)),
                folder: anchor.folder.clone(),
                state_dir: state(a.state),
            }),
            CliCommand::Completions(a) => {
                Command::Completions(CompletionsOptions { script: completions(a.shell) })
            }
            CliCommand::Man(a) => {
                Command::Man(ManOptions { out: a.out.map(|p| anchor.typed(p)), page: man_page() })
            }
            CliCommand::Signups(SignupsCmdArgs { command: SignupsCommand::Merge(a) }) => {
                Command::MergeSignups(lists(a.list))
            }
            CliCommand::Schedule(a) => Command::Schedule(match a.command {
                Some(ScheduleCommand::List(l)) => ScheduleOptions::List {
                    state_dir: state(l.state),
                    content: anchor.folder.join(crate::commands::PublishOptions::CONTENT),
                },
                Some(ScheduleCommand::Cancel(c)) => {
                    ScheduleOptions::Cancel { id: c.id, state_dir: state(c.state) }
                }
                None => ScheduleOptions::Add {
                    bulletin: anchor.typed(a.bulletin.expect("clap requires BULLETIN without a subcommand")),
                    at: a.at.expect("clap requires --at without a subcommand"),
                    state_dir: state(a.state),
                },
            }),
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
        Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}")).into_command(&Anchor::none())
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
    fn typed_relative_paths_are_taken_from_where_the_user_is_and_defaults_from_the_newsletter_folder() {
        let cli = parse_from([
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
        let below = Anchor::elsewhere(PathBuf::from("/news"), PathBuf::from("/news/content"));
        let Command::Send(o) = cli.into_command(&below) else { panic!("not a send") };
        assert_eq!(o.bulletin, Path::new("/news/content/b.md"));
        assert_eq!(o.list.subscribers, Path::new("/news/content/l.csv"));
        assert_eq!(o.out.as_deref(), Some(Path::new("/abs/out")));
        assert_eq!(o.state_dir, Path::new("/news/.bulletin"), "a default is in the newsletter folder");

        let cli = parse_from(["bulletin", "preview", "b.md"]).unwrap();
        let (env_file, required) = cli.env_file(&below);
        assert_eq!((env_file.as_path(), required), (Path::new("/news/.env"), false));
        let Command::Preview(o) = cli.into_command(&below) else { panic!("not a preview") };
        assert_eq!(
            (o.out.as_path(), o.list.subscribers.as_path()),
            (Path::new("/news/preview"), Path::new("/news/subscribers/subscribers.csv"))
        );

        // In the newsletter folder itself, every path stays as typed.
        let cli = parse_from(["bulletin", "new", "--from", "old.txt"]).unwrap();
        let Command::New(o) = cli.into_command(&Anchor::none()) else { panic!("not new") };
        assert_eq!(
            (o.from.as_deref(), o.folder.as_path(), o.state_dir.as_path()),
            (Some(Path::new("old.txt")), Path::new(""), Path::new(".bulletin"))
        );
    }

    #[test]
    fn the_help_still_says_each_default_that_is_now_filled_in_here() {
        let help = Cli::command().render_long_help().to_string();
        let send = Cli::command().find_subcommand_mut("send").unwrap().render_long_help().to_string();
        let publish = Cli::command().find_subcommand_mut("publish").unwrap().render_long_help().to_string();
        let preview = Cli::command().find_subcommand_mut("preview").unwrap().render_long_help().to_string();
        assert!(help.contains("bulletin"), "{help}");
        assert!(send.contains("[default: subscribers/subscribers.csv]"), "{send}");
        assert!(send.contains("[default: .bulletin]"), "{send}");
        assert!(publish.contains("[default: site]"), "{publish}");
        assert!(preview.contains("[default: preview]"), "{preview}");
    }

    #[test]
    fn out_requires_dry_run() {
        let err = Cli::try_parse_from(["bulletin", "send", "b.md", "--out", "x"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }
}
