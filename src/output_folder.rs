//! An output folder: a folder `bulletin` writes files into for a person to
//! look at (a dry run's `--out`, `preview/`, and any later one), which never
//! writes outside itself and never removes what it did not write.
//!
//! - A marker file, `.bulletin-output`, says the folder is ours and lists
//!   (its manifest) every file the last run wrote. A re-run removes exactly
//!   those, so the user's own files in the folder survive; a folder with
//!   files in it and no marker is refused.
//! - Nothing is written through a symbolic link: the marker is refused if
//!   it is one, and every file is made with create-new semantics
//!   (`O_CREAT | O_EXCL`), which fail on a link, even a dangling one, rather
//!   than follow it. The new marker is written to a file of its own in the
//!   folder and renamed over the old, which replaces a link rather than
//!   following it. Each refusal names the path.
//!
//! A hard link is harmless too: files are only ever made new, unlinked, or
//! renamed over, never opened to be written, so the file another name
//! shares is never changed. The folder named itself may be a symbolic link
//! (the user chose it); what is inside it may not.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Marks a folder as written by `bulletin`, and lists what it wrote.
pub const MARKER: &str = ".bulletin-output";

/// Where the next marker is written before it is renamed over the last.
const NEXT_MARKER: &str = ".bulletin-output.new";

/// The marker's text before its list of files.
const PREAMBLE: &str = "This folder is written by `bulletin`. Each run removes the files listed below \
(the ones the run before wrote) and writes its own; any other file here is yours and is left alone.\n";

/// The line after which the marker lists the files, one a line.
const FILES: &str = "files:";

/// Why an output folder cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("{} is not empty and was not written by bulletin; choose an empty or new folder for --out", dir.display())]
    NotOurs { dir: PathBuf },
    #[error(
        "{} is a symbolic link; bulletin never writes through one (it could lead outside the folder): remove it, or choose another folder",
        path.display()
    )]
    Symlink { path: PathBuf },
    #[error("{} already exists and was not written by bulletin: move it away, or choose another folder", path.display())]
    Exists { path: PathBuf },
    #[error("{} is not a file bulletin wrote: move it away, or choose another folder", path.display())]
    NotAFile { path: PathBuf },
    #[error("cannot write {}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

fn io(path: &Path) -> impl FnOnce(io::Error) -> FolderError + '_ {
    move |source| FolderError::Io { path: path.to_owned(), source }
}

/// A folder being written, emptied of the last run's files.
#[derive(Debug)]
pub struct OutputFolder {
    dir: PathBuf,
    /// The marker, open to add each file's name before the file is made.
    manifest: File,
}

impl OutputFolder {
    /// Creates `dir`, or takes it over from an earlier run, removing the
    /// files that run listed. A folder holding files but no marker is
    /// refused, as is a marker (or a listed file) that is a symbolic link.
    pub fn open(dir: &Path) -> Result<Self, FolderError> {
        if !dir.exists() {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let marker = dir.join(MARKER);
        match fs::symlink_metadata(&marker) {
            Ok(_) => {
                let listed = listed(dir, &read_marker(&marker)?);
                remove_all(dir, &listed)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if fs::read_dir(dir).map_err(io(dir))?.next().is_some() {
                    return Err(FolderError::NotOurs { dir: dir.to_owned() });
                }
            }
            Err(e) => return Err(FolderError::Io { path: marker, source: e }),
        }
        let next = dir.join(NEXT_MARKER);
        // Left by a run that stopped between writing and renaming it:
        // removing a link removes the link, never what it points to.
        match fs::remove_file(&next) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(FolderError::Io { path: next, source: e });
            }
            _ => {}
        }
        let mut manifest = create_new(&next)?;
        manifest.write_all(format!("{PREAMBLE}{FILES}\n").as_bytes()).map_err(io(&next))?;
        fs::rename(&next, &marker).map_err(io(&marker))?;
        Ok(Self { dir: dir.to_owned(), manifest })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes the new file `name` in the folder, listed in the marker first
    /// so the next run removes it. Refused if anything is already there.
    ///
    /// # Panics
    /// If `name` is not a plain file name (the callers' own names are).
    pub fn create(&mut self, name: &str) -> Result<File, FolderError> {
        assert!(is_plain_name(name), "not a plain file name: {name:?}");
        let marker = self.dir.join(MARKER);
        self.manifest.write_all(format!("{name}\n").as_bytes()).map_err(io(&marker))?;
        create_new(&self.dir.join(name))
    }

