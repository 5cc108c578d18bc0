//! A small fluent harness for driving the real `bulletin` binary: a fresh
//! temporary folder per test, files written into it, settings given
//! explicitly, and the developer's own environment kept out.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use tempfile::TempDir;

/// The settings the binary reads. Every one is removed from the child's
/// environment unless a test sets it, so nothing leaks in from the shell.
pub use bulletin::config::KEYS as SETTING_KEYS;

/// The sample rows that are subscribed, valid, not duplicates and not
/// suppressed, in file order.
pub const SAMPLE_RECIPIENTS: [&str; 15] = [
    "ana.silva@example.org",
    "jose.nunez@example.com",
    "grace.okafor@example.org",
    "tom.obrien@example.com",
    "lan.nguyen@example.com",
    "siobhan@example.org",
    "m.weber@example.com",
    "priya.raman@example.org",
    "sam.taylor@example.org",
    "hannah.lee@example.com",
    "peter.müller@example.org",
    "li.wei@example.org",
    "maria.garcia@example.com",
    "fatima.haddad@example.com",
    "emily.clarke@example.com",
];

/// Where the sample bulletin and list live, relative to the repository and
/// to a test folder made by [`Test::with_sample`].
pub const SAMPLE_BULLETIN: &str = "content/ijm-prayer-requests.md";
pub const SAMPLE_SUBSCRIBERS: &str = "subscribers/subscribers.csv";
pub const SAMPLE_SUPPRESSED: &str = "subscribers/suppressed.csv";
/// The sample's images: the bulletin's photo and `.env.example`'s `LOGO`.
pub const SAMPLE_IMAGES: [&str; 2] = ["content/images/dawn.jpg", "content/images/logo.png"];
pub const SAMPLE_LOGO: &str = "content/images/logo.png";

/// The sample's subject, as a reader's mail program shows it.
pub const SAMPLE_SUBJECT: &str = "IJM Prayer Requests — “You, LORD, will keep the needy safe”";

/// A minimal valid bulletin: front matter, then `body`.
pub fn bulletin(body: &str) -> String {
    bulletin_with("", body)
}

/// A bulletin whose front matter has `extra` lines (ending in a newline)
/// after the required keys. The front matter takes lines 1 to 5 plus the
/// extra lines; the body starts on the line after a blank line.
pub fn bulletin_with(extra: &str, body: &str) -> String {
    format!(
        "+++\nsubject = \"Hello {{{{ first_name | default(\\\"friend\\\") }}}}\"\npreheader = \"This week\"\ndate = 2025-10-16\n{extra}+++\n\n{body}"
    )
}

/// The file, in a test's folder, that holds how far the test clock is
/// ahead of the machine's.
const TEST_CLOCK: &str = ".test-clock";

/// One test's folder and settings.
pub struct Test {
    dir: TempDir,
    env: Vec<(OsString, OsString)>,
}

