//! The command line: clap's view of the arguments, turned into the typed
//! options the commands take. Nothing outside this module knows clap.

use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands::{
    AssetsOptions, BouncesOptions, CheckOptions, Command, ImportOptions, PreviewOptions, ResubscribeOptions,
    SendOptions, Serve, ServeOptions, StatusOptions, Ui, UnsubscribeOptions,
};
use crate::commands::{CompletionsOptions, InitOptions, ManOptions, NewOptions};
use crate::commands::{ImportMailchimpOptions, PersonOptions};
use crate::config::{Security, SmtpOverrides};
use crate::domain::RateLimit;
use crate::subscribers::Lists;

/// Turn a Markdown bulletin into a personalised email for every supporter on
/// a CSV list.
///
/// Settings (sender, organisation, unsubscribe) come from `.env` in the
/// newsletter folder and the environment; see `.env.example`. Without them,
/// clearly fake example.org placeholders are used so a dry run still works.
///
/// The newsletter folder (the one holding .env or content/, made by `bulletin
/// init`) is found from the current folder or one above it; the default
/// paths (.env, subscribers/, .bulletin, preview/) are in it, and paths you
/// type are taken from where you are. With --dir DIR, everything is as if
/// run in DIR. Colours and
/// progress bars are shown only on a terminal, and never with NO_COLOR set.
#[derive(Debug, Parser)]
#[command(name = "bulletin", version = VERSION, about, long_about, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Run in this newsletter folder, as if started there. [default: the
    /// nearest folder holding .env or content/, from the current one up]
    #[arg(long, global = true, value_name = "DIR")]
    dir: Option<PathBuf>,

    /// The ids of the arguments typed on the command line (not defaults),
    /// whose paths are taken from the current folder.
    #[arg(skip)]
    typed: Vec<String>,

    /// Settings file to read. Environment variables win over it.
    /// [default: .env in the current folder, if there is one]
    #[arg(long, global = true, value_name = "PATH")]
    env_file: Option<PathBuf>,

    /// Print only errors and the final summary: no progress, no warnings.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    /// Log each message as it is sent or fails.
    #[arg(short, long, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: CliCommand,
}

