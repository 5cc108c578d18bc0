//! `bulletin new [TITLE] [--date DATE] [--from FILE]`: this week's bulletin,
//! `content/DATE-slug.md`, started from the last bulletin sent to the list
//! (the journal's; else the newest in `content/` that is not a draft) with
//! its whole shape kept as `TODO:` slots (greeting, verse box, items,
//! section introductions, images, buttons), from a starter when there is
//! none, or converted from a plain-text bulletin. It never replaces a file.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, bail};

use super::{Outcome, warn};
use crate::config::NewsletterFolder;
use crate::config::newsletter::HOW_TO_MAKE_ONE;
use crate::content::markdown::plain_text;
use crate::content::plain_text::{convert, toml_string};
use crate::content::{Block, Bulletin, Inline, slug};
use crate::lint::SLOT;
use crate::merge::Segment;

/// Options of `bulletin new`.
#[derive(Debug, Clone)]
pub struct NewOptions {
    /// The bulletin's title; it names the file.
    pub title: Option<String>,
    /// The issue date. [default: today]
    pub date: Option<jiff::civil::Date>,
    /// A plain-text bulletin to convert.
    pub from: Option<PathBuf>,
    /// The newsletter folder (empty for the current folder), whose
    /// `content/` gets the new bulletin.
    pub folder: PathBuf,
    /// The folder of the journal, which knows the last bulletin sent.
    pub state_dir: PathBuf,
}

const CONTENT: &str = "content";

pub(super) fn run(options: &NewOptions, now: SystemTime) -> anyhow::Result<Outcome> {
    let folder = if options.folder.as_os_str().is_empty() { Path::new(".") } else { &options.folder };
    if !NewsletterFolder::is_one(folder) {
        bail!("{HOW_TO_MAKE_ONE}");
    }
    let date = match options.date {
        Some(date) => date,
        None => today(now)?,
    };
    let date = date.to_string();
    // Written into the front matter, whose text values refuse control characters.
    let title = options.title.as_deref().map(crate::content::control_sequences::strip);
    let title = title.as_deref();
    let (name, text) = match &options.from {
        Some(from) => from_plain_text(from, title, &date)?,
        None => match last_sent(&options.folder, &options.state_dir)?
            .map_or_else(|| latest(&options.folder), |last| Ok(Some(last)))?
        {
            Some((path, text)) => from_latest(&path, &text, title, &date)?,
            None => starter(title, &date),
        },
    };
    let slug = slug(&name);
    let file = if slug.is_empty() { format!("{date}.md") } else { format!("{date}-{slug}.md") };
    let content = options.folder.join(CONTENT);
    let path = content.join(file);
    fs::create_dir_all(&content).with_context(|| format!("cannot make {}/", content.display()))?;
    let mut out = match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(
            "{} already exists, and `new` never replaces a bulletin; give another title or --date",
            path.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
    };
    out.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    println!("Wrote {}", path.display());
    println!("Next: bulletin preview {} --serve", path.display());
    Ok(Outcome::Done)
}

/// Today's date (UTC), for a new bulletin.
pub(super) fn today(now: SystemTime) -> anyhow::Result<jiff::civil::Date> {
    crate::domain::Timestamp::from(now).utc_date().context("the clock is out of range")
}

/// The last bulletin sent to the list, by the journal in `state_dir`, and
/// its text, if it is still there. The journal holds the path the send was
/// given: relative ones are from the newsletter `folder`.
fn last_sent(folder: &Path, state_dir: &Path) -> anyhow::Result<Option<(PathBuf, String)>> {
    let Some(archive) = crate::journal::Archive::open_existing(state_dir)? else { return Ok(None) };
    let Some(path) = archive.last_bulletin_sent()? else { return Ok(None) };
    let path = folder.join(path);
    match fs::read_to_string(&path) {
        Ok(text) if Bulletin::parse(&path, &text).is_ok() => Ok(Some((path, text))),
        _ => {
            warn(&format!(
                "the last bulletin sent, {}, is no longer there (or does not parse); starting from the newest \
                 in {CONTENT}/ instead",
                path.display()
            ));
            Ok(None)
        }
    }
}

