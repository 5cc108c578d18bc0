//! A newsletter of one's own: `bulletin` installed with the README's
//! command, `init` making a newsletter folder, `new` starting this week's
//! bulletin (from the last one, or from a plain-text one), the shell's
//! conventions (completions, man page, version) and finding the folder from
//! anywhere inside it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use bulletin::content::{Block, Bulletin, Inline, markdown::plain_text};
use bulletin::merge::{Segment, Template};

use crate::util::{Test, bulletin_with};

/// The user's plain-text bulletin, as they wrote it (a copy of the seed it
/// came from, so a clean clone has it).
const PLAIN_TEXT: &str = "tests/fixtures/plain_text/ijm-prayer-requests.txt";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The files in `dir`, recursively, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The one `.md` file in `content/` other than those named.
fn new_bulletin(test: &Test, old: &[&str]) -> PathBuf {
    let made: Vec<String> =
        test.file_names("content").into_iter().filter(|n| !old.contains(&n.as_str())).collect();
    assert_eq!(made.len(), 1, "one new bulletin: {made:?}");
    test.join("content").join(&made[0])
}

fn secret_of(env: &str) -> String {
    let line = env.lines().find(|l| l.starts_with("UNSUBSCRIBE_SECRET=")).expect("a secret line");
    line["UNSUBSCRIBE_SECRET=".len()..].trim_matches('"').to_owned()
}

#[test]
fn init_makes_a_newsletter_folder_with_a_private_env_and_a_fresh_secret() {
    let test = Test::new();
    let run = test.run(&["init"]).code(0);
    assert_eq!(
        files_under(test.path()),
        [".env", ".gitignore", "README.md", "content/welcome.md", "subscribers/subscribers.csv"]
    );
    // The next three commands.
    for next in ["bulletin new", "bulletin preview", "bulletin send"] {
        assert!(run.stdout.contains(next), "stdout lacks {next:?}\n{}", run.printed());
    }
    let mode = fs::metadata(test.join(".env")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    let env = fs::read_to_string(test.join(".env")).unwrap();
    let secret = secret_of(&env);
    assert!(secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()), "{secret:?}");
    assert!(!run.stdout.contains(&secret) && !run.stderr.contains(&secret), "the secret is never printed");
    // Every setting documented, with the secret filled in.
    assert!(env.contains("\nFROM_EMAIL="), "{env}");
    let ignored = fs::read_to_string(test.join(".gitignore")).unwrap();
    for entry in [".env", ".bulletin/", "out/", "preview/", "site/"] {
        assert!(ignored.lines().any(|l| l == entry), "{entry} is not ignored:\n{ignored}");
    }
    let list = fs::read_to_string(test.join("subscribers/subscribers.csv")).unwrap();
    assert_eq!(list.lines().count(), 2, "a header and one example row:\n{list}");
    assert!(list.starts_with("email,"), "{list}");

    // A second folder gets a different secret.
    let other = Test::new();
    other.run(&["init"]).code(0);
    assert_ne!(secret_of(&fs::read_to_string(other.join(".env")).unwrap()), secret);

    // What init made dry-runs; check names the settings still to fill in
    // (see first_newsletter.rs).
    test.run(&["check", "content/welcome.md"]).code(1).stdout_has("error: setting ORG_NAME is empty");
    test.run(&["send", "content/welcome.md", "--dry-run"]).code(0);
}

