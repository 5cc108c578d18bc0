//! Signing up end to end: the real `bulletin serve` on 127.0.0.1 answering
//! real HTTP requests (ureq), sending its confirmation emails through a real
//! SMTP server (aiosmtpd, tests/support/smtp_server.py) that keeps them,
//! the `signups.csv` the confirmations write, and the dry runs that read it
//! beside the list.

use std::time::Duration;

use pretty_assertions::assert_eq;

use crate::send_util::{Faults, PyServer, Received, to_relay};
use crate::unsubscribe::{Server, client, list_test};
use crate::util::{Test, bulletin_with};

const CONSENT: &str = "Yes, email me the weekly prayer bulletin. I can leave at any time.";

// ---------------------------------------------------------------- helpers

/// `n` readers on `list.csv`, a sign-up form offering two interests, and
/// the relay on `smtp`.
pub(crate) fn signup_test(smtp: &PyServer, n: usize) -> Test {
    let (test, _) = list_test(n);
    to_relay(test, smtp.port())
        .env("INTERESTS", "prayer,news")
        .env("CONSENT_TEXT", CONSENT)
        // A segmented bulletin: only readers tagged `prayer`, showing a
        // consent field as a merge field.
        .file(
            "prayer.md",
            bulletin_with("segment = \"prayer\"\n", "Consent {{ consent_text_hash }} from {{ source }}."),
        )
}

pub(crate) fn serve(test: &Test) -> Server {
    Server::start_command(test.std_command(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--subscribers",
        "list.csv",
    ]))
}

pub(crate) struct Answer {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: String,
}

pub(crate) fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = response.expect("the server answers");
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.body_mut().read_to_string().unwrap(),
    }
}

pub(crate) fn get(url: &str) -> Answer {
    answer(client().get(url).call())
}

pub(crate) fn sign_up(server: &Server, fields: &[(&str, &str)]) -> Answer {
    answer(client().post(format!("{}/subscribe", server.origin)).send_form(fields.iter().copied()))
}

/// The confirmation link (public) in a confirmation email's text.
pub(crate) fn confirm_link(message: &Received) -> String {
    let text = message.eml().text();
    let start =
        text.find("https://hope.example.org/confirm?").unwrap_or_else(|| panic!("no link in\n{text}"));
    text[start..].split_whitespace().next().unwrap().to_owned()
}

fn signups(test: &Test) -> String {
    std::fs::read_to_string(test.join("signups.csv")).unwrap_or_default()
}

/// Who the dry run of `bulletin` writes a message to, with each message's text.
pub(crate) fn dry_run(test: &Test, bulletin: &str) -> Vec<(String, String)> {
    let _ = std::fs::remove_dir_all(test.join("out"));
    test.run(&["send", bulletin, "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
    test.emls("out").iter().map(|eml| (eml.to_address().to_lowercase(), eml.text())).collect()
}

// ------------------------------------------------------------- end to end

#[test]
fn a_sign_up_is_confirmed_only_by_the_button_and_the_next_dry_run_includes_the_reader_with_tags_and_consent()
{
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 2);
    let server = serve(&test);

    let form = get(&format!("{}/subscribe", server.origin));
    assert_eq!(form.status, 200, "{}", form.body);
    for needle in [CONSENT, "name=\"email\"", "value=\"prayer\"", "value=\"news\"", "method=\"post\""] {
        assert!(form.body.contains(needle), "the form lacks {needle:?}:\n{}", form.body);
    }

    let signed_up = sign_up(
        &server,
        &[("name", "Ana Silva"), ("email", "Ana@Example.org"), ("interests", "prayer"), ("consent", "yes")],
    );
    assert_eq!(signed_up.status, 200, "{}", signed_up.body);
    smtp.wait_for_message_to("Ana@Example.org");
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let link = confirm_link(&messages[0]);
    assert!(signups(&test).is_empty(), "nothing is written before the confirmation");

    // A mail scanner fetching the link confirms nothing.
    let page = get(&server.local(&link));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<button"), "{}", page.body);
    assert!(page.body.contains("method=\"post\""), "{}", page.body);
    // What is confirmed is shown, so a sign-up someone else made in the
    // reader's name is not confirmed unseen.
    for shown in ["Ana Silva", "prayer"] {
        assert!(page.body.contains(shown), "the page does not show {shown:?}:\n{}", page.body);
    }
    assert!(signups(&test).is_empty(), "a GET confirmed:\n{}", signups(&test));

    let confirmed = answer(client().post(server.local(&link)).send_form([("confirm", "yes")]));
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let csv = signups(&test);
    let header = csv.lines().next().unwrap();
    for column in ["email", "first_name", "last_name", "tags", "consented_at", "consent_text_hash", "source"]
    {
        assert!(header.split(',').any(|c| c == column), "no {column} in {header}");
    }
    assert!(csv.contains("Ana@Example.org,Ana,Silva,prayer,"), "{csv}");

    // The segmented bulletin goes to Ana alone, with her consent record.
    let after = dry_run(&test, "prayer.md");
    assert_eq!(after.iter().map(|(to, _)| to.as_str()).collect::<Vec<_>>(), ["ana@example.org"]);
    let hash = hex_sha256(CONSENT);
    let text = after[0].1.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains(&format!("Consent {hash} from signup-form")), "{text}");
    // The whole list plus Ana.
    assert_eq!(dry_run(&test, "content/ijm-prayer-requests.md").len(), 3);

    // Confirming again adds no second row.
    let again = answer(client().post(server.local(&link)).send_form([("confirm", "yes")]));
    assert_eq!(again.status, 200);
    assert_eq!(signups(&test).lines().count(), 2, "{}", signups(&test));
}