    /// Writes `bytes` to the new file `name` (see [`OutputFolder::create`]);
    /// returns its path.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<PathBuf, FolderError> {
        let path = self.dir.join(name);
        self.create(name)?.write_all(bytes).map_err(io(&path))?;
        Ok(path)
    }
}

/// A new file at `path`: `O_CREAT | O_EXCL`, which never follows a link.
fn create_new(path: &Path) -> Result<File, FolderError> {
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(file) => Ok(file),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => FolderError::Symlink { path: path.to_owned() },
            _ => FolderError::Exists { path: path.to_owned() },
        }),
        Err(e) => Err(FolderError::Io { path: path.to_owned(), source: e }),
    }
}

/// The marker's text, refused if it is a link or not a plain file (also
/// if it is swapped for one between the look and the read).
fn read_marker(marker: &Path) -> Result<String, FolderError> {
    let looked = fs::symlink_metadata(marker).map_err(io(marker))?;
    if looked.file_type().is_symlink() {
        return Err(FolderError::Symlink { path: marker.to_owned() });
    }
    if !looked.is_file() {
        return Err(FolderError::NotAFile { path: marker.to_owned() });
    }
    let mut file = File::open(marker).map_err(io(marker))?;
    let opened = file.metadata().map_err(io(marker))?;
    if (opened.dev(), opened.ino()) != (looked.dev(), looked.ino()) {
        return Err(FolderError::Symlink { path: marker.to_owned() });
    }
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(io(marker))?;
    Ok(text)
}

/// The files a marker lists. A marker from before markers held a list
/// (no `files:` line) stands for the files such a run wrote: `index.html`
/// and numbered `.eml`, `.html` and `.txt` files, and nothing else.
fn listed(dir: &Path, marker: &str) -> Vec<String> {
    match marker.lines().position(|l| l == FILES) {
        Some(at) => marker.lines().skip(at + 1).filter(|n| is_plain_name(n)).map(str::to_owned).collect(),
        None => fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| is_plain_name(n) && is_old_runs(n))
            .collect(),
    }
}

/// `index.html`, or `00001-…` ending `.eml`, `.html` or `.txt`.
fn is_old_runs(name: &str) -> bool {
    let numbered =
        name.len() > 6 && name.as_bytes()[..5].iter().all(u8::is_ascii_digit) && &name[5..6] == "-";
    let ext = [".eml", ".html", ".txt"].iter().any(|e| name.ends_with(e));
    name == "index.html" || (numbered && ext)
}

/// A file name of the folder's own: no separator, not `.` or `..`, not
/// the marker.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name != MARKER
        && name != NEXT_MARKER
        && !name.contains(['/', '\\', '\n', '\r', '\0'])
}

