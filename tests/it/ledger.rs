//! The consent ledger end to end (issue 23, rows 1, 2 and 4–6, and every
//! way onto the list being a row of it): the real
//! `bulletin serve` on 127.0.0.1, its confirmation emails through a real
//! SMTP server (aiosmtpd), the CLI on the same folder, and the dry runs
//! that say who would be mailed. The randomized checker that tries these
//! in every order is `consent.rs`.

use std::time::Duration;

use pretty_assertions::assert_eq;

use crate::send_util::{Faults, PyServer};
use crate::signup::{Answer, answer, confirm_link, dry_run, preference_links, serve, sign_up, signup_test};
use crate::unsubscribe::client;

/// A sign-up posted as if from `ip`, through the reverse proxy on this
/// machine (which the server trusts by default).
fn sign_up_from(server: &crate::unsubscribe::Server, ip: &str, email: &str) -> Answer {
    answer(
        client()
            .post(format!("{}/subscribe", server.origin))
            .header("X-Forwarded-For", ip)
            .send_form([("email", email)]),
    )
}

/// Waits a bounded moment for messages that must not come, after the one
/// that had to.
fn settle() {
    std::thread::sleep(Duration::from_millis(500));
}

fn to_mailbox(smtp: &PyServer, needle: &str) -> usize {
    smtp.messages().iter().filter(|m| m.recipient().to_lowercase().contains(needle)).count()
}

#[test]
fn one_network_cannot_flood_one_mailbox_and_real_sign_ups_still_get_through() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1);
    let server = serve(&test);
    // carol+1 … carol+300 from one IPv6 /64, a different /128 each.
    let statuses: Vec<u16> = (1..=300)
        .map(|i| {
            sign_up_from(&server, &format!("2001:db8:1:2::{i:x}"), &format!("carol+{i}@victim.test")).status
        })
        .collect();
    assert!(statuses[..5].iter().all(|&s| s == 200), "{statuses:?}");
    assert!(statuses[5..].iter().all(|&s| s == 429), "the /64 is one client: {statuses:?}");
    // Meanwhile real readers, each from their own network, get through.
    for i in 1..=20 {
        let real = sign_up_from(&server, &format!("198.51.100.{i}"), &format!("reader{i}@example.org"));
        assert_eq!(real.status, 200, "reader {i}: {}", real.body);
    }
    smtp.wait_for_message_to("reader20@example.org");
    settle();
    assert_eq!(to_mailbox(&smtp, "carol"), 1, "one email a day into carol's mailbox");
    assert_eq!(to_mailbox(&smtp, "reader"), 20);
}

#[test]
fn seven_spellings_of_one_mailbox_get_one_email_and_a_domain_literal_none() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1);
    let server = serve(&test);
    let spellings = [
        "\"bob\"@victim.test",
        "bob@victim.test",
        "BOB@Victim.Test",
        "bob+news@victim.test",
        "bob@[127.0.0.1]",
        "ulla@bücher.test",
        "ulla@xn--bcher-kva.test",
        "b.o.b@gmail.com",
        "bob@googlemail.com",
    ];
    for (i, email) in spellings.iter().enumerate() {
        let signed = sign_up_from(&server, &format!("203.0.113.{}", i + 1), email);
        assert_eq!(signed.status, 200, "{email}: {}", signed.body);
    }
    assert_eq!(sign_up_from(&server, "203.0.113.99", "control@example.org").status, 200);
    smtp.wait_for_message_to("control@example.org");
    settle();
    let recipients: Vec<String> = smtp.messages().iter().map(|m| m.recipient().to_lowercase()).collect();
    let count = |f: &dyn Fn(&str) -> bool| recipients.iter().filter(|r| f(r)).count();
    assert_eq!(count(&|r| r.contains("@victim.test") || r.contains("bob@[")), 1, "{recipients:?}");
    assert_eq!(count(&|r| r.starts_with("ulla@")), 1, "{recipients:?}");
    assert_eq!(count(&|r| r.contains("gmail.com")), 1, "{recipients:?}");
    assert_eq!(count(&|r| r.contains('[')), 0, "a domain literal is never emailed: {recipients:?}");
}

#[test]
fn an_untrusted_forwarded_for_header_is_ignored_so_rotating_it_does_not_get_past_the_limit() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1).env("TRUSTED_PROXIES", "192.0.2.1");
    let server = serve(&test);
    let statuses: Vec<u16> = (1..=12)
        .map(|i| sign_up_from(&server, &format!("198.51.100.{i}"), &format!("r{i}@example.org")).status)
        .collect();
    assert!(statuses[..5].iter().all(|&s| s == 200), "{statuses:?}");
    assert!(statuses[5..].iter().all(|&s| s == 429), "the header is not believed: {statuses:?}");
}

