//! `bulletin init [DIR]`: a newsletter folder of one's own, with a welcome
//! bulletin (a draft), a one-row list, `.env` with every setting documented,
//! the organisation's own left empty (or filled from the answers) and a
//! fresh unsubscribe key, a `.gitignore` and a README. Nothing of the worked
//! example's organisation is written: that stays in `.env.example`.
//! Everything it writes is compiled into the program, so an installed
//! `bulletin` needs nothing from its source tree.

use std::fs;
use std::io::{BufRead, IsTerminal as _, Write as _};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, bail};

use super::Outcome;
use crate::config::HttpsUrl;
use crate::config::example::{ENV_EXAMPLE, ORGANISATION_KEYS};
use crate::domain::EmailAddress;

/// Options of `bulletin init`.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The folder to make (or fill).
    pub folder: PathBuf,
    /// Replace init's own files where they exist.
    pub force: bool,
    /// `--org-name`, `--org-address`, `--from-email`, `--website`.
    pub org_name: Option<String>,
    pub org_address: Option<String>,
    pub from_email: Option<String>,
    pub website: Option<String>,
    /// Take what is not given as empty, without asking.
    pub yes: bool,
}

/// What init asks for: the settings every message needs to say who sends
/// it. Each is checked where it enters ([`Answers::check`]).
#[derive(Debug, Clone, Default)]
struct Answers {
    /// `ORG_NAME`.
    org_name: Option<String>,
    /// `ORG_ADDRESS`: the postal address.
    org_address: Option<String>,
    /// `FROM_EMAIL`: the sender address.
    from_email: Option<String>,
    /// `ORG_WEBSITE`: an https address.
    website: Option<String>,
}

/// One question: the setting it fills, the flag that answers it, what it
/// asks, and how its answer is checked.
struct Question {
    key: &'static str,
    flag: &'static str,
    ask: &'static str,
    check: fn(&str) -> Result<(), String>,
}

const QUESTIONS: [Question; 4] = [
    Question { key: "ORG_NAME", flag: "--org-name", ask: "Your organisation's name", check: one_line },
    Question {
        key: "ORG_ADDRESS",
        flag: "--org-address",
        ask: "Its postal address, on one line (the law wants it in every email)",
        check: one_line,
    },
    Question {
        key: "FROM_EMAIL",
        flag: "--from-email",
        ask: "The address the bulletin is sent from",
        check: |raw| {
            one_line(raw).and_then(|()| EmailAddress::parse(raw).map(drop).map_err(|e| e.to_string()))
        },
    },
    Question {
        key: "ORG_WEBSITE",
        flag: "--website",
        ask: "Your website (https://...)",
        check: |raw| HttpsUrl::parse(raw).map(drop).map_err(str::to_owned),
    },
];

fn one_line(raw: &str) -> Result<(), String> {
    if raw.contains(['\n', '\r']) { Err("must be one line".to_owned()) } else { Ok(()) }
}

impl Answers {
    fn given(&self) -> [&Option<String>; 4] {
        [&self.org_name, &self.org_address, &self.from_email, &self.website]
    }

    /// The flags' values, checked, as (setting, value); empty ones left out.
    fn check(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
        let mut out = Vec::new();
        for (question, value) in QUESTIONS.iter().zip(self.given()) {
            let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else { continue };
            (question.check)(value).map_err(|why| anyhow::anyhow!("{} {value:?}: {why}", question.flag))?;
            out.push((question.key, value.to_owned()));
        }
        Ok(out)
    }
}

