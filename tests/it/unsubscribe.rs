//! Unsubscribing end to end: the real `bulletin unsubscribe-server` on
//! 127.0.0.1 answering real HTTP requests (ureq) made with the links a dry
//! run put in each message's `List-Unsubscribe` header (read back with
//! mail-parser), the suppression list it writes, and a real send through
//! Postfix's smtp-sink that skips whoever unsubscribed. Also the
//! `unsubscribe` and `resubscribe` commands and the send's refusal of
//! unsigned links.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;

use crate::send_util::{DEADLINE, SinkServer};
use crate::util::{self, SAMPLE_BULLETIN, Test};

/// The signing key in every test: unique enough that finding it anywhere
/// means it leaked.
const SECRET: &str = "unsub-secret-7Hq2x9-never-printed-c41e";
const PUBLIC_URL: &str = "https://hope.example.org/unsubscribe";
const FROM_EMAIL: &str = "news@hope.example.org";
/// Where the default `--subscribers list.csv` puts the suppression list.
const SUPPRESSED: &str = "suppressed.csv";

// ---------------------------------------------------------------- helpers

/// The sample bulletin, `n` readers `reader01@example.org`... in
/// `list.csv`, and settings for a real send with one-click links.
pub(crate) fn list_test(n: usize) -> (Test, Vec<String>) {
    let mut csv = String::from("email,first_name\n");
    let addresses: Vec<String> = (1..=n).map(|i| format!("reader{i:02}@example.org")).collect();
    for address in &addresses {
        csv.push_str(&format!("{address},Reader\n"));
    }
    let test = Test::with_sample()
        .file("list.csv", csv)
        .env("FROM_EMAIL", FROM_EMAIL)
        .env("ORG_NAME", "Hope Trust")
        .env("ORG_ADDRESS", "2 High Street, Hopeton, HO1 2PE")
        .env("LIST_NAME", "Weekly prayer")
        .env("UNSUBSCRIBE_URL", PUBLIC_URL)
        .env("UNSUBSCRIBE_SECRET", SECRET);
    (test, addresses)
}

/// Each reader's https unsubscribe link, from the `List-Unsubscribe` header
/// of the dry run's `.eml` files, parsed by mail-parser.
pub(crate) fn links(test: &Test) -> BTreeMap<String, String> {
    test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
    test.emls("out")
        .iter()
        .map(|eml| {
            let message = eml.parse();
            let urls: Vec<String> = message
                .list_unsubscribe()
                .as_address()
                .unwrap_or_else(|| panic!("{}: List-Unsubscribe is not a list of addresses", eml.name))
                .iter()
                .filter_map(|a| a.address())
                .map(str::to_owned)
                .collect();
            let https: Vec<&String> = urls.iter().filter(|u| u.starts_with("https://")).collect();
            assert_eq!(https.len(), 1, "{}: one https link in {urls:?}", eml.name);
            assert!(urls.iter().any(|u| u.starts_with("mailto:")), "{}: a mailto in {urls:?}", eml.name);
            (eml.to_address().to_lowercase(), https[0].clone())
        })
        .collect()
}

/// The suppression list's addresses, in file order (header left out).
pub(crate) fn suppressed(test: &Test) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(test.join(SUPPRESSED)) else { return Vec::new() };
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("email,reason,date,detail"), "{text}");
    lines.map(|l| l.split(',').next().unwrap().to_owned()).collect()
}

