//! Lists as people really make them (issue 13): a quote left open in the
//! subscriber list or in the suppression list, and the files Excel saves
//! (`;` between columns, a byte-order mark, CRLF, Windows-1252 or UTF-16).
//! Each file is built byte by byte here; the real binary reads it, and for
//! real sends Postfix's smtp-sink is the relay.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::send_util::{DEADLINE, SinkServer, to_relay};
use crate::util::{Test, bulletin};

const SECRET: &str = "lists-secret-5Zp8q1-never-printed-9a";

/// A list of `n` rows `a1@example.org`… with a first and last name; row
/// `i` is on line `i + 1`.
fn rows(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("a{i}@example.org,First{i},Last{i}")).collect()
}

#[test]
fn an_open_quote_in_the_subscriber_list_stops_the_run_naming_its_line_and_nothing_is_sent() {
    let sink = SinkServer::start();
    let mut lines = rows(1000);
    lines[1] = "a2@example.org,\"The \"\"Rev,Smith".to_owned();
    let csv = format!("email,first_name,last_name\n{}\n", lines.join("\n"));
    let test = to_relay(Test::new(), sink.port())
        .file("bulletin.md", bulletin("Hello."))
        .file("subscribers.csv", csv);

    let dry = test.run(&["send", "bulletin.md", "--subscribers", "subscribers.csv", "--dry-run"]).code(2);
    let error = dry.printed();
    assert!(error.contains("subscribers.csv:3:"), "names the line the quote opened on: {error}");
    assert!(error.contains("999 lines"), "says how many lines it took: {error}");
    assert!(error.contains("end of the file"), "{error}");
    assert!(!error.contains("would send"), "no partial summary: {error}");

    test.run(&["check", "bulletin.md", "--subscribers", "subscribers.csv"])
        .code(1)
        .stdout_has("subscribers.csv:3:");

    let sent = test
        .run(&["send", "bulletin.md", "--subscribers", "subscribers.csv", "--yes", "--rate", "unlimited"])
        .code(2);
    assert!(sent.printed().contains("subscribers.csv:3:"), "{}", sent.printed());
    assert!(sink.messages().is_empty(), "nothing is sent from a list that was not read whole");
}

#[test]
fn a_quoted_field_over_two_lines_that_swallows_no_row_is_still_read_and_every_line_is_counted() {
    let csv = "email,first_name,last_name\n\
               a1@example.org,\"Ann\nMarie\",Lee\n\
               \n\
               not-an-address,B,C\n\
               a2@example.org,Bo,Li\n";
    let test = Test::new()
        .file("bulletin.md", bulletin("Hello."))
        .file("subscribers.csv", csv)
        .file("suppressed.csv", "email\r\nnobody@example.org\r\n\r\n");
    test.run(&["check", "bulletin.md", "--subscribers", "subscribers.csv"])
        .stdout_has("subscribers.csv: 6 lines = 1 header + 3 rows on 4 lines + 1 blank")
        .stdout_has("suppressed.csv: 3 lines = 1 header + 1 row + 1 blank");
    test.run(&["send", "bulletin.md", "--subscribers", "subscribers.csv", "--dry-run"])
        .code(0)
        .stdout_has("would send   2")
        .stdout_has("read         6 lines = 1 header + 3 rows on 4 lines + 1 blank")
        .stdout_has("suppression  suppressed.csv: 3 lines = 1 header + 1 row + 1 blank");
}

