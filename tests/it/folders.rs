//! The folders bulletin writes into (a dry run's `--out`, `preview/`) never
//! write outside themselves: a symbolic link for the folder's marker or for
//! any file in it is refused, naming it, and whatever it points to is left
//! alone; a re-run removes only what an earlier run wrote. And the headers
//! of what they hold stay within RFC 5322's 998 octets a line, read back by
//! Python's own `email` parser.

use std::fs;
use std::os::unix::fs::symlink;
use std::process::Command;

use pretty_assertions::assert_eq;

use crate::util::{Run, SAMPLE_BULLETIN, Test, bulletin};

/// The bytes of the fake `.bashrc` in the test's home folder.
const BASHRC: &str = "export PS1='mine'\n";

/// The sample, and a home folder (outside every output folder) holding a
/// `.bashrc` a link might point to.
fn with_home() -> Test {
    Test::with_sample().file("home/.bashrc", BASHRC)
}

fn dry_run(test: &Test, out: &str) -> Run {
    test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", out])
}

/// The home folder is exactly as the test made it: the `.bashrc`, unchanged,
/// and nothing else.
#[track_caller]
fn home_untouched(test: &Test) {
    assert_eq!(fs::read_to_string(test.join("home/.bashrc")).unwrap(), BASHRC, ".bashrc was written");
    assert_eq!(test.file_names("home"), [".bashrc"], "a file was made outside the output folder");
}

#[track_caller]
fn refused_naming(run: &Run, path: &str) {
    assert!(
        run.error_lines().iter().any(|l| l.contains(path) && l.contains("symbolic link")),
        "no error naming {path} as a symbolic link:\n{}",
        run.printed()
    );
}

#[test]
fn a_marker_that_is_a_symbolic_link_is_refused_and_what_it_points_to_is_untouched() {
    let test = with_home();
    fs::create_dir(test.join("out")).unwrap();
    symlink(test.join("home/.bashrc"), test.join("out/.bulletin-output")).unwrap();
    let run = dry_run(&test, "out").code(2);
    refused_naming(&run, "out/.bulletin-output");
    home_untouched(&test);
    assert_eq!(test.file_names("out"), [".bulletin-output"], "nothing written into the folder");
}

#[test]
fn a_dangling_link_for_the_index_of_an_earlier_run_is_refused_and_creates_nothing() {
    let test = with_home();
    dry_run(&test, "out").code(0);
    fs::remove_file(test.join("out/index.html")).unwrap();
    symlink(test.join("home/index.html"), test.join("out/index.html")).unwrap();
    let run = dry_run(&test, "out").code(2);
    refused_naming(&run, "out/index.html");
    home_untouched(&test);
}

#[test]
fn a_link_where_a_message_will_be_written_is_refused_and_creates_nothing() {
    let two = "email,first_name\na@example.org,A\nb@example.org,B\n";
    let three = "email,first_name\na@example.org,A\nb@example.org,B\nc@example.org,C\n";
    let test = with_home().file("b.md", bulletin("Hello.\n")).file("two.csv", two).file("three.csv", three);
    let run = |list: &str| test.run(&["send", "b.md", "--subscribers", list, "--dry-run", "--out", "out"]);
    // A folder of ours (an earlier run's), with a dangling link named as
    // the next run's third message will be.
    run("two.csv").code(0);
    symlink(test.join("home/stolen.eml"), test.join("out/00003-c@example.org.eml")).unwrap();
    let refused = run("three.csv").code(2);
    refused_naming(&refused, "out/00003-c@example.org.eml");
    home_untouched(&test);
}

#[test]
fn a_link_in_the_preview_folder_is_refused_and_what_it_points_to_is_untouched() {
    let test = with_home();
    test.run(&["preview", SAMPLE_BULLETIN]).code(0);
    let names = test.file_names("preview");
    let eml = names.iter().find(|n| n.ends_with(".eml")).unwrap().clone();
    let html = names.iter().find(|n| n.ends_with(".html")).unwrap().clone();
    fs::remove_file(test.join("preview").join(&eml)).unwrap();
    symlink(test.join("home/new.eml"), test.join("preview").join(&eml)).unwrap();
    fs::remove_file(test.join("preview").join(&html)).unwrap();
    symlink(test.join("home/.bashrc"), test.join("preview").join(&html)).unwrap();
    let run = test.run(&["preview", SAMPLE_BULLETIN]).code(2);
    assert!(run.printed().contains("symbolic link"), "{}", run.printed());
    home_untouched(&test);
}

