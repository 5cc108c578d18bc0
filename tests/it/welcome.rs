//! Confirmed sign-ups join the list by themselves (issue 26, `SIGNUPS`)
//! and get the welcome bulletin once (`WELCOME_BULLETIN`): the real
//! `bulletin serve` on 127.0.0.1, sign-ups posted over real HTTP (ureq),
//! each confirmed with the link from the email the aiosmtpd relay received,
//! the welcome sender woken every 100 ms (`BULLETIN_TEST_WELCOME_WAKE_MS`)
//! instead of every 15 s. Each test counts the messages the relay took.

use std::collections::BTreeMap;
use std::time::Duration;

use pretty_assertions::assert_eq;

use crate::send_util::{DEADLINE, Faults, PyServer, Received, wait_until};
use crate::signup::{answer, confirm_link, get, serve, sign_up, signup_test};
use crate::unsubscribe::{Server, client};
use crate::util::{SAMPLE_BULLETIN, Test, bulletin_with};

/// What the welcome bulletin says, to know its messages at the relay.
const WELCOME_WORDS: &str = "Welcome aboard";

/// Long enough for the welcome sender to have looked about ten times: how
/// long a test watches for a message that must not come.
const WATCH: Duration = Duration::from_secs(1);

fn welcome_bulletin(extra_body: &str) -> String {
    bulletin_with("", &format!("{WELCOME_WORDS}, {{{{ first_name }}}}.{extra_body}\n"))
}

/// [`signup_test`]'s two list readers, sign-up and relay, with the
/// welcome bulletin `welcome.md` and the sender waking every 100 ms.
fn welcome_test(smtp: &PyServer) -> Test {
    signup_test(smtp, 2)
        .file("welcome.md", welcome_bulletin(""))
        .env("WELCOME_BULLETIN", "welcome.md")
        .env("BULLETIN_TEST_WELCOME_WAKE_MS", "100")
        .env("SMTP_RATE", "unlimited")
}

/// Signs `email` up as `name` on `server` and confirms with the button of
/// the confirmation email the relay got.
fn join(server: &Server, smtp: &PyServer, name: &str, email: &str) {
    let signed_up = sign_up(server, &[("name", name), ("email", email), ("consent", "yes")]);
    assert_eq!(signed_up.status, 200, "{}", signed_up.body);
    smtp.wait_for_message_to(email);
    let messages = smtp.messages();
    let confirmation = messages
        .iter()
        .find(|m| m.recipient().eq_ignore_ascii_case(email) && !is_welcome(m))
        .expect("a confirmation email");
    let link = confirm_link(confirmation);
    let confirmed = answer(client().post(server.local(&link)).send_form([("confirm", "yes")]));
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
}

fn is_welcome(message: &Received) -> bool {
    message.eml().text().contains(WELCOME_WORDS)
}

/// How many welcomes each address got.
fn welcomes(smtp: &PyServer) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for message in smtp.messages().iter().filter(|m| is_welcome(m)) {
        *counts.entry(message.recipient().to_lowercase()).or_default() += 1;
    }
    counts
}

#[track_caller]
fn wait_for_welcome(smtp: &PyServer, email: &str) {
    wait_until(&format!("a welcome to {email}"), DEADLINE, || {
        welcomes(smtp).contains_key(email).then_some(())
    });
}

fn once(addresses: &[&str]) -> BTreeMap<String, usize> {
    addresses.iter().map(|a| ((*a).to_owned(), 1)).collect()
}

/// The journal's welcome campaign: each address and its state.
fn welcome_rows(test: &Test) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(test.join(".bulletin/journal.sqlite3")).unwrap();
    let mut statement = conn
        .prepare("SELECT email_key, state FROM recipients WHERE campaign = 'welcome' ORDER BY 1")
        .unwrap();
    statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

#[test]
fn a_confirmed_reader_is_welcomed_once_personalised_and_not_again_after_a_restart_and_the_list_never_is() {
    let smtp = PyServer::start(&Faults::new());
    let test = welcome_test(&smtp);
    let server = serve(&test);
    join(&server, &smtp, "Ana Silva", "ana@example.org");
    wait_for_welcome(&smtp, "ana@example.org");
    let messages = smtp.messages();
    let welcome = messages.iter().find(|m| is_welcome(m)).unwrap();
    let eml = welcome.eml();
    assert!(eml.text().contains(&format!("{WELCOME_WORDS}, Ana.")), "personalised:\n{}", eml.text());
    let unsubscribe = eml.header("List-Unsubscribe").unwrap_or_default();
    assert!(unsubscribe.contains("https://hope.example.org/unsubscribe?"), "{unsubscribe}");
    let (_, _, stderr) = server.stop();
    assert_eq!(stderr.matches("welcome sent to a***@example.org").count(), 1, "{stderr}");

    // Started again: Ana is not welcomed again, and Bo, who confirms now, is.
    let server = serve(&test);
    join(&server, &smtp, "Bo Diaz", "bo@example.org");
    wait_for_welcome(&smtp, "bo@example.org");
    std::thread::sleep(WATCH);
    let (_, _, stderr) = server.stop();
    assert_eq!(welcomes(&smtp), once(&["ana@example.org", "bo@example.org"]), "{stderr}");
    assert_eq!(
        welcome_rows(&test),
        [("ana@example.org".to_owned(), "sent".to_owned()), ("bo@example.org".to_owned(), "sent".to_owned())]
    );

    // The welcome is never sent to the whole list, by mistake or on purpose.
    let run = test.run(&["send", "welcome.md", "--subscribers", "list.csv", "--yes"]).code(2);
    assert!(run.stderr.contains("is the welcome bulletin"), "{}", run.printed());
    assert!(
        !welcomes(&smtp).keys().any(|to| to.starts_with("reader")),
        "the list readers never get the welcome: {:?}",
        welcomes(&smtp)
    );
}

