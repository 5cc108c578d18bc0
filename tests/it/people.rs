//! People's data (issue 17): `bulletin import mailchimp` from a ZIP (made
//! here with the `zip` crate, with Mailchimp's real column names) or its
//! unzipped folder, then `bulletin export` and `bulletin forget` of one
//! address after a real send to smtp-sink and a bounce import, so that
//! every kind of record exists; the folder's files are searched byte by
//! byte afterwards.

use std::io::Write as _;

use pretty_assertions::assert_eq;

use crate::send_util::{FROM_EMAIL, SinkServer, to_relay};
use crate::util::{Test, bulletin};

/// Mailchimp's own columns of every export file, in its order, after the
/// audience's merge fields.
const SYSTEM: &str = "MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,\
                      DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,NOTES,TAGS";

/// A subscribed member's row: merge fields, then [`SYSTEM`]'s cells.
fn member(email: &str, first: &str, last: &str, church: &str, tags: &str) -> String {
    format!(
        "{email},{first},{last},{church},2,\"2023-01-02 03:04:05\",192.0.2.1,\"2023-01-02 03:05:00\",\
         192.0.2.1,,,,,,GB,,\"2024-05-06 07:08:09\",123456,abcdef1234,,{tags}"
    )
}

/// The three files of an audience export: four members subscribed (one of
/// whom also unsubscribed, one already on the list), a row with no valid
/// address, two unsubscribed and one cleaned.
fn export_files() -> Vec<(&'static str, String)> {
    let header = format!("\"Email Address\",\"First Name\",\"Last Name\",Church,{SYSTEM}");
    let subscribed = [
        header.clone(),
        member("ana@example.org", "Ana", "Silva", "St Mary", "\"\"\"Prayer\"\",\"\"News\"\"\""),
        member("bo@example.org", "Bo", "Berg", "", ""),
        member("Old@Example.org", "Changed", "Name", "", ""),
        member("gone@example.org", "Gone", "Away", "", ""),
        member("not-an-address", "No", "Body", "", ""),
    ];
    let unsubscribed = [
        format!("{header},UNSUB_TIME,UNSUB_CAMPAIGN_TITLE,UNSUB_CAMPAIGN_ID,UNSUB_REASON,UNSUB_REASON_OTHER"),
        format!(
            "{},\"2024-02-03 04:05:06\",\"Spring appeal\",abc123,\"I no longer want to receive these emails\",",
            member("gone@example.org", "Gone", "Away", "", "")
        ),
        format!("{},\"2024-02-04 04:05:06\",,,,", member("left@example.org", "Left", "Us", "", "")),
    ];
    let cleaned = [
        format!("{header},CLEAN_TIME,CLEAN_CAMPAIGN_TITLE,CLEAN_CAMPAIGN_ID"),
        format!(
            "{},\"2024-03-01 00:00:00\",\"Summer news\",def456",
            member("dead@example.org", "Dead", "Box", "", "")
        ),
    ];
    vec![
        ("subscribed_members_export_1a2b3c4d5e.csv", subscribed.join("\r\n") + "\r\n"),
        ("unsubscribed_members_export_1a2b3c4d5e.csv", unsubscribed.join("\r\n") + "\r\n"),
        ("cleaned_members_export_1a2b3c4d5e.csv", cleaned.join("\r\n") + "\r\n"),
    ]
}