#[test]
fn a_preview_marker_that_is_a_symbolic_link_is_refused() {
    let test = with_home();
    fs::create_dir(test.join("preview")).unwrap();
    symlink(test.join("home/.bashrc"), test.join("preview/.bulletin-output")).unwrap();
    let run = test.run(&["preview", SAMPLE_BULLETIN]).code(2);
    refused_naming(&run, "preview/.bulletin-output");
    home_untouched(&test);
}

#[test]
fn a_rerun_keeps_the_users_own_files_and_removes_only_what_the_last_run_wrote() {
    let three = "email,first_name\na@example.org,A\nb@example.org,B\nc@example.org,C\n";
    let two = "email,first_name\na@example.org,A\nb@example.org,B\n";
    let test = Test::new().file("b.md", bulletin("Hello.\n")).file("three.csv", three).file("two.csv", two);
    let run = |list: &str| test.run(&["send", "b.md", "--subscribers", list, "--dry-run", "--out", "out"]);
    run("three.csv").code(0);
    fs::write(test.join("out/notes.txt"), "my notes").unwrap();
    fs::write(test.join("out/report.html"), "my report").unwrap();
    run("two.csv").code(0);
    assert_eq!(fs::read_to_string(test.join("out/notes.txt")).unwrap(), "my notes");
    assert_eq!(fs::read_to_string(test.join("out/report.html")).unwrap(), "my report");
    let names: Vec<String> = test.file_names("out").into_iter().filter(|n| n.starts_with("0000")).collect();
    assert_eq!(
        names,
        [
            "00001-a@example.org.eml",
            "00001-a@example.org.html",
            "00002-b@example.org.eml",
            "00002-b@example.org.html"
        ],
        "the third reader's files, from the first run, are gone"
    );
    // And a preview into the same folder leaves the user's files too.
    test.run(&["preview", "b.md", "--subscribers", "two.csv", "--out", "out"]).code(0);
    assert_eq!(fs::read_to_string(test.join("out/notes.txt")).unwrap(), "my notes");
    assert_eq!(fs::read_to_string(test.join("out/report.html")).unwrap(), "my report");
}

/// What Python's `email` package reads from `eml`: the `To` display name
/// and the subject, decoded by `email.header.decode_header`, which drops the
/// white space between adjacent encoded words as RFC 2047 §6.2 says. (The
/// newer `policy.default` parser keeps that space inside a display name
/// before Python 3.14: CPython issue gh-128110.)
fn python_reads(eml: &std::path::Path) -> (String, String) {
    let script = "import email, email.utils, json, sys\n\
                  from email.header import decode_header, make_header\n\
                  m = email.message_from_binary_file(open(sys.argv[1], 'rb'))\n\
                  name, _ = email.utils.parseaddr(m['To'])\n\
                  read = lambda v: str(make_header(decode_header(v)))\n\
                  print(json.dumps([read(name), read(m['Subject'])]))\n";
    let output = Command::new("python3").arg("-c").arg(script).arg(eml).output().expect("cannot run python3");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_five_thousand_character_name_keeps_every_header_line_within_998_octets() {
    let ascii = "x".repeat(5000);
    let accented = "é".repeat(5000);
    let csv = format!("email,first_name\na@example.org,{ascii}\nb@example.org,{accented}\n");
    let test = Test::new().file("b.md", bulletin("Hello.\n")).file("list.csv", csv);
    test.run(&["send", "b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
    let emls = test.emls("out");
    assert_eq!(emls.len(), 2);
    for (eml, name) in emls.iter().zip([&ascii, &accented]) {
        let headers = std::str::from_utf8(eml.raw_headers()).unwrap();
        for line in headers.split("\r\n") {
            assert!(line.len() <= 998, "{}: a header line of {} octets", eml.name, line.len());
        }
        for line in headers.split("\r\n").filter(|l| l.starts_with("To:") || l.starts_with("Subject:")) {
            assert!(line.len() <= 78, "{}: {line}", eml.name);
        }
        // A name past 200 characters is shortened, in the display name
        // only; the subject it is merged into is whole.
        let shortened: String = name.chars().take(199).chain(['…']).collect();
        let (to, subject) = python_reads(&test.join("out").join(&eml.name));
        assert_eq!(to, shortened, "{}", eml.name);
        assert_eq!(subject, format!("Hello {name}"), "{}", eml.name);
        let parsed = eml.parse();
        assert_eq!(parsed.to().unwrap().first().unwrap().name(), Some(shortened.as_str()));
        assert_eq!(parsed.subject(), Some(format!("Hello {name}").as_str()));
    }
}
