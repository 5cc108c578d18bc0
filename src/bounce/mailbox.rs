//! Where bounce reports are read from: a Maildir (its `cur/` and `new/`
//! folders, as fetchmail, mbsync, getmail or a local delivery agent leave
//! them), an mbox file, a single message file (`.eml`), or a folder of
//! message files.
//!
//! mbox files are split by mail-parser's reader (a new message at each
//! line starting `From `, with `>From ` quoting undone). Maildirs and
//! folders are listed here rather than with mail-parser's Maildir reader,
//! which does not say which file it failed to read. Nothing is ever
//! changed or moved: reading the same mailbox again is safe.

use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

/// One message to read, or why it could not be.
#[derive(Debug)]
pub struct Item {
    /// Where it came from: a file, or an mbox file and the message's
    /// place in it.
    pub origin: String,
    pub bytes: Result<Vec<u8>, String>,
}

/// What a path holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Maildir(PathBuf),
    Mbox(PathBuf),
    Message(PathBuf),
    Folder(PathBuf),
}

impl Source {
    /// Looks at `path`: a folder with `cur` or `new` is a Maildir, another
    /// folder holds message files; a file starting `From ` is an mbox.
    /// Anything else (a pipe, a device) is an error.
    pub fn detect(path: &Path) -> io::Result<Self> {
        let meta = fs::metadata(path)?;
        if meta.is_dir() {
            let maildir = path.join("cur").is_dir() || path.join("new").is_dir();
            return Ok(if maildir { Self::Maildir(path.into()) } else { Self::Folder(path.into()) });
        }
        if !meta.is_file() {
            return Err(io::Error::other(NOT_A_FILE));
        }
        let mut start = [0u8; 5];
        let mut file = File::open(path)?;
        let read = read_up_to(&mut file, &mut start)?;
        Ok(if &start[..read] == b"From " { Self::Mbox(path.into()) } else { Self::Message(path.into()) })
    }

    /// What to call it in a summary.
    pub fn describe(&self) -> String {
        match self {
            Self::Maildir(p) => format!("Maildir {}", p.display()),
            Self::Mbox(p) => format!("mbox {}", p.display()),
            Self::Message(p) => p.display().to_string(),
            Self::Folder(p) => format!("folder {}", p.display()),
        }
    }

    /// Every message, in a stable order (file names sorted; mbox order).
    pub fn items(&self) -> Box<dyn Iterator<Item = Item>> {
        match self {
            Self::Message(path) => Box::new(std::iter::once(file_item(path))),
            Self::Folder(path) => Box::new(files_in(path).into_iter().flat_map(|entry| match entry {
                Ok(path) => match Source::detect(&path) {
                    Ok(Source::Mbox(p)) => Source::Mbox(p).items(),
                    _ => Box::new(std::iter::once(file_item(&path))),
                },
                Err(item) => Box::new(std::iter::once(item)),
            })),
            Self::Maildir(path) => Box::new(
                ["cur", "new"]
                    .into_iter()
                    .filter(|sub| path.join(sub).is_dir())
                    .flat_map(|sub| files_in(&path.join(sub)))
                    .map(|entry| entry.map_or_else(|item| item, |p| file_item(&p)))
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
            Self::Mbox(path) => mbox_items(path),
        }
    }
}

fn read_up_to(file: &mut File, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// The largest message file read: above what mail servers accept (25 to
/// 50 MB), so only something that is not a message is refused.
const MAX_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

fn file_item(path: &Path) -> Item {
    Item { origin: path.display().to_string(), bytes: read_message(path) }
}

/// A message file's bytes; never opens a pipe or device (which could wait
/// for ever or never end) nor reads a file too large to be a message.
fn read_message(path: &Path) -> Result<Vec<u8>, String> {
    let meta = fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err(NOT_A_FILE.to_owned());
    }
    if meta.len() > MAX_MESSAGE_BYTES {
        return Err(format!(
            "it is {} MB, larger than any mail message ({} MB at most), so not read",
            meta.len() / 1_000_000,
            MAX_MESSAGE_BYTES / 1_000_000
        ));
    }
    fs::read(path).map_err(|e| format!("cannot read it: {e}"))
}

const NOT_A_FILE: &str = "not a regular file (a pipe, device or socket), so not read";

/// The files (not folders, not hidden files) in `dir`, sorted by name;
/// an entry that cannot be looked at is an [`Item`] saying so.
fn files_in(dir: &Path) -> Vec<Result<PathBuf, Item>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            return vec![Err(Item {
                origin: dir.display().to_string(),
                bytes: Err(format!("cannot list it: {e}")),
            })];
        }
    };
    let mut found: Vec<Result<PathBuf, Item>> = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                found.push(Err(Item {
                    origin: dir.display().to_string(),
                    bytes: Err(format!("cannot list it: {e}")),
                }));
                continue;
            }
        };
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') || path.is_dir() {
            continue;
        }
        found.push(Ok(path));
    }
    found.sort_by(|a, b| match (a, b) {
        (Ok(a), Ok(b)) => a.cmp(b),
        (Err(_), Ok(_)) => std::cmp::Ordering::Less,
        (Ok(_), Err(_)) => std::cmp::Ordering::Greater,
        (Err(a), Err(b)) => a.origin.cmp(&b.origin),
    });
    found
}