impl Test {
    /// An empty folder and no settings at all.
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("cannot make a temporary folder"), env: Vec::new() }
    }

    /// A folder holding a copy of the repository's sample bulletin and
    /// list, at the same relative paths (so the command's defaults find them).
    pub fn with_sample() -> Self {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut test = Self::new();
        for path in [SAMPLE_BULLETIN, SAMPLE_SUBSCRIBERS, SAMPLE_SUPPRESSED] {
            let bytes = fs::read(repo.join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
            test = test.file(path, bytes);
        }
        // The sample's photo and logo (content/images/), beside it as in the repository.
        for path in SAMPLE_IMAGES {
            let bytes = fs::read(repo.join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
            test = test.file(path, bytes);
        }
        test
    }

    /// Writes `contents` to `path` (relative to the folder), making folders.
    pub fn file(self, path: &str, contents: impl AsRef<[u8]>) -> Self {
        let full = self.dir.path().join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent).unwrap_or_else(|e| panic!("cannot make {}: {e}", parent.display()));
        }
        fs::write(&full, contents).unwrap_or_else(|e| panic!("cannot write {}: {e}", full.display()));
        self
    }

    /// Sets an environment variable for every run.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets (or changes: the last value given wins) an environment
    /// variable for every later run.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.push((key.into(), value.into()));
    }

    /// Gives every later run (and every server started after this) the
    /// test clock, so [`Test::set_clock_ahead`] can move their "now".
    pub fn with_test_clock(self) -> Self {
        let file = self.join(TEST_CLOCK);
        fs::write(&file, "0").unwrap();
        self.env("BULLETIN_TEST_CLOCK_FILE", file.to_str().unwrap())
    }

    /// Moves the clock of every run and running server that has the test
    /// clock to `seconds` after the machine's (read at each reading of the
    /// clock): a test's way past a deadline, instead of a sleep.
    pub fn set_clock_ahead(&self, seconds: f64) {
        assert!(self.env.iter().any(|(k, _)| k == "BULLETIN_TEST_CLOCK_FILE"), "call with_test_clock first");
        let file = self.join(TEST_CLOCK);
        let temp = self.join(".test-clock.new");
        fs::write(&temp, seconds.to_string()).unwrap();
        fs::rename(temp, file).unwrap();
    }

    /// The test's folder, the binary's working directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `path` inside the test's folder.
    pub fn join(&self, path: &str) -> PathBuf {
        self.dir.path().join(path)
    }

    /// The command, ready to run in the test's folder with only the
    /// settings this test gave.
    pub fn command(&self, args: &[&str]) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.std_command(args))
    }

    /// [`Test::command`] as a plain [`std::process::Command`], for runs a
    /// test starts in the background and stops (or signals) itself.
    pub fn std_command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_bulletin"));
        cmd.current_dir(self.dir.path()).env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        for key in SETTING_KEYS {
            cmd.env_remove(key);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.args(args);
        cmd
    }

    /// Runs the binary with `args` and collects what it did.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("cannot run bulletin");
        Run {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }

    /// The `.eml` files in `dir` (relative to the folder), parsed.
    pub fn emls(&self, dir: &str) -> Vec<Eml> {
        emls_in(&self.join(dir))
    }

    /// Every file under the test folder, recursively, with its bytes.
    pub fn all_files(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
            for entry in fs::read_dir(dir).expect("cannot list folder") {
                let path = entry.expect("cannot read folder entry").path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    let bytes = fs::read(&path).expect("cannot read file");
                    out.insert(path, bytes);
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(self.path(), &mut out);
        out
    }

    /// The names of the files in `dir` (relative to the folder), sorted;
    /// empty when it does not exist.
    pub fn file_names(&self, dir: &str) -> Vec<String> {
        let Ok(entries) = fs::read_dir(self.join(dir)) else { return Vec::new() };
        let mut names: Vec<String> = entries
            .map(|e| e.expect("cannot read folder entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing everything the run printed if not.
    #[track_caller]
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(
            self.code,
            Some(expected),
            "exit code of `bulletin {}`\n{}",
            self.args.join(" "),
            self.printed()
        );
        self
    }

    /// Asserts standard output contains `needle`.
    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Self {
        assert!(self.stdout.contains(needle), "stdout lacks {needle:?}\n{}", self.printed());
        self
    }

    /// Asserts standard error contains `needle`.
    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Self {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}\n{}", self.printed());
        self
    }

    /// Asserts standard error does not contain `needle`.
    #[track_caller]
    pub fn stderr_lacks(self, needle: &str) -> Self {
        assert!(!self.stderr.contains(needle), "stderr has {needle:?}\n{}", self.printed());
        self
    }

    /// The lines of standard error that start with `error: `.
    pub fn error_lines(&self) -> Vec<&str> {
        self.stderr.lines().filter(|l| l.starts_with("error: ")).collect()
    }

    /// Both streams, labelled, for assertion messages.
    pub fn printed(&self) -> String {
        let mut out = String::new();
        let _ = write!(out, "--- stdout\n{}--- stderr\n{}---", self.stdout, self.stderr);
        out
    }
}

/// One `.eml` file: its name and bytes, parsed on demand.
#[derive(Debug, Clone)]
pub struct Eml {
    pub name: String,
    pub raw: Vec<u8>,
}

/// The `.eml` files in `dir`, in name order.
pub fn emls_in(dir: &Path) -> Vec<Eml> {
    let mut emls: Vec<Eml> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("cannot read folder entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|path| Eml {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            raw: fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display())),
        })
        .collect();
    emls.sort_by(|a, b| a.name.cmp(&b.name));
    emls
}

