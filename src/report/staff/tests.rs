use super::*;
use crate::config::{Settings, Source};
use crate::domain::{EmailAddress, ReplyCode};
use crate::render::Personalised;

fn settings() -> Settings {
    Settings::from_source(&Source::from_pairs([
        ("ORG_NAME", "Hope Trust"),
        ("ORG_ADDRESS", "2 High Street, Hopeton"),
        ("LIST_NAME", "Weekly prayer"),
        ("BRAND_COLOR", "#8a1538"),
    ]))
    .unwrap()
}

fn run(failures: usize, stopped: Option<&str>) -> Run {
    Run {
        subject: "Pray for <Hopeton>".to_owned(),
        campaign: "2026-12-07-pray".to_owned(),
        bulletin: PathBuf::from("content/pray.md"),
        started: Timestamp::from_unix(1_796_630_400),
        finished: Timestamp::from_unix(1_796_630_460),
        count: Count { sent: 12, failed: failures as u64, held_back: 0, of: 12 + failures as u64 + 3 },
        pending: 3,
        skipped: vec!["1 suppressed, 1 invalid".to_owned(), "2 already sent".to_owned()],
        failures: (0..failures)
            .map(|i| Failure {
                address: format!("gone{i}@example.org"),
                reply: Reply::coded(
                    ReplyCode::new(550),
                    format!("550 5.1.1 <gone{i}@example.org>: User unknown"),
                ),
            })
            .collect(),
        stopped: stopped.map(str::to_owned),
    }
}

fn since() -> Since {
    Since {
        last: Some(Timestamp::from_unix(1_796_000_000)),
        changes: Changes { signups: 4, unsubscribes: 2, hard_bounces: 1, soft_bounces: 3, complaints: 1 },
    }
}

fn rendered(run: &Run, since: &Since) -> Personalised {
    notice(run, since, "Weekly prayer").render(
        &settings(),
        None,
        &EmailAddress::parse("office@example.org").unwrap(),
    )
}

#[test]
fn a_report_says_the_counts_the_failures_in_the_relays_words_and_the_lists_changes_in_both_parts() {
    let made = rendered(&run(2, None), &since());
    assert_eq!(made.subject, "Sent: Pray for <Hopeton> (12 sent, 2 failed of 17)");
    for line in [
        "* Sent: 12",
        "* Failed: 2",
        "* Skipped: 1 suppressed, 1 invalid, 2 already sent",
        "* Still pending: 3",
        "* gone1@example.org: 550 5.1.1 <gone1@example.org>: User unknown",
        "* New sign-ups (confirmed): 4",
        "* Unsubscribes: 2",
        "* Bounces: 1 hard, 3 soft",
        "* Complaints: 1",
    ] {
        assert!(made.text.lines().any(|l| l == line), "{line:?} in\n{}", made.text);
    }
    assert!(made.text.contains("since the last report (2026-11-30T00:53:20Z)"), "{}", made.text);
    assert!(made.text.contains("*bulletin status content/pray.md*"), "{}", made.text);
    let html = &made.html;
    assert!(html.contains("Failed: 2</li>") && html.contains("Pray for &lt;Hopeton&gt;"), "{html}");
    assert!(html.contains("gone0@example.org: 550 5.1.1 &lt;gone0@example.org&gt;: User unknown"), "{html}");
    assert!(
        html.contains("color:#8a1538") && html.contains("2 High Street, Hopeton"),
        "the bulletin's look: {html}"
    );
    assert!(!made.text.contains("stopped"), "{}", made.text);
}

#[test]
fn a_report_lists_at_most_fifty_failures_and_counts_the_rest() {
    let made = rendered(&run(FAILURES_SHOWN + 7, None), &since());
    assert!(made.text.contains("gone49@example.org"), "{}", made.text);
    assert!(!made.text.contains("gone50@example.org"), "{}", made.text);
    assert!(made.text.lines().any(|l| l == "* and 7 more"), "{}", made.text);
}

#[test]
fn a_send_that_stopped_early_gets_the_alert_saying_why_and_the_first_report_counts_the_whole_ledger() {
    let why = "today's allowance of 2 messages (--rate 2/day) is sent: 2 sent, 3 pending; run the same command \
               again after 2026-12-08T10:00:00Z";
    let first = Since { last: None, ..since() };
    let made = rendered(&run(0, Some(why)), &first);
    assert!(made.subject.starts_with("Stopped: Pray for <Hopeton>"), "{}", made.subject);
    let text = made.text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("The send stopped early"), "{text}");
    assert!(text.contains(&format!("*Why it stopped:* {why}")), "{text}");
    assert!(text.contains("in the whole suppression list (this is the first report)"), "{text}");
    assert!(!text.contains("Failed, with"), "no failures, no list: {text}");
}
