//! `bulletin import mailchimp`: a Mailchimp audience export into the
//! subscriber list (its subscribed members) and the suppression list (its
//! unsubscribed and cleaned ones). The suppression list is written first,
//! so that nobody who left Mailchimp is ever mailable, even for a moment;
//! then the new rows are added to the list under both files' locks, in one
//! atomic rewrite that changes no row already there, and each is recorded
//! in the consent ledger as `imported`.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Context as _;

use super::Outcome;
use crate::subscribers::mailchimp::{self, Export, Status};
use crate::subscribers::{CsvFile, Entry, Joining, Lists, Reason, SuppressionFile};

/// What `bulletin import mailchimp` was asked.
#[derive(Debug)]
pub struct ImportMailchimpOptions {
    /// The export: its ZIP file or the folder it unzips to.
    pub export: PathBuf,
    pub list: Lists,
}

/// One line of the summary: a label and a count, aligned.
fn count(label: &str, n: usize) -> String {
    format!("  {label:<24}{n}")
}

pub fn mailchimp(options: &ImportMailchimpOptions, now: SystemTime) -> anyhow::Result<Outcome> {
    let export = Export::read(&options.export)?;
    let (suppressed, problems) = options.list.read_suppressions()?;
    problems.iter().for_each(|p| super::warn(p));
    println!(
        "Read {}: {} subscribed, {} unsubscribed, {} cleaned.",
        options.export.display(),
        export.with(Status::Subscribed).count(),
        export.with(Status::Unsubscribed).count(),
        export.with(Status::Cleaned).count(),
    );
    for name in &export.ignored {
        println!("  (not read: {name})");
    }

    let (path, _) = options.list.suppression_path();
    let file = SuppressionFile::new(&path);
    let mut by_reason = Vec::new();
    for (status, reason) in
        [(Status::Unsubscribed, Reason::MailchimpUnsubscribed), (Status::Cleaned, Reason::MailchimpCleaned)]
    {
        let entries: Vec<Entry> = export
            .with(status)
            .map(|m| Entry { email: m.email.clone(), reason, detail: m.detail.clone() })
            .collect();
        let added = file.add(&entries, now)?;
        by_reason.push((reason, added.added.len(), added.already.len()));
    }

    // Added under the ledger's lock, which records each as `imported`: an
    // opt-out made while the import runs is seen, and nobody it blocks
    // is added.
    drop(suppressed);
    let list = CsvFile::new(&options.list.subscribers);
    let name = options.export.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let merged = file.join(Joining::Imported, &format!("Mailchimp export {name}"), now, |blocked| {
        let merged = list.rewrite(|table| match mailchimp::merge(table, &export, blocked) {
            Some(merged) => (merged.added > 0, Some(merged)),
            None => (false, None),
        });
        let joined =
            merged.as_ref().ok().and_then(Option::as_ref).map(|m| m.joined.clone()).unwrap_or_default();
        (joined, merged)
    })??;
    let merged = merged.with_context(|| {
        format!(
            "{}: the header has no `email` column, so no one can be added to it",
            options.list.subscribers.display()
        )
    })?;

    println!("{}:", options.list.subscribers.display());
    println!("{}", count("added", merged.added));
    println!("{}", count("already on the list", merged.already));
    println!(
        "{} (also unsubscribed or cleaned in the export: not added)",
        count("left Mailchimp", merged.left)
    );
    println!("{} (on the suppression list: not added)", count("suppressed", merged.suppressed));
    println!("{}:", path.display());
    for (reason, added, already) in by_reason {
        println!("{} added, {already} already there", count(reason.as_str(), added));
    }
    if export.invalid.is_empty() {
        return Ok(Outcome::Done);
    }
    println!("Rows not imported:");
    println!("{}", count("invalid", export.invalid.len()));
    for problem in &export.invalid {
        println!("    {}", crate::report::printable(problem));
    }
    Ok(Outcome::Problems)
}
