//! The DKIM verifier matrix (issue 25, "signatures that verify
//! everywhere"): the real binary signs the sample and a second bulletin
//! (`tests/fixtures/dkim/annual-report.md`: a long subject of encoded words
//! and a merge field, two images, a button, and a list of long display
//! names) under each of the 16 combinations of `REPLY_TO`,
//! `UNSUBSCRIBE_URL`, `ARCHIVE_URL` and `PREFERENCES_URL` set or unset, with
//! an RSA-2048 key and with an Ed25519 key; every message, as the dry run
//! wrote it and as the SMTP server received it, is checked by three
//! verifiers that share no code with `bulletin` or each other:
//!
//! * dkimpy (Python, `tests/support/dkim_verify.py`),
//! * Mail::DKIM (Perl, Debian's `libmail-dkim-perl`, `tests/support/dkim_verify.pl`),
//! * OpenDKIM (C, Debian's `opendkim`: `opendkim -x CONF -t FILES` with the
//!   record as `TestPublicKeys`).
//!
//! Each looks the key up in the record `bulletin check` prints, in place of
//! the DNS. A copy of one message with one body byte changed, and one with
//! one byte of the signed `From` changed, must fail in all three.
//!
//! Mail::DKIM verifies Ed25519 signatures from version 1.20230630; Debian
//! 12 has 1.20230212, which answers "unsupported algorithm". The test
//! command (scripts/test.sh) then unpacks Debian 13's package into
//! [`MAIL_DKIM_LIB`], which is put first on Perl's path here, so every
//! message, Ed25519 too, is verified by all three.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use crate::dkim::{Key, Record, published_record, signing, verify};
use crate::send_util::{Faults, PyServer};
use crate::util::{Run, SAMPLE_BULLETIN, SAMPLE_LOGO, SAMPLE_RECIPIENTS, Test};

/// The second bulletin and its list, from `tests/fixtures/dkim/`.
const SECOND_BULLETIN: &str = "content/annual-report.md";
const SECOND_LIST: &str = "subscribers/long-names.csv";
const SECOND_RECIPIENTS: usize = 6;

/// The settings the matrix turns on and off, with the value when on.
const SETTINGS: [(&str, &str); 4] = [
    ("REPLY_TO", "office@hope.example.org"),
    ("UNSUBSCRIBE_URL", "https://hope.example.org/unsubscribe"),
    ("ARCHIVE_URL", "https://hope.example.org/bulletins/"),
    ("PREFERENCES_URL", "https://hope.example.org/preferences"),
];

/// Where scripts/test.sh unpacks a Mail::DKIM that verifies Ed25519 when
/// the system's is too old (relative to the repository).
const MAIL_DKIM_LIB: &str = "target/test-tools/perl5/usr/share/perl5";

/// One combination of [`SETTINGS`]: bit `i` set means `SETTINGS[i]` is set.
#[derive(Debug, Clone, Copy)]
struct Combination(usize);

impl Combination {
    fn all() -> impl Iterator<Item = Self> {
        (0..1 << SETTINGS.len()).map(Self)
    }

    fn is_set(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }

    /// `REPLY_TO+ARCHIVE_URL`, or `none`.
    fn name(self) -> String {
        let set: Vec<&str> =
            SETTINGS.iter().enumerate().filter(|(i, _)| self.is_set(*i)).map(|(_, (k, _))| *k).collect();
        if set.is_empty() { "none".to_owned() } else { set.join("+") }
    }

    /// A folder name: `c05`.
    fn folder(self) -> String {
        format!("c{:02}", self.0)
    }

    /// Runs the binary in `test`'s folder with these settings set, the
    /// others removed, and `extra` set too.
    fn run(self, test: &Test, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let mut command = test.std_command(args);
        command.envs(extra.iter().copied());
        for (i, (key, value)) in SETTINGS.iter().enumerate() {
            if self.is_set(i) {
                command.env(key, value);
            } else {
                command.env_remove(key);
            }
        }
        let output = command.stdin(Stdio::null()).output().expect("cannot run bulletin");
        let run = Run {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        };
        assert_eq!(
            run.code,
            Some(0),
            "`bulletin {}` with {}\n{}",
            args.join(" "),
            self.name(),
            run.printed()
        );
        run
    }
}

/// One message to verify and what is expected of it.
struct Signed {
    /// Relative to the test's folder.
    path: String,
    /// Which run made it: `received, annual-report, REPLY_TO+ARCHIVE_URL`.
    label: String,
    /// False for the copies changed on purpose.
    untouched: bool,
}