fn hex_sha256(text: &str) -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())", text])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn a_forged_or_expired_token_confirms_nothing() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1).env("CONFIRM_HOURS", "1").with_test_clock();
    let server = serve(&test);
    assert_eq!(sign_up(&server, &[("email", "bo@example.org")]).status, 200);
    smtp.wait_for_message_to("bo@example.org");
    let link = confirm_link(&smtp.messages()[0]);

    // Another address put in the token's place, keeping the signature.
    let token = link.split("t=").nth(1).unwrap();
    let (_, tag) = token.rsplit_once('.').unwrap();
    let forged = format!("{}/confirm?t=Ym9AZXhhbXBsZS5vcmc.{tag}", server.origin);
    assert_eq!(get(&forged).status, 400);
    assert_eq!(answer(client().post(&forged).send_form([("confirm", "yes")])).status, 400);

    // The link lives for CONFIRM_HOURS (here one hour), and then dies.
    test.set_clock_ahead(3590.0);
    let page = get(&server.local(&link));
    assert_eq!(page.status, 200, "a link 59 minutes old still shows its button: {}", page.body);
    test.set_clock_ahead(3610.0);
    let expired = answer(client().post(server.local(&link)).send_form([("confirm", "yes")]));
    assert_eq!(expired.status, 400, "{}", expired.body);
    assert!(expired.body.contains("expired"), "{}", expired.body);
    assert!(signups(&test).is_empty(), "{}", signups(&test));
}

#[test]
fn the_same_address_twice_gets_one_confirmation_a_day_and_identical_answers_whoever_it_is() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1);
    let server = serve(&test);
    let listed = sign_up(&server, &[("email", "reader01@example.org")]);
    let new = sign_up(&server, &[("email", "cy@example.org")]);
    let again = sign_up(&server, &[("email", "cy@example.org")]);
    assert_eq!((listed.status, new.status, again.status), (200, 200, 200));
    assert_eq!(listed.body, new.body, "an address on the list is told apart");
    assert_eq!(new.body, again.body);
    smtp.wait_for_message_to("cy@example.org");
    // Bounded wait for a second message that must not come.
    std::thread::sleep(Duration::from_millis(500));
    let to_cy = smtp.messages().iter().filter(|m| m.recipient() == "cy@example.org").count();
    assert_eq!(to_cy, 1);
}

