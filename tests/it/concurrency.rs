//! Sends that overlap: a second `bulletin send` of a campaign while the
//! first still runs (refused, naming the run that holds the campaign's
//! lock), a send killed with SIGKILL (its lock goes with it), two campaigns
//! at once, `status` and a dry run beside a send, and a reader who
//! unsubscribes through the real one-click server while a long send runs.
//! The binary runs in the background against aiosmtpd on 127.0.0.1
//! (`tests/support/smtp_server.py`); every wait is bounded. Where two
//! things must overlap, the relay holds its answers until the test
//! releases them (`Faults::hold_after`), rather than the send going slowly
//! in the hope that it lasts long enough.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use bulletin::domain::{Clock, SystemClock, Timestamp};
use bulletin::subscribers::LiveSuppression;
use pretty_assertions::assert_eq;
use tempfile::TempDir;

use crate::send_util::{
    DEADLINE, Faults, PyServer, Received, by_recipient, outwaiting_holds, to_relay, wait_until,
};
use crate::util::{Eml, Run, SAMPLE_BULLETIN, Test};

/// The one-click signing key of the unsubscribe test.
const SECRET: &str = "unsub-secret-c0nc-9Lq2-never-printed-5e1d";
const PUBLIC_URL: &str = "https://hope.example.org/unsubscribe";

// ---------------------------------------------------------------- helpers

/// `n` readers `reader01@example.org`... as `list.csv`, and their addresses.
fn list(n: usize) -> (String, Vec<String>) {
    let mut csv = String::from("email,first_name\n");
    let addresses: Vec<String> = (1..=n).map(|i| format!("reader{i:02}@example.org")).collect();
    for address in &addresses {
        csv.push_str(&format!("{address},Reader\n"));
    }
    (csv, addresses)
}

/// The sample bulletin and `n` readers in `list.csv`, set to send to the
/// relay on `port`, and the readers' addresses.
fn sending(n: usize, port: u16) -> (Test, Vec<String>) {
    let (csv, addresses) = list(n);
    (to_relay(Test::with_sample().file("list.csv", csv), port), addresses)
}

/// The arguments of a send of `bulletin` to `list.csv`, plus `extra`.
fn send_args<'a>(bulletin: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["send", bulletin, "--subscribers", "list.csv", "--yes"];
    args.extend_from_slice(extra);
    args
}

/// Asserts each of `addresses` got exactly `copies` messages and nobody
/// else got any.
#[track_caller]
fn assert_each_got(messages: &[Received], addresses: &[&String], copies: usize) {
    let got: Vec<(String, usize)> = by_recipient(messages).into_iter().map(|(a, m)| (a, m.len())).collect();
    let mut expected: Vec<(String, usize)> = addresses.iter().map(|a| (a.to_lowercase(), copies)).collect();
    expected.sort();
    assert_eq!(got, expected, "{copies} message(s) per recipient, to nobody else");
}

/// The campaign a message belongs to, from its `Message-ID`
/// (`<campaign.hex@domain>`).
fn campaign_of(message: &Received) -> String {
    let id = message.message_id();
    let local = id.trim_matches(['<', '>']).split('@').next().unwrap_or_default();
    local.rsplit_once('.').map(|(campaign, _)| campaign.to_owned()).unwrap_or_default()
}

/// This machine's name, as the kernel gives it.
fn host_name() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname").expect("cannot read the host name").trim().to_owned()
}

/// The binary in the background, its output collected in files, so that a
/// test knows its process id and can read what it printed so far.
pub(crate) struct Sending {
    child: Child,
    args: Vec<String>,
    output: TempDir,
}

