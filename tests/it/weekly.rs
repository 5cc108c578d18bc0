//! The weekly loop as a communications officer lives it: six bulletins
//! under the same subject, each with new text, sent in turn to a list that
//! gains and loses readers between weeks (a sign-up merged, an unsubscribe,
//! a hard bounce, a row added by hand). Every reader subscribed at a week's
//! send receives that week exactly once; a corrected copy of a week sent
//! after a partial send mails nobody twice; a copy of week 3 sent again in
//! week 5 stops unless told, then skips those who had it. The real binary
//! sends to aiosmtpd on 127.0.0.1.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use pretty_assertions::assert_eq;

use crate::send_util::{Faults, PyServer, Received, to_relay};
use crate::util::{Run, Test};

const SUBJECT: &str = "IJM Prayer Requests";
const LIST: &str = "list.csv";

/// Each week's own words: a verse, then an item in each of three regions.
/// No two weeks share more than the headings and "Pray for the".
const WEEKS: [[&str; 7]; 6] = [
    [
        "Seek justice, defend the oppressed",
        "Isaiah 1:17",
        "Kampala",
        "rescue team",
        "brick kilns",
        "Chennai",
        "court clerks",
    ],
    [
        "The LORD is a refuge for the oppressed",
        "Psalm 9:9",
        "Accra",
        "lawyers",
        "fishing boats",
        "Kolkata",
        "investigators",
    ],
    [
        "Learn to do right; seek justice",
        "Isaiah 1:17b",
        "Nairobi",
        "social workers",
        "stone quarries",
        "Dhaka",
        "police trainers",
    ],
    [
        "Open your mouth for the mute",
        "Proverbs 31:8",
        "Kigali",
        "aftercare staff",
        "tea estates",
        "Manila",
        "prosecutors",
    ],
    [
        "Let justice roll down like waters",
        "Amos 5:24",
        "Lusaka",
        "survivor leaders",
        "cotton farms",
        "Bangkok",
        "judges",
    ],
    [
        "He upholds the cause of the oppressed",
        "Psalm 146:7",
        "Kinshasa",
        "village elders",
        "gold mines",
        "Cebu",
        "translators",
    ],
];

/// Week `n`'s bulletin (1-based), dated a week after the one before.
fn week(n: usize) -> String {
    let [verse, reference, city, team, place, other_city, others] = WEEKS[n - 1];
    let date = ["2026-11-05", "2026-11-12", "2026-11-19", "2026-11-26", "2026-12-03", "2026-12-10"][n - 1];
    format!(
        "+++\nsubject = \"{SUBJECT}\"\npreheader = \"{city} and {other_city}\"\ndate = {date}\n+++\n\n\
         > {verse}.\n>\n> — {reference}\n\n\
         ## Africa\n\n\
         - Pray for the {team} in {city} as they follow up on {place} where {n} families were found \
           working off a debt that grows each month.\n\
         - Give thanks that the {team} of {city} were welcomed by the district officer on visit {n}.\n\n\
         ## South Asia\n\n\
         - Pray for the {others} of {other_city}, who meet {place} owners in week {n} to explain the law.\n\
         - Ask for courage for every witness from {other_city} called to speak about {place}.\n\n\
         ## Latin America\n\n\
         - Pray that {verse} may be true for the girls the {others} of {other_city} brought to safety.\n"
    )
}

/// The file week `n` is sent from.
fn file(n: usize) -> String {
    format!("content/week-{n}.md")
}

/// The readers `r1@example.org`... `rN@example.org`.
fn reader(i: usize) -> String {
    format!("r{i}@example.org")
}

/// `bulletin send FILE --subscribers list.csv --yes --rate unlimited`, plus `extra`.
fn send(test: &Test, bulletin: &str, extra: &[&str]) -> Run {
    let mut args = vec!["send", bulletin, "--subscribers", LIST, "--yes", "--rate", "unlimited"];
    args.extend_from_slice(extra);
    test.run(&args)
}

/// Which week a message is: its text names that week's city.
fn week_of(message: &Received) -> usize {
    let text = message.eml().text();
    let weeks: Vec<usize> = (1..=6).filter(|n| text.contains(WEEKS[n - 1][2])).collect();
    assert_eq!(weeks.len(), 1, "{}: one week's text: {weeks:?}", message.file);
    weeks[0]
}

/// Who received week `n`, and how many times each.
fn received(server: &PyServer, n: usize) -> BTreeMap<String, usize> {
    let mut got = BTreeMap::new();
    for message in server.messages().iter().filter(|m| week_of(m) == n) {
        *got.entry(message.recipient().to_lowercase()).or_insert(0) += 1;
    }
    got
}

/// Each of `readers` once.
fn once(readers: &BTreeSet<String>) -> BTreeMap<String, usize> {
    readers.iter().map(|r| (r.clone(), 1)).collect()
}

/// A Postfix-style report that `to`'s copy of the message `id` bounced
/// for good (no such user).
fn hard_bounce(to: &str, id: &str) -> String {
    format!(
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@relay.example.net (Mail Delivery System)\r\n\
         To: news@hope.example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Date: Thu, 26 Nov 2026 09:00:00 +0000\r\nMessage-ID: <dsn.{id}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\n<{to}>: host said: 550 5.1.1 User unknown\r\n\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example.net\r\n\r\n\
         Final-Recipient: rfc822; {to}\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 <{to}>: Recipient address rejected: User unknown\r\n\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: news@hope.example.org\r\nTo: {to}\r\n\
         Message-ID: <{id}>\r\nSubject: {SUBJECT}\r\n\r\n--B--\r\n"
    )
}

