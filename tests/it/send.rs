//! End-to-end tests of a real send: the binary submits to real SMTP servers
//! on 127.0.0.1 (Postfix's smtp-sink, and aiosmtpd told to misbehave per
//! recipient, see `tests/support/smtp_server.py`), and each test reads back
//! what the server stored, what the journal says (`bulletin status`) and
//! what the binary printed.
//!
//! Every test that logs in uses [`PASSWORD`], and checks that it never shows
//! in anything the binary prints or writes.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;

use crate::send_util::{
    Background, DEADLINE, FROM_EMAIL, Faults, PyServer, Received, SinkServer, TestCa, by_recipient,
    outwaiting_holds, to_relay,
};
use crate::util::{Eml, Run, SAMPLE_BULLETIN, SAMPLE_RECIPIENTS, Test};

/// The relay password in every test: unique enough that finding it
/// anywhere means it leaked.
const PASSWORD: &str = "pw-Zx81q-relay-secret-never-printed-7f3c";
/// A wrong password, as unique.
const WRONG_PASSWORD: &str = "pw-Wr0ng9-relay-secret-never-printed-d1a2";
const USERNAME: &str = "relay-user";

// ---------------------------------------------------------------- helpers

/// A test folder with the sample, settings for a real send (no
/// placeholders), and the relay at 127.0.0.1:`port` with a login. Retries
/// wait 50 ms, not seconds.
fn sending(test: Test, port: u16) -> Test {
    to_relay(test, port).env("SMTP_USERNAME", USERNAME).env("SMTP_PASSWORD", PASSWORD)
}

/// The sample and a generated list at `list.csv`, ready to send to `port`.
fn sending_to_list(port: u16, csv: &str) -> Test {
    sending(Test::with_sample().file("list.csv", csv), port)
}

/// The relay: aiosmtpd wanting [`USERNAME`] and [`PASSWORD`], with `faults`.
fn relay(faults: Faults) -> PyServer {
    PyServer::start(&faults.auth(USERNAME, PASSWORD))
}

/// `n` subscribers `reader01@example.org`... with first names, as a CSV
/// list (columns email, first_name), and their addresses in order.
fn list(n: usize) -> (String, Vec<String>) {
    const NAMES: [&str; 6] = ["Ana", "Zoë", "José", "Siobhán", "Tom", "Nguyễn"];
    let mut csv = String::from("email,first_name\n");
    let mut addresses = Vec::new();
    for i in 1..=n {
        let address = format!("reader{i:02}@example.org");
        csv.push_str(&format!("{address},{}\n", NAMES[i % NAMES.len()]));
        addresses.push(address);
    }
    (csv, addresses)
}

/// The arguments of a send of the sample bulletin to `list.csv`, plus `extra`.
fn send_list<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--yes"];
    args.extend_from_slice(extra);
    args
}

/// `addresses` without `left_out`.
fn all_but<'a>(addresses: &'a [String], left_out: &str) -> Vec<&'a String> {
    addresses.iter().filter(|a| *a != left_out).collect()
}

/// Runs the binary and checks the password is not in what it printed.
#[track_caller]
fn run(test: &Test, args: &[&str]) -> Run {
    let run = test.run(args);
    assert_password_not_in_output(&run);
    run
}

#[track_caller]
fn assert_password_not_in_output(run: &Run) {
    for secret in [PASSWORD, WRONG_PASSWORD] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "`bulletin {}` printed the SMTP password\n{}",
            run.args.join(" "),
            run.printed()
        );
    }
}

/// Nothing in the test's folder (the journal and its write-ahead log,
/// CSV files, dry-run messages) holds either password.
#[track_caller]
fn assert_password_kept(test: &Test) {
    let files = test.all_files();
    let journal = files.keys().filter(|p| p.to_string_lossy().contains("journal.sqlite3")).count();
    assert!(journal > 0, "no journal to search for the password: {:?}", files.keys());
    for (path, bytes) in &files {
        for secret in [PASSWORD, WRONG_PASSWORD] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds the SMTP password",
                path.display()
            );
        }
    }
}

/// Asserts each of `addresses` got exactly one message and nobody else
/// got any.
#[track_caller]
fn assert_each_got_one(messages: &[Received], addresses: &[impl AsRef<str>]) {
    for message in messages {
        assert!(
            !message.raw.windows(PASSWORD.len()).any(|w| w == PASSWORD.as_bytes()),
            "{}: a message holds the SMTP password",
            message.file
        );
    }
    let got: Vec<(String, usize)> = by_recipient(messages).into_iter().map(|(a, m)| (a, m.len())).collect();
    let mut expected: Vec<(String, usize)> =
        addresses.iter().map(|a| (a.as_ref().to_lowercase(), 1)).collect();
    expected.sort();
    assert_eq!(got, expected, "one message per recipient, to nobody else");
}

/// What `bulletin status` said.
struct Status {
    run: Run,
    counts: BTreeMap<String, u64>,
}

impl Status {
    #[track_caller]
    fn count(&self, name: &str) -> u64 {
        *self.counts.get(name).unwrap_or_else(|| panic!("status has no {name} line\n{}", self.run.printed()))
    }

    /// `(sent, failed, uncertain, pending)`.
    #[track_caller]
    fn counts(&self) -> (u64, u64, u64, u64) {
        (self.count("sent"), self.count("failed"), self.count("uncertain"), self.count("pending"))
    }
}

/// `bulletin status` of the sample bulletin for `list`, checked to succeed.
#[track_caller]
fn status(test: &Test, list: &str) -> Status {
    let run = run(test, &["status", SAMPLE_BULLETIN, "--subscribers", list]).code(0);
    let mut counts = BTreeMap::new();
    for line in run.stdout.lines() {
        let mut words = line.split_whitespace();
        if let (Some(name), Some(value), None) = (words.next(), words.next(), words.next())
            && let Ok(value) = value.parse::<u64>()
        {
            counts.insert(name.to_owned(), value);
        }
    }
    Status { run, counts }
}

/// One row of `bulletin status --csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CsvRow {
    email: String,
    state: String,
    attempts: u32,
    message_id: String,
    reply: String,
}