#[test]
fn addresses_suppressed_for_a_complaint_a_bounce_or_an_erasure_get_the_usual_answer_and_no_email() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1).file(
        "suppressed.csv",
        "email,reason,date,detail\r\n\
         spam@example.org,complaint,2026-01-01T00:00:00Z,\r\n\
         dead@example.org,hard-bounce,2026-01-01T00:00:00Z,550 no such user\r\n\
         left@example.org,unsubscribed,2026-01-01T00:00:00Z,\r\n",
    );
    test.run(&["forget", "gone@example.org", "--subscribers", "list.csv"]).code(0);
    let server = serve(&test);
    let usual = sign_up_from(&server, "198.51.100.1", "new@example.org");
    for (i, who) in
        ["spam@example.org", "dead@example.org", "gone@example.org", "left@example.org"].iter().enumerate()
    {
        let answered = sign_up_from(&server, &format!("198.51.100.{}", i + 2), who);
        assert_eq!((answered.status, &answered.body), (200, &usual.body), "{who}");
    }
    smtp.wait_for_message_to("new@example.org");
    // The reader's own unsubscribe can be undone by confirming: they are
    // sent a link.
    smtp.wait_for_message_to("left@example.org");
    settle();
    let mut recipients: Vec<String> = smtp.messages().iter().map(|m| m.recipient().to_owned()).collect();
    recipients.sort();
    assert_eq!(recipients, ["left@example.org", "new@example.org"]);
}

#[test]
fn an_old_confirmation_link_never_undoes_a_later_opt_out_or_an_erasure_whatever_the_link_lifetime() {
    let smtp = PyServer::start(&Faults::new());
    let mut test = signup_test(&smtp, 1).env("CONFIRM_HOURS", "72").with_test_clock();
    let server = serve(&test);
    assert_eq!(sign_up(&server, &[("email", "ann@example.org")]).status, 200);
    smtp.wait_for_message_to("ann@example.org");
    let link = server.local(&confirm_link(&smtp.messages()[0]));
    assert_eq!(answer(client().post(&link).send_form([("confirm", "yes")])).status, 200);
    // Two seconds later (past the ledger's one-second resolution), she
    // replies "please remove me", and the server restarts with a shorter
    // link lifetime.
    test.set_clock_ahead(2.0);
    test.run(&[
        "unsubscribe",
        "ann@example.org",
        "--subscribers",
        "list.csv",
        "--note",
        "replied: please remove",
    ])
    .code(0);
    let (code, _, _) = server.stop();
    assert_eq!(code, Some(0));
    test.set_env("CONFIRM_HOURS", "1");
    let server = serve(&test);
    let link = server.local(&confirm_link(&smtp.messages()[0]));
    let replayed = answer(client().post(&link).send_form([("confirm", "yes")]));
    assert_eq!(replayed.status, 410, "{}", replayed.body);
    assert!(replayed.body.contains("Nothing has been changed"), "{}", replayed.body);
    let to: Vec<String> =
        dry_run(&test, "content/ijm-prayer-requests.md").into_iter().map(|(to, _)| to).collect();
    assert_eq!(to, ["reader01@example.org"], "her unsubscribe stands");

    // Erased: the same link still writes nothing, and names her nowhere.
    test.run(&["forget", "ann@example.org", "--subscribers", "list.csv"]).code(0);
    let replayed = answer(client().post(&link).send_form([("confirm", "yes")]));
    assert_eq!(replayed.status, 410, "{}", replayed.body);
    let to: Vec<String> =
        dry_run(&test, "content/ijm-prayer-requests.md").into_iter().map(|(to, _)| to).collect();
    assert_eq!(to, ["reader01@example.org"]);
    for file in ["suppressed.csv", "signups.csv", "list.csv"] {
        let text = std::fs::read_to_string(test.join(file)).unwrap_or_default();
        assert!(!text.to_lowercase().contains("ann@"), "{file} names her again:\n{text}");
    }
}

#[test]
fn a_mailchimp_export_spelling_one_address_two_ways_is_one_person_and_the_unsubscribe_wins() {
    use std::io::Write as _;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, text) in [
        (
            "subscribed_members_export_1a2b.csv",
            "Email Address,First Name,Last Name\r\n\"\"\"bob\"\"@victim.test\",Bob,Quoted\r\n\
             ulla@bücher.test,Ulla,Unicode\r\nulla@xn--bcher-kva.test,Ulla,Punycode\r\nana@example.org,Ana,Silva\r\n",
        ),
        (
            "unsubscribed_members_export_1a2b.csv",
            "Email Address,First Name,Last Name\r\nbob@victim.test,Bob,Plain\r\n",
        ),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    let test = crate::util::Test::with_sample().file("export.zip", zip.finish().unwrap().into_inner());
    test.run(&["import", "mailchimp", "export.zip"]);
    let _ = std::fs::remove_dir_all(test.join("out"));
    test.run(&["send", "content/ijm-prayer-requests.md", "--dry-run", "--out", "out"]).code(0);
    let to: Vec<String> = test.emls("out").iter().map(|e| e.to_address().to_lowercase()).collect();
    assert!(!to.iter().any(|t| t.contains("bob")), "the quoted spelling was mailed: {to:?}");
    assert_eq!(to.iter().filter(|t| t.starts_with("ulla@")).count(), 1, "{to:?}");
    assert!(to.contains(&"ana@example.org".to_owned()), "{to:?}");
}

