//! The newsletter folder: the folder holding `.env` and `content/` (and
//! `subscribers/`, the `.bulletin` journal, `out/`, `preview/`), made by
//! `bulletin init`. Every command finds it from the current folder or one
//! above it, as git finds its repository, or is told it with `--dir`; the
//! default paths (`.env`, `subscribers/subscribers.csv`, `.bulletin`,
//! `preview`) are inside it.

use std::path::{Path, PathBuf};

/// What to tell someone outside any newsletter folder.
pub const HOW_TO_MAKE_ONE: &str = "there is no newsletter folder (one holding .env or content/) here or above; \
     make one with `bulletin init`, or name one with --dir";

/// A folder holding `.env` or `content/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsletterFolder(PathBuf);

/// Why `--dir` cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("--dir {}: {why}", path.display())]
pub struct FolderError {
    pub path: PathBuf,
    pub why: &'static str,
}

impl NewsletterFolder {
    /// Whether `dir` holds `.env` or `content/`.
    pub fn is_one(dir: &Path) -> bool {
        dir.join(".env").is_file() || dir.join("content").is_dir()
    }

    /// The nearest newsletter folder at or above `start` (an absolute path).
    pub fn find(start: &Path) -> Option<Self> {
        start.ancestors().find(|dir| Self::is_one(dir)).map(|dir| Self(dir.to_owned()))
    }

    /// The folder `--dir` names: it must be a folder, and is taken as the
    /// newsletter folder even before it holds anything.
    pub fn given(path: &Path) -> Result<Self, FolderError> {
        if !path.is_dir() {
            return Err(FolderError { path: path.to_owned(), why: "no such folder" });
        }
        Ok(Self(path.to_owned()))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn the_nearest_folder_with_env_or_content_is_found_from_below() {
        let tmp = tempfile::tempdir().unwrap();
        let outer = tmp.path().join("outer");
        fs::create_dir_all(outer.join("content/2025/drafts")).unwrap();
        assert_eq!(NewsletterFolder::find(&outer.join("content/2025/drafts")).unwrap().path(), outer);
        let inner = outer.join("inner");
        fs::create_dir_all(inner.join("deep")).unwrap();
        fs::write(inner.join(".env"), "").unwrap();
        assert_eq!(NewsletterFolder::find(&inner.join("deep")).unwrap().path(), inner);
        assert_eq!(NewsletterFolder::find(&outer).unwrap().path(), outer);
    }

    #[test]
    fn a_file_named_content_or_a_folder_named_env_is_not_a_newsletter_folder() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("content"), "").unwrap();
        fs::create_dir(tmp.path().join(".env")).unwrap();
        assert!(!NewsletterFolder::is_one(tmp.path()));
    }

    #[test]
    fn dir_must_name_a_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let error = NewsletterFolder::given(&tmp.path().join("missing")).unwrap_err();
        assert!(error.to_string().contains("no such folder"), "{error}");
        assert!(NewsletterFolder::given(tmp.path()).is_ok());
    }
}