/// `bulletin status --csv`, read back, by lower-case address.
#[track_caller]
fn status_csv(test: &Test, list: &str) -> BTreeMap<String, CsvRow> {
    run(test, &["status", SAMPLE_BULLETIN, "--subscribers", list, "--csv", "status.csv"])
        .code(0)
        .stdout_has("Wrote status.csv");
    let mut reader = csv::Reader::from_path(test.join("status.csv")).expect("status.csv is readable");
    let header: Vec<String> = reader.headers().expect("a header row").iter().map(str::to_owned).collect();
    assert_eq!(header, ["email", "state", "attempts", "updated_at", "message_id", "reply"]);
    let mut rows = BTreeMap::new();
    for record in reader.records() {
        let record = record.expect("a well-formed row");
        let row = CsvRow {
            email: record[0].to_owned(),
            state: record[1].to_owned(),
            attempts: record[2].parse().expect("attempts is a number"),
            message_id: record[4].to_owned(),
            reply: record[5].to_owned(),
        };
        let previous = rows.insert(row.email.to_lowercase(), row);
        assert!(previous.is_none(), "status.csv has two rows for {}", record[0].to_owned());
    }
    rows
}

/// `bytes` without its `Date:` line (and any continuation), line ends as given.
fn without_date(bytes: &[u8]) -> String {
    let text = String::from_utf8(bytes.to_vec()).expect("a message is UTF-8");
    let mut out = String::new();
    let mut in_date = false;
    let mut dates = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("Date:") {
            in_date = true;
            dates += 1;
            continue;
        }
        if in_date && line.starts_with([' ', '\t']) {
            continue;
        }
        in_date = false;
        out.push_str(line);
    }
    assert_eq!(dates, 1, "one Date line in\n{text}");
    out
}

/// Asserts the relay received `want` (the dry run's message), `got`,
/// exactly; `eol` is the line end the server stored.
#[track_caller]
fn assert_same_message(recipient: &str, got: &str, want: &str, eol: &str) {
    if got != want && got.strip_suffix(eol) == Some(want) {
        panic!(
            "{recipient}: the relay received the dry run's message plus an empty line at the end. lettre ends \
             DATA with CRLF.CRLF whatever the message's last bytes, so the bytes given to send_raw must not \
             end with CRLF."
        );
    }
    assert_eq!(got, want, "{recipient}: the relay received the dry run's .eml, Date apart");
}

/// The dry run's message for each (lower-case) address, from `out/`.
fn dry_run(test: &Test, list: &str) -> BTreeMap<String, Eml> {
    run(test, &["send", SAMPLE_BULLETIN, "--subscribers", list, "--dry-run", "--out", "out"]).code(0);
    test.emls("out").into_iter().map(|eml| (eml.to_address().to_lowercase(), eml)).collect()
}

// ------------------------------------------------- delivery, byte for byte

#[test]
fn every_subscriber_gets_exactly_the_dry_runs_message_through_smtp_sink() {
    let sink = SinkServer::start();
    let (csv, addresses) = list(30);
    // A status column, and rows that must get nothing: unsubscribed, a
    // duplicate in other case, an invalid address.
    let mut csv: String = csv
        .lines()
        .enumerate()
        .map(
            |(i, line)| {
                if i == 0 { "email,first_name,status\n".to_owned() } else { format!("{line},subscribed\n") }
            },
        )
        .collect();
    csv.push_str("gone@example.org,Gone,unsubscribed\nreader05@EXAMPLE.org,Again,subscribed\n");
    csv.push_str("not-an-address,Nobody,subscribed\n");
    let test = sending_to_list(sink.port(), &csv);
    let expected = dry_run(&test, "list.csv");
    assert_eq!(expected.len(), 30, "the dry run makes one message per subscriber");

    let sent = run(&test, &send_list(&["--rate", "unlimited"])).code(0).stdout_has("  30 sent, ");
    assert!(sent.stdout.contains(", 0 failed of "), "{}", sent.printed());

    let messages = sink.messages();
    assert_each_got_one(&messages, &addresses);
    for message in &messages {
        assert_eq!(message.mail_from, FROM_EMAIL, "{}: the envelope sender", message.file);
        let recipient = message.recipient().to_lowercase();
        let dry = &expected[&recipient];
        // smtp-sink stores LF line ends; the dry run's .eml has CRLF.
        let want = without_date(&dry.raw).replace("\r\n", "\n");
        let got = without_date(&message.raw);
        assert!(!got.contains('\r'), "smtp-sink stores LF line ends");
        assert_same_message(&recipient, &got, &want, "\n");
    }
    assert_eq!(status(&test, "list.csv").counts(), (30, 0, 0, 0));
    assert_password_kept(&test);
}

#[test]
fn the_sample_list_with_a_non_ascii_address_arrives_byte_for_byte_through_aiosmtpd() {
    let server = relay(Faults::new());
    let test = sending(Test::with_sample(), server.port());
    let expected = dry_run(&test, "subscribers/subscribers.csv");

    run(&test, &["send", SAMPLE_BULLETIN, "--yes", "--rate", "unlimited"]).code(0).stdout_has("  15 sent, ");

    let messages = server.messages();
    assert_each_got_one(&messages, &SAMPLE_RECIPIENTS);
    for message in &messages {
        let recipient = message.recipient().to_lowercase();
        assert_same_message(
            &recipient,
            &without_date(&message.raw),
            &without_date(&expected[&recipient].raw),
            "\r\n",
        );
    }
    assert_eq!(status(&test, "subscribers/subscribers.csv").counts(), (15, 0, 0, 0));
    assert_password_kept(&test);
}

