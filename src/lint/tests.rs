use std::path::Path;

use pretty_assertions::assert_eq;

use super::*;
use crate::config::{Settings, Source};
use crate::render::Personalised;

/// Front matter taking lines 1 to 5; the body starts on line 7.
const HEAD: &str = "+++\nsubject = \"Prayer requests for this week\"\npreheader = \"Pray with us\"\ndate = 2025-10-16\n+++\n\n";

fn parse(text: &str) -> Bulletin {
    Bulletin::parse(Path::new("content/b.md"), text).unwrap()
}

fn body(text: &str) -> Vec<String> {
    bulletin(&parse(&format!("{HEAD}{text}")))
}

fn with_subject(subject: &str) -> Vec<String> {
    bulletin(&parse(&format!("{}Hello.\n", HEAD.replace("Prayer requests for this week", subject))))
}

fn settings_from(pairs: &[(&str, &str)]) -> Vec<String> {
    settings(&Settings::from_source(&Source::from_pairs(pairs.iter().copied())).unwrap())
}

const REAL: [(&str, &str); 5] = [
    ("ORG_NAME", "Hope Trust"),
    ("ORG_ADDRESS", "12 Market Street, Bristol BS1 1AA, United Kingdom"),
    ("FROM_EMAIL", "prayer@hope.example.org"),
    ("UNSUBSCRIBE_URL", "https://hope.example.org/unsubscribe"),
    ("UNSUBSCRIBE_SECRET", "a-long-random-key"),
];

fn with_real(changes: &[(&'static str, &'static str)]) -> Vec<String> {
    let mut pairs: Vec<(&str, &str)> =
        REAL.iter().filter(|(k, _)| !changes.iter().any(|(c, _)| c == k)).copied().collect();
    pairs.extend(changes.iter().filter(|(_, v)| !v.is_empty()));
    settings_from(&pairs)
}

fn starts(warnings: &[String], prefix: &str) -> bool {
    warnings.iter().any(|w| w.starts_with(prefix))
}

// ---------------------------------------------------------------- content

#[test]
fn a_clean_bulletin_has_no_findings() {
    let found = body(
        "Dear {{ first_name | default(\"prayer partner\") }}, hello.\n\n- Read [the report](https://example.org/r) and write to <office@example.org>.\n\n![A well in Kenya](https://example.org/w.jpg)\n",
    );
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn an_image_without_alt_text_is_named_with_its_file_and_line() {
    let found = body("Hello.\n\nSee:\n![](https://example.org/a.jpg)\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("content/b.md:10: the image https://example.org/a.jpg has no alt text;"),
        "{}",
        found[0]
    );
    assert!(
        found[0].contains("![Children at the new school](https://example.org/a.jpg)"),
        "the fix is shown"
    );
}

#[test]
fn a_plain_http_link_or_image_is_named_with_its_line_and_its_https_form() {
    let found = body("Hello.\n\nRead [this](http://example.org/r).\n\n![A well](http://example.org/w.jpg)\n");
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("content/b.md:9: http://example.org/r is plain http;"), "{}", found[0]);
    assert!(found[0].contains("use https://example.org/r"), "{}", found[0]);
    assert!(found[1].starts_with("content/b.md:11: http://example.org/w.jpg is plain http;"), "{}", found[1]);
}

#[test]
fn a_link_whose_text_is_its_own_address_is_reported() {
    for link in [
        "[https://example.org/r](https://example.org/r)",
        "<https://example.org/r>",
        "[www.example.org/r](https://example.org/r/)",
    ] {
        let found = body(&format!("Intro.\n\nMore at {link} today.\n"));
        assert_eq!(found.len(), 1, "{link}: {found:?}");
        assert!(found[0].starts_with("content/b.md:9: the link's text is its bare address"), "{}", found[0]);
        assert!(found[0].contains("spam filters and readers distrust"), "{}", found[0]);
    }
}

#[test]
fn a_link_that_shows_one_address_and_leads_to_another_is_reported() {
    let found = body("[https://bank.example.org](https://other.example.net/login)\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(
            "the address https://bank.example.org, but it leads to https://other.example.net/login"
        ),
        "{}",
        found[0]
    );
}

