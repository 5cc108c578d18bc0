//! End-to-end tests of the `bulletin` binary: each runs the real program in
//! a temporary folder with explicit settings and reads what it wrote back
//! with an independent MIME parser (mail-parser) and HTML parser (scraper).

use std::collections::BTreeSet;

use pretty_assertions::assert_eq;
use unicode_width::UnicodeWidthStr;

use crate::util::{
    self, Eml, SAMPLE_BULLETIN, SAMPLE_IMAGES, SAMPLE_RECIPIENTS, SAMPLE_SUBJECT, SAMPLE_SUBSCRIBERS, Test,
    bulletin, bulletin_with, collapse, visible_text,
};

const SECRET: &str = "some-long-secret-value";

/// A dry run of the sample into `out/`, checked to succeed.
fn sample_dry_run(test: &Test) -> Vec<Eml> {
    test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(0);
    test.emls("out")
}

/// The sample's message for `address`.
fn message_for<'a>(emls: &'a [Eml], address: &str) -> &'a Eml {
    emls.iter().find(|e| e.to_address() == address).unwrap_or_else(|| panic!("no message to {address}"))
}

/// A test folder whose settings are all set, so no placeholder is used.
fn with_settings(test: Test) -> Test {
    test.env("FROM_EMAIL", "news@hope.example.net")
        .env("ORG_NAME", "Hope Trust")
        .env("ORG_ADDRESS", "2 High Street, Hopeton, HO1 2PE")
}

// ---------------------------------------------------------------- dry run

#[test]
fn dry_run_of_the_sample_writes_one_eml_per_subscribed_recipient() {
    let test = Test::with_sample();
    let emls = sample_dry_run(&test);

    let to: Vec<String> = emls.iter().map(Eml::to_address).collect();
    assert_eq!(to, SAMPLE_RECIPIENTS, "one message per recipient, in list order");

    let names = test.file_names("out");
    let eml_names: Vec<&String> = names.iter().filter(|n| n.ends_with(".eml")).collect();
    assert_eq!(eml_names.len(), 15, "{names:?}");
    for (i, name) in eml_names.iter().enumerate() {
        assert!(name.starts_with(&format!("{:05}-", i + 1)), "{name} is numbered {}", i + 1);
        let html = name.replace(".eml", ".html");
        assert!(names.contains(&html), "{name} has no {html} beside it");
    }
    assert!(names.contains(&"index.html".to_owned()), "{names:?}");
    assert_eq!(
        names.iter().filter(|n| n.ends_with(".html")).count(),
        16,
        "15 messages and the index: {names:?}"
    );

    for skipped in ["zoe.angstrom", "david.mensah", "john.smith", "noah.brown", "chioma.eze", "ruth", "cohen"]
    {
        assert!(!names.iter().any(|n| n.to_lowercase().contains(skipped)), "{skipped} got a file: {names:?}");
    }
    let grace = to.iter().filter(|a| a.eq_ignore_ascii_case("grace.okafor@example.org")).count();
    assert_eq!(grace, 1, "the duplicate Grace.Okafor@Example.org row is mailed once");
}

#[test]
fn dry_run_of_the_sample_reports_each_problem_row_with_its_line() {
    let test = Test::with_sample();
    let run = test.run(&["send", SAMPLE_BULLETIN, "--dry-run"]).code(0);
    let problems: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with(SAMPLE_SUBSCRIBERS)).collect();
    assert_eq!(
        problems,
        [
            "subscribers/subscribers.csv:12: no email address",
            "subscribers/subscribers.csv:16: invalid email address \"chioma.eze(at)example.com\": no `@`",
            "subscribers/subscribers.csv:18: duplicate of line 4 (Grace.Okafor@Example.org): delete line 18",
        ]
    );
    let run = run.stdout_has("would send   15").stdout_has("skipped      7");
    assert!(
        run.stdout.contains("3 unsubscribed, 1 suppressed, 2 invalid, 1 duplicate"),
        "skip reasons counted\n{}",
        run.printed()
    );
    assert!(test.file_names("out").is_empty(), "without --out nothing is written");
}

#[test]
fn a_dry_run_made_on_every_core_keeps_list_order_and_the_problem_lines_across_batches() {
    // More rows than one batch of the parallel dry run (256), with
    // problems in the second and third.
    let mut csv = String::from("email,first_name\n");
    let mut expected = Vec::new();
    for i in 1..=700 {
        match i {
            300 => csv.push_str("not-an-address,Nobody\n"),
            600 => csv.push_str("reader00001@example.org,Again\n"),
            _ => {
                csv.push_str(&format!("reader{i:05}@example.org,Reader{i}\n"));
                expected.push(format!("reader{i:05}@example.org"));
            }
        }
    }
    let test = Test::with_sample().file("list.csv", csv);
    let run = test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--dry-run", "--out", "out"]);
    let run = run.code(0).stdout_has("would send   698");
    let problems: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("list.csv:")).collect();
    assert_eq!(
        problems,
        [
            "list.csv:301: invalid email address \"not-an-address\": no `@`",
            "list.csv:601: duplicate of line 2 (reader00001@example.org): delete line 601",
        ]
    );
    let emls = test.emls("out");
    let to: Vec<String> = emls.iter().map(Eml::to_address).collect();
    assert_eq!(to, expected, "numbered in list order");
    for (i, eml) in emls.iter().enumerate() {
        assert!(eml.name.starts_with(&format!("{:05}-{}", i + 1, expected[i])), "{}", eml.name);
    }
}

#[test]
fn every_message_is_multipart_alternative_with_utf8_text_then_html() {
    let test = Test::with_sample();
    for eml in sample_dry_run(&test) {
        let message = eml.parse();
        let root = message.root_part();
        let content_type = mail_parser::MimeHeaders::content_type(root).expect("root has a Content-Type");
        assert_eq!(
            (content_type.ctype(), content_type.subtype()),
            ("multipart", Some("alternative")),
            "{}",
            eml.name
        );

        let mail_parser::PartType::Multipart(children) = &root.body else {
            panic!("{}: root is not multipart", eml.name)
        };
        let types: Vec<(String, String, String)> = children
            .iter()
            .map(|&id| {
                let part = message.part(id).expect("child part exists");
                let ct = mail_parser::MimeHeaders::content_type(part).expect("part has a Content-Type");
                (
                    ct.ctype().to_owned(),
                    ct.subtype().unwrap_or_default().to_owned(),
                    ct.attribute("charset").unwrap_or_default().to_ascii_lowercase(),
                )
            })
            .collect();
        // The HTML comes with the sample's photo, in a multipart/related.
        let expected = [("text", "plain", "utf-8"), ("multipart", "related", "")]
            .map(|(a, b, c)| (a.into(), b.into(), c.into()));
        assert_eq!(types, expected, "{}: plain text first, HTML last", eml.name);
        let related = message.part(children[1]).expect("the related part exists");
        let mail_parser::PartType::Multipart(inside) = &related.body else { panic!("{}", eml.name) };
        let html = message.part(inside[0]).expect("the HTML part exists");
        let ct = mail_parser::MimeHeaders::content_type(html).expect("the HTML has a Content-Type");
        assert_eq!(
            (ct.ctype(), ct.subtype(), ct.attribute("charset").map(str::to_ascii_lowercase)),
            ("text", Some("html"), Some("utf-8".to_owned())),
            "{}: the HTML first in the related part",
            eml.name
        );
        assert!(!eml.text().is_empty() && !eml.html().is_empty(), "{}", eml.name);
    }
}

