//! Scheduled sends (issue 26): `bulletin schedule` stores a send, and the
//! real `bulletin serve` runs it at its time through Postfix's smtp-sink,
//! the time moved by the test clock (`BULLETIN_TEST_CLOCK_FILE`) and the
//! scheduler told to wake every 100 ms (`BULLETIN_TEST_SCHEDULER_WAKE_MS`)
//! instead of every 15 s. Each test checks the store's row and the
//! messages the relay received: once at the time, never before, never twice.

use std::time::Duration;

use bulletin::domain::{Clock, SystemClock, Timestamp};
use pretty_assertions::assert_eq;

use crate::send_util::{
    DEADLINE, Faults, PyServer, SinkServer, by_recipient, outwaiting_holds, to_relay, wait_until,
};
use crate::signup::serve;
use crate::unsubscribe::list_test;
use crate::util::{SAMPLE_BULLETIN, Test, bulletin, bulletin_with, collapse};

/// Readers on `list.csv`.
const READERS: usize = 3;

/// How often `serve`'s scheduler looks, in these tests.
const WAKE_MS: &str = "100";

/// Long enough for `serve` to have looked about ten times: how long a test
/// watches for a send that must not happen.
const WATCH: Duration = Duration::from_secs(1);

/// [`READERS`] readers, the relay on `port`, and the test clock.
fn scheduled(port: u16) -> Test {
    let (test, _) = list_test(READERS);
    to_relay(test, port)
        .with_test_clock()
        .env("SMTP_RATE", "unlimited")
        .env("BULLETIN_TEST_SCHEDULER_WAKE_MS", WAKE_MS)
}

/// Schedules `bulletin` `seconds` after the machine's time (the test
/// process has no test clock); its id.
fn schedule(test: &Test, bulletin: &str, seconds: u64) -> i64 {
    let at = Timestamp::from_unix(SystemClock.now().unix_seconds() + seconds).to_string();
    let run = test.run(&["schedule", bulletin, "--at", &at]).code(0).stdout_has(&format!("({at} UTC)"));
    let line = run.printed();
    let id = line.split("Scheduled #").nth(1).and_then(|rest| rest.split(':').next()).expect("an id");
    id.parse().unwrap_or_else(|_| panic!("not an id in {line}"))
}

