//! The job: one bulletin going to one list, and the one door from the files
//! on disk to messages. Every command that makes messages (send, the dry
//! run, a test copy, preview, check and the live preview) comes through
//! here: [`Inputs::load`] reads the settings, the bulletin and the
//! suppression list; [`Job::prepare`] opens the subscriber list and renders
//! the bulletin once; [`Job::message_for`] personalises and composes one
//! subscriber's message. Delivering the messages is `deliver`'s; nothing
//! here opens the network or prints.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use lettre::Message;

use crate::config::Logo;
use crate::config::{ConfigError, Settings, Signups, Source};
use crate::content::images::PreparedImage;
use crate::content::picture::COLUMN_WIDTH;
use crate::content::{Bulletin, CampaignId, ContentError};
use std::collections::HashSet;

use crate::domain::{EmailAddress, EmailKey};
use crate::message::{Composer, MessageError};
use crate::render::{Addressee, Personalised, Rendered, ShownImage, ShownLogo};
use crate::subscribers::{
    Audience, Columns, Lists, Subscriber, SubscriberReader, SubscribersError, Suppressions,
};

/// What a job is made from, each read on its own so that `check` can
/// report every problem at once while a send stops at the first.
#[derive(Debug)]
pub struct Inputs {
    pub settings: Result<Settings, ConfigError>,
    pub bulletin: Result<Bulletin, ContentError>,
    /// The suppression list, with a line for each row it cannot use.
    pub suppressed: Result<(Suppressions, Vec<String>), SubscribersError>,
}

impl Inputs {
    /// Reads the settings (with the DKIM key), the bulletin and the
    /// suppression list.
    pub fn load(bulletin: &Path, lists: &Lists, env: &Source) -> Self {
        Self {
            settings: Settings::from_source(env),
            bulletin: Bulletin::load(bulletin),
            suppressed: lists.read_suppressions(),
        }
    }
}

/// Everything a run over the list needs, checked before the first message.
#[derive(Debug)]
pub struct Job {
    pub settings: Settings,
    pub bulletin: Bulletin,
    /// Who the reader admits, for a second pass over the list.
    pub audience: Audience,
    /// The subscriber list's columns.
    pub columns: Columns,
    pub rendered: Rendered,
    pub composer: Composer,
    /// The images every message carries as inline parts (the logo first),
    /// prepared once; empty with `ASSETS_URL`.
    pub embedded: Vec<PreparedImage>,
    /// The bulletin's local images as the HTML shows them (address and
    /// size), for lints to name an image of the HTML as it is written.
    pub shown: Vec<ShownImage>,
    /// The logo as the HTML shows it, if there is one.
    pub shown_logo: Option<ShownLogo>,
    subscribers: PathBuf,
    /// Risks found while preparing (settings, unusable suppression rows),
    /// for the command to show.
    pub warnings: Vec<String>,
}

/// One subscriber's message: what they read, and the message that carries it.
#[derive(Debug)]
pub struct Made {
    pub content: Personalised,
    pub message: Message,
}

/// The job could not be prepared: nothing was made.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error(transparent)]
    Subscribers(#[from] SubscribersError),
    /// Merge fields the list has no column for, one line each.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Fields(Vec<ContentError>),
}

impl Job {
    /// Reads and checks the bulletin, the settings and the list's header,
    /// and renders the bulletin: every error that would stop a run comes
    /// out here, before any message is made. Returns the job and the list,
    /// open at its first row.
    pub fn prepare(
        bulletin: &Path,
        lists: &Lists,
        env: &Source,
    ) -> Result<(Self, SubscriberReader), JobError> {
        Self::prepare_for(bulletin, lists, env, None)
    }

