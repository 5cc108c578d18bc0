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
    send(&test, SAMPLE_BULLETIN).code(1).stdout_has("failed    4");

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
    let run = test.run(&["bounces", "import", "Maildir"]).code(0);
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
    test.run(&["bounces", "import", "mail"]).code(0);
    let first = fs::read(test.join("subscribers/suppressed.csv")).unwrap();
    test.run(&["bounces", "import", "mail"])
        .code(0)
        .stdout_has("  hard         0")
        .stdout_has("  seen before  11 (imported earlier, not counted again)")
        .stdout_has("Suppressed 0 address(es)");
    assert_eq!(fs::read(test.join("subscribers/suppressed.csv")).unwrap(), first, "the file is unchanged");
}

#[test]
fn an_address_taken_back_after_a_hard_bounce_is_not_suppressed_again_by_an_old_report() {
    let test = mailbox().file("mail/a.eml", fixture("sendmail-user-unknown.eml"));
    test.run(&["bounces", "import", "mail"]).code(0).stdout_has("Suppressed 1 address(es)");
    // Someone removes the address from the list by hand (or resubscribes it).
    fs::write(test.join("subscribers/suppressed.csv"), "email,reason,date,detail\r\n").unwrap();
    test.run(&["bounces", "import", "mail"]).code(0).stdout_has("Suppressed 0 address(es)");
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
        .run(&["bounces", "import", "bounces.mbox"])
        .code(0)
        .stdout_has("Read 12 message(s) from mbox bounces.mbox");
    assert_eq!(reasons(&mbox_test.join("subscribers/suppressed.csv")), usable_suppressions());

    let mut files = mailbox();
    let mut args = vec!["bounces".to_owned(), "import".to_owned()];
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
    test.run(&["bounces", "import", "week1"]).code(0).stdout_has("ana@example.org  soft, 1 of 3 in a row");
    test.run(&["bounces", "import", "week2"]).code(0).stdout_has("soft, 2 of 3 in a row");
    // The first report again: already counted.
    test.run(&["bounces", "import", "week1"]).code(0).stdout_has("seen before  1");
    assert!(reasons(&list).is_empty(), "two soft bounces are under the limit");
    test.run(&["bounces", "import", "week3"])
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
    let run = test.run(&["bounces", "import", "mail"]).code(1);
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
    test.run(&["bounces", "import", "mail", "--dry-run"])
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
    test.run(&["bounces", "import", "mail"]).code(0).stdout_has("Suppressed 1 address(es)");
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
