//! End-to-end tests of DKIM signing: keys made by `openssl` at test time
//! (none is kept in the repository), the real binary signing dry-run,
//! preview and sent messages, and every signature checked by an independent
//! implementation, Python's dkimpy (`tests/support/dkim_verify.py`), against
//! the DNS record that `bulletin check` prints, in place of a DNS lookup.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use pretty_assertions::assert_eq;

use crate::send_util::{Faults, PyServer};
use crate::util::{Run, SAMPLE_BULLETIN, SAMPLE_RECIPIENTS, Test};

pub(crate) const DOMAIN: &str = "hope.example.org";
pub(crate) const SELECTOR: &str = "bulletin2025";
const KEY_FILE: &str = "keys/dkim-private.pem";

/// The kinds of key `bulletin` signs with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Key {
    Rsa(u32),
    Ed25519,
}

/// Makes a private key with the same `openssl genpkey` command the README
/// gives, as `path` in the test's folder.
fn make_key(test: &Test, path: &str, key: Key) {
    let mut args: Vec<String> = match key {
        Key::Rsa(bits) => ["genpkey", "-algorithm", "RSA", "-pkeyopt", &format!("rsa_keygen_bits:{bits}")]
            .map(str::to_owned)
            .to_vec(),
        Key::Ed25519 => ["genpkey", "-algorithm", "ED25519"].map(str::to_owned).to_vec(),
    };
    args.extend(["-out".to_owned(), path.to_owned()]);
    std::fs::create_dir_all(test.join(path).parent().unwrap()).unwrap();
    let output = Command::new("openssl")
        .args(&args)
        .current_dir(test.path())
        .output()
        .expect("the openssl command is needed to make test keys (scripts/test.sh installs it)");
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// The sample with real organisation settings and DKIM signing by a new
/// key of kind `key`.
pub(crate) fn signing(key: Key) -> Test {
    let test = Test::with_sample()
        .env("FROM_EMAIL", "news@hope.example.org")
        .env("ORG_NAME", "Hope Trust")
        .env("ORG_ADDRESS", "2 High Street, Hopeton, HO1 2PE")
        .env("REPLY_TO", "office@hope.example.org")
        .env("UNSUBSCRIBE_URL", "https://hope.example.org/unsubscribe")
        .env("UNSUBSCRIBE_SECRET", "test-unsubscribe-secret")
        .env("DKIM_DOMAIN", DOMAIN)
        .env("DKIM_SELECTOR", SELECTOR)
        .env("DKIM_PRIVATE_KEY", KEY_FILE);
    make_key(&test, KEY_FILE, key);
    test
}

/// The TXT record as `bulletin check` prints it.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) name: String,
    pub(crate) value: String,
    /// The zone-file line's quoted strings, joined again.
    zone_value: String,
}

pub(crate) fn published_record(test: &Test) -> (Record, Run) {
    record_printed_by_check(test, SAMPLE_BULLETIN)
}

/// The TXT record `bulletin check BULLETIN` prints.
pub(crate) fn record_printed_by_check(test: &Test, bulletin: &str) -> (Record, Run) {
    let run = test.run(&["check", bulletin]);
    let line = |prefix: &str| {
        run.stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("check prints no {prefix:?} line\n{}", run.printed()))
            .to_owned()
    };
    let name = line("  name   ");
    let value = line("  value  ");
    let zone = line(&format!("  {name}. IN TXT ( "));
    let strings: Vec<&str> =
        zone.trim_end_matches(" )").split('"').filter(|s| !s.trim().is_empty()).collect();
    assert!(strings.iter().all(|s| s.len() <= 255), "a zone-file string is over 255 characters: {zone}");
    (Record { name, value, zone_value: strings.concat() }, run)
}

/// What dkimpy said of one message.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Verdict {
    pub(crate) file: String,
    pub(crate) verified: bool,
    pub(crate) error: Option<String>,
    #[serde(default)]
    pub(crate) algorithm: String,
    #[serde(default)]
    signed_headers: Vec<String>,
}

/// Fails the test, clearly, when Python's dkimpy cannot be imported.
fn require_dkimpy() {
    static FOUND: OnceLock<Result<(), String>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let probe = Command::new("python3").args(["-c", "import dkim, nacl"]).stdin(Stdio::null()).output();
        match probe {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
            Err(e) => Err(format!("cannot run python3: {e}")),
        }
    });
    if let Err(why) = found {
        panic!(
            "python3 with dkimpy and PyNaCl is missing: the DKIM tests verify with it. Install it with \
             `python3 -m pip install dkimpy PyNaCl` (scripts/test.sh does).\n{why}"
        );
    }
}

