//! The staff report (issue 26, "A report to staff"): after a send from the
//! command line, an email to `STAFF_EMAIL` through the same relay, read
//! back from the aiosmtpd server with Python's `email` package: the counts
//! in both parts, the relay's words for a refusal, the list's changes since
//! the last report; the alert when a daily allowance stops the send; a
//! report the relay refuses is a warning that changes nothing else; and
//! without `STAFF_EMAIL` the relay gets the list's messages only.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use crate::send_util::{Faults, PyServer, Received, to_relay};
use crate::util::{Run, SAMPLE_BULLETIN, SAMPLE_LOGO, Test};

const STAFF: &str = "office@hope.example.org";
const REFUSAL: &str = "550 5.1.1 <refused@example.org>: Recipient address rejected: User unknown";

/// The report as Python's `email` reads it: subject, To, and each part.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) subject: String,
    pub(crate) to: String,
    pub(crate) text: String,
    pub(crate) html: String,
    /// The Content-ID of each image part.
    pub(crate) images: Vec<String>,
}

impl Parsed {
    /// The text with its lines joined: an item the text part wrapped reads
    /// whole.
    pub(crate) fn flat_text(&self) -> String {
        self.text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[track_caller]
    fn has_lines(&self, lines: &[&str]) {
        for line in lines {
            assert!(
                self.text.lines().any(|l| l.trim_end() == *line),
                "{line:?} in the text part:\n{}",
                self.text
            );
            let item = line.trim_start_matches("* ");
            assert!(self.html.contains(&format!("{item}</li>")), "{item:?} in the HTML part:\n{}", self.html);
        }
    }
}

pub(crate) fn python_reads(eml: &Path) -> Parsed {
    let script = "import email, email.policy, json, sys\n\
        m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n\
        assert not m.defects, m.defects\n\
        print(json.dumps({'subject': str(m['Subject']), 'to': str(m['To']),\n\
            'text': m.get_body(preferencelist=('plain',)).get_content(),\n\
            'html': m.get_body(preferencelist=('html',)).get_content(),\n\
            'images': [str(p['Content-ID']) for p in m.walk() if p.get_content_maintype() == 'image']}))\n";
    let output = Command::new("python3").args(["-c", script]).arg(eml).output().expect("cannot run python3");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("Python printed JSON");
    let field = |name: &str| json[name].as_str().unwrap_or_else(|| panic!("no {name} in {json}")).to_owned();
    let images = json["images"].as_array().expect("a list of images").iter().map(|i| i.to_string()).collect();
    Parsed { subject: field("subject"), to: field("to"), text: field("text"), html: field("html"), images }
}

/// The messages the relay took for `address`.
fn to(relay: &PyServer, address: &str) -> Vec<Received> {
    relay
        .messages()
        .into_iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(address)))
        .collect()
}

/// The one report the relay holds at index `n` of those to staff, read by
/// Python.
#[track_caller]
fn report(relay: &PyServer, n: usize) -> (Received, Parsed) {
    let reports = to(relay, STAFF);
    assert!(reports.len() > n, "{} report(s) at the relay, wanted {}", reports.len(), n + 1);
    let received = reports[n].clone();
    assert_eq!(received.rcpt_to, [STAFF], "the report goes to staff alone");
    let parsed = python_reads(&relay.mail_dir().join(&received.file));
    (received, parsed)
}

/// A list of `addresses`, each with the first name the sample greets.
fn list_of(addresses: &[&str]) -> String {
    addresses.iter().fold(String::from("email,first_name\n"), |csv, a| format!("{csv}{a},Ana\n"))
}

fn send(test: &Test, extra: &[&str]) -> Run {
    let mut args = vec!["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--yes"];
    args.extend_from_slice(extra);
    test.run(&args)
}

/// `seconds` after the epoch as the ledger writes a date.
fn ledger_date(seconds: f64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs_f64(seconds)).to_string()
}