/// Asks, on the terminal, each question no flag answered, until the answer
/// passes its check or is left empty.
fn ask(mut answered: Vec<(&'static str, String)>) -> anyhow::Result<Vec<(&'static str, String)>> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    println!("A few settings for .env (press Enter to leave one empty and fill it in later):");
    for question in &QUESTIONS {
        if answered.iter().any(|(key, _)| *key == question.key) {
            continue;
        }
        loop {
            print!("  {}: ", question.ask);
            std::io::stdout().flush()?;
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 {
                println!();
                return Ok(answered);
            }
            let line = line.trim();
            if line.is_empty() {
                break;
            }
            match (question.check)(line) {
                Ok(()) => {
                    answered.push((question.key, line.to_owned()));
                    break;
                }
                Err(why) => println!("  {why}; try again, or press Enter to leave it empty"),
            }
        }
    }
    Ok(answered)
}

const WELCOME: &str = include_str!("welcome.md");
const SUBSCRIBERS: &str = include_str!("subscribers.csv");
const GITIGNORE: &str = include_str!("gitignore");
const README: &str = include_str!("README.md");
/// Settings `.env.example` fills in for its fictional charity that init
/// leaves empty: those that name it, a person or a domain, the sample's
/// logo and its width, and the example's interests.
const LEFT_EMPTY: [&str; 3] = ["LOGO", "LOGO_WIDTH", "INTERESTS"];

/// The comment `.env` starts with, in place of `.env.example`'s.
const HEADER: &str = "\
# Settings for `bulletin`, written by `bulletin init`. Fill in the empty ones
# that apply to you: at least ORG_NAME, ORG_ADDRESS and FROM_EMAIL, and the
# relay (SMTP_HOST...) to send; `bulletin check` names what is still missing.
# Environment variables win over `.env`; `--env-file PATH` reads another file.
# A dry run works with settings left empty (it uses clearly fake example.org
# placeholders and warns); a real send refuses them.";

/// The line of `.env.example` the fresh key goes into.
const SECRET_LINE: &str = "UNSUBSCRIBE_SECRET=";

/// What init writes, relative to the folder.
const WELCOME_PATH: &str = "content/welcome.md";
const LIST_PATH: &str = "subscribers/subscribers.csv";
const FILES: [&str; 5] = [".env", ".gitignore", "README.md", WELCOME_PATH, LIST_PATH];

pub(super) fn run(options: &InitOptions, now: SystemTime) -> anyhow::Result<Outcome> {
    let folder = &options.folder;
    if let Some(link) = link_in_the_way(folder) {
        bail!(
            "{} is a symbolic link; nothing was written. init never writes through a link, which could \
             replace a file outside the folder: move it away, or name another folder: `bulletin init DIR`",
            link.display()
        );
    }
    let existing = existing(folder);
    if !existing.is_empty() && !options.force {
        bail!(
            "{} already holds {}; nothing was written. Run `bulletin init --force` to replace init's own \
             files (your .env, list and other files are kept), or name a new folder: `bulletin init DIR`",
            folder.display(),
            existing.join(", ")
        );
    }
    let given = Answers {
        org_name: options.org_name.clone(),
        org_address: options.org_address.clone(),
        from_email: options.from_email.clone(),
        website: options.website.clone(),
    };
    let mut answers = given.check()?;
    let writes_env = !folder.join(".env").exists();
    if writes_env && !options.yes && std::io::stdin().is_terminal() {
        answers = ask(answers)?;
    }
    let today = crate::domain::Timestamp::from(now).utc_date().context("the clock is out of range")?;
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
        (WELCOME_PATH, welcome(&today.to_string(), answer(&answers, "ORG_WEBSITE"))),
    ] {
        write(&folder.join(path), text.as_bytes(), 0o644)?;
    }
    if !kept.contains(&LIST_PATH) {
        write(&folder.join(LIST_PATH), SUBSCRIBERS.as_bytes(), 0o644)?;
    }
    if !kept.contains(&".env") {
        write(&folder.join(".env"), env_file(&secret()?, &answers).as_bytes(), 0o600)?;
    }

    println!("Made a newsletter folder in {}:", folder.display());
    if !kept.contains(&".env") {
        println!("  .env                          your settings (private, mode 0600): fill them in first");
    }
    println!("  {WELCOME_PATH:<29} a sample bulletin to try the commands on (a draft)");
    if !kept.contains(&LIST_PATH) {
        println!("  {LIST_PATH:<29} the list, with one example row");
    }
    println!("  .gitignore, README.md");
    for own in &kept {
        println!("  kept {own}: settings and lists are never replaced (move it away to start afresh)");
    }
    let empty: Vec<&str> = QUESTIONS
        .iter()
        .map(|q| q.key)
        .filter(|key| !kept.contains(&".env") && answer(&answers, key).is_none())
        .collect();
    println!();
    if !empty.is_empty() {
        println!(
            "Still empty in .env: {} (a real send refuses until ORG_NAME, ORG_ADDRESS and FROM_EMAIL are set).",
            empty.join(", ")
        );
    }
    println!("Next:");
    if folder != Path::new(".") {
        println!("  cd {}", folder.display());
    }
    println!(
        "  bulletin new \"Title\"                               # or: bulletin new --from LAST-WEEK.txt"
    );
    println!("  bulletin preview {WELCOME_PATH} --serve");
    println!("  bulletin send {WELCOME_PATH} --dry-run --out out");
    Ok(Outcome::Done)
}

