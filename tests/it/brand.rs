//! The organisation's look from `.env`: the brand colour in the HTML, a
//! call-to-action button in both parts, the footer's links, and `check`
//! warning of colours too faint to read; and the list's own confirmation
//! email, received from the real `bulletin serve` through the aiosmtpd
//! relay, in the same look.

use crate::send_util::{Faults, PyServer, Received};
use crate::signup::{confirm_link, get, serve, sign_up, signup_test};
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

// ------------------------------------------------ the list's own emails

/// The brand the sign-up tests give: a colour, the sample's logo at 96px,
/// a website, and interests with labels (and one in the old form).
pub(crate) const BRAND: [(&str, &str); 5] = [
    ("BRAND_COLOR", "#8A1538"),
    ("LOGO", "content/images/logo.png"),
    ("LOGO_WIDTH", "96"),
    ("ORG_WEBSITE", "https://hope.example.org"),
    ("INTERESTS", "prayer:Weekly prayer requests, news:News and stories,events"),
];

/// The sentence that says what happens when the reader does nothing.
pub(crate) const DO_NOTHING: &str = "If you do nothing, you will not be signed up";

/// A signing key made by `openssl`, as the README says, at `path`.
fn make_key(test: &Test, path: &str) {
    let output = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path])
        .current_dir(test.path())
        .output()
        .expect("the openssl command is needed to make test keys (scripts/test.sh installs it)");
    assert!(output.status.success(), "openssl: {}", String::from_utf8_lossy(&output.stderr));
}

/// Ana signs up for `interests` through `server`; the confirmation email
/// the relay `smtp` received.
pub(crate) fn confirmation_for(
    server: &crate::unsubscribe::Server,
    smtp: &PyServer,
    interests: &[&str],
) -> Received {
    let mut fields = vec![("name", "Ana Silva"), ("email", "ana@example.org")];
    fields.extend(interests.iter().map(|i| ("interests", *i)));
    assert_eq!(sign_up(server, &fields).status, 200);
    smtp.wait_for_message_to("ana@example.org");
    smtp.messages().pop().expect("one confirmation")
}

