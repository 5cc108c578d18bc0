//! `bulletin` turns a Markdown bulletin into a personalised email for every
//! supporter on a CSV list.
//!
//! The modules follow the road a bulletin travels: [`content`] (Markdown and
//! front matter) → [`render`] (HTML and text, once per bulletin) → [`job`]
//! (per [`subscribers`] row, personalised → [`message`]: headers, MIME,
//! tokens, signed by [`dkim`]) → [`deliver`] (a `Transport`, one rate
//! limit, retries) → [`journal`] → [`report`].
//!
//! Beneath them: [`domain`] (values that can only hold what is valid, and
//! the one clock), [`merge`] (`{{ fields }}`), [`config`] (settings, typed)
//! and [`output_folder`] (folders written for a person to look at). On top:
//! [`lint`] (what would hurt delivery, for `check` and the preview),
//! [`bounce`] (bounce and complaint reports), [`publish`] (the web archive
//! and feed) and [`http`] (the live preview, and `bulletin serve`: one-click
//! unsubscribe, preferences and sign-up); [`commands`] strings them
//! together, one per command, and [`cli`] turns the command line into them.
//! The layer order is written in CONTRIBUTING.md and checked by
//! `tests/architecture.rs`.

pub mod bounce;
pub mod cli;
pub mod commands;
pub mod config;
pub mod content;
pub mod deliver;
pub mod dkim;
pub mod domain;
pub mod http;
pub mod job;
pub mod journal;
pub mod lint;
pub mod merge;
pub mod message;
pub mod output_folder;
pub mod publish;
pub mod render;
pub mod report;
pub mod subscribers;

pub use commands::Outcome;

/// Runs the command line's command for its newsletter folder (see
/// [`config::NewsletterFolder`]), when there is one. The process stays in
/// the folder it was started in: [`cli::Anchor`] makes every path work
/// from there.
pub fn run(cli: cli::Cli) -> anyhow::Result<Outcome> {
    let anchor = if cli.is_setup() { cli::Anchor::none() } else { anchor(&cli)? };
    let (env_file, required) = cli.env_file(&anchor);
    let ui = cli.ui();
    if ui.verbose {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_ansi(report::colour(&std::io::stderr()))
            .with_max_level(tracing::Level::INFO)
            .init();
    }
    // init, completions and man read no settings: a broken .env where
    // they run does not stop them.
    let env =
        if cli.is_setup() { config::Source::default() } else { config::Source::load(&env_file, required)? };
    let now = domain::Clock::now(&domain::SystemClock).as_system_time();
    commands::run(cli.into_command(&anchor), &env, now, ui)
}

/// Where the command's paths start: with --dir, as with `git -C`, as if
/// run there; found from below, the paths typed are where the user is and
/// the defaults in the folder found.
fn anchor(cli: &cli::Cli) -> anyhow::Result<cli::Anchor> {
    use anyhow::Context;
    let here = std::env::current_dir().context("cannot read the current folder")?;
    let (folder, typed_from) = match cli.dir() {
        Some(dir) => {
            let folder = config::NewsletterFolder::given(&here.join(dir))?;
            let typed_from = folder.path().to_owned();
            (Some(folder), typed_from)
        }
        None => (config::NewsletterFolder::find(&here), here.clone()),
    };
    Ok(match folder {
        Some(folder) if folder.path() != here => cli::Anchor::elsewhere(folder.path().to_owned(), typed_from),
        Some(_) => cli::Anchor::none(),
        None => {
            OUTSIDE.store(true, std::sync::atomic::Ordering::Relaxed);
            cli::Anchor::none()
        }
    })
}

/// Set when the command ran outside any newsletter folder.
static OUTSIDE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// What to add to `error`: how to make a newsletter folder, when a file was
/// not found and the command ran outside one.
pub fn hint(error: &anyhow::Error) -> Option<&'static str> {
    let not_found = error.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound)
    });
    (not_found && OUTSIDE.load(std::sync::atomic::Ordering::Relaxed))
        .then_some(config::newsletter::HOW_TO_MAKE_ONE)
}

/// The async runtime the sending and serving commands run on: two worker
/// threads, one for each core of the machines we measure on.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