#[test]
fn two_serve_processes_on_one_folder_welcome_each_reader_once() {
    let smtp = PyServer::start(&Faults::new());
    let test = welcome_test(&smtp);
    let first = serve(&test);
    let second = serve(&test);
    join(&first, &smtp, "Ana Silva", "ana@example.org");
    join(&second, &smtp, "Bo Diaz", "bo@example.org");
    wait_for_welcome(&smtp, "ana@example.org");
    wait_for_welcome(&smtp, "bo@example.org");
    // Both have looked about ten times since.
    std::thread::sleep(WATCH);
    let (_, _, first_log) = first.stop();
    let (_, _, second_log) = second.stop();
    assert_eq!(welcomes(&smtp), once(&["ana@example.org", "bo@example.org"]), "{first_log}\n{second_log}");
    let logged = |who: &str| {
        first_log.matches(&format!("welcome sent to {who}")).count()
            + second_log.matches(&format!("welcome sent to {who}")).count()
    };
    assert_eq!((logged("a***@example.org"), logged("b***@example.org")), (1, 1), "{first_log}\n{second_log}");
}

#[test]
fn a_reader_who_unsubscribes_before_the_welcome_goes_gets_none_and_a_broken_welcome_waits_until_fixed() {
    let smtp = PyServer::start(&Faults::new());
    // A merge field the list has no column for: the welcome cannot be sent.
    let test = welcome_test(&smtp).file("welcome.md", welcome_bulletin(" Size {{ shoe_size }}."));
    let server = serve(&test);
    join(&server, &smtp, "Ana Silva", "ana@example.org");
    join(&server, &smtp, "Cy Tran", "cy@example.org");
    // Sign-ups go on; the health page says the welcome cannot be sent.
    let health = wait_until("the welcome's failure on /healthz", DEADLINE, || {
        let health = get(&format!("{}/healthz", server.origin));
        health.body.contains("the welcome bulletin cannot be sent").then_some(health)
    });
    assert_eq!(health.status, 200, "within its bound:\n{}", health.body);
    assert!(!health.body.contains("example.org") && !health.body.contains("shoe_size"), "{}", health.body);
    // Ana leaves before the welcome could go.
    test.run(&["unsubscribe", "ana@example.org", "--subscribers", "list.csv"]).code(0);
    std::fs::write(test.join("welcome.md"), welcome_bulletin("")).unwrap();
    wait_for_welcome(&smtp, "cy@example.org");
    std::thread::sleep(WATCH);
    let (_, _, stderr) = server.stop();
    assert_eq!(welcomes(&smtp), once(&["cy@example.org"]), "{stderr}");
    assert!(
        stderr.contains("warning: the welcome bulletin welcome.md cannot be sent: "),
        "said at the start: {stderr}"
    );
    assert!(stderr.contains("welcome: error: the welcome bulletin cannot be sent"), "{stderr}");
    assert_eq!(stderr.matches("welcome: error:").count(), 1, "said once, not every round: {stderr}");
    assert!(!stderr.contains("welcome sent to a***"), "{stderr}");
}

#[test]
fn a_reader_confirmed_before_the_welcome_was_turned_on_is_never_welcomed() {
    let smtp = PyServer::start(&Faults::new());
    let test = welcome_test(&smtp).env("WELCOME_BULLETIN", "off").with_test_clock();
    let server = serve(&test);
    join(&server, &smtp, "Ana Silva", "ana@example.org");
    server.stop();
    // The ledger's dates are whole seconds: the welcome is turned on a
    // few seconds later, as a restart takes.
    test.set_clock_ahead(5.0);
    let mut test = test;
    test.set_env("WELCOME_BULLETIN", "welcome.md");
    let server = serve(&test);
    join(&server, &smtp, "Bo Diaz", "bo@example.org");
    wait_for_welcome(&smtp, "bo@example.org");
    std::thread::sleep(WATCH);
    let (_, _, stderr) = server.stop();
    assert_eq!(welcomes(&smtp), once(&["bo@example.org"]), "{stderr}");
}

/// Who got the sample at the relay (not the confirmations or welcomes).
fn sample_recipients(smtp: &PyServer) -> Vec<String> {
    let mut to: Vec<String> = smtp
        .messages()
        .iter()
        .filter(|m| m.eml().text().contains("Pray for"))
        .map(|m| m.recipient().to_lowercase())
        .collect();
    to.sort();
    to
}