#[test]
fn an_open_quote_in_the_suppression_list_stops_check_send_and_the_unsubscribe_server() {
    let sink = SinkServer::start();
    // 21 suppressed people; the second row's detail opens a quote that
    // swallows the other 19 rows.
    let suppressed: Vec<String> = (1..=21).map(|i| format!("s{i}@example.org")).collect();
    let mut damaged = String::from("email,reason,date,detail\n");
    for (i, address) in suppressed.iter().enumerate() {
        let detail = if i == 1 { "\"asked by phone, see \"\"notes".to_owned() } else { "asked".to_owned() };
        damaged.push_str(&format!("{address},requested,2026-11-01,{detail}\n"));
    }
    let mut list = String::from("email,first_name,last_name\n");
    for address in &suppressed {
        list.push_str(&format!("{address},S,T\n"));
    }
    for i in 1..=3 {
        list.push_str(&format!("keep{i}@example.org,K,L\n"));
    }
    let test = to_relay(Test::new(), sink.port())
        .env("UNSUBSCRIBE_URL", "https://hope.example.org/unsubscribe")
        .env("UNSUBSCRIBE_SECRET", SECRET)
        .file("bulletin.md", bulletin("Hello."))
        .file("list.csv", &list)
        .file("suppressed.csv", &damaged);

    let check = test.run(&["check", "bulletin.md", "--subscribers", "list.csv"]).code(1);
    assert!(check.printed().contains("suppressed.csv:3:"), "{}", check.printed());

    for args in [
        &["send", "bulletin.md", "--subscribers", "list.csv", "--dry-run"][..],
        &["send", "bulletin.md", "--subscribers", "list.csv", "--yes", "--rate", "unlimited"][..],
        &["unsubscribe-server", "--listen", "127.0.0.1:0", "--subscribers", "list.csv"][..],
    ] {
        // Bounded: a server that started anyway would never end.
        let output = test.command(args).timeout(DEADLINE).output().unwrap();
        let printed =
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert_eq!(output.status.code(), Some(2), "{args:?}: {printed}");
        assert!(printed.contains("suppressed.csv:3:"), "{args:?}: {printed}");
        assert!(!printed.contains("subscriber list"), "{args:?}: {printed}");
    }
    assert!(sink.messages().is_empty(), "nobody was mailed, least of all the suppressed");

    // A list damaged while the server runs: it refuses to append, and
    // says so, rather than write into the open field.
    let good = damaged.replace("\"asked by phone, see \"\"notes", "asked by phone");
    std::fs::write(test.join("suppressed.csv"), &good).unwrap();
    test.run(&["send", "bulletin.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
    let link = test
        .emls("out")
        .iter()
        .find(|eml| eml.to_address().starts_with("keep1@"))
        .and_then(|eml| eml.header("List-Unsubscribe"))
        .expect("keep1 has a message with a List-Unsubscribe header");
    let link = link.split(['<', '>']).find(|part| part.starts_with("https://")).unwrap().to_owned();
    let (mut child, origin, stderr) = start_server(&test);
    std::fs::write(test.join("suppressed.csv"), &damaged).unwrap();
    let local = link.replace("https://hope.example.org", &origin);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent();
    let mut reply = agent.post(&local).send_form([("List-Unsubscribe", "One-Click")]).unwrap();
    let status = reply.status().as_u16();
    let body = reply.body_mut().read_to_string().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("try again in a few minutes"), "{body}");
    assert_eq!(std::fs::read_to_string(test.join("suppressed.csv")).unwrap(), damaged, "nothing appended");
    let logged: Vec<String> = stderr.try_iter().collect();
    assert!(logged.iter().any(|l| l.contains("suppressed.csv:3:")), "{logged:?}");

    // Mended, the send goes to the three who are not suppressed.
    std::fs::write(test.join("suppressed.csv"), &good).unwrap();
    test.run(&["send", "bulletin.md", "--subscribers", "list.csv", "--yes", "--rate", "unlimited"])
        .code(0)
        .stdout_has("read      25 lines = 1 header + 24 rows + 0 blank");
    let mut got: Vec<String> = sink.messages().iter().map(|m| m.recipient().to_lowercase()).collect();
    got.sort();
    assert_eq!(got, ["keep1@example.org", "keep2@example.org", "keep3@example.org"]);
}

/// The unsubscribe server in the background, its address and its standard
/// error line by line.
fn start_server(test: &Test) -> (Child, String, mpsc::Receiver<String>) {
    let mut child = test
        .std_command(&["unsubscribe-server", "--listen", "127.0.0.1:0", "--subscribers", "list.csv"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start bulletin");
    let (tx, stderr) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (tx, stdout) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + DEADLINE;
    let origin = loop {
        let line = stdout
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the unsubscribe server says where it listens");
        if let Some(rest) = line.trim().strip_prefix("listening on http://") {
            break format!("http://{}", rest.split('/').next().unwrap());
        }
    };
    (child, origin, stderr)
}

#[test]
fn lists_saved_by_excel_in_a_european_locale_or_as_windows_1252_or_unicode_text_are_read() {
    // "CSV (semicolon)" as European Excel saves it: a byte-order mark, `;`
    // and CRLF, in UTF-8.
    let semicolons =
        "\u{feff}Email;First name;Last name\r\nana@example.org;Renée;Dubois\r\nbo@example.org;Bo;Li\r\n";
    // "CSV" on Windows: Windows-1252, `;`, CRLF, an accented first name
    // (0xE9) and a blank line.
    let mut windows = b"email;first_name;last_name\r\nana@example.org;Ren\xe9e;Dubois\r\n\r\n".to_vec();
    windows.extend_from_slice(b"bo@example.org;Bo;M\xfcller\r\n");
    // "Unicode text": UTF-16 little-endian with its byte-order mark, tabs.
    let mut unicode = vec![0xFF, 0xFE];
    for unit in "email\tfirst_name\r\nana@example.org\tRenée\r\nbo@example.org\tBo\r\n".encode_utf16() {
        unicode.extend_from_slice(&unit.to_le_bytes());
    }
    for (name, bytes, encoding) in [
        ("semicolons.csv", semicolons.as_bytes().to_vec(), None),
        ("windows.csv", windows, Some("read as Windows-1252")),
        ("unicode.txt", unicode, Some("read as UTF-16")),
    ] {
        let test = Test::new()
            .file("bulletin.md", bulletin("Dear {{ first_name }}."))
            .file(name, &bytes)
            .file("suppressed.csv", "email\r\nbo@example.org\r\n");
        let run = test
            .run(&["send", "bulletin.md", "--subscribers", name, "--dry-run", "--out", "out"])
            .code(0)
            .stdout_has("would send   1")
            .stdout_has("skipped      1 (1 suppressed)");
        if let Some(encoding) = encoding {
            assert!(run.printed().contains(encoding), "{name}: {}", run.printed());
        }
        let check = test.run(&["check", "bulletin.md", "--subscribers", name]).code(0);
        let lines = if name == "windows.csv" {
            "4 lines = 1 header + 2 rows + 1 blank"
        } else {
            "3 lines = 1 header + 2 rows + 0 blank"
        };
        assert!(check.stdout.contains(&format!("{name}: {lines}")), "{name}: {}", check.printed());
        if let Some(encoding) = encoding {
            assert!(check.stdout.contains(encoding), "{name}: {}", check.printed());
        }
        let emls = test.emls("out");
        assert_eq!(emls.len(), 1, "{name}");
        assert!(emls[0].text().contains("Dear Renée."), "{name}: {}", emls[0].text());
    }

    // A list that is UTF-8 up to line 3 and has a stray Windows-1252 byte
    // on line 4: that row is reported by its line, the others are read.
    let mixed =
        b"email,first_name\nana@example.org,Ren\xc3\xa9e\nbo@example.org,Bo\ncy@example.org,Cl\xe9o\n";
    let test = Test::new().file("bulletin.md", bulletin("Hello.")).file("mixed.csv", mixed);
    test.run(&["send", "bulletin.md", "--subscribers", "mixed.csv", "--dry-run"])
        .code(0)
        .stdout_has("would send   2")
        .stdout_has("mixed.csv:4: column `first_name` is not UTF-8 text");
}

/// Issue 7: a row that repeats an address is harmless (the send mails the
/// address once) and easily mended: `check` warns, says which line to
/// delete, and exits 0; a dry run and a send say the same line.
#[test]
fn a_duplicate_row_is_a_warning_that_says_which_line_to_delete_and_check_exits_0() {
    let mut lines = rows(20);
    lines[15] = "A2@Example.org,Again,Twice".to_owned();
    let csv = format!("email,first_name,last_name\n{}\n", lines.join("\n"));
    let test = Test::new().file("bulletin.md", bulletin("Hello.")).file("subscribers.csv", csv);
    let advice = "subscribers.csv:17: duplicate of line 3 (A2@Example.org): delete line 17";

    let check = test.run(&["check", "bulletin.md", "--subscribers", "subscribers.csv"]).code(0);
    assert!(!check.stdout.contains("error: "), "{}", check.printed());
    let found: Vec<&str> = check.stdout.lines().filter(|l| l.contains("duplicate")).collect();
    assert_eq!(found, [format!("warning: {advice}")], "{}", check.printed());
    check.stdout_has("19 would receive it").stdout_has("0 error(s)");

    test.run(&["send", "bulletin.md", "--subscribers", "subscribers.csv", "--dry-run"])
        .code(0)
        .stdout_has("would send   19")
        .stdout_has(advice);
}
