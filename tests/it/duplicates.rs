//! No accidental re-send across campaigns: a partial send, then the
//! bulletin re-dated, renamed or copied (each a new campaign), mails nobody
//! a second time unless `--resend-duplicates` says so; a corrected copy
//! within 30 days counts as the same bulletin, and the same subject with
//! new text never does; a send that would skip most of the list stops
//! unless `--skip-duplicates` or `--resend-duplicates` says so. The real binary
//! sends to Postfix's smtp-sink on 127.0.0.1; earlier sends are moved back
//! in time through the journal's own API (its clock), never by sleeping.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bulletin::content::Bulletin;
use bulletin::domain::{Clock, EmailKey, SystemClock, Timestamp};
use bulletin::journal::{Journal, State};
use pretty_assertions::assert_eq;

use crate::send_util::{Received, SinkServer, to_relay};
use crate::util::{Run, Test};

/// Where the tests keep the bulletin, and the state folder the binary uses
/// by default.
const NEWS: &str = "content/news.md";
const STATE_DIR: &str = ".bulletin";
const SUBJECT: &str = "News from the Hope Trust";
const BODY: &str = "Dear {{ first_name | default(\"friend\") }},\n\nThe well in Hopeton is finished. \
    After two dry summers the village council, the school and the families who carried water from the \
    river every morning can now draw it from the square. Thank you for your prayers and your gifts.\n\n\
    Next month the team moves on to Greenfield, where the old pump has been broken since the spring.\n";
/// [`BODY`] with two words corrected (of 62).
const CORRECTED: &str = "Dear {{ first_name | default(\"friend\") }},\n\nThe well in Hopeton is finished. \
    After two dry summers the village council, the school and the families who carried water from the \
    river every morning can now draw it in the square. Thank you for your prayers and your gifts.\n\n\
    Next month the team moves on to Greenfields, where the old pump has been broken since the spring.\n";
/// Next week's text: the same greeting and thanks, the rest new.
const NEXT_WEEK: &str = "Dear {{ first_name | default(\"friend\") }},\n\nThe school roof in Hopeton \
    is mended. The builders finished a week early, before the rains, and the children are back in their \
    classrooms. Thank you for your prayers and your gifts.\n\nPlease pray for the teachers, who start \
    the new term with twice as many pupils as last year.\n";

/// A bulletin dated `date` with `subject` and `body`.
fn issue(subject: &str, date: &str, body: &str) -> String {
    format!("+++\nsubject = \"{subject}\"\npreheader = \"This week\"\ndate = {date}\n+++\n\n{body}")
}

/// `n` subscribers `reader1@example.org`... as a CSV list, and their
/// addresses.
fn list(n: usize) -> (String, Vec<String>) {
    let mut csv = String::from("email,first_name\n");
    let addresses: Vec<String> = (1..=n).map(|i| format!("reader{i}@example.org")).collect();
    for address in &addresses {
        csv.push_str(&format!("{address},Reader\n"));
    }
    (csv, addresses)
}

/// A folder with [`NEWS`] dated 2025-10-16 and a list of 8, sending to `sink`.
fn news_to_eight(sink: &SinkServer) -> (Test, Vec<String>) {
    let (csv, addresses) = list(8);
    let test = to_relay(Test::new(), sink.port())
        .file(NEWS, issue(SUBJECT, "2025-10-16", BODY))
        .file("list.csv", csv);
    (test, addresses)
}

/// `bulletin send BULLETIN --subscribers list.csv --yes --rate unlimited`, plus `extra`.
fn send(test: &Test, bulletin: &str, extra: &[&str]) -> Run {
    let mut args = vec!["send", bulletin, "--subscribers", "list.csv", "--yes", "--rate", "unlimited"];
    args.extend_from_slice(extra);
    test.run(&args)
}

/// How many messages each address got.
fn received(sink: &SinkServer) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for message in sink.messages() {
        *counts.entry(Received::recipient(&message).to_lowercase()).or_insert(0) += 1;
    }
    counts
}

