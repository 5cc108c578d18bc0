//! `bulletin bounces` end to end: a real send to aiosmtpd refusing chosen
//! recipients (`tests/support/smtp_server.py`), then the listing, its CSV,
//! `--suppress` and the next send; and `bulletin bounces import` reading
//! the real-world samples of `tests/fixtures/bounces` from a Maildir, an
//! mbox file, single files and folders, with the suppression list and the
//! ledger checked after each run.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use pretty_assertions::assert_eq;

use crate::send_util::{FROM_EMAIL, Faults, PyServer, Received, to_relay};
use crate::util::{Run, SAMPLE_BULLETIN, Test, bulletin_with};

// ---------------------------------------------------------------- helpers

/// The sample, settings for a real send to 127.0.0.1:`port`, and `csv` at
/// `list.csv`. Retries wait 50 ms.
fn sending(port: u16, csv: &str) -> Test {
    to_relay(Test::with_sample().file("list.csv", csv), port)
}

/// `reader01@example.org`… as a CSV list, and the addresses.
fn list(n: usize) -> (String, Vec<String>) {
    let mut csv = String::from("email,first_name\n");
    let mut addresses = Vec::new();
    for i in 1..=n {
        let address = format!("reader{i:02}@example.org");
        csv.push_str(&format!("{address},Reader {i}\n"));
        addresses.push(address);
    }
    (csv, addresses)
}

/// A second bulletin, so a second campaign.
const SECOND: &str = "content/second.md";

fn send(test: &Test, bulletin: &str) -> Run {
    test.run(&[
        "send",
        bulletin,
        "--subscribers",
        "list.csv",
        "--yes",
        "--rate",
        "unlimited",
        "--attempts",
        "2",
    ])
}

/// The rows of `bounces --csv`, by address: (class, via, status, reply).
fn bounces_csv(test: &Test, bulletin: &str) -> BTreeMap<String, (String, String, String, String)> {
    test.run(&["bounces", bulletin, "--subscribers", "list.csv", "--csv", "bounces.csv"])
        .code(0)
        .stdout_has("Wrote bounces.csv");
    let mut reader = csv::Reader::from_path(test.join("bounces.csv")).expect("bounces.csv is readable");
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header, ["email", "class", "why", "via", "status", "reply", "date"]);
    reader
        .records()
        .map(|r| {
            let r = r.expect("a well-formed row");
            (r[0].to_owned(), (r[1].to_owned(), r[3].to_owned(), r[4].to_owned(), r[5].to_owned()))
        })
        .collect()
}

/// The suppression file's rows: address → (reason, detail).
fn suppressed(path: &Path) -> BTreeMap<String, (String, String)> {
    if !path.exists() {
        return BTreeMap::new();
    }
    let mut reader = csv::Reader::from_path(path).expect("the suppression file is readable");
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header, ["email", "reason", "date", "detail"]);
    reader
        .records()
        .map(|r| {
            let r = r.expect("a well-formed row");
            (r[0].to_owned(), (r[1].to_owned(), r[3].to_owned()))
        })
        .collect()
}

