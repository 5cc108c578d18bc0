//! Keys are made fresh by the `openssl` command for each test, as the user guide
//! tells users to make theirs; none is kept in the repository. The
//! signatures themselves are verified by an independent implementation
//! (Python's dkimpy) in `tests/it/dkim.rs`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use base64::Engine;
use tempfile::TempDir;

use super::*;

/// Runs `openssl` with `args` in `dir`; returns its standard output.
fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command is needed to make test keys (scripts/test.sh installs it)");
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

/// A new key made by `openssl genpkey` with `options`, as `name` in `dir`.
fn genpkey(dir: &TempDir, name: &str, options: &[&str]) -> PathBuf {
    let mut args = vec!["genpkey"];
    args.extend_from_slice(options);
    args.extend_from_slice(&["-out", name]);
    openssl(dir.path(), &args);
    dir.path().join(name)
}

fn rsa(dir: &TempDir, name: &str, bits: u32) -> PathBuf {
    genpkey(dir, name, &["-algorithm", "RSA", "-pkeyopt", &format!("rsa_keygen_bits:{bits}")])
}

fn ed25519(dir: &TempDir, name: &str) -> PathBuf {
    genpkey(dir, name, &["-algorithm", "ED25519"])
}

/// The public key's DER SubjectPublicKeyInfo, as openssl writes it.
fn spki(dir: &TempDir, key: &Path) -> Vec<u8> {
    openssl(dir.path(), &["pkey", "-in", key.to_str().unwrap(), "-pubout", "-outform", "DER"])
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn dkim(key: &Path) -> Dkim {
    Dkim::new(
        DnsName::domain("hope.example.org").unwrap(),
        DnsName::selector("bulletin2025").unwrap(),
        PrivateKey::load(key).unwrap(),
    )
}

/// Every base64 line of a PEM file: the key material that must never show.
fn key_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 8)
        .map(str::to_owned)
        .collect()
}

const MESSAGE: &str = "From: Hope <news@hope.example.org>\r\nTo: ana@example.org\r\nSubject: Hello\r\n\
    Date: Thu, 16 Oct 2025 09:00:00 +0000\r\nMessage-ID: <1@hope.example.org>\r\n\
    List-Id: Prayer <prayer.hope.example.org>\r\nList-Unsubscribe: <mailto:u@hope.example.org>\r\n\
    MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, Ana.\r\n";

/// The `h=` tag of a signature field, as a list.
fn signed_headers(field: &str) -> Vec<String> {
    let unfolded = field.replace("\r\n\t", "").replace("\r\n", "");
    let h = unfolded.split(';').map(str::trim).find_map(|tag| tag.strip_prefix("h=")).expect("an h= tag");
    h.split(':').map(|name| name.trim().to_ascii_lowercase()).collect()
}

#[test]
fn an_rsa_key_loads_in_either_pem_form_and_its_record_holds_the_public_key_info() {
    let dir = tempfile::tempdir().unwrap();
    let pkcs8 = rsa(&dir, "rsa.pem", 2048);
    let pkcs1 = dir.path().join("rsa-pkcs1.pem");
    openssl(dir.path(), &["pkey", "-in", "rsa.pem", "-traditional", "-out", "rsa-pkcs1.pem"]);
    assert!(std::fs::read_to_string(&pkcs1).unwrap().starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let expected = format!("v=DKIM1; k=rsa; p={}", b64(&spki(&dir, &pkcs8)));
    for path in [&pkcs8, &pkcs1] {
        let dkim = dkim(path);
        assert_eq!(dkim.algorithm(), Algorithm::Rsa { bits: 2048 });
        let record = dkim.dns_record();
        assert_eq!(record.name, "bulletin2025._domainkey.hope.example.org");
        assert_eq!(record.value, expected);
    }
}

#[test]
fn an_ed25519_key_loads_and_its_record_holds_the_raw_32_byte_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = ed25519(&dir, "ed.pem");
    let dkim = dkim(&key);
    assert_eq!(dkim.algorithm(), Algorithm::Ed25519);
    // RFC 8463: p= is the bare key, the last 32 bytes of the DER form.
    let der = spki(&dir, &key);
    assert_eq!(dkim.dns_record().value, format!("v=DKIM1; k=ed25519; p={}", b64(&der[der.len() - 32..])));
}

#[test]
fn an_rsa_key_shorter_than_2048_bits_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let key = rsa(&dir, "short.pem", 1024);
    let err = PrivateKey::load(&key).unwrap_err();
    assert!(matches!(err, KeyError::TooShort { bits: 1024, .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("short.pem") && text.contains("1024 bits") && text.contains("2048"), "{text}");
}

#[test]
fn an_rsa_key_longer_than_4096_bits_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    // A fixture: making a key this long takes openssl seconds.
    let key = dir.path().join("long.pem");
    fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dkim/rsa-4608-test-only.pem"), &key)
        .unwrap();
    let err = PrivateKey::load(&key).unwrap_err();
    assert!(matches!(err, KeyError::TooLong { bits: 4608, .. }), "{err:?}");
    assert!(err.to_string().contains("long.pem"), "{err}");
}