#[test]
fn every_message_has_the_headers_a_list_message_needs() {
    let test = Test::with_sample();
    for eml in sample_dry_run(&test) {
        let message = eml.parse();

        let from = message.from().and_then(|f| f.first()).expect("From");
        assert_eq!(from.name(), Some("Example Charity"), "{}", eml.name);
        assert_eq!(from.address(), Some("newsletter@example.org"), "{}", eml.name);

        assert!(message.date().is_some(), "{}: Date", eml.name);

        let id = message.message_id().unwrap_or_else(|| panic!("{}: no Message-ID", eml.name));
        assert!(id.starts_with("2025-10-16-ijm-prayer-requests."), "{}: {id}", eml.name);
        assert!(id.ends_with("@example.org"), "{}: Message-ID {id} is on the sender's domain", eml.name);

        assert_eq!(
            eml.header("List-Id").as_deref(),
            Some("Example Charity bulletin <bulletin.example.org>"),
            "{}",
            eml.name
        );
        assert_eq!(
            eml.header("List-Unsubscribe").as_deref(),
            Some("<mailto:unsubscribe@example.org?subject=unsubscribe>"),
            "{}",
            eml.name
        );
        assert_eq!(
            eml.header("List-Unsubscribe-Post"),
            None,
            "{}: no one-click without an https URL",
            eml.name
        );
        assert_eq!(eml.header("Reply-To"), None, "{}: no Reply-To unless REPLY_TO is set", eml.name);
        assert_eq!(eml.header("MIME-Version").as_deref(), Some("1.0"), "{}", eml.name);
        assert!(message.bcc().is_none() && message.cc().is_none(), "{}", eml.name);
    }
}

#[test]
fn the_subject_is_rfc_2047_encoded_and_decodes_to_the_bulletin_subject() {
    let test = Test::with_sample();
    for eml in sample_dry_run(&test) {
        assert_eq!(eml.parse().subject(), Some(SAMPLE_SUBJECT), "{}", eml.name);
        let raw = eml.header("Subject").expect("Subject");
        assert!(raw.is_ascii(), "{}: raw Subject is not ASCII: {raw:?}", eml.name);
        assert!(raw.contains("=?utf-8?"), "{}: raw Subject has no encoded word: {raw:?}", eml.name);
    }
}

#[test]
fn the_recipient_name_is_in_the_to_header_and_the_greeting() {
    let test = Test::with_sample();
    let emls = sample_dry_run(&test);
    let jose = message_for(&emls, "jose.nunez@example.com");
    let message = jose.parse();
    assert_eq!(message.to().and_then(|t| t.first()).and_then(|t| t.name()), Some("José Núñez"));
    let raw_to = jose.header("To").unwrap();
    assert!(raw_to.is_ascii(), "the name is encoded: {raw_to:?}");

    assert!(jose.text().contains("Dear José, thank you for praying with us this week."), "{}", jose.text());
    assert!(
        visible_text(&jose.html()).contains("Dear José, thank you for praying with us this week."),
        "{}",
        jose.html()
    );
}

#[test]
fn a_subscriber_without_a_first_name_is_greeted_by_the_default() {
    let test = Test::with_sample();
    let emls = sample_dry_run(&test);
    let sam = message_for(&emls, "sam.taylor@example.org");
    assert_eq!(
        sam.parse().to().and_then(|t| t.first()).and_then(|t| t.name()),
        None,
        "no name, just the address"
    );
    assert!(sam.text().contains("Dear prayer partner, thank you"), "{}", sam.text());
    assert!(visible_text(&sam.html()).contains("Dear prayer partner, thank you"), "{}", sam.html());
}

