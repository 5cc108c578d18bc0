//! Bounded work for bounded input: a bulletin nested deeper than an email
//! can show (thousands of `>` or `- ` on one line) is refused with its line
//! by every command that reads it, instead of overflowing the stack or
//! growing memory with the square of its size. The real binary, end to end;
//! the live preview over real HTTP on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::util::{Run, Test, bulletin};

const DEEP: &str = "content/deep.md";

/// A bulletin whose line 9 opens `levels` of `marker`.
fn deep(marker: &str, levels: usize) -> Test {
    let body = format!("Intro.\n\n{} deep\n", marker.repeat(levels));
    Test::with_sample().file(DEEP, bulletin(&body))
}

#[track_caller]
fn assert_refused_at_line_9(run: &Run) {
    assert!(
        run.printed().contains(&format!("{DEEP}:9:")) && run.printed().contains("nest more than 32 deep"),
        "names the file, the line and why\n{}",
        run.printed()
    );
}

#[test]
fn twenty_thousand_nested_quotes_stop_the_dry_run_before_any_message_naming_their_line() {
    let test = deep(">", 20_000);
    let run = test.run(&["send", DEEP, "--dry-run", "--out", "out"]).code(2);
    assert_refused_at_line_9(&run);
    assert!(!test.join("out").exists() || test.emls("out").is_empty(), "no message made");
}

#[test]
fn a_hundred_thousand_nested_list_items_are_an_error_for_check_and_preview() {
    let test = deep("- ", 100_000);
    assert_refused_at_line_9(&test.run(&["check", DEEP]).code(1));
    assert_refused_at_line_9(&test.run(&["preview", DEEP]).code(2));
}

#[test]
fn thirty_two_levels_are_still_shown() {
    let test = deep("> ", 32);
    test.run(&["send", DEEP, "--dry-run", "--out", "out"]).code(0);
    let emls = test.emls("out");
    assert!(emls[0].text().contains("deep"), "{}", emls[0].text());
}

/// `bulletin preview DEEP --serve --port 0`, killed when dropped.
struct LivePreview {
    child: Child,
    url: String,
}

impl LivePreview {
    fn start(test: &Test) -> Self {
        let mut child = test
            .std_command(&["preview", DEEP, "--serve", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start the live preview");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Read to the end: a closed pipe would end the server.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("the live preview says where it listens");
        let url = line.rsplit(' ').next().expect("an address").to_owned();
        Self { child, url }
    }
}

impl Drop for LivePreview {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_live_preview_of_three_thousand_nested_quotes_shows_the_error_and_keeps_serving() {
    let test = deep(">", 3_000);
    let mut preview = LivePreview::start(&test);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent();
    let page = agent.get(&preview.url).call().expect("the live preview answers").into_body().read_to_string();
    assert!(page.unwrap().contains("nest more than 32 deep"), "the page shows the error");
    assert!(preview.child.try_wait().unwrap().is_none(), "still serving");
}