/// `bulletin unsubscribe-server --listen 127.0.0.1:0` running in the
/// background, stopped (SIGTERM, then SIGKILL) when dropped.
pub(crate) struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`, read from the line it prints on starting.
    pub(crate) origin: String,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

impl Server {
    #[track_caller]
    pub(crate) fn start(test: &Test) -> Self {
        Self::start_command(test.std_command(&[
            "unsubscribe-server",
            "--listen",
            "127.0.0.1:0",
            "--subscribers",
            "list.csv",
        ]))
    }

    /// Starts the server `command` runs (as [`Server::start`] makes it).
    #[track_caller]
    pub(crate) fn start_command(command: Command) -> Self {
        let (mut child, stdout, stderr) = spawn(command);
        let deadline = Instant::now() + DEADLINE;
        let mut printed = Vec::new();
        let origin = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match stdout.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.trim().strip_prefix("listening on http://") {
                        let host = rest.split('/').next().unwrap();
                        assert_eq!(
                            &rest[host.len()..],
                            "/unsubscribe",
                            "the server answers on UNSUBSCRIBE_URL's path"
                        );
                        break format!("http://{host}");
                    }
                    printed.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let errors: Vec<String> = stderr.try_iter().collect();
                    panic!("the unsubscribe server did not say where it listens:\n{printed:?}\n{errors:?}");
                }
            }
        };
        Self { child, origin, stdout, stderr }
    }

    /// The local address of a public unsubscribe link, as the reverse
    /// proxy would forward it: same path and query.
    pub(crate) fn local(&self, link: &str) -> String {
        let rest = link.strip_prefix("https://hope.example.org").expect("a link to the public address");
        format!("{}{rest}", self.origin)
    }

    /// Waits (until `deadline`) for a line on its standard error that
    /// `wanted` accepts, then stops it as [`Server::stop`] does; the lines
    /// read while waiting come first in the error output returned.
    #[track_caller]
    pub(crate) fn stop_when(
        self,
        mut wanted: impl FnMut(&str) -> bool,
        deadline: Instant,
    ) -> (Option<i32>, String, String) {
        let mut seen = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    seen.push_str(&line);
                    seen.push('\n');
                    if wanted(&line) {
                        break;
                    }
                }
                Err(_) => panic!("the awaited line never came; the server said:\n{seen}"),
            }
        }
        let (code, stdout, stderr) = self.stop();
        (code, stdout, seen + &stderr)
    }

    /// Stops it with SIGTERM, as `systemctl stop` does, and returns its
    /// exit code and everything it printed.
    #[track_caller]
    pub(crate) fn stop(mut self) -> (Option<i32>, String, String) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + DEADLINE;
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code();
            }
            assert!(Instant::now() < deadline, "the server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        let lines = |rx: &mpsc::Receiver<String>| {
            let mut out = String::new();
            while let Ok(line) = rx.recv_timeout(Duration::from_secs(2)) {
                out.push_str(&line);
                out.push('\n');
            }
            out
        };
        (code, lines(&self.stdout), lines(&self.stderr))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary with its output read line by line on two threads.
fn spawn(mut command: Command) -> (Child, mpsc::Receiver<String>, mpsc::Receiver<String>) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start bulletin");
    let lines = |stream: Box<dyn std::io::Read + Send>| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        rx
    };
    let stdout = lines(Box::new(child.stdout.take().unwrap()));
    let stderr = lines(Box::new(child.stderr.take().unwrap()));
    (child, stdout, stderr)
}

/// An HTTP client that hands back 4xx and 5xx answers instead of failing,
/// and never waits long.
pub(crate) fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent()
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    location: Option<String>,
    body: String,
}

fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = response.expect("the server answers");
    Answer {
        status: response.status().as_u16(),
        location: response.headers().get("location").map(|v| v.to_str().unwrap().to_owned()),
        body: response.body_mut().read_to_string().unwrap(),
    }
}

/// The one-click request a mail program sends (RFC 8058).
pub(crate) fn one_click(url: &str) -> Answer {
    answer(client().post(url).send_form([("List-Unsubscribe", "One-Click")]))
}

fn get(url: &str) -> Answer {
    answer(client().get(url).call())
}

// ------------------------------------------------------- end to end

#[test]
fn a_one_click_post_unsubscribes_exactly_that_reader_and_the_next_send_skips_them() {
    let sink = SinkServer::start();
    let (test, addresses) = list_test(6);
    let links = links(&test);
    let server = Server::start(&test);

    let leaving = "reader03@example.org";
    let reply = one_click(&server.local(&links[leaving]));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.location, None, "no redirect");
    assert!(util::visible_text(&reply.body).contains("You are unsubscribed"), "{}", reply.body);
    assert_eq!(suppressed(&test), [leaving]);

    let mut test = test;
    test.set_env("SMTP_HOST", "127.0.0.1");
    test.set_env("SMTP_PORT", &sink.port().to_string());
    test.set_env("SMTP_SECURITY", "none");
    let sent = test
        .run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--yes", "--rate", "unlimited"])
        .code(0)
        .stdout_has("to        5 recipient(s) (1 suppressed)")
        .stdout_has("  5 sent, ")
        .stdout_has("skipped   1 suppressed");
    let got: BTreeSet<String> = sink.messages().iter().map(|m| m.recipient().to_lowercase()).collect();
    let want: BTreeSet<String> = addresses.iter().filter(|a| *a != leaving).cloned().collect();
    assert_eq!(got, want, "{}", sent.printed());

    let (code, stdout, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Stopped."), "{stdout}");
    let events: Vec<&str> = stderr.lines().filter(|l| l.contains("unsubscribed")).collect();
    assert_eq!(events.len(), 1, "one log line per unsubscribe: {stderr}");
    assert!(events[0].ends_with("unsubscribed r***@example.org (added)"), "{stderr}");
    for printed in [&stdout, &stderr, &sent.stdout, &sent.stderr] {
        assert!(!printed.contains(SECRET), "the secret was printed: {printed}");
        assert!(!printed.contains(leaving), "the log masks addresses: {printed}");
    }
}

#[test]
fn a_get_shows_a_form_naming_the_reader_and_changes_nothing() {
    let (test, _) = list_test(2);
    let links = links(&test);
    let server = Server::start(&test);
    let page = get(&server.local(&links["reader01@example.org"]));
    assert_eq!(page.status, 200);
    let html = scraper::Html::parse_document(&page.body);
    let select = |css: &str| scraper::Selector::parse(css).unwrap();
    let form = html.select(&select(r#"form[method="post"]"#)).next().expect("a POST form");
    assert_eq!(form.value().attr("action"), Some(""), "it posts back to the same address, token and all");
    let hidden = form.select(&select(r#"input[type="hidden"]"#)).next().expect("the one-click field");
    assert_eq!(
        (hidden.value().attr("name"), hidden.value().attr("value")),
        (Some("List-Unsubscribe"), Some("One-Click"))
    );
    assert!(form.select(&select(r#"button[type="submit"]"#)).next().is_some(), "a button");
    let text = util::visible_text(&page.body);
    assert!(
        text.contains("Unsubscribe from Weekly prayer?") && text.contains("reader01@example.org"),
        "{text}"
    );
    // HEAD, as link scanners send, changes nothing either.
    assert_eq!(answer(client().head(server.local(&links["reader01@example.org"])).call()).status, 200);
    assert!(!test.join(SUPPRESSED).exists(), "a GET unsubscribes nobody");
}

#[test]
fn the_confirmation_pages_button_unsubscribes_with_the_same_request() {
    let (test, _) = list_test(2);
    let links = links(&test);
    let server = Server::start(&test);
    // What a browser sends when the button is pressed: the form's fields,
    // form-urlencoded, to the page's own address.
    let url = server.local(&links["reader02@example.org"]);
    let reply = answer(
        client()
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Origin", "https://hope.example.org")
            .send("List-Unsubscribe=One-Click"),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(suppressed(&test), ["reader02@example.org"]);
}

#[test]
fn a_multipart_one_click_body_unsubscribes_too() {
    let (test, _) = list_test(2);
    let links = links(&test);
    let server = Server::start(&test);
    let form = ureq::unversioned::multipart::Form::new().text("List-Unsubscribe", "One-Click");
    let reply = answer(client().post(server.local(&links["reader01@example.org"])).send(form));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(suppressed(&test), ["reader01@example.org"]);
}

#[test]
fn a_forged_token_changes_nothing() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (test, _) = list_test(2);
    let links = links(&test);
    let server = Server::start(&test);
    let genuine = server.local(&links["reader01@example.org"]);
    let (base, token) = genuine.split_once("?t=").unwrap();
    let (_, tag) = token.split_once('.').unwrap();
    // Another reader's address under reader01's signature.
    let other = URL_SAFE_NO_PAD.encode("bulletin.hope.example.org\nreader02@example.org");
    // reader02 signed with another key, by the same rules.
    let foreign = {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"not-the-secret-at-all-0000").unwrap();
        mac.update(b"bulletin.hope.example.org\nreader02@example.org");
        format!("{other}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    };
    for url in [
        format!("{base}?t={other}.{tag}"),
        format!("{base}?t={foreign}"),
        genuine[..genuine.len() - 3].to_owned(),
        format!("{base}?t="),
        base.to_owned(),
        format!("{base}?t=garbage"),
    ] {
        let reply = one_click(&url);
        assert_eq!(reply.status, 400, "{url}: {}", reply.body);
        assert!(
            util::visible_text(&reply.body).contains("This unsubscribe link does not work"),
            "{}",
            reply.body
        );
        assert_eq!(get(&url).status, 400, "{url}");
    }
    assert!(!test.join(SUPPRESSED).exists(), "nothing was written");
    let (_, _, stderr) = server.stop();
    assert_eq!(stderr.lines().filter(|l| l.contains("refused")).count(), 12, "{stderr}");
}

#[test]
fn a_post_that_is_not_a_one_click_request_changes_nothing() {
    let (test, _) = list_test(1);
    let links = links(&test);
    let server = Server::start(&test);
    let url = server.local(&links["reader01@example.org"]);
    assert_eq!(answer(client().post(&url).send_form([("List-Unsubscribe", "Maybe")])).status, 400);
    assert_eq!(answer(client().post(&url).send_form([("other", "One-Click")])).status, 400);
    assert_eq!(
        answer(client().post(&url).header("Content-Type", "text/plain").send("List-Unsubscribe=Later"))
            .status,
        400
    );
    let huge = format!("List-Unsubscribe=One-Click&padding={}", "x".repeat(100_000));
    let reply = answer(
        client().post(&url).header("Content-Type", "application/x-www-form-urlencoded").send(huge.as_str()),
    );
    assert_eq!(reply.status, 413, "a body over the limit is refused");
    assert_eq!(answer(client().put(&url).send("List-Unsubscribe=One-Click")).status, 405);
    assert_eq!(answer(client().delete(&url).call()).status, 405);
    assert_eq!(get(&format!("{}/elsewhere", server.origin)).status, 404);
    assert!(!test.join(SUPPRESSED).exists(), "nothing was written");
    let health = get(&format!("{}/healthz", server.origin));
    assert_eq!(health.status, 200, "{}", health.body);
    assert!(health.body.starts_with("ok\n"), "{}", health.body);
}

#[test]
fn concurrent_posts_for_different_and_for_the_same_reader_lose_and_duplicate_nothing() {
    let (test, addresses) = list_test(50);
    let links = links(&test);
    let server = Server::start(&test);
    let urls: Vec<String> = addresses.iter().map(|a| server.local(&links[a])).collect();
    let same = urls[0].clone();
    // 50 readers at once, and 50 clicks of one reader's link at once.
    let start = std::sync::Barrier::new(100);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = urls
            .iter()
            .cloned()
            .chain(std::iter::repeat_n(same, 50))
            .map(|url| {
                let start = &start;
                scope.spawn(move || {
                    start.wait();
                    one_click(&url).status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses, vec![200; 100]);
    let mut listed = suppressed(&test);
    assert_eq!(listed.len(), 50, "one row per reader: {listed:?}");
    listed.sort();
    assert_eq!(listed, addresses);
    let text = std::fs::read_to_string(test.join(SUPPRESSED)).unwrap();
    assert!(text.lines().skip(1).all(|l| l.split(',').nth(1) == Some("unsubscribed")), "{text}");
}

// ------------------------------------------------------- starting up

#[test]
fn the_server_refuses_to_start_without_a_real_secret_and_says_why() {
    let (test, _) = list_test(1);
    let mut without = test;
    without.set_env("UNSUBSCRIBE_SECRET", "");
    without
        .run(&["unsubscribe-server", "--listen", "127.0.0.1:0", "--subscribers", "list.csv"])
        .code(2)
        .stderr_has("UNSUBSCRIBE_SECRET is not set")
        .stderr_has("openssl rand -hex 32");
    without.set_env("UNSUBSCRIBE_SECRET", "short-s3cret");
    without
        .run(&["unsubscribe-server", "--listen", "127.0.0.1:0", "--subscribers", "list.csv"])
        .code(2)
        .stderr_has("shorter than 16 characters")
        .stderr_lacks("short-s3cret");
    without.set_env("UNSUBSCRIBE_SECRET", SECRET);
    without.set_env("UNSUBSCRIBE_URL", "");
    without
        .run(&["unsubscribe-server", "--listen", "127.0.0.1:0", "--subscribers", "list.csv"])
        .code(2)
        .stderr_has("UNSUBSCRIBE_URL is not set");
}

#[test]
fn the_server_starts_without_the_dkim_key_it_never_uses() {
    // The key signs messages; it need not be on the web server.
    let (test, _) = list_test(1);
    let test = test
        .env("DKIM_DOMAIN", "hope.example.org")
        .env("DKIM_SELECTOR", "bulletin2025")
        .env("DKIM_PRIVATE_KEY", "keys/not-on-this-server.pem");
    let server = Server::start(&test);
    // It answers (a link without a token is refused, but answered).
    let reply = get(&format!("{}/unsubscribe", server.origin));
    assert_eq!(reply.status, 400, "{}", reply.body);
    drop(server);
    // A command that makes messages does need it.
    test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--dry-run"])
        .code(2)
        .stderr_has("cannot read keys/not-on-this-server.pem");
}

#[test]
fn a_stop_sent_as_soon_as_the_server_says_where_it_listens_ends_it_cleanly() {
    let (test, _) = list_test(1);
    let server = Server::start(&test);
    let (code, stdout, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Stopped."), "{stdout}");
}

#[test]
fn the_server_refuses_to_start_when_it_could_not_write_the_suppression_list() {
    let (test, _) = list_test(1);
    test.run(&[
        "unsubscribe-server",
        "--listen",
        "127.0.0.1:0",
        "--suppressed",
        "no-such-folder/suppressed.csv",
    ])
    .code(2)
    .stderr_has("no-such-folder/suppressed.csv does not exist");
}

// ------------------------------------------------------- by hand

#[test]
fn unsubscribe_by_hand_adds_each_address_once_and_says_which_were_there() {
    let (test, _) = list_test(3);
    test.run(&[
        "unsubscribe",
        "--subscribers",
        "list.csv",
        "reader01@example.org",
        "Reader Two <reader02@example.org>",
    ])
    .code(0)
    .stdout_has("  added          reader01@example.org\n  added          reader02@example.org\n")
    .stdout_has("suppressed.csv: 2 added, 0 already there");
    test.run(&[
        "unsubscribe",
        "--subscribers",
        "list.csv",
        "READER01@example.org",
        "--note",
        "replied 2025-10-20",
    ])
    .code(0)
    .stdout_has("  already there  READER01@example.org");
    assert_eq!(suppressed(&test), ["reader01@example.org", "reader02@example.org"]);
    let text = std::fs::read_to_string(test.join(SUPPRESSED)).unwrap();
    assert!(text.lines().nth(1).unwrap().starts_with("reader01@example.org,requested,"), "{text}");

    // The dry run (and so every send) skips them and counts them.
    test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--dry-run"])
        .code(0)
        .stdout_has("would send   1")
        .stdout_has("skipped      2 (2 suppressed)");
}

#[test]
fn unsubscribe_from_a_file_names_each_bad_line_adds_the_rest_and_exits_1() {
    let (test, _) = list_test(1);
    let test = test
        .file(
            "replies.txt",
            "# from the office inbox\nana@example.org\n\nana(at)example.org\nBo <bo@example.org>\n",
        )
        .file("export.csv", "Name,Email Address\nCy,cy@example.org\nDee,\n");
    let run = test
        .run(&["unsubscribe", "--subscribers", "list.csv", "--from-file", "replies.txt", "not-an-address"])
        .code(1)
        .stdout_has("suppressed.csv: 2 added, 0 already there; 2 skipped (see above)");
    assert_eq!(
        run.error_lines(),
        [
            "error: invalid email address \"not-an-address\": no `@`",
            "error: replies.txt:4: invalid email address \"ana(at)example.org\": no `@`",
        ]
    );
    test.run(&["unsubscribe", "--subscribers", "list.csv", "--from-file", "export.csv"])
        .code(1)
        .stderr_has("error: export.csv:3: no email address");
    assert_eq!(suppressed(&test), ["ana@example.org", "bo@example.org", "cy@example.org"]);
    test.run(&["unsubscribe", "--subscribers", "list.csv", "--from-file", "missing.txt"])
        .code(2)
        .stderr_has("cannot read missing.txt");
}

#[test]
fn resubscribe_lifts_an_address_by_a_later_row_and_says_whether_it_was_there() {
    let (test, _) = list_test(2);
    test.run(&["unsubscribe", "--subscribers", "list.csv", "reader01@example.org", "gone@example.org"])
        .code(0);
    test.run(&["resubscribe", "--subscribers", "list.csv", "Reader01@Example.org"])
        .code(0)
        .stdout_has("Reader01@Example.org was on the suppression list suppressed.csv: a `resubscribed` row now lifts it.")
        .stdout_has("They are on list.csv (line 2) and will get the next bulletin.");
    // Nothing is taken off: the lift is a row of its own.
    assert_eq!(suppressed(&test), ["reader01@example.org", "gone@example.org", "Reader01@Example.org"]);
    let text = std::fs::read_to_string(test.join(SUPPRESSED)).unwrap();
    assert!(text.lines().last().unwrap().starts_with("Reader01@Example.org,resubscribed,"), "{text}");
    test.run(&["resubscribe", "--subscribers", "list.csv", "reader01@example.org"])
        .code(0)
        .stdout_has("reader01@example.org was not on the suppression list suppressed.csv; nothing changed.");
    test.run(&["resubscribe", "--subscribers", "list.csv", "gone@example.org"])
        .code(0)
        .stderr_has("warning: gone@example.org is not on list.csv");
    assert_eq!(
        suppressed(&test),
        ["reader01@example.org", "gone@example.org", "Reader01@Example.org", "gone@example.org"]
    );
    // Both are lifted now: neither is on the list any more.
    test.run(&["resubscribe", "--subscribers", "list.csv", "gone@example.org"])
        .code(0)
        .stdout_has("gone@example.org was not on the suppression list suppressed.csv; nothing changed.");
    test.run(&["resubscribe", "--subscribers", "list.csv", "nobody"])
        .code(2)
        .stderr_has("invalid email address");
}

// ------------------------------------------------------- unsigned links

#[test]
fn without_a_secret_a_send_to_more_than_a_handful_refuses_and_sends_nothing() {
    let sink = SinkServer::start();
    let (test, _) = list_test(6);
    let mut test = test;
    test.set_env("UNSUBSCRIBE_SECRET", "");
    test.set_env("SMTP_HOST", "127.0.0.1");
    test.set_env("SMTP_PORT", &sink.port().to_string());
    test.set_env("SMTP_SECURITY", "none");
    let args = ["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--yes", "--rate", "unlimited"];
    test.run(&args)
        .code(2)
        .stderr_has("refusing to send to 6 recipients: UNSUBSCRIBE_URL is set but UNSUBSCRIBE_SECRET is not");
    assert!(sink.messages().is_empty());
    assert!(!test.join(".bulletin").exists(), "no journal was started");

    // A dry run warns; a test copy goes; a list of five goes.
    test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--dry-run"])
        .code(0)
        .stderr_has("a send to more than 5 recipients refuses until UNSUBSCRIBE_SECRET is set");
    test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--to", "me@hope.example.org"]).code(0);
    test.run(&["unsubscribe", "--subscribers", "list.csv", "reader06@example.org"]).code(0);
    test.run(&args).code(0).stdout_has("  5 sent, ");
    assert_eq!(sink.messages().len(), 6);
}

#[test]
fn a_test_copys_link_unsubscribes_the_test_address_not_the_subscriber_it_is_personalised_as() {
    let sink = SinkServer::start();
    let (mut test, _) = list_test(2);
    test.set_env("SMTP_HOST", "127.0.0.1");
    test.set_env("SMTP_PORT", &sink.port().to_string());
    test.set_env("SMTP_SECURITY", "none");
    test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--to", "me@hope.example.org"])
        .code(0)
        .stdout_has("test copy sent to me@hope.example.org (as reader01@example.org)");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let eml = messages[0].eml();
    let message = eml.parse();
    let link = message
        .list_unsubscribe()
        .as_address()
        .and_then(|a| a.iter().filter_map(|a| a.address()).find(|u| u.starts_with("https://")))
        .expect("an https link")
        .to_owned();
    assert!(eml.text().contains(&link), "the footer's link is the header's");
    let server = Server::start(&test);
    assert_eq!(one_click(&server.local(&link)).status, 200);
    assert_eq!(suppressed(&test), ["me@hope.example.org"]);
}