#[test]
fn six_weeks_under_one_subject_reach_every_subscribed_reader_once_a_week() {
    let server = PyServer::start(&Faults::new());
    let mut csv = String::from("email,first_name\n");
    for i in 1..=8 {
        csv.push_str(&format!("{},Reader\n", reader(i)));
    }
    let mut test = to_relay(Test::new().file(LIST, csv), server.port());
    for n in 1..=6 {
        test = test.file(&file(n), week(n));
    }
    let mut subscribed: BTreeSet<String> = (1..=8).map(reader).collect();

    // Week 1: everyone.
    send(&test, &file(1), &[]).code(0).stdout_has("  8 sent, ");
    assert_eq!(received(&server, 1), once(&subscribed));

    // Week 2: a reader signed up on the website and was merged into the list.
    fs::write(
        test.join("signups.csv"),
        "email,first_name,last_name,tags,consented_at,consent_text_hash,source\r\n\
         sam@example.org,Sam,,,2026-11-10T10:00:00Z,abc,signup-form\r\n",
    )
    .unwrap();
    test.run(&["signups", "merge", "--subscribers", LIST]).code(0).stdout_has("Moved 1 sign-up(s)");
    subscribed.insert("sam@example.org".to_owned());
    let check = test.run(&["check", &file(2), "--subscribers", LIST]);
    assert!(check.stdout.contains("9 would receive it"), "{}", check.printed());
    assert!(!check.stdout.contains("already received"), "{}", check.printed());
    test.run(&["send", &file(2), "--subscribers", LIST, "--dry-run"]).code(0).stdout_has("would send   9");
    send(&test, &file(2), &[]).code(0).stdout_has("  9 sent, ");
    assert_eq!(received(&server, 2), once(&subscribed));

    // Week 3: r2 replied "please take me off".
    test.run(&["unsubscribe", &reader(2), "--subscribers", LIST]).code(0);
    subscribed.remove(&reader(2));
    send(&test, &file(3), &[]).code(0).stdout_has("  8 sent, ");
    assert_eq!(received(&server, 3), once(&subscribed));

    // Week 4: r3's week 3 bounced for good; then a partial send, the text
    // corrected (a typo in the verse), and the corrected copy sent under a
    // new name: it mails nobody twice.
    let week_3_to_r3 =
        server.messages().into_iter().find(|m| week_of(m) == 3 && m.recipient() == reader(3)).unwrap();
    let id = week_3_to_r3.message_id();
    let test = test.file("bounces/new/1.eml", hard_bounce(&reader(3), id.trim_matches(['<', '>'])));
    test.run(&["bounces", "import", "bounces", "--subscribers", LIST])
        .code(0)
        .stdout_has("Suppressed 1 address(es)");
    subscribed.remove(&reader(3));
    send(&test, &file(4), &["--limit", "3"]).code(0).stdout_has("  3 sent, ");
    let corrected =
        week(4).replace("Open your mouth for the mute", "Open your mouth for the mute, for the rights");
    let test = test.file("content/week-4-corrected.md", corrected);
    let run = send(&test, "content/week-4-corrected.md", &[]).code(0).stdout_has("  4 sent, ");
    assert!(
        run.stdout.contains("3 recipients already received a near copy of this bulletin"),
        "{}",
        run.printed()
    );
    assert_eq!(received(&server, 4), once(&subscribed), "week 4 and its corrected copy: once each");

    // Week 5: a row added by hand; then, by mistake, week 3's file sent
    // again under a new name: it stops, sending nothing; told it is meant,
    // it reaches only those who never had week 3.
    let mut list = fs::read_to_string(test.join(LIST)).unwrap();
    // As a spreadsheet saves it: every column, empty ones too.
    list.push_str(&format!("{},Reader,,,,,\r\n", reader(9)));
    fs::write(test.join(LIST), list).unwrap();
    subscribed.insert(reader(9));
    let had_week_3 = received(&server, 3);
    let test = test.file("content/week-3-again.md", week(3));
    let stopped = send(&test, "content/week-3-again.md", &[]).code(2);
    assert!(stopped.stderr.contains("stopped before sending anything: 7 of the 8"), "{}", stopped.printed());
    assert_eq!(received(&server, 3), had_week_3, "nothing sent");
    send(&test, "content/week-3-again.md", &["--skip-duplicates"]).code(0).stdout_has("  1 sent, ");
    let mut week_3 = had_week_3.clone();
    week_3.insert(reader(9), 1);
    assert_eq!(received(&server, 3), week_3, "only the new reader got week 3");
    send(&test, &file(5), &[]).code(0).stdout_has("  8 sent, ");
    assert_eq!(received(&server, 5), once(&subscribed));

    // Week 6: as ever.
    let status = test.run(&["status", &file(6), "--subscribers", LIST]).code(0);
    assert!(status.stdout.contains("pending    8"), "{}", status.printed());
    assert!(!status.stdout.contains("received   "), "{}", status.printed());
    send(&test, &file(6), &[]).code(0).stdout_has("  8 sent, ");
    assert_eq!(received(&server, 6), once(&subscribed));
    assert_eq!(server.messages().len(), 8 + 9 + 8 + 3 + 4 + 1 + 8 + 8);
}