    /// [`Job::prepare`] for the welcome bulletin: as campaign
    /// [`CampaignId::welcome`], to the `newcomers` alone (those of them
    /// the list, `signups.csv` and the consent ledger let it reach).
    pub fn prepare_welcome(
        bulletin: &Path,
        lists: &Lists,
        env: &Source,
        newcomers: HashSet<EmailKey>,
    ) -> Result<(Self, SubscriberReader), JobError> {
        Self::prepare_for(bulletin, lists, env, Some(newcomers))
    }

    fn prepare_for(
        bulletin: &Path,
        lists: &Lists,
        env: &Source,
        newcomers: Option<HashSet<EmailKey>>,
    ) -> Result<(Self, SubscriberReader), JobError> {
        let Inputs { settings, bulletin, suppressed } = Inputs::load(bulletin, lists, env);
        let (settings, mut bulletin, (suppressed, problems)) = (settings?, bulletin?, suppressed?);
        let mut warnings = settings.warnings();
        warnings.extend(problems);
        let signups_wait = Signups::from_source(env)? == Signups::Manual;
        if newcomers.is_some() {
            bulletin.campaign = CampaignId::welcome();
        }
        let only = newcomers.map(std::sync::Arc::new);
        let audience = Audience { suppressed, segment: bulletin.segment.clone(), signups_wait, only };
        warnings.extend(waiting_signups(&lists.subscribers, &audience)?);
        let reader = SubscriberReader::with_signups(&lists.subscribers, audience.clone())?;
        let columns = reader.columns().clone();
        let job = Self::new(settings, bulletin, audience, columns, &lists.subscribers, warnings)?;
        Ok((job, reader))
    }

    /// The job from inputs already read, for a list whose header has
    /// `columns`; see [`Job::prepare`].
    pub fn new(
        settings: Settings,
        bulletin: Bulletin,
        audience: Audience,
        columns: Columns,
        subscribers: &Path,
        warnings: Vec<String>,
    ) -> Result<Self, JobError> {
        // Each local image is prepared once here, for every message.
        let images = crate::content::images::prepare(&bulletin)?;
        let mut warnings = warnings;
        warnings.extend(crate::content::images::size_warnings(&bulletin, &images));
        let shown: Vec<ShownImage> = images
            .iter()
            .map(|image| {
                let (width, height) = image.picture.display_size(COLUMN_WIDTH);
                let url = shown_url(&settings, image);
                ShownImage { src: image.src.clone(), url, width, height }
            })
            .collect();
        let logo = prepare_logo(&settings)?;
        let shown_logo = shown_logo(&settings, logo.as_ref(), |logo| shown_url(&settings, logo));
        let rendered = Rendered::with_images(&bulletin, &settings, &columns, &shown, shown_logo.clone())
            .map_err(JobError::Fields)?;
        // With ASSETS_URL the images are linked there, not carried.
        let embedded: Vec<PreparedImage> = if settings.assets_url.is_some() {
            Vec::new()
        } else {
            logo.into_iter().chain(images.iter().cloned()).collect()
        };
        let composer = Composer::new(&settings, bulletin.campaign.clone()).with_inline_images(&embedded);
        Ok(Self {
            settings,
            bulletin,
            audience,
            columns,
            rendered,
            composer,
            embedded,
            shown,
            shown_logo,
            subscribers: subscribers.to_owned(),
            warnings,
        })
    }

    /// The list again from its first row, for a second pass (the plan's
    /// count before a send).
    pub fn rows(&self) -> Result<SubscriberReader, SubscribersError> {
        SubscriberReader::with_signups(&self.subscribers, self.audience.clone())
    }

    /// The subscriber list's path.
    pub fn subscribers(&self) -> &Path {
        &self.subscribers
    }

    /// What `subscriber` reads in a message made at `now`, and their
    /// unsubscribe link.
    pub fn content_for(&self, subscriber: &Subscriber, now: SystemTime) -> (Personalised, String) {
        let link = self.composer.unsubscribe_link(subscriber.email());
        let preferences = self.composer.preferences_link(subscriber.email(), now);
        let addressee = Addressee { subscriber, unsubscribe_url: &link, preferences_url: &preferences };
        (self.rendered.personalise(&addressee), link)
    }