#[test]
fn a_bot_filling_the_honeypot_gets_the_same_answer_and_no_email() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1);
    let server = serve(&test);
    let bot = sign_up(&server, &[("email", "bot@example.org"), ("website", "http://spam.example")]);
    let human = sign_up(&server, &[("email", "dee@example.org")]);
    assert_eq!((bot.status, &bot.body), (200, &human.body));
    smtp.wait_for_message_to("dee@example.org");
    std::thread::sleep(Duration::from_millis(300));
    assert!(smtp.messages().iter().all(|m| m.recipient() != "bot@example.org"));
}

#[test]
fn rapid_posts_from_one_client_are_refused_with_429_after_the_limit_and_send_at_most_the_cap() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1);
    let server = serve(&test);
    let statuses: Vec<u16> =
        (0..200).map(|i| sign_up(&server, &[("email", &format!("r{}@example.org", i % 3))]).status).collect();
    // Documented: 5 at once from one address, then one a minute.
    assert!(statuses[..5].iter().all(|&s| s == 200), "{statuses:?}");
    assert!(statuses[5..].iter().all(|&s| s == 429), "{statuses:?}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(smtp.count() <= 3, "{} emails for 3 addresses", smtp.count());
}

#[test]
fn a_one_megabyte_body_is_refused() {
    use std::io::{Read, Write};
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1);
    let server = serve(&test);
    let address = server.origin.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = format!("email=eve%40example.org&name={}", "x".repeat(1024 * 1024));
    write!(
        stream,
        "POST /subscribe HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    // The server may answer, and close, before taking it all.
    let _ = stream.write_all(body.as_bytes());
    let mut answer = [0; 12];
    stream.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 413");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(smtp.count(), 0);
}

#[test]
fn json_from_an_allowed_origin_gets_cors_headers_and_other_origins_none() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1).env("ALLOWED_ORIGINS", "https://www.hope.example.org");
    let server = serve(&test);
    let post = |origin: &str| {
        answer(
            client()
                .post(format!("{}/subscribe", server.origin))
                .header("Origin", origin)
                .header("Content-Type", "application/json")
                .send(r#"{"email":"fay@example.org","name":"Fay","interests":["news"]}"#),
        )
    };
    let allowed = post("https://www.hope.example.org");
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert_eq!(
        allowed.headers.get("access-control-allow-origin").map(|v| v.to_str().unwrap()),
        Some("https://www.hope.example.org")
    );
    let other = post("https://evil.example");
    assert!(other.headers.get("access-control-allow-origin").is_none());
    smtp.wait_for_message_to("fay@example.org");
}

#[test]
fn a_browsers_cors_preflight_from_an_allowed_origin_is_allowed_to_post_json_and_others_are_not() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1).env("ALLOWED_ORIGINS", "https://www.hope.example.org");
    let server = serve(&test);
    // What a browser asks before fetch() posts JSON from another site.
    let preflight = |origin: &str| {
        answer(
            client()
                .options(format!("{}/subscribe", server.origin))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type")
                .call(),
        )
    };
    let allowed = preflight("https://www.hope.example.org");
    assert!(allowed.status < 300, "{} {}", allowed.status, allowed.body);
    let header = |name: &str| {
        allowed.headers.get(name).map(|v| v.to_str().unwrap().to_ascii_lowercase()).unwrap_or_default()
    };
    assert_eq!(header("access-control-allow-origin"), "https://www.hope.example.org");
    assert!(header("access-control-allow-methods").contains("post"), "{:?}", allowed.headers);
    assert!(header("access-control-allow-headers").contains("content-type"), "{:?}", allowed.headers);
    let other = preflight("https://evil.example");
    assert!(other.headers.get("access-control-allow-origin").is_none(), "{:?}", other.headers);
    assert!(smtp.messages().is_empty(), "a preflight sends nothing");
}