/// Schedule `id`'s state and why, read from the store.
fn row(test: &Test, id: i64) -> (String, String) {
    let conn = rusqlite::Connection::open(test.join(".bulletin/journal.sqlite3")).unwrap();
    conn.query_row("SELECT state, why FROM schedules WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
}

#[track_caller]
fn wait_for_state(test: &Test, id: i64, state: &str) -> String {
    wait_until(&format!("schedule #{id} to be {state}"), DEADLINE, || {
        let (now, why) = row(test, id);
        (now == state).then_some(why)
    })
}

/// Each reader's count of messages at the relay.
fn counts(sink: &SinkServer) -> Vec<(String, usize)> {
    by_recipient(&sink.messages()).into_iter().map(|(to, got)| (to, got.len())).collect()
}

fn everyone_once() -> Vec<(String, usize)> {
    (1..=READERS).map(|i| (format!("reader{i:02}@example.org"), 1)).collect()
}

#[test]
fn a_scheduled_send_goes_once_at_its_time_not_before_and_not_again_after_restarts() {
    let sink = SinkServer::start();
    let test = scheduled(sink.port());
    let id = schedule(&test, SAMPLE_BULLETIN, 120);
    test.run(&["schedule", "list"]).code(0).stdout_has(&format!("#{id}   pending"));

    let first = serve(&test);
    test.set_clock_ahead(60.0);
    std::thread::sleep(WATCH);
    assert_eq!((sink.messages().len(), row(&test, id).0.as_str()), (0, "pending"), "nothing before its time");
    // A restart before the time: the schedule is in the state folder.
    let (_, _, log) = first.stop();
    assert!(!log.contains("schedule #"), "{log}");

    let second = serve(&test);
    test.set_clock_ahead(121.0);
    assert_eq!(wait_for_state(&test, id, "sent"), "sent");
    wait_until("every reader's message", DEADLINE, || (sink.messages().len() >= READERS).then_some(()));
    let (_, _, log) = second.stop();
    assert!(log.contains(&format!("schedule #{id}: sending ")), "{log}");
    assert!(log.contains(&format!("schedule #{id}: sent")), "{log}");

    // And after it: a third `serve` finds it done.
    let third = serve(&test);
    std::thread::sleep(WATCH);
    let (_, _, log) = third.stop();
    assert!(!log.contains("schedule #"), "{log}");
    assert_eq!(counts(&sink), everyone_once());
    test.run(&["schedule", "list"]).code(0).stdout_has(&format!("#{id}   sent"));
    // The journal knows: a send from the command line has nothing to do.
    test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--yes"])
        .code(0)
        .stdout_has("Nothing to send");
}

#[test]
fn two_serve_processes_on_one_folder_send_a_due_schedule_once() {
    let sink = SinkServer::start();
    let test = scheduled(sink.port());
    let id = schedule(&test, SAMPLE_BULLETIN, 120);
    let one = serve(&test);
    let two = serve(&test);
    test.set_clock_ahead(121.0);
    wait_for_state(&test, id, "sent");
    wait_until("every reader's message", DEADLINE, || (sink.messages().len() >= READERS).then_some(()));
    std::thread::sleep(WATCH);
    let logs = [one.stop().2, two.stop().2];
    let senders = logs.iter().filter(|log| log.contains(&format!("schedule #{id}: sending "))).count();
    assert_eq!(senders, 1, "one serve sends it:\n{logs:#?}");
    assert_eq!(counts(&sink), everyone_once());
}

#[test]
fn a_schedule_missed_by_more_than_catch_up_is_skipped_with_the_reason_and_staff_are_told() {
    let sink = SinkServer::start();
    let test = scheduled(sink.port()).env("STAFF_EMAIL", "office@hope.example.org");
    let id = schedule(&test, SAMPLE_BULLETIN, 120);
    // The machine was off: `serve` starts 13 hours after the time.
    test.set_clock_ahead(120.0 + 13.0 * 3600.0);
    let server = serve(&test);
    let why = wait_for_state(&test, id, "skipped");
    assert!(why.contains("missed by 13h") && why.contains("CATCH_UP, 12h"), "{why}");
    wait_until("the staff alert", DEADLINE, || (!sink.messages().is_empty()).then_some(()));
    std::thread::sleep(WATCH);
    let (_, _, log) = server.stop();
    assert!(log.contains(&format!("schedule #{id}: skipped: missed by 13h")), "{log}");
    assert_eq!(counts(&sink), [("office@hope.example.org".to_owned(), 1)], "only staff get a message");
    let alert = sink.messages()[0].eml();
    assert!(
        alert.header("Subject").unwrap().starts_with("Stopped: scheduled send #"),
        "{:?}",
        alert.header("Subject")
    );
    assert!(collapse(&alert.text()).contains("missed by 13h (more than CATCH_UP, 12h)"), "{}", alert.text());
    test.run(&["schedule", "list"]).code(0).stdout_has(&format!("#{id}   skipped")).stdout_has("CATCH_UP");
}

#[test]
fn a_schedule_late_by_less_than_catch_up_still_goes() {
    let sink = SinkServer::start();
    let test = scheduled(sink.port()).env("CATCH_UP", "2h");
    let id = schedule(&test, SAMPLE_BULLETIN, 120);
    test.set_clock_ahead(120.0 + 3600.0);
    let server = serve(&test);
    wait_for_state(&test, id, "sent");
    wait_until("every reader's message", DEADLINE, || (sink.messages().len() >= READERS).then_some(()));
    drop(server);
    assert_eq!(counts(&sink), everyone_once());
}

#[test]
fn a_cancelled_schedule_is_never_sent_and_cannot_be_cancelled_twice() {
    let sink = SinkServer::start();
    let test = scheduled(sink.port());
    let id = schedule(&test, SAMPLE_BULLETIN, 120);
    test.run(&["schedule", "cancel", &id.to_string()]).code(0).stdout_has(&format!("Cancelled #{id}."));
    test.run(&["schedule", "cancel", &id.to_string()])
        .code(2)
        .stderr_has("cannot be cancelled: it is cancelled");
    test.run(&["schedule", "cancel", "99"]).code(2).stderr_has("there is no scheduled send #99");
    test.set_clock_ahead(121.0);
    let server = serve(&test);
    std::thread::sleep(WATCH);
    drop(server);
    assert_eq!(sink.messages().len(), 0);
    test.run(&["schedule", "list"]).code(0).stdout_has(&format!("#{id}   cancelled"));
}

#[test]
fn a_bulletin_broken_after_scheduling_is_not_sent_and_fails_with_the_reason_told_to_staff() {
    let sink = SinkServer::start();
    let test = scheduled(sink.port())
        .env("STAFF_EMAIL", "office@hope.example.org")
        .file("next.md", bulletin("Next week."));
    let id = schedule(&test, "next.md", 120);
    // Made a draft again after it was scheduled: `send --yes` would refuse it.
    std::fs::write(test.join("next.md"), bulletin_with("draft = true\n", "Next week, not ready.")).unwrap();
    test.set_clock_ahead(121.0);
    let server = serve(&test);
    let why = wait_for_state(&test, id, "failed");
    assert!(why.starts_with("not sent: ") && why.contains("is a draft"), "{why}");
    wait_until("the staff alert", DEADLINE, || (!sink.messages().is_empty()).then_some(()));
    std::thread::sleep(WATCH);
    let (_, _, log) = server.stop();
    assert!(log.contains(&format!("schedule #{id}: not sent: ")), "{log}");
    assert_eq!(counts(&sink), [("office@hope.example.org".to_owned(), 1)], "no reader gets it");
    let alert = sink.messages()[0].eml();
    assert!(alert.header("Subject").unwrap().starts_with("Stopped: scheduled send #"));
    assert!(collapse(&alert.text()).contains("is a draft"), "{}", alert.text());
}

#[test]
fn schedule_refuses_a_time_gone_by_a_draft_and_a_time_it_cannot_read() {
    let test =
        Test::with_sample().with_test_clock().file("draft.md", bulletin_with("draft = true\n", "Not yet."));
    let past = Timestamp::from_unix(SystemClock.now().unix_seconds() - 60).to_string();
    test.run(&["schedule", SAMPLE_BULLETIN, "--at", &past]).code(2).stderr_has("is not in the future");
    // The binary's clock, moved on, decides what has gone by.
    let soon = Timestamp::from_unix(SystemClock.now().unix_seconds() + 600).to_string();
    test.set_clock_ahead(3600.0);
    test.run(&["schedule", SAMPLE_BULLETIN, "--at", &soon]).code(2).stderr_has("is not in the future");
    test.run(&["schedule", "draft.md", "--at", "2099-01-01 07:00"]).code(2).stderr_has("is a draft");
    test.run(&["schedule", SAMPLE_BULLETIN, "--at", "next tuesday"]).code(2).stderr_has("is not a time");
    test.env("TIME_ZONE", "Europe/London")
        .run(&["schedule", SAMPLE_BULLETIN, "--at", "2099-07-01 07:00"])
        .code(0)
        .stdout_has("at 2099-07-01 07:00 BST (2099-07-01T06:00:00Z UTC)");
}

#[test]
fn a_serve_killed_mid_send_leaves_the_schedule_claimed_and_the_next_finishes_it_mailing_nobody_twice() {
    let relay = PyServer::start(&Faults::new().hold("reader02@example.org"));
    let test = outwaiting_holds(scheduled(relay.port())).env("SMTP_CONCURRENCY", "1");
    let id = schedule(&test, SAMPLE_BULLETIN, 120);
    test.set_clock_ahead(121.0);
    let first = serve(&test);
    // The relay has reader02's message and has not answered: the one
    // moment the journal cannot know whether it went.
    relay.wait_for_message_to("reader02@example.org");
    drop(first); // SIGKILL
    assert_eq!(row(&test, id).0, "claimed", "left claimed by the serve that died");
    relay.release();

    let second = serve(&test);
    wait_for_state(&test, id, "sent");
    let (_, _, log) = second.stop();
    assert!(log.contains(&format!("schedule #{id}: sending ")), "{log}");
    let messages = relay.messages();
    let received = by_recipient(&messages);
    let copies: Vec<(String, usize)> = received.iter().map(|(to, got)| (to.clone(), got.len())).collect();
    let expected: Vec<(String, usize)> =
        (1..=READERS).map(|i| (format!("reader{i:02}@example.org"), if i == 2 { 2 } else { 1 })).collect();
    assert_eq!(copies, expected, "only the message in doubt goes again");
    let ids: std::collections::BTreeSet<String> =
        received["reader02@example.org"].iter().map(|m| m.message_id()).collect();
    assert_eq!(ids.len(), 1, "with the same Message-ID, which mail programs show once: {ids:?}");
}

#[test]
fn a_scheduled_send_stopped_by_the_daily_allowance_fails_and_staff_get_only_the_sends_own_alert() {
    let sink = SinkServer::start();
    let test = scheduled(sink.port()).env("SMTP_RATE", "2/day").env("STAFF_EMAIL", "office@hope.example.org");
    let id = schedule(&test, SAMPLE_BULLETIN, 120);
    test.set_clock_ahead(121.0);
    let server = serve(&test);
    let why = wait_for_state(&test, id, "failed");
    assert!(why.contains("allowance is used up"), "{why}");
    wait_until("two bulletins and the alert", DEADLINE, || (sink.messages().len() >= 3).then_some(()));
    std::thread::sleep(WATCH);
    drop(server);
    let staff: Vec<String> = sink
        .messages()
        .iter()
        .filter(|m| m.recipient() == "office@hope.example.org")
        .map(|m| m.eml().header("Subject").unwrap_or_default())
        .collect();
    assert_eq!(staff.len(), 1, "one alert, the send's own: {staff:?}");
    assert!(staff[0].starts_with("Stopped: ") && staff[0].contains("(2 sent, 0 failed of 3)"), "{staff:?}");
    assert_eq!(sink.messages().len(), 3, "two readers and staff");
}