#[test]
fn the_staff_report_arrives_after_a_send_with_the_right_counts_and_the_next_counts_only_what_came_since() {
    let relay = PyServer::start(&Faults::new().reject("refused@example.org", REFUSAL));
    let test = to_relay(Test::with_sample().with_test_clock(), relay.port())
        .env("STAFF_EMAIL", STAFF)
        .env("BRAND_COLOR", "#8a1538")
        .file(
            "list.csv",
            "email,first_name\nana@example.org,Ana\nrefused@example.org,Rui\ngone@example.org,Gil\nnot-an-address,Nobody\n",
        )
        .file(
            "suppressed.csv",
            "email,reason,date,detail\n\
             gone@example.org,unsubscribed,2026-01-05T10:00:00Z,link\n\
             newbie@example.org,signed-up,2026-01-06T10:00:00Z,form\n\
             newbie@example.org,confirmed,2026-01-06T10:05:00Z,form\n",
        );
    let run = send(&test, &[]).code(1);
    assert!(run.stdout.contains(&format!("  report    sent to {STAFF} (STAFF_EMAIL)")), "{}", run.printed());
    assert_eq!(to(&relay, "ana@example.org").len(), 1);
    assert_eq!(relay.count(), 2, "the bulletin to ana and the report");

    let (first, parsed) = report(&relay, 0);
    assert_eq!(parsed.to, STAFF);
    assert!(parsed.subject.starts_with("Sent: "), "{parsed:?}");
    assert!(parsed.subject.ends_with("(1 sent, 1 failed of 2)"), "{parsed:?}");
    parsed.has_lines(&[
        "* Sent: 1",
        "* Failed: 1",
        "* Skipped: 1 suppressed, 1 invalid",
        "* Still pending: 0",
        "* New sign-ups (confirmed): 1",
        "* Unsubscribes: 1",
        "* Bounces: 0 hard, 0 soft",
        "* Complaints: 0",
    ]);
    let text = parsed.flat_text();
    assert!(
        text.contains("refused@example.org: ") && text.contains("Recipient address rejected: User unknown"),
        "{text}"
    );
    assert!(parsed.html.contains("Recipient address rejected: User unknown"), "{}", parsed.html);
    assert!(text.contains("(this is the first report)"), "{text}");
    assert!(text.contains(&format!("*bulletin status {SAMPLE_BULLETIN}*")), "{text}");
    assert!(
        parsed.html.contains("#8a1538") && parsed.html.contains("2 High Street, Hopeton"),
        "the bulletin's look"
    );
    assert!(!text.contains("ana@example.org"), "who was sent to is not listed: {text}");
    let status = test.run(&["status", SAMPLE_BULLETIN, "--subscribers", "list.csv"]).code(0);
    assert!(!status.stdout.contains(STAFF), "staff is no recipient in the journal\n{}", status.printed());

    // An hour after the first report: a complaint and a hard bounce, and
    // one more reader; the next send, later, reports only those.
    let reported = first.time.expect("aiosmtpd says when it took a message");
    let later = ledger_date(reported + 3600.0);
    let mut ledger = std::fs::read_to_string(test.join("suppressed.csv")).unwrap();
    ledger.push_str(&format!(
        "spam@example.org,complaint,{later},arf\nfull@example.org,hard-bounce,{later},550\n"
    ));
    std::fs::write(test.join("suppressed.csv"), ledger).unwrap();
    let mut list = std::fs::read_to_string(test.join("list.csv")).unwrap();
    list.push_str("late@example.org,Lia\n");
    std::fs::write(test.join("list.csv"), list).unwrap();
    test.set_clock_ahead(7200.0);
    let run = send(&test, &[]);
    assert!(run.stdout.contains("report    sent to"), "{}", run.printed());
    assert_eq!(to(&relay, "late@example.org").len(), 1);
    let (_, parsed) = report(&relay, 1);
    assert!(parsed.subject.ends_with("(1 sent, 0 failed of 1)"), "{parsed:?}");
    parsed.has_lines(&[
        "* Sent: 1",
        "* Failed: 0",
        "* New sign-ups (confirmed): 0",
        "* Unsubscribes: 0",
        "* Bounces: 1 hard, 0 soft",
        "* Complaints: 1",
    ]);
    let text = parsed.flat_text();
    assert!(text.contains("since the last report ("), "{text}");
    assert!(text.contains("1 failed before"), "the refused reader is skipped, and why: {text}");
    assert!(!text.contains("Failed, with"), "no failure this time: {text}");
}