#[derive(Debug, Subcommand)]
enum CliCommand {
    /// Send the bulletin to every subscriber over SMTP; with --dry-run, make
    /// and check every message (and write them with --out) instead.
    ///
    /// Unsubscribed, suppressed, invalid and duplicate rows are skipped and
    /// reported with their line; a problem with the bulletin itself stops
    /// the run before any message is made. Every step is recorded in the
    /// journal, so running the same command again after a crash, Ctrl-C or
    /// --limit resumes without sending anyone a second copy. One send of a
    /// campaign runs at a time: while it runs it holds a lock in the state
    /// folder, and a second send of the same campaign stops at once, naming
    /// the run that holds it (--dry-run, --to, `status` and `bounces` do
    /// not wait for it). Exit code: 0 all sent, 1 some failed (see `bulletin
    /// status`), 2 nothing could be done, 3 the relay's quota or today's
    /// allowance (--rate N/day) is used up: the rest are pending, run the
    /// same command again when it resets.
    Send(SendArgs),
    /// Show what the journal knows of a campaign: sent, failed (with the
    /// relay's reasons), uncertain and pending recipients, and when it ran.
    Status(StatusArgs),
    /// Write the HTML, plaintext and .eml of one recipient's message, or
    /// with --serve, show it live in the browser as you edit.
    Preview(PreviewArgs),
    /// Check the bulletin, its merge fields against the list, every row of
    /// the list and the settings (and with --smtp, the relay); exit 1
    /// listing every problem.
    Check(CheckArgs),
    /// Write the bulletin's images, prepared as the messages carry them
    /// (upright, at most 1200px wide, re-encoded), to a folder, for
    /// uploading to ASSETS_URL.
    Assets(AssetsArgs),
    /// Add addresses to the suppression list by hand, for people who reply
    /// "please remove me": they are never mailed again, whatever the
    /// subscriber list says.
    ///
    /// Prints each address added or already there. Invalid addresses are
    /// reported (with their file and line) and skipped, and the command
    /// exits 1; the valid ones are still added.
    Unsubscribe(UnsubscribeArgs),
    /// Take an address off the suppression list (only when its owner asked
    /// to be mailed again), and say whether it was there.
    Resubscribe(ResubscribeArgs),
    /// Serve the one-click unsubscribe links (UNSUBSCRIBE_URL) behind your
    /// HTTPS reverse proxy, adding each reader who unsubscribes to the
    /// suppression list.
    ///
    /// Answers on the path of UNSUBSCRIBE_URL: a POST with
    /// List-Unsubscribe=One-Click (what mail programs' unsubscribe buttons
    /// send, RFC 8058) unsubscribes at once; a GET shows a page with a
    /// button and changes nothing. Links with a bad or forged token get 400.
    /// Needs UNSUBSCRIBE_SECRET (the same as the sends use). Runs until
    /// Ctrl-C or SIGTERM. Logs one line per event on standard error.
    ///
    /// With the relay set up (SMTP_HOST), it also takes sign-ups from the
    /// website: a form at /subscribe (INTERESTS, CONSENT_TEXT), a
    /// confirmation email with a link to /confirm that works for
    /// CONFIRM_HOURS (72), and each confirmed reader added to signups.csv
    /// beside the list, which sends read with it. ALLOWED_ORIGINS may post
    /// from their pages. `unsubscribe-server` is its old name.
    #[command(name = "serve", visible_alias = "unsubscribe-server")]
    Serve(ServeArgs),
    /// List the recipients of a campaign that bounced, each hard, soft,
    /// blocked or unknown with the server's words (`bounces BULLETIN`), or
    /// read bounce reports that came back by email (`bounces import PATH`).
    ///
    /// Hard bounces (no such address) and complaints are suppressed with
    /// --suppress or by an import; soft ones (a full mailbox) after
    /// BOUNCE_SOFT_LIMIT in a row; blocked ones (spam filters, SPF, DKIM,
    /// DMARC) never, as they are not the address's fault.
    Bounces(BouncesArgs),
    /// Bring subscribers over from another service: `import mailchimp
    /// EXPORT` reads a Mailchimp audience export.
    Import(ImportCmdArgs),
    /// Print as JSON everything held about an address: its rows in the
    /// lists of the subscriber list's folder, its suppression entry, every
    /// campaign's journal rows and its bounce reports.
    Export(PersonArgs),
    /// Erase an address on its owner's request: from every list in the
    /// subscriber list's folder, the journal and the bounce ledger, keeping
    /// only a salted hash in the suppression list so that an old list
    /// never brings it back. Prints what it removed, file by file.
    Forget(PersonArgs),
    /// Write the web archive: a page per bulletin (for nobody in
    /// particular: merge fields take their default, no address or
    /// unsubscribe link), an index newest first, an Atom feed and the
    /// images, for any static host at ARCHIVE_URL. Drafts and bulletins with
    /// `archive = false` are left out. Files already right are not written
    /// again.
    Publish(PublishArgs),
    /// Make a newsletter folder: content/ with a welcome bulletin,
    /// subscribers/subscribers.csv, .env (mode 0600) from the documented
    /// example with a fresh UNSUBSCRIBE_SECRET, a .gitignore and a README.
    ///
    /// Refuses to replace anything that is there, listing it, unless --force;
    /// even then an existing .env and subscriber list are kept.
    Init(InitArgs),
    /// Start this week's bulletin, content/DATE-TITLE.md: from the most
    /// recent one's front matter and section headings, with the items
    /// emptied, or converted from a plain-text bulletin with --from.
    ///
    /// In plain text, the first line is the title, a quotation in “…”
    /// followed by a "— Psalm 12:7-8" line becomes a block quote, a short
    /// line alone (a region) a `##` section, lines starting with "•" list
    /// items; other paragraphs are kept. Lines it was unsure about are
    /// listed with their numbers. Never replaces a file.
    New(NewArgs),
    /// Print the shell completion script for bash, zsh, fish or powershell.
    ///
    /// bash: `bulletin completions bash > ~/.local/share/bash-completion/completions/bulletin`;
    /// zsh: into a folder on $fpath as `_bulletin`; fish:
    /// `~/.config/fish/completions/bulletin.fish`.
    Completions(CompletionsArgs),
    /// Write the man page (roff) to standard output or to PATH.
    Man(ManArgs),
    /// The readers who signed up on the website (`bulletin serve`):
    /// `signups merge` moves them into the subscriber list.
    Signups(SignupsCmdArgs),
}

#[derive(Debug, Args)]
struct SignupsCmdArgs {
    #[command(subcommand)]
    command: SignupsCommand,
}