#[test]
fn init_into_an_existing_folder_refuses_and_lists_what_exists_unless_forced() {
    let test = Test::new().file(".env", "ORG_NAME=Mine\n").file("content/mine.md", "mine");
    let run = test.run(&["init"]).code(2);
    assert!(run.stderr.contains(".env") && run.stderr.contains("content"), "{}", run.printed());
    assert!(run.stderr.contains("--force"), "{}", run.printed());
    assert_eq!(fs::read_to_string(test.join(".env")).unwrap(), "ORG_NAME=Mine\n", "nothing overwritten");
    assert_eq!(files_under(test.path()), [".env", "content/mine.md"], "nothing written at all");

    let test = test.file("subscribers/subscribers.csv", "email\nreal.supporter@example.org\n");
    let run = test.run(&["init", "--force"]).code(0);
    // Settings (with the secret every sent unsubscribe link is signed with)
    // and the list are the newsletter's own: --force never replaces them.
    assert_eq!(fs::read_to_string(test.join(".env")).unwrap(), "ORG_NAME=Mine\n", "{}", run.printed());
    assert_eq!(
        fs::read_to_string(test.join("subscribers/subscribers.csv")).unwrap(),
        "email\nreal.supporter@example.org\n"
    );
    assert!(run.stdout.contains("kept .env"), "{}", run.printed());
    assert!(test.join("content/welcome.md").exists());
    assert!(test.join("content/mine.md").exists(), "--force replaces init's own files only");
    let ignored = fs::read_to_string(test.join(".gitignore")).unwrap();
    for entry in ["keys/", "subscribers/"] {
        assert!(ignored.lines().any(|l| l == entry), "{entry} is not ignored:\n{ignored}");
    }

    // Into a named folder, made if missing.
    let test = Test::new();
    test.run(&["init", "news"]).code(0);
    assert!(test.join("news/.env").exists() && test.join("news/content/welcome.md").exists());
}

/// Issue 23, row 10: init wrote through a `.env` or `README.md` that was a
/// symbolic link to a file elsewhere: the new secret into a file outside
/// the folder, or (with `--force`) over an outside file.
#[test]
fn init_refuses_to_write_through_a_symbolic_link_with_or_without_force_and_names_it() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    for (link, force, target_exists) in [
        (".env", false, false),
        ("README.md", true, true),
        ("content", true, true),
        (".gitignore", false, false),
    ] {
        let test = Test::new();
        let target = outside.path().join(format!("target-of-{}", link.trim_start_matches('.')));
        if target_exists {
            if link == "content" {
                fs::create_dir_all(&target).unwrap();
            } else {
                fs::write(&target, "mine\n").unwrap();
            }
        }
        symlink(&target, test.join(link)).unwrap();
        let args: &[&str] = if force { &["init", "--force", "--yes"] } else { &["init", "--yes"] };
        let run = test.run(args).code(2);
        let said = run.printed();
        assert!(said.contains(&format!("{link} is a symbolic link")), "{link}: {said}");
        // A link to a folder is walked into: it shows nothing of its own.
        let expected: &[&str] = if link == "content" { &[] } else { &[link] };
        assert_eq!(files_under(test.path()), expected, "{link}: nothing written: {said}");
        match (target_exists, link) {
            (false, _) => assert!(!target.exists(), "{link}: {} was made", target.display()),
            (true, "content") => assert_eq!(files_under(&target), Vec::<String>::new(), "{link}"),
            (true, _) => assert_eq!(fs::read_to_string(&target).unwrap(), "mine\n", "{link}"),
        }
    }
}

