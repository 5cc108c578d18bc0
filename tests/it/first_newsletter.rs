//! A first newsletter with no one else's name in it: `init` leaves the
//! organisation's settings empty (or fills them from its flags), a real
//! send and `check` name every setting still empty or the worked example's,
//! `new` starts from the last bulletin sent with its whole shape as slots,
//! and `publish` leaves init's welcome sample out.

use std::fs;
use std::path::Path;

use bulletin::content::{Block, Bulletin, Inline, markdown::plain_text};

use crate::send_util::{SinkServer, require_smtp_sink};
use crate::util::{SAMPLE_BULLETIN, Test};

/// A supporter's address on a domain that is someone's (the relay is a
/// sink on 127.0.0.1: nothing leaves the machine).
const SUPPORTER: &str = "grace@stmarys-foodbank.org.uk";

/// The flags of an `init` that answers every question.
const ANSWERS: [&str; 8] = [
    "--org-name",
    "St Mary's Food Bank",
    "--org-address",
    "4 Church Lane, Leeds LS1 4AB, United Kingdom",
    "--from-email",
    "news@stmarys-foodbank.org.uk",
    "--website",
    "https://stmarys-foodbank.org.uk",
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `test` sending to the sink, with no login and no TLS (this machine only).
fn to_sink(test: Test, sink: &SinkServer) -> Test {
    test.env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_PORT", &sink.port().to_string())
        .env("SMTP_SECURITY", "none")
        .env("SMTP_TIMEOUT", "10s")
}

/// The settings each `error: setting KEY ...` line of `check` names.
fn settings_in_errors(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("error: setting "))
        .map(|l| l.split([' ', '=']).next().unwrap().to_owned())
        .collect()
}

#[test]
fn init_without_answers_leaves_the_organisation_empty_and_send_and_check_name_each_setting() {
    require_smtp_sink();
    let sink = SinkServer::start();
    let test = to_sink(Test::new(), &sink);
    test.run(&["init", "--yes"]).code(0).stdout_has("Still empty in .env: ORG_NAME, ORG_ADDRESS");
    let env = fs::read_to_string(test.join(".env")).unwrap();
    for example in ["Hope & Justice", "hope.example.org", "12 Market Street", "Copy this file", "logo.png"] {
        assert!(
            !env.lines().any(|l| !l.starts_with('#') && l.contains(example)),
            "{example:?} is set in .env:\n{env}"
        );
    }
    assert!(env.contains("\nORG_NAME=\n") && env.contains("\nFROM_EMAIL=\n"), "{env}");
    assert!(!test.join("content/images/logo.png").exists(), "no stock logo: nothing uses it");

    // A real send: refused, naming each required setting left empty.
    fs::write(test.join("subscribers/subscribers.csv"), format!("email,first_name\n{SUPPORTER},Grace\n"))
        .unwrap();
    let send = ["send", "content/welcome.md", "--allow-draft", "--yes"];
    let run = test.run(&send).code(2);
    let errors = run.error_lines();
    assert_eq!(errors.len(), 1, "one message\n{}", run.printed());
    for named in ["ORG_NAME (empty)", "ORG_ADDRESS (empty)", "FROM_EMAIL (empty)"] {
        assert!(errors[0].contains(named), "{named}\n{}", run.printed());
    }
    assert_eq!(sink.messages().len(), 0, "nothing received");
    // check: the same, as errors.
    let run = test.run(&["check", "content/welcome.md"]).code(1);
    assert_eq!(
        settings_in_errors(&run.stdout),
        ["ORG_NAME", "ORG_ADDRESS", "FROM_EMAIL"],
        "{}",
        run.printed()
    );

    // The worked example copied in whole (as the old quick start had it),
    // with its logo: every setting of it is named, in one message.
    let example = fs::read_to_string(repo().join(".env.example")).unwrap();
    fs::write(test.join(".env"), example.replace("UNSUBSCRIBE_SECRET=\n", "UNSUBSCRIBE_SECRET=k3y\n"))
        .unwrap();
    fs::create_dir_all(test.join("content/images")).unwrap();
    fs::copy(repo().join("content/images/logo.png"), test.join("content/images/logo.png")).unwrap();
    let run = test.run(&send).code(2);
    let errors = run.error_lines();
    assert_eq!(errors.len(), 1, "one message\n{}", run.printed());
    let expected = [
        "FROM_EMAIL",
        "FROM_NAME",
        "REPLY_TO",
        "BOUNCE_ADDRESS",
        "ORG_NAME",
        "ORG_ADDRESS",
        "ORG_WEBSITE",
        "LIST_NAME",
        "LIST_ID",
        "SUBSCRIPTION_REASON",
        "UNSUBSCRIBE_MAILTO",
        "UNSUBSCRIBE_URL",
        "LOGO",
        "LOGO_ALT",
        "SMTP_USERNAME",
        "DONATE_URL",
        "PREFERENCES_URL",
        "CONSENT_TEXT",
        "ALLOWED_ORIGINS",
    ];
    for key in expected {
        assert!(errors[0].contains(&format!(" {key} (")), "{key} is not named\n{}", run.printed());
    }
    assert!(errors[0].contains("LOGO (the sample's logo)"), "{}", run.printed());
    assert_eq!(sink.messages().len(), 0, "nothing received");
    let run = test.run(&["check", "content/welcome.md"]).code(1);
    let mut named = settings_in_errors(&run.stdout);
    named.sort();
    let mut expected = expected.to_vec();
    expected.sort();
    assert_eq!(named, expected, "{}", run.printed());

    // A dry run still goes, warning.
    test.run(&["send", "content/welcome.md", "--dry-run", "--out", "out"])
        .code(0)
        .stderr_has("still the example's");
}

