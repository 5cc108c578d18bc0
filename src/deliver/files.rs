//! The dry run's output folder: one `.eml` (the exact bytes that would be
//! sent) and one `.html` per recipient, and an `index.html` listing them,
//! written as the run goes so nothing waits in memory. The images every
//! message embeds are written once beside them, where the `.html` files
//! find them (a browser cannot follow the `.eml`'s `cid:`).

//!
//! The folder is an [`OutputFolder`]: nothing is written through a
//! symbolic link, and a re-run removes only the files the last run wrote.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use maud::html;

use crate::content::images::{PreparedImage, shown_from};
use crate::output_folder::{FolderError, OutputFolder};
use crate::subscribers::Subscriber;

/// Why the output folder cannot be written.
pub type OutboxError = FolderError;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutboxError + '_ {
    move |source| OutboxError::Io { path: path.to_owned(), source }
}

/// Writes messages into a folder.
pub struct FileOutbox {
    folder: OutputFolder,
    index_path: PathBuf,
    index: BufWriter<File>,
    count: u64,
    /// The images the messages embed, written once into the folder.
    images: Vec<PreparedImage>,
}

impl FileOutbox {
    /// Prepares `dir`: creates it, or takes it over from an earlier run
    /// (removing that run's files, and only those). A folder with other
    /// files in it and no marker is refused rather than mixed into.
    /// Writes `images` (those every message embeds) into it once.
    pub fn create(dir: &Path, title: &str, images: &[PreparedImage]) -> Result<Self, OutboxError> {
        let mut folder = OutputFolder::open(dir)?;
        for image in images {
            folder.write(&image.name, &image.picture.bytes)?;
        }
        let index_path = dir.join("index.html");
        let file = folder.create("index.html")?;
        let mut index = BufWriter::new(file);
        let head = html! {
            (maud::DOCTYPE)
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { "Dry run: " (title) }
            style { "body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2933}table{border-collapse:collapse}td,th{padding:4px 12px;border-bottom:1px solid #ddd;text-align:left}" }
            h1 { "Dry run: " (title) }
            p { "Each message exactly as it would be sent (.eml) and its HTML part, with the envelope sender (Return-Path) it would be sent from." }
        };
        writeln!(
            index,
            "{}<table><thead><tr><th>#</th><th>To</th><th>Subject</th><th>Message</th><th>Return-Path</th></tr></thead><tbody>",
            head.into_string()
        )
        .map_err(io(&index_path))?;
        Ok(Self { folder, index_path, index, count: 0, images: images.to_vec() })
    }

    /// Writes one recipient's message and HTML part (showing the images
    /// from the folder) and lists them, with
    /// the envelope sender it would be sent from (which the `.eml`, as sent,
    /// does not show).
    pub fn write(
        &mut self,
        subscriber: &Subscriber,
        subject: &str,
        eml: &[u8],
        html_part: &str,
        envelope_sender: &str,
    ) -> Result<(), OutboxError> {
        self.count += 1;
        let stem = file_stem(self.count, subscriber.email().as_str());
        self.folder.write(&format!("{stem}.eml"), eml)?;
        let html = shown_from(html_part, &self.images, "");
        self.folder.write(&format!("{stem}.html"), html.as_bytes())?;
        let to = match subscriber.display_name() {
            Some(name) => format!("{name} <{}>", subscriber.email()),
            None => subscriber.email().to_string(),
        };
        let row = html! {
            tr {
                td { (self.count) }
                td { (to) }
                td { a href={ (stem) ".html" } { (subject) } }
                td { a href={ (stem) ".eml" } { ".eml" } }
                td { (envelope_sender) }
            }
        };
        writeln!(self.index, "{}", row.into_string()).map_err(io(&self.index_path))
    }

    /// Closes the index; returns its path.
    pub fn finish(mut self) -> Result<PathBuf, OutboxError> {
        writeln!(self.index, "</tbody></table>\n<p>{} messages.</p>", self.count)
            .map_err(io(&self.index_path))?;
        self.index.flush().map_err(io(&self.index_path))?;
        Ok(self.index_path)
    }
}

/// `00001-ana.silva_example.org`: numbered so names never collide, with the
/// address made safe for any file system.
pub fn file_stem(number: u64, email: &str) -> String {
    let safe: String = email
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "@.+-_".contains(c) { c } else { '_' })
        .take(80)
        .collect();
    format!("{number:05}-{safe}")
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn file_stems_are_numbered_and_safe() {
        assert_eq!(file_stem(7, "ana.silva@example.org"), "00007-ana.silva@example.org");
        assert_eq!(file_stem(1, "we/ird*name@example.org"), "00001-we_ird_name@example.org");
    }

    #[test]
    fn a_folder_with_someone_elses_files_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("thesis.docx"), "precious").unwrap();
        assert!(matches!(FileOutbox::create(dir.path(), "x", &[]), Err(OutboxError::NotOurs { .. })));
        assert!(dir.path().join("thesis.docx").exists());
    }

    #[test]
    fn a_folder_from_an_earlier_run_is_emptied_of_old_messages() {
        let dir = tempfile::tempdir().unwrap();
        // An earlier run's message, written as FileOutbox writes them.
        OutputFolder::open(dir.path()).unwrap().write("00009-old@example.org.eml", b"old").unwrap();
        fs::write(dir.path().join("notes.md"), "kept").unwrap();
        FileOutbox::create(dir.path(), "x", &[]).unwrap().finish().unwrap();
        assert!(!dir.path().join("00009-old@example.org.eml").exists());
        assert!(dir.path().join("notes.md").exists());
    }
}