#[test]
fn links_with_words_and_email_autolinks_are_fine() {
    let found =
        body("[Our website](https://example.org) and <office@example.org> and [call us](tel:+441234).\n");
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn a_dear_friend_default_is_reported_for_readers_without_the_field() {
    let found = body("Hello.\n\nDear {{ first_name | default(\"friend\") }}, thank you.\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(
            "content/b.md:9: readers without a first_name read \"Dear friend\"; spam filters score"
        ),
        "{}",
        found[0]
    );
    assert!(found[0].contains("DEAR_FRIEND"), "{}", found[0]);
}

#[test]
fn a_written_dear_friend_is_reported_for_every_reader_even_in_a_list() {
    let found = body("- **Dear Friend,** we pray.\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("content/b.md:7: every reader reads \"Dear Friend\";"), "{}", found[0]);
}

#[test]
fn greetings_that_spam_filters_accept_are_fine() {
    let found = body(
        "Dear friends, hello.\n\nDear {{ first_name | default(\"prayer partner\") }},\n\nHello friend.\n\nDear Friedrich.\n",
    );
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn a_subject_in_capitals_is_reported_with_its_line() {
    let found = with_subject("PRAY FOR KENYA THIS WEEK");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("content/b.md:2: the subject is all in capitals;"), "{}", found[0]);
}

#[test]
fn a_subject_mostly_in_capitals_is_reported() {
    let found = with_subject("URGENT PRAYER for Kenya");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("content/b.md:2: 13 of the subject's 20 letters are capitals;"),
        "{}",
        found[0]
    );
}

#[test]
fn a_subject_with_an_acronym_or_one_capitalised_word_is_fine() {
    assert_eq!(
        with_subject("IJM Prayer Requests — “You, LORD, will keep the needy safe”"),
        Vec::<String>::new()
    );
    assert_eq!(with_subject("Hi {{ first_name }}, news from the UK"), Vec::<String>::new());
}

#[test]
fn a_subject_with_several_exclamation_marks_is_reported() {
    let found = with_subject("Good news!! Kenya case won!");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("content/b.md:2: the subject has 3 exclamation marks;"), "{}", found[0]);
    let found = with_subject("Can you pray? It matters!");
    assert!(
        starts(&found, "content/b.md:2: the subject has both an exclamation mark and a question mark"),
        "{found:?}"
    );
    assert_eq!(with_subject("We won!"), Vec::<String>::new());
}

// ---------------------------------------------------------------- settings

#[test]
fn complete_settings_have_no_findings() {
    assert_eq!(with_real(&[]), Vec::<String>::new());
}

#[test]
fn a_missing_postal_address_is_reported_naming_the_setting_and_the_law() {
    let found = with_real(&[("ORG_ADDRESS", "")]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(
            "setting ORG_ADDRESS is not set, so the footer shows the placeholder \"1 Example Street"
        ),
        "{}",
        found[0]
    );
    assert!(found[0].contains("CAN-SPAM"), "{}", found[0]);
}

#[test]
fn a_placeholder_or_incomplete_postal_address_is_reported() {
    let found = with_real(&[("ORG_ADDRESS", "TBD")]);
    assert!(starts(&found, "setting ORG_ADDRESS = \"TBD\" looks like a placeholder"), "{found:?}");
    let found = with_real(&[("ORG_ADDRESS", "10 Example Road, Leeds LS1 1AA")]);
    assert!(
        starts(&found, "setting ORG_ADDRESS = \"10 Example Road, Leeds LS1 1AA\" looks like a placeholder"),
        "{found:?}"
    );
    let found = with_real(&[("ORG_ADDRESS", "Leeds")]);
    assert!(
        starts(&found, "setting ORG_ADDRESS = \"Leeds\" does not look like a full postal address"),
        "{found:?}"
    );
}

#[test]
fn a_missing_unsubscribe_url_is_reported_as_no_one_click_unsubscribe() {
    let found = with_real(&[("UNSUBSCRIBE_URL", ""), ("UNSUBSCRIBE_SECRET", "")]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .starts_with("setting UNSUBSCRIBE_URL is not set, so messages offer no one-click unsubscribe"),
        "{}",
        found[0]
    );
    assert!(found[0].contains("RFC 8058") && found[0].contains("Gmail and Yahoo"), "{}", found[0]);
}

