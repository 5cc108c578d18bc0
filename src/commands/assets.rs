//! `bulletin assets`: the bulletin's images, prepared as the messages carry
//! them, written to a folder for uploading to `ASSETS_URL`.

use std::path::PathBuf;

use super::Outcome;
use crate::content::Bulletin;
use crate::content::images;
use crate::deliver::folder::OutputFolder;
use crate::report::printable;

/// Options of `bulletin assets`.
#[derive(Debug, Clone)]
pub struct AssetsOptions {
    pub bulletin: PathBuf,
    pub out: PathBuf,
}

pub(super) fn run(options: &AssetsOptions) -> anyhow::Result<Outcome> {
    let bulletin = Bulletin::load(&options.bulletin)?;
    let prepared = images::prepare(&bulletin)?;
    let mut folder = OutputFolder::open(&options.out)?;
    for image in &prepared {
        let path = folder.write(&image.name, &image.picture.bytes)?;
        println!(
            "{}  {}×{} px, {} KB  ({})",
            printable(&path.display().to_string()),
            image.picture.width,
            image.picture.height,
            image.picture.bytes.len().div_ceil(1024),
            printable(&image.src)
        );
    }
    println!(
        "{} image(s) in {}: upload them to ASSETS_URL",
        prepared.len(),
        printable(&options.out.display().to_string())
    );
    Ok(Outcome::Done)
}
