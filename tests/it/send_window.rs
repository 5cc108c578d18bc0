//! Send windows (issue 26): `SEND_WINDOW="Mon-Fri 08:00-18:00"` in
//! `TIME_ZONE=Europe/London`. The real binary sends to the aiosmtpd relay
//! or smtp-sink on 127.0.0.1 with the test clock
//! (`BULLETIN_TEST_CLOCK_FILE`) set to a Friday afternoon or a Saturday,
//! and moved past the window's closing and to Monday's opening while the
//! send runs. To close the window mid-send for certain, the relay holds
//! its answer to the fourth message until the test has moved the clock.

use std::time::Duration;

use bulletin::domain::{Clock, SystemClock, Timestamp};
use pretty_assertions::assert_eq;

use crate::concurrency::Sending;
use crate::send_util::{
    DEADLINE, Faults, PyServer, Received, SinkServer, by_recipient, outwaiting_holds, to_relay, wait_until,
};
use crate::unsubscribe::list_test;
use crate::util::{SAMPLE_BULLETIN, Test};

const WINDOW: &str = "Mon-Fri 08:00-18:00";

/// How long a test watches for a message that must not go: the send,
/// unpaused, hands the rest over within milliseconds.
const WATCH: Duration = Duration::from_millis(1500);

/// Readers on `list.csv`, and their test with the relay on `port`, one
/// connection, no rate limit, the window in London time and the test clock.
fn windowed(readers: usize, port: u16) -> (Test, Vec<String>) {
    let (test, addresses) = list_test(readers);
    let test = to_relay(test, port)
        .with_test_clock()
        .env("SMTP_RATE", "unlimited")
        .env("SMTP_CONCURRENCY", "1")
        .env("TIME_ZONE", "Europe/London")
        .env("SEND_WINDOW", WINDOW);
    (test, addresses)
}

/// Moves the test clock to `utc` (RFC 3339; London is on UTC in December).
fn set_clock(test: &Test, utc: &str) {
    let target = Timestamp::parse(utc).unwrap().as_system_time();
    let now = SystemClock.now().as_system_time();
    let ahead = match target.duration_since(now) {
        Ok(ahead) => ahead.as_secs_f64(),
        Err(behind) => -behind.duration().as_secs_f64(),
    };
    test.set_clock_ahead(ahead);
}

fn send_args() -> [&'static str; 5] {
    ["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--yes"]
}

/// Waits (bounded) until the send has printed `needle`.
#[track_caller]
fn wait_for_line(sending: &Sending, needle: &str) {
    wait_until(&format!("the send to print {needle:?}"), DEADLINE, || {
        sending.so_far().stdout.contains(needle).then_some(())
    });
}

/// Each reader's count of messages at the relay.
fn counts(messages: &[Received]) -> Vec<(String, usize)> {
    by_recipient(messages).into_iter().map(|(to, got)| (to, got.len())).collect()
}

fn everyone_once(addresses: &[String]) -> Vec<(String, usize)> {
    addresses.iter().map(|a| (a.clone(), 1)).collect()
}

