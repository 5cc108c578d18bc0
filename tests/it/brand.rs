//! The organisation's look from `.env`: the brand colour in the HTML, a
//! call-to-action button in both parts, the footer's links, and `check`
//! warning of colours too faint to read.

use crate::util::{SAMPLE_BULLETIN, Test, bulletin};

const LIST: &str = "email,first_name\nana@example.org,Ana\n";

#[test]
fn a_dry_run_with_a_brand_colour_shows_it_and_the_samples_button() {
    let test = Test::with_sample().env("BRAND_COLOR", "#8A1538");
    test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(0);
    let eml = &test.emls("out")[0];
    let html = eml.html();
    assert!(html.contains("color:#8a1538"), "headings and links take the brand colour");
    assert!(!html.contains("#1d4f91"), "today's blue is gone");
    assert!(
        html.contains("bgcolor=\"#8a1538\"") && html.contains(">Join us in prayer</a>"),
        "the button is a cell filled with the brand colour: {html}"
    );
    assert!(!html.contains("{.button}"));
    let text = eml.text();
    assert!(text.contains("\nJoin us in prayer: https://hope.example.org/pray\n"), "{text}");
}

#[test]
fn check_warns_of_a_faint_colour_pair_naming_the_setting_and_ratio() {
    let test = Test::new()
        .file("b.md", bulletin("Hello.\n\n[Give](https://example.org/give){.button}\n"))
        .file("list.csv", LIST)
        .env("BRAND_COLOR", "#777777")
        .env("BRAND_TEXT_COLOR", "#ffffff");
    let run = test.run(&["check", "b.md", "--subscribers", "list.csv"]).code(0);
    let warnings: Vec<&str> =
        run.stdout.lines().filter(|l| l.starts_with("warning: setting BRAND_")).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("warning: setting BRAND_COLOR = #777777") && w.contains("4.48:1")),
        "{}",
        run.printed()
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("warning: setting BRAND_TEXT_COLOR = #ffffff") && w.contains("4.48:1")),
        "{}",
        run.printed()
    );

    let fine = Test::new().file("b.md", bulletin("Hello.\n")).file("list.csv", LIST);
    let run = fine.run(&["check", "b.md", "--subscribers", "list.csv"]).code(0);
    assert!(!run.stdout.contains("BRAND_"), "the default colours pass: {}", run.printed());
}

#[test]
fn an_invalid_colour_is_an_error_naming_the_setting() {
    let test =
        Test::new().file("b.md", bulletin("Hello.\n")).file("list.csv", LIST).env("BRAND_COLOR", "navy");
    let run = test.run(&["send", "b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]);
    assert_ne!(run.code, Some(0), "{}", run.printed());
    let printed = run.printed();
    assert!(printed.contains("setting BRAND_COLOR = \"navy\"") && printed.contains("#rrggbb"), "{printed}");
    assert!(!test.join("out").exists() || test.emls("out").is_empty(), "nothing is written");
}

#[test]
fn a_button_inside_running_text_is_an_error_naming_its_line() {
    let test = Test::new()
        .file("b.md", bulletin("Hello.\n\nPlease [give](https://example.org/give){.button} today.\n"))
        .file("list.csv", LIST);
    let run = test.run(&["check", "b.md", "--subscribers", "list.csv"]).code(1);
    run.stdout_has("error: b.md:9: `{.button}` makes a button only of a link alone on its line");
}

#[test]
fn footer_links_appear_in_the_html_and_the_text() {
    let test = Test::new()
        .file("b.md", bulletin("Hello.\n"))
        .file("list.csv", LIST)
        .env("DONATE_URL", "https://hope.example.org/give")
        .env("YOUTUBE_URL", "https://www.youtube.com/@hope")
        .env("LINKEDIN_URL", "https://www.linkedin.com/company/hope");
    test.run(&["send", "b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
    let eml = &test.emls("out")[0];
    let html = eml.html();
    for (href, words) in [
        ("https://hope.example.org/give", "Donate"),
        ("https://www.youtube.com/@hope", "YouTube"),
        ("https://www.linkedin.com/company/hope", "LinkedIn"),
    ] {
        assert!(
            html.contains(&format!("href=\"{href}\"")) && html.contains(&format!(">{words}</a>")),
            "{html}"
        );
    }
    let text = eml.text();
    for line in [
        "Donate: https://hope.example.org/give",
        "YouTube: https://www.youtube.com/@hope",
        "LinkedIn: https://www.linkedin.com/company/hope",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
    }
    let refused = Test::new()
        .file("b.md", bulletin("Hello.\n"))
        .file("list.csv", LIST)
        .env("FACEBOOK_URL", "http://facebook.com/hope");
    let run = refused.run(&["send", "b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]);
    assert_ne!(run.code, Some(0));
    assert!(run.printed().contains("setting FACEBOOK_URL"), "{}", run.printed());
}

#[test]
fn the_samples_button_has_an_outlook_fallback_and_mail_parsers_still_read_the_message() {
    let test = Test::with_sample().env("BRAND_COLOR", "#8A1538");
    test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(0);
    let eml = &test.emls("out")[0];
    let html = eml.html();
    assert!(
        html.contains("<!--[if mso]><v:roundrect")
            && html.contains("href=\"https://hope.example.org/pray\"")
            && html.contains("fillcolor=\"#8a1538\""),
        "the VML button: {html}"
    );
    assert!(eml.text().contains("\nJoin us in prayer: https://hope.example.org/pray\n"));
    // Python's own email parser reads the same parts and the fallback whole.
    let script = "import email, email.policy, sys\n\
        m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n\
        html = m.get_body(preferencelist=('html',)).get_content()\n\
        text = m.get_body(preferencelist=('plain',)).get_content()\n\
        assert html.count('<v:roundrect') == 1 and '</v:roundrect>' in html, html\n\
        assert 'Join us in prayer: https://hope.example.org/pray' in text, text\n\
        print(m.get_content_type(), len(list(m.walk())))\n";
    let path = test.join("out").join(&eml.name);
    let output =
        std::process::Command::new("python3").args(["-c", script]).arg(&path).output().expect("python3 runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("multipart/alternative"));
}
