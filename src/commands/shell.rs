//! `bulletin completions SHELL` and `bulletin man`: the files a shell and
//! `man` read, written from the command line's own definition (`cli`).

use std::fs;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;

use super::Outcome;

/// The shells `completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    PowerShell,
}

/// Options of `bulletin completions`.
#[derive(Debug, Clone)]
pub struct CompletionsOptions {
    pub shell: Shell,
}

/// Options of `bulletin man`.
#[derive(Debug, Clone)]
pub struct ManOptions {
    /// Where to write the page. [default: standard output]
    pub out: Option<PathBuf>,
}

pub(super) fn completions(options: &CompletionsOptions) -> anyhow::Result<Outcome> {
    let mut script = Vec::new();
    crate::cli::completions(options.shell, &mut script);
    std::io::stdout().lock().write_all(&script).context("cannot write the completions")?;
    Ok(Outcome::Done)
}

pub(super) fn man(options: &ManOptions) -> anyhow::Result<Outcome> {
    let mut page = Vec::new();
    crate::cli::man_page(&mut page).context("cannot make the man page")?;
    match &options.out {
        Some(path) => {
            fs::write(path, &page).with_context(|| format!("cannot write {}", path.display()))?;
            println!("Wrote {}", path.display());
        }
        None => std::io::stdout().lock().write_all(&page).context("cannot write the man page")?,
    }
    Ok(Outcome::Done)
}
