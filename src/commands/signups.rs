//! `bulletin signups merge`: the confirmed sign-ups of `signups.csv` into
//! the subscriber list.

use anyhow::bail;

use super::Outcome;
use crate::subscribers::Lists;
use crate::subscribers::signups::{SignupsFile, beside};

pub(super) fn merge(lists: &Lists) -> anyhow::Result<Outcome> {
    let path = beside(&lists.subscribers);
    if !path.exists() {
        println!("No sign-ups to merge: there is no {}.", path.display());
        return Ok(Outcome::Done);
    }
    if !lists.subscribers.exists() {
        bail!("the subscriber list {} does not exist", lists.subscribers.display());
    }
    let merged = SignupsFile::new(&path).merge_into(&lists.subscribers)?;
    println!(
        "Moved {} sign-up(s) from {} into {}; {} were on the list already.",
        merged.moved,
        path.display(),
        lists.subscribers.display(),
        merged.already
    );
    Ok(Outcome::Done)
}