#[test]
fn an_unsubscribe_url_without_its_secret_is_reported_by_the_settings_themselves() {
    // Settings::warnings covers it (the link would be signed with a
    // development key); the lint does not say it twice.
    assert_eq!(with_real(&[("UNSUBSCRIBE_SECRET", "")]), Vec::<String>::new());
}

#[test]
fn a_bounce_address_under_the_senders_organisation_aligns_and_passes() {
    assert_eq!(with_real(&[("BOUNCE_ADDRESS", "bounces@hope.example.org")]), Vec::<String>::new());
    assert_eq!(with_real(&[("BOUNCE_ADDRESS", "bounces@mail.hope.example.org")]), Vec::<String>::new());
}

#[test]
fn a_bounce_address_on_another_domain_is_reported_as_breaking_spf_alignment() {
    let found = with_real(&[("BOUNCE_ADDRESS", "bounces@esp-bounces.net")]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .starts_with("setting BOUNCE_ADDRESS (bounces@esp-bounces.net) is not on FROM_EMAIL's domain"),
        "{}",
        found[0]
    );
    assert!(found[0].contains("DMARC"), "{}", found[0]);
}

// ---------------------------------------------------------------- message

fn message_of(subject: &str, html: &str, text: &str) -> Vec<String> {
    let bulletin = parse(&format!("{HEAD}Hello.\n"));
    message(
        &bulletin,
        &Personalised { subject: subject.to_owned(), html: html.to_owned(), text: text.to_owned() },
    )
}

const HTML: &str = "<html><head><title>Prayer</title><style>p{}</style></head><body><div style=\"display:none\">Preheader words</div><p>Pray for <strong>Kenya</strong> this week.</p><p><a href=\"https://example.org/r\">Read more</a></p><img src=\"https://example.org/w.jpg\" alt=\"A well\"></body></html>";
const TEXT: &str =
    "Pray for *Kenya* this week.\n\nRead more [1]\n\n[image: A well]\n\nLinks:\n[1] https://example.org/r\n";

#[test]
fn a_message_whose_parts_agree_has_no_findings() {
    assert_eq!(message_of("Prayer", HTML, TEXT), Vec::<String>::new());
}

#[test]
fn the_parts_measure_skips_hidden_text_addresses_labels_and_formatting() {
    // Both parts: pray for kenya this week read more a well.
    let d = difference(HTML, TEXT);
    assert_eq!((d.html_words, d.missing_from_text), (9, 0), "{d}");
    assert_eq!((d.text_words, d.missing_from_html), (9, 0), "{d}");
    let d = difference(HTML, &TEXT.replace("[image: A well]", "[image: A bucket]"));
    assert_eq!((d.missing_from_text, d.missing_from_html), (1, 1), "{d}");
    assert_eq!(d.examples, ["well", "bucket"]);
}

#[test]
fn a_plaintext_that_says_something_else_is_reported_with_the_measure() {
    let text = "Cheap watches now, limited offer, click below, great deals today.\n";
    let found = message_of("Prayer", HTML, text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("content/b.md: the plaintext and HTML parts say different things (100% of the HTML's 9 words are not in the plaintext"), "{}", found[0]);
    assert!(found[0].contains("MPART_ALT_DIFF"), "{}", found[0]);
}

#[test]
fn a_plaintext_missing_a_paragraph_of_the_html_is_reported() {
    let html = "<body><p>one two three four five six seven eight nine ten</p><p>eleven twelve</p></body>";
    let found = message_of("Prayer", html, "one two three four five six seven eight nine ten\n");
    assert!(
        starts(
            &found,
            "content/b.md: the plaintext and HTML parts say different things (17% of the HTML's 12 words"
        ),
        "{found:?}"
    );
    let found = message_of("Prayer", html, "one two three four five six seven eight nine ten eleven\n");
    assert_eq!(found, Vec::<String>::new(), "one word in twelve (8%) is under the limit");
}

#[test]
fn a_subject_over_60_characters_is_reported_with_its_line() {
    let long = "Prayer requests for Kenya, the Dominican Republic and South Asia";
    assert_eq!(long.chars().count(), 64);
    let found = message_of(long, HTML, TEXT);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("content/b.md:2: the subject is 64 characters long;"), "{}", found[0]);
    let sixty: String = "é".repeat(60);
    assert_eq!(message_of(&sixty, HTML, TEXT), Vec::<String>::new(), "characters, not bytes, are counted");
}