#[test]
fn confirmations_racing_fifty_replacements_of_the_main_list_all_survive() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 3);
    let server = serve(&test);
    let n = 100;
    for i in 0..n {
        // Each as if from its own visitor, as the reverse proxy says.
        let posted = client()
            .post(format!("{}/subscribe", server.origin))
            .header("X-Forwarded-For", &format!("192.0.2.{i}"))
            .send_form([("email", format!("s{i:03}@example.org").as_str())]);
        assert_eq!(answer(posted).status, 200);
    }
    smtp.wait_for(n);
    let links: Vec<String> = smtp.messages().iter().map(|m| server.local(&confirm_link(m))).collect();
    let list = test.join("list.csv");
    let original = std::fs::read_to_string(&list).unwrap();
    let start = std::sync::Barrier::new(links.len());
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for round in 0..50 {
                let temp = test.join(&format!("list.csv.~{round}"));
                std::fs::write(&temp, &original).unwrap();
                std::fs::rename(&temp, &list).unwrap();
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        // All 100 at once, each on a thread of its own.
        for link in &links {
            let start = &start;
            scope.spawn(move || {
                start.wait();
                let done = answer(client().post(link).send_form([("confirm", "yes")]));
                assert_eq!(done.status, 200, "{}", done.body);
            });
        }
    });
    assert_eq!(std::fs::read_to_string(&list).unwrap(), original, "the server wrote the main list");
    let to: Vec<String> =
        dry_run(&test, "content/ijm-prayer-requests.md").into_iter().map(|(to, _)| to).collect();
    for i in 0..n {
        assert!(to.contains(&format!("s{i:03}@example.org")), "s{i:03} lost");
    }
    assert_eq!(to.len(), n + 3);
}

#[test]
fn signups_merge_moves_confirmed_readers_into_the_list_once_and_empties_signups_csv() {
    let (test, _) = list_test(1);
    let test = test.file(
        "signups.csv",
        "email,first_name,last_name,tags,consented_at,consent_text_hash,source\r\n\
         ana@example.org,Ana,Silva,prayer,2026-12-01T10:00:00Z,abc,signup-form\r\n\
         READER01@example.org,R,,news,2026-12-01T10:00:00Z,abc,signup-form\r\n",
    );
    let before = dry_run(&test, "content/ijm-prayer-requests.md");
    test.run(&["signups", "merge", "--subscribers", "list.csv"]).code(0).stdout_has("Moved 1 sign-up(s)");
    let list = std::fs::read_to_string(test.join("list.csv")).unwrap();
    assert_eq!(
        list,
        "email,first_name,last_name,tags,consented_at,consent_text_hash,source\r\n\
         reader01@example.org,Reader,,,,,\r\n\
         ana@example.org,Ana,Silva,prayer,2026-12-01T10:00:00Z,abc,signup-form\r\n"
    );
    assert_eq!(signups(&test).lines().count(), 1, "{}", signups(&test));
    assert_eq!(dry_run(&test, "content/ijm-prayer-requests.md"), before);
}

