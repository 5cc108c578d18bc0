//! `bulletin completions SHELL` and `bulletin man`: the files a shell and
//! `man` read. `cli` makes them from the command line's own definition;
//! this writes them where they go.

use std::fs;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;

use super::Outcome;

/// Options of `bulletin completions`.
#[derive(Debug, Clone)]
pub struct CompletionsOptions {
    /// The completion script for the shell asked for.
    pub script: Vec<u8>,
}

/// Options of `bulletin man`.
#[derive(Debug, Clone)]
pub struct ManOptions {
    /// Where to write the page. [default: standard output]
    pub out: Option<PathBuf>,
    /// The page, in roff.
    pub page: Vec<u8>,
}

pub(super) fn completions(options: &CompletionsOptions) -> anyhow::Result<Outcome> {
    std::io::stdout().lock().write_all(&options.script).context("cannot write the completions")?;
    Ok(Outcome::Done)
}

pub(super) fn man(options: &ManOptions) -> anyhow::Result<Outcome> {
    let page = &options.page;
    match &options.out {
        Some(path) => {
            fs::write(path, page).with_context(|| format!("cannot write {}", path.display()))?;
            println!("Wrote {}", path.display());
        }
        None => std::io::stdout().lock().write_all(page).context("cannot write the man page")?,
    }
    Ok(Outcome::Done)
}