#[test]
fn files_that_hold_no_usable_private_key_are_named_and_never_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let good = rsa(&dir, "rsa.pem", 2048);
    openssl(dir.path(), &["pkey", "-in", "rsa.pem", "-pubout", "-out", "public.pem"]);
    genpkey(&dir, "ec.pem", &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    genpkey(&dir, "x25519.pem", &["-algorithm", "X25519"]);
    openssl(
        dir.path(),
        &["pkey", "-in", "rsa.pem", "-aes256", "-passout", "pass:pw", "-out", "encrypted.pem"],
    );
    let secret = key_lines(&good).join("\n");
    std::fs::write(dir.path().join("pasted.txt"), &secret).unwrap();
    std::fs::write(
        dir.path().join("ssh.key"),
        format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{secret}\n-----END OPENSSH PRIVATE KEY-----\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("broken.pem"),
        format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", &secret[..200]),
    )
    .unwrap();
    std::fs::write(dir.path().join("huge.pem"), vec![b'A'; 100_000]).unwrap();
    let cases = [
        ("public.pem", "holds a public key, not a private key"),
        ("ec.pem", "holds an EC (ECDSA) key; DKIM signs with RSA (2048 bits or more) or Ed25519"),
        ("x25519.pem", "holds an X25519 key"),
        ("encrypted.pem", "is encrypted with a passphrase"),
        ("pasted.txt", "is not a PEM key file"),
        ("ssh.key", "is an OpenSSH key"),
        ("broken.pem", "cannot be decoded"),
        ("huge.pem", "too large to be a key file"),
        ("missing.pem", "cannot read"),
    ];
    for (name, expected) in cases {
        let err = PrivateKey::load(&dir.path().join(name)).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains(expected), "{name}: {err}");
        for line in secret.lines() {
            assert!(!err.contains(&line[..16]), "{name}: the error quotes the key: {err}");
        }
    }
}

#[test]
fn debug_output_never_shows_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for key in [rsa(&dir, "rsa.pem", 2048), ed25519(&dir, "ed.pem")] {
        let shown = format!("{:?} {:?}", dkim(&key), PrivateKey::load(&key).unwrap());
        assert!(shown.contains("[redacted]"), "{shown}");
        for line in key_lines(&key) {
            assert!(!shown.contains(&line[..16]), "Debug shows the key: {shown}");
        }
    }
}

#[test]
fn the_signature_covers_every_required_header_and_over_signs_those_present() {
    let dir = tempfile::tempdir().unwrap();
    let dkim = dkim(&ed25519(&dir, "ed.pem"));
    let field = dkim.sign(MESSAGE.as_bytes(), SystemTime::UNIX_EPOCH).unwrap();
    assert!(
        field.starts_with(
            "DKIM-Signature: v=1; a=ed25519-sha256; s=bulletin2025; d=hope.example.org; c=relaxed/relaxed;"
        ),
        "{field}"
    );
    assert!(field.ends_with("\r\n"), "{field}");
    let h = signed_headers(&field);
    let count = |name: &str| h.iter().filter(|n| *n == name).count();
    for present in [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-id",
        "list-unsubscribe",
        "mime-version",
        "content-type",
    ] {
        assert_eq!(count(present), 2, "{present} is signed and over-signed: {h:?}");
    }
    // Absent ones are signed as absent, so they cannot be added later.
    for absent in ["reply-to", "list-unsubscribe-post", "list-archive", "content-transfer-encoding"] {
        assert_eq!(count(absent), 1, "{absent}: {h:?}");
    }
}

#[test]
fn lettre_writes_the_signature_field_exactly_as_made() {
    let dir = tempfile::tempdir().unwrap();
    let dkim = dkim(&rsa(&dir, "rsa.pem", 2048));
    let mut message = lettre::Message::builder()
        .from("Hope <news@hope.example.org>".parse().unwrap())
        .to("ana@example.org".parse().unwrap())
        .subject("Hello")
        .body("Hello, Ana.\r\n".to_owned())
        .unwrap();
    let unsigned = message.formatted();
    dkim.sign_message(&mut message, SystemTime::UNIX_EPOCH).unwrap();
    let signed = String::from_utf8(message.formatted()).unwrap();
    let start = signed.find("DKIM-Signature: v=1; a=rsa-sha256;").expect("a DKIM-Signature field");
    // The field goes on while a line break is followed by white space.
    let mut end = start;
    while let Some(at) = signed[end..].find("\r\n") {
        end += at + 2;
        if !signed[end..].starts_with(['\t', ' ']) {
            break;
        }
    }
    let field = &signed[start..end];
    // Folded with CRLF TAB, and left so by lettre.
    assert!(field.lines().count() > 3 && field.contains("\r\n\t"), "{field}");
    // Nothing else changed.
    let without = format!("{}{}", &signed[..start], &signed[end..]);
    assert_eq!(without.as_bytes(), unsigned.as_slice());
}

#[test]
fn the_user_guide_names_exactly_the_header_fields_that_are_signed() {
    let readme = include_str!("../../docs/src/deliverability.md");
    let start = readme
        .find("signature (relaxed/relaxed) covers")
        .expect("the user guide's Deliverability chapter says what the signature covers");
    let sentence = &readme[start..];
    let sentence = &sentence[..sentence.find(", and signs each").expect("the sentence goes on")];
    // The field names are the words in backticks.
    let mut named: Vec<&str> = sentence.split('`').skip(1).step_by(2).collect();
    named.sort_unstable();
    named.dedup();
    let mut signed = SIGNED_HEADERS.to_vec();
    signed.sort_unstable();
    assert_eq!(named, signed);
}
