//! Changing the suppression list by hand: `bulletin unsubscribe` (for
//! people who reply "please remove me") and `bulletin resubscribe`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::{Outcome, warn};
use crate::domain::{Clock, EmailKey, SystemClock};
use crate::subscribers::Lists;
use crate::subscribers::{
    AddressProblem, Audience, EmailAddress, Entry, Reason, Row, RowProblem, SkipReason, SubscriberReader,
    SuppressionFile,
};

/// Options of `bulletin unsubscribe`.
#[derive(Debug, Clone)]
pub struct UnsubscribeOptions {
    pub list: Lists,
    /// Addresses given on the command line.
    pub addresses: Vec<String>,
    /// A file of addresses: one per line, or a CSV file with an `email`
    /// column.
    pub from_file: Option<PathBuf>,
    /// Kept in the `detail` column of each row added.
    pub note: Option<String>,
}

/// Options of `bulletin resubscribe`.
#[derive(Debug, Clone)]
pub struct ResubscribeOptions {
    pub list: Lists,
    pub address: String,
}

/// The suppression list to change, whose folder must exist.
pub(super) fn suppression_file(lists: &Lists) -> anyhow::Result<SuppressionFile> {
    let (path, _) = lists.suppression_path();
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !folder.is_dir() {
        bail!(
            "the folder of the suppression list {} does not exist (give the list's place with --suppressed \
                 PATH, or the subscriber list's with --subscribers PATH)",
            path.display()
        );
    }
    Ok(SuppressionFile::new(path))
}

/// `Ana Silva <ana@example.org>` or `ana@example.org`, as pasted from a
/// mail program.
fn parse_address(raw: &str) -> Result<EmailAddress, AddressProblem> {
    let raw = raw.trim();
    let inner = match (raw.rfind('<'), raw.strip_suffix('>')) {
        (Some(open), Some(without)) => &without[open + 1..],
        _ => raw,
    };
    EmailAddress::parse(inner)
}

pub(super) fn unsubscribe(options: &UnsubscribeOptions) -> anyhow::Result<Outcome> {
    let file = suppression_file(&options.list)?;
    let mut addresses = Vec::new();
    let mut problems = Vec::new();
    for raw in &options.addresses {
        match parse_address(raw) {
            Ok(email) => addresses.push(email),
            Err(problem) => problems.push(format!("invalid email address {raw:?}: {problem}")),
        }
    }
    if let Some(path) = &options.from_file {
        read_addresses(path, &mut addresses, &mut problems)?;
    }
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    let detail = options.note.as_deref().unwrap_or_default();
    let entries: Vec<Entry> = addresses
        .into_iter()
        .map(|email| Entry { email, reason: Reason::Requested, detail: detail.to_owned() })
        .collect();
    let added = file.add(&entries, SystemClock.now().as_system_time())?;
    for email in &added.added {
        println!("  added          {email}");
    }
    for email in &added.already {
        println!("  already there  {email}");
    }
    let skipped =
        if problems.is_empty() { String::new() } else { format!("; {} skipped (see above)", problems.len()) };
    println!(
        "{}: {} added, {} already there{skipped}",
        file.path().display(),
        added.added.len(),
        added.already.len()
    );
    Ok(if problems.is_empty() { Outcome::Done } else { Outcome::Problems })
}

/// Reads addresses from `path`: a CSV file when its first line has an
/// `email` column (the other columns are ignored), else one address per
/// line (blank lines and lines starting with `#` skipped). Each line that
/// holds no valid address becomes a problem naming the file and line.
fn read_addresses(
    path: &Path,
    addresses: &mut Vec<EmailAddress>,
    problems: &mut Vec<String>,
) -> anyhow::Result<()> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8(text).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        anyhow::anyhow!("{}:{line}: not UTF-8 text", path.display())
    })?;
    let name = path.display().to_string();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
    let is_csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(first.as_bytes())
        .records()
        .next()
        .and_then(Result::ok)
        .is_some_and(|header| header.iter().any(crate::subscribers::is_email_header));
    if !is_csv {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim().trim_start_matches('\u{feff}');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match parse_address(line) {
                Ok(email) => addresses.push(email),
                Err(problem) => {
                    problems.push(format!("{name}:{}: invalid email address {line:?}: {problem}", i + 1))
                }
            }
        }
        return Ok(());
    }
    for row in SubscriberReader::open(path, Audience::default())? {
        match row? {
            Row::Subscribed(subscriber) => addresses.push(subscriber.email().clone()),
            // The file's own status column does not matter here.
            Row::Skipped(
                skip @ crate::subscribers::Skip {
                    email: Some(_),
                    reason: SkipReason::Unsubscribed | SkipReason::Invalid(RowProblem::UnknownStatus(_)),
                    ..
                },
            ) => {
                if let Some(email) = skip.email.as_deref().and_then(|e| EmailAddress::parse(e).ok()) {
                    addresses.push(email);
                }
            }
            Row::Skipped(skip)
                if skip.reason.is_problem() && !matches!(skip.reason, SkipReason::Duplicate { .. }) =>
            {
                problems.push(skip.located(&name));
            }
            Row::Skipped(_) => {}
        }
    }
    Ok(())
}