#[test]
fn new_after_two_bulletins_copies_the_most_recent_ones_front_matter_and_headings() {
    let test = Test::new()
        .file(
            "content/zz-old.md",
            bulletin_with("title = \"Old\"\n", "## Old section\n\n- an old item\n")
                .replace("date = 2025-10-16", "date = 2025-10-09"),
        )
        .file(
            "content/2025-10-16-latest.md",
            bulletin_with(
                "title = \"Weekly prayer\"\n",
                "Dear friends.\n\n## Africa\n\n- a long item\n- another\n\n## Asia\n\n- one more\n",
            ),
        )
        .file("subscribers/subscribers.csv", "email,first_name\nana@example.org,Ana\n");
    let run = test.run(&["new", "--date", "2025-10-23"]).code(0);
    let made = new_bulletin(&test, &["zz-old.md", "2025-10-16-latest.md"]);
    assert!(made.file_name().unwrap().to_str().unwrap().starts_with("2025-10-23-"), "{}", made.display());
    assert!(run.stdout.contains("--serve"), "the next command:\n{}", run.printed());
    let text = fs::read_to_string(&made).unwrap();
    let parsed = Bulletin::parse(&made, &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(parsed.date.to_string(), "2025-10-23");
    assert_eq!(parsed.title.as_ref().map(text_of).as_deref(), Some("Weekly prayer"), "{text}");
    assert_eq!(headings(&parsed.blocks), ["Africa", "Asia"]);
    assert!(!text.contains("a long item") && !text.contains("one more"), "items are emptied:\n{text}");

    // It never overwrites: the same date and title again is refused.
    let before = fs::read(&made).unwrap();
    test.run(&["new", "--date", "2025-10-23"]).code(2).stderr_has("already exists");
    assert_eq!(fs::read(&made).unwrap(), before);

    // A title names the file and the heading.
    test.run(&["new", "Harvest special", "--date", "2025-10-30"]).code(0);
    let harvest = test.join("content/2025-10-30-harvest-special.md");
    assert!(fs::read_to_string(harvest).unwrap().contains("title = \"Harvest special\""));
}

#[test]
fn new_without_a_bulletin_writes_a_starter_that_parses() {
    let test = Test::new();
    test.run(&["init"]).code(0);
    fs::remove_file(test.join("content/welcome.md")).unwrap();
    test.run(&["new", "First issue", "--date", "2026-01-08"]).code(0);
    let made = test.join("content/2026-01-08-first-issue.md");
    let text = fs::read_to_string(&made).unwrap();
    Bulletin::parse(&made, &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
}

/// A front matter value's text, merge fields as `{{ name }}`.
fn text_of(template: &Template) -> String {
    template
        .0
        .iter()
        .map(|s| match s {
            Segment::Literal(l) => l.clone(),
            Segment::Field(f) => format!("{{{{ {} }}}}", f.name),
        })
        .collect()
}

fn headings(blocks: &[Block]) -> Vec<String> {
    blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level: 2, content } => Some(plain_text(content)),
            _ => None,
        })
        .collect()
}

/// The parts of a bulletin the plain text has: its quote and attribution,
/// its `##` sections, its list items and the HQ paragraph.
#[derive(Debug, PartialEq)]
struct Shape {
    title: Option<String>,
    quotes: Vec<(String, Option<String>)>,
    headings: Vec<String>,
    items: Vec<String>,
    hq_paragraph: bool,
}

fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn shape(bulletin: &Bulletin) -> Shape {
    fn blocks_text(blocks: &[Block]) -> String {
        blocks
            .iter()
            .map(|b| match b {
                Block::Paragraph { content, .. } => plain_text(content),
                _ => String::new(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
    let mut shape = Shape {
        title: bulletin.title.as_ref().map(text_of),
        quotes: Vec::new(),
        headings: headings(&bulletin.blocks),
        items: Vec::new(),
        hq_paragraph: false,
    };
    for block in &bulletin.blocks {
        match block {
            Block::Quote { body, attribution } => shape
                .quotes
                .push((words(&blocks_text(body)), attribution.as_ref().map(|a| words(&plain_text(a))))),
            Block::List { items, .. } => shape.items.extend(items.iter().map(|i| words(&blocks_text(i)))),
            Block::Paragraph { content, .. } => {
                shape.hq_paragraph |= plain_text(content).starts_with("IJM has partner offices in Australia")
            }
            _ => {}
        }
    }
    shape
}

/// Every word of a bulletin's title and body, in order, without list
/// bullets or the attribution's dash.
fn all_words(bulletin: &Bulletin) -> Vec<String> {
    fn inlines(content: &[Inline], out: &mut Vec<String>) {
        out.extend(plain_text(content).split_whitespace().map(str::to_owned));
    }
    fn blocks(list: &[Block], out: &mut Vec<String>) {
        for block in list {
            match block {
                Block::Heading { content, .. } | Block::Paragraph { content, .. } => inlines(content, out),
                Block::List { items, .. } => items.iter().for_each(|i| blocks(i, out)),
                Block::Quote { body, attribution } => {
                    blocks(body, out);
                    if let Some(a) = attribution {
                        inlines(a, out);
                    }
                }
                Block::Code(text) => out.extend(text.split_whitespace().map(str::to_owned)),
                Block::Rule | Block::Button { .. } => {}
            }
        }
    }
    let mut out: Vec<String> = bulletin.title.iter().map(text_of).collect();
    out = out.iter().flat_map(|t| t.split_whitespace()).map(str::to_owned).collect();
    blocks(&bulletin.blocks, &mut out);
    out
}

#[test]
fn new_from_a_plain_text_bulletin_matches_the_shipped_samples_structure_word_for_word() {
    let seed = fs::read_to_string(repo().join(PLAIN_TEXT)).unwrap();
    let test = Test::new().file("content/.keep", "").file("last-week.txt", &seed);
    let run = test.run(&["new", "--from", "last-week.txt", "--date", "2025-10-16"]).code(0);
    let made = test.join("content/2025-10-16-ijm-prayer-requests.md");
    assert!(run.stdout.contains("2025-10-16-ijm-prayer-requests.md"), "{}", run.printed());
    let text = fs::read_to_string(&made).unwrap_or_else(|e| panic!("{e}\n{}", run.printed()));
    let converted = Bulletin::parse(&made, &text).unwrap_or_else(|e| panic!("{e}\n{text}"));

    let sample_path = repo().join("content/ijm-prayer-requests.md");
    let sample = Bulletin::parse(&sample_path, &fs::read_to_string(&sample_path).unwrap()).unwrap();
    let (got, want) = (shape(&converted), shape(&sample));
    pretty_assertions::assert_eq!(got, want);
    assert_eq!(got.quotes.len(), 1);
    assert_eq!(got.headings.len(), 4);
    assert_eq!(got.items.len(), 5);
    assert!(got.hq_paragraph);

    let seed_words: Vec<String> =
        seed.split_whitespace().filter(|w| !["•", "—"].contains(w)).map(str::to_owned).collect();
    pretty_assertions::assert_eq!(all_words(&converted), seed_words);
}

#[test]
fn new_from_plain_text_reports_the_lines_it_was_unsure_about() {
    let test = Test::new().file("content/.keep", "").file(
        "odd.txt",
        "Weekly news\n\n“A verse with no reference.”\n\nAfrica\n\n  • An item.\n\n* A star item?\n",
    );
    let run = test.run(&["new", "--from", "odd.txt", "--date", "2025-10-16"]).code(0);
    assert!(run.stderr.contains("odd.txt:3:"), "the quote without a reference\n{}", run.printed());
    assert!(run.stderr.contains("odd.txt:9:"), "the star item\n{}", run.printed());
}

/// Whether `text` holds a control character other than a line break or a
/// tab: C0, DEL or C1, as a terminal would act on.
fn has_control(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// Issue 23, row 11: a title holding ESC/BEL sequences went into the front
/// matter, `check`'s output (setting the terminal's title) and the Subject.
#[test]
fn control_characters_in_a_plain_text_title_never_reach_the_bulletin_the_terminal_or_the_subject() {
    let hostile = "Prayer \u{1b}]0;owned\u{7}news \u{1b}[31mtoday\u{1b}[0m\u{9b}2J\u{7f}";
    let test = Test::new()
        .file("content/.keep", "")
        .file("subscribers/subscribers.csv", "email,first_name\nana@example.org,Ana\n")
        .file("hostile.txt", format!("{hostile}\n\nA word \u{1b}[2Jfor the week.\n"));
    let run = test.run(&["new", "--from", "hostile.txt", "--date", "2025-10-16"]).code(0);
    assert!(!has_control(&run.printed()), "{:?}", run.printed());
    let made = test.join("content/2025-10-16-prayer-news-today.md");
    let text = fs::read_to_string(&made).unwrap_or_else(|e| panic!("{e}\n{}", run.printed()));
    assert!(!has_control(&text) && !text.contains("\\u001B") && !text.contains("\\u0007"), "{text:?}");
    assert!(text.contains("subject = \"Prayer news today\""), "{text}");

    let check = test.run(&["check", "content/2025-10-16-prayer-news-today.md"]);
    assert!(!has_control(&check.printed()), "{:?}", check.printed());
    test.run(&["send", "content/2025-10-16-prayer-news-today.md", "--dry-run", "--out", "out"]).code(0);
    let subject = test.emls("out")[0].parse().subject().unwrap_or_default().to_owned();
    assert_eq!(subject, "Prayer news today");
}

/// Issue 23, row 11: a bulletin written by hand with control characters in
/// its front matter is refused, naming the file, the line and the key.
#[test]
fn a_control_character_in_the_subject_is_refused_by_check_and_send_naming_its_line_and_key() {
    let test = Test::new()
        .file("subscribers/subscribers.csv", "email,first_name\nana@example.org,Ana\n")
        .file(
            "news.md",
            "+++\nsubject = \"Hi \\u001B]0;owned\\u0007\"\npreheader = \"This week\"\ndate = 2025-10-16\n+++\n\nHello.\n",
        )
        .file("title.md", bulletin_with("title = \"Hi \\u001B[2J\"\n", "Hello."));
    for (file, line, key) in [("news.md", 2, "subject"), ("title.md", 5, "title")] {
        let check = test.run(&["check", file]);
        let said = check.printed();
        assert!(!has_control(&said), "{said:?}");
        assert!(
            said.contains(&format!("{file}:{line}: `{key}` holds the control character U+001B")),
            "{said}"
        );
        let send = test.run(&["send", file, "--dry-run", "--out", "out"]).code(2);
        assert!(!has_control(&send.printed()), "{:?}", send.printed());
        assert!(!test.join("out").exists(), "nothing made for {file}");
    }
}

#[test]
fn completions_for_each_shell_and_the_man_page_are_made() {
    let test = Test::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = test.run(&["completions", shell]).code(0);
        assert!(run.stdout.contains("bulletin") && run.stdout.len() > 1000, "{shell}: {}", run.printed());
    }
    let run = test.run(&["completions", "bash"]).code(0);
    fs::write(test.join("bulletin.bash"), &run.stdout).unwrap();
    let check = Command::new("bash").arg("-n").arg(test.join("bulletin.bash")).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));

    let run = test.run(&["man"]).code(0);
    assert!(run.stdout.starts_with(".ie") || run.stdout.contains(".TH"), "{}", run.printed());
    assert!(run.stdout.contains("init") && run.stdout.contains("send"));
    test.run(&["man", "bulletin.1"]).code(0);
    assert!(fs::read_to_string(test.join("bulletin.1")).unwrap().contains(".TH"));
}

#[test]
fn version_shows_the_version_and_the_commit() {
    let run = Test::new().run(&["--version"]).code(0);
    let line = run.stdout.trim();
    assert!(line.starts_with(&format!("bulletin {} (", env!("CARGO_PKG_VERSION"))), "{line}");
    assert!(line.ends_with(')'), "{line}");
}

#[test]
fn a_command_run_from_a_subfolder_uses_the_newsletter_folders_settings_and_files() {
    let test = Test::new();
    test.run(&["init"]).code(0);
    let env = fs::read_to_string(test.join(".env")).unwrap();
    fs::write(test.join(".env"), env + "\nORG_NAME=\"Found From Below\"\n").unwrap();
    fs::create_dir_all(test.join("content/drafts")).unwrap();
    let mut command = test.command(&["send", "../welcome.md", "--dry-run", "--out", "dry"]);
    let output = command.current_dir(test.join("content/drafts")).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // The typed paths are where the user is; the settings are the folder's.
    let emls = crate::util::emls_in(&test.join("content/drafts/dry"));
    assert!(emls[0].text().contains("Found From Below"), "{}", emls[0].text());

    // What a command makes in the folder itself (`new`'s bulletin in
    // content/, `publish`'s site) is made there, whichever subfolder the
    // user is in, and the subfolder is left as it was.
    let from_below = |args: &[&str]| {
        let output = test.command(args).current_dir(test.join("content/drafts")).output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    from_below(&["new", "From Below", "--date", "2026-01-08"]);
    assert!(test.join("content/2026-01-08-from-below.md").is_file(), "new writes into the folder's content/");
    from_below(&["publish"]);
    assert!(test.join("site/index.html").is_file(), "publish writes the folder's site");
    let left: Vec<_> =
        fs::read_dir(test.join("content/drafts")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["dry"], "nothing but the typed --out is made where the user is");

    // --dir names the folder from anywhere; its defaults are inside it.
    let elsewhere = Test::new();
    let dir = test.path().to_str().unwrap();
    elsewhere.run(&["--dir", dir, "preview", "content/welcome.md"]).code(0);
    assert!(test.join("preview").is_dir(), "the preview is written in the newsletter folder");
    assert!(!elsewhere.join("preview").exists(), "and not where the command was run");

    // Outside any newsletter folder, `new` says how to make one.
    Test::new().run(&["new", "Hello"]).code(2).stderr_has("bulletin init");
}

/// The program as the README's install command leaves it: alone in a
/// `bin/` folder of its own, run from a fresh folder with nothing of the
/// source tree and an empty environment. The install command itself
/// (`cargo install --locked --path .`, a release build of several minutes)
/// is its own step in `.ci/run`, not a second build inside the suite.
#[test]
fn the_readme_install_command_gives_a_program_that_works_outside_the_source_tree() {
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let install = readme
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("cargo install ") && l.contains("--path ."))
        .expect("the README shows `cargo install --path .`");
    assert!(install.contains("--locked"), "the install uses the tested dependency versions: {install}");
    let ci = fs::read_to_string(repo().join(".ci/run")).unwrap();
    assert!(ci.contains("cargo install --locked --path ."), ".ci/run runs the README's install command");
    let root = tempfile::tempdir().unwrap();
    let program = root.path().join("bin/bulletin");
    fs::create_dir_all(program.parent().unwrap()).unwrap();
    // A hard link, not a copy: a copy is a file open for writing, and a
    // test on another thread that forks in that moment keeps it open in its
    // child until it execs, so running the copy can fail with "Text file
    // busy" (ETXTBSY). Where no link can be made (another file system),
    // the copy is run again while that lasts, a bounded number of times.
    if fs::hard_link(env!("CARGO_BIN_EXE_bulletin"), &program).is_err() {
        fs::copy(env!("CARGO_BIN_EXE_bulletin"), &program).unwrap();
    }

    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut attempts = 0;
        let output = loop {
            let started = Command::new(&program)
                .args(args)
                .current_dir(home.path())
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .output();
            match started {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempts < 50 => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                other => break other.unwrap(),
            }
        };
        let printed =
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "bulletin {args:?}\n{printed}");
        printed
    };
    run(&["init"]);
    run(&["new", "--from", repo().join(PLAIN_TEXT).to_str().unwrap(), "--date", "2025-10-16"]);
    let bulletin = "content/2025-10-16-ijm-prayer-requests.md";
    run(&["send", bulletin, "--dry-run", "--out", "out"]);
    assert!(home.path().join("out/index.html").exists());
    run(&["preview", bulletin]);
    assert!(fs::read_dir(home.path().join("preview")).unwrap().count() >= 3);
}