/// The three verifiers' verdicts on one message: verified, and what it said.
#[derive(Debug, Default)]
struct Verdicts {
    dkimpy: (bool, String),
    mail_dkim: (bool, String),
    opendkim: (bool, String),
}

// ---------------------------------------------------------------- the verifiers

/// Fails the test, clearly, when a verifier is not installed.
fn require_verifiers() {
    static FOUND: OnceLock<Result<(), String>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let probes: [(&str, &[&str]); 2] = [
            ("perl", &["-MMail::DKIM::Verifier", "-MNet::DNS", "-MJSON::PP", "-e", "1"]),
            ("opendkim", &["-V"]),
        ];
        for (program, args) in probes {
            match Command::new(program).args(args).stdin(Stdio::null()).output() {
                Ok(out) if out.status.success() => {}
                Ok(out) => return Err(format!("{program}: {}", String::from_utf8_lossy(&out.stderr))),
                Err(e) => return Err(format!("cannot run {program}: {e}")),
            }
        }
        Ok(())
    });
    if let Err(why) = found {
        panic!(
            "the DKIM verifier matrix needs Debian's libmail-dkim-perl (Mail::DKIM) and opendkim packages: \
             `apt-get install libmail-dkim-perl opendkim` (scripts/test.sh does).\n{why}"
        );
    }
}

/// What dkimpy says of each file, in order.
fn dkimpy(test: &Test, record: &Record, files: &[Signed]) -> Vec<(bool, String)> {
    let paths: Vec<PathBuf> = files.iter().map(|f| test.join(&f.path)).collect();
    verify(record, &paths)
        .into_iter()
        .map(|v| (v.verified, v.error.unwrap_or_else(|| format!("pass ({})", v.algorithm))))
        .collect()
}

/// What Mail::DKIM's verdict JSON holds.
#[derive(Debug, serde::Deserialize)]
struct PerlVerdict {
    verified: bool,
    detail: String,
}

/// What Mail::DKIM says of each file, in order, and whether it can
/// verify Ed25519 at all.
fn mail_dkim(test: &Test, record: &Record, files: &[Signed]) -> (Vec<(bool, String)>, bool) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/dkim_verify.pl");
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join(MAIL_DKIM_LIB);
    let output = Command::new("perl")
        .arg(format!("-I{}", lib.display()))
        .arg(&script)
        .arg("--key")
        .arg(format!("{}={}", record.name, record.value))
        .args(files.iter().map(|f| &f.path))
        .current_dir(test.path())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(output.status.success(), "dkim_verify.pl failed: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut ed25519 = false;
    let verdicts: Vec<(bool, String)> = stdout
        .lines()
        .map(|line| {
            let value: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            ed25519 = value["ed25519"] == serde_json::Value::Bool(true);
            let verdict: PerlVerdict = serde_json::from_value(value).unwrap();
            (verdict.verified, verdict.detail)
        })
        .collect();
    assert_eq!(verdicts.len(), files.len(), "one Mail::DKIM verdict per file");
    (verdicts, ed25519)
}

/// The longest list of files given to one `opendkim -t` (a single
/// argument may not pass 128 KiB on Linux).
const OPENDKIM_BATCH_BYTES: usize = 64 * 1024;

/// What OpenDKIM says of each file, in order: `opendkim -t` verifies a
/// comma-separated list of files in one process and prints one line per
/// file, `opendkim: FILE: verification (...) succeeded` or `... failed:
/// why`, or `FILE: message not signed`.
fn opendkim(test: &Test, record: &Record, files: &[Signed]) -> Vec<(bool, String)> {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::write(&keys, format!("{} {}\n", record.name, record.value)).unwrap();
    let conf = dir.path().join("opendkim.conf");
    std::fs::write(&conf, format!("TestPublicKeys {}\nSyslog no\n", keys.display())).unwrap();

    let mut said: BTreeMap<String, String> = BTreeMap::new();
    let mut batches: Vec<Vec<&str>> = vec![Vec::new()];
    let mut length = 0;
    for file in files {
        assert!(!file.path.contains(','), "{}: opendkim -t splits its list at commas", file.path);
        if length + file.path.len() + 1 > OPENDKIM_BATCH_BYTES {
            batches.push(Vec::new());
            length = 0;
        }
        length += file.path.len() + 1;
        batches.last_mut().unwrap().push(&file.path);
    }
    for batch in batches.iter().filter(|b| !b.is_empty()) {
        let output = Command::new("opendkim")
            .arg("-x")
            .arg(&conf)
            .args(["-v", "-t", &batch.join(",")])
            .current_dir(test.path())
            .stdin(Stdio::null())
            .output()
            .expect("cannot run opendkim");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "opendkim -t failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        for line in stdout.lines() {
            let Some((file, rest)) = line.strip_prefix("opendkim: ").and_then(|l| l.split_once(": ")) else {
                continue;
            };
            if let Some(earlier) = said.insert(file.to_owned(), rest.to_owned()) {
                panic!("opendkim gave {file} two verdicts: {earlier:?} and {rest:?}");
            }
        }
    }
    files
        .iter()
        .map(|file| {
            let rest = said.remove(&file.path).unwrap_or_else(|| "(opendkim printed no verdict)".to_owned());
            (rest.starts_with("verification (") && rest.ends_with(") succeeded"), rest)
        })
        .collect()
}