#[test]
fn with_a_bounce_address_the_envelope_sender_is_it_and_the_from_header_is_unchanged() {
    let server = relay(Faults::new());
    let (csv, addresses) = list(3);
    let test = sending_to_list(server.port(), &csv).env("BOUNCE_ADDRESS", "bounces@hope.example.org");

    run(&test, &send_list(&["--rate", "unlimited"]))
        .code(0)
        .stdout_has("bounces   to bounces@hope.example.org")
        .stdout_has("  3 sent, ");

    let messages = server.messages();
    assert_each_got_one(&messages, &addresses);
    for message in &messages {
        // bounces+TOKEN@: the bounce address, signed per recipient (VERP).
        let (local, domain) = message.mail_from.split_once('@').unwrap();
        assert_eq!(
            (local.split_once('+').map(|(l, _)| l), domain),
            (Some("bounces"), "hope.example.org"),
            "{}: the envelope sender",
            message.file
        );
        let from = message.eml().header("From").unwrap();
        assert!(from.contains(FROM_EMAIL), "{}: From is still the sender: {from}", message.file);
    }
}

// ---------------------------------------------------------------- the rate

#[test]
fn the_rate_limit_holds_across_connections() {
    // 40 messages at 20/s over 4 connections. The limiter lets a burst of
    // max(1, 20/10) = 2 through at once, then one every 50 ms, so the last
    // leaves at least (40 - 2) / 20 = 1.9 s after the first, and no second
    // sees more than 20 + 2 of them.
    const RATE: f64 = 20.0;
    const BURST: usize = 2;
    const N: usize = 40;
    // The server stamps a message when its MAIL FROM arrives, a little
    // after the limiter let it go: how much later varies (the journal's
    // sync, the network, a busy machine), which can squeeze stamps
    // together. Allow 2 messages (100 ms at this rate) and 100 ms for that.
    const TOLERANCE_MESSAGES: usize = 2;
    const TOLERANCE_SECONDS: f64 = 0.1;

    let server = relay(Faults::new());
    let (csv, addresses) = list(N);
    let test = sending_to_list(server.port(), &csv);
    let started = Instant::now();
    run(&test, &send_list(&["--rate", "20/s", "--concurrency", "4"])).code(0).stdout_has("  40 sent, ");
    let elapsed = started.elapsed().as_secs_f64();

    let messages = server.messages();
    assert_each_got_one(&messages, &addresses);
    let minimum = (N - BURST) as f64 / RATE;
    assert!(elapsed >= minimum, "{N} messages at {RATE}/s took {elapsed:.2}s, under {minimum:.2}s");
    assert!(elapsed < minimum * 3.0, "{N} messages at {RATE}/s took {elapsed:.2}s: far slower than the rate");

    let mut stamps: Vec<f64> =
        messages.iter().map(|m| m.mail_time.expect("aiosmtpd stamps MAIL FROM")).collect();
    stamps.sort_by(f64::total_cmp);
    let span = stamps[N - 1] - stamps[0];
    assert!(span >= minimum - TOLERANCE_SECONDS, "the server saw {N} messages within {span:.2}s");
    let busiest =
        (0..N).map(|i| stamps[i..].iter().take_while(|&&t| t < stamps[i] + 1.0).count()).max().unwrap();
    let allowed = RATE as usize + BURST + TOLERANCE_MESSAGES;
    assert!(
        busiest <= allowed,
        "{busiest} messages within one second at {RATE}/s (allowed {allowed}): {stamps:?}"
    );
    assert_password_kept(&test);
}

// ------------------------------------------------ temporary and final faults

#[test]
fn a_recipient_answered_451_once_is_retried_and_gets_one_message() {
    let (csv, addresses) = list(8);
    let server = relay(Faults::new().tempfail("reader03@example.org", 1));
    let test = sending_to_list(server.port(), &csv);
    run(&test, &send_list(&["--rate", "unlimited", "-v"]))
        .code(0)
        .stdout_has("  8 sent, ")
        .stdout_has("retried   1");

    assert_each_got_one(&server.messages(), &addresses);
    let rows = status_csv(&test, "list.csv");
    let row = &rows["reader03@example.org"];
    assert_eq!((row.state.as_str(), row.attempts), ("sent", 2), "{row:?}");
    assert!(row.reply.starts_with("250 "), "{row:?}");
    assert!(rows.values().filter(|r| r.email != "reader03@example.org").all(|r| r.attempts == 1), "{rows:?}");
    assert_eq!(status(&test, "list.csv").counts(), (8, 0, 0, 0));
    assert_password_kept(&test);
}

#[test]
fn a_recipient_refused_with_550_fails_with_the_relays_words_and_everyone_else_is_delivered() {
    let (csv, addresses) = list(8);
    let refusal = "550 5.1.1 <reader06@example.org>: Recipient address rejected: no such user";
    let server = relay(Faults::new().reject("reader06@example.org", refusal));
    let test = sending_to_list(server.port(), &csv);
    let sent = run(&test, &send_list(&["--rate", "unlimited", "-v"])).code(1);
    // Issue 8: counts that add up, not "8/8 sent (1 failed)".
    let sent = sent.stdout_has("  7 sent, 1 failed of 8 (see `bulletin status`)");

    assert_each_got_one(&server.messages(), &all_but(&addresses, "reader06@example.org"));
    let status = status(&test, "list.csv");
    assert_eq!(status.counts(), (7, 1, 0, 0));
    let failure = status
        .run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("reader06@example.org: "))
        .unwrap_or_else(|| panic!("status lists the failure\n{}", status.run.printed()));
    assert!(
        failure.contains("550") && failure.contains("Recipient address rejected: no such user"),
        "status gives the relay's reply: {failure}"
    );
    let row = &status_csv(&test, "list.csv")["reader06@example.org"];
    assert_eq!((row.state.as_str(), row.attempts), ("failed", 1), "a 5xx is not retried: {row:?}");
    assert!(row.reply.contains("no such user"), "{row:?}");
    assert!(!sent.stdout.contains("retried"), "nothing was retried\n{}", sent.printed());
    assert_password_kept(&test);
}