/// Verifies each of `files` with dkimpy, looking the key up in `record`.
pub(crate) fn verify(record: &Record, files: &[PathBuf]) -> Vec<Verdict> {
    require_dkimpy();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/dkim_verify.py");
    let output = Command::new("python3")
        .arg(&script)
        .args(["--name", &record.name, "--record", &record.value])
        .args(files)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(output.status.success(), "dkim_verify.py failed: {}", String::from_utf8_lossy(&output.stderr));
    let verdicts: Vec<Verdict> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert_eq!(verdicts.len(), files.len(), "one verdict per file");
    verdicts
}

/// Writes `bytes` under `dir` as `name` and returns the path, to hand a
/// message in memory to the verifier.
pub(crate) fn save(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[track_caller]
fn assert_all_verify(verdicts: &[Verdict], algorithm: &str) {
    for verdict in verdicts {
        assert!(verdict.verified, "{}: {:?}", verdict.file, verdict.error);
        assert_eq!(verdict.algorithm, algorithm, "{}", verdict.file);
    }
}

pub(crate) fn algorithm(key: Key) -> &'static str {
    match key {
        Key::Rsa(_) => "rsa-sha256",
        Key::Ed25519 => "ed25519-sha256",
    }
}

/// Every line of base64 in the test's private key files.
fn key_material(test: &Test) -> Vec<String> {
    let text = std::fs::read_to_string(test.join(KEY_FILE)).unwrap();
    let lines: Vec<String> =
        text.lines().filter(|l| !l.starts_with("-----")).map(|l| l[..l.len().min(24)].to_owned()).collect();
    assert!(!lines.is_empty(), "no key material to look for");
    lines
}

#[track_caller]
fn assert_no_key_material_in(what: &str, text: &[u8], material: &[String]) {
    for line in material {
        assert!(!text.windows(line.len()).any(|w| w == line.as_bytes()), "{what} holds the DKIM private key");
    }
}

// ---------------------------------------------------------------- dry run and preview

fn dry_run_messages_verify_against_the_record_check_prints(key: Key) {
    let test = signing(key);
    let (record, _) = published_record(&test);
    assert_eq!(record.name, format!("{SELECTOR}._domainkey.{DOMAIN}"));
    assert_eq!(record.zone_value, record.value, "the zone-file strings join into the value");
    test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(0);

    let files: Vec<PathBuf> = test.emls("out").iter().map(|eml| test.join("out").join(&eml.name)).collect();
    assert_eq!(files.len(), SAMPLE_RECIPIENTS.len());
    assert_all_verify(&verify(&record, &files), algorithm(key));

    test.run(&["preview", SAMPLE_BULLETIN, "--subscriber", "jose.nunez@example.com"]).code(0);
    let preview: Vec<PathBuf> =
        test.emls("preview").iter().map(|e| test.join("preview").join(&e.name)).collect();
    assert_eq!(preview.len(), 1);
    assert_all_verify(&verify(&record, &preview), algorithm(key));
}

#[test]
fn dry_run_and_preview_messages_signed_with_an_rsa_key_verify_against_the_printed_record() {
    dry_run_messages_verify_against_the_record_check_prints(Key::Rsa(2048));
}

#[test]
fn dry_run_and_preview_messages_signed_with_an_ed25519_key_verify_against_the_printed_record() {
    dry_run_messages_verify_against_the_record_check_prints(Key::Ed25519);
}

#[test]
fn messages_carrying_an_embedded_logo_verify() {
    let mut png = Vec::new();
    image::RgbaImage::from_pixel(320, 80, image::Rgba([29, 79, 145, 255]))
        .write_with_encoder(image::codecs::png::PngEncoder::new(&mut png))
        .unwrap();
    let test = signing(Key::Ed25519).file("logo.png", png).env("LOGO", "logo.png");
    let (record, _) = published_record(&test);
    test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(0);
    let emls = test.emls("out");
    assert!(emls[0].html().contains("src=\"cid:logo.png@bulletin\""), "the logo is embedded");
    let files: Vec<PathBuf> = emls.iter().map(|eml| test.join("out").join(&eml.name)).collect();
    assert_all_verify(&verify(&record, &files), algorithm(Key::Ed25519));
}