impl Sending {
    pub(crate) fn start(test: &Test, args: &[&str]) -> Self {
        let output = tempfile::tempdir().expect("cannot make a temporary folder");
        let file =
            |name: &str| fs::File::create(output.path().join(name)).expect("cannot make an output file");
        let child = test
            .std_command(args)
            .stdin(Stdio::null())
            .stdout(file("stdout"))
            .stderr(file("stderr"))
            .spawn()
            .expect("cannot start bulletin");
        Self { child, args: args.iter().map(|a| (*a).to_owned()).collect(), output }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL: it stops at once, wherever it was.
    fn kill(&mut self) {
        self.child.kill().expect("cannot kill bulletin");
    }

    /// Waits (at most `limit`) for it to end, and collects what it did.
    #[track_caller]
    pub(crate) fn wait(mut self, limit: Duration) -> Run {
        let deadline = Instant::now() + limit;
        let code = loop {
            if let Some(status) = self.child.try_wait().expect("cannot wait for bulletin") {
                break status.code();
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "`bulletin {}` was still running after {limit:?}\n{}",
                    self.args.join(" "),
                    self.run(None).printed()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.run(code)
    }

    /// What it printed so far, while it runs.
    pub(crate) fn so_far(&self) -> Run {
        self.run(None)
    }

    fn run(&self, code: Option<i32>) -> Run {
        let read = |name: &str| fs::read_to_string(self.output.path().join(name)).unwrap_or_default();
        Run { args: self.args.clone(), code, stdout: read("stdout"), stderr: read("stderr") }
    }
}

impl Drop for Sending {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The counts `bulletin status` prints for `bulletin` (`sent 12` lines).
#[track_caller]
fn status_counts(test: &Test, bulletin: &str) -> BTreeMap<String, u64> {
    let run = test.run(&["status", bulletin, "--subscribers", "list.csv"]).code(0);
    let mut counts = BTreeMap::new();
    for line in run.stdout.lines() {
        let mut words = line.split_whitespace();
        if let (Some(name), Some(value), None) = (words.next(), words.next(), words.next())
            && let Ok(value) = value.parse::<u64>()
        {
            counts.insert(name.to_owned(), value);
        }
    }
    counts
}

// ------------------------------------------------- one send at a time

/// A second bulletin's text, nothing like the sample's.
const SECOND_ISSUE: &str = "## Next week\n\nThe team in Hopeton finished the school roof before the \
    rains. Thank you to everyone who gave towards the tiles and the timber.\n\n## Coming up\n\nIn \
    January we start on the clinic's water tank; the plans are on our website.\n";

/// Two names of one bulletin (a copy under another file name: another
/// campaign) started at the same moment: one sends, the other refuses with
/// exit 2 naming the run that holds the text, or (if it starts after the
/// first ended) skips everyone; nobody is mailed twice, in any timing.
#[test]
fn two_names_of_one_bulletin_sent_at_the_same_moment_mail_nobody_twice() {
    const N: usize = 200;
    for trial in 0..5 {
        let server = PyServer::start(&Faults::new());
        let (test, addresses) = sending(N, server.port());
        let copy = "content/the-same-again.md";
        fs::copy(test.join(SAMPLE_BULLETIN), test.join(copy)).unwrap();
        let first_args = send_args(SAMPLE_BULLETIN, &["--rate", "unlimited"]);
        let second_args = send_args(copy, &["--rate", "unlimited", "--skip-duplicates"]);
        let (first, second) = if trial % 2 == 0 {
            let first = Sending::start(&test, &first_args);
            (first, Sending::start(&test, &second_args))
        } else {
            let second = Sending::start(&test, &second_args);
            (Sending::start(&test, &first_args), second)
        };
        let runs = [first.wait(DEADLINE), second.wait(DEADLINE)];
        let messages = server.messages();
        assert_each_got(&messages, &addresses.iter().collect::<Vec<_>>(), 1);
        let ids: BTreeSet<String> = messages.iter().map(Received::message_id).collect();
        assert_eq!(ids.len(), N, "one Message-ID each (trial {trial})");
        for run in &runs {
            match run.code {
                Some(0) => {}
                Some(2) => assert!(
                    run.stderr.contains("is the same bulletin as campaign")
                        && run.stderr.contains("which another run is sending now")
                        && run.stderr.contains(&format!("on {}", host_name())),
                    "trial {trial}: {}",
                    run.printed()
                ),
                _ => panic!("trial {trial}: {}", run.printed()),
            }
        }
    }
}

#[test]
fn a_second_send_of_the_same_campaign_is_refused_at_once_naming_the_run_that_holds_it() {
    const N: usize = 40;
    // The relay answers two messages, then holds its answers until
    // released: the first send cannot end before that.
    let server = PyServer::start(&Faults::new().hold_after(2));
    let (test, addresses) = sending(N, server.port());
    let test = outwaiting_holds(test);
    let args = send_args(SAMPLE_BULLETIN, &["--rate", "unlimited"]);
    let mut first = Sending::start(&test, &args);
    server.wait_for(3);
    let before = SystemClock.now();

    let started = Instant::now();
    let second = test.run(&send_args(SAMPLE_BULLETIN, &["--rate", "unlimited"]));
    let took = started.elapsed();
    assert!(first.running(), "the first send was still running when the second was refused");
    let second = second
        .code(2)
        .stderr_has("is already being sent")
        .stderr_has(&format!("pid {}", first.pid()))
        .stderr_has(&format!("on {}", host_name()));
    assert!(took < Duration::from_secs(3), "refused at once, not after {took:?}\n{}", second.printed());
    assert!(!second.stdout.contains(" sent, "), "the second sent nothing\n{}", second.printed());
    // The start time it names is the first run's: before it was refused,
    // and not long before.
    let line = second
        .error_lines()
        .into_iter()
        .find(|l| l.contains("started "))
        .unwrap_or_else(|| panic!("the refusal says when the other run started\n{}", second.printed()));
    let when = line.split("started ").nth(1).unwrap().split([' ', ',', ')', ';']).next().unwrap();
    let when = Timestamp::parse(when).unwrap_or_else(|| panic!("{when:?} is not a time: {line}"));
    assert!(when <= before && before.since(when) < Duration::from_secs(30), "{line}");

    server.release();
    let first = first.wait(DEADLINE).code(0);
    assert!(first.stdout.contains(&format!("  {N} sent, ")), "{}", first.printed());
    assert_each_got(&server.messages(), &addresses.iter().collect::<Vec<_>>(), 1);
}

#[test]
fn a_send_killed_mid_way_leaves_no_lock_behind_and_an_immediate_second_send_finishes_the_campaign() {
    const N: usize = 40;
    let server = PyServer::start(&Faults::new());
    let (test, addresses) = sending(N, server.port());
    let args = send_args(SAMPLE_BULLETIN, &["--rate", "10/s"]);
    let mut first = Sending::start(&test, &args);
    let pid = first.pid();
    server.wait_for(5);
    first.kill();
    let killed = first.wait(DEADLINE);
    assert_eq!(killed.code, None, "SIGKILL ended it");
    assert!(server.count() < N, "killed, yet all {N} were sent");
    // The killed run's lock file is still there, naming it: only the
    // kernel's lock, gone with the process, says whether a run holds it.
    let lock_files: Vec<String> = fs::read_dir(test.join(".bulletin"))
        .expect("the state folder exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("send-")))
        .filter(|p| p.extension().is_some_and(|x| x == "lock"))
        .map(|p| fs::read_to_string(p).unwrap())
        .collect();
    assert_eq!(lock_files.len(), 1, "one lock file for the campaign: {lock_files:?}");
    assert!(lock_files[0].contains(&pid.to_string()), "it names the killed run: {:?}", lock_files[0]);

    let second = test.run(&send_args(SAMPLE_BULLETIN, &["--rate", "unlimited"])).code(0);
    let messages = server.messages();
    let received = by_recipient(&messages);
    assert_eq!(
        received.keys().cloned().collect::<BTreeSet<_>>(),
        addresses.iter().cloned().collect::<BTreeSet<_>>(),
        "everyone has it\n{}",
        second.printed()
    );
    for (address, copies) in &received {
        // Only a message in flight at the kill is sent again, with the same
        // Message-ID (the uncertain rows; 4 connections by default).
        let ids: BTreeSet<String> = copies.iter().map(|m| m.message_id()).collect();
        assert!(copies.len() <= 2 && ids.len() == 1, "{address}: {} copies, ids {ids:?}", copies.len());
    }
    let twice = received.values().filter(|c| c.len() > 1).count();
    assert!(twice <= 4, "{twice} got two copies, more than were in flight");
    assert_eq!(status_counts(&test, SAMPLE_BULLETIN).get("sent"), Some(&(N as u64)));
}

#[test]
fn two_different_campaigns_send_at_the_same_time() {
    const N: usize = 30;
    let server = PyServer::start(&Faults::new().hold_after(0));
    let (test, addresses) = sending(N, server.port());
    // Another bulletin (its own words: a copy with a word changed is the
    // same bulletin, and may not send beside it) is another campaign.
    let other = "content/second-bulletin.md";
    let test = outwaiting_holds(test.file(other, crate::util::bulletin(SECOND_ISSUE)));
    let first_args = send_args(SAMPLE_BULLETIN, &["--rate", "unlimited"]);
    let second_args = send_args(other, &["--rate", "unlimited"]);
    let first = Sending::start(&test, &first_args);
    let second = Sending::start(&test, &second_args);
    // The relay holds every answer until each send has handed it a
    // message, so neither can have finished before the other began.
    wait_until("a message of each campaign at the relay", DEADLINE, || {
        let campaigns: BTreeSet<String> = server.messages().iter().map(campaign_of).collect();
        (campaigns.len() == 2).then_some(())
    });
    server.release();
    let first = first.wait(DEADLINE).code(0);
    let second = second.wait(DEADLINE).code(0);
    assert!(first.stdout.contains(&format!("  {N} sent, ")), "{}", first.printed());
    assert!(second.stdout.contains(&format!("  {N} sent, ")), "{}", second.printed());
    let messages = server.messages();
    assert_each_got(&messages, &addresses.iter().collect::<Vec<_>>(), 2);
    // They overlapped: each campaign's first message came before the
    // other's last.
    let mut spans: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for message in &messages {
        let time = message.time.expect("aiosmtpd notes when it took each message");
        let span = spans.entry(campaign_of(message)).or_insert((time, time));
        *span = (span.0.min(time), span.1.max(time));
    }
    let spans: Vec<(f64, f64)> = spans.into_values().collect();
    assert_eq!(spans.len(), 2, "two campaigns");
    assert!(spans[0].0 < spans[1].1 && spans[1].0 < spans[0].1, "the two sends ran at once: {spans:?}");
    assert_eq!(status_counts(&test, SAMPLE_BULLETIN).get("sent"), Some(&(N as u64)));
    assert_eq!(status_counts(&test, other).get("sent"), Some(&(N as u64)));
}

#[test]
fn status_a_dry_run_and_a_test_copy_work_while_a_send_runs() {
    const N: usize = 40;
    // The relay holds its answer to the 20th reader until released (the
    // test copy's it answers at once): the send runs until then.
    let held = "reader20@example.org";
    let server = PyServer::start(&Faults::new().hold(held));
    let (test, addresses) = sending(N, server.port());
    let test = outwaiting_holds(test);
    let args = send_args(SAMPLE_BULLETIN, &["--rate", "unlimited"]);
    let mut sending = Sending::start(&test, &args);
    server.wait_for_message_to(held);

    let counts = status_counts(&test, SAMPLE_BULLETIN);
    assert!(counts.get("sent").is_some_and(|&n| n >= 1), "status reads the journal mid-send: {counts:?}");
    test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--dry-run"]).code(0);
    test.run(&[
        "send",
        SAMPLE_BULLETIN,
        "--subscribers",
        "list.csv",
        "--to",
        "editor@hope.example.org",
        "--yes",
    ])
    .code(0)
    .stdout_has("test copy sent to editor@hope.example.org");
    assert!(sending.running(), "the send was still running through all of them");

    server.release();
    sending.wait(DEADLINE).code(0);
    let messages: Vec<Received> =
        server.messages().into_iter().filter(|m| m.recipient() != "editor@hope.example.org").collect();
    assert_each_got(&messages, &addresses.iter().collect::<Vec<_>>(), 1);
}

// ------------------------------------------- unsubscribes during a send

/// The https link in the `List-Unsubscribe` header of `eml`.
fn unsubscribe_link(eml: &Eml) -> String {
    let header = eml.header("List-Unsubscribe").expect("a List-Unsubscribe header");
    header
        .split(',')
        .map(|part| part.trim().trim_matches(['<', '>']))
        .find(|url| url.starts_with("https://"))
        .unwrap_or_else(|| panic!("{}: no https link in {header}", eml.name))
        .to_owned()
}

#[test]
fn a_reader_who_unsubscribes_during_a_long_send_is_not_mailed_after_it() {
    const N: usize = 30;
    let leaving = "reader25@example.org";
    // The relay answers three messages, then holds its answers until
    // released: the send's four connections wait there, each with a
    // message, early in the list.
    let server = PyServer::start(&Faults::new().hold_after(3));
    let (test, addresses) = sending(N, server.port());
    let test = outwaiting_holds(test.env("UNSUBSCRIBE_URL", PUBLIC_URL).env("UNSUBSCRIBE_SECRET", SECRET));
    // The reader's message, as the dry run makes it, byte for byte what the
    // send will hand over: its List-Unsubscribe header has their link.
    test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
    let emls = test.emls("out");
    let theirs = emls.iter().find(|e| e.to_address() == leaving).expect("a message to the reader leaving");
    let link = unsubscribe_link(theirs);
    let unsubscribe = crate::unsubscribe::Server::start(&test);

    // The reader is 25th of 30.
    let args = send_args(SAMPLE_BULLETIN, &["--rate", "unlimited", "--concurrency", "4"]);
    let sending = Sending::start(&test, &args);
    server.wait_for(3 + 4);
    let held = Instant::now();
    let answer = crate::unsubscribe::one_click(&unsubscribe.local(&link));
    assert_eq!(answer.status, 200, "the server takes the one-click request");
    let mailed_by_then = server.count();
    assert!(mailed_by_then < 20, "the unsubscribe came early in the send, after {mailed_by_then} messages");
    // The send looks at the suppression list at most once a second, before
    // handing a message over, so it last looked before every connection was
    // held: released a second after that, its next look sees the
    // unsubscribe.
    std::thread::sleep(LiveSuppression::EVERY.saturating_sub(held.elapsed()));
    server.release();

    let sent = sending.wait(DEADLINE).code(0);
    let sent = sent
        .stdout_has(&format!("  {} sent, ", N - 1))
        .stdout_has("1 unsubscribed during the send (not mailed)");
    let messages = server.messages();
    let others: Vec<&String> = addresses.iter().filter(|a| *a != leaving).collect();
    assert_each_got(&messages, &others, 1);
    assert!(!messages.iter().any(|m| m.recipient() == leaving), "{leaving} was mailed\n{}", sent.printed());

    // Nobody is left for a run again: the reader is skipped as suppressed.
    test.run(&send_args(SAMPLE_BULLETIN, &["--rate", "unlimited"])).code(0).stdout_has("Nothing to send.");
    assert_eq!(server.count(), N - 1, "the run again sent nothing");
}