#[test]
fn a_recipient_still_answered_451_after_every_attempt_fails_saying_how_many_were_made() {
    let (csv, addresses) = list(5);
    let server = relay(Faults::new().tempfail("reader02@example.org", 100));
    let test = sending_to_list(server.port(), &csv);
    run(&test, &send_list(&["--rate", "unlimited", "--attempts", "3"]))
        .code(1)
        .stdout_has("  4 sent, ")
        .stdout_has(", 1 failed of ")
        .stdout_has("retried   2");

    assert_each_got_one(&server.messages(), &all_but(&addresses, "reader02@example.org"));
    let row = &status_csv(&test, "list.csv")["reader02@example.org"];
    assert_eq!((row.state.as_str(), row.attempts), ("failed", 3), "{row:?}");
    assert!(row.reply.contains("451") && row.reply.contains("gave up after 3 attempts"), "{row:?}");
    assert_password_kept(&test);
}

#[test]
fn three_refused_recipients_at_the_top_of_the_list_do_not_stop_the_others() {
    // Many relays refuse unknown mailboxes with words that do not name
    // the address; three such at the top of the list are the recipients'
    // fault, not the relay's.
    let (csv, addresses) = list(10);
    let mut faults = Faults::new();
    for address in &addresses[..3] {
        faults = faults.reject(address, "550 5.1.1 User unknown");
    }
    let server = relay(faults);
    let test = sending_to_list(server.port(), &csv);
    run(&test, &send_list(&["--rate", "unlimited", "--concurrency", "1"])).code(1).stdout_has("  7 sent, ");
    assert_each_got_one(&server.messages(), &addresses[3..]);
    assert_eq!(status(&test, "list.csv").counts(), (7, 3, 0, 0));
}

#[test]
fn a_connection_dropped_during_data_is_retried_and_the_message_arrives_once() {
    let (csv, addresses) = list(8);
    let server = relay(Faults::new().drop_data("reader05@example.org", 1));
    let test = sending_to_list(server.port(), &csv);
    run(&test, &send_list(&["--rate", "unlimited"]))
        .code(0)
        .stdout_has("  8 sent, ")
        .stdout_has("retried   1");

    assert_each_got_one(&server.messages(), &addresses);
    let row = &status_csv(&test, "list.csv")["reader05@example.org"];
    assert_eq!((row.state.as_str(), row.attempts), ("sent", 2), "{row:?}");
    assert_password_kept(&test);
}

// ------------------------------------------------------------ connections

#[test]
fn one_connection_carries_a_hundred_messages_without_waiting_on_delayed_acknowledgements() {
    // Regression test for issue 6: lettre's own sockets keep Nagle's
    // algorithm on, so the five bytes that end each message waited for the
    // relay's delayed ACK, 40 ms here: 100 messages took 4.4 s on one
    // connection. Without the stall they take a few milliseconds each.
    const N: usize = 100;
    let sink = SinkServer::start();
    let (csv, addresses) = list(N);
    let test = sending_to_list(sink.port(), &csv);
    let sent = run(&test, &send_list(&["--rate", "unlimited", "--concurrency", "1"])).code(0);
    let sent = sent.stdout_has("  100 sent, ");
    let seconds: f64 = sent
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("elapsed")?.trim().split('s').next()?.parse().ok())
        .unwrap_or_else(|| panic!("the run says how long it took\n{}", sent.printed()));
    assert!(seconds < 2.0, "{N} messages on one connection took {seconds}s (40 ms each would be 4 s)");
    assert_each_got_one(&sink.messages(), &addresses);
}

#[test]
fn a_refused_recipient_leaves_the_connection_open_for_the_next_messages() {
    let (csv, addresses) = list(6);
    let server = relay(Faults::new().reject("reader03@example.org", "550 5.1.1 User unknown"));
    let test = sending_to_list(server.port(), &csv);
    run(&test, &send_list(&["--rate", "unlimited", "--concurrency", "1"])).code(1).stdout_has("  5 sent, ");

    let messages = server.messages();
    assert_each_got_one(&messages, &all_but(&addresses, "reader03@example.org"));
    let sessions: BTreeSet<u16> = messages.iter().map(|m| m.session.expect("aiosmtpd names it")).collect();
    assert_eq!(sessions.len(), 1, "one connection carried all five, before and after the refusal");
}

#[test]
fn a_relay_that_closes_each_connection_after_three_messages_costs_no_retries() {
    let (csv, addresses) = list(10);
    let server = relay(Faults::new().session_limit(3));
    let test = sending_to_list(server.port(), &csv);
    let sent = run(&test, &send_list(&["--rate", "unlimited", "--concurrency", "2"])).code(0);
    let sent = sent.stdout_has("  10 sent, ");
    assert!(!sent.stdout.contains("retried"), "nothing counts as a retry\n{}", sent.printed());

    let messages = server.messages();
    assert_each_got_one(&messages, &addresses);
    let sessions: BTreeSet<u16> = messages.iter().map(|m| m.session.expect("aiosmtpd names it")).collect();
    assert!(sessions.len() >= 4, "ten messages, three a session: {sessions:?}");
    let rows = status_csv(&test, "list.csv");
    assert!(rows.values().all(|r| r.attempts == 1), "{rows:?}");
    assert_password_kept(&test);
}

// -------------------------------------------------------------------- TLS

/// The test's settings for a relay on `localhost:port` speaking TLS as
/// `security` says (`tls` or `starttls`): `SMTP_HOST` is a name the
/// relay's certificate holds.
fn over_tls(test: Test, security: &str) -> Test {
    test.env("SMTP_HOST", "localhost").env("SMTP_SECURITY", security)
}