#[test]
fn a_changed_message_no_longer_verifies() {
    let test = signing(Key::Rsa(2048));
    let (record, _) = published_record(&test);
    test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(0);
    let original = test.emls("out").remove(0).raw;
    let text = String::from_utf8(original.clone()).unwrap();

    let body_at = text.find("\r\n\r\n").unwrap();
    let changed_body = format!("{}{}", &text[..body_at], text[body_at..].replacen("Pray", "Prey", 1));
    let changed_subject = text.replacen("Subject: IJM", "Subject: ACT NOW", 1);
    // A second From, which some mail programs show instead of the signed one.
    let second_from = format!("From: \"Hope Trust\" <news@evil.example>\r\n{text}");
    let extra_unsubscribe = format!("List-Unsubscribe: <https://evil.example/u>\r\n{text}");
    assert_ne!(changed_body, text);
    assert_ne!(changed_subject, text);

    let dir = tempfile::tempdir().unwrap();
    let files = [
        save(dir.path(), "original.eml", &original),
        save(dir.path(), "body.eml", changed_body.as_bytes()),
        save(dir.path(), "subject.eml", changed_subject.as_bytes()),
        save(dir.path(), "second-from.eml", second_from.as_bytes()),
        save(dir.path(), "extra-unsubscribe.eml", extra_unsubscribe.as_bytes()),
    ];
    let verdicts = verify(&record, &files);
    assert!(verdicts[0].verified, "the untouched message verifies: {:?}", verdicts[0].error);
    for verdict in &verdicts[1..] {
        assert!(!verdict.verified, "{} verified although it was changed", verdict.file);
    }

    // A record for another key does not verify the untouched message either.
    let other = signing(Key::Rsa(2048));
    let (other_record, _) = published_record(&other);
    assert!(!verify(&other_record, &files[..1])[0].verified, "verified with someone else's key");
}

#[test]
fn the_signature_covers_the_headers_rfc_8058_requires_and_over_signs_them() {
    let test = signing(Key::Ed25519);
    let (record, _) = published_record(&test);
    test.run(&["preview", SAMPLE_BULLETIN]).code(0);
    let eml = test.emls("preview").remove(0);
    // The message has each of these once, so each is signed.
    for name in ["List-Unsubscribe-Post", "Reply-To", "List-Unsubscribe", "List-Id"] {
        assert!(eml.header(name).is_some(), "the message has no {name}");
    }
    let verdict = verify(&record, &[test.join("preview").join(&eml.name)]).remove(0);
    assert!(verdict.verified, "{:?}", verdict.error);
    let h = &verdict.signed_headers;
    for name in [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "reply-to",
        "list-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "mime-version",
        "content-type",
    ] {
        let times = h.iter().filter(|n| *n == name).count();
        assert_eq!(times, 2, "{name} is signed, and signed once more as absent so none can be added: {h:?}");
    }
}

// ---------------------------------------------------------------- sent over SMTP

fn messages_received_over_smtp_verify(key: Key) {
    let server = PyServer::start(&Faults::new());
    let mut test = signing(key);
    for (name, value) in [
        ("SMTP_HOST", "127.0.0.1".to_owned()),
        ("SMTP_PORT", server.port().to_string()),
        ("SMTP_SECURITY", "none".to_owned()),
        ("SMTP_TIMEOUT", "10s".to_owned()),
    ] {
        test.set_env(name, &value);
    }
    let (record, _) = published_record(&test);
    test.run(&["send", SAMPLE_BULLETIN, "--to", "editor@hope.example.org", "--yes"]).code(0);
    let run = test.run(&["send", SAMPLE_BULLETIN, "--yes", "--rate", "unlimited"]).code(0);
    let what = match key {
        Key::Rsa(bits) => format!("RSA {bits} bits"),
        Key::Ed25519 => "Ed25519".to_owned(),
    };
    run.stdout_has(&format!("  dkim      signed as {DOMAIN} (selector {SELECTOR}, {what})"));

    let received = server.messages();
    assert_eq!(received.len(), 1 + SAMPLE_RECIPIENTS.len(), "the test copy and every recipient's message");
    // Exactly the bytes the server took in, as a receiving server checks them.
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = received.iter().map(|m| save(dir.path(), &m.file, &m.raw)).collect();
    assert_all_verify(&verify(&record, &files), algorithm(key));
    assert!(received[0].eml().header("Subject").unwrap().contains("[TEST]"), "the test copy comes first");
}

#[test]
fn messages_sent_with_an_rsa_key_verify_as_the_smtp_server_received_them() {
    messages_received_over_smtp_verify(Key::Rsa(2048));
}