#[test]
fn a_send_stopped_by_the_daily_allowance_sends_the_alert_saying_why_and_what_to_do() {
    let relay = PyServer::start(&Faults::new());
    let list = &list_of(&["a@example.org", "b@example.org", "c@example.org", "d@example.org"]);
    let test = to_relay(Test::with_sample().file("list.csv", list), relay.port()).env("STAFF_EMAIL", STAFF);
    let run = send(&test, &["--rate", "2/day"]).code(3);
    assert_eq!(relay.count(), 3, "two bulletins and the alert\n{}", run.printed());
    let (_, parsed) = report(&relay, 0);
    assert!(
        parsed.subject.starts_with("Stopped: ") && parsed.subject.ends_with("(2 sent, 0 failed of 4)"),
        "{parsed:?}"
    );
    parsed.has_lines(&["* Sent: 2", "* Still pending: 2"]);
    let text = parsed.flat_text();
    assert!(text.contains("The send stopped early"), "{text}");
    assert!(
        text.contains("*Why it stopped:* Stopped: today's allowance of 2 messages (--rate 2/day) is sent: 2 sent, 2 pending; run the same command again after "),
        "the terminal's words: {text}"
    );
    assert!(
        run.stdout.contains("today's allowance of 2 messages (--rate 2/day) is sent"),
        "{}",
        run.printed()
    );
}

#[test]
fn a_send_stopped_by_an_error_sends_the_alert_with_the_relays_words_and_what_to_do() {
    const NOT_VERIFIED: &str = "554 5.7.1 Message rejected: Email address is not verified.";
    let faults = (1..=4).fold(Faults::new(), |f, i| f.reject(&format!("r{i}@example.org"), NOT_VERIFIED));
    let relay = PyServer::start(&faults);
    let list = &list_of(&["r1@example.org", "r2@example.org", "r3@example.org", "r4@example.org"]);
    let test = to_relay(Test::with_sample().file("list.csv", list), relay.port()).env("STAFF_EMAIL", STAFF);
    let run = send(&test, &[]).code(2);
    assert_eq!(relay.count(), 1, "the alert alone\n{}", run.printed());
    let (_, parsed) = report(&relay, 0);
    assert!(parsed.subject.starts_with("Stopped: "), "{parsed:?}");
    let text = parsed.flat_text();
    assert!(text.contains("*Why it stopped:* stopped: the first "), "{text}");
    assert!(text.contains("Email address is not verified"), "the relay's words: {text}");
    assert!(text.contains("run the same command again"), "what to do: {text}");
    assert!(run.stderr.contains("Email address is not verified"), "{}", run.printed());
}

#[test]
fn a_staff_report_the_relay_refuses_is_a_warning_and_the_send_ends_as_it_would_have() {
    let relay = PyServer::start(&Faults::new().reject_sender("553 5.7.1 sender not allowed"));
    let list = &list_of(&["a@example.org", "b@example.org"]);
    let test = to_relay(Test::with_sample().file("list.csv", list), relay.port()).env("STAFF_EMAIL", STAFF);
    let with_report = send(&test, &[]);
    assert!(
        with_report
            .stderr
            .contains(&format!("warning: the staff report to {STAFF} was not sent: the relay ")),
        "{}",
        with_report.printed()
    );
    assert!(with_report.stderr.contains("sender not allowed"), "{}", with_report.printed());
    assert_eq!(relay.count(), 0);
    let without = to_relay(Test::with_sample().file("list.csv", list), relay.port());
    let plain = send(&without, &[]);
    assert_eq!(with_report.code, plain.code, "{}\n{}", with_report.printed(), plain.printed());
    assert_ne!(with_report.code, Some(0));
}