#[test]
fn html_over_gmails_clipping_size_is_reported() {
    let big = format!("<body><p>{}</p></body>", "pray ".repeat(GMAIL_CLIP_BYTES / 5 + 10));
    let text = "pray ".repeat(GMAIL_CLIP_BYTES / 5 + 10);
    let found = message_of("Prayer", &big, &text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("content/b.md: the HTML part is 102 KB; Gmail clips messages over 102 KB"),
        "{}",
        found[0]
    );
}

#[test]
fn a_brand_colour_too_light_for_text_on_white_is_named_with_its_ratio() {
    let found = with_real(&[("BRAND_COLOR", "#777777")]);
    let warning = found.iter().find(|w| w.starts_with("setting BRAND_COLOR = #777777")).expect("warned");
    assert!(warning.contains("4.48:1") && warning.contains("4.5:1"), "{warning}");
    assert!(!starts(&with_real(&[("BRAND_COLOR", "#767676")]), "setting BRAND_COLOR"));
}

#[test]
fn a_button_label_that_does_not_stand_out_from_the_brand_colour_is_named_with_its_ratio() {
    let found = with_real(&[("BRAND_COLOR", "#1d4f91"), ("BRAND_TEXT_COLOR", "#2a5aa0")]);
    let warning = found.iter().find(|w| w.starts_with("setting BRAND_TEXT_COLOR = #2a5aa0")).expect("warned");
    assert!(warning.contains("BRAND_COLOR = #1d4f91") && warning.contains(":1"), "{warning}");
    assert!(warning.contains("#ffffff"), "suggests the colour it would choose: {warning}");
}

#[test]
fn the_default_brand_colours_pass_in_light_and_dark_mode() {
    let found = with_real(&[]);
    assert!(!found.iter().any(|w| w.contains("BRAND_")), "{found:?}");
    let blue = crate::config::DEFAULT_BRAND_COLOR;
    let dark = crate::render::on_dark(blue);
    assert!(dark.contrast(crate::render::DARK_CARD) >= 4.5, "{dark}");
    for light in ["#f5c518", "#ffffff", "#000000", "#0000ff"] {
        let c = crate::domain::Colour::parse(light).unwrap();
        assert!(crate::render::on_dark(c).contrast(crate::render::DARK_CARD) >= 4.5, "{light}");
    }
}

#[test]
fn a_brand_colour_that_even_lightened_for_dark_mode_is_faint_on_a_dark_surface_is_named_with_its_ratio() {
    // #000077 reads on white (light mode) and, lightened, on the dark card,
    // but not on the quote's darker grey-blue.
    let found = with_real(&[("BRAND_COLOR", "#000077")]);
    assert!(
        !starts(&found, "setting BRAND_COLOR = #000077 has a contrast ratio"),
        "light mode passes: {found:?}"
    );
    let warning = found
        .iter()
        .find(|w| w.starts_with("setting BRAND_COLOR = #000077 shows in dark mode as #8080bb"))
        .unwrap_or_else(|| panic!("warned of dark mode: {found:?}"));
    assert!(
        warning.contains("3.95:1") && warning.contains("#232a33") && warning.contains("4.5:1"),
        "{warning}"
    );
}

#[test]
fn the_button_keeps_its_colours_in_dark_mode_so_its_label_is_checked_once_for_both() {
    let found = with_real(&[("BRAND_COLOR", "#1d4f91"), ("BRAND_TEXT_COLOR", "#2a5aa0")]);
    let label: Vec<&String> = found.iter().filter(|w| w.starts_with("setting BRAND_TEXT_COLOR")).collect();
    assert_eq!(label.len(), 1, "{found:?}");
    assert!(label[0].contains("(light and dark mode)"), "{}", label[0]);
}

#[test]
fn a_bulletin_or_list_that_cannot_be_read_is_named_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let (bulletin, list) = (dir.path().join("gone.md"), dir.path().join("gone.csv"));
    let lists = crate::subscribers::Lists { subscribers: list.clone(), suppressed: None };
    let found = findings(&bulletin, &lists, &Source::default());
    let why = std::fs::read(&list).unwrap_err().to_string();
    for said in [
        format!("cannot read bulletin {}: {why}", bulletin.display()),
        format!("cannot read {}: {why}", list.display()),
    ] {
        assert!(found.errors.contains(&said), "{said:?} in {:?}", found.errors);
    }
}
