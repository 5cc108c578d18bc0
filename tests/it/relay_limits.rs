//! A relay's limits, met as real providers set them: a sending rate
//! (in Amazon SES's words), a daily quota (SES's and Gmail's words), a
//! limit on connections open at once, and a daily allowance of our own
//! (`--rate 2000/day`). Each is an aiosmtpd relay on 127.0.0.1 (see
//! `tests/support/smtp_server.py`) that enforces it; the binary runs end to
//! end, and each test reads back what the relay stored and what the journal
//! says.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::send_util::{Faults, PyServer, Received, to_relay};
use crate::util::{Run, SAMPLE_BULLETIN, Test};

const SES_RATE: &str = "454 Throttling failure: Maximum sending rate exceeded.";
const SES_QUOTA: &str = "454 Throttling failure: Daily message quota exceeded.";
const GMAIL_QUOTA: &str = "550 5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852";

/// `n` subscribers `reader0001@example.org`..., as a CSV list.
fn list(n: usize) -> String {
    let mut csv = String::from("email,first_name\n");
    for i in 1..=n {
        csv.push_str(&format!("reader{i:04}@example.org,Ana\n"));
    }
    csv
}

/// The sample bulletin with `n` subscribers in `list.csv`, sending to `port`.
fn sending(port: u16, n: usize) -> Test {
    to_relay(Test::with_sample().file("list.csv", list(n)), port)
}

fn send(test: &Test, extra: &[&str]) -> Run {
    let mut args = vec!["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--yes"];
    args.extend_from_slice(extra);
    test.run(&args)
}

/// How many messages each recipient received, over every relay given.
fn received_by(relays: &[&PyServer]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for relay in relays {
        for message in relay.messages() {
            *counts.entry(message.recipient().to_owned()).or_default() += 1;
        }
    }
    counts
}

#[track_caller]
fn assert_each_once(counts: &BTreeMap<String, usize>, n: usize) {
    let twice: Vec<_> = counts.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "received more than once: {twice:?}");
    assert_eq!(counts.len(), n, "{} of {n} recipients received the bulletin", counts.len());
}

/// `bulletin status`'s count named `name` (sent, failed, uncertain, pending).
#[track_caller]
fn status_count(test: &Test, name: &str) -> u64 {
    let run = test.run(&["status", SAMPLE_BULLETIN, "--subscribers", "list.csv"]).code(0);
    let prefix = format!("  {name} ");
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(|n| n.trim().parse().expect("a count")))
        .unwrap_or_else(|| panic!("status has no {name} line\n{}", run.printed()))
}

/// Messages accepted per second between the first and the last.
fn accepted_per_second(messages: &[Received]) -> f64 {
    let times: Vec<f64> = messages.iter().filter_map(|m| m.time).collect();
    let first = times.iter().copied().fold(f64::INFINITY, f64::min);
    let last = times.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (times.len() - 1) as f64 / (last - first)
}

/// A relay that throttles, in Amazon SES's words, at `RELAY_RATE` a
/// second: SES allows 14, the test's relay twice that, so the run takes a
/// quarter of the time. The pace's rise and fall are per second, whatever
/// the rate, so it is the same test; a busy machine still sends 30 a second.
const RELAY_RATE: u32 = 30;

#[test]
fn a_relay_throttling_above_its_rate_loses_nobody_and_keeps_most_of_the_rate() {
    let relay = PyServer::start(&Faults::new().rate(RELAY_RATE, SES_RATE));
    let test = sending(relay.port(), 450);
    let run = send(&test, &["--rate", "unlimited", "--concurrency", "8"]).code(0);
    assert!(run.stdout.contains(", 0 failed of "), "{}", run.printed());
    assert_each_once(&received_by(&[&relay]), 450);
    assert_eq!(status_count(&test, "failed"), 0);
    let rate = accepted_per_second(&relay.messages());
    let allowed = f64::from(RELAY_RATE);
    assert!(
        rate >= 0.7 * allowed,
        "{rate:.1} messages/s, where the relay allows {allowed}\n{}",
        run.printed()
    );
    assert!(rate <= allowed * 15.0 / 14.0, "{rate:.1} messages/s, above the relay's {allowed}");
    assert!(run.stdout.contains("the relay said \"slow down\""), "the summary says so\n{}", run.printed());
}

