//! The web archive: every published bulletin as a static page for nobody in
//! particular (the email's own template, [`Rendered::page`]), an index of
//! issues newest first, an Atom feed, and the images each page shows,
//! prepared as the email's are. Nothing of any reader's goes in: merge
//! fields take their default or leave with their sentence
//! ([`anonymous`]); there is no address and no unsubscribe link.
//!
//! Layout of the folder (links inside it are relative, so it opens from
//! disk as well as from any static host):
//!
//! ```text
//! index.html
//! feed.xml
//! logo.png                       (a LOGO file, if any)
//! 2025-10-16-prayer/index.html   (one folder per campaign)
//! 2025-10-16-prayer/image1.jpg
//! ```

pub mod anonymous;
mod feed;
pub mod folder;
mod index;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::config::Settings;
use crate::content::images::{self, PreparedImage};
use crate::content::picture::COLUMN_WIDTH;
use crate::content::{Bulletin, ContentError};
use crate::job::{prepare_logo, shown_logo};
use crate::render::{Personalised, Rendered, ShownImage, WebPage};
pub use folder::{Changes, SiteFolder};

/// Where an issue's page is, inside the site: `<campaign>/index.html`.
pub fn page_path(bulletin: &Bulletin) -> String {
    format!("{}/index.html", bulletin.campaign)
}

/// Whether `bulletin` belongs in the archive: not a draft, not `archive = false`.
pub fn is_published(bulletin: &Bulletin) -> bool {
    bulletin.archive && !bulletin.draft
}

/// One issue of the archive, ready to write.
#[derive(Debug)]
pub struct Issue {
    /// The bulletin as everyone sees it (no merge fields).
    pub bulletin: Bulletin,
    /// The page (its subject, HTML and text).
    pub page: Personalised,
    /// The index's heading for it: the title, else the subject.
    pub title: String,
    pub preheader: String,
    images: Vec<PreparedImage>,
}

/// Why the archive could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Folder(#[from] crate::deliver::folder::FolderError),
    #[error(
        "{} and {} are both campaign {campaign}: give one a `campaign = \"…\"` of its own in its front matter",
        first.display(),
        second.display()
    )]
    SameCampaign { campaign: String, first: PathBuf, second: PathBuf },
}

/// What a run published.
#[derive(Debug, Clone, Copy)]
pub struct Published {
    /// Issues in the archive.
    pub issues: usize,
    /// Bulletins left out: drafts and `archive = false`.
    pub left_out: usize,
    pub changes: Changes,
}

/// The text of a template with no merge fields left.
fn plain(template: &crate::merge::Template) -> String {
    template
        .0
        .iter()
        .filter_map(|s| match s {
            crate::merge::Segment::Literal(text) => Some(text.as_str()),
            crate::merge::Segment::Field(_) => None,
        })
        .collect()
}

/// Writes the archive of `bulletins` into `out`; `base` (an http(s)
/// address) makes the feed's links absolute.
pub fn publish(
    bulletins: Vec<Bulletin>,
    settings: &Settings,
    base: Option<&url::Url>,
    out: &Path,
) -> Result<Published, PublishError> {
    let total = bulletins.len();
    let mut kept: Vec<Bulletin> = bulletins.into_iter().filter(is_published).collect();
    kept.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.campaign.as_str().cmp(b.campaign.as_str())));
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    for bulletin in &kept {
        if let Some(first) = seen.insert(bulletin.campaign.as_str(), &bulletin.path) {
            return Err(PublishError::SameCampaign {
                campaign: bulletin.campaign.to_string(),
                first: first.to_owned(),
                second: bulletin.path.clone(),
            });
        }
    }

    let logo = prepare_logo(settings)?;
    let shown_logo = shown_logo(settings, logo.as_ref(), |logo| format!("../{}", logo.name));
    let web = WebPage { index: "../index.html".to_owned(), feed: "../feed.xml".to_owned() };
    let issues = kept
        .iter()
        .map(|bulletin| {
            let prepared = images::prepare(bulletin)?;
            let shown: Vec<ShownImage> = prepared
                .iter()
                .map(|image| {
                    let (width, height) = image.picture.display_size(COLUMN_WIDTH);
                    ShownImage { src: image.src.clone(), url: image.name.clone(), width, height }
                })
                .collect();
            let everyone = anonymous::for_everyone(bulletin);
            let page = Rendered::page(&everyone, settings, &shown, shown_logo.clone(), web.clone());
            let title = everyone.title.as_ref().map_or_else(|| page.subject.clone(), plain);
            let preheader = plain(&everyone.preheader);
            Ok(Issue { bulletin: everyone, page, title, preheader, images: prepared })
        })
        .collect::<Result<Vec<Issue>, ContentError>>()?;

    let base = base.map(|b| format!("{}/", b.as_str().trim_end_matches('/')));
    let mut folder = SiteFolder::open(out)?;
    if let Some(logo) = &logo {
        folder.put(&logo.name, &logo.picture.bytes)?;
    }
    for issue in &issues {
        let campaign = issue.bulletin.campaign.as_str();
        folder.put(&page_path(&issue.bulletin), issue.page.html.as_bytes())?;
        for image in &issue.images {
            folder.put(&format!("{campaign}/{}", image.name), &image.picture.bytes)?;
        }
    }
    folder.put("index.html", &index::render(settings, &issues))?;
    folder.put("feed.xml", &feed::render(settings, &issues, base.as_deref()))?;
    let changes = folder.finish()?;
    Ok(Published { issues: issues.len(), left_out: total - issues.len(), changes })
}