#[test]
fn init_with_every_answer_given_as_flags_checks_without_an_example_error() {
    let test = Test::new();
    let mut args = vec!["init"];
    args.extend(ANSWERS);
    test.run(&args).code(0);
    let env = fs::read_to_string(test.join(".env")).unwrap();
    assert!(env.contains("\nORG_NAME=\"St Mary's Food Bank\"\n"), "{env}");
    assert!(env.contains("\nORG_WEBSITE=\"https://stmarys-foodbank.org.uk\"\n"), "{env}");
    let welcome = fs::read_to_string(test.join("content/welcome.md")).unwrap();
    assert!(welcome.contains("(https://stmarys-foodbank.org.uk){.button}"), "{welcome}");
    let run = test.run(&["check", "content/welcome.md"]).code(0);
    assert!(!run.stdout.contains("error: "), "{}", run.printed());
    assert!(!run.stdout.contains("example's"), "{}", run.printed());

    // A wrong answer is refused, naming its flag, and nothing is written.
    let other = Test::new();
    other.run(&["init", "--website", "http://stmarys-foodbank.org.uk"]).code(2).stderr_has("--website");
    assert!(!other.join(".env").exists());
}

/// A bulletin's shape: each top-level block's kind (headings with their
/// text), in order.
fn shape(bulletin: &Bulletin) -> Vec<String> {
    bulletin
        .blocks
        .iter()
        .map(|block| match block {
            Block::Heading { level, content } => format!("h{level} {}", plain_text(content)),
            Block::Paragraph { content, .. } => match content.as_slice() {
                [Inline::Image { url, .. }] => format!("image {url}"),
                _ if content.iter().any(|i| matches!(i, Inline::Field(_))) => "greeting".to_owned(),
                _ => "paragraph".to_owned(),
            },
            Block::List { items, .. } => format!("list of {}", if items.is_empty() { 0 } else { 1 }),
            Block::Quote { attribution, .. } => format!("verse, reference: {}", attribution.is_some()),
            Block::Button { url, .. } => format!("button {url}"),
            Block::Code(_) => "code".to_owned(),
            Block::Rule => "rule".to_owned(),
        })
        .collect()
}

fn parse(path: &Path) -> (Bulletin, String) {
    let text = fs::read_to_string(path).unwrap();
    (Bulletin::parse(path, &text).unwrap_or_else(|e| panic!("{e}\n{text}")), text)
}