/// A relay whose certificate our own authority signed (as an organisation's
/// internal Postfix has) is refused over `security` while only Mozilla's
/// roots are trusted, before any login; trusted through SMTP_CA_FILE, it
/// gets every message exactly as the dry run made it, the login only after
/// TLS.
fn a_relay_certified_by_our_own_authority_needs_smtp_ca_file(security: &str) {
    let ca = TestCa::new();
    let server = relay(Faults::new().tls(security, &ca.issue(&["localhost", "127.0.0.1"])));
    let (csv, addresses) = list(12);
    let mut test = over_tls(sending_to_list(server.port(), &csv), security);
    let expected = dry_run(&test, "list.csv");

    let refused = run(&test, &send_list(&["--rate", "unlimited"])).code(2);
    let errors = refused.error_lines();
    assert_eq!(errors.len(), 1, "{security}: one clear error\n{}", refused.printed());
    assert!(
        errors[0].contains(&format!("localhost:{} ({security})", server.port()))
            && errors[0].contains("UnknownIssuer")
            && errors[0].contains("set SMTP_CA_FILE to that authority's certificate"),
        "{security}: the error names the relay, the certificate's fault and the remedy: {}",
        errors[0]
    );
    assert_eq!(server.count(), 0, "{security}: nothing was sent");
    assert!(!server.log().contains("AUTH attempt"), "{security}: no login was tried\n{}", server.log());
    assert_eq!(status(&test, "list.csv").counts(), (0, 0, 0, 12), "{security}: everyone is still pending");

    test.set_env("SMTP_CA_FILE", ca.cert_file().to_str().unwrap());
    run(&test, &send_list(&["--rate", "unlimited", "--concurrency", "3"])).code(0).stdout_has("  12 sent, ");
    let messages = server.messages();
    assert_each_got_one(&messages, &addresses);
    for message in &messages {
        let recipient = message.recipient().to_lowercase();
        assert_same_message(
            &recipient,
            &without_date(&message.raw),
            &without_date(&expected[&recipient].raw),
            "\r\n",
        );
    }
    let log = server.log();
    assert!(
        log.contains("over TLS") && !log.contains("in plain text"),
        "{security}: AUTH only over TLS\n{log}"
    );
    assert_eq!(status(&test, "list.csv").counts(), (12, 0, 0, 0));
    assert_password_kept(&test);
}

#[test]
fn over_implicit_tls_a_relay_certified_by_our_own_authority_is_refused_until_smtp_ca_file_trusts_it() {
    a_relay_certified_by_our_own_authority_needs_smtp_ca_file("tls");
}

#[test]
fn over_starttls_a_relay_certified_by_our_own_authority_is_refused_until_smtp_ca_file_trusts_it() {
    a_relay_certified_by_our_own_authority_needs_smtp_ca_file("starttls");
}

#[test]
fn a_certificate_for_another_host_is_refused_even_from_a_trusted_authority() {
    let ca = TestCa::new();
    let elsewhere = ca.issue(&["relay.example.org"]);
    for security in ["tls", "starttls"] {
        let server = relay(Faults::new().tls(security, &elsewhere));
        let (csv, _) = list(3);
        let test = over_tls(sending_to_list(server.port(), &csv), security)
            .env("SMTP_CA_FILE", ca.cert_file().to_str().unwrap());
        let refused = run(&test, &send_list(&["--rate", "unlimited"])).code(2);
        let errors = refused.error_lines();
        assert_eq!(errors.len(), 1, "{security}: one clear error\n{}", refused.printed());
        assert!(
            errors[0].contains("certificate not valid for name \"localhost\"")
                && errors[0].contains("relay.example.org")
                && errors[0].contains("set SMTP_HOST to a name the relay's certificate holds"),
            "{security}: the error says whom the certificate is for: {}",
            errors[0]
        );
        assert_eq!(server.count(), 0, "{security}: nothing was sent");
        assert!(!server.log().contains("AUTH attempt"), "{security}: no login was tried\n{}", server.log());
        assert_password_kept(&test);
    }
}

