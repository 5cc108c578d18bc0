//! `bulletin assets`: the bulletin's images, prepared as the messages carry
//! them (and the `LOGO` file), written to a folder for uploading to
//! `ASSETS_URL`.

use std::path::PathBuf;

use super::Outcome;
use crate::config::{Settings, Source};
use crate::content::Bulletin;
use crate::content::images;
use crate::job::prepare_logo;
use crate::output_folder::OutputFolder;
use crate::report::printable;

/// Options of `bulletin assets`.
#[derive(Debug, Clone)]
pub struct AssetsOptions {
    pub bulletin: PathBuf,
    pub out: PathBuf,
}

pub(super) fn run(options: &AssetsOptions, env: &Source) -> anyhow::Result<Outcome> {
    let settings = Settings::from_source(env)?;
    let bulletin = Bulletin::load(&options.bulletin)?;
    let mut prepared: Vec<_> = prepare_logo(&settings)?.into_iter().collect();
    prepared.extend(images::prepare(&bulletin)?);
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