/// What Python's own `email` package reads in `raw`: the structure, the
/// text and HTML parts, the inline image's Content-ID and type, and the
/// DKIM-Signature's tags.
fn read_with_python(test: &Test, raw: &[u8]) -> serde_json::Value {
    let path = test.join("confirmation.eml");
    std::fs::write(&path, raw).unwrap();
    let script = "import email, email.policy, json, sys\n\
        m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n\
        images = [(p.get('Content-ID'), p.get_content_type(), len(p.get_content())) for p in m.walk() if p.get_content_maintype() == 'image']\n\
        dkim = m.get('DKIM-Signature')\n\
        tags = dict(t.strip().split('=', 1) for t in str(dkim).split(';') if '=' in t) if dkim else {}\n\
        print(json.dumps({'type': m.get_content_type(), 'subject': str(m['Subject']),\n\
          'text': m.get_body(preferencelist=('plain',)).get_content(),\n\
          'html': m.get_body(preferencelist=('html',)).get_content(),\n\
          'images': images, 'dkim': {k.strip(): v.strip() for k, v in tags.items() if k.strip() in ('d', 's', 'h')}}))\n";
    let output =
        std::process::Command::new("python3").args(["-c", script]).arg(&path).output().expect("python3 runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("the script prints JSON")
}

#[test]
fn the_confirmation_email_has_the_bulletins_logo_colour_footer_labels_a_plaintext_part_and_a_dkim_signature()
{
    let smtp = PyServer::start(&Faults::new());
    let mut test = signup_test(&smtp, 1)
        .env("DKIM_DOMAIN", "hope.example.org")
        .env("DKIM_SELECTOR", "news2025")
        .env("DKIM_PRIVATE_KEY", "keys/dkim.pem");
    for (key, value) in BRAND {
        test.set_env(key, value);
    }
    std::fs::create_dir_all(test.join("keys")).unwrap();
    make_key(&test, "keys/dkim.pem");

    // The form offers the labels, and posts the tags.
    let server = serve(&test);
    let form = get(&format!("{}/subscribe", server.origin)).body;
    for needle in [
        "value=\"prayer\"",
        ">Weekly prayer requests</label>",
        ">News and stories</label>",
        "value=\"events\"",
        ">events</label>",
    ] {
        assert!(form.contains(needle), "the form lacks {needle:?}:\n{form}");
    }
    assert!(!form.contains(">prayer</label>"), "a labelled interest shows its label:\n{form}");
    let message = confirmation_for(&server, &smtp, &["prayer", "events"]);

    let read = read_with_python(&test, &message.eml().raw);
    assert_eq!(read["type"], "multipart/alternative", "{read:#}");
    assert_eq!(read["subject"], "Please confirm: Weekly prayer");
    let html = read["html"].as_str().unwrap();
    let text = read["text"].as_str().unwrap();
    // The logo is carried inline, as a bulletin carries it, and shown from there.
    let images = read["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "the logo and nothing else: {read:#}");
    assert_eq!(images[0][0], "<logo.png@bulletin>");
    assert_eq!(images[0][1], "image/png");
    assert!(html.contains("<img src=\"cid:logo.png@bulletin\" alt=\"Hope Trust\" width=\"96\""), "{html}");
    // The brand colour: the heading and the button.
    assert!(html.contains("color:#8a1538") && html.contains("bgcolor=\"#8a1538\""), "{html}");
    assert!(html.contains(">Yes, sign me up</a>"), "{html}");
    // The organisation, its postal address and website, in both parts.
    let words = |part: &str| part.split_whitespace().collect::<Vec<_>>().join(" ");
    for part in [words(html), words(text)] {
        for needle in [
            "Hope Trust",
            "2 High Street, Hopeton, HO1 2PE",
            "Weekly prayer requests",
            "events",
            DO_NOTHING,
            "This email was sent to ana@example.org.",
        ] {
            assert!(part.contains(needle), "{needle:?} missing from\n{part}");
        }
        assert!(!part.contains("News and stories"), "only the chosen interests:\n{part}");
        assert!(!part.contains("Ana Silva"), "the name typed in is never sent back:\n{part}");
        assert!(!part.contains("Someone, we hope you"), "{part}");
    }
    assert!(html.contains(">Hope Trust website</a>"), "{html}");
    assert!(text.contains("Hope Trust website: https://hope.example.org/"), "{text}");
    assert!(text.contains("Yes, sign me up:"), "the button written out in the text:\n{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 78 || !l.trim().contains(' ')), "{text}");
    // Signed, as the bulletin is, with a signature that verifies against
    // the record `check` prints.
    assert_eq!(read["dkim"]["d"], "hope.example.org", "{read:#}");
    assert_eq!(read["dkim"]["s"], "news2025", "{read:#}");
    let (record, _) = crate::dkim::record_printed_by_check(&test, "prayer.md");
    let saved = crate::dkim::save(test.path(), "confirmation.eml", &message.eml().raw);
    let verdicts = crate::dkim::verify(&record, &[saved]);
    assert!(verdicts[0].verified, "dkimpy: {:?}", verdicts[0].error);

    // The confirm page shows the labels; signups.csv keeps the tags.
    let link = confirm_link(&message);
    let page = get(&server.local(&link)).body;
    assert!(page.contains("Weekly prayer requests, events"), "{page}");
    let confirmed = crate::signup::answer(
        crate::unsubscribe::client().post(server.local(&link)).send_form([("confirm", "yes")]),
    );
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let csv = std::fs::read_to_string(test.join("signups.csv")).unwrap();
    assert!(csv.contains(",prayer;events,") || csv.contains(",\"prayer;events\","), "{csv}");
    assert!(!csv.contains("Weekly"), "labels are not stored: {csv}");
}

#[test]
fn an_interests_entry_without_a_tag_stops_serve_naming_the_setting() {
    let smtp = PyServer::start(&Faults::new());
    let test = signup_test(&smtp, 1).env("INTERESTS", "prayer:Weekly prayer, :News");
    let args = ["serve", "--listen", "127.0.0.1:0", "--subscribers", "list.csv"];
    let run =
        crate::send_util::Background::start(test.std_command(&args), &args).wait(crate::send_util::DEADLINE);
    assert_ne!(run.code, Some(0), "{}", run.printed());
    let printed = run.printed();
    assert!(
        printed.contains("setting INTERESTS = ") && printed.contains("\":News\" has no tag before the `:`"),
        "{printed}"
    );
}