// ---------------------------------------------------------------- the matrix

/// The sample and the second bulletin with its list, signed by a new key of
/// kind `key`, sending to `port` on 127.0.0.1.
fn matrix_folder(key: Key, port: u16) -> Test {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dkim");
    let read = |name: &str| std::fs::read(fixtures.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    signing(key)
        .file(SECOND_BULLETIN, read("annual-report.md"))
        .file(SECOND_LIST, read("long-names.csv"))
        .env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_PORT", &port.to_string())
        .env("SMTP_SECURITY", "none")
        .env("SMTP_TIMEOUT", "10s")
}

/// A bulletin of the matrix: its name, its arguments to `send`, settings
/// of its own, and how many messages it makes.
#[derive(Clone, Copy)]
struct Bulletin {
    name: &'static str,
    args: &'static [&'static str],
    extra: &'static [(&'static str, &'static str)],
    recipients: usize,
}

/// Dry-runs and sends both bulletins under every combination; returns every
/// message written or received, and a changed copy of two of them.
fn sign_everything(test: &Test, server: &PyServer) -> Vec<Signed> {
    // The second bulletin also carries the logo, an image part of its own.
    let bulletins = [
        Bulletin {
            name: "sample",
            args: &[SAMPLE_BULLETIN],
            extra: &[],
            recipients: SAMPLE_RECIPIENTS.len(),
        },
        Bulletin {
            name: "annual-report",
            args: &[SECOND_BULLETIN, "--subscribers", SECOND_LIST],
            extra: &[("LOGO", SAMPLE_LOGO)],
            recipients: SECOND_RECIPIENTS,
        },
    ];
    let all_set = Combination((1 << SETTINGS.len()) - 1);
    // The archive's pages, which the emails link under ARCHIVE_URL.
    all_set.run(test, &["publish"], &[]);

    let mut signed = Vec::new();
    for combination in Combination::all() {
        let state = format!("state/{}", combination.folder());
        for Bulletin { name, args, extra, recipients } in bulletins {
            let label = |place: &str| format!("{place}, {name}, {}", combination.name());
            let out = format!("out/{}/{name}", combination.folder());
            let dry_run = [args, &["--dry-run", "--out", &out]].concat();
            combination.run(test, &[&["send"], &dry_run[..]].concat(), extra);
            let emls = test.emls(&out);
            assert_eq!(emls.len(), recipients, "{}: messages written", label("dry run"));
            signed.extend(emls.iter().map(|eml| Signed {
                path: format!("{out}/{}", eml.name),
                label: label("dry run"),
                untouched: true,
            }));

            let before = server.count();
            let send = [args, &["--yes", "--rate", "unlimited", "--state-dir", &state]].concat();
            combination.run(test, &[&["send"], &send[..]].concat(), extra);
            let received = server.messages();
            assert_eq!(received.len(), before + recipients, "{}: messages received", label("received"));
            let folder = format!("received/{}/{name}", combination.folder());
            std::fs::create_dir_all(test.join(&folder)).unwrap();
            for message in &received[before..] {
                let path = format!("{folder}/{}", message.file);
                std::fs::write(test.join(&path), &message.raw).unwrap();
                signed.push(Signed { path, label: label("received"), untouched: true });
            }
        }
    }

    // One byte of the body, and one of the signed From, changed in the
    // last dry-run and the last received message (the second bulletin,
    // every setting set).
    let last_received = signed.last().expect("messages were received");
    let last_dry_run = signed.iter().rev().find(|s| s.label.starts_with("dry run")).unwrap();
    let originals = [&last_dry_run, &last_received].map(|s| (s.path.clone(), s.label.clone()));
    for (path, label) in originals {
        let text = String::from_utf8(std::fs::read(test.join(&path)).unwrap()).unwrap();
        let body_at = text.find("\r\n\r\n").expect("a blank line ends the header");
        let body =
            format!("{}{}", &text[..body_at], text[body_at..].replacen("Annual report", "Annual Report", 1));
        let from = text.replacen("<news@hope.example.org>", "<newz@hope.example.org>", 1);
        for (what, changed) in [("body", body), ("from", from)] {
            assert_ne!(changed, text, "{path}: the {what} change changed nothing");
            let changed_path = format!("{path}.{what}-changed.eml");
            std::fs::write(test.join(&changed_path), changed).unwrap();
            signed.push(Signed {
                path: changed_path,
                label: format!("{label}, one byte of the {what} changed"),
                untouched: false,
            });
        }
    }
    signed
}