/// Each reader's preference page link, from the text part of a dry run.
pub(crate) fn preference_links(test: &Test) -> std::collections::BTreeMap<String, String> {
    dry_run(test, "content/ijm-prayer-requests.md")
        .into_iter()
        .map(|(to, text)| {
            let start = text
                .find("https://hope.example.org/preferences?t=")
                .unwrap_or_else(|| panic!("no preference link for {to}:\n{text}"));
            (to, text[start..].split_whitespace().next().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn a_pause_an_unsubscribe_and_chosen_interests_on_the_preference_page_change_who_the_next_dry_run_mails() {
    let (test, _) = list_test(3);
    // No PREFERENCES_URL: the page is /preferences on UNSUBSCRIBE_URL's host.
    let test = test
        .env("INTERESTS", "prayer,news")
        .file("prayer.md", bulletin_with("segment = \"prayer\"\n", "For those who pray."));
    let links = preference_links(&test);
    assert_eq!(links.len(), 3);
    let server = Server::start(&test);
    let link = |who: &str| server.local(&links[&format!("{who}@example.org")]);
    let post =
        |who: &str, form: &[(&str, &str)]| answer(client().post(link(who)).send_form(form.iter().copied()));

    let page = get(&link("reader01"));
    assert_eq!(page.status, 200, "{}", page.body);
    for needle in ["value=\"prayer\"", "value=\"news\"", "name=\"weeks\"", "Unsubscribe", "method=\"post\""] {
        assert!(page.body.contains(needle), "the preference page lacks {needle:?}:\n{}", page.body);
    }
    assert!(!test.join("preferences.csv").exists(), "a GET changed something");

    assert_eq!(post("reader01", &[("action", "pause"), ("weeks", "4")]).status, 200);
    assert_eq!(post("reader02", &[("action", "unsubscribe")]).status, 200);
    let saved = post("reader03", &[("action", "save"), ("interests", "prayer"), ("interests", "bogus")]);
    assert_eq!(saved.status, 200, "{}", saved.body);

    let forged = format!("{}/preferences?t=bm9ib2R5.AAAA", server.origin);
    assert_eq!(answer(client().post(&forged).send_form([("action", "pause"), ("weeks", "4")])).status, 400);

    let everyone: Vec<String> =
        dry_run(&test, "content/ijm-prayer-requests.md").into_iter().map(|(to, _)| to).collect();
    assert_eq!(everyone, ["reader03@example.org"], "paused and unsubscribed readers are not mailed");
    let segment: Vec<String> = dry_run(&test, "prayer.md").into_iter().map(|(to, _)| to).collect();
    assert_eq!(segment, ["reader03@example.org"]);
    let suppressed = std::fs::read_to_string(test.join("suppressed.csv")).unwrap();
    assert!(suppressed.contains("reader02@example.org,unsubscribed"), "{suppressed}");
    assert!(
        suppressed.contains("reader01@example.org,paused,"),
        "a pause is a row of the ledger: {suppressed}"
    );
    let preferences = std::fs::read_to_string(test.join("preferences.csv")).unwrap();
    assert!(preferences.contains("reader03@example.org,prayer,,"), "{preferences}");
    assert!(!preferences.contains("bogus"), "{preferences}");
}

#[test]
fn a_confirmed_sign_up_lifts_the_readers_own_unsubscribe_but_never_a_hard_bounce() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1).file(
        "suppressed.csv",
        "email,reason,date,detail\r\n\
         ann@example.org,unsubscribed,2026-01-01T00:00:00Z,\r\n\
         bob@example.org,hard-bounce,2026-01-01T00:00:00Z,550 no such user\r\n",
    );
    let server = serve(&test);
    for who in ["ann@example.org", "bob@example.org"] {
        assert_eq!(sign_up(&server, &[("email", who)]).status, 200);
    }
    // A hard bounce is never sent a link that could not bring it back.
    smtp.wait_for_message_to("ann@example.org");
    std::thread::sleep(Duration::from_millis(500));
    assert!(smtp.messages().iter().all(|m| m.recipient() != "bob@example.org"));
    for message in smtp.messages() {
        let done =
            answer(client().post(server.local(&confirm_link(&message))).send_form([("confirm", "yes")]));
        assert_eq!(done.status, 200, "{}", done.body);
    }
    let to: Vec<String> =
        dry_run(&test, "content/ijm-prayer-requests.md").into_iter().map(|(to, _)| to).collect();
    assert_eq!(to, ["reader01@example.org", "ann@example.org"]);
    let suppressed = std::fs::read_to_string(test.join("suppressed.csv")).unwrap();
    // Her unsubscribe stays on record, lifted by later rows.
    assert!(suppressed.contains("ann@example.org,unsubscribed,2026-01-01T00:00:00Z"), "{suppressed}");
    assert!(suppressed.contains("ann@example.org,confirmed,"), "{suppressed}");
    assert!(suppressed.contains("bob@example.org,hard-bounce"), "{suppressed}");
}

#[test]
fn a_confirmation_link_used_again_after_the_reader_unsubscribed_does_not_lift_the_new_unsubscribe() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1);
    let server = serve(&test);
    assert_eq!(sign_up(&server, &[("email", "ann@example.org")]).status, 200);
    smtp.wait_for_message_to("ann@example.org");
    let link = server.local(&confirm_link(&smtp.messages()[0]));
    let confirm = || answer(client().post(&link).send_form([("confirm", "yes")]));
    assert_eq!(confirm().status, 200);
    // She leaves (by the footer's link, a reply, the preference page)...
    test.run(&["unsubscribe", "ann@example.org", "--subscribers", "list.csv"]).code(0);
    // ...and the old "You are signed up" page is reloaded, or the link
    // forwarded to someone else is followed: her choice stands, and the
    // page says the link no longer works.
    assert_eq!(confirm().status, 410);
    let suppressed = std::fs::read_to_string(test.join("suppressed.csv")).unwrap();
    assert!(suppressed.contains("ann@example.org,requested"), "{suppressed}");
    let to: Vec<String> =
        dry_run(&test, "content/ijm-prayer-requests.md").into_iter().map(|(to, _)| to).collect();
    assert_eq!(to, ["reader01@example.org"]);
}