#[test]
fn with_an_unsubscribe_url_and_secret_list_unsubscribe_offers_one_click_and_mailto() {
    let test = Test::with_sample()
        .env("UNSUBSCRIBE_URL", "https://example.org/unsubscribe")
        .env("UNSUBSCRIBE_SECRET", SECRET);
    let emls = sample_dry_run(&test);
    let mut tokens = BTreeSet::new();
    for eml in &emls {
        let header = eml.header("List-Unsubscribe").expect("List-Unsubscribe");
        let entries: Vec<&str> = header.split(',').map(str::trim).collect();
        assert_eq!(entries.len(), 2, "{}: {header}", eml.name);
        let https =
            entries[0].strip_prefix("<https://example.org/unsubscribe?t=").and_then(|t| t.strip_suffix('>'));
        let token =
            https.unwrap_or_else(|| panic!("{}: first entry is the signed https URL: {header}", eml.name));
        assert!(!token.is_empty(), "{}: {header}", eml.name);
        tokens.insert(token.to_owned());
        assert_eq!(entries[1], "<mailto:unsubscribe@example.org?subject=unsubscribe>", "{}", eml.name);
        assert_eq!(
            eml.header("List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click"),
            "{}",
            eml.name
        );

        let html = scraper::Html::parse_document(&eml.html());
        let link =
            scraper::Selector::parse(&format!(r#"a[href="https://example.org/unsubscribe?t={token}"]"#))
                .unwrap();
        assert!(html.select(&link).next().is_some(), "{}: the HTML footer links to the same URL", eml.name);
        assert!(eml.text().contains(&format!("https://example.org/unsubscribe?t={token}")), "{}", eml.name);
    }
    assert_eq!(tokens.len(), emls.len(), "every recipient has their own token");
}

#[test]
fn without_an_unsubscribe_url_there_is_no_one_click_header() {
    let test = Test::with_sample().env("UNSUBSCRIBE_SECRET", SECRET);
    for eml in sample_dry_run(&test) {
        assert_eq!(eml.header("List-Unsubscribe-Post"), None, "{}", eml.name);
        let header = eml.header("List-Unsubscribe").expect("List-Unsubscribe");
        assert!(header.contains("mailto:") && !header.contains("https:"), "{}: {header}", eml.name);
    }
}

#[test]
fn every_message_is_well_formed_on_the_wire() {
    let test = Test::with_sample();
    for eml in sample_dry_run(&test) {
        let bare_lf = eml
            .raw
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\n' && (i == 0 || eml.raw[i - 1] != b'\r'))
            .count();
        assert_eq!(bare_lf, 0, "{}: every line ends in CRLF", eml.name);
        let longest = eml.raw.split(|&b| b == b'\n').map(<[u8]>::len).max().unwrap();
        assert!(longest <= 1000, "{}: a line of {longest} bytes (RFC 5322 allows 998)", eml.name);
        for (name, value) in eml.header_fields() {
            let is_to = name.eq_ignore_ascii_case("to");
            // An address with a non-ASCII local part (peter.müller) can only
            // be written as UTF-8; everything else in the headers is ASCII.
            let checked =
                if is_to { value.split('<').next().unwrap_or_default().to_owned() } else { value.clone() };
            assert!(checked.is_ascii(), "{}: header {name} is not ASCII: {value:?}", eml.name);
        }
    }
}

#[test]
fn the_html_file_beside_each_eml_is_its_html_part() {
    let test = Test::with_sample();
    for eml in sample_dry_run(&test) {
        let html_file =
            std::fs::read_to_string(test.join("out").join(eml.name.replace(".eml", ".html"))).unwrap();
        // The same but for the photo, which the file finds beside it instead of by cid:.
        let as_sent = html_file.replace("src=\"image1.jpg\"", "src=\"cid:image1.jpg@bulletin\"");
        assert!(as_sent == eml.html(), "{}: the .html file differs from the message's HTML part", eml.name);
    }
}

#[test]
fn the_index_lists_every_message() {
    let test = Test::with_sample();
    sample_dry_run(&test);
    let index = std::fs::read_to_string(test.join("out/index.html")).unwrap();
    let document = scraper::Html::parse_document(&index);
    let rows = scraper::Selector::parse("tbody tr").unwrap();
    let links = scraper::Selector::parse("a").unwrap();
    let mut targets = Vec::new();
    for row in document.select(&rows) {
        for link in row.select(&links) {
            let href = link.value().attr("href").unwrap();
            assert!(test.join("out").join(href).is_file(), "index links to missing {href}");
            targets.push(href.to_owned());
        }
    }
    assert_eq!(document.select(&rows).count(), 15);
    assert_eq!(targets.len(), 30, "an .html and an .eml link per message: {targets:?}");
}

#[test]
fn two_dry_runs_give_the_same_message_ids_and_bytes_apart_from_the_date() {
    let test = Test::with_sample();
    test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "first"]).code(0);
    test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "second"]).code(0);
    let (first, second) = (test.emls("first"), test.emls("second"));
    assert_eq!(first.len(), 15);
    assert_eq!(first.len(), second.len());
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.name, b.name);
        assert_eq!(a.parse().message_id(), b.parse().message_id(), "{}", a.name);
        assert!(a.without_date() == b.without_date(), "{}: the messages differ apart from Date", a.name);
        assert_eq!(a.header_fields().iter().filter(|(n, _)| n == "Date").count(), 1, "{}", a.name);
    }
    let ids: BTreeSet<String> = first.iter().map(|e| e.parse().message_id().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 15, "each recipient's Message-ID is different");

    // The same folder again: a re-run replaces its own output.
    test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "first"]).code(0);
    let again = test.emls("first");
    assert_eq!(again.len(), 15);
    assert!(again.iter().zip(&first).all(|(a, b)| a.without_date() == b.without_date()));
}

// ---------------------------------------------------------------- escaping