/// The bulletin in `content/` with the latest date (the last by name among
/// those of one date) that is not a draft nor init's welcome sample, and
/// its text. Files that do not parse are named and passed over.
fn latest(folder: &Path) -> anyhow::Result<Option<(PathBuf, String)>> {
    let content = folder.join(CONTENT);
    let entries = match fs::read_dir(&content) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}/", content.display())),
    };
    let mut best: Option<(crate::content::BulletinDate, PathBuf, String)> = None;
    for entry in entries {
        let path = entry.with_context(|| format!("cannot list {}/", content.display()))?.path();
        if path.extension().is_none_or(|e| e != "md") || !path.is_file() {
            continue;
        }
        let Ok(text) = fs::read_to_string(&path) else { continue };
        match Bulletin::parse(&path, &text) {
            Ok(bulletin) if bulletin.draft || super::init::is_welcome_sample(&text) => {}
            Ok(bulletin) => {
                let newer = best.as_ref().is_none_or(|(d, p, _)| (bulletin.date, &path) > (*d, p));
                if newer {
                    best = Some((bulletin.date, path, text));
                }
            }
            Err(e) => warn(&format!("passing over {}", crate::domain::chain(&e))),
        }
    }
    Ok(best.map(|(_, path, text)| (path, text)))
}

/// The last bulletin's front matter (new date, a preheader from its
/// headings; new title and subject if one is given; not its campaign) and
/// its shape, each part a slot to fill.
fn from_latest(path: &Path, text: &str, title: Option<&str>, date: &str) -> anyhow::Result<(String, String)> {
    let bulletin = Bulletin::parse(path, text)?;
    let headings: Vec<(u8, String)> = bulletin
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level, content } => Some((*level, plain_text(content))),
            _ => None,
        })
        .collect();
    let front: Vec<&str> = text.lines().skip(1).take_while(|l| l.trim_end() != "+++").collect();
    let mut lines: Vec<String> = Vec::new();
    let mut has_title = false;
    for line in front {
        let key = line.split('=').next().unwrap_or("").trim();
        match (key, title) {
            ("date", _) => lines.push(format!("date = {date}")),
            ("preheader", _) => lines.push(format!("preheader = {}", toml_string(&preheader(&headings)))),
            // Its own campaign: the same one would be taken for a re-run of last week's.
            ("campaign", _) => {}
            ("title", Some(t)) => {
                has_title = true;
                lines.push(format!("title = {}", toml_string(t)));
            }
            ("subject", Some(t)) => lines.push(format!("subject = {}", toml_string(t))),
            _ => {
                has_title |= key == "title";
                lines.push(line.to_owned());
            }
        }
    }
    if let (Some(t), false) = (title, has_title) {
        lines.push(format!("title = {}", toml_string(t)));
    }
    let mut out = format!("+++\n{}\n+++\n\n", lines.join("\n"));
    let source: Vec<&str> = text.lines().collect();
    let mut under_heading = false;
    for block in &bulletin.blocks {
        out.push_str(&slot(block, &source, under_heading));
        out.push_str("\n\n");
        under_heading |= matches!(block, Block::Heading { .. });
    }
    if bulletin.blocks.is_empty() {
        out.push_str(&format!("{SLOT} this week's bulletin\n"));
    }
    let name = match (title, &bulletin.title) {
        (Some(t), _) => t.to_owned(),
        (None, Some(t)) => literal(&t.0),
        (None, None) => path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
    };
    let name = name.strip_prefix(bulletin.date.to_string().as_str()).unwrap_or(&name).to_owned();
    Ok((name, out.trim_end().to_owned() + "\n"))
}

