//! `GET /healthz` of the real `bulletin serve` (issue 26): the scheduler's
//! and the bounce mailbox's last success over real HTTP, 503 with the
//! reason once one has gone without a success past its bound (three
//! intervals and a minute), reached by moving the test clock
//! (`BULLETIN_TEST_CLOCK_FILE`); the mailbox a real Dovecot from
//! `imap.rs`. The page is public: it names no address, user, host or path.

use crate::imap::{Dovecot, PASSWORD, USER};
use crate::send_util::{DEADLINE, TestCa, wait_until};
use crate::signup::{Answer, get, serve};
use crate::unsubscribe::{Server, list_test};
use crate::util::Test;

fn health(server: &Server) -> Answer {
    get(&format!("{}/healthz", server.origin))
}

/// Nothing private on the page: no address, mailbox user, host, secret or path.
#[track_caller]
fn says_nothing_private(test: &Test, answer: &Answer) {
    let folder = test.path().to_string_lossy().into_owned();
    for private in ["@", "127.0.0.1", "imaps://", PASSWORD, "wrong-password", folder.as_str()] {
        assert!(!answer.body.contains(private), "{private:?} on the public page:\n{}", answer.body);
    }
    assert!(!answer.body.contains(&format!("{USER}@")), "{}", answer.body);
}

#[test]
fn healthz_shows_the_schedulers_last_success_and_turns_503_once_it_has_none_for_longer_than_its_bound() {
    let (test, _) = list_test(1);
    // The scheduler ticks at the start, then every 15 s (the longest).
    let test = test.with_test_clock().env("BULLETIN_TEST_SCHEDULER_WAKE_MS", "15000");
    let server = serve(&test);
    let first = wait_until("the scheduler's first tick on /healthz", DEADLINE, || {
        let answer = health(&server);
        answer.body.contains("scheduler: last success").then_some(answer)
    });
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.body.starts_with("ok\n"), "{}", first.body);
    assert!(first.body.contains("bounce mailbox: not configured"), "{}", first.body);
    assert!(first.body.contains("welcome: off"), "{}", first.body);
    says_nothing_private(&test, &first);
    // Its bound is 3 × 15 s + 60 s: 106 s after the tick, long before the next.
    test.set_clock_ahead(200.0);
    let stale = health(&server);
    assert_eq!(stale.status, 503, "{}", stale.body);
    assert!(stale.body.starts_with("unhealthy\n"), "{}", stale.body);
    let line = stale.body.lines().find(|l| l.starts_with("scheduler:")).unwrap();
    assert!(line.contains("UNHEALTHY: no success for") && line.contains("more than 105 s"), "{line}");
    server.stop();
}

#[test]
fn healthz_shows_the_bounce_mailboxs_last_success_from_dovecot_and_a_refused_login_turns_it_503_naming_no_secret()
 {
    let ca = TestCa::new();
    let dovecot = Dovecot::start(&ca, "auth_failure_delay = 0");
    let url = format!("imaps://{USER}@127.0.0.1:{}/INBOX", dovecot.port);
    let (test, _) = list_test(1);
    let test = test
        .with_test_clock()
        .env("BOUNCE_IMAP_URL", &url)
        .env("BOUNCE_IMAP_PASSWORD", PASSWORD)
        .env("BOUNCE_IMAP_CA_FILE", ca.cert_file().to_str().unwrap())
        .env("BOUNCE_IMAP_EVERY", "1s")
        .env("BULLETIN_TEST_SCHEDULER_WAKE_MS", "100");
    let server = serve(&test);
    let well = wait_until("the mailbox's first round on /healthz", DEADLINE, || {
        let answer = health(&server);
        answer.body.contains("bounce mailbox: last success").then_some(answer)
    });
    assert_eq!(well.status, 200, "{}", well.body);
    says_nothing_private(&test, &well);
    server.stop();

    let mut test = test;
    test.set_env("BOUNCE_IMAP_PASSWORD", "wrong-password-shown-nowhere");
    let server = serve(&test);
    let failing = wait_until("the refused login on /healthz", DEADLINE, || {
        let answer = health(&server);
        answer.body.contains("login refused").then_some(answer)
    });
    // Within its bound (3 × 1 s + 60 s) from the start: still well.
    assert_eq!(failing.status, 200, "{}", failing.body);
    test.set_clock_ahead(120.0);
    let unwell = wait_until("503 for the mailbox", DEADLINE, || {
        let answer = health(&server);
        (answer.status == 503).then_some(answer)
    });
    let line = unwell.body.lines().find(|l| l.starts_with("bounce mailbox:")).unwrap();
    assert!(line.contains("login refused") && line.contains("UNHEALTHY: no success for"), "{}", unwell.body);
    says_nothing_private(&test, &unwell);
    server.stop();
}