#[test]
fn merge_values_are_escaped_in_html_and_shown_literally_in_text() {
    let test = Test::new()
        .file("b.md", bulletin("Dear {{ first_name }}, welcome.\n"))
        .file(
            "list.csv",
            "email,first_name\nx@example.org,<script>alert(1)</script>\neve@example.org,**Eve**\namp@example.org,Tom & \"Jerry\"\n",
        );
    test.run(&["send", "b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
    let emls = test.emls("out");
    assert_eq!(emls.len(), 3);

    let script = message_for(&emls, "x@example.org");
    let html = script.html();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    assert!(!html.to_lowercase().contains("<script"), "{html}");
    assert!(visible_text(&html).contains("Dear <script>alert(1)</script>, welcome."));
    assert!(script.text().contains("Dear <script>alert(1)</script>, welcome."), "{}", script.text());
    assert_eq!(script.parse().subject(), Some("Hello <script>alert(1)</script>"));

    let eve = message_for(&emls, "eve@example.org");
    let html = eve.html();
    assert!(html.contains("Dear **Eve**, welcome."), "{html}");
    assert!(!html.contains("<strong>Eve") && !html.contains("<em>"), "a value is not Markdown: {html}");
    assert!(eve.text().contains("Dear **Eve**, welcome."), "{}", eve.text());

    let amp = message_for(&emls, "amp@example.org");
    assert!(amp.html().contains("Tom &amp; &quot;Jerry&quot;") || amp.html().contains("Tom &amp; \"Jerry\""));
    assert!(amp.text().contains("Dear Tom & \"Jerry\", welcome."), "{}", amp.text());
}

#[test]
fn a_line_break_in_a_name_cannot_inject_a_header() {
    let test = Test::new().file("b.md", bulletin("Dear {{ first_name }}.\n")).file(
        "list.csv",
        "email,first_name,last_name\r\nmal@example.org,\"Mal\r\nBcc: evil@example.com\",\"Lory\nX-Evil: yes\"\r\n",
    );
    test.run(&["send", "b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
    let emls = test.emls("out");
    assert_eq!(emls.len(), 1);
    let eml = &emls[0];
    let message = eml.parse();
    assert!(message.bcc().is_none(), "a Bcc header was injected");
    for (name, _) in eml.header_fields() {
        assert!(
            !name.eq_ignore_ascii_case("bcc") && !name.eq_ignore_ascii_case("x-evil"),
            "injected header {name}"
        );
    }
    let headers = String::from_utf8_lossy(eml.raw_headers()).into_owned();
    assert!(!headers.lines().any(|l| l.starts_with("Bcc:") || l.starts_with("X-Evil:")), "{headers}");
    assert_eq!(message.to().and_then(|t| t.first()).and_then(|a| a.address()), Some("mal@example.org"));
    assert_eq!(message.subject(), Some("Hello Mal Bcc: evil@example.com"));
}

// ---------------------------------------------------------------- settings

#[test]
fn reply_to_is_set_from_the_settings() {
    let test = with_settings(Test::with_sample()).env("REPLY_TO", "replies@hope.example.net");
    for eml in sample_dry_run(&test) {
        let message = eml.parse();
        let reply_to = message.reply_to().and_then(|r| r.first()).expect("Reply-To");
        assert_eq!(reply_to.address(), Some("replies@hope.example.net"), "{}", eml.name);
    }
}

#[test]
fn from_comes_from_the_env_file_in_the_current_folder() {
    let test = Test::with_sample().file(
        ".env",
        "FROM_EMAIL=news@hope.example.net\nFROM_NAME=\"Hope Trust News\"\nORG_NAME=\"Hope Trust\"\nORG_ADDRESS=\"2 High Street\"\n",
    );
    let run = test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(0);
    run.stderr_lacks("placeholder");
    let emls = test.emls("out");
    let message = emls[0].parse();
    let from = message.from().and_then(|f| f.first()).unwrap();
    assert_eq!((from.name(), from.address()), (Some("Hope Trust News"), Some("news@hope.example.net")));
    assert!(message.message_id().unwrap().ends_with("@hope.example.net"), "{:?}", message.message_id());
    assert_eq!(emls[0].header("List-Id").as_deref(), Some("Hope Trust bulletin <bulletin.hope.example.net>"));
    assert!(
        emls[0].text().contains("Hope Trust\n2 High Street\n"),
        "the footer names the organisation: {}",
        emls[0].text()
    );
}

#[test]
fn an_environment_variable_wins_over_the_env_file() {
    let test = Test::with_sample()
        .file(".env", "FROM_EMAIL=news@hope.example.net\nFROM_NAME=\"From The File\"\n")
        .env("FROM_NAME", "From The Environment");
    test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(0);
    let emls = test.emls("out");
    let message = emls[0].parse();
    let from = message.from().and_then(|f| f.first()).unwrap();
    assert_eq!((from.name(), from.address()), (Some("From The Environment"), Some("news@hope.example.net")));
}

#[test]
fn env_file_flag_chooses_the_settings_file() {
    let test = Test::with_sample()
        .file(".env", "FROM_EMAIL=news@default.example.net\n")
        .file("settings/prod.env", "FROM_EMAIL=news@chosen.example.net\n");
    test.run(&["--env-file", "settings/prod.env", "send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"])
        .code(0);
    let emls = test.emls("out");
    assert_eq!(
        emls[0].parse().from().and_then(|f| f.first()).and_then(|f| f.address()),
        Some("news@chosen.example.net")
    );

    // The flag is global: it may come after the subcommand too.
    test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--env-file", "settings/prod.env"]).code(0);
}

#[test]
fn a_missing_env_file_named_by_the_flag_is_an_error() {
    let test = Test::with_sample();
    let run =
        test.run(&["--env-file", "nope.env", "send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(2);
    assert!(run.error_lines().iter().any(|l| l.contains("nope.env")), "{}", run.printed());
    assert!(test.file_names("out").is_empty());
}

#[test]
fn a_bad_setting_stops_the_run_naming_it() {
    let test = Test::with_sample().env("UNSUBSCRIBE_URL", "http://example.org/unsubscribe");
    let run = test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(2);
    assert!(
        run.error_lines().iter().any(|l| l.contains("UNSUBSCRIBE_URL") && l.contains("https")),
        "{}",
        run.printed()
    );
    assert!(test.file_names("out").is_empty());
}

#[test]
fn without_any_settings_a_dry_run_warns_about_example_org_placeholders_and_succeeds() {
    let test = Test::with_sample();
    let run = test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(0);
    let warnings: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert!(
        warnings.iter().any(|w| w.contains("example.org placeholders") && w.contains("FROM_EMAIL")),
        "{}",
        run.printed()
    );
    assert_eq!(test.emls("out").len(), 15);

    let configured = with_settings(Test::with_sample());
    let run = configured.run(&["send", SAMPLE_BULLETIN, "--dry-run"]).code(0);
    assert!(!run.stderr.contains("placeholder"), "no warning once everything is set\n{}", run.printed());
}

// ---------------------------------------------------------------- fatal errors

/// Runs a dry run expected to be refused; returns its error lines.
fn refused(test: &Test, bulletin: &str, list: &str) -> Vec<String> {
    let run = test.run(&["send", bulletin, "--subscribers", list, "--dry-run", "--out", "out"]).code(2);
    let errors: Vec<String> = run.error_lines().into_iter().map(str::to_owned).collect();
    assert!(!errors.is_empty(), "no error: line\n{}", run.printed());
    assert!(!run.stdout.contains("would send"), "{}", run.printed());
    let emls: Vec<String> = test.file_names("out").into_iter().filter(|n| n.ends_with(".eml")).collect();
    assert!(emls.is_empty(), "a refused run wrote {emls:?}");
    errors
}

const LIST: &str = "email,first_name\nana@example.org,Ana\n";

#[test]
fn raw_html_in_the_bulletin_stops_the_run_naming_file_and_line_and_writes_nothing() {
    // Front matter on lines 1-5, a blank line, then the body from line 7.
    let test = Test::new().file("b.md", bulletin("Hello.\n\n<div>raw</div>\n")).file("list.csv", LIST);
    let errors = refused(&test, "b.md", "list.csv");
    assert!(errors.iter().any(|e| e.starts_with("error: b.md:9: ") && e.contains("raw HTML")), "{errors:?}");
}

#[test]
fn a_bulletin_without_front_matter_stops_the_run_at_line_one() {
    let test = Test::new().file("b.md", "# Hello\n\nNo front matter here.\n").file("list.csv", LIST);
    let errors = refused(&test, "b.md", "list.csv");
    assert!(errors.iter().any(|e| e.starts_with("error: b.md:1: ") && e.contains("+++")), "{errors:?}");
}

#[test]
fn an_unknown_merge_field_stops_the_run_naming_its_line() {
    let test =
        Test::new().file("b.md", bulletin("Hello.\n\nDear {{ frist_name }},\n")).file("list.csv", LIST);
    let errors = refused(&test, "b.md", "list.csv");
    assert!(
        errors.iter().any(|e| e.starts_with("error: b.md:9: ")
            && e.contains("frist_name")
            && e.contains("first_name")),
        "names the field, its line and the columns there are: {errors:?}"
    );
}

#[test]
fn a_subscriber_list_without_an_email_column_stops_the_run() {
    let test = Test::new().file("b.md", bulletin("Hello.\n")).file("list.csv", "name,first_name\nAna,Ana\n");
    let errors = refused(&test, "b.md", "list.csv");
    assert!(errors.iter().any(|e| e.contains("list.csv") && e.contains("no `email` column")), "{errors:?}");
}

#[test]
fn a_binary_file_as_subscriber_list_stops_the_run() {
    let elf: Vec<u8> =
        [0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0xff, 0xfe, 0xc3, 0x28, b',', 0, 0x80, b'\n', 0x90, 0x91]
            .into_iter()
            .cycle()
            .take(600)
            .collect();
    let png: Vec<u8> =
        [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R'].to_vec();
    let nul = b"email\0first_name\nana@example.org\0Ana\n".to_vec();
    for (name, bytes) in [("elf.csv", elf), ("png.csv", png), ("nul.csv", nul)] {
        let test = Test::new().file("b.md", bulletin("Hello.\n")).file(name, bytes);
        let errors = refused(&test, "b.md", name);
        assert!(errors.iter().any(|e| e.contains(name)), "{name}: {errors:?}");
    }
}

#[test]
fn an_empty_or_missing_subscriber_list_stops_the_run() {
    let test = Test::new().file("b.md", bulletin("Hello.\n")).file("empty.csv", "");
    let errors = refused(&test, "b.md", "empty.csv");
    assert!(errors.iter().any(|e| e.contains("empty.csv")), "{errors:?}");
    let errors = refused(&test, "b.md", "missing.csv");
    assert!(errors.iter().any(|e| e.contains("missing.csv")), "{errors:?}");
}

#[test]
fn a_real_send_with_placeholder_settings_refuses_and_writes_nothing() {
    let test = Test::with_sample();
    let run = test.run(&["send", SAMPLE_BULLETIN]).code(2);
    assert!(run.error_lines().iter().any(|l| l.contains("example.org placeholders")), "{}", run.printed());
    assert_eq!(test.all_files().len(), 3 + SAMPLE_IMAGES.len(), "nothing but the sample's own files");
}

#[test]
fn out_without_dry_run_is_a_usage_error() {
    let test = Test::with_sample();
    let run = test.run(&["send", SAMPLE_BULLETIN, "--out", "out"]).code(2);
    assert!(run.stderr.contains("--dry-run"), "{}", run.printed());
    assert!(test.file_names("out").is_empty());
}

#[test]
fn an_out_folder_with_someone_elses_files_is_refused() {
    let test = Test::with_sample().file("out/thesis.docx", "precious");
    let run = test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(2);
    assert!(run.error_lines().iter().any(|l| l.contains("not empty")), "{}", run.printed());
    assert_eq!(test.file_names("out"), ["thesis.docx"]);
    assert_eq!(std::fs::read_to_string(test.join("out/thesis.docx")).unwrap(), "precious");
}

// ---------------------------------------------------------------- segments

#[test]
fn a_segment_bulletin_only_mails_subscribers_with_that_tag() {
    let test = Test::with_sample().file(
        "volunteers.md",
        bulletin_with(
            "segment = \"volunteer\"\n",
            "Dear {{ first_name | default(\"friend\") }}, thank you for helping.\n",
        ),
    );
    let run = test.run(&["send", "volunteers.md", "--dry-run", "--out", "out"]).code(0);
    let to: Vec<String> = test.emls("out").iter().map(Eml::to_address).collect();
    assert_eq!(to, ["jose.nunez@example.com", "siobhan@example.org", "maria.garcia@example.com"]);
    run.stdout_has("would send   3").stdout_has("not in the segment");
}

// ---------------------------------------------------------------- preview

#[test]
fn preview_writes_the_first_recipients_message_by_default() {
    let test = Test::with_sample();
    let run = test.run(&["preview", SAMPLE_BULLETIN]).code(0);
    let names = test.file_names("preview");
    let expected: Vec<String> =
        ["eml", "html", "txt"].iter().map(|ext| format!("00001-ana.silva@example.org.{ext}")).collect();
    assert!(expected.iter().all(|n| names.contains(n)), "{names:?}");
    for name in &expected {
        assert!(
            run.stdout.contains(&format!("preview/{name}")),
            "the path of {name} is printed\n{}",
            run.printed()
        );
    }
    let eml = util::emls_in(&test.join("preview"));
    assert_eq!(eml.len(), 1);
    assert_eq!(eml[0].to_address(), "ana.silva@example.org");
    let txt = std::fs::read_to_string(test.join("preview").join(&expected[2])).unwrap();
    assert_eq!(txt, eml[0].text(), "the .txt file is the message's plaintext part");
}

#[test]
fn preview_of_a_named_subscriber_writes_three_files_named_after_them() {
    let test = Test::with_sample();
    let run = test
        .run(&["preview", SAMPLE_BULLETIN, "--subscriber", "jose.nunez@example.com", "--out", "p"])
        .code(0);
    let names = test.file_names("p");
    // And the sample's photo beside them, for the .html file to show.
    let files: Vec<&String> = names.iter().filter(|n| !n.starts_with('.') && *n != "image1.jpg").collect();
    assert_eq!(files.len(), 3, "{names:?}");
    assert!(names.contains(&"image1.jpg".to_owned()), "{names:?}");
    assert!(files.iter().all(|n| n.contains("jose.nunez@example.com")), "{names:?}");
    run.stdout_has("jose.nunez@example.com");
    let eml = &util::emls_in(&test.join("p"))[0];
    assert_eq!(eml.parse().to().and_then(|t| t.first()).and_then(|t| t.name()), Some("José Núñez"));
    assert_eq!(eml.parse().subject(), Some(SAMPLE_SUBJECT));

    // The address is matched whatever its case.
    test.run(&["preview", SAMPLE_BULLETIN, "--subscriber", "Jose.Nunez@Example.COM", "--out", "p"]).code(0);
}

#[test]
fn preview_of_an_unsubscribed_or_suppressed_address_says_why_and_fails() {
    let test = Test::with_sample();
    for (address, line, why) in [
        ("zoe.angstrom@example.org", 6, "unsubscribed"),
        ("noah.brown@example.org", 22, "on the suppression list"),
        ("chioma.eze(at)example.com", 16, "invalid email address"),
    ] {
        let run = test.run(&["preview", SAMPLE_BULLETIN, "--subscriber", address, "--out", "p"]).code(2);
        let expected =
            format!("{SAMPLE_SUBSCRIBERS}:{line}: {address} would not receive this bulletin: {why}");
        assert!(run.error_lines().iter().any(|l| l.contains(&expected)), "{expected}\n{}", run.printed());
        assert!(test.file_names("p").iter().all(|n| !n.ends_with(".eml")), "{address}");
    }
}

#[test]
fn preview_of_an_unknown_address_fails() {
    let test = Test::with_sample();
    let run =
        test.run(&["preview", SAMPLE_BULLETIN, "--subscriber", "nobody@example.org", "--out", "p"]).code(2);
    assert!(
        run.error_lines().iter().any(|l| l.contains("nobody@example.org") && l.contains(SAMPLE_SUBSCRIBERS)),
        "{}",
        run.printed()
    );
    assert!(test.file_names("p").iter().all(|n| !n.ends_with(".eml")));
}

// ---------------------------------------------------------------- check

#[test]
fn check_of_the_sample_lists_every_problem_row_and_exits_1() {
    let test = Test::with_sample();
    let run = test.run(&["check", SAMPLE_BULLETIN]).code(1);
    let errors: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(
        errors,
        [
            "error: subscribers/subscribers.csv:12: no email address",
            "error: subscribers/subscribers.csv:16: invalid email address \"chioma.eze(at)example.com\": no `@`",
        ]
    );
    // Issue 7: the duplicate row is mailed once; a warning says what to do.
    run.stdout_has(
        "warning: subscribers/subscribers.csv:18: duplicate of line 4 (Grace.Okafor@Example.org): delete line 18",
    )
    .stdout_has("15 would receive it")
    .stdout_has("2 error(s)");
    assert!(test.all_files().len() == 3 + SAMPLE_IMAGES.len(), "check writes nothing");
}

#[test]
fn check_of_a_clean_list_exits_0_even_with_warnings() {
    let test =
        Test::new().file("b.md", bulletin("Dear {{ first_name | default(\"friend\") }}, hello.\n")).file(
            "list.csv",
            "email,first_name,status\nana@example.org,Ana,subscribed\nbo@example.org,Bo,unsubscribed\n",
        );
    let run = test.run(&["check", "b.md", "--subscribers", "list.csv"]).code(0);
    assert!(run.stdout.contains("warning: ") && run.stdout.contains("placeholders"), "{}", run.printed());
    assert!(!run.stdout.contains("error: "), "{}", run.printed());
    run.stdout_has("1 would receive it").stdout_has("0 error(s)");
}

#[test]
fn check_reports_every_unknown_merge_field_and_exits_1() {
    let test = Test::new()
        .file("b.md", bulletin("Dear {{ frist_name }}.\n\nFrom {{ twon }}.\n"))
        .file("list.csv", "email,first_name,town\nana@example.org,Ana,Leeds\n");
    let run = test.run(&["check", "b.md", "--subscribers", "list.csv"]).code(1);
    run.stdout_has("error: b.md:7: merge field `frist_name`").stdout_has("error: b.md:9: merge field `twon`");
}

/// Settings with nothing for `check` to warn about.
fn with_complete_settings(test: Test) -> Test {
    with_settings(test)
        .env("UNSUBSCRIBE_URL", "https://hope.example.net/unsubscribe")
        .env("UNSUBSCRIBE_SECRET", SECRET)
}

/// A bulletin like [`bulletin`]'s (body from line 7) with this subject.
fn with_subject(subject: &str, body: &str) -> String {
    format!("+++\nsubject = \"{subject}\"\npreheader = \"This week\"\ndate = 2025-10-16\n+++\n\n{body}")
}

/// The lines of standard output that start with `warning: `.
fn warnings(run: &util::Run) -> Vec<&str> {
    run.stdout.lines().filter(|l| l.starts_with("warning: ")).collect()
}

#[test]
fn check_names_the_file_and_line_of_each_content_risk_and_still_exits_0() {
    let body = "Dear {{ first_name | default(\"friend\") }}, hello.\n\n\
                ![A well](https://example.org/a.jpg)\n\n\
                Read [the report](http://example.org/r) or <https://example.org/news>.\n";
    let test = with_complete_settings(Test::new())
        .file("b.md", with_subject("URGENT PRAYER NEWS!!", body))
        .file("list.csv", "email,first_name\nana@example.org,Ana\n");
    let run = test.run(&["check", "b.md", "--subscribers", "list.csv"]).code(0);
    let found: Vec<String> = warnings(&run).iter().map(|w| w.split(';').next().unwrap().to_owned()).collect();
    assert_eq!(
        found,
        [
            "warning: b.md:2: the subject is all in capitals",
            "warning: b.md:2: the subject has 2 exclamation marks",
            "warning: b.md:7: readers without a first_name read \"Dear friend\"",
            "warning: b.md:11: http://example.org/r is plain http",
            "warning: b.md:11: the link's text is its bare address https://example.org/news",
        ],
        "{}",
        run.printed()
    );
    assert!(
        warnings(&run).iter().all(|w| w.contains("; ")),
        "each says why and what to do\n{}",
        run.printed()
    );
    run.stdout_has("1 would receive it").stdout_has("0 error(s), 5 warning(s).");
    // An image without alt text is no longer a warning but an error (see
    // images::a_remote_image_without_alt_text_is_an_error_in_check_and_the_dry_run_naming_the_file_and_line).
}

#[test]
fn check_names_the_settings_a_bulk_sender_needs() {
    let test = with_settings(Test::new())
        .env("ORG_ADDRESS", "TBD")
        .file("b.md", bulletin("Hello.\n"))
        .file("list.csv", "email,first_name\nana@example.org,Ana\n");
    let run = test.run(&["check", "b.md", "--subscribers", "list.csv"]).code(0);
    let found = warnings(&run);
    assert_eq!(found.len(), 2, "{}", run.printed());
    assert!(
        found[0].starts_with("warning: setting ORG_ADDRESS = \"TBD\" looks like a placeholder"),
        "{}",
        found[0]
    );
    assert!(found[0].contains("CAN-SPAM"), "{}", found[0]);
    assert!(
        found[1].starts_with(
            "warning: setting UNSUBSCRIBE_URL is not set, so messages offer no one-click unsubscribe"
        ),
        "{}",
        found[1]
    );
    assert!(found[1].contains("RFC 8058"), "{}", found[1]);
}

#[test]
fn check_of_the_sample_with_complete_settings_finds_no_deliverability_risk() {
    let test = with_complete_settings(Test::with_sample());
    let run = test.run(&["check", SAMPLE_BULLETIN]).code(1);
    // The sample's duplicate row is a warning too (issue 7), but about the
    // list, not deliverability.
    assert_eq!(
        warnings(&run),
        [
            "warning: subscribers/subscribers.csv:18: duplicate of line 4 (Grace.Okafor@Example.org): delete line 18",
            "warning: 1 address(es), such as peter.müller@example.org, have non-ASCII letters before the @: only a relay that supports SMTPUTF8 can take them; others will fail"
        ],
        "{}",
        run.printed()
    );
    run.stdout_has("2 error(s), 2 warning(s).");
}

#[test]
fn check_warns_of_a_subject_longer_than_inboxes_show() {
    let subject = "Prayer requests for Kenya, the Dominican Republic and South Asia this week";
    let test = with_complete_settings(Test::new())
        .file("b.md", with_subject(subject, "Hello.\n"))
        .file("list.csv", "email\nana@example.org\n");
    let run = test.run(&["check", "b.md", "--subscribers", "list.csv"]).code(0);
    assert_eq!(warnings(&run).len(), 1, "{}", run.printed());
    assert!(
        warnings(&run)[0].starts_with("warning: b.md:2: the subject is 74 characters long; phones show"),
        "{}",
        run.printed()
    );
}

// ---------------------------------------------------------------- help

#[test]
fn help_of_every_subcommand_exits_0_and_shows_its_defaults() {
    let test = Test::new();
    for (args, needles) in [
        (
            &["--help"][..],
            &[
                "send",
                "preview",
                "check",
                "unsubscribe",
                "resubscribe",
                "unsubscribe-server",
                ".env",
                "example.org",
            ][..],
        ),
        (
            &["send", "--help"],
            &[
                "--dry-run",
                "--out",
                "--suppressed",
                "[default: subscribers/subscribers.csv]",
                "suppressed.csv",
            ],
        ),
        (
            &["preview", "--help"],
            &[
                "[default: subscribers/subscribers.csv]",
                "[default: preview]",
                "--subscriber",
                "the first one",
            ],
        ),
        (&["check", "--help"], &["[default: subscribers/subscribers.csv]", "--suppressed"]),
        (&["unsubscribe", "--help"], &["--from-file", "--note", "--suppressed", "please remove me"]),
        (&["resubscribe", "--help"], &["--suppressed", "[default: subscribers/subscribers.csv]"]),
        (
            &["unsubscribe-server", "--help"],
            &[
                "[default: 127.0.0.1:8080]",
                "UNSUBSCRIBE_URL",
                "UNSUBSCRIBE_SECRET",
                "--suppressed",
                "SIGTERM",
            ],
        ),
        (&["help", "send"], &["--dry-run"]),
    ] {
        let run = test.run(args).code(0);
        let text = collapse(&run.stdout);
        for needle in needles {
            assert!(
                text.contains(needle),
                "`bulletin {}` does not mention {needle:?}\n{}",
                args.join(" "),
                run.printed()
            );
        }
        assert!(text.contains("--env-file"), "{}", run.printed());
    }
    let run = test.run(&["--version"]).code(0);
    assert!(run.stdout.starts_with("bulletin "), "{}", run.printed());
}

// ---------------------------------------------------------------- secrets

#[test]
fn the_unsubscribe_secret_never_appears_in_output_or_files() {
    let test = Test::with_sample()
        .env("UNSUBSCRIBE_URL", "https://example.org/unsubscribe")
        .env("UNSUBSCRIBE_SECRET", SECRET)
        .file("broken.md", bulletin("Dear {{ nobody }}.\n"));
    let runs = [
        test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(0),
        test.run(&["send", SAMPLE_BULLETIN, "--dry-run"]).code(0),
        test.run(&["send", SAMPLE_BULLETIN]).code(2),
        test.run(&["send", "broken.md", "--dry-run", "--out", "broken"]).code(2),
        test.run(&["preview", SAMPLE_BULLETIN]).code(0),
        test.run(&["preview", SAMPLE_BULLETIN, "--subscriber", "zoe.angstrom@example.org", "--out", "p2"])
            .code(2),
        test.run(&["check", SAMPLE_BULLETIN]).code(1),
        test.run(&["check", "broken.md"]).code(1),
    ];
    for run in &runs {
        assert!(
            !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
            "`{}` prints the secret",
            run.args.join(" ")
        );
    }
    let files = test.all_files();
    assert!(files.len() > 30, "the runs wrote their files: {}", files.len());
    for (path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(SECRET), "{} contains the secret", path.display());
    }
}

#[test]
fn a_malformed_env_file_does_not_echo_the_secret() {
    let test = Test::with_sample()
        .file(".env", format!("FROM_EMAIL=news@hope.example.net\nUNSUBSCRIBE_SECRET=\"{SECRET}\n"));
    let run = test.run(&["check", SAMPLE_BULLETIN]).code(2);
    assert!(run.error_lines().iter().any(|l| l.contains(".env")), "{}", run.printed());
    assert!(!run.stderr.contains(SECRET), "the error shows the secret\n{}", run.printed());
}

// ---------------------------------------------------------------- plaintext

/// Asserts every line of `text` fits in 78 columns, unless it is one
/// unbreakable word (an address) or a link reference `[n] address`.
#[track_caller]
fn assert_wrapped(name: &str, text: &str) {
    for line in text.lines() {
        if line.width() <= 78 {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let one_word = words.len() == 1;
        let reference = words.len() == 2 && words[0].starts_with('[') && words[0].ends_with(']');
        assert!(one_word || reference, "{name}: line of {} columns: {line:?}", line.width());
    }
}

#[test]
fn plaintext_lines_fit_78_columns_except_unbreakable_addresses() {
    let test = Test::with_sample()
        .env("UNSUBSCRIBE_URL", "https://example.org/unsubscribe")
        .env("UNSUBSCRIBE_SECRET", SECRET);
    let emls = sample_dry_run(&test);
    for eml in &emls {
        assert_wrapped(&eml.name, &eml.text());
    }
    // The unsubscribe address is longer than a line and stands alone.
    let text = emls[0].text();
    assert!(
        text.lines().any(|l| l.width() > 78 && l.starts_with("https://example.org/unsubscribe?t=")),
        "{text}"
    );
}

#[test]
fn plaintext_headings_are_underlined() {
    let test = Test::with_sample();
    let emls = sample_dry_run(&test);
    let text = emls[0].text();
    let lines: Vec<&str> = text.lines().collect();
    for (heading, underline) in [
        ("IJM Prayer Requests", '='),
        ("Latin America", '-'),
        ("South Asia", '-'),
        ("Southeast Asia", '-'),
        ("IJM HQ & Global Partners", '-'),
    ] {
        let at = lines
            .iter()
            .position(|l| *l == heading)
            .unwrap_or_else(|| panic!("no heading {heading:?}\n{text}"));
        let expected: String = std::iter::repeat_n(underline, heading.width()).collect();
        assert_eq!(lines[at + 1], expected, "{heading} is underlined");
    }
}

#[test]
fn plaintext_links_become_numbered_references() {
    let body = "# Our news\n\nRead more on [our site](https://example.org/about), or [write to us](mailto:hello@example.org).\n\nAgain: [our site](https://example.org/about). Plain: <https://example.org/plain>\n";
    let test =
        Test::new().file("b.md", bulletin(body)).file("list.csv", "email,first_name\nana@example.org,Ana\n");
    test.run(&["send", "b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
    let eml = &test.emls("out")[0];
    let text = eml.text();
    assert!(text.contains("our site [1]"), "{text}");
    assert!(text.contains("write to us [2]"), "{text}");
    assert!(text.contains("Again: our site [1]."), "a repeated link keeps its number: {text}");
    assert!(!text.contains("[3]"), "a bare address needs no reference: {text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"[1] https://example.org/about"), "{text}");
    assert!(lines.contains(&"[2] mailto:hello@example.org"), "{text}");
    assert!(lines.contains(&"Our news") && lines.contains(&"========"), "{text}");
    assert_wrapped(&eml.name, &text);

    let html = scraper::Html::parse_document(&eml.html());
    let link = scraper::Selector::parse(r#"a[href="https://example.org/about"]"#).unwrap();
    let texts: Vec<String> = html.select(&link).map(|a| a.text().collect()).collect();
    assert_eq!(texts, ["our site", "our site"]);
}

#[test]
fn a_long_value_is_wrapped_in_the_plaintext() {
    let name = "Bartholomew-Maximilian Featherstonehaugh-Cholmondeley-Wolfeschlegelsteinhausen";
    let test = Test::new()
        .file("b.md", bulletin("Dear {{ first_name }} {{ last_name }}, this paragraph has merge fields, so it is wrapped for each reader after their values are filled in.\n"))
        .file("list.csv", format!("email,first_name,last_name\nana@example.org,Ana,{name}\n"));
    test.run(&["send", "b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
    let eml = &test.emls("out")[0];
    assert_wrapped(&eml.name, &eml.text());
    assert!(collapse(&eml.text()).contains(&format!("Dear Ana {name}, this paragraph")), "{}", eml.text());
}

// ---------------------------------------------------------------- real-world CSV

/// A spreadsheet export: byte order mark, CRLF line ends, a quoted field
/// with a comma and one with a line break, a row of empty cells, a blank
/// line, an invalid row and a duplicate. Line 1 is the header, 2 ana, 3-4 bo
/// (the quoted line break), 5 not-an-address, 6 empty cells, 7 blank, 8 the
/// duplicate of ana, 9 di.
const EXPORT: &str = "\u{feff}Email Address,First Name,Town,Status\r\n\
ana@example.org,Ana,\"Leeds, UK\",subscribed\r\n\
bo@example.org,Bo,\"Flat 2\r\nHigh Street\",subscribed\r\n\
not-an-address,Cy,York,subscribed\r\n\
,,,\r\n\
\r\n\
ANA@example.org,Ana,Leeds,subscribed\r\n\
di@example.org,Di,\"Bath\",Subscribed\r\n";

/// What a dry run and a check say about [`EXPORT`]'s problem rows.
const EXPORT_PROBLEMS: [&str; 2] = [
    "export.csv:5: invalid email address \"not-an-address\": no `@`",
    "export.csv:8: duplicate of line 2 (ANA@example.org): delete line 8",
];

/// `check` of [`EXPORT`] calls its invalid row an error and its duplicate
/// a warning (issue 7: the duplicate is mailed once).
#[track_caller]
fn assert_export_problems_checked(run: &util::Run) {
    let errors: Vec<&str> = run.stdout.lines().filter_map(|l| l.strip_prefix("error: ")).collect();
    assert_eq!(errors, EXPORT_PROBLEMS[..1]);
    let warnings: Vec<&str> = run.stdout.lines().filter_map(|l| l.strip_prefix("warning: ")).collect();
    assert!(warnings.contains(&EXPORT_PROBLEMS[1]), "{}", run.printed());
}

#[test]
fn a_spreadsheet_export_with_bom_crlf_and_quoted_newlines_works() {
    let test = Test::new()
        .file("b.md", bulletin("Dear {{ first_name }} from {{ town }}.\n"))
        .file("export.csv", EXPORT);
    let run = test.run(&["send", "b.md", "--subscribers", "export.csv", "--dry-run", "--out", "out"]).code(0);
    run.stdout_has("would send   3").stdout_has("1 invalid, 1 duplicate");
    let emls = test.emls("out");
    let to: Vec<String> = emls.iter().map(Eml::to_address).collect();
    assert_eq!(to, ["ana@example.org", "bo@example.org", "di@example.org"]);
    assert!(emls[0].text().contains("Dear Ana from Leeds, UK."), "{}", emls[0].text());
    assert!(emls[1].text().contains("Dear Bo from Flat 2 High Street."), "{}", emls[1].text());
    assert!(visible_text(&emls[1].html()).contains("Dear Bo from Flat 2 High Street."));
}

#[test]
fn problem_rows_in_a_crlf_file_are_reported_with_their_real_line() {
    let test = Test::new()
        .file("b.md", bulletin("Dear {{ first_name }} from {{ town }}.\n"))
        .file("export.csv", EXPORT);
    let run = test.run(&["send", "b.md", "--subscribers", "export.csv", "--dry-run"]).code(0);
    let problems: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("export.csv:")).collect();
    assert_eq!(problems, EXPORT_PROBLEMS);

    let run = test.run(&["check", "b.md", "--subscribers", "export.csv"]).code(1);
    assert_export_problems_checked(&run);
}

#[test]
fn problem_rows_in_an_lf_file_with_blank_lines_and_quoted_newlines_are_reported_with_their_real_line() {
    let test = Test::new()
        .file("b.md", bulletin("Dear {{ first_name }} from {{ town }}.\n"))
        .file("export.csv", EXPORT.replace("\r\n", "\n"));
    let run = test.run(&["check", "b.md", "--subscribers", "export.csv"]).code(1);
    assert_export_problems_checked(&run);
}

#[test]
fn preview_names_the_real_line_of_a_row_after_a_quoted_line_break() {
    let test = Test::new()
        .file("b.md", bulletin("Dear {{ first_name }} from {{ town }}.\n"))
        .file("export.csv", EXPORT);
    let run = test
        .run(&["preview", "b.md", "--subscribers", "export.csv", "--subscriber", "di@example.org"])
        .code(0);
    run.stdout_has("(line 9 of export.csv)");
    let run = test
        .run(&["preview", "b.md", "--subscribers", "export.csv", "--subscriber", "ana@EXAMPLE.org"])
        .code(0);
    run.stdout_has("(line 2 of export.csv)");
}

/// Issue 23, row 13: a sign-up row was named by its line in `signups.csv`
/// but with the subscriber list's name.
#[test]
fn a_sign_up_row_is_named_by_signups_csv_and_its_own_line_in_preview_and_check() {
    let test = Test::new()
        .file("b.md", bulletin("Dear {{ first_name }}.\n"))
        .file("list.csv", "email,first_name\nana@example.org,Ana\nbo@example.org,Bo\ncy@example.org,Cy\n")
        .file("suppressed.csv", "email,reason,date,detail\nzed@example.org,unsubscribed,2025-10-01,\n")
        .file(
            "signups.csv",
            "email,first_name,last_name,tags,consented_at,consent_text_hash,source\n\
             ivy@example.org,Ivy,,,2025-10-01T10:00:00Z,abc,signup-form\n\
             zed@example.org,Zed,,,2025-10-01T10:00:00Z,abc,signup-form\n\
             not-an-address,No,,,2025-10-01T10:00:00Z,abc,signup-form\n",
        );
    let preview =
        |who: &str| test.run(&["preview", "b.md", "--subscribers", "list.csv", "--subscriber", who]);
    preview("ivy@example.org").code(0).stdout_has("(line 2 of signups.csv)");
    preview("zed@example.org")
        .code(2)
        .stderr_has("signups.csv:3: zed@example.org would not receive this bulletin");
    let check = test.run(&["check", "b.md", "--subscribers", "list.csv"]).code(1);
    check.stdout_has("error: signups.csv:4: invalid email address \"not-an-address\"");
}

#[test]
fn output_piped_into_a_reader_that_stops_early_ends_quietly_like_any_unix_tool() {
    use std::io::{BufRead, BufReader, Read};
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;

    // Thousands of bad rows: `check` lists them all, far more than a pipe
    // holds.
    let mut csv = String::from("email,first_name\n");
    for i in 0..5000 {
        csv.push_str(&format!("not-an-address-{i},X\n"));
    }
    csv.push_str("ana@example.org,Ana\n");
    let test = Test::with_sample().file("list.csv", csv);
    let mut child = test
        .std_command(&["check", SAMPLE_BULLETIN, "--subscribers", "list.csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `bulletin … | head -n 1`: read one line, then stop reading.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(!first.is_empty());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.signal(), Some(13), "ended by SIGPIPE, as `head` expects: {status:?}\n{stderr}");
}