/// A Mailchimp export (a ZIP) of these subscribed members' CSV text.
fn mailchimp_export(subscribed: &str) -> Vec<u8> {
    use std::io::Write as _;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("subscribed_members_export_1a2b.csv", zip::write::SimpleFileOptions::default()).unwrap();
    zip.write_all(format!("Email Address,First Name,Last Name\r\n{subscribed}").as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

/// The ledger's rows as (email, reason, detail, has a date, has an issue time).
fn ledger_rows(path: &std::path::Path) -> Vec<(String, String, String, bool, bool)> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name);
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let cell = |name: &str| at(name).and_then(|i| r.get(i)).unwrap_or_default().to_owned();
            (
                cell("email"),
                cell("reason"),
                cell("detail"),
                !cell("date").is_empty(),
                !cell("issued").is_empty(),
            )
        })
        .collect()
}

#[test]
fn every_way_onto_the_list_and_every_change_a_reader_makes_is_a_dated_row_of_the_ledger_and_forget_erases_them()
 {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1)
        .env("PREFERENCES_URL", "https://hope.example.org/preferences")
        .file("export.zip", mailchimp_export("mia@example.org,Mia,Moss\r\n"));
    let server = serve(&test);
    assert_eq!(sign_up(&server, &[("email", "ann@example.org"), ("name", "Ann")]).status, 200);
    smtp.wait_for_message_to("ann@example.org");
    let link = server.local(&confirm_link(&smtp.messages()[0]));
    assert_eq!(answer(client().post(&link).send_form([("confirm", "yes")])).status, 200);
    // The same link again is the same confirmation.
    assert_eq!(answer(client().post(&link).send_form([("confirm", "yes")])).status, 200);
    test.run(&["signups", "merge", "--subscribers", "list.csv"]).code(0);
    test.run(&["import", "mailchimp", "export.zip", "--subscribers", "list.csv"]).code(0);
    let to_ann = server.local(&preference_links(&test)["ann@example.org"]);
    let saved = answer(client().post(to_ann).send_form([("action", "save"), ("interests", "news")]));
    assert_eq!(saved.status, 200, "{}", saved.body);
    drop(server);

    let rows = ledger_rows(&test.join("suppressed.csv"));
    let told: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(email, reason, detail, ..)| (email.as_str(), reason.as_str(), detail.as_str()))
        .collect();
    assert_eq!(
        told,
        [
            ("ann@example.org", "signed-up", "sign-up page"),
            ("ann@example.org", "confirmed", "sign-up page"),
            ("ann@example.org", "merged", "signups merge"),
            ("mia@example.org", "imported", "Mailchimp export export.zip"),
            ("ann@example.org", "interests", "news"),
        ]
    );
    assert!(rows.iter().all(|row| row.3), "every row is dated: {rows:?}");
    assert!(rows[1].4, "a confirmation says when its link was issued: {rows:?}");
    let mut to: Vec<String> =
        dry_run(&test, "content/ijm-prayer-requests.md").into_iter().map(|(to, _)| to).collect();
    to.sort();
    assert_eq!(
        to,
        ["ann@example.org", "mia@example.org", "reader01@example.org"],
        "the records block nobody"
    );

    test.run(&["forget", "ann@example.org", "--subscribers", "list.csv"]).code(0);
    let rows = ledger_rows(&test.join("suppressed.csv"));
    assert!(rows.iter().all(|(email, ..)| !email.contains("ann@")), "{rows:?}");
    assert_eq!(rows.iter().filter(|(_, reason, ..)| reason == "forgotten").count(), 1, "{rows:?}");
    assert!(rows.iter().any(|(email, reason, ..)| email == "mia@example.org" && reason == "imported"));
}

#[test]
fn an_import_never_adds_someone_who_opted_out_while_it_ran_and_records_only_whom_it_added() {
    let test = crate::util::Test::with_sample()
        .file("export.zip", mailchimp_export("kim@example.org,Kim,Lo\r\nlee@example.org,Lee,Ng\r\n"));
    test.run(&["unsubscribe", "kim@example.org"]).code(0);
    test.run(&["import", "mailchimp", "export.zip"]).code(0);
    let rows = ledger_rows(&test.join("subscribers/suppressed.csv"));
    let reasons: Vec<(&str, &str)> = rows
        .iter()
        .filter(|(e, ..)| e.starts_with("kim@") || e.starts_with("lee@"))
        .map(|(e, r, ..)| (e.as_str(), r.as_str()))
        .collect();
    assert_eq!(reasons, [("kim@example.org", "requested"), ("lee@example.org", "imported")]);
    let list = std::fs::read_to_string(test.join("subscribers/subscribers.csv")).unwrap();
    assert!(!list.contains("kim@"), "{list}");
}