pub(super) fn resubscribe(options: &ResubscribeOptions) -> anyhow::Result<Outcome> {
    let email = parse_address(&options.address)
        .map_err(|e| anyhow::anyhow!("invalid email address {:?}: {e}", options.address))?;
    let file = suppression_file(&options.list)?;
    let list = file.path().display();
    if !file.resubscribe(&email, SystemClock.now().as_system_time())? {
        println!("{email} was not on the suppression list {list}; nothing changed.");
        return Ok(Outcome::Done);
    }
    println!("{email} was on the suppression list {list}: a `resubscribed` row now lifts it.");
    let subscribers = &options.list.subscribers;
    let row = if subscribers.exists() { find(subscribers, &email)? } else { None };
    let name = subscribers.display();
    match row {
        Some((line, true)) => println!("They are on {name} (line {line}) and will get the next bulletin."),
        Some((line, false)) => warn(&format!(
            "{name}:{line} marks {email} `unsubscribed`, so they will get nothing until that row says `subscribed`"
        )),
        None => warn(&format!("{email} is not on {name}: add a row there for them to get the bulletin")),
    }
    Ok(Outcome::Done)
}

/// The line of `email` on the subscriber list, and whether it is mailed
/// (not marked unsubscribed).
fn find(subscribers: &Path, email: &EmailAddress) -> anyhow::Result<Option<(u64, bool)>> {
    for row in SubscriberReader::open(subscribers, Audience::default())? {
        match row? {
            Row::Subscribed(s) if s.email().key() == email.key() => return Ok(Some((s.line(), true))),
            Row::Skipped(skip)
                if skip.email.as_deref().is_some_and(|e| &EmailKey::of(e) == email.key())
                    && !matches!(skip.reason, SkipReason::Duplicate { .. }) =>
            {
                return Ok(Some((skip.line, !matches!(skip.reason, SkipReason::Unsubscribed))));
            }
            Row::Subscribed(_) | Row::Skipped(_) => {}
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_pasted_with_its_name_is_taken_from_the_angle_brackets() {
        assert_eq!(parse_address(" Ana Silva <Ana@example.org> ").unwrap().as_str(), "Ana@example.org");
        assert_eq!(parse_address("ana@example.org").unwrap().as_str(), "ana@example.org");
        assert_eq!(parse_address("Ana <ana.example.org>"), Err(AddressProblem::NoAt));
    }

    #[test]
    fn a_plain_file_gives_one_address_a_line_and_names_the_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("remove.txt");
        std::fs::write(&path, "# from replies\nana@example.org\n\nnot-an-address\nBo <bo@example.org>\n")
            .unwrap();
        let (mut addresses, mut problems) = (Vec::new(), Vec::new());
        read_addresses(&path, &mut addresses, &mut problems).unwrap();
        let addresses: Vec<&str> = addresses.iter().map(EmailAddress::as_str).collect();
        assert_eq!(addresses, ["ana@example.org", "bo@example.org"]);
        assert_eq!(
            problems,
            [format!("{}:4: invalid email address \"not-an-address\": no `@`", path.display())]
        );
    }

    #[test]
    fn a_csv_file_gives_its_email_column_whatever_the_status_and_names_the_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.csv");
        std::fs::write(
            &path,
            "\u{feff}Name,Email Address,Status\r\nAna,ana@example.org,subscribed\r\nBo,bo(at)example.org,\r\n\
             Cy,cy@example.org,unsubscribed\r\nAna again,ANA@example.org,\r\n",
        )
        .unwrap();
        let (mut addresses, mut problems) = (Vec::new(), Vec::new());
        read_addresses(&path, &mut addresses, &mut problems).unwrap();
        let addresses: Vec<&str> = addresses.iter().map(EmailAddress::as_str).collect();
        assert_eq!(addresses, ["ana@example.org", "cy@example.org"]);
        assert_eq!(
            problems,
            [format!("{}:3: invalid email address \"bo(at)example.org\": no `@`", path.display())]
        );
    }
}
