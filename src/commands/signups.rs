//! `bulletin signups merge`: the confirmed sign-ups of `signups.csv` into
//! the subscriber list.

use anyhow::bail;

use super::Outcome;
use crate::subscribers::signups::{SignupsFile, beside};
use crate::subscribers::{Joining, Lists, SuppressionFile};

pub(super) fn merge(lists: &Lists, now: std::time::SystemTime) -> anyhow::Result<Outcome> {
    let path = beside(&lists.subscribers);
    if !path.exists() {
        println!("No sign-ups to merge: there is no {}.", path.display());
        return Ok(Outcome::Done);
    }
    if !lists.subscribers.exists() {
        bail!("the subscriber list {} does not exist", lists.subscribers.display());
    }
    // Moved under the consent ledger's lock, which records each as
    // `merged`; the send still skips anyone who opted out since.
    let (ledger, _) = lists.suppression_path();
    let merged = SuppressionFile::new(&ledger).join(Joining::Merged, "signups merge", now, |_| {
        let merged = SignupsFile::new(&path).merge_into(&lists.subscribers);
        let joined = merged.as_ref().map(|m| m.joined.clone()).unwrap_or_default();
        (joined, merged)
    })??;
    println!(
        "Moved {} sign-up(s) from {} into {}; {} were on the list already.",
        merged.moved,
        path.display(),
        lists.subscribers.display(),
        merged.already
    );
    Ok(Outcome::Done)
}
