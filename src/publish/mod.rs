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

use std::collections::{BTreeSet, HashMap};
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
    Folder(#[from] crate::output_folder::FolderError),
    #[error(
        "{} and {} are both campaign {campaign}: give one a `campaign = \"…\"` of its own in its front matter",
        first.display(),
        second.display()
    )]
    SameCampaign { campaign: String, first: PathBuf, second: PathBuf },
}

/// What a run publishes.
#[derive(Debug)]
pub struct Archive {
    /// The bulletins to write: every one of `content/`, or those named.
    pub bulletins: Vec<Bulletin>,
    /// With bulletins named, the other bulletins of `content/`: those whose
    /// issue is in the site already are listed in the index and the feed,
    /// and every other issue's files are left as they are. `None` for a
    /// whole run, which removes the last run's files it does not write.
    pub others: Option<Vec<Bulletin>>,
}

/// Why a bulletin is not in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LeftOut {
    #[error("a draft (draft = true)")]
    Draft,
    #[error("archive = false")]
    NotArchived,
}

/// What a run published.
#[derive(Debug)]
pub struct Published {
    /// Issues written (or found already right).
    pub issues: usize,
    /// Bulletins left out, and why.
    pub left_out: Vec<(PathBuf, LeftOut)>,
    /// With bulletins named: issues in the site that no bulletin in
    /// `content/` makes, kept as they are but missing from the index.
    pub unlisted: Vec<String>,
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

/// Why `bulletin` is left out of the archive, if it is.
fn left_out(bulletin: &Bulletin) -> Option<LeftOut> {
    if bulletin.draft {
        Some(LeftOut::Draft)
    } else if !bulletin.archive {
        Some(LeftOut::NotArchived)
    } else {
        None
    }
}

/// Newest first, then by campaign; refused if two are one campaign.
fn in_order(mut bulletins: Vec<Bulletin>) -> Result<Vec<Bulletin>, PublishError> {
    bulletins.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.campaign.as_str().cmp(b.campaign.as_str())));
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    for bulletin in &bulletins {
        if let Some(first) = seen.insert(bulletin.campaign.as_str(), &bulletin.path) {
            return Err(PublishError::SameCampaign {
                campaign: bulletin.campaign.to_string(),
                first: first.to_owned(),
                second: bulletin.path.clone(),
            });
        }
    }
    Ok(bulletins)
}

/// Writes `archive` into the site folder `out`; `base` (an http(s)
/// address) makes the feed's links absolute.
pub fn publish(
    archive: Archive,
    settings: &Settings,
    base: Option<&url::Url>,
    out: &Path,
) -> Result<Published, PublishError> {
    let (kept, left): (Vec<Bulletin>, Vec<Bulletin>) =
        archive.bulletins.into_iter().partition(|b| left_out(b).is_none());
    let left_out: Vec<(PathBuf, LeftOut)> =
        left.iter().filter_map(|b| left_out(b).map(|why| (b.path.clone(), why))).collect();
    let kept = in_order(kept)?;
    let mut folder = SiteFolder::open(out)?;
    // With bulletins named: the other issues already in the site, for the
    // index and the feed; their own files are kept, not written.
    let (listed, unlisted) = match archive.others {
        None => (Vec::new(), Vec::new()),
        Some(others) => {
            let named: BTreeSet<&str> = kept.iter().chain(&left).map(|b| b.campaign.as_str()).collect();
            let listed: Vec<Bulletin> = others
                .into_iter()
                .filter(|b| is_published(b) && !named.contains(b.campaign.as_str()))
                .filter(|b| folder.had(&page_path(b)))
                .collect();
            let listed = in_order(listed)?;
            let unlisted = folder
                .folders_before()
                .into_iter()
                .filter(|f| folder.had(&format!("{f}/index.html")) && !named.contains(f))
                .filter(|f| !listed.iter().any(|b| b.campaign.as_str() == *f))
                .map(str::to_owned)
                .collect();
            folder.keep_all_but(&named);
            (listed, unlisted)
        }
    };

    let logo = prepare_logo(settings)?;
    let shown_logo = shown_logo(settings, logo.as_ref(), |logo| format!("../{}", logo.name));
    let web = WebPage { index: "../index.html".to_owned(), feed: "../feed.xml".to_owned() };
    let written: BTreeSet<String> = kept.iter().map(|b| b.campaign.to_string()).collect();
    let issues = in_order(kept.into_iter().chain(listed).collect())?
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
    if let Some(logo) = &logo {
        folder.put(&logo.name, &logo.picture.bytes)?;
    }
    for issue in &issues {
        let campaign = issue.bulletin.campaign.as_str();
        if !written.contains(campaign) {
            continue;
        }
        folder.put(&page_path(&issue.bulletin), issue.page.html.as_bytes())?;
        for image in &issue.images {
            folder.put(&format!("{campaign}/{}", image.name), &image.picture.bytes)?;
        }
    }
    folder.put("index.html", &index::render(settings, &issues))?;
    folder.put("feed.xml", &feed::render(settings, &issues, base.as_deref()))?;
    let changes = folder.finish()?;
    Ok(Published { issues: written.len(), left_out, unlisted, changes })
}