fn recipients(messages: &[Received]) -> Vec<String> {
    let mut all: Vec<String> = messages.iter().map(|m| m.recipient().to_lowercase()).collect();
    all.sort();
    all
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bounces").join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Samples whose every address is usable, so an import of them succeeds.
const USABLE: [&str; 12] = [
    "postfix-user-unknown.eml",
    "postfix-gmail-dmarc.eml",
    "exim-two-unknown.eml",
    "gmail-user-unknown.eml",
    "gmail-address-not-found.eml",
    "office365-recipient-not-found.eml",
    "outlook-mailbox-full.eml",
    "exchange-online-banned-ip.eml",
    "arf-abuse-two-recipients.eml",
    "auto-reply-away.eml",
    "not-bounce-forwarded-message.eml",
    "delayed-postfix.eml",
];

/// What an import of [`USABLE`] suppresses: hard bounces and complaints;
/// not the soft, blocked, delayed or non-bounces.
fn usable_suppressions() -> BTreeMap<String, String> {
    [
        ("kijitora@example.org", "hard-bounce"),
        ("kijitora@example.jp", "hard-bounce"),
        ("sabatora@example.jp", "hard-bounce"),
        ("userunknown@example.jp", "hard-bounce"),
        ("kijitora@example.de", "hard-bounce"),
        ("kijitora@example.com", "hard-bounce"),
        ("fake.rcpt@example.com", "complaint"),
        ("fake.rcpt2@example.net", "complaint"),
    ]
    .into_iter()
    .map(|(a, r)| (a.to_owned(), r.to_owned()))
    .collect()
}

/// The samples are real reports about messages no journal here holds: the
/// tests that are about reading them believe them with this flag.
const TRUST: &str = "--trust-unmatched";

/// A folder for an import: the subscriber list's folder, where the
/// suppression list goes, and nothing else yet.
fn mailbox() -> Test {
    Test::new().file("subscribers/subscribers.csv", "email\n")
}

fn reasons(path: &Path) -> BTreeMap<String, String> {
    suppressed(path).into_iter().map(|(a, (reason, _))| (a, reason)).collect()
}

/// A Postfix-style DSN for `to`, about the message `original_id` sent on
/// `date`, failing with `status` and `diagnostic`.
fn dsn(to: &str, original_id: &str, date: &str, status: &str, diagnostic: &str) -> String {
    format!(
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@relay.example.net (Mail Delivery System)\r\n\
         To: {FROM_EMAIL}\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: {date}\r\n\
         Message-ID: <dsn.{original_id}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\n<{to}>: {diagnostic}\r\n\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example.net\r\n\r\n\
         Final-Recipient: rfc822; {to}\r\nAction: failed\r\nStatus: {status}\r\n\
         Diagnostic-Code: smtp; {diagnostic}\r\n\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {FROM_EMAIL}\r\nTo: {to}\r\nDate: {date}\r\n\
         Message-ID: <{original_id}>\r\nSubject: News\r\n\r\n--B--\r\n"
    )
}

// ------------------------------------------------ refusals during a send

#[test]
fn refusals_during_a_send_are_listed_by_class_and_suppress_adds_only_the_hard_ones_which_the_next_send_skips()
{
    let (csv, addresses) = list(8);
    let faults = Faults::new()
        .reject(
            "reader02@example.org",
            "550 5.1.1 <reader02@example.org>: Recipient address rejected: User unknown",
        )
        .reject("reader04@example.org", "550 5.2.1 The email account that you tried to reach is disabled")
        .reject("reader05@example.org", "452 4.2.2 The email account that you tried to reach is over quota")
        .reject("reader07@example.org", "550 5.7.1 Message rejected as spam by content filter");
    let server = PyServer::start(&faults);
    let test = sending(server.port(), &csv).file(SECOND, bulletin_with("", "Second issue."));
    send(&test, SAMPLE_BULLETIN).code(1).stdout_has(", 4 failed of ");

    let listing = test.run(&["bounces", SAMPLE_BULLETIN, "--subscribers", "list.csv"]).code(0);
    for line in ["  hard       2", "  soft       1", "  blocked    1", "  unknown    0"] {
        assert!(listing.stdout.contains(line), "lacks {line:?}\n{}", listing.printed());
    }
    assert!(listing.stdout.contains("check the sending domain's reputation"), "{}", listing.printed());
    let row = |address: &str| {
        listing
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(address))
            .unwrap_or_else(|| panic!("no row for {address}\n{}", listing.printed()))
            .to_owned()
    };
    assert!(
        row("reader02@").contains("hard") && row("reader02@").contains("no such mailbox"),
        "{}",
        row("reader02@")
    );
    assert!(row("reader05@").contains("soft (1/3 in a row)"), "{}", row("reader05@"));
    assert!(
        row("reader07@").contains("blocked") && row("reader07@").contains("rejected as spam"),
        "{}",
        row("reader07@")
    );

    let rows = bounces_csv(&test, SAMPLE_BULLETIN);
    let class: BTreeMap<&str, &str> = rows.iter().map(|(a, (c, ..))| (a.as_str(), c.as_str())).collect();
    assert_eq!(
        class,
        BTreeMap::from([
            ("reader02@example.org", "hard"),
            ("reader04@example.org", "hard"),
            ("reader05@example.org", "soft"),
            ("reader07@example.org", "blocked"),
        ])
    );
    let (_, via, status, reply) = &rows["reader05@example.org"];
    assert_eq!((via.as_str(), status.as_str()), ("send", "4.2.2"));
    assert!(reply.contains("452") && reply.contains("gave up after 2 attempts"), "{reply}");

    let suppressed_path = test.join("suppressed.csv");
    test.run(&["bounces", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--suppress"])
        .code(0)
        .stdout_has("Suppressed 2 address(es) in suppressed.csv:");
    let rows = suppressed(&suppressed_path);
    assert_eq!(rows.keys().collect::<Vec<_>>(), ["reader02@example.org", "reader04@example.org"]);
    assert_eq!(rows["reader02@example.org"].0, "hard-bounce");
    assert!(rows["reader02@example.org"].1.contains("5.1.1"), "the detail is the relay's reply: {rows:?}");
    test.run(&["bounces", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--suppress"])
        .code(0)
        .stdout_has("Suppressed 0 address(es) in suppressed.csv (2 already there).");

    // The next campaign skips the suppressed addresses.
    let before = server.messages().len();
    send(&test, SECOND).code(1).stdout_has("2 suppressed");
    let second: Vec<Received> = server.messages().into_iter().skip(before).collect();
    let mut expected: Vec<String> = addresses
        .iter()
        .filter(|a| {
            !["reader02@example.org", "reader04@example.org", "reader05@example.org", "reader07@example.org"]
                .contains(&a.as_str())
        })
        .cloned()
        .collect();
    expected.sort();
    assert_eq!(recipients(&second), expected);

    // reader05 is now full two campaigns in a row: at a limit of 2 it goes.
    test.run(&["bounces", SECOND, "--subscribers", "list.csv"]).code(0).stdout_has("soft (2/3 in a row)");
    let mut strict = test;
    strict.set_env("BOUNCE_SOFT_LIMIT", "2");
    strict
        .run(&["bounces", SECOND, "--subscribers", "list.csv", "--suppress"])
        .code(0)
        .stdout_has("Suppressed 1 address(es)");
    let rows = suppressed(&suppressed_path);
    assert_eq!(rows["reader05@example.org"].0, "soft-bounces");
    assert!(rows["reader05@example.org"].1.starts_with("2 soft bounces in a row"), "{rows:?}");
    assert!(!rows.contains_key("reader07@example.org"), "a blocked address is never suppressed");
}

#[test]
fn a_bounce_report_about_one_of_our_messages_is_matched_to_its_campaign_and_recipient_through_the_journal() {
    let (csv, _) = list(3);
    let server = PyServer::start(&Faults::new());
    let test = sending(server.port(), &csv);
    send(&test, SAMPLE_BULLETIN).code(0);
    let message = server.messages().into_iter().find(|m| m.recipient() == "reader03@example.org").unwrap();
    let id = message.message_id();
    let id = id.trim_matches(['<', '>']);
    // The mailbox forwarded to an address that does not exist: the report
    // names that address, the journal says whom we sent it to.
    let report = dsn(
        "reader03.forward@elsewhere.example",
        id,
        "Thu, 16 Oct 2025 14:05:00 +0000",
        "5.1.1",
        "550 5.1.1 <reader03.forward@elsewhere.example>: Recipient address rejected: User unknown",
    );
    let test = test.file("bounces/new/1.eml", report);
    test.run(&["bounces", "import", "bounces", "--subscribers", "list.csv"])
        .code(0)
        .stdout_has("  hard         1")
        .stdout_has("Suppressed 1 address(es) in suppressed.csv:");
    assert_eq!(
        reasons(&test.join("suppressed.csv")),
        BTreeMap::from([("reader03@example.org".to_owned(), "hard-bounce".to_owned())])
    );
    let rows = bounces_csv(&test, SAMPLE_BULLETIN);
    let (class, via, status, _) = &rows["reader03@example.org"];
    assert_eq!((class.as_str(), via.as_str(), status.as_str()), ("hard", "report", "5.1.1"));
}

// ----------------------------------------------------------------- import

#[test]
fn importing_a_maildir_suppresses_hard_bounces_and_complaints_but_not_soft_blocked_or_other_mail() {
    let mut test = mailbox();
    for (i, name) in USABLE.iter().enumerate() {
        let folder = if i % 2 == 0 { "cur" } else { "new" };
        test = test.file(&format!("Maildir/{folder}/{i:02}.{name}:2,S"), fixture(name));
    }
    test = test.file("Maildir/tmp/partial", "From: x\r\n");
    let run = test.run(&["bounces", "import", "Maildir", TRUST]).code(0);
    for line in [
        "Read 12 message(s) from Maildir Maildir",
        "  hard         6",
        "  soft         1",
        "  blocked      2",
        "  complaints   2",
        "  delayed      1",
        "  not bounces  2 (ignored, 1 of them an auto-reply)",
        "Suppressed 8 address(es) in subscribers/suppressed.csv:",
    ] {
        assert!(run.stdout.contains(line), "lacks {line:?}\n{}", run.printed());
    }
    assert_eq!(reasons(&test.join("subscribers/suppressed.csv")), usable_suppressions());
    assert!(test.join(".bulletin/bounces.sqlite3").exists());
}

#[test]
fn importing_the_same_mailbox_again_counts_and_suppresses_nothing_twice() {
    let mut test = mailbox();
    for name in USABLE {
        test = test.file(&format!("mail/{name}"), fixture(name));
    }
    test.run(&["bounces", "import", "mail", TRUST]).code(0);
    let first = fs::read(test.join("subscribers/suppressed.csv")).unwrap();
    test.run(&["bounces", "import", "mail", TRUST])
        .code(0)
        .stdout_has("  hard         0")
        .stdout_has("  seen before  11 (imported earlier, not counted again)")
        .stdout_has("Suppressed 0 address(es)");
    assert_eq!(fs::read(test.join("subscribers/suppressed.csv")).unwrap(), first, "the file is unchanged");
}

#[test]
fn an_address_taken_back_after_a_hard_bounce_is_not_suppressed_again_by_an_old_report() {
    let test = mailbox().file("mail/a.eml", fixture("sendmail-user-unknown.eml"));
    test.run(&["bounces", "import", "mail", TRUST]).code(0).stdout_has("Suppressed 1 address(es)");
    // Someone removes the address from the list by hand (or resubscribes it).
    fs::write(test.join("subscribers/suppressed.csv"), "email,reason,date,detail\r\n").unwrap();
    test.run(&["bounces", "import", "mail", TRUST]).code(0).stdout_has("Suppressed 0 address(es)");
    assert!(reasons(&test.join("subscribers/suppressed.csv")).is_empty());
}

#[test]
fn an_mbox_file_single_files_and_a_folder_are_read_alike() {
    // An mbox of the samples, one body line quoted as mboxrd quotes it.
    let mut mbox = String::new();
    for name in USABLE {
        let text = String::from_utf8(fixture(name)).unwrap().replace("\r\n", "\n");
        mbox.push_str("From MAILER-DAEMON Thu Oct 16 14:02:13 2025\n");
        for line in text.lines() {
            if line.starts_with("From ") {
                mbox.push('>');
            }
            mbox.push_str(line);
            mbox.push('\n');
        }
        mbox.push('\n');
    }
    mbox = mbox.replacen("test\n", "test\n>From the sender, with love\n", 1);
    let mbox_test = mailbox().file("bounces.mbox", &mbox);
    mbox_test
        .run(&["bounces", "import", "bounces.mbox", TRUST])
        .code(0)
        .stdout_has("Read 12 message(s) from mbox bounces.mbox");
    assert_eq!(reasons(&mbox_test.join("subscribers/suppressed.csv")), usable_suppressions());

    let mut files = mailbox();
    let mut args = vec!["bounces".to_owned(), "import".to_owned(), TRUST.to_owned()];
    for (i, name) in USABLE.iter().enumerate() {
        // Half as single files, half in a folder.
        let path = if i % 2 == 0 { format!("single/{name}") } else { format!("folder/{name}") };
        if i % 2 == 0 {
            args.push(path.clone());
        }
        files = files.file(&path, fixture(name));
    }
    args.push("folder".to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    files.run(&args).code(0).stdout_has("Read 12 message(s) from ");
    assert_eq!(reasons(&files.join("subscribers/suppressed.csv")), usable_suppressions());
}

#[test]
fn soft_bounces_suppress_an_address_once_the_limit_is_reached_in_a_row_and_each_report_counts_once() {
    let full = |n: u32, date: &str| {
        dsn(
            "ana@example.org",
            &format!("2025-10-{n:02}-news.0123456789abcdef0123456{n}@hope.example.org"),
            date,
            "5.2.2",
            "552 5.2.2 The email account that you tried to reach is over quota",
        )
    };
    let test = mailbox()
        .file("week1/a.eml", full(2, "Thu, 02 Oct 2025 10:00:00 +0000"))
        .file("week2/a.eml", full(9, "Thu, 09 Oct 2025 10:00:00 +0000"))
        .file("week3/a.eml", full(16, "Thu, 16 Oct 2025 10:00:00 +0000"));
    let list = test.join("subscribers/suppressed.csv");
    test.run(&["bounces", "import", "week1", TRUST])
        .code(0)
        .stdout_has("ana@example.org  soft, 1 of 3 in a row");
    test.run(&["bounces", "import", "week2", TRUST]).code(0).stdout_has("soft, 2 of 3 in a row");
    // The first report again: already counted.
    test.run(&["bounces", "import", "week1", TRUST]).code(0).stdout_has("seen before  1");
    assert!(reasons(&list).is_empty(), "two soft bounces are under the limit");
    test.run(&["bounces", "import", "week3", TRUST])
        .code(0)
        .stdout_has("soft, 3 of 3 in a row")
        .stdout_has("Suppressed 1 address(es)");
    let rows = suppressed(&list);
    assert_eq!(rows["ana@example.org"].0, "soft-bounces");
    assert!(rows["ana@example.org"].1.starts_with("3 soft bounces in a row; last: "), "{rows:?}");
}

#[test]
fn unreadable_and_broken_messages_are_listed_with_the_reason_and_the_rest_is_imported() {
    let test = mailbox()
        .file("mail/1-good.eml", fixture("sendmail-user-unknown.eml"))
        .file("mail/2-empty.eml", "")
        .file("mail/3-not-mail.txt", "Shopping list: eggs, milk.\nBread.\n")
        .file("mail/4-no-recipient.eml", fixture("arf-abuse-no-recipient.eml"))
        .file("mail/5-binary.eml", [0u8, 159, 146, 150, 0, 1, 2, 255]);
    std::os::unix::fs::symlink(test.join("mail/gone.eml"), test.join("mail/6-dangling.eml")).unwrap();
    let run = test.run(&["bounces", "import", "mail", TRUST]).code(1);
    for needle in [
        "  unusable     5 (listed below)",
        "Could not use 5 message(s):",
        "mail/2-empty.eml: the file is empty",
        "mail/3-not-mail.txt: not an email message",
        "mail/4-no-recipient.eml: a complaint that does not say which address",
        "mail/5-binary.eml: not an email message",
        "mail/6-dangling.eml: cannot read it: ",
        "Suppressed 1 address(es)",
    ] {
        assert!(run.stdout.contains(needle), "lacks {needle:?}\n{}", run.printed());
    }
    assert_eq!(
        reasons(&test.join("subscribers/suppressed.csv")),
        BTreeMap::from([("userunknown@bouncehammer.jp".to_owned(), "hard-bounce".to_owned())])
    );
}

#[test]
fn a_dry_run_says_what_would_be_suppressed_and_writes_nothing() {
    let test = mailbox()
        .file("mail/a.eml", fixture("gmail-user-unknown.eml"))
        .file("subscribers/suppressed.csv", "email\nsomeone@example.org\n");
    test.run(&["bounces", "import", "mail", "--dry-run", TRUST])
        .code(0)
        .stdout_has("(dry run: nothing is written)")
        .stdout_has("Would suppress 1 address(es) in subscribers/suppressed.csv:")
        .stdout_has("userunknown@example.jp");
    assert_eq!(
        fs::read_to_string(test.join("subscribers/suppressed.csv")).unwrap(),
        "email\nsomeone@example.org\n"
    );
    assert!(!test.join(".bulletin").exists(), "no ledger is made");
    // A real import afterwards still finds the report new.
    test.run(&["bounces", "import", "mail", TRUST]).code(0).stdout_has("Suppressed 1 address(es)");
}

#[test]
fn a_path_that_does_not_exist_stops_the_import_before_anything_is_read() {
    let test = mailbox().file("mail/a.eml", fixture("gmail-user-unknown.eml"));
    let run = test.run(&["bounces", "import", "mail", "no-such-maildir"]).code(2);
    assert!(run.stderr.contains("cannot read no-such-maildir"), "{}", run.printed());
    assert!(!test.join("subscribers/suppressed.csv").exists());
}

#[test]
fn listing_a_campaign_with_no_journal_says_nothing_was_sent() {
    Test::with_sample()
        .run(&["bounces", SAMPLE_BULLETIN])
        .code(0)
        .stdout_has("journal    none yet in .bulletin (nothing sent)")
        .stdout_has("No bounces recorded for this campaign.");
}

// ------------------------------------------------- believed only if ours

/// The bounce address the VERP tests set.
const BOUNCE_ADDRESS: &str = "bounces@hope.example.org";

/// The sample sent for real to `reader01`…`reader03` with `BOUNCE_ADDRESS`
/// and `UNSUBSCRIBE_SECRET` set, so each message's envelope sender carries
/// its recipient's token: the test, the server (kept running) and the
/// messages it received.
fn sent_with_verp() -> (Test, PyServer, Vec<Received>) {
    let (csv, addresses) = list(3);
    let server = PyServer::start(&Faults::new());
    let test = sending(server.port(), &csv)
        .env("BOUNCE_ADDRESS", BOUNCE_ADDRESS)
        .env("UNSUBSCRIBE_SECRET", "a-test-secret-for-verp-tokens");
    send(&test, SAMPLE_BULLETIN).code(0);
    let messages = server.messages();
    assert_eq!(recipients(&messages), addresses);
    (test, server, messages)
}

/// The message `messages` holds for `recipient`.
fn to<'a>(messages: &'a [Received], recipient: &str) -> &'a Received {
    messages.iter().find(|m| m.recipient() == recipient).unwrap_or_else(|| panic!("nothing to {recipient}"))
}

/// A DSN that came back to `returned_to` (as the bounce mailbox records
/// its envelope recipient, in `Delivered-To`, and as it is addressed)
/// about a failed delivery to `about`, quoting the original's `Message-ID`
/// when it is given.
fn returned(returned_to: &str, about: &str, original_id: Option<&str>) -> String {
    let date = "Thu, 16 Oct 2025 14:05:00 +0000";
    let original_id = original_id.map(|id| format!("Message-ID: {id}\r\n")).unwrap_or_default();
    format!(
        "Return-Path: <>\r\nDelivered-To: {returned_to}\r\n\
         From: MAILER-DAEMON@relay.example.net (Mail Delivery System)\r\n\
         To: {returned_to}\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: {date}\r\n\
         Message-ID: <dsn.{about}.1@relay.example.net>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\n<{about}>: 550 5.1.1 User unknown\r\n\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example.net\r\n\r\n\
         Final-Recipient: rfc822; {about}\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 <{about}>: Recipient address rejected: User unknown\r\n\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {FROM_EMAIL}\r\nTo: {about}\r\nDate: {date}\r\n\
         {original_id}Subject: News\r\n\r\n--B--\r\n"
    )
}

/// How many reports the bounce ledger holds.
fn ledger_rows(test: &Test) -> i64 {
    let path = test.join(".bulletin/bounces.sqlite3");
    if !path.exists() {
        return 0;
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.query_row("SELECT COUNT(*) FROM reports", [], |row| row.get(0)).unwrap()
}

const IMPORT: [&str; 5] = ["bounces", "import", "bounces", "--subscribers", "list.csv"];

#[test]
fn a_forged_report_about_a_subscriber_the_journal_never_mailed_is_listed_as_not_ours_and_changes_nothing() {
    let (test, _server, _) = sent_with_verp();
    // A reader who joined after the send: the journal never mailed them.
    let csv = fs::read_to_string(test.join("list.csv")).unwrap() + "newcomer@example.org,New Comer\n";
    let forged = returned(
        BOUNCE_ADDRESS,
        "newcomer@example.org",
        Some("<2025-10-16-ijm-prayer-requests.0123456789abcdef01234567@hope.example.org>"),
    );
    let test = test.file("list.csv", csv).file("bounces/new/1.eml", forged);
    test.run(&IMPORT)
        .code(0)
        .stdout_has("  hard         0\n")
        .stdout_has(
            "  not ours     1 (ignored: no VERP token or Message-ID we sent; --trust-unmatched to believe them",
        )
        .stdout_has("Suppressed 0 address(es)")
        .stdout_has("Not ours, so ignored: 1 report(s):")
        .stdout_has("bounces/new/1.eml: newcomer@example.org: no VERP token or Message-ID we sent");
    assert!(reasons(&test.join("suppressed.csv")).is_empty(), "nobody is suppressed");
    assert_eq!(ledger_rows(&test), 0, "nothing is recorded");

    // Told to, the import believes it.
    test.run(&[&IMPORT[..], &[TRUST]].concat())
        .code(0)
        .stdout_has("  hard         1\n")
        .stdout_has("  not ours     0\n")
        .stdout_has("  trusted      1 (matched no message we sent, believed because of --trust-unmatched)")
        .stdout_has("Suppressed 1 address(es)");
    assert_eq!(
        reasons(&test.join("suppressed.csv")),
        BTreeMap::from([("newcomer@example.org".to_owned(), "hard-bounce".to_owned())])
    );
    assert_eq!(ledger_rows(&test), 1);
}

#[test]
fn a_report_that_came_back_to_the_verp_address_or_quotes_our_message_id_is_believed() {
    let (test, _server, messages) = sent_with_verp();
    let (two, three) = (to(&messages, "reader02@example.org"), to(&messages, "reader03@example.org"));
    for message in [two, three] {
        let token =
            message.mail_from.strip_prefix("bounces+").and_then(|t| t.strip_suffix("@hope.example.org"));
        assert!(token.is_some_and(|t| t.len() == 16), "a VERP envelope sender: {}", message.mail_from);
    }
    assert_ne!(two.mail_from, three.mail_from, "each recipient has a token of their own");
    // reader02's report came back to its VERP address and quotes its
    // Message-ID; reader03's came back to its VERP address, upper-cased
    // on the way, and quotes nothing.
    let test = test
        .file("bounces/new/1.eml", returned(&two.mail_from, "reader02@example.org", Some(&two.message_id())))
        .file("bounces/new/2.eml", returned(&three.mail_from.to_uppercase(), "reader03@example.org", None));
    test.run(&IMPORT)
        .code(0)
        .stdout_has("  hard         2\n")
        .stdout_has("  not ours     0\n")
        .stdout_has("Suppressed 2 address(es) in suppressed.csv:");
    assert_eq!(
        reasons(&test.join("suppressed.csv")),
        BTreeMap::from([
            ("reader02@example.org".to_owned(), "hard-bounce".to_owned()),
            ("reader03@example.org".to_owned(), "hard-bounce".to_owned()),
        ])
    );
    assert_eq!(ledger_rows(&test), 2);
    let rows = bounces_csv(&test, SAMPLE_BULLETIN);
    for reader in ["reader02@example.org", "reader03@example.org"] {
        let (class, via, ..) = &rows[reader];
        assert_eq!((class.as_str(), via.as_str()), ("hard", "report"), "{reader}: {rows:?}");
    }
}

#[test]
fn a_verp_token_for_one_reader_in_a_report_about_another_is_not_believed() {
    let (test, _server, messages) = sent_with_verp();
    let one = to(&messages, "reader01@example.org");
    let test = test
        .file("mixed/1.eml", returned(&one.mail_from, "reader02@example.org", None))
        // Both of reader01's, but its token with reader02's Message-ID.
        .file(
            "mixed/2.eml",
            returned(
                &one.mail_from,
                "reader01@example.org",
                Some(&to(&messages, "reader02@example.org").message_id()),
            ),
        )
        .file(
            "made-up/1.eml",
            returned("bounces+0123456789abcdef@hope.example.org", "reader01@example.org", None),
        );
    for args in [
        &["bounces", "import", "mixed", "--subscribers", "list.csv"][..],
        &["bounces", "import", "mixed", "--subscribers", "list.csv", TRUST],
    ] {
        test.run(args)
            .code(0)
            .stdout_has("  hard         0\n")
            .stdout_has("  not ours     2 (ignored: ")
            .stdout_has("mixed/1.eml: reader02@example.org: its VERP token or Message-ID is of our message to reader01@example.org, another recipient")
            .stdout_has("mixed/2.eml: reader01@example.org: its VERP token and Message-ID are of messages to different recipients");
    }
    // A token nobody made is no token.
    test.run(&["bounces", "import", "made-up", "--subscribers", "list.csv"])
        .code(0)
        .stdout_has("  not ours     1 (ignored: ")
        .stdout_has("made-up/1.eml: reader01@example.org: no VERP token or Message-ID we sent");
    assert!(reasons(&test.join("suppressed.csv")).is_empty(), "nobody is suppressed");
    assert_eq!(ledger_rows(&test), 0, "nothing is recorded");
}

#[test]
fn with_a_bounce_address_the_dry_run_and_a_test_copy_show_the_verp_envelope_sender_a_send_uses() {
    let (test, server, messages) = sent_with_verp();
    // A dry run now writes only what a send would send, and this campaign
    // is sent: a journal of its own (an empty state folder) shows everyone.
    let dry_run = ["--dry-run", "--out", "out", "--state-dir", "fresh-state"];
    let mut args = vec!["send", SAMPLE_BULLETIN, "--subscribers", "list.csv"];
    args.extend(dry_run);
    test.run(&args).code(0);
    let index = fs::read_to_string(test.join("out/index.html")).unwrap();
    for message in &messages {
        let row = index
            .lines()
            .find(|l| l.starts_with("<tr>") && l.contains(message.recipient()))
            .unwrap_or_else(|| panic!("no row for {}\n{index}", message.recipient()));
        assert!(row.contains(&format!("<td>{}</td>", message.mail_from)), "{row}");
    }

    test.run(&[
        "send",
        SAMPLE_BULLETIN,
        "--subscribers",
        "list.csv",
        "--to",
        "editor@hope.example.org",
        "--yes",
    ])
    .code(0);
    let all = server.messages();
    let copy = to(&all, "editor@hope.example.org");
    assert!(
        copy.mail_from.starts_with("bounces+") && copy.mail_from.ends_with("@hope.example.org"),
        "{}",
        copy.mail_from
    );
    assert!(
        messages.iter().all(|m| m.mail_from != copy.mail_from),
        "the copy's token is the test address's own, not the subscriber's it shows"
    );
}
