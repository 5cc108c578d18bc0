//! The images a bulletin shows: files beside it (`![A well](images/well.jpg)`,
//! a path relative to the bulletin) and remote `https://` images, which are
//! only ever linked, never fetched.
//!
//! [`check`] runs when a bulletin is loaded: every image needs alt text, a
//! local one a readable file, and no image may be plain `http://`.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use sha2::{Digest, Sha256};

use super::markdown::is_relative_path;
use super::picture::Picture;
use super::{Block, Bulletin, ContentError, ContentErrorKind, Inline};

/// An image file beside the bulletin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalImage {
    /// As written in the bulletin: `images/well.jpg`.
    pub src: String,
    /// Where the file is: `src` joined to the bulletin's folder.
    pub path: PathBuf,
    pub alt: String,
    /// The bulletin line it stands on.
    pub line: usize,
}

/// Every image in `blocks` as (address as written, alt text, line), in order.
pub fn all(blocks: &[Block]) -> Vec<(&str, &str, usize)> {
    fn inlines<'a>(content: &'a [Inline], out: &mut Vec<(&'a str, &'a str, usize)>) {
        for inline in content {
            match inline {
                Inline::Image { url, alt, line } => out.push((url, alt, *line)),
                Inline::Strong(c)
                | Inline::Emphasis(c)
                | Inline::Strikethrough(c)
                | Inline::Link { content: c, .. } => inlines(c, out),
                _ => {}
            }
        }
    }
    fn blocks_into<'a>(blocks: &'a [Block], out: &mut Vec<(&'a str, &'a str, usize)>) {
        for block in blocks {
            match block {
                Block::Heading { content, .. } | Block::Paragraph { content, .. } => inlines(content, out),
                Block::List { items, .. } => items.iter().for_each(|item| blocks_into(item, out)),
                Block::Quote { body, attribution } => {
                    blocks_into(body, out);
                    if let Some(a) = attribution {
                        inlines(a, out);
                    }
                }
                Block::Code(_) | Block::Rule | Block::Button { .. } => {}
            }
        }
    }
    let mut out = Vec::new();
    blocks_into(blocks, &mut out);
    out
}

/// The local images of `bulletin`, each once (the first use), checked: a
/// readable file; and every image anywhere has alt text and is not plain `http://`.
pub fn check(bulletin: &Bulletin) -> Result<Vec<LocalImage>, ContentError> {
    let folder = bulletin.path.parent().unwrap_or(Path::new(""));
    let invalid = |line, kind| ContentError::Invalid { path: bulletin.path.clone(), line, kind };
    let mut local: Vec<LocalImage> = Vec::new();
    for (src, alt, line) in all(&bulletin.blocks) {
        if src.starts_with("http://") {
            return Err(invalid(
                line,
                ContentErrorKind::BadImage {
                    url: src.to_owned(),
                    reason: "plain http:// images are refused (mail programs warn or block them); \
                             use https:// or put the file beside the bulletin"
                        .into(),
                },
            ));
        }
        // Every image needs words for readers who do not see it, local or remote.
        if alt.trim().is_empty() {
            return Err(invalid(line, ContentErrorKind::ImageWithoutAlt(src.to_owned())));
        }
        if !is_relative_path(src) {
            continue;
        }
        let path = folder.join(src);
        if let Err(e) = std::fs::File::open(&path) {
            return Err(invalid(
                line,
                ContentErrorKind::BadImage {
                    url: src.to_owned(),
                    reason: format!("cannot read {}: {e}", path.display()),
                },
            ));
        }
        if !local.iter().any(|image| image.src == src) {
            local.push(LocalImage { src: src.to_owned(), path, alt: alt.to_owned(), line });
        }
    }
    Ok(local)
}