#[test]
fn the_daily_cap_on_confirmation_emails_survives_a_restart_of_the_server() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1);
    let server = serve(&test);
    assert_eq!(sign_up(&server, &[("email", "gus@example.org")]).status, 200);
    smtp.wait_for_message_to("gus@example.org");
    let (code, _, _) = server.stop();
    assert_eq!(code, Some(0));
    let server = serve(&test);
    assert_eq!(sign_up(&server, &[("email", "gus@example.org")]).status, 200);
    assert_eq!(sign_up(&server, &[("email", "hal@example.org")]).status, 200);
    smtp.wait_for_message_to("hal@example.org");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(smtp.messages().iter().filter(|m| m.recipient() == "gus@example.org").count(), 1);
    let store = rusqlite::Connection::open(test.join(".bulletin/journal.sqlite3")).unwrap();
    let kept: Vec<String> = store
        .prepare("SELECT kind || ' ' || digest FROM confirmation_emails")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(kept.len(), 4, "a mailbox and a domain for each of the two emails: {kept:?}");
    assert!(
        !kept.iter().any(|k| k.contains("gus") || k.contains("example.org")),
        "keyed hashes only: {kept:?}"
    );
    drop(store);
    let state: Vec<String> =
        files_holding(&test, "gus@").into_iter().filter(|f| f.starts_with(".bulletin")).collect();
    assert_eq!(state, Vec::<String>::new(), "no file of the state folder names him");
}

/// The files under the test's folder whose bytes hold `needle` (any case).
fn files_holding(test: &Test, needle: &str) -> Vec<String> {
    fn walk(dir: &std::path::Path, root: &std::path::Path, needle: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, needle, out);
            } else if String::from_utf8_lossy(&std::fs::read(&path).unwrap()).to_lowercase().contains(needle)
            {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(test.path(), test.path(), needle, &mut out);
    out.sort();
    out
}

#[test]
fn export_shows_a_sign_up_and_its_preferences_and_forget_leaves_no_trace_of_them() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1).env("PREFERENCES_URL", "https://hope.example.org/preferences");
    let server = serve(&test);
    assert_eq!(sign_up(&server, &[("email", "ivy@example.org"), ("name", "Ivy Lee")]).status, 200);
    smtp.wait_for_message_to("ivy@example.org");
    let link = confirm_link(&smtp.messages()[0]);
    assert_eq!(answer(client().post(server.local(&link)).send_form([("confirm", "yes")])).status, 200);
    let preferences = preference_links(&test);
    let to_ivy = server.local(&preferences["ivy@example.org"]);
    assert_eq!(
        answer(client().post(to_ivy).send_form([("action", "save"), ("interests", "news")])).status,
        200
    );
    drop(server);
    let _ = std::fs::remove_dir_all(test.join("out"));

    let run = test.run(&["export", "ivy@example.org", "--subscribers", "list.csv"]).code(0);
    for needle in ["signups.csv", "consent_text_hash", "preferences.csv", "\"news\""] {
        assert!(run.stdout.contains(needle), "the export lacks {needle}:\n{}", run.stdout);
    }
    test.run(&["forget", "ivy@example.org", "--subscribers", "list.csv"]).code(0);
    assert_eq!(files_holding(&test, "ivy@example.org"), Vec::<String>::new());
}

