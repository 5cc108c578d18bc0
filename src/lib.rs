//! `bulletin` turns a Markdown bulletin into a personalised email for every
//! supporter on a CSV list.
//!
//! The modules follow the road a bulletin travels: [`content`] (Markdown and
//! front matter) → [`render`] (HTML and text, once per bulletin) → per
//! [`subscribers`] row, personalised → [`message`] (headers, MIME) →
//! [`deliver`] → [`journal`] → [`report`]. [`commands`] strings them
//! together; [`lint`] finds what would hurt delivery, for `check`; [`http`]
//! holds the two web servers on top: the preview that follows the files as
//! they change, and the one-click unsubscribe server.

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
pub mod publish;
pub mod render;
pub mod report;
pub mod subscribers;

pub use commands::Outcome;

/// Runs the command line's command.
pub fn run(cli: cli::Cli) -> anyhow::Result<Outcome> {
    let (env_file, required) = cli.env_file();
    let ui = cli.ui();
    if ui.verbose {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_max_level(tracing::Level::INFO)
            .init();
    }
    let env = config::Source::load(&env_file, required)?;
    let now = domain::Clock::now(&domain::SystemClock).as_system_time();
    commands::run(cli.into_command(), &env, now, ui)
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