/// Whether `text` is init's welcome sample (of any date, with or without
/// its button or draft line), which `bulletin new` never starts from.
pub(super) fn is_welcome_sample(text: &str) -> bool {
    let lines = |t: &str| -> Vec<String> {
        t.lines()
            .map(str::trim_end)
            .filter(|l| !(l.starts_with("date =") || l.starts_with("draft =") || l.starts_with('#')))
            .filter(|l| !l.contains("{.button}") && !l.is_empty())
            .map(str::to_owned)
            .collect()
    };
    lines(text) == lines(WELCOME)
}

/// The first of the files init writes, or of their folders, that is a
/// symbolic link (as the output folders refuse theirs).
fn link_in_the_way(folder: &Path) -> Option<PathBuf> {
    let folders = FILES.iter().filter_map(|f| Path::new(f).parent()).filter(|p| !p.as_os_str().is_empty());
    folders
        .chain(FILES.iter().map(Path::new))
        .map(|path| folder.join(path))
        .find(|path| fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()))
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

fn answer<'a>(answers: &'a [(&'static str, String)], key: &str) -> Option<&'a str> {
    answers.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
}

/// The welcome bulletin of `date`, its button to `website` (none without one).
fn welcome(date: &str, website: Option<&str>) -> String {
    let text = WELCOME.replace("date = DATE", &format!("date = {date}"));
    match website {
        Some(website) => text.replace("(WEBSITE)", &format!("({website})")),
        None => {
            text.lines()
                .filter(|l| !l.contains("(WEBSITE)"))
                .collect::<Vec<_>>()
                .join("\n")
                .trim_end()
                .to_owned()
                + "\n"
        }
    }
}

/// `.env.example` with init's own header, the example organisation's
/// values left empty (or set to the `answers`), and the unsubscribe key
/// filled in.
fn env_file(secret: &str, answers: &[(&'static str, String)]) -> String {
    let mut found = false;
    let body = ENV_EXAMPLE.split_once("\n\n").map_or(ENV_EXAMPLE, |(_, body)| body);
    let mut text: Vec<String> = vec![HEADER.to_owned(), String::new()];
    for line in body.lines() {
        let key = line.split_once('=').map(|(key, _)| key).filter(|key| !key.starts_with('#'));
        let line = match key {
            Some(key) if format!("{key}=") == SECRET_LINE => {
                found = true;
                format!("{SECRET_LINE}{secret}")
            }
            Some(key) => match answer(answers, key) {
                Some(value) => format!("{key}={}", quoted(value)),
                None if ORGANISATION_KEYS.contains(&key) || LEFT_EMPTY.contains(&key) => format!("{key}="),
                None => line.to_owned(),
            },
            None => line.to_owned(),
        };
        text.push(line);
    }
    assert!(found, ".env.example has an empty {SECRET_LINE} line");
    text.join("\n") + "\n"
}

/// `value` in double quotes, as `.env` reads it back: `\\`, `"` and `$`
/// (which would name a variable) escaped.
fn quoted(value: &str) -> String {
    let mut out = String::from('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Writes `bytes` to `path` with `mode`, making its folder; a file that is
/// there (with --force) is replaced. Written beside it and renamed over it,
/// so a link put there since [`link_in_the_way`] looked is replaced, never
/// written through.
fn write(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(parent).with_context(|| format!("cannot make {}", parent.display()))?;
    let mut file = tempfile::NamedTempFile::new_in(parent)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))?;
    file.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
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
    fn the_env_file_documents_every_setting_and_leaves_the_example_organisation_out() {
        let env = env_file("ab12", &[]);
        assert!(env.contains("\nUNSUBSCRIBE_SECRET=ab12\n"));
        for key in crate::config::KEYS {
            assert!(env.contains(&format!("\n{key}=")), "{key} is not in .env");
        }
        let source = source_of(&env);
        assert!(crate::config::example::example_values(&source).is_empty(), "{env}");
        for key in ORGANISATION_KEYS.iter().chain(&LEFT_EMPTY) {
            assert!(source.get(key).is_none(), "{key} is set");
        }
        assert!(!env.contains("Copy this file"), "{env}");
        assert!(!env.contains("Hope & Justice"), "{env}");
    }

    #[test]
    fn answers_are_written_quoted_and_read_back_as_given() {
        let answers = [("ORG_NAME", "St Mary's \"Food\" Bank $5".to_owned())];
        let source = source_of(&env_file("ab12", &answers));
        assert_eq!(source.get("ORG_NAME").unwrap().0, "St Mary's \"Food\" Bank $5");
    }

    #[test]
    fn flags_are_checked_and_named_when_wrong() {
        let bad = |answers: Answers| answers.check().unwrap_err().to_string();
        let email = bad(Answers { from_email: Some("news at stmarys.org".into()), ..Answers::default() });
        assert!(email.starts_with("--from-email \"news at stmarys.org\""), "{email}");
        let site = bad(Answers { website: Some("http://stmarys.org".into()), ..Answers::default() });
        assert!(site.contains("--website") && site.contains("https://"), "{site}");
        let good = Answers { website: Some(" https://stmarys.org ".into()), ..Answers::default() };
        assert_eq!(good.check().unwrap(), [("ORG_WEBSITE", "https://stmarys.org".to_owned())]);
    }

    fn source_of(env: &str) -> crate::config::Source {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".env"), env).unwrap();
        crate::config::Source::load(&dir.path().join(".env"), true).unwrap()
    }

    #[test]
    fn the_welcome_sample_is_known_whatever_its_date_but_an_edited_one_is_not() {
        assert!(is_welcome_sample(&welcome("2026-01-08", None)));
        assert!(is_welcome_sample(&welcome("2026-02-01", Some("https://stmarys.org"))));
        let edited = welcome("2026-01-08", None)
            .replace("thank you for joining us", "welcome to the food bank's news");
        assert!(!is_welcome_sample(&edited));
    }

    #[test]
    fn the_welcome_bulletin_is_a_draft_that_parses_with_or_without_a_website() {
        for website in [None, Some("https://stmarys.org")] {
            let text = welcome("2026-01-08", website);
            let bulletin = crate::content::Bulletin::parse(Path::new(WELCOME_PATH), &text).unwrap();
            assert!(bulletin.draft);
            assert_eq!(text.contains("https://stmarys.org"), website.is_some(), "{text}");
            assert!(!text.contains("example.org") && !text.contains("WEBSITE"), "{text}");
        }
    }
}