/// `addresses`, each with `times` messages.
fn each(addresses: &[String], times: usize) -> BTreeMap<String, usize> {
    addresses.iter().map(|a| (a.clone(), times)).collect()
}

/// The campaign `bulletin` (as it is on disk now) is.
fn campaign_of(test: &Test, bulletin: &str) -> bulletin::content::CampaignId {
    Bulletin::load(&test.join(bulletin)).expect("the bulletin parses").campaign
}

/// The journal of the campaign `bulletin` is now, dated by `clock`.
fn journal_of(test: &Test, bulletin: &str, clock: Arc<dyn Clock>) -> Journal {
    Journal::open(&test.join(STATE_DIR), &campaign_of(test, bulletin))
        .expect("the journal opens")
        .with_clock(clock)
}

/// The day (YYYY-MM-DD, UTC) the campaign of `bulletin` sent its messages.
fn sent_on(test: &Test, bulletin: &str) -> String {
    let entries = journal_of(test, bulletin, Arc::new(SystemClock)).entries(Some(State::Sent)).unwrap();
    let days: Vec<String> = entries.iter().map(|e| e.updated_at.to_string()[..10].to_owned()).collect();
    assert!(!days.is_empty(), "the campaign sent nothing");
    assert!(days.iter().all(|d| *d == days[0]), "sent on one day: {days:?}");
    days[0].clone()
}

/// Moves every row of `bulletin`'s campaign `days` back in time, as if it
/// had been sent then, by answering it again through the journal with a
/// clock set that far back.
fn sent_days_ago(test: &Test, bulletin: &str, days: u64) {
    let then = SystemClock.now().as_system_time() - Duration::from_secs(days * 24 * 60 * 60);
    let journal = journal_of(test, bulletin, Arc::new(Timestamp::from(then)));
    for entry in journal.entries(None).unwrap() {
        journal.answered(&EmailKey::of(&entry.address), entry.state, &entry.reply).unwrap();
    }
}

/// Sends [`NEWS`] to the first 5 of 8, applies `change` (which returns the
/// path of the bulletin to send next), and checks the next send mails only
/// the other 3 and says why, then that `--resend-duplicates` mails the 5
/// again.
#[track_caller]
fn partial_send_then(change: impl FnOnce(&Test) -> &'static str) {
    let sink = SinkServer::start();
    let (test, addresses) = news_to_eight(&sink);
    send(&test, NEWS, &["--limit", "5"]).code(0).stdout_has("  5 sent, ");
    let (first, rest) = addresses.split_at(5);
    assert_eq!(received(&sink), each(first, 1));
    let day = sent_on(&test, NEWS);
    let earlier = campaign_of(&test, NEWS).to_string();

    let next = change(&test);
    assert_ne!(campaign_of(&test, next).to_string(), earlier, "the change makes a new campaign");
    let said = format!("5 recipients already received this bulletin on {day} as {earlier}");
    // 5 of the 8 still to send to had it: more than half, so a send stops
    // before sending anything unless told that is meant.
    let stopped = send(&test, next, &[]).code(2).stdout_has(&said);
    assert!(
        stopped.stderr.contains(&format!(
            "stopped before sending anything: 5 of the 8 recipients still to send to already received this \
             bulletin (5 as {earlier} on {day})"
        )),
        "{}",
        stopped.printed()
    );
    assert!(stopped.stderr.contains("--skip-duplicates to send to the other 3"), "{}", stopped.printed());
    assert_eq!(received(&sink), each(first, 1), "nothing sent");
    send(&test, next, &["--skip-duplicates"])
        .code(0)
        .stdout_has("  3 sent, ")
        .stdout_has(&said)
        .stdout_has("skipped   5 already received as another campaign");
    assert_eq!(received(&sink), each(&addresses, 1), "nobody mailed twice");

    // Skipped, not sent: they are still pending in the new campaign, and
    // run after run they are skipped again.
    send(&test, next, &["--skip-duplicates"]).code(0).stdout_has(&said).stdout_has("Nothing to send.");
    assert_eq!(received(&sink), each(&addresses, 1));

    send(&test, next, &["--resend-duplicates"]).code(0).stdout_has("  5 sent, ");
    let mut twice = each(first, 2);
    twice.extend(each(rest, 1));
    assert_eq!(received(&sink), twice, "--resend-duplicates sends to the 5 again");
}

