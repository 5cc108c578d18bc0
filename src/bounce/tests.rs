//! Every real-world sample in `tests/fixtures/bounces` (see its README for
//! where each comes from) read as expected: which addresses, and how each
//! is classified. Each sample is also read with its line ends swapped
//! (CRLF for LF and back), which must change nothing.

use std::path::Path;

use pretty_assertions::assert_eq;

use super::Class;
use super::notice::{Finding, NotBounce, read};

/// What a sample should read as.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Bounces(Vec<(String, Class)>),
    Complaints(Vec<Option<String>>),
    Delayed,
    NotBounce(NotBounce),
}

use Class::{Blocked, Hard, Soft};

fn bounces(list: &[(&str, Class)]) -> Expect {
    Expect::Bounces(list.iter().map(|(a, c)| ((*a).to_owned(), *c)).collect())
}

fn complaints(list: &[Option<&str>]) -> Expect {
    Expect::Complaints(list.iter().map(|a| a.map(str::to_owned)).collect())
}

fn table() -> Vec<(&'static str, Expect)> {
    vec![
        // Postfix: RFC 3464 DSN; the original recipient is the one to suppress.
        ("postfix-user-unknown.eml", bounces(&[("kijitora@example.org", Hard)])),
        ("postfix-gmail-dmarc.eml", bounces(&[("kijitora@google.example.com", Blocked)])),
        ("yahoo-policy-via-postfix.eml", bounces(&[("kijitora@aol.example.jp", Blocked)])),
        ("delayed-postfix.eml", Expect::Delayed),
        // Exim: text with X-Failed-Recipients, one reply per address.
        ("exim-two-unknown.eml", bounces(&[("kijitora@example.jp", Hard), ("sabatora@example.jp", Hard)])),
        ("exim-use-your-isp.eml", bounces(&[("kijitora@example.ed.jp", Blocked)])),
        // Gmail: the old text notice, and the current multipart/report.
        ("gmail-user-unknown.eml", bounces(&[("userunknown@example.jp", Hard)])),
        ("gmail-user-unknown-state-14.eml", bounces(&[("kijitora@example.or.jp", Hard)])),
        ("gmail-header-error.eml", bounces(&[("kijitora@example.co.jp", Blocked)])),
        ("gmail-address-not-found.eml", bounces(&[("kijitora@example.de", Hard)])),
        // Microsoft: Office 365 text-only NDR, Exchange 2007, Outlook.com, Exchange Online block.
        ("office365-recipient-not-found.eml", bounces(&[("kijitora@example.com", Hard)])),
        ("exchange2007-recipient-not-found.eml", bounces(&[("mikeneko@example.co.jp", Hard)])),
        ("outlook-mailbox-full.eml", bounces(&[("kijitora@example.jp", Soft)])),
        ("exchange-online-banned-ip.eml", bounces(&[("kijitora@example.com", Blocked)])),
        // Yahoo (qmail-style text), qmail, Sendmail.
        ("yahoo-user-unknown.eml", bounces(&[("kijitora@example.org", Hard)])),
        ("qmail-user-unknown.eml", bounces(&[("kijitora@example.ne.jp", Hard)])),
        ("sendmail-user-unknown.eml", bounces(&[("userunknown@bouncehammer.jp", Hard)])),
        // ARF complaints (RFC 5965), one naming no reader.
        (
            "arf-abuse-two-recipients.eml",
            complaints(&[Some("fake.rcpt@example.com"), Some("fake.rcpt2@example.net")]),
        ),
        ("arf-abuse-no-recipient.eml", complaints(&[None])),
        // Not bounces.
        ("auto-reply-away.eml", Expect::NotBounce(NotBounce::AutoReply)),
        ("not-bounce-forwarded-message.eml", Expect::NotBounce(NotBounce::Other)),
    ]
}

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bounces")
}

fn reading(raw: &[u8]) -> Expect {
    match read(raw).finding {
        Finding::Bounces(bounces) => Expect::Bounces(
            bounces.iter().map(|b| (b.address.clone().unwrap_or_default(), b.cause.class())).collect(),
        ),
        Finding::Complaints(complaints) => {
            Expect::Complaints(complaints.iter().map(|c| c.address.clone()).collect())
        }
        Finding::Delayed => Expect::Delayed,
        Finding::NotBounce(kind) => Expect::NotBounce(kind),
        Finding::Unusable(why) => panic!("unusable: {why}"),
    }
}

fn swap_line_ends(raw: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    if text.contains("\r\n") {
        text.replace("\r\n", "\n").into_bytes()
    } else {
        text.replace('\n', "\r\n").into_bytes()
    }
}

#[test]
fn every_real_world_sample_reads_as_expected() {
    for (name, want) in table() {
        let raw = std::fs::read(fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(reading(&raw), want, "{name}");
        assert_eq!(reading(&swap_line_ends(&raw)), want, "{name} with its line ends swapped");
    }
}

#[test]
fn the_table_covers_every_sample_in_the_folder() {
    let named: std::collections::BTreeSet<&str> = table().iter().map(|(name, _)| *name).collect();
    let present: std::collections::BTreeSet<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    let present: std::collections::BTreeSet<&str> = present.iter().map(String::as_str).collect();
    assert_eq!(named, present);
}

#[test]
fn a_samples_returned_message_gives_the_original_message_id() {
    let raw = std::fs::read(fixtures().join("gmail-address-not-found.eml")).unwrap();
    assert_eq!(read(&raw).original.message_ids, ["00222222-2222-2222-2222-FF00FFFF0000@example.jp"]);
    let raw = std::fs::read(fixtures().join("exim-two-unknown.eml")).unwrap();
    assert_eq!(read(&raw).original.message_ids, ["E1X58pB-0004bW-2s@marutamachi.example.org"]);
    let raw = std::fs::read(fixtures().join("delayed-postfix.eml")).unwrap();
    assert_eq!(
        read(&raw).original.message_ids,
        ["2025-10-16-ijm-prayer-requests.5f0c8a3e9d2b7c1a4e6f8b90@hope.example.org"]
    );
}
