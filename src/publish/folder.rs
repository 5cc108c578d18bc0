//! The site's folder, kept up to date in place: the rules of
//! [`crate::output_folder`] (a marker listing what `bulletin` wrote, a
//! folder of someone else's refused, nothing written through a symbolic
//! link), but a file whose bytes are already right is left alone, so its
//! modification time stays and a static host or `rsync` sees no change.
//! Files of the last run that this one did not write are removed.
//!
//! A file is written to a new file beside it (`O_CREAT | O_EXCL`, which
//! never follows a link) and renamed over the old one, which replaces a
//! link rather than following it; every folder on the way is checked not
//! to be a link.

use std::collections::BTreeSet;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::output_folder::{FolderError, MARKER};

/// The marker's text before its list of files.
const PREAMBLE: &str = "This folder is written by `bulletin publish`. Each run updates the files listed \
below (and removes those it no longer writes); any other file here is yours and is left alone.\n";

/// The line after which the marker lists the files, one a line.
const FILES: &str = "files:";

/// What a run did to the folder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// A site folder being brought up to date.
#[derive(Debug)]
pub struct SiteFolder {
    dir: PathBuf,
    /// The marker's text as it was, if there was one.
    marker: Option<String>,
    /// The files the last run wrote.
    before: BTreeSet<String>,
    /// The files this run wrote (or found already right).
    now: BTreeSet<String>,
    changes: Changes,
}

fn io(path: &Path) -> impl FnOnce(io::Error) -> FolderError + '_ {
    move |source| FolderError::Io { path: path.to_owned(), source }
}

/// The parts of a path in the site (`2025-10-16-news/index.html`), each a
/// plain name; `None` for anything else.
fn parts(name: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = name.split('/').collect();
    parts
        .iter()
        .all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains(['\\', '\n', '\r', '\0']))
        .then_some(parts)
        .filter(|parts| parts[0] != MARKER && !parts.last().is_some_and(|l| l.ends_with(".bulletin-new")))
}

impl SiteFolder {
    /// Creates `dir`, or takes it over from an earlier run. A folder with
    /// files but no marker is refused, as is a marker that is a link.
    pub fn open(dir: &Path) -> Result<Self, FolderError> {
        if !dir.exists() {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let marker_path = dir.join(MARKER);
        let marker = match fs::symlink_metadata(&marker_path) {
            Ok(m) if m.file_type().is_symlink() => return Err(FolderError::Symlink { path: marker_path }),
            Ok(m) if !m.is_file() => return Err(FolderError::NotAFile { path: marker_path }),
            Ok(_) => Some(fs::read_to_string(&marker_path).map_err(io(&marker_path))?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if fs::read_dir(dir).map_err(io(dir))?.next().is_some() {
                    return Err(FolderError::NotOurs { dir: dir.to_owned() });
                }
                None
            }
            Err(e) => return Err(FolderError::Io { path: marker_path, source: e }),
        };
        let before = marker
            .as_deref()
            .and_then(|m| m.lines().position(|l| l == FILES).map(|at| (m, at)))
            .map(|(m, at)| m.lines().skip(at + 1).filter(|n| parts(n).is_some()).map(str::to_owned).collect())
            .unwrap_or_default();
        Ok(Self { dir: dir.to_owned(), marker, before, now: BTreeSet::new(), changes: Changes::default() })
    }

    /// Makes the file `name` (`a/b.html`, inside the folder) hold `bytes`,
    /// writing it only if it does not already.
    ///
    /// # Panics
    /// If `name` is not a relative path of plain names (the callers' own are).
    pub fn put(&mut self, name: &str, bytes: &[u8]) -> Result<(), FolderError> {
        let parts = parts(name).unwrap_or_else(|| panic!("not a path inside the site: {name:?}"));
        let (file, folders) = parts.split_last().expect("split gives at least one part");
        let mut at = self.dir.clone();
        for folder in folders {
            at.push(folder);
            match fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => return Err(FolderError::Symlink { path: at }),
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(FolderError::NotAFile { path: at }),
                Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir(&at).map_err(io(&at))?,
                Err(e) => return Err(FolderError::Io { path: at, source: e }),
            }
        }
        let path = at.join(file);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => return Err(FolderError::Symlink { path }),
            Ok(m) if !m.is_file() => return Err(FolderError::NotAFile { path }),
            Ok(_) if !self.before.contains(name) && !self.now.contains(name) => {
                return Err(FolderError::Exists { path });
            }
            Ok(m) if m.len() == bytes.len() as u64 && fs::read(&path).map_err(io(&path))? == bytes => {
                self.changes.unchanged += 1;
                self.now.insert(name.to_owned());
                return Ok(());
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(FolderError::Io { path, source: e }),
        }
        replace(&path, &at.join(format!("{file}.bulletin-new")), bytes)?;
        self.changes.written += 1;
        self.now.insert(name.to_owned());
        Ok(())
    }

    /// Whether the last run wrote `name`.
    pub fn had(&self, name: &str) -> bool {
        self.before.contains(name)
    }

    /// The folders of the last run's files (`2025-10-16-news`), each once.
    pub fn folders_before(&self) -> BTreeSet<&str> {
        self.before.iter().filter_map(|name| name.split_once('/')).map(|(folder, _)| folder).collect()
    }

    /// Keeps the last run's files outside `folders` as they are: listed
    /// again in the marker, neither written nor removed.
    pub fn keep_all_but(&mut self, folders: &BTreeSet<&str>) {
        let kept =
            self.before.iter().filter(|name| !name.split_once('/').is_some_and(|(f, _)| folders.contains(f)));
        self.now.extend(kept.cloned());
    }