#[test]
fn check_smtp_verifies_the_relays_certificate_with_smtp_ca_file_from_the_settings_files_folder() {
    let ca = TestCa::new();
    // By address this time: the certificate holds IP:127.0.0.1 too.
    let server = relay(Faults::new().starttls(&ca.issue(&["localhost", "127.0.0.1"])));
    let (csv, _) = list(3);
    let ca_pem = std::fs::read(ca.cert_file()).unwrap();
    // SMTP_CA_FILE in a settings file elsewhere, relative to its folder.
    let mut test = sending_to_list(server.port(), &csv)
        .env("SMTP_SECURITY", "starttls")
        .file("conf/settings.env", "SMTP_CA_FILE=certs/hope-ca.pem\n")
        .file("conf/certs/hope-ca.pem", &ca_pem);
    let args =
        ["check", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--smtp", "--env-file", "conf/settings.env"];
    let port = server.port();
    let ca_path = "conf/certs/hope-ca.pem";
    run(&test, &args)
        .code(0)
        .stdout_has(&format!(
            "relay 127.0.0.1:{port} (starttls): connected, logged in as {USERNAME}; trusting 1 authority of {ca_path} \
             besides Mozilla's roots",
        ))
        .stdout_has("0 error(s)");
    assert!(server.log().contains("over TLS"), "{}", server.log());

    // Without it, the relay's certificate is refused.
    let without = ["check", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--smtp"];
    let refused = run(&test, &without).code(1).stdout_has("1 error(s)");
    assert!(
        refused.stdout.lines().any(|l| l.starts_with("error: relay 127.0.0.1:")
            && l.contains("UnknownIssuer")
            && l.contains("SMTP_CA_FILE")),
        "{}",
        refused.printed()
    );

    // A file that holds no certificate is a settings error naming both.
    test = test.file("conf/certs/hope-ca.pem", "not a certificate\n");
    let bad = run(&test, &args).code(1).stdout_has("1 error(s)");
    assert!(
        bad.stdout.lines().any(|l| l.starts_with("error: setting SMTP_CA_FILE = \"certs/hope-ca.pem\"")
            && l.contains(&format!("{ca_path} holds no certificate"))),
        "{}",
        bad.printed()
    );
    assert_eq!(server.count(), 0, "a check sends nothing");
}

#[test]
fn check_smtp_warns_that_smtp_ca_file_is_unused_without_tls() {
    let ca = TestCa::new();
    let server = relay(Faults::new());
    let (csv, _) = list(3);
    let test = sending_to_list(server.port(), &csv).env("SMTP_CA_FILE", ca.cert_file().to_str().unwrap());
    let checked = run(&test, &["check", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--smtp"]).code(0);
    let port = server.port();
    checked
        .stdout_has(&format!("relay 127.0.0.1:{port} (none): connected, logged in as {USERNAME}\n"))
        .stdout_has(&format!(
            "warning: SMTP_CA_FILE ({}) is set but SMTP_SECURITY is none: without TLS no certificate is checked",
            ca.cert_file().display()
        ));
}

#[test]
fn a_missing_smtp_ca_file_stops_the_send_before_it_connects() {
    let server = relay(Faults::new());
    let (csv, _) = list(3);
    let test = sending_to_list(server.port(), &csv).env("SMTP_CA_FILE", "no-such-ca.pem");
    let refused = run(&test, &send_list(&["--rate", "unlimited"])).code(2);
    let errors = refused.error_lines();
    assert_eq!(errors.len(), 1, "one clear error\n{}", refused.printed());
    assert!(
        errors[0].contains("setting SMTP_CA_FILE = \"no-such-ca.pem\"")
            && errors[0].contains("cannot read no-such-ca.pem"),
        "the error names the setting and the file: {}",
        errors[0]
    );
    assert_eq!(server.count(), 0);
    assert!(!server.log().contains("AUTH attempt"), "nothing connected\n{}", server.log());
}

// ------------------------------------------------------ the relay's refusals

#[test]
fn wrong_credentials_stop_the_send_with_one_error_and_a_rerun_with_the_right_ones_sends_everyone() {
    let server = relay(Faults::new());
    let mut test = sending(Test::with_sample(), server.port());
    test.set_env("SMTP_PASSWORD", WRONG_PASSWORD);
    let refused = run(&test, &["send", SAMPLE_BULLETIN, "--yes", "--rate", "unlimited"]).code(2);
    let errors = refused.error_lines();
    assert_eq!(errors.len(), 1, "one clear error\n{}", refused.printed());
    assert!(
        errors[0].contains("127.0.0.1") && errors[0].contains("535"),
        "the error names the relay and its answer: {}",
        errors[0]
    );
    assert_eq!(server.count(), 0, "nothing was delivered");
    assert_eq!(
        status(&test, "subscribers/subscribers.csv").counts(),
        (0, 0, 0, 15),
        "nobody is marked failed"
    );

    test.set_env("SMTP_PASSWORD", PASSWORD);
    run(&test, &["send", SAMPLE_BULLETIN, "--yes", "--rate", "unlimited"]).code(0).stdout_has("  15 sent, ");
    assert_each_got_one(&server.messages(), &SAMPLE_RECIPIENTS);
    assert_password_kept(&test);
}

#[test]
fn check_smtp_reports_a_good_login_and_the_relays_answer_to_a_bad_one() {
    let server = relay(Faults::new());
    let (csv, _) = list(3);
    let mut test = sending_to_list(server.port(), &csv);
    let args = ["check", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--smtp"];
    let port = server.port();
    run(&test, &args)
        .code(0)
        .stdout_has(&format!("relay 127.0.0.1:{port} (none): connected, logged in as {USERNAME}"))
        .stdout_has("0 error(s)");

    test.set_env("SMTP_PASSWORD", WRONG_PASSWORD);
    let bad = run(&test, &args).code(1).stdout_has("1 error(s)");
    let error = bad
        .stdout
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("an error line\n{}", bad.printed()));
    assert!(
        error.contains(&format!("relay 127.0.0.1:{port} (none)")) && error.contains("535"),
        "the relay and its answer: {error}"
    );
    assert_eq!(server.count(), 0, "a check sends nothing");
    for (path, bytes) in test.all_files() {
        assert!(!bytes.windows(PASSWORD.len()).any(|w| w == PASSWORD.as_bytes()), "{}", path.display());
        assert!(
            !bytes.windows(WRONG_PASSWORD.len()).any(|w| w == WRONG_PASSWORD.as_bytes()),
            "{}",
            path.display()
        );
    }
}

#[test]
fn a_relay_refusing_the_sender_stops_the_run_early_and_a_rerun_to_a_fixed_relay_sends_everyone() {
    let (csv, addresses) = list(20);
    let refusal = "553 5.7.1 <news@hope.example.org>: Sender address rejected: not owned by user";
    let refusing = relay(Faults::new().reject_sender(refusal));
    let mut test = sending_to_list(refusing.port(), &csv);
    let args = send_list(&["--rate", "unlimited", "--concurrency", "2"]);
    let stopped = run(&test, &args).code(2);
    let errors = stopped.error_lines();
    assert!(
        errors.iter().any(|l| l.contains("553") && l.contains("Sender address rejected: not owned by user")),
        "the error gives the relay's reply\n{}",
        stopped.printed()
    );
    assert!(stopped.stderr.contains("stopped"), "the run says it stopped early\n{}", stopped.printed());
    assert_eq!(refusing.count(), 0);
    assert_eq!(status(&test, "list.csv").counts(), (0, 0, 0, 20), "nobody is marked failed");
    drop(refusing);

    let fixed = relay(Faults::new());
    test.set_env("SMTP_PORT", &fixed.port().to_string());
    run(&test, &args).code(0).stdout_has("  20 sent, ");
    assert_each_got_one(&fixed.messages(), &addresses);
    assert_eq!(status(&test, "list.csv").counts(), (20, 0, 0, 0));
    assert_password_kept(&test);
}

// ------------------------------------------------------------ crash safety

/// When a test kills the send.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// As soon as the relay has this many messages: wherever the send is.
    AfterMessages(usize),
    /// While the relay has stored this recipient's message but not yet
    /// answered it (it holds the answer until released): the one moment a
    /// copy must be sent twice.
    WhileUnanswered(&'static str),
}

#[test]
fn a_send_killed_at_any_moment_resumes_and_sends_again_only_what_was_in_flight() {
    const N: usize = 60;
    const CONCURRENCY: usize = 2;
    let (csv, addresses) = list(N);
    for point in [
        KillPoint::AfterMessages(5),
        KillPoint::AfterMessages(35),
        KillPoint::WhileUnanswered("reader20@example.org"),
    ] {
        let server = match point {
            KillPoint::AfterMessages(_) => relay(Faults::new()),
            KillPoint::WhileUnanswered(address) => relay(Faults::new().hold(address)),
        };
        let test = outwaiting_holds(sending_to_list(server.port(), &csv));
        let args = send_list(&["--rate", "20/s", "--concurrency", "2"]);
        let mut sending = Background::start(test.std_command(&args), &args);
        match point {
            KillPoint::AfterMessages(n) => server.wait_for(n),
            KillPoint::WhileUnanswered(address) => server.wait_for_message_to(address),
        }
        sending.kill();
        let killed = sending.wait(DEADLINE);
        // What the relay held, it answers (to nobody now), and the rerun's
        // messages at once.
        server.release();
        assert_eq!(killed.code, None, "SIGKILL ended it");
        assert_password_not_in_output(&killed);
        assert!(server.count() < N, "{point:?}, yet all {N} were sent");

        // What the journal says now: the uncertain ones were in flight.
        let rows = status_csv(&test, "list.csv");
        let uncertain: BTreeSet<String> =
            rows.values().filter(|r| r.state == "uncertain").map(|r| r.email.to_lowercase()).collect();
        assert!(
            uncertain.len() <= CONCURRENCY,
            "{point:?}: {uncertain:?} uncertain with {CONCURRENCY} connections"
        );

        let resumed = run(&test, &send_list(&["--rate", "unlimited"])).code(0);
        if !uncertain.is_empty() {
            assert!(
                resumed.stderr.contains("were being sent to when the last run stopped"),
                "the rerun warns about the uncertain ones\n{}",
                resumed.printed()
            );
        }

        let messages = server.messages();
        let received = by_recipient(&messages);
        let everyone: BTreeSet<String> = addresses.iter().cloned().collect();
        assert_eq!(received.keys().cloned().collect::<BTreeSet<_>>(), everyone, "{point:?}: everyone got it");
        let twice: BTreeMap<&String, &Vec<&Received>> =
            received.iter().filter(|(_, m)| m.len() > 1).collect();
        assert!(
            twice.len() <= CONCURRENCY,
            "{point:?}: {} got two messages, more than the {CONCURRENCY} in flight",
            twice.len()
        );
        if let KillPoint::WhileUnanswered(address) = point {
            assert!(twice.contains_key(&address.to_owned()), "{address} was in flight, so it is sent again");
        }
        for (address, copies) in &twice {
            assert_eq!(copies.len(), 2, "{address} got {} messages", copies.len());
            assert!(uncertain.contains(*address), "{address} got two messages but was not uncertain");
            let ids: BTreeSet<String> = copies.iter().map(|m| m.message_id()).collect();
            assert_eq!(ids.len(), 1, "{address}: both copies have the same Message-ID: {ids:?}");
            assert_eq!(ids.first(), Some(&rows[*address].message_id), "{address}: as in the journal");
        }
        assert_eq!(status(&test, "list.csv").counts(), (N as u64, 0, 0, 0));
        assert_password_kept(&test);
    }
}

#[test]
fn ctrl_c_finishes_the_messages_in_flight_and_a_rerun_sends_the_rest_with_no_duplicates() {
    const N: usize = 60;
    let (csv, addresses) = list(N);
    // The relay holds its answer for reader10 for a second: Ctrl-C comes
    // while that message is in flight.
    let in_flight = "reader10@example.org";
    let server = relay(Faults::new().slow_reply(in_flight, 1.0));
    let test = sending_to_list(server.port(), &csv);
    let args = send_list(&["--rate", "20/s", "--concurrency", "2"]);
    let sending = Background::start(test.std_command(&args), &args);
    server.wait_for_message_to(in_flight);
    sending.interrupt();
    let interrupted = sending.wait(Duration::from_secs(10));
    assert_password_not_in_output(&interrupted);
    assert!(interrupted.code.is_some(), "it exits by itself\n{}", interrupted.printed());
    let interrupted = interrupted
        .stdout_has("Interrupted: messages in flight were finished and recorded")
        .stdout_has("Run the same command again to resume");
    assert!(interrupted.stderr.contains("Stopping"), "{}", interrupted.printed());

    let delivered = server.count();
    assert!(delivered < N, "interrupted, yet all {N} were sent");
    let status_then = status(&test, "list.csv");
    assert_eq!(
        status_then.counts(),
        (delivered as u64, 0, 0, (N - delivered) as u64),
        "every message the relay took is recorded as sent, none is uncertain"
    );
    assert_eq!(status_csv(&test, "list.csv")[in_flight].state, "sent", "the message in flight was finished");

    let resumed = run(&test, &send_list(&["--rate", "unlimited"])).code(0);
    let resumed = resumed.stdout_has(&format!("  {} sent, ", N - delivered));
    assert!(resumed.stdout.contains(&format!("{delivered} already sent")), "{}", resumed.printed());
    assert_each_got_one(&server.messages(), &addresses);
    assert_eq!(status(&test, "list.csv").counts(), (N as u64, 0, 0, 0));
    assert_password_kept(&test);
}

// ------------------------------------------------ test copies and partial runs

#[test]
fn a_test_copy_goes_only_to_the_given_address_as_the_first_subscriber_would_see_it_and_leaves_the_journal_alone()
 {
    let server = relay(Faults::new());
    let test = sending(Test::with_sample(), server.port());
    run(&test, &["send", SAMPLE_BULLETIN, "--to", "editor@hope.example.org", "--yes"])
        .code(0)
        .stdout_has("test copy sent to editor@hope.example.org");

    let messages = server.messages();
    assert_eq!(messages.len(), 1, "one message");
    assert_eq!(messages[0].rcpt_to, ["editor@hope.example.org"], "to the given address only");
    let eml = messages[0].eml();
    assert_eq!(eml.to_address(), "editor@hope.example.org");
    let subject = eml.parse().subject().expect("a subject").to_owned();
    assert!(subject.starts_with("[TEST] IJM Prayer Requests"), "{subject}");
    assert!(eml.text().contains("Dear Ana,"), "personalised as the first subscriber:\n{}", eml.text());
    assert!(!test.join(".bulletin").exists(), "the journal is not even made");
    status(&test, "subscribers/subscribers.csv").run.stdout_has("(nothing sent)");

    // Ana was not counted as sent: the real send still reaches everyone.
    run(&test, &["send", SAMPLE_BULLETIN, "--yes", "--rate", "unlimited"]).code(0).stdout_has("  15 sent, ");
    let real: Vec<Received> = server.messages().into_iter().skip(1).collect();
    assert_each_got_one(&real, &SAMPLE_RECIPIENTS);
    assert_password_kept(&test);
}

#[test]
fn limit_sends_the_next_n_pending_recipients_each_run_and_status_csv_lists_everyone() {
    let server = relay(Faults::new());
    let test = sending(Test::with_sample(), server.port());
    let list = "subscribers/subscribers.csv";
    let args = ["send", SAMPLE_BULLETIN, "--yes", "--rate", "unlimited", "--limit", "5"];

    run(&test, &args).code(0).stdout_has("  5 sent, ").stdout_has("10 left for later by --limit");
    assert_each_got_one(&server.messages(), &SAMPLE_RECIPIENTS[..5]);
    assert_eq!(status(&test, list).counts(), (5, 0, 0, 10));

    run(&test, &args).code(0).stdout_has("  5 sent, ").stdout_has("5 already sent");
    assert_each_got_one(&server.messages(), &SAMPLE_RECIPIENTS[..10]);
    assert_eq!(status(&test, list).counts(), (10, 0, 0, 5));

    let rows = status_csv(&test, list);
    let states: BTreeMap<&str, &str> = rows.values().map(|r| (r.email.as_str(), r.state.as_str())).collect();
    let expected: BTreeMap<&str, &str> = SAMPLE_RECIPIENTS
        .iter()
        .enumerate()
        .map(|(i, a)| (*a, if i < 10 { "sent" } else { "pending" }))
        .collect();
    assert_eq!(states, expected, "a row per recipient");
    for row in rows.values().filter(|r| r.state == "sent") {
        assert!(row.message_id.starts_with('<') && row.reply.starts_with("250 "), "{row:?}");
    }
    assert_password_kept(&test);
}

#[test]
fn retry_failed_alone_tries_again_the_recipients_an_earlier_run_failed() {
    let (csv, addresses) = list(6);
    let refusing = relay(Faults::new().reject("reader03@example.org", "550 5.2.1 mailbox disabled"));
    let mut test = sending_to_list(refusing.port(), &csv);
    run(&test, &send_list(&["--rate", "unlimited"])).code(1).stdout_has("  5 sent, ");
    drop(refusing);

    let fixed = relay(Faults::new());
    test.set_env("SMTP_PORT", &fixed.port().to_string());
    let again = run(&test, &send_list(&["--rate", "unlimited"]));
    assert!(
        again.stdout.contains("1 failed before (--retry-failed to try them again)"),
        "{}",
        again.printed()
    );
    assert_eq!(fixed.count(), 0, "without --retry-failed the failed recipient is left alone");
    assert_eq!(status(&test, "list.csv").counts(), (5, 1, 0, 0));

    run(&test, &send_list(&["--rate", "unlimited", "--retry-failed"])).code(0).stdout_has("  1 sent, ");
    assert_each_got_one(&fixed.messages(), &addresses[2..3]);
    assert_eq!(status(&test, "list.csv").counts(), (6, 0, 0, 0));
    assert_password_kept(&test);
}

#[test]
fn without_yes_and_without_a_terminal_the_send_refuses_and_delivers_nothing() {
    let server = relay(Faults::new());
    let test = sending(Test::with_sample(), server.port());
    let refused = run(&test, &["send", SAMPLE_BULLETIN, "--rate", "unlimited"]).code(2);
    assert!(
        refused.error_lines().iter().any(|l| l.contains("--yes")),
        "the refusal says to add --yes\n{}",
        refused.printed()
    );
    // Give a send that went ahead anyway a moment to show itself.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.count(), 0, "nothing delivered");
    assert!(
        !test.all_files().keys().any(|p| p.to_string_lossy().contains(".bulletin")),
        "a refused send leaves no journal behind"
    );
    assert_eq!(status(&test, "subscribers/subscribers.csv").counts(), (0, 0, 0, 15));
}

/// Issue 6: an address with non-ASCII letters before the @ and a relay
/// without SMTPUTF8 can never go together, however often it is tried. Three
/// such addresses at the top of the list are not the relay's fault either:
/// the run goes on to everyone else.
#[test]
fn non_ascii_addresses_and_a_relay_without_smtputf8_fail_for_good_with_advice_and_the_rest_are_sent() {
    let (csv, addresses) = list(6);
    let supporters = ["françois.girard@laposte.test", "zoë.brown@example.org", "josé.luis@example.org"];
    let mut rows = csv.lines();
    let mut csv = format!("{}\n", rows.next().expect("a header"));
    for supporter in supporters {
        csv.push_str(&format!("{supporter},Friend\n"));
    }
    for row in rows {
        csv.push_str(&format!("{row}\n"));
    }
    let server = relay(Faults::new().without_smtputf8());
    let test = sending_to_list(server.port(), &csv);
    let sent = run(&test, &send_list(&["--rate", "unlimited", "--concurrency", "1"])).code(1);

    assert_each_got_one(&server.messages(), &addresses);
    let rows = status_csv(&test, "list.csv");
    for supporter in supporters {
        let row = &rows[supporter];
        assert_eq!((row.state.as_str(), row.attempts), ("failed", 1), "tried once, not retried: {row:?}");
        assert!(row.reply.contains("SMTPUTF8"), "{row:?}");
    }
    let status = status(&test, "list.csv");
    assert_eq!(status.counts(), (6, 3, 0, 0), "{}", sent.printed());
    let said = &status.run.stdout;
    assert!(!said.contains("--retry-failed"), "no retry is advised: it would fail the same way\n{said}");
    let lines: Vec<&str> = said.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("françois.girard@laposte.test: "))
        .unwrap_or_else(|| panic!("status lists the failure\n{said}"));
    assert!(!lines[at].contains("transient"), "{}", lines[at]);
    let advice = lines.get(at + 1).copied().unwrap_or_default();
    assert!(
        advice.contains("another address") && advice.contains("relay that offers SMTPUTF8"),
        "status says what to do: {advice:?}\n{said}"
    );
}