#[test]
fn messages_sent_with_an_ed25519_key_verify_as_the_smtp_server_received_them() {
    messages_received_over_smtp_verify(Key::Ed25519);
}

// ---------------------------------------------------------------- keys and settings

#[test]
fn an_rsa_key_of_1024_bits_is_refused_before_any_message_is_made() {
    let test = signing(Key::Rsa(1024));
    let run = test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(2);
    let errors = run.error_lines();
    assert_eq!(errors.len(), 1, "{}", run.printed());
    for part in ["DKIM_PRIVATE_KEY", KEY_FILE, "1024 bits", "2048"] {
        assert!(errors[0].contains(part), "the error names {part}: {}", errors[0]);
    }
    assert!(!test.join("out").exists(), "nothing is written");
    test.run(&["check", SAMPLE_BULLETIN]).code(1).stdout_has("error: setting DKIM_PRIVATE_KEY");
    assert_no_key_material_in("the output", run.printed().as_bytes(), &key_material(&test));
}

#[test]
fn dkim_settings_given_in_part_stop_the_run_naming_what_is_missing() {
    let test = Test::with_sample().env("DKIM_DOMAIN", DOMAIN).env("DKIM_PRIVATE_KEY", KEY_FILE);
    test.run(&["send", SAMPLE_BULLETIN, "--dry-run"]).code(2).stderr_has(
        "error: DKIM signing needs DKIM_SELECTOR too (DKIM_DOMAIN and DKIM_PRIVATE_KEY are set); set them all or none",
    );
}

#[test]
fn check_warns_when_the_signing_domain_does_not_align_with_the_sender() {
    let test = signing(Key::Rsa(2048)).env("DKIM_DOMAIN", "example.net");
    test.run(&["check", SAMPLE_BULLETIN]).stdout_has(
        "warning: setting DKIM_DOMAIN = \"example.net\" does not align with FROM_EMAIL's domain hope.example.org",
    );
    // A parent domain aligns (DMARC's relaxed mode), so no warning.
    let test = signing(Key::Rsa(2048)).env("DKIM_DOMAIN", "example.org");
    let (record, run) = published_record(&test);
    assert_eq!(record.name, format!("{SELECTOR}._domainkey.example.org"));
    assert!(!run.stdout.contains("does not align"), "{}", run.printed());
}

#[test]
fn check_warns_of_an_ed25519_key_and_of_a_key_file_others_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let test = signing(Key::Ed25519);
    let key = test.join(KEY_FILE);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run =
        test.run(&["check", SAMPLE_BULLETIN]).stdout_has("is an Ed25519 key; many receivers do not verify");
    assert!(!run.stdout.contains("can be read by other users"), "{}", run.printed());

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    test.run(&["check", SAMPLE_BULLETIN])
        .stdout_has("can be read by other users of this computer, and anyone holding it can sign mail as");
}

#[test]
fn the_private_key_never_appears_in_output_previews_journal_or_messages() {
    for key in [Key::Rsa(2048), Key::Ed25519] {
        let server = PyServer::start(&Faults::new());
        let mut test = signing(key);
        for (name, value) in [
            ("SMTP_HOST", "127.0.0.1".to_owned()),
            ("SMTP_PORT", server.port().to_string()),
            ("SMTP_SECURITY", "none".to_owned()),
        ] {
            test.set_env(name, &value);
        }
        let material = key_material(&test);
        let runs = [
            test.run(&["check", SAMPLE_BULLETIN, "--smtp"]),
            test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out", "-v"]),
            test.run(&["preview", SAMPLE_BULLETIN]),
            test.run(&["send", SAMPLE_BULLETIN, "--yes", "--rate", "unlimited", "-v"]).code(0),
            test.run(&["status", SAMPLE_BULLETIN]),
        ];
        for run in &runs {
            let what = format!("`bulletin {}`", run.args.join(" "));
            assert_no_key_material_in(&what, run.printed().as_bytes(), &material);
        }
        let files = test.all_files();
        assert!(
            files.keys().any(|p| p.to_string_lossy().contains("journal.sqlite3")),
            "a journal was written"
        );
        assert!(files.keys().any(|p| p.to_string_lossy().ends_with(".eml")), "messages were written");
        for (path, bytes) in files.iter().filter(|(p, _)| !p.ends_with(KEY_FILE)) {
            assert_no_key_material_in(&path.display().to_string(), bytes, &material);
        }
        for message in server.messages() {
            assert_no_key_material_in(&message.file, &message.raw, &material);
        }
    }
}