#[derive(Debug, Subcommand)]
enum SignupsCommand {
    /// Move the confirmed sign-ups in signups.csv (beside the subscriber
    /// list) into the list, with their consent records (consented_at,
    /// consent_text_hash, source, added as columns when the list lacks
    /// them), and take them off signups.csv. An address already on the
    /// list is not added twice. Until merged, sends read signups.csv
    /// with the list anyway.
    Merge(SignupsMergeArgs),
}

#[derive(Debug, Args)]
struct SignupsMergeArgs {
    #[command(flatten)]
    list: ListArgs,
}

#[derive(Debug, Args)]
struct ImportCmdArgs {
    #[command(subcommand)]
    command: ImportCommand,
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Read a Mailchimp audience export (its ZIP file, or the folder it
    /// unzips to): subscribed members are added to the subscriber list,
    /// unsubscribed and cleaned ones to the suppression list.
    ///
    /// Only addresses not on the list already are added, and no row of it
    /// is changed; names, tags, OPTIN_TIME, CONFIRM_TIME and the audience's
    /// own merge fields become columns. Nobody in the unsubscribed or
    /// cleaned files is added, even if also in the subscribed one. Rows
    /// without a valid address are listed with their file and line, and
    /// the exit code is then 1.
    Mailchimp(MailchimpArgs),
}

#[derive(Debug, Args)]
struct MailchimpArgs {
    /// The export's ZIP file, or the folder it unzips to.
    #[arg(value_name = "EXPORT")]
    export: PathBuf,

    #[command(flatten)]
    list: ListArgs,
}

#[derive(Debug, Args)]
struct PersonArgs {
    /// The address (compared without case).
    #[arg(value_name = "EMAIL")]
    address: String,

    #[command(flatten)]
    list: ListArgs,

    #[command(flatten)]
    state: StateArgs,
}

#[derive(Debug, Args)]
struct PublishArgs {
    /// The bulletins to publish. [default: every .md file in content/]
    #[arg(value_name = "BULLETIN")]
    bulletins: Vec<PathBuf>,

    /// The folder to write the site into: new, empty, or from an earlier
    /// publish.
    #[arg(long, value_name = "DIR", default_value = crate::commands::PublishOptions::DEFAULT_OUT)]
    out: PathBuf,

    /// Where the site is served, for the feed's links, instead of
    /// ARCHIVE_URL (e.g. http://localhost:8000/ to try it out).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
}

#[derive(Debug, Args)]
struct InitArgs {
    /// The folder to make. [default: the current folder, or --dir]
    #[arg(value_name = "DIR")]
    folder: Option<PathBuf>,

    /// Replace init's own files where they exist (never .env or the list).
    #[arg(long)]
    force: bool,

    /// The organisation's name (ORG_NAME). Asked on a terminal if not given.
    #[arg(long, value_name = "NAME")]
    org_name: Option<String>,

    /// Its postal address, on one line (ORG_ADDRESS). Asked on a terminal
    /// if not given.
    #[arg(long, value_name = "ADDRESS")]
    org_address: Option<String>,

    /// The address bulletins are sent from (FROM_EMAIL). Asked on a
    /// terminal if not given.
    #[arg(long, value_name = "EMAIL")]
    from_email: Option<String>,

    /// The organisation's website, https:// (ORG_WEBSITE). Asked on a
    /// terminal if not given.
    #[arg(long, value_name = "URL")]
    website: Option<String>,

    /// Ask nothing: what no flag gives is left empty in .env. [default
    /// when not on a terminal]
    #[arg(long, short = 'y')]
    yes: bool,
}

#[derive(Debug, Args)]
struct NewArgs {
    /// The title; it also names the file. [default: the last bulletin's]
    #[arg(value_name = "TITLE")]
    title: Option<String>,

    /// The issue date, such as 2025-10-23. [default: today]
    #[arg(long, value_name = "DATE")]
    date: Option<jiff::civil::Date>,

    /// A plain-text bulletin to convert.
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,

