//! Sending the staff report: its words rendered in the bulletin's look,
//! composed and signed as the list's other notices are, handed to the
//! relay on a connection of its own, and recorded once the relay took it.

use std::path::Path;

use super::{Reminder, Run, Since, notice, store};
use crate::config::{ConfigError, Settings};
use crate::content::CampaignId;
use crate::deliver::Failure;
use crate::deliver::smtp::Relay;
use crate::domain::{EmailAddress, Timestamp};
use crate::job::{prepare_logo, shown_logo, shown_url};
use crate::journal::sqlite::OpenError;
use crate::message::{Composer, MessageError};
use crate::subscribers::{SubscribersError, changes_since};

/// Where the report goes and how.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// `STAFF_EMAIL`.
    pub to: &'a EmailAddress,
    /// The bulletin's settings: sender, look, footer, DKIM.
    pub settings: &'a Settings,
    /// The relay the bulletin went through.
    pub relay: &'a Relay,
    /// The state folder, whose store says when the last report went.
    pub state_dir: &'a Path,
    /// The consent ledger (`suppressed.csv`).
    pub ledger: &'a Path,
    /// The moment the report counts up to.
    pub now: Timestamp,
}

/// Why the staff report was not sent. The send it reports on is not
/// changed by it.
#[derive(Debug, thiserror::Error)]
pub enum StaffReportError {
    #[error("cannot read when the last staff report went")]
    Store(#[source] OpenError),
    #[error("cannot count the changes in the suppression list")]
    Ledger(#[source] SubscribersError),
    #[error("cannot prepare the logo")]
    Logo(#[source] ConfigError),
    #[error("cannot make the staff report")]
    Message(#[source] MessageError),
    #[error("the relay {relay} did not take the staff report")]
    Relay { relay: String, source: Failure },
    #[error("the staff report was sent but its time was not recorded")]
    Record(#[source] OpenError),
}

/// Sends the report of `run` by `delivery`, with the list's changes since
/// the last report, and records it.
pub async fn send(delivery: Delivery<'_>, run: &Run) -> Result<(), StaffReportError> {
    let Delivery { settings, state_dir, ledger, now, .. } = delivery;
    let last = store::last_sent(state_dir).map_err(StaffReportError::Store)?;
    let changes =
        changes_since(ledger, last.map(Timestamp::as_system_time)).map_err(StaffReportError::Ledger)?;
    let words = notice(run, &Since { last, changes }, &settings.list_name);
    post(delivery, &words).await?;
    store::record(state_dir, now, &run.campaign, run.stopped.is_some()).map_err(StaffReportError::Record)
}

/// Sends `reminder` by `delivery`. A reminder counts nothing, so the next
/// report still counts the list's changes since the last report.
pub async fn remind(delivery: Delivery<'_>, reminder: &Reminder) -> Result<(), StaffReportError> {
    post(delivery, &reminder.notice(&delivery.settings.list_name)).await
}

/// Renders `words` in the bulletin's look and hands them to the relay.
async fn post(delivery: Delivery<'_>, words: &crate::render::Notice) -> Result<(), StaffReportError> {
    let Delivery { to, settings, relay, now, .. } = delivery;
    let logo = prepare_logo(settings).map_err(StaffReportError::Logo)?;
    let shown = shown_logo(settings, logo.as_ref(), |logo| shown_url(settings, logo));
    let inline = if settings.assets_url.is_some() { Vec::new() } else { logo.into_iter().collect() };
    let composer = Composer::new(settings, CampaignId::notices()).with_inline_images(&inline);
    let content = words.render(settings, shown, to);
    let message =
        composer.compose_notice(to, &content, now.as_system_time()).map_err(StaffReportError::Message)?;
    let relay_error = |source| StaffReportError::Relay { relay: relay.name().to_owned(), source };
    let mut connection = relay.connect().await.map_err(relay_error)?;
    let taken = connection.submit(message.envelope(), &message.formatted()).await;
    connection.close().await;
    taken.map(drop).map_err(relay_error)
}