    /// Removes the last run's files this one did not write (and folders
    /// left empty by that), and lists this run's in the marker.
    pub fn finish(mut self) -> Result<Changes, FolderError> {
        for name in self.before.difference(&self.now) {
            let path = self.dir.join(name);
            match fs::symlink_metadata(&path) {
                // Removing a link removes the link, never what it points to.
                Ok(m) if !m.is_dir() => fs::remove_file(&path).map_err(io(&path))?,
                _ => continue,
            }
            self.changes.removed += 1;
            let mut folder = path.parent();
            while let Some(dir) = folder.filter(|d| *d != self.dir) {
                if fs::remove_dir(dir).is_err() {
                    break;
                }
                folder = dir.parent();
            }
        }
        let mut text = format!("{PREAMBLE}{FILES}\n");
        for name in &self.now {
            text.push_str(name);
            text.push('\n');
        }
        if self.marker.as_deref() != Some(text.as_str()) {
            let marker = self.dir.join(MARKER);
            replace(&marker, &self.dir.join(format!("{MARKER}.bulletin-new")), text.as_bytes())?;
        }
        Ok(self.changes)
    }
}

/// Writes `bytes` to a new file at `next` and renames it over `path`.
fn replace(path: &Path, next: &Path, bytes: &[u8]) -> Result<(), FolderError> {
    // Left by a run that stopped between writing and renaming it.
    match fs::remove_file(next) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            return Err(FolderError::Io { path: next.to_owned(), source: e });
        }
        _ => {}
    }
    let mut file = OpenOptions::new().write(true).create_new(true).open(next).map_err(io(next))?;
    file.write_all(bytes).map_err(io(next))?;
    drop(file);
    fs::rename(next, path).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mtime(path: &Path) -> std::time::SystemTime {
        fs::metadata(path).unwrap().modified().unwrap()
    }

    #[test]
    fn files_kept_from_the_last_run_are_neither_written_nor_removed_but_those_of_the_named_folders_may_be() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        let mut folder = SiteFolder::open(&site).unwrap();
        for name in ["index.html", "a/index.html", "a/photo.jpg", "b/index.html", "b/old.jpg"] {
            folder.put(name, name.as_bytes()).unwrap();
        }
        folder.finish().unwrap();
        let mut folder = SiteFolder::open(&site).unwrap();
        assert_eq!(folder.folders_before().into_iter().collect::<Vec<_>>(), ["a", "b"]);
        folder.keep_all_but(&["b"].into_iter().collect());
        folder.put("b/index.html", b"new").unwrap();
        assert_eq!(folder.finish().unwrap(), Changes { written: 1, unchanged: 0, removed: 1 });
        assert!(site.join("a/photo.jpg").exists() && site.join("index.html").exists());
        assert!(!site.join("b/old.jpg").exists());
        let marker = fs::read_to_string(site.join(MARKER)).unwrap();
        assert!(
            marker.ends_with("files:\na/index.html\na/photo.jpg\nb/index.html\nindex.html\n"),
            "{marker}"
        );
    }

    #[test]
    fn a_file_already_right_is_not_written_again_and_a_changed_one_is() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        let mut folder = SiteFolder::open(&site).unwrap();
        folder.put("index.html", b"one").unwrap();
        folder.put("a/index.html", b"two").unwrap();
        assert_eq!(folder.finish().unwrap(), Changes { written: 2, unchanged: 0, removed: 0 });
        let (index, marker) = (mtime(&site.join("index.html")), mtime(&site.join(MARKER)));
        std::thread::sleep(std::time::Duration::from_millis(20));

        let mut folder = SiteFolder::open(&site).unwrap();
        folder.put("index.html", b"one").unwrap();
        folder.put("a/index.html", b"changed").unwrap();
        assert_eq!(folder.finish().unwrap(), Changes { written: 1, unchanged: 1, removed: 0 });
        assert_eq!(mtime(&site.join("index.html")), index);
        assert_eq!(mtime(&site.join(MARKER)), marker, "the same list of files: the marker is kept");
        assert_eq!(fs::read(site.join("a/index.html")).unwrap(), b"changed");
    }

    #[test]
    fn files_no_longer_written_are_removed_with_their_empty_folder_and_others_stay() {
        let dir = tempfile::tempdir().unwrap();
        let mut folder = SiteFolder::open(dir.path()).unwrap();
        folder.put("old/index.html", b"x").unwrap();
        folder.put("index.html", b"x").unwrap();
        folder.finish().unwrap();
        fs::write(dir.path().join("CNAME"), "news.example.org").unwrap();
        let mut folder = SiteFolder::open(dir.path()).unwrap();
        folder.put("index.html", b"x").unwrap();
        assert_eq!(folder.finish().unwrap().removed, 1);
        assert!(!dir.path().join("old").exists());
        assert!(dir.path().join("CNAME").exists(), "the user's own file stays");
    }

    #[test]
    fn a_folder_of_someone_elses_a_file_not_ours_and_links_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        assert!(matches!(SiteFolder::open(dir.path()), Err(FolderError::NotOurs { .. })));

        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let mut folder = SiteFolder::open(dir.path()).unwrap();
        folder.put("index.html", b"x").unwrap();
        folder.finish().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("f"), dir.path().join("f.html")).unwrap();
        fs::write(dir.path().join("theirs.html"), "mine").unwrap();
        let mut folder = SiteFolder::open(dir.path()).unwrap();
        assert!(matches!(folder.put("linked/index.html", b"x"), Err(FolderError::Symlink { .. })));
        assert!(matches!(folder.put("f.html", b"x"), Err(FolderError::Symlink { .. })));
        assert!(matches!(folder.put("theirs.html", b"x"), Err(FolderError::Exists { .. })));
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0, "nothing written outside");
        assert_eq!(fs::read(dir.path().join("theirs.html")).unwrap(), b"mine");
    }
}