/// Each recipient's row in the journal: address, state, attempts.
fn journal_rows(test: &Test) -> Vec<(String, String, i64)> {
    let conn = rusqlite::Connection::open(test.join(".bulletin/journal.sqlite3")).unwrap();
    let mut query = conn.prepare("SELECT address, state, attempts FROM recipients ORDER BY address").unwrap();
    query.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

const PAUSED: &str = "Paused: outside SEND_WINDOW (Mon-Fri 08:00-18:00); resuming at Mon 2026-12-14 08:00 \
                      (Europe/London)";

#[test]
fn a_send_window_that_closes_mid_send_pauses_and_resumes_with_every_reader_mailed_once() {
    let relay = PyServer::start(&Faults::new().hold_after(3));
    let (test, addresses) = windowed(8, relay.port());
    let test = outwaiting_holds(test);
    // Friday 2026-12-11, 17:00 in London: open.
    set_clock(&test, "2026-12-11T17:00:00Z");
    let sending = Sending::start(&test, &send_args());
    // Three answered, the fourth stored and its answer held: in flight.
    relay.wait_for(4);
    set_clock(&test, "2026-12-11T18:00:30Z");
    relay.release();
    wait_for_line(&sending, PAUSED);

    let during = relay.count();
    assert_eq!(during, 4, "the message in flight finished, no other went");
    std::thread::sleep(WATCH);
    assert_eq!(relay.count(), during, "nothing reaches the relay while the window is closed");
    let recorded = journal_rows(&test);
    assert_eq!(recorded.len(), 4, "nothing new recorded while paused: {recorded:?}");
    assert!(recorded.iter().all(|(_, state, _)| state == "sent"), "{recorded:?}");

    // Monday 2026-12-14, 08:00:05: open again.
    set_clock(&test, "2026-12-14T08:00:05Z");
    let run = sending
        .wait(DEADLINE)
        .code(0)
        .stdout_has("Resumed: inside SEND_WINDOW (Mon-Fri 08:00-18:00) after 2days 13h 59m paused.")
        .stdout_has("paused    2days 13h 59m outside SEND_WINDOW (once)");
    assert_eq!(run.stdout.matches("Paused:").count(), 1, "{}", run.stdout);
    assert_eq!(counts(&relay.messages()), everyone_once(&addresses));
    let journal = journal_rows(&test);
    let expected: Vec<(String, String, i64)> =
        addresses.iter().map(|a| (a.clone(), "sent".to_owned(), 1)).collect();
    assert_eq!(journal, expected, "each reader sent once, at the first attempt");
}

#[test]
fn a_send_started_outside_the_window_says_so_waits_and_then_goes() {
    let sink = SinkServer::start();
    let (test, addresses) = windowed(3, sink.port());
    // Saturday 2026-12-12, 10:00 in London: closed.
    set_clock(&test, "2026-12-12T10:00:00Z");
    let waits = "window    Mon-Fri 08:00-18:00: closed now, so the send waits until Mon 2026-12-14 08:00 \
                 (Europe/London)";
    // Without --yes, it still asks first (here: no terminal, so it refuses).
    test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv"])
        .stdout_has(waits)
        .stderr_has("refusing to send without confirmation");
    test.run(&["check", SAMPLE_BULLETIN, "--subscribers", "list.csv"]).stdout_has(
        "Send window: Mon-Fri 08:00-18:00: closed now, so the send waits until Mon 2026-12-14 08:00 \
         (Europe/London)",
    );

    let sending = Sending::start(&test, &send_args());
    wait_for_line(&sending, PAUSED);
    std::thread::sleep(WATCH);
    assert_eq!(sink.messages().len(), 0, "nothing goes before the opening");
    set_clock(&test, "2026-12-14T08:00:05Z");
    let run = sending.wait(DEADLINE).code(0);
    let printed = run.stdout.clone();
    let run = run.stdout_has(waits).stdout_has("Resumed: inside SEND_WINDOW (Mon-Fri 08:00-18:00)");
    assert!(
        printed.find(waits) < printed.find("Paused:"),
        "the plan says the send waits before it waits\n{printed}"
    );
    drop(run);
    let messages = sink.messages();
    assert_eq!(counts(&messages), everyone_once(&addresses));
    for message in &messages {
        let date = message.eml().header("Date").unwrap_or_default();
        assert!(date.contains("14 Dec 2026"), "made at the opening, not on Saturday: {date}");
    }
}

#[test]
fn a_bad_send_window_is_refused_naming_the_setting_before_anything_goes() {
    let sink = SinkServer::start();
    let (test, _) = windowed(3, sink.port());
    let test = test.env("SEND_WINDOW", "Mon-Fry 08:00-18:00");
    let run = test.run(&send_args());
    assert_ne!(run.code, Some(0), "{}", run.printed());
    let run = run
        .stderr_has("setting SEND_WINDOW = \"Mon-Fry 08:00-18:00\"")
        .stderr_has("\"Mon-Fry\" is neither a day");
    drop(run);
    test.run(&["check", SAMPLE_BULLETIN, "--subscribers", "list.csv"])
        .stdout_has("error: setting SEND_WINDOW = \"Mon-Fry 08:00-18:00\"");
    assert_eq!(sink.messages().len(), 0);
}

/// Schedule `id`'s state, read from the store.
fn schedule_state(test: &Test, id: &str) -> String {
    let conn = rusqlite::Connection::open(test.join(".bulletin/journal.sqlite3")).unwrap();
    conn.query_row("SELECT state FROM schedules WHERE id = ?1", [id], |r| r.get(0)).unwrap()
}

#[test]
fn a_scheduled_send_due_on_a_saturday_waits_in_serve_for_monday_and_goes_once() {
    let sink = SinkServer::start();
    let (test, addresses) = windowed(3, sink.port());
    let test = test.env("BULLETIN_TEST_SCHEDULER_WAKE_MS", "100");
    // Saturday 2026-12-12, 10:00 in London; the send is due a minute later.
    set_clock(&test, "2026-12-12T10:00:00Z");
    let run = test.run(&["schedule", SAMPLE_BULLETIN, "--at", "2026-12-12T10:01:00Z"]).code(0);
    let id =
        run.stdout.split("Scheduled #").nth(1).and_then(|rest| rest.split(':').next()).unwrap().to_owned();
    let serve = crate::signup::serve(&test);
    set_clock(&test, "2026-12-12T10:01:30Z");
    wait_until("the scheduled send to be claimed", DEADLINE, || {
        (schedule_state(&test, &id) == "claimed").then_some(())
    });
    std::thread::sleep(WATCH);
    assert_eq!(sink.messages().len(), 0, "nothing goes on a Saturday");
    assert_eq!(schedule_state(&test, &id), "claimed", "still waiting");

    set_clock(&test, "2026-12-14T08:00:05Z");
    wait_until("the scheduled send to be sent", DEADLINE, || {
        (schedule_state(&test, &id) == "sent").then_some(())
    });
    let (_, stdout, _) = serve.stop();
    assert!(stdout.contains(PAUSED), "{stdout}");
    assert!(stdout.contains("Resumed: inside SEND_WINDOW (Mon-Fri 08:00-18:00)"), "{stdout}");
    assert_eq!(counts(&sink.messages()), everyone_once(&addresses));
}

#[test]
fn ctrl_c_during_a_pause_leaves_nothing_in_doubt_and_the_next_send_finishes_the_list_once() {
    let relay = PyServer::start(&Faults::new().hold_after(2));
    let (test, addresses) = windowed(6, relay.port());
    let test = outwaiting_holds(test);
    set_clock(&test, "2026-12-11T17:00:00Z");
    let sending = Sending::start(&test, &send_args());
    relay.wait_for(3);
    set_clock(&test, "2026-12-11T18:00:30Z");
    relay.release();
    wait_for_line(&sending, PAUSED);
    let status =
        std::process::Command::new("kill").args(["-INT", &sending.pid().to_string()]).status().unwrap();
    assert!(status.success(), "kill -INT failed");
    let run = sending.wait(DEADLINE).code(130).stdout_has("Interrupted: messages in flight were finished");
    drop(run);
    let recorded = journal_rows(&test);
    assert_eq!(recorded.len(), 3, "{recorded:?}");
    assert!(recorded.iter().all(|(_, state, _)| state == "sent"), "nothing left in doubt: {recorded:?}");

    // Monday: the same command sends to the other three.
    set_clock(&test, "2026-12-14T09:00:00Z");
    test.run(&send_args()).code(0).stdout_has("to        3 recipient(s) (3 already sent)");
    assert_eq!(counts(&relay.messages()), everyone_once(&addresses));
}