#[test]
fn new_after_a_real_send_starts_from_the_bulletin_sent_with_its_whole_shape_as_slots() {
    require_smtp_sink();
    let sink = SinkServer::start();
    let test = to_sink(Test::new(), &sink);
    let mut args = vec!["init"];
    args.extend(ANSWERS);
    test.run(&args).code(0);
    let sent = "content/2025-10-16-prayer.md";
    let test = test
        .file(sent, fs::read(repo().join(SAMPLE_BULLETIN)).unwrap())
        .file("content/images/dawn.jpg", fs::read(repo().join("content/images/dawn.jpg")).unwrap())
        .file("subscribers/subscribers.csv", format!("email,first_name\n{SUPPORTER},Grace\n"));
    test.run(&["send", sent, "--yes"]).code(0);
    assert_eq!(sink.messages().len(), 1);
    // Newer, but never sent: the journal's last bulletin wins.
    let test = test.file(
        "content/2025-10-20-unsent.md",
        "+++\nsubject = \"Unsent\"\npreheader = \"x\"\ndate = 2025-10-20\n+++\n\n## Elsewhere\n\n- never sent\n",
    );

    test.run(&["new", "--date", "2025-10-23"]).code(0);
    let made = test.join("content/2025-10-23-ijm-prayer-requests.md");
    let (new, text) = parse(&made);
    let (old, _) = parse(&test.join(sent));
    pretty_assertions::assert_eq!(shape(&new), shape(&old), "\n{text}");
    assert!(shape(&new).contains(&"verse, reference: true".to_owned()), "{text}");
    assert!(
        text.contains("Dear {{ first_name | default(\"prayer partner\") }}"),
        "the greeting is kept\n{text}"
    );
    for last_week in ["Psalm 12", "Kenya", "Dominican", "IJM has partner offices", "Dawn breaking"] {
        assert!(!text.contains(last_week), "{last_week:?} is last week's\n{text}");
    }
    assert!(
        text.contains("\n- TODO: an item\n\n## Latin America"),
        "the item before the first heading\n{text}"
    );
    assert!(text.contains("## IJM HQ & Global Partners\n\nTODO: this section's introduction\n"), "{text}");
    assert!(
        text.contains("[TODO: the button's words](https://hope.example.org/pray){.button}"),
        "the button keeps its link, its words to write\n{text}"
    );
    assert_eq!(
        plain_text_of(&new.preheader),
        "This week: Latin America, South Asia, Southeast Asia and IJM HQ & Global Partners."
    );
    assert_eq!(new.date.to_string(), "2025-10-23");
    assert_ne!(new.campaign, old.campaign);

    // Until every slot is filled, check says where each one is.
    let run = test.run(&["check", "content/2025-10-23-ijm-prayer-requests.md"]).code(1);
    let slots: Vec<&str> =
        run.stdout.lines().filter(|l| l.contains("is a slot `bulletin new` left")).collect();
    assert_eq!(slots.len(), text.matches("TODO:").count(), "{}", run.printed());
    assert!(slots[0].starts_with("error: content/2025-10-23-ijm-prayer-requests.md:"), "{}", slots[0]);
    // And a send refuses it, naming them, sending nothing.
    let run = test.run(&["send", "content/2025-10-23-ijm-prayer-requests.md", "--yes"]).code(2);
    assert!(run.stderr.contains("slot(s) to fill in"), "{}", run.printed());
    assert_eq!(
        run.stderr.lines().filter(|l| l.contains("is a slot `bulletin new` left")).count(),
        slots.len(),
        "{}",
        run.printed()
    );
    assert_eq!(sink.messages().len(), 1, "nothing more sent");
}

fn plain_text_of(template: &bulletin::merge::Template) -> String {
    template
        .0
        .iter()
        .map(|s| match s {
            bulletin::merge::Segment::Literal(l) => l.clone(),
            bulletin::merge::Segment::Field(f) => format!("{{{{ {} }}}}", f.name),
        })
        .collect()
}

#[test]
fn new_never_starts_from_the_welcome_sample() {
    let test = Test::new();
    test.run(&["init", "--yes"]).code(0);
    test.run(&["new", "First issue", "--date", "2026-01-08"]).code(0);
    let text = fs::read_to_string(test.join("content/2026-01-08-first-issue.md")).unwrap();
    assert!(!text.contains("Each week") && !text.contains("Galatians"), "{text}");
}

#[test]
fn publish_after_init_leaves_the_welcome_sample_out() {
    let test = Test::new();
    test.run(&["init", "--yes"]).code(0);
    let run = test.run(&["publish", "--base-url", "https://news.stmarys-foodbank.org.uk/"]);
    let site = test.join("site");
    let mut found = Vec::new();
    if site.exists() {
        for entry in walk(&site) {
            let text = fs::read_to_string(&entry).unwrap_or_default();
            // Its subject, its verse, and the example.org button it had.
            if ["Welcome to our weekly bulletin", "Galatians", "href=\"https://example.org\""]
                .iter()
                .any(|sample| text.contains(sample))
            {
                found.push(entry.display().to_string());
            }
        }
    }
    assert!(found.is_empty(), "the sample is published: {found:?}\n{}", run.printed());
    assert!(!site.join("welcome").exists(), "{}", run.printed());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

#[test]
fn a_login_name_without_a_password_says_to_leave_it_empty_if_the_relay_needs_none() {
    let test = Test::new();
    let mut args = vec!["init"];
    args.extend(ANSWERS);
    test.run(&args).code(0);
    let test = test
        .env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_PORT", "9")
        .env("SMTP_SECURITY", "none")
        .env("SMTP_USERNAME", "news");
    let run = test.run(&["send", "content/welcome.md", "--allow-draft", "--yes"]).code(2);
    assert!(
        run.error_lines().iter().any(|l| l.contains("SMTP_PASSWORD is not set")
            && l.contains("leave SMTP_USERNAME empty if your relay needs no login")),
        "{}",
        run.printed()
    );
}