/// The export as Mailchimp sends it: one ZIP file, deflated.
fn export_zip() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in export_files() {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A line of the import's summary: a label and a count, aligned.
fn count(label: &str, n: usize) -> String {
    format!("  {label:<24}{n}")
}

/// The recipients of a dry run's messages, sorted.
fn dry_run_recipients(test: &Test, bulletin: &str, out: &str) -> Vec<String> {
    test.run(&["send", bulletin, "--dry-run", "--out", out]).code(0);
    let mut to: Vec<String> = test.emls(out).iter().map(|e| e.to_address().to_lowercase()).collect();
    to.sort();
    to
}

/// The rows of a CSV file as header → value maps.
fn rows(path: &std::path::Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    reader
        .records()
        .map(|r| header.iter().cloned().zip(r.unwrap().iter().map(str::to_owned)).collect())
        .collect()
}

#[test]
fn a_mailchimp_export_adds_the_subscribed_suppresses_the_unsubscribed_and_cleaned_and_a_dry_run_mails_only_the_subscribed()
 {
    let test = Test::new()
        .file("bulletin.md", bulletin("Hello {{ first_name }}."))
        .file("subscribers/subscribers.csv", "email,first_name,last_name\nold@example.org,Old,Friend\n")
        .file("export.zip", export_zip());

    let run = test.run(&["import", "mailchimp", "export.zip"]).code(1);
    let out = run.stdout.clone();
    for line in [
        count("added", 2),
        count("already on the list", 1),
        count("left Mailchimp", 1),
        count("mailchimp-unsubscribed", 2),
        count("mailchimp-cleaned", 1),
        count("invalid", 1),
    ] {
        assert!(out.contains(&line), "{line:?} missing from\n{}", run.printed());
    }
    assert!(
        run.printed().contains("subscribed_members_export_1a2b3c4d5e.csv:6: invalid email address"),
        "{}",
        run.printed()
    );

    let list = rows(&test.join("subscribers/subscribers.csv"));
    let emails: Vec<&str> = list.iter().map(|r| r["email"].as_str()).collect();
    assert_eq!(emails, ["old@example.org", "ana@example.org", "bo@example.org"]);
    assert_eq!(
        (list[0]["first_name"].as_str(), list[0]["last_name"].as_str()),
        ("Old", "Friend"),
        "an existing row keeps its data"
    );
    assert_eq!(list[1]["tags"], "Prayer;News");
    assert_eq!(list[1]["optin_time"], "2023-01-02 03:04:05");
    assert_eq!(list[1]["confirm_time"], "2023-01-02 03:05:00");
    assert_eq!(list[1]["church"], "St Mary", "a merge field of the audience is kept as a column");
    assert!(!list[1].contains_key("leid") && !list[1].contains_key("member_rating"));

    let suppressed = rows(&test.join("subscribers/suppressed.csv"));
    let reasons: Vec<(&str, &str)> =
        suppressed.iter().map(|r| (r["email"].as_str(), r["reason"].as_str())).collect();
    assert_eq!(
        reasons,
        [
            ("gone@example.org", "mailchimp-unsubscribed"),
            ("left@example.org", "mailchimp-unsubscribed"),
            ("dead@example.org", "mailchimp-cleaned"),
            // The consent ledger records whom the import added.
            ("ana@example.org", "imported"),
            ("bo@example.org", "imported"),
        ]
    );
    assert!(suppressed[0]["detail"].contains("I no longer want to receive these emails"));
    assert!(suppressed[2]["detail"].contains("Summer news"));

    assert_eq!(
        dry_run_recipients(&test, "bulletin.md", "out"),
        ["ana@example.org", "bo@example.org", "old@example.org"]
    );

    // Importing the same export again adds nothing.
    let again = test.run(&["import", "mailchimp", "export.zip"]).code(1);
    assert!(again.stdout.contains(&count("added", 0)), "{}", again.printed());
    assert!(again.stdout.contains(&count("already on the list", 3)), "{}", again.printed());
    assert_eq!(rows(&test.join("subscribers/subscribers.csv")).len(), 3);
    assert_eq!(rows(&test.join("subscribers/suppressed.csv")).len(), 5);
}

#[test]
fn an_unzipped_export_folder_makes_a_new_list_with_nobody_who_left_mailchimp_on_it() {
    let mut test = Test::new().file("bulletin.md", bulletin("Hello."));
    for (name, text) in export_files() {
        test = test.file(&format!("export/{name}"), text);
    }
    test.run(&["import", "mailchimp", "export", "--subscribers", "list.csv"]).code(1);
    let list = rows(&test.join("list.csv"));
    let emails: Vec<&str> = list.iter().map(|r| r["email"].as_str()).collect();
    assert_eq!(emails, ["ana@example.org", "bo@example.org", "Old@Example.org"]);
    assert_eq!(list[0]["first_name"], "Ana");
    let run = test.run(&["send", "bulletin.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]);
    run.code(0);
    let mut to: Vec<String> = test.emls("out").iter().map(|e| e.to_address().to_lowercase()).collect();
    to.sort();
    assert_eq!(to, ["ana@example.org", "bo@example.org", "old@example.org"]);
}

#[test]
fn a_folder_with_no_mailchimp_files_is_refused_and_nothing_is_written() {
    let test = Test::new().file("export/readme.txt", "hello").file("subscribers/subscribers.csv", "email\n");
    let run = test.run(&["import", "mailchimp", "export"]).code(2);
    assert!(run.printed().contains("subscribed_members_export"), "{}", run.printed());
    assert!(!test.join("subscribers/suppressed.csv").exists());
    assert_eq!(std::fs::read_to_string(test.join("subscribers/subscribers.csv")).unwrap(), "email\n");
}

/// Issue 23, row 8: names from a Mailchimp export that a spreadsheet would
/// run as formulas were written into the list as they were, while the
/// sign-up form's were escaped; and the escape then showed in To: lines.
#[test]
fn formula_like_names_from_mailchimp_are_escaped_in_the_list_and_shown_as_typed_in_the_messages() {
    let header = format!("\"Email Address\",\"First Name\",\"Last Name\",Church,{SYSTEM}");
    let export = [
        header,
        member("ana@example.org", "=cmd|' /C calc'!A0", "-2+3", "@SUM(1)", ""),
        member("bo@example.org", "=1+1", "Berg", "+44", ""),
    ]
    .join("\r\n")
        + "\r\n";
    let test = Test::new()
        .file("bulletin.md", bulletin("Hello {{ first_name }} of {{ church }}."))
        .file("subscribers/subscribers.csv", "email,first_name,last_name\n")
        .file("export/subscribed_members_export_1a2b3c4d5e.csv", export);
    test.run(&["import", "mailchimp", "export"]).code(0);

    let list = rows(&test.join("subscribers/subscribers.csv"));
    let cells: Vec<[&str; 3]> = list
        .iter()
        .map(|r| [r["first_name"].as_str(), r["last_name"].as_str(), r["church"].as_str()])
        .collect();
    assert_eq!(cells, [["'=cmd|' /C calc'!A0", "'-2+3", "'@SUM(1)"], ["'=1+1", "Berg", "'+44"]]);

    test.run(&["send", "bulletin.md", "--dry-run", "--out", "out"]).code(0);
    let mut seen: Vec<(String, String)> = test
        .emls("out")
        .iter()
        .map(|eml| {
            let message = eml.parse();
            let to =
                message.to().and_then(|a| a.first()).and_then(|a| a.name()).unwrap_or_default().to_owned();
            let greeting = eml.text().lines().find(|l| l.starts_with("Hello")).unwrap_or_default().to_owned();
            (to, greeting)
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("=1+1 Berg".to_owned(), "Hello =1+1 of +44.".to_owned()),
            ("=cmd|' /C calc'!A0 -2+3".to_owned(), "Hello =cmd|' /C calc'!A0 of @SUM(1).".to_owned()),
        ]
    );
}

/// Issue 23, row 9: a 1 MB ZIP holding one 1,000 MiB field was imported
/// with exit 0, 4.1 GB of memory and a 1 GB list. Here a 10 MB field, and a
/// name of 600 letters: each stops the import, naming the file inside the
/// ZIP, the line and the field, and nothing is written.
#[test]
fn an_export_with_a_field_too_long_for_a_name_is_refused_with_its_file_line_and_field_and_nothing_is_written()
{
    let header = format!("\"Email Address\",\"First Name\",\"Last Name\",Church,{SYSTEM}");
    for (long, field) in [("a".repeat(10 << 20), "First Name"), ("b".repeat(600), "Church")] {
        let (first, church) = if field == "Church" { ("Bo", long.as_str()) } else { (long.as_str(), "") };
        let subscribed = [
            header.clone(),
            member("ana@example.org", "Ana", "Silva", "", ""),
            member("bo@example.org", first, "Berg", church, ""),
        ]
        .join("\r\n");
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("subscribed_members_export_1a2b3c4d5e.csv", options).unwrap();
        zip.write_all(subscribed.as_bytes()).unwrap();
        let zip = zip.finish().unwrap().into_inner();
        assert!(zip.len() < 100_000, "the ZIP is small: {} bytes", zip.len());
        let list = "email,first_name\nold@example.org,Old\n";
        let test = Test::new().file("subscribers/subscribers.csv", list).file("export.zip", zip);

        let run = test.run(&["import", "mailchimp", "export.zip"]).code(2);
        let errors = run.error_lines();
        assert_eq!(errors.len(), 1, "{}", run.printed());
        for needle in ["subscribed_members_export_1a2b3c4d5e.csv:3", field] {
            assert!(errors[0].contains(needle), "{needle:?} missing from {}", errors[0]);
        }
        assert!(errors[0].len() < 1000, "the field itself is not printed: {} bytes", errors[0].len());
        assert_eq!(std::fs::read_to_string(test.join("subscribers/subscribers.csv")).unwrap(), list);
        assert!(!test.join("subscribers/suppressed.csv").exists());
    }
}

/// Issue 23, row 13: a CSV file saved as Windows-1252 inside a Mailchimp
/// export was refused as not UTF-8, though lists in Windows-1252 are read.
#[test]
fn a_windows_1252_file_inside_a_mailchimp_export_is_read_as_lists_in_windows_1252_are() {
    let header = format!("\"Email Address\",\"First Name\",\"Last Name\",Church,{SYSTEM}");
    let text = [header, member("jose@example.org", "José", "Núñez", "São Paulo", "")].join("\r\n") + "\r\n";
    let latin1: Vec<u8> = text.chars().map(|c| u8::try_from(u32::from(c)).expect("Latin-1")).collect();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("subscribed_members_export_1a2b3c4d5e.csv", options).unwrap();
    zip.write_all(&latin1).unwrap();
    let test = Test::new()
        .file("subscribers/subscribers.csv", "email,first_name,last_name\n")
        .file("export.zip", zip.finish().unwrap().into_inner());
    test.run(&["import", "mailchimp", "export.zip"]).code(0);
    let list = rows(&test.join("subscribers/subscribers.csv"));
    let jose: Vec<&str> =
        ["email", "first_name", "last_name", "church"].iter().map(|c| list[0][*c].as_str()).collect();
    assert_eq!(jose, ["jose@example.org", "José", "Núñez", "São Paulo"]);
}

// ------------------------------------------------------- export and forget

/// A Postfix-style DSN about the message `original_id` to `to`.
fn dsn(to: &str, original_id: &str) -> String {
    let date = "Thu, 16 Oct 2025 14:05:00 +0000";
    format!(
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@relay.example.net (Mail Delivery System)\r\n\
         To: {FROM_EMAIL}\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: {date}\r\n\
         Message-ID: <dsn.1@relay.example.net>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\n<{to}>: 550 5.1.1 User unknown\r\n\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example.net\r\n\r\n\
         Final-Recipient: rfc822; {to}\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 <{to}>: Recipient address rejected: User unknown\r\n\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {FROM_EMAIL}\r\nTo: {to}\r\nDate: {date}\r\n\
         Message-ID: <{original_id}>\r\nSubject: News\r\n\r\n--B--\r\n"
    )
}

const LIST: &str = "email,first_name\nAna@Example.org,Ana\nbo@example.org,Bo\n";

fn send(test: &Test, bulletin: &str) {
    test.run(&["send", bulletin, "--yes", "--rate", "unlimited"]).code(0);
}

/// The files of the folder holding `needle`, without case.
fn files_holding(test: &Test, needle: &str) -> Vec<String> {
    let needle = needle.to_lowercase().into_bytes();
    test.all_files()
        .into_iter()
        .filter(|(_, bytes)| bytes.to_ascii_lowercase().windows(needle.len()).any(|w| w == needle))
        .map(|(path, _)| path.strip_prefix(test.path()).unwrap().display().to_string())
        .collect()
}

#[test]
fn export_shows_every_record_of_an_address_and_forget_leaves_no_trace_of_it_so_an_old_list_does_not_mail_it_again()
 {
    let sink = SinkServer::start();
    let test = to_relay(Test::new(), sink.port())
        .file("content/first.md", bulletin("First."))
        .file(
            "content/second.md",
            "+++\nsubject = \"Second news\"\npreheader = \"More\"\ndate = 2025-10-23\n+++\n\nSecond.\n",
        )
        .file("subscribers/subscribers.csv", LIST)
        .file("subscribers/volunteers.csv", "name,Email Address\nAna Silva,ana@example.org\n");
    send(&test, "content/first.md");
    let messages = sink.messages();
    let to_ana = messages.iter().find(|m| m.recipient() == "Ana@Example.org").expect("ana was mailed");
    let id = to_ana.message_id();
    let test = test.file("bounces/new/1.eml", dsn("ana@example.org", id.trim_matches(['<', '>'])));
    test.run(&["bounces", "import", "bounces"]).code(0).stdout_has("  hard         1");

    let run = test.run(&["export", "ANA@example.ORG"]).code(0);
    let json: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"));
    assert_eq!(json["email"], "ana@example.org");
    let lists = json["lists"].as_array().unwrap();
    assert_eq!(lists.len(), 2, "{json:#}");
    assert_eq!(lists[0]["file"], "subscribers/subscribers.csv");
    assert_eq!(lists[0]["line"], 2);
    assert_eq!(lists[0]["fields"]["first_name"], "Ana");
    assert_eq!(lists[1]["file"], "subscribers/volunteers.csv");
    assert_eq!(lists[1]["fields"]["name"], "Ana Silva");
    let suppression = json["suppression"].as_array().unwrap();
    assert_eq!(suppression.len(), 1, "{json:#}");
    assert_eq!(suppression[0]["fields"]["reason"], "hard-bounce");
    let journal = json["journal"].as_array().unwrap();
    assert_eq!(journal.len(), 1, "{json:#}");
    assert_eq!(journal[0]["campaign"], "2025-10-16-first");
    assert_eq!(journal[0]["state"], "sent");
    assert_eq!(journal[0]["message_id"], id.as_str());
    assert!(journal[0]["updated_at"].as_str().unwrap().starts_with("20"));
    let bounces = json["bounces"].as_array().unwrap();
    assert_eq!(bounces.len(), 1, "{json:#}");
    assert_eq!(bounces[0]["kind"], "hard");
    assert_eq!(bounces[0]["campaign"], "2025-10-16-first");
    // Nothing about anyone else.
    assert!(!run.stdout.contains("bo@example.org"));

    // The bounce mailbox is the organisation's mail, not a file bulletin
    // keeps: deleting the report is up to whoever reads that mailbox.
    std::fs::remove_dir_all(test.join("bounces")).unwrap();
    let held = files_holding(&test, "ana@example.org");
    for file in [
        ".bulletin/bounces.sqlite3",
        ".bulletin/journal.sqlite3",
        "subscribers/suppressed.csv",
        "subscribers/subscribers.csv",
        "subscribers/volunteers.csv",
    ] {
        assert!(held.iter().any(|h| h.starts_with(file)), "{file} should hold the address before: {held:?}");
    }

    let forget = test.run(&["forget", "ana@example.org"]).code(0);
    let said = forget.printed();
    for line in [
        "subscribers/subscribers.csv: 1 row",
        "subscribers/volunteers.csv: 1 row",
        "subscribers/suppressed.csv: 1 row",
        ".bulletin/journal.sqlite3: 1 row",
        ".bulletin/bounces.sqlite3: 1 row",
    ] {
        assert!(said.contains(line), "{line:?} missing from\n{said}");
    }
    assert_eq!(files_holding(&test, "ana@example.org"), Vec::<String>::new());
    assert_eq!(files_holding(&test, "bo@example.org").len(), 2, "the journal and the list still know Bo");
    let export = test.run(&["export", "ana@example.org"]).code(0);
    let json: serde_json::Value = serde_json::from_str(&export.stdout).unwrap();
    assert_eq!(json["lists"].as_array().unwrap().len(), 0);
    assert_eq!(json["journal"].as_array().unwrap().len(), 0);
    assert_eq!(json["bounces"].as_array().unwrap().len(), 0);
    assert_eq!(json["suppression"][0]["fields"]["reason"], "forgotten", "{json:#}");

    // The old list comes back (a spreadsheet saved before): a new campaign
    // and a resumed old one mail Bo only.
    let test = test.file("subscribers/subscribers.csv", LIST);
    send(&test, "content/first.md");
    send(&test, "content/second.md");
    let all: Vec<String> = sink.messages().iter().map(|m| m.recipient().to_lowercase()).collect();
    let to = |who: &str| all.iter().filter(|r| *r == who).count();
    assert_eq!((to("ana@example.org"), to("bo@example.org")), (1, 2), "Ana only had the first: {all:?}");
    // Nor does an import of an old Mailchimp export that has them.
    let header = format!("\"Email Address\",\"First Name\",\"Last Name\",Church,{SYSTEM}");
    let old = format!("{header}\r\n{}\r\n", member("ana@example.org", "Ana", "Silva", "", ""));
    let test = test
        .file("old/subscribed_members_export_0f0f0f0f0f.csv", old)
        .file("subscribers/subscribers.csv", "email,first_name\nbo@example.org,Bo\n");
    test.run(&["import", "mailchimp", "old"]).code(0).stdout_has(&count("suppressed", 1));
    assert_eq!(rows(&test.join("subscribers/subscribers.csv")).len(), 1);
}

#[test]
fn forget_refuses_while_a_send_is_still_reading_the_lists_before_taking_its_campaign_lock() {
    let test = Test::new().file("subscribers/subscribers.csv", LIST).file(".bulletin/state.lock", "");
    // This test plays a send of a new campaign that has read the lists (and
    // so would mail ana) but not yet taken its campaign's lock.
    let lock = std::fs::File::open(test.join(".bulletin/state.lock")).unwrap();
    lock.lock_shared().unwrap();
    let run = test.run(&["forget", "ana@example.org"]).code(2);
    assert!(run.printed().contains("a send is running"), "{}", run.printed());
    assert_eq!(std::fs::read_to_string(test.join("subscribers/subscribers.csv")).unwrap(), LIST);
    assert!(!test.join("subscribers/suppressed.csv").exists());
    drop(lock);
    test.run(&["forget", "ana@example.org"]).code(0);
}

#[test]
fn forget_refuses_while_a_send_of_any_campaign_is_running_and_changes_nothing() {
    let test = Test::new()
        .file("subscribers/subscribers.csv", LIST)
        .file(".bulletin/send-2025-10-16-first.lock", "pid 1\n");
    // This test plays the running send: it holds the campaign's lock.
    let lock = std::fs::File::open(test.join(".bulletin/send-2025-10-16-first.lock")).unwrap();
    lock.lock().unwrap();
    let run = test.run(&["forget", "ana@example.org"]).code(2);
    assert!(run.printed().contains("a send is running"), "{}", run.printed());
    assert!(run.printed().contains("send-2025-10-16-first.lock"), "{}", run.printed());
    assert_eq!(std::fs::read_to_string(test.join("subscribers/subscribers.csv")).unwrap(), LIST);
    assert!(!test.join("subscribers/suppressed.csv").exists());
    drop(lock);
    test.run(&["forget", "ana@example.org"]).code(0);
    assert_eq!(files_holding(&test, "ana@example.org"), Vec::<String>::new());
}
