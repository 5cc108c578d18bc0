//! `bulletin export EMAIL` and `bulletin forget EMAIL`: a supporter's data
//! on request. Both look in the same places: every CSV list in the
//! subscriber list's folder (the list itself, and any other list there
//! with an `email` column: a `signups.csv` kept beside it will be one
//! without a change here), the suppression list, the journal of every
//! campaign and the bounce ledger. Addresses match without case, as
//! everywhere else ([`EmailKey`]).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use serde_json::{Value, json};

use super::Outcome;
use crate::bounce::ledger::Ledger;
use crate::domain::{EmailAddress, EmailKey};
use crate::journal::{Archive, StateLock, erasure};
use crate::subscribers::{CsvFile, Found, Lists, SuppressionFile};

/// What `bulletin export` and `bulletin forget` were asked.
#[derive(Debug)]
pub struct PersonOptions {
    /// The address, as typed.
    pub address: String,
    pub list: Lists,
    pub state_dir: PathBuf,
}

impl PersonOptions {
    fn key(&self) -> anyhow::Result<EmailKey> {
        let email = EmailAddress::parse(&self.address)
            .map_err(|problem| anyhow::anyhow!("{:?} is not an email address: {problem}", self.address))?;
        Ok(email.key().clone())
    }

    /// Every CSV file in the subscriber list's folder but the suppression
    /// list, sorted, the subscriber list among them even if it is missing.
    fn list_files(&self) -> anyhow::Result<Vec<PathBuf>> {
        let folder = self.list.subscribers.parent().unwrap_or(Path::new(""));
        let (suppressed, _) = self.list.suppression_path();
        let mut files = vec![self.list.subscribers.clone()];
        let listing = if folder.as_os_str().is_empty() { Path::new(".") } else { folder };
        if listing.is_dir() {
            for entry in std::fs::read_dir(listing)? {
                let name = entry?.file_name();
                let path = folder.join(&name);
                let is_csv = Path::new(&name).extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
                if is_csv && path.is_file() && !files.contains(&path) && !same_file(&path, &suppressed) {
                    files.push(path);
                }
            }
        }
        files.sort();
        Ok(files)
    }
}

/// Whether two paths name one file.
fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

fn rows_json(path: &Path, found: Vec<Found>) -> impl Iterator<Item = Value> + '_ {
    found.into_iter().map(move |row| {
        let fields: serde_json::Map<String, Value> =
            row.fields.into_iter().map(|(name, value)| (name, Value::String(value))).collect();
        json!({ "file": path.display().to_string(), "line": row.line, "fields": fields })
    })
}

/// Prints, as JSON, everything held about the address.
pub fn export(options: &PersonOptions) -> anyhow::Result<Outcome> {
    let key = options.key()?;
    let mut lists = Vec::new();
    for path in options.list_files()? {
        let found = CsvFile::new(&path).rows_about(&key)?;
        lists.extend(rows_json(&path, found));
    }
    let (suppressed, _) = options.list.suppression_path();
    let suppression: Vec<Value> =
        rows_json(&suppressed, CsvFile::new(&suppressed).rows_about(&key)?).collect();
    let mut journal = Vec::new();
    if let Some(archive) = Archive::open_existing(&options.state_dir)? {
        for sent in archive.messages_to(&key)? {
            journal.push(json!({
                "file": archive.path().display().to_string(),
                "campaign": sent.campaign,
                "address": sent.address,
                "state": sent.state.as_str(),
                "message_id": sent.message_id,
                "reply": sent.reply.text(),
                "updated_at": sent.updated_at.to_string(),
            }));
        }
    }
    let mut bounces = Vec::new();
    if let Some(ledger) = Ledger::open_existing(&options.state_dir)? {
        for report in ledger.for_address(&key)? {
            bounces.push(json!({
                "file": ledger.path().display().to_string(),
                "kind": report.kind.as_str(),
                "address": report.address,
                "why": report.why,
                "status": report.status,
                "detail": report.detail,
                "campaign": report.campaign,
                "message_id": report.message_id,
                "sent_at": report.sent_at,
                "source": report.source,
                "imported_at": report.imported_at,
            }));
        }
    }
    let all = json!({
        "email": key.as_str(),
        "lists": lists,
        "suppression": suppression,
        "journal": journal,
        "bounces": bounces,
    });
    println!("{}", serde_json::to_string_pretty(&all)?);
    Ok(Outcome::Done)
}