/// A local image prepared for email (see [`super::picture`]), once per bulletin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedImage {
    /// As written in the bulletin: `images/well.jpg`.
    pub src: String,
    /// Its file name in the message and among the assets: `image1.jpg`.
    pub name: String,
    pub alt: String,
    /// The bulletin line it first stands on.
    pub line: usize,
    pub picture: Picture,
}

impl PreparedImage {
    /// The `Content-ID` of its part in a message (without `<>`), which the
    /// HTML refers to as `cid:…`.
    pub fn content_id(&self) -> String {
        format!("{}@bulletin", self.name)
    }
}

/// `html` as a browser can show it: each of `images` found at `folder` +
/// its file name (`images/image1.jpg`) instead of by its `cid:`, which only
/// a mail program follows. The `.eml` keeps `cid:`; the dry run's and the
/// preview's `.html` files and the live preview show the images this way.
pub fn shown_from(html: &str, images: &[PreparedImage], folder: &str) -> String {
    images.iter().fold(html.to_owned(), |html, image| {
        html.replace(&format!("\"cid:{}\"", image.content_id()), &format!("\"{folder}{}\"", image.name))
    })
}

/// Checks (see [`check`]) and prepares each local image of `bulletin`, once.
pub fn prepare(bulletin: &Bulletin) -> Result<Vec<PreparedImage>, ContentError> {
    check(bulletin)?
        .into_iter()
        .enumerate()
        .map(|(index, image)| {
            let invalid = |reason: String| ContentError::Invalid {
                path: bulletin.path.clone(),
                line: image.line,
                kind: ContentErrorKind::BadImage { url: image.src.clone(), reason },
            };
            let bytes = std::fs::read(&image.path)
                .map_err(|e| invalid(format!("cannot read {}: {e}", image.path.display())))?;
            let picture = prepared(&bytes).map_err(|e| invalid(format!("{}: {e}", image.path.display())))?;
            let name = format!("image{}.{}", index + 1, picture.extension);
            Ok(PreparedImage { src: image.src, name, alt: image.alt, line: image.line, picture })
        })
        .collect()
}

/// The last few files prepared in this process, by the SHA-256 of their
/// bytes: the live preview prepares the bulletin afresh for every request
/// (the page and each frame), and decoding and re-encoding a photo each
/// time would slow every reload. An edited file is prepared again.
static PREPARED: Mutex<Vec<([u8; 32], Picture)>> = Mutex::new(Vec::new());

/// How many prepared files [`PREPARED`] keeps.
const PREPARED_KEPT: usize = 16;

/// `bytes` prepared by [`super::picture::prepare`], or as it was the last time.
fn prepared(bytes: &[u8]) -> Result<Picture, super::picture::PictureError> {
    let key: [u8; 32] = Sha256::digest(bytes).into();
    let kept = PREPARED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, p)| p.clone());
    if let Some(picture) = kept {
        return Ok(picture);
    }
    let picture = super::picture::prepare(bytes)?;
    let mut list = PREPARED.lock().unwrap_or_else(PoisonError::into_inner);
    if list.len() >= PREPARED_KEPT {
        list.remove(0);
    }
    list.push((key, picture.clone()));
    Ok(picture)
}

/// An image larger than this after preparing is worth a warning.
pub const LARGE_IMAGE_BYTES: usize = 1024 * 1024;

/// A warning for each of `images` over [`LARGE_IMAGE_BYTES`], naming the
/// bulletin file, line and size.
pub fn size_warnings(bulletin: &Bulletin, images: &[PreparedImage]) -> Vec<String> {
    images
        .iter()
        .filter(|image| image.picture.bytes.len() > LARGE_IMAGE_BYTES)
        .map(|image| {
            format!(
                "{}:{}: the image {} is {} KB after preparing ({}×{} px), over 1 MB; every reader \
                 downloads it and some mail programs drop large messages; crop it or save it smaller",
                bulletin.path.display(),
                image.line,
                image.src,
                image.picture.bytes.len().div_ceil(1024),
                image.picture.width,
                image.picture.height
            )
        })
        .collect()
}