/// A quota of 200 refused with `refusal`: the run stops with exit 3 in
/// good time, nobody is failed or counted as a bounce, and once the quota
/// is lifted the same command sends the rest, each once.
fn a_quota_running_out(refusal: &str) {
    let relay = PyServer::start(&Faults::new().quota(200, refusal));
    let test = sending(relay.port(), 600);
    let started = Instant::now();
    let run = send(&test, &["--rate", "unlimited", "--concurrency", "4"]).code(3);
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    assert!(
        run.stdout.contains(
            "the relay's quota is used up: 200 sent, 400 pending; run the same command again when it resets"
        ),
        "{}",
        run.printed()
    );
    let words = refusal.split(" For more").next().unwrap().split_once(' ').unwrap().1;
    assert!(run.stdout.contains(words), "quotes the relay\n{}", run.printed());
    assert_eq!(relay.count(), 200);
    assert_eq!(status_count(&test, "sent"), 200);
    assert_eq!(status_count(&test, "failed"), 0);
    assert_eq!(status_count(&test, "uncertain"), 0);
    assert_eq!(status_count(&test, "pending"), 400);
    let bounces = test.run(&["bounces", SAMPLE_BULLETIN, "--subscribers", "list.csv"]).code(0);
    for line in ["  hard       0", "  soft       0"] {
        assert!(bounces.stdout.contains(line), "no bounce recorded: lacks {line:?}\n{}", bounces.printed());
    }

    let lifted = PyServer::start(&Faults::new());
    let mut test = test;
    test.set_env("SMTP_PORT", &lifted.port().to_string());
    let run = send(&test, &["--rate", "unlimited", "--concurrency", "4"]).code(0);
    assert!(run.stdout.contains("  400 sent, "), "{}", run.printed());
    assert_each_once(&received_by(&[&relay, &lifted]), 600);
}

#[test]
fn a_daily_quota_in_amazon_ses_words_stops_the_run_with_exit_3_and_the_rest_pending() {
    a_quota_running_out(SES_QUOTA);
}

#[test]
fn a_daily_limit_in_gmail_words_stops_the_run_with_exit_3_and_counts_no_bounce() {
    a_quota_running_out(GMAIL_QUOTA);
}

#[test]
fn a_relay_refusing_extra_connections_is_used_with_the_ones_it_accepts() {
    let relay =
        PyServer::start(&Faults::new().max_connections(2, "421 4.3.2 Too many concurrent connections"));
    let test = sending(relay.port(), 100);
    let run = send(&test, &["--rate", "unlimited", "--concurrency", "4"]).code(0);
    assert!(run.stdout.contains(", 0 failed of "), "{}", run.printed());
    assert!(!run.stdout.contains("retried"), "no retries counted\n{}", run.printed());
    assert_each_once(&received_by(&[&relay]), 100);
    let sessions: std::collections::BTreeSet<_> = relay.messages().iter().filter_map(|m| m.session).collect();
    assert!(sessions.len() <= 2 * 2, "carried on at most two connections at a time: {sessions:?}");
}

#[test]
fn a_daily_rate_stops_when_todays_allowance_is_sent_and_says_when_to_resume() {
    let relay = PyServer::start(&Faults::new());
    let test = sending(relay.port(), 30);
    let run = send(&test, &["--rate", "20/day"]).code(3);
    assert_eq!(relay.count(), 20);
    assert!(
        run.stdout.contains("today's allowance of 20 messages (--rate 20/day) is sent"),
        "{}",
        run.printed()
    );
    assert!(run.stdout.contains("run the same command again after "), "{}", run.printed());
    assert_eq!(status_count(&test, "pending"), 10);

    // Counted from the journal: a second run the same day sends nothing.
    let run = send(&test, &["--rate", "20/day"]).code(3);
    assert_eq!(relay.count(), 20, "{}", run.printed());

    let run = send(&test, &["--rate", "50/day"]).code(0);
    assert!(run.stdout.contains("  10 sent, "), "{}", run.printed());
    assert_each_once(&received_by(&[&relay]), 30);
}

#[test]
fn a_refusal_of_the_sender_is_shown_as_sender_caused_and_never_as_a_readers_bounce() {
    let faults = Faults::new()
        .reject(
            "reader0002@example.org",
            "550 5.1.1 <reader0002@example.org>: Recipient address rejected: User unknown",
        )
        .reject("reader0003@example.org", "554 5.7.1 Message rejected: Email address is not verified.");
    let relay = PyServer::start(&faults);
    let test = sending(relay.port(), 6);
    send(&test, &[]).code(1);
    let status = test.run(&["status", SAMPLE_BULLETIN, "--subscribers", "list.csv"]).code(0);
    let line = |address: &str| {
        status
            .stdout
            .lines()
            .find(|l| l.contains(address))
            .unwrap_or_else(|| panic!("no line for {address}\n{}", status.printed()))
            .to_owned()
    };
    assert!(line("reader0002@").contains("recipient-caused"), "{}", status.printed());
    assert!(line("reader0003@").contains("sender-caused"), "{}", status.printed());
    let bounces = test.run(&["bounces", SAMPLE_BULLETIN, "--subscribers", "list.csv"]).code(0);
    let row = bounces.stdout.lines().find(|l| l.contains("reader0003@")).unwrap_or_default().to_owned();
    assert!(row.contains("sender-caused"), "{}", bounces.printed());
}