#[test]
fn a_partial_send_then_the_date_corrected_mails_nobody_twice() {
    partial_send_then(|test| {
        std::fs::write(test.join(NEWS), issue(SUBJECT, "2025-10-17", BODY)).unwrap();
        NEWS
    });
}

#[test]
fn a_partial_send_then_the_file_renamed_mails_nobody_twice() {
    partial_send_then(|test| {
        std::fs::rename(test.join(NEWS), test.join("content/hope-news.md")).unwrap();
        "content/hope-news.md"
    });
}

#[test]
fn a_partial_send_then_the_file_copied_mails_nobody_twice() {
    partial_send_then(|test| {
        std::fs::copy(test.join(NEWS), test.join("content/news-copy.md")).unwrap();
        "content/news-copy.md"
    });
}

#[test]
fn a_different_bulletin_the_week_after_goes_to_everyone() {
    let sink = SinkServer::start();
    let (test, addresses) = news_to_eight(&sink);
    send(&test, NEWS, &[]).code(0).stdout_has("  8 sent, ");
    sent_days_ago(&test, NEWS, 7);

    let next = issue("More news from the Hope Trust", "2025-10-23", "The school roof is mended.\n");
    let test = test.file("content/next.md", next);
    let run = send(&test, "content/next.md", &[]).code(0).stdout_has("  8 sent, ");
    assert!(!run.stdout.contains("already received"), "{}", run.printed());
    assert_eq!(received(&sink), each(&addresses, 2));
}

#[test]
fn next_weeks_new_text_under_the_same_subject_goes_to_everyone() {
    let sink = SinkServer::start();
    let (test, addresses) = news_to_eight(&sink);
    send(&test, NEWS, &[]).code(0).stdout_has("  8 sent, ");
    sent_days_ago(&test, NEWS, 7);

    let test = test.file("content/next.md", issue(SUBJECT, "2025-10-23", NEXT_WEEK));
    for args in [
        vec!["check", "content/next.md", "--subscribers", "list.csv"],
        vec!["send", "content/next.md", "--subscribers", "list.csv", "--dry-run"],
    ] {
        let run = test.run(&args);
        assert!(!run.stdout.contains("already received"), "{}", run.printed());
        assert!(!run.stderr.contains("already received"), "{}", run.printed());
    }
    test.run(&["send", "content/next.md", "--subscribers", "list.csv", "--dry-run"])
        .code(0)
        .stdout_has("would send   8");
    let run = send(&test, "content/next.md", &[]).code(0).stdout_has("  8 sent, ");
    assert!(!run.stdout.contains("already received"), "{}", run.printed());
    assert_eq!(received(&sink), each(&addresses, 2));
}

#[test]
fn a_corrected_copy_within_thirty_days_is_the_same_bulletin() {
    let sink = SinkServer::start();
    let (test, addresses) = news_to_eight(&sink);
    send(&test, NEWS, &["--limit", "3"]).code(0).stdout_has("  3 sent, ");
    sent_days_ago(&test, NEWS, 29);
    let day = sent_on(&test, NEWS);
    let earlier = campaign_of(&test, NEWS).to_string();

    std::fs::write(test.join(NEWS), issue(SUBJECT, "2025-10-17", CORRECTED)).unwrap();
    assert_ne!(campaign_of(&test, NEWS).to_string(), earlier);
    send(&test, NEWS, &[]).code(0).stdout_has("  5 sent, ").stdout_has(&format!(
        "3 recipients already received a near copy of this bulletin on {day} as {earlier}"
    ));
    assert_eq!(received(&sink), each(&addresses, 1));
}