/// Takes the lock of every campaign that was ever sent (see
/// [`crate::journal::CampaignLock`]) until dropped, so that no send of
/// theirs starts, or runs, while the address is erased: a running send
/// could still write the address into the journal. Refuses, naming the
/// lock, when a send holds one.
fn hold_send_locks(state_dir: &Path) -> anyhow::Result<Vec<std::fs::File>> {
    let mut held = Vec::new();
    let Ok(entries) = std::fs::read_dir(state_dir) else { return Ok(held) };
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if !(name.starts_with("send-") && name.ends_with(".lock")) {
            continue;
        }
        let file = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
        match file.try_lock() {
            Ok(()) => held.push(file),
            Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
                "a send is running (it holds {}): nothing was changed; run `bulletin forget` again once it ends",
                path.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(anyhow::Error::new(e).context(format!("cannot lock {}", path.display())));
            }
        }
    }
    Ok(held)
}

/// `1 row`, `2 rows`.
fn rows(n: impl Into<u64>) -> String {
    let n = n.into();
    format!("{n} row{}", if n == 1 { "" } else { "s" })
}

/// Erases the address everywhere, leaving its pseudonym in the suppression
/// list (first, so that it is never mailable in between) and in the
/// journal's rows, and says what it did, file by file.
pub fn forget(options: &PersonOptions, now: SystemTime) -> anyhow::Result<Outcome> {
    let key = options.key()?;
    let _sends = hold_send_locks(&options.state_dir)?;
    // And a send that has read the lists but not yet taken its campaign's
    // lock: every send holds the state folder's lock shared from its start.
    let state = StateLock::exclusive(&options.state_dir)
        .with_context(|| format!("cannot lock the state folder {}", options.state_dir.display()))?;
    let _state = match state {
        Ok(held) => held,
        Err(busy) => {
            anyhow::bail!("{busy}: nothing was changed; run `bulletin forget` again once it ends")
        }
    };
    let (suppressed, _) = options.list.suppression_path();
    let forgotten = SuppressionFile::new(&suppressed).forget(&key, now)?;
    println!(
        "{}: {} removed; the address is kept only as {}, so it is never mailed again",
        suppressed.display(),
        rows(forgotten.removed as u64),
        forgotten.pseudonym
    );
    for path in options.list_files()? {
        let removed = CsvFile::new(&path).erase(&key)?;
        if path.exists() {
            println!("{}: {} removed", path.display(), rows(removed as u64));
        }
    }
    let erased = erasure::erase(&options.state_dir, &key, &forgotten.pseudonym)?;
    let journal = options.state_dir.join(crate::journal::FILE_NAME);
    if journal.exists() {
        println!(
            "{}: {} now under the pseudonym (kept, so no run sends again)",
            journal.display(),
            rows(erased.rows)
        );
    }
    let mut busy = erased.log_busy;
    if let Some(ledger) = Ledger::open_existing(&options.state_dir)? {
        let (deleted, log_busy) = ledger.erase(&key)?;
        busy |= log_busy;
        println!("{}: {} removed", ledger.path().display(), rows(deleted));
    }
    if busy {
        super::warn(
            "another bulletin process has the journal or ledger open: their write-ahead logs keep old copies \
             until it ends; run `bulletin forget` again then",
        );
    }
    println!(
        "Not reached: messages already delivered, copies written by `send --dry-run --out` or `preview`, the \
         bounce mailbox, and backups."
    );
    Ok(Outcome::Done)
}
