//! The refusals a send to the list makes once the job is made and the
//! plan counted, before anything goes: settings still the example's,
//! unsubscribe links anyone could forge, a bulletin most readers already
//! received.

use anyhow::bail;

use crate::commands::warn;
use crate::config::{Settings, UNSIGNED_RECIPIENTS_MAX};
use crate::deliver::plan::Plan;
use crate::domain::EmailAddress;
use crate::job::Job;
use crate::subscribers::Row;

/// Stops the send before anything goes when `plan` would skip most of
/// those it has yet to reach as having received the bulletin already
/// ([`Plan::stop_for_duplicates`]).
pub(super) fn refuse_duplicates(plan: &Plan, choice: crate::deliver::plan::Choice) -> anyhow::Result<()> {
    match plan.stop_for_duplicates(choice) {
        Some(why) => bail!("stopped before sending anything: {why}"),
        None => Ok(()),
    }
}

/// A real send never goes out from the example.org placeholders.
pub(super) fn refuse_placeholders(job: &Job, to: &[String]) -> anyhow::Result<()> {
    let settings = &job.settings;
    if settings.placeholders.is_empty() && settings.examples.is_empty() {
        return Ok(());
    }
    let mut named: Vec<String> = settings.placeholders.iter().map(|key| format!("{key} (empty)")).collect();
    named.extend(settings.examples.iter().map(ToString::to_string));
    // The example's values are refused because they would reach
    // supporters; a trial to addresses on example domains reaches no one.
    // Required settings left empty are refused whoever receives.
    if settings.placeholders.is_empty() && !reaches_anyone(job, to)? {
        warn(&format!(
            "sending with settings still the example's: {}, only because every recipient is on a domain \
             reserved for examples (example.org, example.com, .test...), which reaches no one; a send to \
             anyone else refuses",
            named.join(", ")
        ));
        return Ok(());
    }
    bail!(
        "refusing to send with example.org placeholders or the example's values in {} setting(s): {}. Set \
         each in .env to your organisation's own (an optional one may be left empty; a LOGO to your own \
         image); .env.example explains each",
        named.len(),
        named.join(", ")
    );
}

/// Whether any recipient of this run (the `--to` addresses, or the list's
/// subscribed rows) is on a domain that is someone's.
fn reaches_anyone(job: &Job, to: &[String]) -> anyhow::Result<bool> {
    if !to.is_empty() {
        return Ok(to
            .iter()
            .any(|a| EmailAddress::parse(a).map_or(true, |a| !crate::config::reaches_no_one(&a))));
    }
    for row in job.rows()? {
        if let Row::Subscribed(subscriber) = row?
            && !crate::config::reaches_no_one(subscriber.email())
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Unsubscribe links signed with the development key (no
/// `UNSUBSCRIBE_SECRET`) could be forged by anyone and do not work on the
/// unsubscribe server: fine for a trial to a handful of people, refused
/// for a list of `audience` recipients beyond that.
pub(super) fn refuse_unsigned_links(settings: &Settings, audience: u64) -> anyhow::Result<()> {
    if settings.unsubscribe_url.is_none() || settings.unsubscribe_secret.is_some() {
        return Ok(());
    }
    if audience > UNSIGNED_RECIPIENTS_MAX {
        bail!(
            "refusing to send to {audience} recipients: UNSUBSCRIBE_URL is set but UNSUBSCRIBE_SECRET is not, \
             so the unsubscribe links would be signed with bulletin's public development key: anyone could \
             unsubscribe anyone, and the unsubscribe server rejects them. Make a secret with \
             `openssl rand -hex 32`, set UNSUBSCRIBE_SECRET to it here and on the unsubscribe server, and run \
             the same command again (without a secret, only lists of at most {UNSIGNED_RECIPIENTS_MAX} and \
             --to test copies are sent)"
        );
    }
    Ok(())
}