#[test]
fn a_corrected_copy_thirty_one_days_later_is_a_new_bulletin() {
    let sink = SinkServer::start();
    let (test, addresses) = news_to_eight(&sink);
    send(&test, NEWS, &["--limit", "5"]).code(0).stdout_has("  5 sent, ");
    sent_days_ago(&test, NEWS, 31);

    std::fs::write(test.join(NEWS), issue(SUBJECT, "2025-11-17", CORRECTED)).unwrap();
    let run = send(&test, NEWS, &[]).code(0).stdout_has("  8 sent, ");
    assert!(!run.stdout.contains("already received"), "{}", run.printed());
    let (first, rest) = addresses.split_at(5);
    let mut expected = each(first, 2);
    expected.extend(each(rest, 1));
    assert_eq!(received(&sink), expected);
}

#[test]
fn the_same_text_is_a_duplicate_however_long_ago_it_was_sent() {
    let sink = SinkServer::start();
    let (test, addresses) = news_to_eight(&sink);
    send(&test, NEWS, &["--limit", "5"]).code(0).stdout_has("  5 sent, ");
    sent_days_ago(&test, NEWS, 400);

    std::fs::write(test.join(NEWS), issue(SUBJECT, "2026-10-16", BODY)).unwrap();
    send(&test, NEWS, &["--skip-duplicates"])
        .code(0)
        .stdout_has("  3 sent, ")
        .stdout_has("5 recipients already received");
    assert_eq!(received(&sink), each(&addresses, 1));
}

#[test]
fn a_dry_run_says_who_already_received_the_bulletin() {
    let sink = SinkServer::start();
    let (test, _) = news_to_eight(&sink);
    send(&test, NEWS, &["--limit", "5"]).code(0).stdout_has("  5 sent, ");
    let day = sent_on(&test, NEWS);
    let earlier = campaign_of(&test, NEWS).to_string();

    std::fs::rename(test.join(NEWS), test.join("content/hope-news.md")).unwrap();
    let said =
        format!("5 recipients already received this bulletin on {day} as {earlier}: a send skips them");
    // The dry run, `check` and the send's plan say it in the same words,
    // and the dry run's "would send" is what the send sends.
    let dry = test
        .run(&["send", "content/hope-news.md", "--subscribers", "list.csv", "--dry-run"])
        .code(0)
        .stdout_has(&said)
        .stdout_has("would send   3");
    assert!(
        dry.stderr.contains("a send would stop before sending anything: 5 of the 8"),
        "{}",
        dry.printed()
    );
    let check =
        test.run(&["check", "content/hope-news.md", "--subscribers", "list.csv"]).code(1).stdout_has(&said);
    assert!(check.stdout.contains("3 would receive it"), "{}", check.printed());
    assert!(
        check.stdout.contains("error: a send would stop before sending anything: 5 of the 8"),
        "{}",
        check.printed()
    );
    send(&test, "content/hope-news.md", &[]).code(2).stdout_has(&said);
    let sent = send(&test, "content/hope-news.md", &["--skip-duplicates"]).code(0).stdout_has(&said);
    assert!(sent.stdout.contains("  3 sent, "), "{}", sent.printed());
}

#[test]
fn a_copy_whose_every_reader_had_it_stops_with_exit_2_and_sends_nothing() {
    let sink = SinkServer::start();
    let (test, _) = news_to_eight(&sink);
    send(&test, NEWS, &[]).code(0);
    std::fs::copy(test.join(NEWS), test.join("content/news-again.md")).unwrap();
    let run = send(&test, "content/news-again.md", &[]).code(2);
    assert!(
        run.stderr.contains("stopped before sending anything: 8 of the 8 recipients still to send to already received this bulletin"),
        "{}",
        run.printed()
    );
    assert!(run.stderr.contains("--resend-duplicates"), "{}", run.printed());
    assert_eq!(sink.messages().len(), 8);
    send(&test, "content/news-again.md", &["--skip-duplicates"]).code(0).stdout_has("Nothing to send.");
    assert_eq!(sink.messages().len(), 8);
}