    #[command(flatten)]
    state: StateArgs,
}

#[derive(Debug, Args)]
struct CompletionsArgs {
    #[arg(value_name = "SHELL")]
    shell: ShellArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ShellArg {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
struct ManArgs {
    /// The file to write. [default: standard output]
    #[arg(value_name = "PATH")]
    out: Option<PathBuf>,
}

/// `--version`: the version and the commit it was built from (build.rs).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("BULLETIN_COMMIT"), ")");

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

#[derive(Debug, Args)]
struct UnsubscribeArgs {
    /// Addresses to suppress (`ana@example.org` or `Ana Silva <ana@example.org>`).
    #[arg(value_name = "EMAIL", required_unless_present = "from_file")]
    addresses: Vec<String>,

    /// Also read addresses from this file: a CSV file with an `email`
    /// column, or else one address per line (blank lines and lines starting
    /// with # are skipped).
    #[arg(long, value_name = "PATH")]
    from_file: Option<PathBuf>,

    /// A note kept with each address in the suppression list's `detail`
    /// column, e.g. "replied 2025-10-20".
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,

    #[command(flatten)]
    list: ListArgs,
}

#[derive(Debug, Args)]
struct ResubscribeArgs {
    /// The address to take off the suppression list.
    #[arg(value_name = "EMAIL")]
    address: String,

    #[command(flatten)]
    list: ListArgs,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The address and port to listen on, plain HTTP (port 0 picks a free
    /// one). Keep it on 127.0.0.1 and let the reverse proxy reach it.
    #[arg(long, value_name = "ADDR", default_value = crate::commands::ServeOptions::DEFAULT_LISTEN)]
    listen: std::net::SocketAddr,

    #[command(flatten)]
    list: ListArgs,

    /// Where the confirmation emails sent today are counted (sign-up).
    #[command(flatten)]
    state: StateArgs,
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

    #[command(flatten)]
    relay: RelayArgs,

    /// Send without asking for confirmation. Needed when not on a terminal.
    #[arg(long, short = 'y')]
    yes: bool,

    /// Send a test copy to this address only (repeat for more), personalised
    /// as the first subscriber, with "[TEST] " before the subject. The
    /// journal is not touched.
    #[arg(long, value_name = "ADDR", conflicts_with_all = ["dry_run", "limit", "retry_failed"])]
    to: Vec<String>,

    /// Send to the next N pending recipients only; run again for the rest.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,

    /// Also try again the recipients an earlier run failed to send to.
    #[arg(long)]
    retry_failed: bool,

    /// Also send to those who already received this bulletin as another
    /// campaign: the same text at any time (under another date or file
    /// name), or a near copy of it (a corrected version) within the last 30
    /// days. Without it they are skipped, and stay pending. The subject
    /// alone never counts.
    #[arg(long, conflicts_with = "to")]
    resend_duplicates: bool,

    /// Send to the others when more than half of those still to send to
    /// already received this bulletin as another campaign. Without it (or
    /// --resend-duplicates) such a send stops before sending anything, so a
    /// copy of last week's bulletin is never quietly sent to almost nobody.
    #[arg(long, conflicts_with_all = ["to", "resend_duplicates"])]
    skip_duplicates: bool,

    /// Send a bulletin marked `draft = true` to the list. Without it a
    /// draft is refused; a dry run, a preview and test copies (--to) need
    /// no flag.
    #[arg(long)]
    allow_draft: bool,

    #[command(flatten)]
    state: StateArgs,
}

#[derive(Debug, Args)]
struct StateArgs {
    /// Folder holding the journal of what was sent to whom.
    #[arg(long, value_name = "DIR", default_value = ".bulletin")]
    state_dir: PathBuf,
}

/// Relay settings that win over SMTP_* in .env and the environment. The
/// password is only ever read from SMTP_PASSWORD, never from the command
/// line, where other users of the machine could see it.
#[derive(Debug, Args)]
struct RelayArgs {
    /// Most messages submitted per second, minute or hour, across all
    /// connections: 14/s, 600/min, 5000/h or unlimited; and/or a daily
    /// allowance, counted across runs and campaigns: 2000/day, or
    /// 14/s,2000/day. The relay's "slow down" replies lower the pace for a
    /// while. [default: SMTP_RATE, else 10/s]
    #[arg(long, value_name = "RATE")]
    rate: Option<RateLimit>,

    /// Connections used in parallel. [default: SMTP_CONCURRENCY, else 4]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    concurrency: Option<u16>,

    /// Tries per message for temporary failures. [default: SMTP_ATTEMPTS, else 4]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    attempts: Option<u32>,

    /// The relay's host name. [default: SMTP_HOST]
    #[arg(long, value_name = "HOST")]
    smtp_host: Option<String>,

    /// The relay's port. [default: SMTP_PORT, else 465 for tls, 587 for
    /// starttls, 25 for none]
    #[arg(long, value_name = "PORT")]
    smtp_port: Option<u16>,

    /// tls, starttls or none. [default: SMTP_SECURITY, else starttls]
    #[arg(long, value_name = "MODE")]
    smtp_security: Option<Security>,

    /// The relay login. [default: SMTP_USERNAME]
    #[arg(long, value_name = "NAME")]
    smtp_username: Option<String>,

    /// Allow --smtp-security none to a relay that is not on this machine
    /// (the password and messages then cross the network unencrypted).
    #[arg(long)]
    allow_insecure: bool,
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

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct BouncesArgs {
    #[command(subcommand)]
    command: Option<BouncesCommand>,

    /// The bulletin whose bounces to list (write ./import for a file named
    /// import).
    #[arg(value_name = "BULLETIN", required = true)]
    bulletin: Option<PathBuf>,

    #[command(flatten)]
    list: ListArgs,

    #[command(flatten)]
    state: StateArgs,

    /// Add the hard bounces, complaints and addresses with BOUNCE_SOFT_LIMIT
    /// soft bounces in a row to the suppression list, and say how many
    /// were added and how many were there already.
    #[arg(long)]
    suppress: bool,

    /// Also write a row per bounce (email, class, why, via, status, reply,
    /// date) to this CSV file.
    #[arg(long, value_name = "PATH")]
    csv: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum BouncesCommand {
    /// Read bounce reports from a Maildir, an mbox file, .eml files or a
    /// folder of them, record each once, and suppress hard bounces,
    /// complaints and addresses with too many soft bounces in a row.
    ///
    /// Auto-replies and other mail are counted and ignored. A message that
    /// cannot be read is listed with the reason and the import goes on;
    /// the exit code is then 1. Importing the same mailbox again changes
    /// nothing.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// Maildir folders (with cur/ and new/), mbox files, message files or
    /// folders of message files. Nothing in them is changed.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,

    #[command(flatten)]
    list: ListArgs,

    #[command(flatten)]
    state: StateArgs,

    /// Read everything and say what would be suppressed, writing nothing.
    #[arg(long)]
    dry_run: bool,

    /// Also believe reports that match no message in the journal (no VERP
    /// token of ours, no Message-ID we sent). Without it they are listed
    /// and ignored, so that nobody who can email the bounce address can
    /// suppress a reader.
    #[arg(long)]
    trust_unmatched: bool,
}

#[derive(Debug, Args)]
struct StatusArgs {
    /// The bulletin: a Markdown file with front matter.
    #[arg(value_name = "BULLETIN")]
    bulletin: PathBuf,

    #[command(flatten)]
    list: ListArgs,

    #[command(flatten)]
    state: StateArgs,

    /// Also write a row per recipient (email, state, attempts, time,
    /// Message-ID, the relay's reply) to this CSV file.
    #[arg(long, value_name = "PATH")]
    csv: Option<PathBuf>,
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
    #[arg(long, value_name = "DIR", default_value = "preview", conflicts_with = "serve")]
    out: PathBuf,

    /// Instead of writing files, serve a live preview on 127.0.0.1: the
    /// email in desktop, phone, dark and inverted frames, its plaintext and
    /// headers, a reader picker and the problems `check` finds. Saving the
    /// bulletin, the list or .env reloads the page.
    #[arg(long)]
    serve: bool,

    /// The port for --serve (0 picks a free one).
    #[arg(long, value_name = "PORT", default_value_t = crate::commands::Serve::DEFAULT_PORT, requires = "serve")]
    port: u16,

    /// With --serve, open the page in the default browser.
    #[arg(long, requires = "serve")]
    open: bool,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The bulletin: a Markdown file with front matter.
    #[arg(value_name = "BULLETIN")]
    bulletin: PathBuf,

    #[command(flatten)]
    list: ListArgs,

    /// Also connect to the relay, negotiate TLS and log in (sending
    /// nothing), and report success or the relay's exact answer.
    #[arg(long)]
    smtp: bool,

    #[command(flatten)]
    relay: RelayArgs,

    /// The web archive's folder (`publish --out`), where the page
    /// should be when ARCHIVE_URL is set.
    #[arg(long, value_name = "DIR", default_value = crate::commands::PublishOptions::DEFAULT_OUT)]
    site: PathBuf,

    #[command(flatten)]
    state: StateArgs,
}

#[derive(Debug, Args)]
struct AssetsArgs {
    /// The bulletin: a Markdown file with front matter.
    #[arg(value_name = "BULLETIN")]
    bulletin: PathBuf,

    /// The folder to write the images into (made if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
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
