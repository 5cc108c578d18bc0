//! `bulletin publish`: the web archive of every bulletin in `content/` (or
//! the ones named), written to a folder for any static host.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{Outcome, settings_without_dkim};
use crate::config::Source;
use crate::content::Bulletin;
use crate::publish::{Archive, publish};
use crate::report::printable;

/// Options of `bulletin publish`.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// The bulletins; none means every `.md` file in `content/`.
    pub bulletins: Vec<PathBuf>,
    /// The site's folder.
    pub out: PathBuf,
    /// The newsletter folder's `content/`, read when no bulletin is named.
    pub content: PathBuf,
    /// Where the site is served, instead of ARCHIVE_URL.
    pub base_url: Option<String>,
}

impl PublishOptions {
    /// Where `publish` writes unless told otherwise (and `check` looks).
    pub const DEFAULT_OUT: &str = "site";
    /// Where `publish` finds bulletins unless given some.
    pub const CONTENT: &str = "content";
}

/// Every `.md` file in `dir`, sorted.
fn bulletins_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!("cannot list {} (name the bulletins to publish, or run where content/ is)", dir.display())
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.with_context(|| format!("cannot list {}", dir.display()))?.path();
        if path.extension().is_some_and(|e| e == "md") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

pub(super) fn run(options: &PublishOptions, env: &Source) -> anyhow::Result<Outcome> {
    let settings = settings_without_dkim(env)?;
    let base = match &options.base_url {
        Some(raw) => {
            let url = url::Url::parse(raw).map_err(|e| anyhow::anyhow!("--base-url {raw:?}: {e}"))?;
            anyhow::ensure!(
                matches!(url.scheme(), "https" | "http") && url.host_str().is_some(),
                "--base-url {raw:?}: must be a web address, such as https://hope.example.org/bulletins"
            );
            Some(url)
        }
        None => settings.archive_url.as_ref().map(|u| u.as_url().clone()),
    };
    let named = !options.bulletins.is_empty();
    let archive = if named {
        let bulletins = options.bulletins.iter().map(|p| Bulletin::load(p)).collect::<Result<Vec<_>, _>>()?;
        Archive { others: Some(others(&options.content, &bulletins)), bulletins }
    } else {
        let paths = bulletins_in(&options.content)?;
        let bulletins = paths.iter().map(|p| Bulletin::load(p)).collect::<Result<Vec<_>, _>>()?;
        Archive { bulletins, others: None }
    };
    let published = publish(archive, &settings, base.as_ref(), &options.out)?;
    let out = printable(&options.out.display().to_string()).into_owned();
    if named {
        for (path, why) in &published.left_out {
            println!("skipped {}: {why}", printable(&path.display().to_string()));
        }
        for campaign in &published.unlisted {
            super::warn(&format!(
                "{out}/{campaign} is kept, but no bulletin in {}/ makes it, so the index and the feed \
                 no longer list it (publish without naming bulletins to remove it)",
                PublishOptions::CONTENT
            ));
        }
    }
    let changes = published.changes;
    println!(
        "Published {} issue(s) to {out} ({} left out: drafts or archive = false); {} written, {} unchanged, {} removed.",
        published.issues,
        published.left_out.len(),
        changes.written,
        changes.unchanged,
        changes.removed
    );
    Ok(Outcome::Done)
}

/// The bulletins of `content/` other than `named`, for the index and the
/// feed of a run that writes only the named ones; one that cannot be read
/// is left out with a warning rather than stopping that run.
fn others(content: &Path, named: &[Bulletin]) -> Vec<Bulletin> {
    let same = |a: &Path, b: &Path| {
        a == b || a.canonicalize().ok().is_some_and(|a| b.canonicalize().ok() == Some(a))
    };
    let Ok(paths) = bulletins_in(content) else { return Vec::new() };
    paths
        .iter()
        .filter(|path| !named.iter().any(|b| same(&b.path, path)))
        .filter_map(|path| match Bulletin::load(path) {
            Ok(bulletin) => Some(bulletin),
            Err(e) => {
                super::warn(&format!(
                    "{} (its issue, if in the site, is kept as it is)",
                    crate::domain::chain(&e)
                ));
                None
            }
        })
        .collect()
}