impl Eml {
    /// The parsed message; panics if it does not parse.
    pub fn parse(&self) -> Message<'_> {
        MessageParser::default().parse(&self.raw).unwrap_or_else(|| panic!("{} does not parse", self.name))
    }

    /// The raw header block (everything before the first blank line).
    pub fn raw_headers(&self) -> &[u8] {
        let end = self.raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a blank line ends the headers");
        &self.raw[..end + 2]
    }

    /// Every top-level header field as `(name, unfolded raw value)`, in order.
    pub fn header_fields(&self) -> Vec<(String, String)> {
        let text = std::str::from_utf8(self.raw_headers()).expect("headers are UTF-8");
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in text.split("\r\n").filter(|l| !l.is_empty()) {
            if line.starts_with([' ', '\t']) {
                let last = fields.last_mut().expect("a continuation line follows a field");
                last.1.push(' ');
                last.1.push_str(line.trim());
            } else {
                let (name, value) =
                    line.split_once(':').unwrap_or_else(|| panic!("{}: bad header line {line:?}", self.name));
                fields.push((name.to_owned(), value.trim().to_owned()));
            }
        }
        fields
    }

    /// The unfolded raw value of header `name` (any case), if present once.
    #[track_caller]
    pub fn header(&self, name: &str) -> Option<String> {
        let found: Vec<String> = self
            .header_fields()
            .into_iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .collect();
        assert!(found.len() <= 1, "{}: header {name} appears {} times", self.name, found.len());
        found.into_iter().next()
    }

    /// The address the message is to.
    pub fn to_address(&self) -> String {
        let message = self.parse();
        let to = message.to().and_then(|a| a.first()).unwrap_or_else(|| panic!("{}: no To", self.name));
        to.address().expect("To has an address").to_owned()
    }

    /// The decoded plaintext part, with the CRLF line ends MIME requires
    /// turned back into `\n`.
    pub fn text(&self) -> String {
        self.part_text("plain").replace("\r\n", "\n")
    }

    /// The decoded HTML part, line ends as in [`Eml::text`].
    pub fn html(&self) -> String {
        self.part_text("html").replace("\r\n", "\n")
    }

    fn part_text(&self, subtype: &str) -> String {
        let message = self.parse();
        let part = message
            .parts
            .iter()
            .find(|p| {
                p.content_type().is_some_and(|ct| ct.ctype() == "text" && ct.subtype() == Some(subtype))
            })
            .unwrap_or_else(|| panic!("{}: no text/{subtype} part", self.name));
        match &part.body {
            PartType::Text(text) | PartType::Html(text) => text.to_string(),
            other => panic!("{}: text/{subtype} is not text: {other:?}", self.name),
        }
    }

    /// The raw message without its `Date:` field (and any continuation).
    pub fn without_date(&self) -> Vec<u8> {
        let text = String::from_utf8_lossy(&self.raw);
        let mut out = String::new();
        let mut in_date = false;
        for line in text.split_inclusive("\r\n") {
            if line.starts_with("Date:") {
                in_date = true;
                continue;
            }
            if in_date && line.starts_with([' ', '\t']) {
                continue;
            }
            in_date = false;
            out.push_str(line);
        }
        out.into_bytes()
    }
}

/// All the text of an HTML document, white space collapsed, as a reader
/// would see it.
pub fn visible_text(html: &str) -> String {
    let document = scraper::Html::parse_document(html);
    let body = scraper::Selector::parse("body").expect("valid selector");
    let root = document.select(&body).next().unwrap_or_else(|| document.root_element());
    collapse(&root.text().collect::<String>())
}

/// `text` with every run of white space made one space.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