/// Removes the `names` in `dir` that are plain files; refuses (before
/// removing any) if one is a link. Missing ones and folders are left.
fn remove_all(dir: &Path, names: &[String]) -> Result<(), FolderError> {
    let mut files = Vec::new();
    for name in names {
        let path = dir.join(name);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => return Err(FolderError::Symlink { path }),
            Ok(m) if m.is_file() => files.push(path),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(FolderError::Io { path, source: e }),
        }
    }
    for path in files {
        fs::remove_file(&path).map_err(io(&path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_new_folder_is_made_and_marked_with_what_it_holds() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let mut folder = OutputFolder::open(&dir).unwrap();
        folder.write("a.html", b"a").unwrap();
        folder.write("b.eml", b"b").unwrap();
        let marker = fs::read_to_string(dir.join(MARKER)).unwrap();
        assert!(marker.ends_with("files:\na.html\nb.eml\n"), "{marker}");
        assert_eq!(names(&dir), [MARKER, "a.html", "b.eml"]);
    }

    #[test]
    fn a_rerun_removes_only_the_files_the_last_run_listed() {
        let tmp = tempfile::tempdir().unwrap();
        let mut folder = OutputFolder::open(tmp.path()).unwrap();
        folder.write("old.html", b"old").unwrap();
        drop(folder);
        fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
        fs::write(tmp.path().join("report.html"), "mine").unwrap();
        let mut folder = OutputFolder::open(tmp.path()).unwrap();
        folder.write("new.html", b"new").unwrap();
        assert_eq!(names(tmp.path()), [MARKER, "new.html", "notes.txt", "report.html"]);
    }

    #[test]
    fn a_marker_from_before_the_list_stands_for_numbered_files_and_the_index_only() {
        let tmp = tempfile::tempdir().unwrap();
        for name in ["00001-a@example.org.eml", "00001-a@example.org.html", "index.html", "report.html"] {
            fs::write(tmp.path().join(name), "x").unwrap();
        }
        fs::write(
            tmp.path().join(MARKER),
            "This folder is written by `bulletin`; its .eml, .html and .txt files are replaced on each run.\n",
        )
        .unwrap();
        OutputFolder::open(tmp.path()).unwrap();
        assert_eq!(names(tmp.path()), [MARKER, "report.html"]);
    }

    #[test]
    fn a_folder_with_files_and_no_marker_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("thesis.docx"), "precious").unwrap();
        assert!(matches!(OutputFolder::open(tmp.path()), Err(FolderError::NotOurs { .. })));
        assert_eq!(names(tmp.path()), ["thesis.docx"]);
    }

    #[test]
    fn a_marker_that_is_a_link_is_refused_and_its_target_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        fs::create_dir(&dir).unwrap();
        fs::write(tmp.path().join("target"), "mine").unwrap();
        symlink(tmp.path().join("target"), dir.join(MARKER)).unwrap();
        let error = OutputFolder::open(&dir).unwrap_err();
        assert!(matches!(&error, FolderError::Symlink { path } if *path == dir.join(MARKER)), "{error}");
        assert!(error.to_string().contains("out/.bulletin-output is a symbolic link"), "{error}");
        assert_eq!(fs::read_to_string(tmp.path().join("target")).unwrap(), "mine");
    }

    #[test]
    fn a_marker_hard_linked_to_a_file_elsewhere_leaves_that_file_unchanged() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        fs::create_dir(&dir).unwrap();
        fs::write(tmp.path().join("bashrc"), "mine").unwrap();
        fs::hard_link(tmp.path().join("bashrc"), dir.join(MARKER)).unwrap();
        OutputFolder::open(&dir).unwrap().write("a.html", b"a").unwrap();
        assert_eq!(fs::read_to_string(tmp.path().join("bashrc")).unwrap(), "mine");
        assert!(fs::read_to_string(dir.join(MARKER)).unwrap().ends_with("files:\na.html\n"));
    }

    #[test]
    fn a_dangling_link_where_a_file_is_written_is_refused_and_creates_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let mut folder = OutputFolder::open(&dir).unwrap();
        symlink(tmp.path().join("elsewhere"), dir.join("a.html")).unwrap();
        let error = folder.write("a.html", b"a").unwrap_err();
        assert!(matches!(error, FolderError::Symlink { .. }), "{error}");
        assert!(!tmp.path().join("elsewhere").exists());
    }

    #[test]
    fn a_listed_file_that_became_a_link_is_refused_before_anything_is_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let mut folder = OutputFolder::open(tmp.path()).unwrap();
        folder.write("a.html", b"a").unwrap();
        folder.write("b.html", b"b").unwrap();
        drop(folder);
        fs::remove_file(tmp.path().join("b.html")).unwrap();
        symlink("/nowhere", tmp.path().join("b.html")).unwrap();
        assert!(matches!(OutputFolder::open(tmp.path()), Err(FolderError::Symlink { .. })));
        assert!(tmp.path().join("a.html").exists());
    }

    #[test]
    fn a_file_already_there_that_was_not_ours_is_refused_not_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        OutputFolder::open(tmp.path()).unwrap();
        fs::write(tmp.path().join("index.html"), "mine").unwrap();
        let mut folder = OutputFolder::open(tmp.path()).unwrap();
        assert!(matches!(folder.write("index.html", b"x"), Err(FolderError::Exists { .. })));
        assert_eq!(fs::read_to_string(tmp.path().join("index.html")).unwrap(), "mine");
    }

    #[test]
    fn names_in_a_marker_never_reach_outside_the_folder() {
        let text = format!("{PREAMBLE}{FILES}\n../x\n/etc/passwd\n.\n..\n{MARKER}\nok.html\n");
        assert_eq!(listed(Path::new("."), &text), ["ok.html"]);
    }
}