fn mbox_items(path: &Path) -> Box<dyn Iterator<Item = Item>> {
    let name = path.display().to_string();
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) => {
            return Box::new(std::iter::once(Item {
                origin: name,
                bytes: Err(format!("cannot read it: {e}")),
            }));
        }
    };
    let messages = mail_parser::mailbox::mbox::MessageIterator::new(BufReader::new(file));
    let mut failed = false;
    Box::new(
        messages
            .enumerate()
            // A read error would repeat for ever: report it once and stop.
            .take_while(move |(_, m)| {
                let go_on = !failed;
                failed |= m.is_err();
                go_on
            })
            .map(move |(i, message)| Item {
                origin: format!("{name} (message {})", i + 1),
                bytes: message.map(|m| m.unwrap_contents()).map_err(|e| format!("cannot read it: {e}")),
            }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn contents(source: &Source) -> Vec<(String, String)> {
        source
            .items()
            .map(|item| {
                (
                    item.origin,
                    item.bytes.map_or_else(|e| format!("error: {e}"), |b| String::from_utf8(b).unwrap()),
                )
            })
            .collect()
    }

    #[test]
    fn a_maildir_is_read_from_cur_then_new_without_tmp_or_hidden_files() {
        let dir = tempfile::tempdir().unwrap();
        for (sub, name, text) in [
            ("cur", "2:2,S", "two"),
            ("cur", "1:2,S", "one"),
            ("new", "3", "three"),
            ("tmp", "4", "partial"),
            ("new", ".hidden", "x"),
        ] {
            fs::create_dir_all(dir.path().join(sub)).unwrap();
            fs::write(dir.path().join(sub).join(name), text).unwrap();
        }
        let source = Source::detect(dir.path()).unwrap();
        assert_eq!(source, Source::Maildir(dir.path().into()));
        let read: Vec<String> = contents(&source).into_iter().map(|(_, text)| text).collect();
        assert_eq!(read, ["one", "two", "three"]);
    }

    #[test]
    fn an_mbox_is_split_at_from_lines_and_unquoted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bounces.mbox");
        fs::write(
            &path,
            "From MAILER-DAEMON Thu Oct 16 14:02:13 2025\nSubject: one\n\n>From here on\n\n\
             From MAILER-DAEMON Thu Oct 16 14:03:13 2025\nSubject: two\n\nbody\n",
        )
        .unwrap();
        let source = Source::detect(&path).unwrap();
        assert_eq!(source, Source::Mbox(path.clone()));
        let read = contents(&source);
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].1, "Subject: one\n\nFrom here on\n\n");
        assert!(read[1].0.ends_with("bounces.mbox (message 2)"), "{read:?}");
    }

    #[test]
    fn a_folder_holds_messages_and_an_unreadable_entry_is_reported_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("b.eml"), "Subject: b\n\nb").unwrap();
        fs::write(dir.path().join("a.eml"), "Subject: a\n\na").unwrap();
        std::os::unix::fs::symlink(dir.path().join("missing"), dir.path().join("c.eml")).unwrap();
        let source = Source::detect(dir.path()).unwrap();
        assert_eq!(source, Source::Folder(dir.path().into()));
        let read = contents(&source);
        assert_eq!(read.len(), 3);
        assert!(read[0].1.contains("Subject: a") && read[1].1.contains("Subject: b"));
        assert!(read[2].0.ends_with("c.eml") && read[2].1.starts_with("error: cannot read it"), "{read:?}");
    }

    /// `source`'s contents, or `None` if reading them takes more than a few
    /// seconds (it hangs).
    fn contents_within_seconds(source: Source) -> Option<Vec<(String, String)>> {
        let (done, read) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(
                source
                    .items()
                    .map(|item| {
                        (
                            item.origin,
                            item.bytes.map_or_else(|e| format!("error: {e}"), |b| b.len().to_string()),
                        )
                    })
                    .collect::<Vec<_>>(),
            );
        });
        read.recv_timeout(std::time::Duration::from_secs(5)).ok()
    }

    fn mkfifo(path: &Path) {
        let made = std::process::Command::new("mkfifo").arg(path).status().unwrap();
        assert!(made.success());
    }

    #[test]
    fn a_pipe_among_the_messages_is_reported_instead_of_waited_on_for_ever() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.eml"), "Subject: a\n\na").unwrap();
        mkfifo(&dir.path().join("b.eml"));
        let read =
            contents_within_seconds(Source::detect(dir.path()).unwrap()).expect("reading hung on the pipe");
        assert_eq!(read.len(), 2, "{read:?}");
        assert!(read[1].0.ends_with("b.eml") && read[1].1.contains("not a regular file"), "{read:?}");

        let maildir = tempfile::tempdir().unwrap();
        fs::create_dir(maildir.path().join("new")).unwrap();
        mkfifo(&maildir.path().join("new").join("1"));
        let read = contents_within_seconds(Source::detect(maildir.path()).unwrap())
            .expect("reading hung on the pipe");
        assert!(read[0].1.contains("not a regular file"), "{read:?}");
    }

    #[test]
    fn a_pipe_given_as_the_path_is_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let pipe = dir.path().join("bounces");
        mkfifo(&pipe);
        let (done, detected) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(Source::detect(&pipe).map_err(|e| e.to_string()));
        });
        let detected =
            detected.recv_timeout(std::time::Duration::from_secs(5)).expect("detect hung on the pipe");
        assert!(detected.as_ref().is_err_and(|e| e.contains("not a regular file")), "{detected:?}");
    }

    #[test]
    fn a_message_file_far_larger_than_any_bounce_is_reported_not_read_into_memory() {
        let dir = tempfile::tempdir().unwrap();
        let huge = File::create(dir.path().join("huge.eml")).unwrap();
        huge.set_len(MAX_MESSAGE_BYTES + 1).unwrap();
        let read = contents(&Source::Message(dir.path().join("huge.eml")));
        assert!(read[0].1.contains("larger than"), "{:?}", &read[0].1[..read[0].1.len().min(200)]);
    }

    #[test]
    fn a_missing_path_is_an_error() {
        assert!(Source::detect(Path::new("/nonexistent/bounces")).is_err());
    }
}