#[test]
fn a_pause_keeps_the_readers_list_tags_for_after_it_and_the_page_shows_their_tags_checked() {
    let (test, _) = list_test(0);
    let test = test
        .file(
            "list.csv",
            "email,first_name,tags\nreader01@example.org,Reader,prayer\nreader02@example.org,Reader,staff\n",
        )
        .file(
            "signups.csv",
            "email,first_name,last_name,tags,consented_at,consent_text_hash,source\r\n\
             cy@example.org,Cy,,news,2026-12-01T10:00:00Z,abc,signup-form\r\n",
        )
        .env("INTERESTS", "prayer,news")
        .file("prayer.md", bulletin_with("segment = \"prayer\"\n", "For those who pray."));
    let links = preference_links(&test);
    let server = Server::start(&test);
    let link = |who: &str| server.local(&links[&format!("{who}@example.org")]);
    let mailed =
        |bulletin: &str| -> Vec<String> { dry_run(&test, bulletin).into_iter().map(|(to, _)| to).collect() };

    // The boxes show the tags the reader has now: the list's, or their sign-up's.
    let page = get(&link("reader01")).body;
    assert!(page.contains(r#"value="prayer" checked"#), "{page}");
    assert!(!page.contains(r#"value="news" checked"#), "{page}");
    let page = get(&link("cy")).body;
    assert!(page.contains(r#"value="news" checked"#), "{page}");
    assert!(!page.contains(r#"value="prayer" checked"#), "{page}");

    let paused = answer(client().post(link("reader01")).send_form([("action", "pause"), ("weeks", "2")]));
    assert_eq!(paused.status, 200, "{}", paused.body);
    assert_eq!(mailed("prayer.md"), Vec::<String>::new(), "a paused reader is not mailed");
    // The pause still shows the list's tags.
    let page = get(&link("reader01")).body;
    assert!(page.contains(r#"value="prayer" checked"#), "{page}");

    // Two weeks on: the pause is over (its row's `until` in the past), and
    // the list's `prayer` tag still counts.
    let ledger = std::fs::read_to_string(test.join("suppressed.csv")).unwrap();
    let header: Vec<&str> = ledger.lines().next().unwrap().split(',').collect();
    let until = header.iter().position(|c| *c == "until").expect("a pause has an until column");
    let ended: String = ledger
        .lines()
        .map(|line| {
            let mut cells: Vec<&str> = line.split(',').collect();
            if cells[0] == "reader01@example.org" && cells[1] == "paused" {
                cells[until] = "2020-01-01T00:00:00Z";
            }
            format!("{}\r\n", cells.join(","))
        })
        .collect();
    std::fs::write(test.join("suppressed.csv"), ended).unwrap();
    assert_eq!(mailed("prayer.md"), ["reader01@example.org"], "{ledger}");

    // Saving changes the interests offered and keeps the tags the page does not offer.
    let saved =
        answer(client().post(link("reader02")).send_form([("action", "save"), ("interests", "news")]));
    assert_eq!(saved.status, 200, "{}", saved.body);
    let preferences = std::fs::read_to_string(test.join("preferences.csv")).unwrap();
    assert!(preferences.contains("reader02@example.org,staff;news,,"), "{preferences}");
}

#[test]
fn signups_merge_into_a_list_with_its_own_name_columns_fills_them_and_adds_no_name_columns() {
    let (test, _) = list_test(0);
    let test = test.file("list.csv", "Email,FirstName,Surname\r\nreader01@example.org,Reader,One\r\n").file(
        "signups.csv",
        "email,first_name,last_name,tags,consented_at,consent_text_hash,source\r\n\
         ana@example.org,Ana,Silva,prayer,2026-12-01T10:00:00Z,abc,signup-form\r\n",
    );
    test.run(&["signups", "merge", "--subscribers", "list.csv"]).code(0).stdout_has("Moved 1 sign-up(s)");
    assert_eq!(
        std::fs::read_to_string(test.join("list.csv")).unwrap(),
        "Email,FirstName,Surname,tags,consented_at,consent_text_hash,source\r\n\
         reader01@example.org,Reader,One,,,,\r\n\
         ana@example.org,Ana,Silva,prayer,2026-12-01T10:00:00Z,abc,signup-form\r\n"
    );
}
