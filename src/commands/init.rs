//! `bulletin init [DIR]`: a newsletter folder of one's own, with a welcome
//! bulletin, a one-row list, `.env` from the documented example with a
//! fresh unsubscribe key, a `.gitignore` and a README. Everything it writes
//! is compiled into the program, so an installed `bulletin` needs nothing
//! from its source tree.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, bail};

use super::Outcome;

/// Options of `bulletin init`.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The folder to make (or fill).
    pub folder: PathBuf,
    /// Replace init's own files where they exist.
    pub force: bool,
}

/// The documented settings, as `.env.example` has them.
const ENV_EXAMPLE: &str = include_str!("../../.env.example");
const WELCOME: &str = include_str!("init/welcome.md");
const SUBSCRIBERS: &str = include_str!("init/subscribers.csv");
const GITIGNORE: &str = include_str!("init/gitignore");
const README: &str = include_str!("init/README.md");
/// The logo `.env.example`'s `LOGO` names (the sample's, CC0), to replace
/// with the organisation's own.
const LOGO: &[u8] = include_bytes!("../../content/images/logo.png");

/// The line of `.env.example` the fresh key goes into.
const SECRET_LINE: &str = "UNSUBSCRIBE_SECRET=";

/// What init writes, relative to the folder.
const WELCOME_PATH: &str = "content/welcome.md";
const LOGO_PATH: &str = "content/images/logo.png";
const LIST_PATH: &str = "subscribers/subscribers.csv";
const FILES: [&str; 6] = [".env", ".gitignore", "README.md", WELCOME_PATH, LOGO_PATH, LIST_PATH];

pub(super) fn run(options: &InitOptions, now: SystemTime) -> anyhow::Result<Outcome> {
    let folder = &options.folder;
    let existing = existing(folder);
    if !existing.is_empty() && !options.force {
        bail!(
            "{} already holds {}; nothing was written. Run `bulletin init --force` to replace init's own \
             files (your .env, list and other files are kept), or name a new folder: `bulletin init DIR`",
            folder.display(),
            existing.join(", ")
        );
    }
    let today = super::new::today(now)?;
    // The settings (whose secret signs every unsubscribe link already sent)
    // and the list are the newsletter's own: never replaced, even by --force.
    let mut kept = Vec::new();
    for own in [".env", LIST_PATH] {
        if folder.join(own).exists() {
            kept.push(own);
        }
    }
    for (path, text) in [
        (".gitignore", GITIGNORE.to_owned()),
        ("README.md", README.to_owned()),
        (WELCOME_PATH, WELCOME.replace("date = DATE", &format!("date = {today}"))),
    ] {
        write(&folder.join(path), text.as_bytes(), 0o644)?;
    }
    write(&folder.join(LOGO_PATH), LOGO, 0o644)?;
    if !kept.contains(&LIST_PATH) {
        write(&folder.join(LIST_PATH), SUBSCRIBERS.as_bytes(), 0o644)?;
    }
    if !kept.contains(&".env") {
        write(&folder.join(".env"), env_file(&secret()?).as_bytes(), 0o600)?;
    }

    println!("Made a newsletter folder in {}:", folder.display());
    if !kept.contains(&".env") {
        println!("  .env                          your settings (private, mode 0600): edit it first");
    }
    println!("  {WELCOME_PATH:<29} a first bulletin");
    println!("  {LOGO_PATH:<29} a logo (LOGO in .env): put yours in its place");
    if !kept.contains(&LIST_PATH) {
        println!("  {LIST_PATH:<29} the list, with one example row");
    }
    println!("  .gitignore, README.md");
    for own in &kept {
        println!("  kept {own}: settings and lists are never replaced (move it away to start afresh)");
    }
    println!();
    println!("Next:");
    if folder != Path::new(".") {
        println!("  cd {}", folder.display());
    }
    println!("  bulletin new --from LAST-WEEK.txt                  # or: bulletin new \"Title\"");
    println!("  bulletin preview {WELCOME_PATH} --serve");
    println!("  bulletin send {WELCOME_PATH} --dry-run --out out");
    Ok(Outcome::Done)
}

/// What init would replace, or a bulletin folder that is not empty.
fn existing(folder: &Path) -> Vec<String> {
    let mut found: Vec<String> =
        FILES.iter().filter(|f| folder.join(f).exists()).map(|f| (*f).to_owned()).collect();
    let content = folder.join("content");
    let others = fs::read_dir(&content).map(|entries| entries.count()).unwrap_or(0);
    if others > 0 && !found.iter().any(|f| f == WELCOME_PATH) {
        found.push(format!("content/ ({others} file{})", if others == 1 { "" } else { "s" }));
    }
    found
}

/// 32 bytes from the operating system's random source, as 64 hex digits,
/// as `openssl rand -hex 32` gives.
fn secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("cannot read the system's random source: {e}"))?;
    Ok(hex::encode(bytes))
}

/// `.env.example` with the unsubscribe key filled in.
fn env_file(secret: &str) -> String {
    let mut found = false;
    let text: Vec<String> = ENV_EXAMPLE
        .lines()
        .map(|line| {
            if line == SECRET_LINE {
                found = true;
                format!("{SECRET_LINE}{secret}")
            } else {
                line.to_owned()
            }
        })
        .collect();
    assert!(found, ".env.example has an empty {SECRET_LINE} line");
    text.join("\n") + "\n"
}

/// Writes `bytes` to `path` with `mode`, making its folder; a file that is
/// there (with --force) is replaced and given the mode too.
fn write(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).with_context(|| format!("cannot make {}", parent.display()))?;
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.set_permissions(fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))?;
    file.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_64_hex_digits_and_differ() {
        let (a, b) = (secret().unwrap(), secret().unwrap());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn the_env_file_is_the_documented_example_with_the_secret_filled_in() {
        let env = env_file("ab12");
        assert!(env.contains("\nUNSUBSCRIBE_SECRET=ab12\n"));
        assert_eq!(env.lines().count(), ENV_EXAMPLE.lines().count());
    }

    #[test]
    fn the_welcome_bulletin_parses() {
        let text = WELCOME.replace("date = DATE", "date = 2026-01-08");
        crate::content::Bulletin::parse(Path::new(WELCOME_PATH), &text).unwrap();
    }
}