#[test]
fn with_signups_auto_a_reader_confirmed_through_the_real_pages_is_on_the_next_send() {
    let smtp = PyServer::start(&Faults::new());
    let test = welcome_test(&smtp).env("WELCOME_BULLETIN", "off");
    let server = serve(&test);
    join(&server, &smtp, "Ana Silva", "ana@example.org");
    server.stop();
    test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--yes"]).code(0);
    assert_eq!(sample_recipients(&smtp), ["ana@example.org", "reader01@example.org", "reader02@example.org"]);
}

#[test]
fn with_signups_manual_a_confirmed_reader_waits_out_of_sends_until_merged() {
    let smtp = PyServer::start(&Faults::new());
    let test = welcome_test(&smtp).env("WELCOME_BULLETIN", "off").env("SIGNUPS", "manual");
    let server = serve(&test);
    join(&server, &smtp, "Ana Silva", "ana@example.org");
    server.stop();
    let waiting = "1 confirmed sign-up(s) wait for `bulletin signups merge` (SIGNUPS=manual)";
    test.run(&["check", SAMPLE_BULLETIN, "--subscribers", "list.csv"]).stdout_has(waiting);
    test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--dry-run"])
        .code(0)
        .stderr_has(waiting);
    test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--yes"]).code(0);
    assert_eq!(sample_recipients(&smtp), ["reader01@example.org", "reader02@example.org"]);
    test.run(&["signups", "merge", "--subscribers", "list.csv"]).code(0).stdout_has("Moved 1 sign-up(s)");
    test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--yes"]).code(0);
    assert_eq!(sample_recipients(&smtp), ["ana@example.org", "reader01@example.org", "reader02@example.org"]);
    // A value that is neither is refused, naming the setting.
    let wrong = test.env("SIGNUPS", "sometimes");
    let run = wrong.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--dry-run"]).code(2);
    assert!(run.stderr.contains("SIGNUPS"), "{}", run.printed());
}

#[test]
fn a_welcome_bulletin_setting_naming_no_file_leaves_serve_and_sign_ups_running_and_is_said_by_health_and_check()
 {
    let smtp = PyServer::start(&Faults::new());
    let test = welcome_test(&smtp).env("WELCOME_BULLETIN", "no-such-welcome.md");
    let server = serve(&test);
    join(&server, &smtp, "Ana Silva", "ana@example.org");
    let health = get(&format!("{}/healthz", server.origin));
    assert!(health.body.contains("welcome: no success yet"), "{}", health.body);
    assert!(health.body.contains("WELCOME_BULLETIN names no bulletin"), "{}", health.body);
    let (_, _, stderr) = server.stop();
    assert!(stderr.contains("WELCOME_BULLETIN") && stderr.contains("no such file"), "{stderr}");
    test.run(&["check", SAMPLE_BULLETIN, "--subscribers", "list.csv"])
        .code(1)
        .stdout_has("error: setting WELCOME_BULLETIN");
    assert!(welcomes(&smtp).is_empty());
}

#[test]
fn a_bulletin_marked_welcome_is_refused_for_the_list_while_a_dry_run_goes_and_check_says_what_it_is() {
    let (test, _) = crate::unsubscribe::list_test(1);
    let test = test.file("hello.md", bulletin_with("welcome = true\n", "Hello and welcome.\n"));
    let run = test.run(&["send", "hello.md", "--subscribers", "list.csv", "--yes"]).code(2);
    assert!(run.stderr.contains("hello.md is the welcome bulletin"), "{}", run.printed());
    test.run(&["send", "hello.md", "--subscribers", "list.csv", "--dry-run"]).code(0);
    test.run(&["check", "hello.md", "--subscribers", "list.csv"])
        .stdout_has("hello.md is the welcome bulletin");
}

#[test]
fn a_serve_killed_while_the_relay_holds_a_welcome_leaves_it_in_doubt_and_the_next_sends_it_once_more_under_its_message_id()
 {
    // The confirmation goes; the welcome's answer is held.
    let smtp = PyServer::start(&Faults::new().hold_after(1));
    let test = crate::send_util::outwaiting_holds(welcome_test(&smtp));
    let first = serve(&test);
    join(&first, &smtp, "Ana Silva", "ana@example.org");
    wait_for_welcome(&smtp, "ana@example.org");
    drop(first); // SIGKILL, the relay's answer not yet given
    assert_eq!(welcome_rows(&test), [("ana@example.org".to_owned(), "sending".to_owned())]);
    smtp.release();

    let second = serve(&test);
    wait_until("the welcome in doubt sent again", DEADLINE, || {
        (welcomes(&smtp).get("ana@example.org") == Some(&2)).then_some(())
    });
    let (_, _, log) = second.stop();
    assert_eq!(welcome_rows(&test), [("ana@example.org".to_owned(), "sent".to_owned())], "{log}");
    let messages = smtp.messages();
    let ids: std::collections::BTreeSet<String> =
        messages.iter().filter(|m| is_welcome(m)).map(Received::message_id).collect();
    assert_eq!(ids.len(), 1, "the same Message-ID, which mail programs show once: {ids:?}");
}