#[test]
fn without_staff_email_the_relay_gets_exactly_the_lists_messages() {
    let relay = PyServer::start(&Faults::new().reject("refused@example.org", REFUSAL));
    let list = &list_of(&["a@example.org", "refused@example.org", "b@example.org"]);
    let test = to_relay(Test::with_sample().file("list.csv", list), relay.port());
    let run = send(&test, &[]).code(1);
    assert!(!run.stdout.contains("report "), "{}", run.printed());
    let mut recipients: Vec<String> = relay.messages().iter().map(|m| m.recipient().to_owned()).collect();
    recipients.sort();
    assert_eq!(recipients, ["a@example.org", "b@example.org"], "{}", run.printed());
}

#[test]
fn the_staff_report_is_signed_as_the_bulletin_is_shows_its_logo_and_holds_no_password_or_key() {
    const USERNAME: &str = "relay-user";
    const PASSWORD: &str = "pw-St4ff-relay-secret-never-in-a-report-9e1b";
    let relay = PyServer::start(&Faults::new().auth(USERNAME, PASSWORD));
    let test = to_relay(crate::dkim::signing(crate::dkim::Key::Rsa(2048)), relay.port())
        .env("SMTP_USERNAME", USERNAME)
        .env("SMTP_PASSWORD", PASSWORD)
        .env("STAFF_EMAIL", STAFF)
        .env("LOGO", SAMPLE_LOGO)
        .file("list.csv", list_of(&["a@example.org"]));
    let run = send(&test, &[]).code(0);
    assert!(run.stdout.contains("report    sent to"), "{}", run.printed());
    let (received, parsed) = report(&relay, 0);
    assert!(parsed.subject.ends_with("(1 sent, 0 failed of 1)"), "{parsed:?}");
    assert_eq!(parsed.images.len(), 1, "the logo, carried as the bulletin carries it: {:?}", parsed.images);
    let cid = parsed.images[0].trim_matches(|c| c == '"' || c == '<' || c == '>');
    assert!(parsed.html.contains(&format!("src=\"cid:{cid}\"")), "the logo at the top: {}", parsed.html);
    let (record, _) = crate::dkim::record_printed_by_check(&test, SAMPLE_BULLETIN);
    let saved = crate::dkim::save(test.path(), "report.eml", &received.raw);
    let verdicts = crate::dkim::verify(&record, &[saved]);
    assert!(verdicts[0].verified, "dkimpy: {:?}", verdicts[0].error);
    let raw = String::from_utf8_lossy(&received.raw);
    // The key `dkim::signing` makes: no line of it is in the report.
    let key = std::fs::read_to_string(test.join("keys/dkim-private.pem")).expect("the signing key");
    let secrets = [PASSWORD, "test-unsubscribe-secret"];
    for secret in secrets.iter().copied().chain(key.lines().filter(|l| !l.starts_with("-----"))) {
        assert!(!raw.contains(secret), "the report holds a secret: {secret}");
    }
    assert!(!run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD));
}

#[test]
fn a_test_copy_and_a_dry_run_send_no_report() {
    let relay = PyServer::start(&Faults::new());
    let test = to_relay(Test::with_sample().file("list.csv", list_of(&["a@example.org"])), relay.port())
        .env("STAFF_EMAIL", STAFF);
    let run = send(&test, &["--to", "editor@example.org"]).code(0);
    assert!(!run.stdout.contains("report "), "{}", run.printed());
    send(&test, &["--dry-run", "--out", "out"]).code(0);
    let recipients: Vec<String> = relay.messages().iter().map(|m| m.recipient().to_owned()).collect();
    assert_eq!(recipients, ["editor@example.org"], "the test copy alone");
}