/// The line inboxes show after the subject, from the sections' headings.
fn preheader(headings: &[(u8, String)]) -> String {
    let names: Vec<&str> = headings.iter().map(|(_, h)| h.as_str()).filter(|h| !h.is_empty()).collect();
    match names.as_slice() {
        [] => format!("{SLOT} the line inboxes show after the subject"),
        [one] => format!("This week: {one}."),
        [rest @ .., last] => format!("This week: {} and {last}.", rest.join(", ")),
    }
}

/// `block` as an empty slot of its kind, in Markdown: a heading as it was,
/// a paragraph with merge fields (a greeting) as written (`source` is the
/// bulletin's lines), a button with its link and the words to write, an
/// image with its file and the description to write, anything else a
/// `TODO:` line.
fn slot(block: &Block, source: &[&str], under_heading: bool) -> String {
    match block {
        Block::Heading { level, content } => {
            format!("{} {}", "#".repeat(usize::from(*level)), plain_text(content))
        }
        Block::Paragraph { content, line } => match content.as_slice() {
            [Inline::Image { url, .. }] => format!("![{SLOT} what this week's picture shows]({url})"),
            _ if content.iter().any(|i| matches!(i, Inline::Field(_))) => paragraph_at(source, *line),
            _ if under_heading => format!("{SLOT} this section's introduction"),
            _ => format!("{SLOT} a paragraph"),
        },
        Block::List { start: None, .. } => format!("- {SLOT} an item"),
        Block::List { start: Some(n), .. } => format!("{n}. {SLOT} an item"),
        Block::Quote { attribution, .. } => {
            let mut quote = format!("> {SLOT} this week's verse");
            if attribution.is_some() {
                quote.push_str(&format!("\n>\n> — {SLOT} its reference"));
            }
            quote
        }
        Block::Button { url, .. } => format!("[{SLOT} the button's words]({url}){{.button}}"),
        Block::Code(_) => format!("```\n{SLOT} this week's text\n```"),
        Block::Rule => "---".to_owned(),
    }
}

/// The source lines of the paragraph starting on line `line` (1-based).
fn paragraph_at(source: &[&str], line: usize) -> String {
    source
        .iter()
        .skip(line.saturating_sub(1))
        .take_while(|l| !l.trim().is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

fn literal(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|s| match s {
            Segment::Literal(l) => l.as_str(),
            Segment::Field(_) => "",
        })
        .collect()
}

/// A first bulletin, for a folder with none.
fn starter(title: Option<&str>, date: &str) -> (String, String) {
    let title = title.unwrap_or("Our news");
    let text = format!(
        "+++\n# The subject line. Merge fields work here too, e.g. {{{{ first_name }}}}.\nsubject = {t}\n\
         # The line inboxes show after the subject.\npreheader = \"This week's news.\"\ndate = {date}\n\
         # The heading at the top of the email.\ntitle = {t}\n+++\n\n\
         Hello {{{{ first_name | default(\"there\") }}}},\n\n## This week\n\n- \n",
        t = toml_string(title)
    );
    (title.to_owned(), text)
}

/// A bulletin converted from the plain text at `path`; what the
/// conversion was unsure of is printed as warnings naming the line.
fn from_plain_text(path: &Path, title: Option<&str>, date: &str) -> anyhow::Result<(String, String)> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!("{} is not UTF-8 text (byte {})", path.display(), e.utf8_error().valid_up_to())
    })?;
    let mut conversion = convert(text.strip_prefix('\u{feff}').unwrap_or(&text));
    if let Some(title) = title {
        conversion.title = Some(title.to_owned());
    }
    for doubt in &conversion.doubts {
        warn(&format!("{}:{}: {}", path.display(), doubt.line, doubt.why));
    }
    let name = conversion
        .title
        .clone()
        .unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
    Ok((name, conversion.bulletin(date)))
}