    /// `subscriber`'s message, dated `now`.
    pub fn message_for(&self, subscriber: &Subscriber, now: SystemTime) -> Result<Made, MessageError> {
        let (content, link) = self.content_for(subscriber, now);
        let message = self.composer.compose(subscriber, &content, &link, now)?;
        Ok(Made { content, message })
    }

    /// A test copy of `subscriber`'s message for `to`. Its unsubscribe link
    /// is the test address's own: trying it out must not unsubscribe the
    /// subscriber the copy is personalised as.
    pub fn test_copy_for(
        &self,
        subscriber: &Subscriber,
        to: &EmailAddress,
        now: SystemTime,
    ) -> Result<Made, MessageError> {
        let link = self.composer.unsubscribe_link(to);
        let preferences = self.composer.preferences_link(to, now);
        let content = self.rendered.personalise(&Addressee {
            subscriber,
            unsubscribe_url: &link,
            preferences_url: &preferences,
        });
        let message = self.composer.compose_test(subscriber, &content, &link, now, to)?;
        Ok(Made { content, message })
    }
}

/// With `SIGNUPS=manual`, how many confirmed sign-ups this run leaves
/// out, said once: "N confirmed sign-ups wait for `bulletin signups merge`".
pub fn waiting_signups(list: &Path, audience: &Audience) -> Result<Option<String>, SubscribersError> {
    if !audience.signups_wait {
        return Ok(None);
    }
    let waiting = crate::subscribers::signups::waiting(list)?;
    Ok((waiting > 0).then(|| {
        format!("{waiting} confirmed sign-up(s) wait for `bulletin signups merge` (SIGNUPS=manual)")
    }))
}

/// Where the HTML finds a prepared image: at `ASSETS_URL` when set, else
/// in the message's own part (`cid:`).
pub fn shown_url(settings: &Settings, image: &PreparedImage) -> String {
    match &settings.assets_url {
        Some(base) => format!("{}/{}", base.as_url().as_str().trim_end_matches('/'), image.name),
        None => format!("cid:{}", image.content_id()),
    }
}

/// The `LOGO` file prepared as the bulletin's images are, once; `None`
/// without one (or when it is an https address).
pub fn prepare_logo(settings: &Settings) -> Result<Option<PreparedImage>, ConfigError> {
    let Some(Logo::File(path)) = &settings.logo else {
        return Ok(None);
    };
    let invalid = |reason: String| ConfigError::Invalid {
        key: "LOGO",
        value: path.display().to_string(),
        origin: "the settings".into(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| invalid(format!("cannot read it: {e}")))?;
    let picture = crate::content::picture::prepare(&bytes).map_err(|e| invalid(e.to_string()))?;
    Ok(Some(PreparedImage {
        src: path.display().to_string(),
        name: format!("logo.{}", picture.extension),
        alt: settings.logo_alt.clone(),
        line: 0,
        picture,
    }))
}

/// The logo as the HTML shows it: an https `LOGO` as it is, a local one
/// (`prepared`) from `local_url`, at `LOGO_WIDTH`.
pub fn shown_logo(
    settings: &Settings,
    prepared: Option<&PreparedImage>,
    local_url: impl FnOnce(&PreparedImage) -> String,
) -> Option<ShownLogo> {
    match (&settings.logo, prepared) {
        (Some(Logo::Url(url)), _) => Some(ShownLogo {
            url: url.as_url().to_string(),
            alt: settings.logo_alt.clone(),
            width: settings.logo_width,
            height: None,
        }),
        (_, Some(logo)) => {
            let (width, height) = logo.picture.display_size(settings.logo_width);
            Some(ShownLogo { url: local_url(logo), alt: logo.alt.clone(), width, height: Some(height) })
        }
        _ => None,
    }
}