/// Signs everything with a key of kind `key`, verifies it three ways, and
/// fails naming every file, combination and verifier that disagrees.
fn every_message_verifies_in_all_three(key: Key) {
    require_verifiers();
    let started = Instant::now();
    let server = PyServer::start(&Faults::new());
    let test = matrix_folder(key, server.port());
    let (record, _) = published_record(&test);
    let signed = sign_everything(&test, &server);
    let signing_took = started.elapsed();

    let verifying = Instant::now();
    // The three verifiers at once: each is a process of its own.
    let (python, (perl, perl_knows_ed25519), c) = std::thread::scope(|scope| {
        let python = scope.spawn(|| dkimpy(&test, &record, &signed));
        let perl = scope.spawn(|| mail_dkim(&test, &record, &signed));
        let c = opendkim(&test, &record, &signed);
        (python.join().expect("dkimpy's thread"), perl.join().expect("Mail::DKIM's thread"), c)
    });
    let verifying_took = verifying.elapsed();
    let verdicts: Vec<Verdicts> = (0..signed.len())
        .map(|i| Verdicts { dkimpy: python[i].clone(), mail_dkim: perl[i].clone(), opendkim: c[i].clone() })
        .collect();

    assert!(
        perl_knows_ed25519 || !matches!(key, Key::Ed25519),
        "this Mail::DKIM cannot verify Ed25519 signatures (1.20230630 and later can): run scripts/test.sh, \
         which unpacks one into {MAIL_DKIM_LIB}"
    );
    let mut wrong = Vec::new();
    let (mut passed, mut failed_as_they_should) = (0, 0);
    for (file, verdict) in signed.iter().zip(&verdicts) {
        for (verifier, (verified, said)) in
            [("dkimpy", &verdict.dkimpy), ("Mail::DKIM", &verdict.mail_dkim), ("OpenDKIM", &verdict.opendkim)]
        {
            match (file.untouched, verified) {
                (true, true) => passed += 1,
                (false, false) => failed_as_they_should += 1,
                (true, false) => {
                    wrong.push(format!("{} ({}): {verifier} failed it: {said}", file.path, file.label))
                }
                (false, true) => {
                    wrong.push(format!(
                        "{} ({}): {verifier} verified a changed message",
                        file.path, file.label
                    ));
                }
            }
        }
    }
    let untouched = signed.iter().filter(|s| s.untouched).count();
    let verifiers = 3;
    let summary = format!(
        "DKIM verifier matrix, {key:?}: {untouched} messages ({} combinations × 2 bulletins × dry run and \
         received) × {verifiers} verifiers: {passed} passes; {} changed copies × {verifiers}: \
         {failed_as_they_should} failures, as they should; signing {:.1} s, \
         verifying {:.1} s",
        1 << SETTINGS.len(),
        signed.len() - untouched,
        signing_took.as_secs_f64(),
        verifying_took.as_secs_f64(),
    );
    eprintln!("{summary}");
    assert!(
        wrong.is_empty(),
        "{} verdict(s) wrong:\n{}\n{summary}",
        wrong.len(),
        wrong.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
    let expected_messages = (1 << SETTINGS.len()) * 2 * (SAMPLE_RECIPIENTS.len() + SECOND_RECIPIENTS);
    assert_eq!(untouched, expected_messages, "every combination's messages were verified");
    assert_eq!(signed.len() - untouched, 4, "two changed copies of two messages");
    assert_eq!(passed, untouched * verifiers);
    assert_eq!(failed_as_they_should, 4 * verifiers);
}

#[test]
fn every_settings_combination_signed_with_rsa_verifies_in_dkimpy_mail_dkim_and_opendkim_and_a_changed_byte_fails_in_all()
 {
    every_message_verifies_in_all_three(Key::Rsa(2048));
}

#[test]
fn every_settings_combination_signed_with_ed25519_verifies_in_dkimpy_mail_dkim_and_opendkim_and_a_changed_byte_fails_in_all()
 {
    every_message_verifies_in_all_three(Key::Ed25519);
}
