//! The command line as clap sees it: every command, argument, default and
//! help text, and nothing else. What the arguments become is the parent
//! module's business ([`super`]), as ripgrep keeps its flags' definitions
//! apart from what they are turned into.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Security;
use crate::domain::RateLimit;

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
    pub(super) dir: Option<PathBuf>,

    /// Settings file to read. Environment variables win over it.
    /// [default: .env in the current folder, if there is one]
    #[arg(long, global = true, value_name = "PATH")]
    pub(super) env_file: Option<PathBuf>,

    /// Print only errors and the final summary: no progress, no warnings.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(super) quiet: bool,

    /// Log each message as it is sent or fails.
    #[arg(short, long, global = true)]
    pub(super) verbose: bool,

    #[command(subcommand)]
    pub(super) command: CliCommand,
}

#[derive(Debug, Subcommand)]
pub(super) enum CliCommand {
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
    /// the list and the settings (with --smtp, the relay; with --dns, the
    /// DNS records receivers check); exit 1
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
    ///
    /// It also sends the bulletins `bulletin schedule` scheduled, when they
    /// are due, as `bulletin send BULLETIN --yes` would, to this list.
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
    /// Send a bulletin at a set time: `schedule BULLETIN --at "2026-12-10
    /// 07:00"` (in TIME_ZONE, default the machine's; or RFC 3339), `schedule
    /// list`, `schedule cancel ID`.
    ///
    /// `bulletin serve` sends it when it is due, exactly as `bulletin send
    /// BULLETIN --yes` would, to the list `serve` reads. A send missed while
    /// `serve` was not running goes when it starts if less than CATCH_UP
    /// (12h) late; otherwise it is skipped and staff are told (STAFF_EMAIL).
    /// For a send every week by itself, set SEND_EVERY ("Thursday 07:00")
    /// instead: `serve` sends the newest ready bulletin in content/ then.
    Schedule(ScheduleArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(super) struct ScheduleArgs {
    #[command(subcommand)]
    pub(super) command: Option<ScheduleCommand>,

    /// The bulletin to send (write ./list for a file named list). It must
    /// load and not be a draft.
    #[arg(value_name = "BULLETIN", required = true)]
    pub(super) bulletin: Option<PathBuf>,

    /// When: `2026-12-10 07:00` in TIME_ZONE, or RFC 3339 with an offset
    /// (`2026-12-10T07:00:00Z`). Must be in the future.
    #[arg(long, value_name = "TIME", required = true)]
    pub(super) at: Option<String>,

    #[command(flatten)]
    pub(super) state: StateArgs,
}

#[derive(Debug, Subcommand)]
pub(super) enum ScheduleCommand {
    /// List the scheduled sends, soonest first, with their state (pending,
    /// claimed, sent, skipped, cancelled, failed) and why; with SEND_EVERY,
    /// the weekly sends among them and the next, with the bulletin it would
    /// send now.
    List(ScheduleListArgs),
    /// Cancel a pending scheduled send (not one `serve` is sending).
    Cancel(ScheduleCancelArgs),
}

#[derive(Debug, Args)]
pub(super) struct ScheduleListArgs {
    #[command(flatten)]
    pub(super) state: StateArgs,
}

#[derive(Debug, Args)]
pub(super) struct ScheduleCancelArgs {
    /// The number `schedule` printed (see `schedule list`).
    #[arg(value_name = "ID")]
    pub(super) id: i64,

    #[command(flatten)]
    pub(super) state: StateArgs,
}

#[derive(Debug, Args)]
pub(super) struct SignupsCmdArgs {
    #[command(subcommand)]
    pub(super) command: SignupsCommand,
}

#[derive(Debug, Subcommand)]
pub(super) enum SignupsCommand {
    /// Move the confirmed sign-ups in signups.csv (beside the subscriber
    /// list) into the list, with their consent records (consented_at,
    /// consent_text_hash, source, added as columns when the list lacks
    /// them), and take them off signups.csv. An address already on the
    /// list is not added twice. Until merged, sends read signups.csv
    /// with the list anyway.
    Merge(SignupsMergeArgs),
}

#[derive(Debug, Args)]
pub(super) struct SignupsMergeArgs {
    #[command(flatten)]
    pub(super) list: ListArgs,
}

#[derive(Debug, Args)]
pub(super) struct ImportCmdArgs {
    #[command(subcommand)]
    pub(super) command: ImportCommand,
}

#[derive(Debug, Subcommand)]
pub(super) enum ImportCommand {
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
pub(super) struct MailchimpArgs {
    /// The export's ZIP file, or the folder it unzips to.
    #[arg(value_name = "EXPORT")]
    pub(super) export: PathBuf,

    #[command(flatten)]
    pub(super) list: ListArgs,
}

#[derive(Debug, Args)]
pub(super) struct PersonArgs {
    /// The address (compared without case).
    #[arg(value_name = "EMAIL")]
    pub(super) address: String,

    #[command(flatten)]
    pub(super) list: ListArgs,

    #[command(flatten)]
    pub(super) state: StateArgs,
}

#[derive(Debug, Args)]
pub(super) struct PublishArgs {
    /// The bulletins to publish. [default: every .md file in content/]
    #[arg(value_name = "BULLETIN")]
    pub(super) bulletins: Vec<PathBuf>,

    /// The folder to write the site into: new, empty, or from an earlier
    /// publish. [default: site]
    #[arg(long, value_name = "DIR")]
    pub(super) out: Option<PathBuf>,

    /// Where the site is served, for the feed's links, instead of
    /// ARCHIVE_URL (e.g. http://localhost:8000/ to try it out).
    #[arg(long, value_name = "URL")]
    pub(super) base_url: Option<String>,
}

#[derive(Debug, Args)]
pub(super) struct InitArgs {
    /// The folder to make. [default: the current folder, or --dir]
    #[arg(value_name = "DIR")]
    pub(super) folder: Option<PathBuf>,

    /// Replace init's own files where they exist (never .env or the list).
    #[arg(long)]
    pub(super) force: bool,

    /// The organisation's name (ORG_NAME). Asked on a terminal if not given.
    #[arg(long, value_name = "NAME")]
    pub(super) org_name: Option<String>,

    /// Its postal address, on one line (ORG_ADDRESS). Asked on a terminal
    /// if not given.
    #[arg(long, value_name = "ADDRESS")]
    pub(super) org_address: Option<String>,

    /// The address bulletins are sent from (FROM_EMAIL). Asked on a
    /// terminal if not given.
    #[arg(long, value_name = "EMAIL")]
    pub(super) from_email: Option<String>,

    /// The organisation's website, https:// (ORG_WEBSITE). Asked on a
    /// terminal if not given.
    #[arg(long, value_name = "URL")]
    pub(super) website: Option<String>,

    /// Ask nothing: what no flag gives is left empty in .env. [default
    /// when not on a terminal]
    #[arg(long, short = 'y')]
    pub(super) yes: bool,
}

#[derive(Debug, Args)]
pub(super) struct NewArgs {
    /// The title; it also names the file. [default: the last bulletin's]
    #[arg(value_name = "TITLE")]
    pub(super) title: Option<String>,

    /// The issue date, such as 2025-10-23. [default: today]
    #[arg(long, value_name = "DATE")]
    pub(super) date: Option<jiff::civil::Date>,

    /// A plain-text bulletin to convert.
    #[arg(long, value_name = "FILE")]
    pub(super) from: Option<PathBuf>,

    #[command(flatten)]
    pub(super) state: StateArgs,
}

#[derive(Debug, Args)]
pub(super) struct CompletionsArgs {
    #[arg(value_name = "SHELL")]
    pub(super) shell: ShellArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(super) enum ShellArg {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub(super) struct ManArgs {
    /// The file to write. [default: standard output]
    #[arg(value_name = "PATH")]
    pub(super) out: Option<PathBuf>,
}

/// `--version`: the version and the commit it was built from (build.rs).
pub(super) const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("BULLETIN_COMMIT"), ")");

#[derive(Debug, Args)]
pub(super) struct UnsubscribeArgs {
    /// Addresses to suppress (`ana@example.org` or `Ana Silva <ana@example.org>`).
    #[arg(value_name = "EMAIL", required_unless_present = "from_file")]
    pub(super) addresses: Vec<String>,

    /// Also read addresses from this file: a CSV file with an `email`
    /// column, or else one address per line (blank lines and lines starting
    /// with # are skipped).
    #[arg(long, value_name = "PATH")]
    pub(super) from_file: Option<PathBuf>,

    /// A note kept with each address in the suppression list's `detail`
    /// column, e.g. "replied 2025-10-20".
    #[arg(long, value_name = "TEXT")]
    pub(super) note: Option<String>,

    #[command(flatten)]
    pub(super) list: ListArgs,
}

#[derive(Debug, Args)]
pub(super) struct ResubscribeArgs {
    /// The address to take off the suppression list.
    #[arg(value_name = "EMAIL")]
    pub(super) address: String,

    #[command(flatten)]
    pub(super) list: ListArgs,
}

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// The address and port to listen on, plain HTTP (port 0 picks a free
    /// one). Keep it on 127.0.0.1 and let the reverse proxy reach it.
    #[arg(long, value_name = "ADDR", default_value = crate::commands::ServeOptions::DEFAULT_LISTEN)]
    pub(super) listen: std::net::SocketAddr,

    #[command(flatten)]
    pub(super) list: ListArgs,

    /// Where the confirmation emails sent today are counted (sign-up).
    #[command(flatten)]
    pub(super) state: StateArgs,
}

#[derive(Debug, Args)]
pub(super) struct ListArgs {
    /// The subscriber list (CSV with an `email` column).
    /// [default: subscribers/subscribers.csv]
    #[arg(long, value_name = "PATH")]
    pub(super) subscribers: Option<PathBuf>,

    /// Addresses never to mail (CSV with an `email` column).
    /// [default: suppressed.csv beside the subscriber list, if there is one]
    #[arg(long, value_name = "PATH")]
    pub(super) suppressed: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(super) struct SendArgs {
    /// The bulletin: a Markdown file with front matter.
    #[arg(value_name = "BULLETIN")]
    pub(super) bulletin: PathBuf,

    #[command(flatten)]
    pub(super) list: ListArgs,

    /// Do everything but connect to a mail server: render and check every
    /// message and print what would be sent.
    #[arg(long)]
    pub(super) dry_run: bool,

    /// With --dry-run, write each message as an .eml file (exactly the bytes
    /// that would be sent) and its HTML, plus an index.html listing them, to
    /// this folder. The folder must be new, empty, or from an earlier run.
    #[arg(long, value_name = "DIR", requires = "dry_run")]
    pub(super) out: Option<PathBuf>,

    #[command(flatten)]
    pub(super) relay: RelayArgs,

    /// Send without asking for confirmation. Needed when not on a terminal.
    #[arg(long, short = 'y')]
    pub(super) yes: bool,

    /// Send a test copy to this address only (repeat for more), personalised
    /// as the first subscriber, with "[TEST] " before the subject. The
    /// journal is not touched.
    #[arg(long, value_name = "ADDR", conflicts_with_all = ["dry_run", "limit", "retry_failed"])]
    pub(super) to: Vec<String>,

    /// Send to the next N pending recipients only; run again for the rest.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) limit: Option<u64>,

    /// Also try again the recipients an earlier run failed to send to.
    #[arg(long)]
    pub(super) retry_failed: bool,

    /// Also send to those who already received this bulletin as another
    /// campaign: the same text at any time (under another date or file
    /// name), or a near copy of it (a corrected version) within the last 30
    /// days. Without it they are skipped, and stay pending. The subject
    /// alone never counts.
    #[arg(long, conflicts_with = "to")]
    pub(super) resend_duplicates: bool,

    /// Send to the others when more than half of those still to send to
    /// already received this bulletin as another campaign. Without it (or
    /// --resend-duplicates) such a send stops before sending anything, so a
    /// copy of last week's bulletin is never quietly sent to almost nobody.
    #[arg(long, conflicts_with_all = ["to", "resend_duplicates"])]
    pub(super) skip_duplicates: bool,

    /// Send a bulletin marked `draft = true` to the list. Without it a
    /// draft is refused; a dry run, a preview and test copies (--to) need
    /// no flag.
    #[arg(long)]
    pub(super) allow_draft: bool,

    #[command(flatten)]
    pub(super) state: StateArgs,
}

#[derive(Debug, Args)]
pub(super) struct StateArgs {
    /// Folder holding the journal of what was sent to whom.
    /// [default: .bulletin]
    #[arg(long, value_name = "DIR")]
    pub(super) state_dir: Option<PathBuf>,
}

/// Relay settings that win over SMTP_* in .env and the environment. The
/// password is only ever read from SMTP_PASSWORD, never from the command
/// line, where other users of the machine could see it.
#[derive(Debug, Args)]
pub(super) struct RelayArgs {
    /// Most messages submitted per second, minute or hour, across all
    /// connections: 14/s, 600/min, 5000/h or unlimited; and/or a daily
    /// allowance, counted across runs and campaigns: 2000/day, or
    /// 14/s,2000/day. The relay's "slow down" replies lower the pace for a
    /// while. [default: SMTP_RATE, else 10/s]
    #[arg(long, value_name = "RATE")]
    pub(super) rate: Option<RateLimit>,

    /// Connections used in parallel. [default: SMTP_CONCURRENCY, else 4]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub(super) concurrency: Option<u16>,

    /// Tries per message for temporary failures. [default: SMTP_ATTEMPTS, else 4]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub(super) attempts: Option<u32>,

    /// The relay's host name. [default: SMTP_HOST]
    #[arg(long, value_name = "HOST")]
    pub(super) smtp_host: Option<String>,

    /// The relay's port. [default: SMTP_PORT, else 465 for tls, 587 for
    /// starttls, 25 for none]
    #[arg(long, value_name = "PORT")]
    pub(super) smtp_port: Option<u16>,

    /// tls, starttls or none. [default: SMTP_SECURITY, else starttls]
    #[arg(long, value_name = "MODE")]
    pub(super) smtp_security: Option<Security>,

    /// The relay login. [default: SMTP_USERNAME]
    #[arg(long, value_name = "NAME")]
    pub(super) smtp_username: Option<String>,

    /// Allow --smtp-security none to a relay that is not on this machine
    /// (the password and messages then cross the network unencrypted).
    #[arg(long)]
    pub(super) allow_insecure: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(super) struct BouncesArgs {
    #[command(subcommand)]
    pub(super) command: Option<BouncesCommand>,

    /// The bulletin whose bounces to list (write ./import for a file named
    /// import).
    #[arg(value_name = "BULLETIN", required = true)]
    pub(super) bulletin: Option<PathBuf>,

    #[command(flatten)]
    pub(super) list: ListArgs,

    #[command(flatten)]
    pub(super) state: StateArgs,

    /// Add the hard bounces, complaints and addresses with BOUNCE_SOFT_LIMIT
    /// soft bounces in a row to the suppression list, and say how many
    /// were added and how many were there already.
    #[arg(long)]
    pub(super) suppress: bool,

    /// Also write a row per bounce (email, class, why, via, status, reply,
    /// date) to this CSV file.
    #[arg(long, value_name = "PATH")]
    pub(super) csv: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(super) enum BouncesCommand {
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
pub(super) struct ImportArgs {
    /// Maildir folders (with cur/ and new/), mbox files, message files or
    /// folders of message files. Nothing in them is changed.
    #[arg(value_name = "PATH", required = true)]
    pub(super) paths: Vec<PathBuf>,

    #[command(flatten)]
    pub(super) list: ListArgs,

    #[command(flatten)]
    pub(super) state: StateArgs,

    /// Read everything and say what would be suppressed, writing nothing.
    #[arg(long)]
    pub(super) dry_run: bool,

    /// Also believe reports that match no message in the journal (no VERP
    /// token of ours, no Message-ID we sent). Without it they are listed
    /// and ignored, so that nobody who can email the bounce address can
    /// suppress a reader.
    #[arg(long)]
    pub(super) trust_unmatched: bool,
}

#[derive(Debug, Args)]
pub(super) struct StatusArgs {
    /// The bulletin: a Markdown file with front matter.
    #[arg(value_name = "BULLETIN")]
    pub(super) bulletin: PathBuf,

    #[command(flatten)]
    pub(super) list: ListArgs,

    #[command(flatten)]
    pub(super) state: StateArgs,

    /// Also write a row per recipient (email, state, attempts, time,
    /// Message-ID, the relay's reply) to this CSV file.
    #[arg(long, value_name = "PATH")]
    pub(super) csv: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(super) struct PreviewArgs {
    /// The bulletin: a Markdown file with front matter.
    #[arg(value_name = "BULLETIN")]
    pub(super) bulletin: PathBuf,

    #[command(flatten)]
    pub(super) list: ListArgs,

    /// Preview the message for this subscriber. [default: the first one who
    /// would receive it]
    #[arg(long, value_name = "EMAIL")]
    pub(super) subscriber: Option<String>,

    /// Folder to write the preview files to. [default: preview]
    #[arg(long, value_name = "DIR", conflicts_with = "serve")]
    pub(super) out: Option<PathBuf>,

    /// Instead of writing files, serve a live preview on 127.0.0.1: the
    /// email in desktop, phone, dark and inverted frames, its plaintext and
    /// headers, a reader picker and the problems `check` finds. Saving the
    /// bulletin, the list or .env reloads the page.
    #[arg(long)]
    pub(super) serve: bool,

    /// The port for --serve (0 picks a free one).
    #[arg(long, value_name = "PORT", default_value_t = crate::commands::Serve::DEFAULT_PORT, requires = "serve")]
    pub(super) port: u16,

    /// With --serve, open the page in the default browser.
    #[arg(long, requires = "serve")]
    pub(super) open: bool,
}

#[derive(Debug, Args)]
pub(super) struct CheckArgs {
    /// The bulletin: a Markdown file with front matter.
    #[arg(value_name = "BULLETIN")]
    pub(super) bulletin: PathBuf,

    #[command(flatten)]
    pub(super) list: ListArgs,

    /// Also connect to the relay, negotiate TLS and log in (sending
    /// nothing), and report success or the relay's exact answer.
    #[arg(long)]
    pub(super) smtp: bool,

    /// Also look up the sending setup in the DNS (SPF for the relay, the
    /// DKIM key, DMARC and alignment, MX for bounces), asking DNS_SERVER
    /// or the system's resolver, and say what to publish.
    #[arg(long)]
    pub(super) dns: bool,

    #[command(flatten)]
    pub(super) relay: RelayArgs,

    /// The web archive's folder (`publish --out`), where the page
    /// should be when ARCHIVE_URL is set. [default: site]
    #[arg(long, value_name = "DIR")]
    pub(super) site: Option<PathBuf>,

    #[command(flatten)]
    pub(super) state: StateArgs,
}

#[derive(Debug, Args)]
pub(super) struct AssetsArgs {
    /// The bulletin: a Markdown file with front matter.
    #[arg(value_name = "BULLETIN")]
    pub(super) bulletin: PathBuf,

    /// The folder to write the images into (made if missing).
    #[arg(long, value_name = "DIR")]
    pub(super) out: PathBuf,
}
