use std::io::Write;
use std::path::Path;

use pretty_assertions::assert_eq;
use scraper::{Html, Selector};

use super::*;
use crate::config::Source;
use crate::subscribers::{Audience, Row, SubscriberReader};

const SAMPLE: &str = include_str!("../../content/ijm-prayer-requests.md");

fn settings() -> Settings {
    Settings::from_source(&Source::from_pairs([
        ("ORG_NAME", "Hope & Justice Trust"),
        ("ORG_ADDRESS", "12 Market Street, Bristol BS1 1AA"),
        ("FROM_EMAIL", "prayer@hope.example.org"),
        ("ORG_WEBSITE", "https://hope.example.org"),
    ]))
    .unwrap()
}

/// Subscribers read through the real CSV reader.
fn list(csv: &str) -> (Columns, Vec<Subscriber>) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(csv.as_bytes()).unwrap();
    let reader = SubscriberReader::open(file.path(), Audience::default()).unwrap();
    let columns = reader.columns().clone();
    let subscribers = reader
        .filter_map(|row| match row.unwrap() {
            Row::Subscribed(s) => Some(s),
            Row::Skipped(_) => None,
        })
        .collect();
    (columns, subscribers)
}

fn bulletin(text: &str) -> Bulletin {
    Bulletin::parse(Path::new("content/test.md"), text).unwrap()
}

fn personalise(text: &str, csv: &str) -> Vec<Personalised> {
    let (columns, subscribers) = list(csv);
    let rendered = Rendered::new(&bulletin(text), &settings(), &columns).unwrap();
    subscribers
        .iter()
        .map(|s| {
            rendered.personalise(&Addressee {
                subscriber: s,
                unsubscribe_url: "https://hope.example.org/u?t=TOKEN",
                preferences_url: "",
            })
        })
        .collect()
}

fn sample_for(csv: &str) -> Personalised {
    personalise(SAMPLE, csv).remove(0)
}

fn ana() -> Personalised {
    sample_for("email,first_name,last_name\nana.silva@example.org,Ana,Silva\n")
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    doc.select(&Selector::parse(css).unwrap()).collect()
}

const HEAD: &str = "+++\nsubject = \"Hello {{ first_name | default('friend') }}\"\npreheader = \"Pre\"\ndate = 2025-10-16\n+++\n";

#[test]
fn the_sample_html_matches_its_golden_file() {
    // One tag per line, so a change shows as a readable diff.
    insta::assert_snapshot!("sample_html", ana().html.replace("><", ">\n<"));
}

#[test]
fn the_sample_text_matches_its_golden_file() {
    insta::assert_snapshot!("sample_text", ana().text);
}

#[test]
fn the_sample_html_has_the_email_safe_skeleton() {
    let html = ana().html;
    assert!(html.starts_with("<!DOCTYPE html>"));
    let doc = Html::parse_document(&html);
    assert_eq!(select(&doc, "html")[0].attr("lang"), Some("en"));
    assert_eq!(select(&doc, "meta[charset]")[0].attr("charset"), Some("utf-8"));
    assert_eq!(select(&doc, "meta[name=viewport]").len(), 1);
    assert_eq!(select(&doc, "meta[name=color-scheme]")[0].attr("content"), Some("light dark"));
    let tables = select(&doc, "table");
    assert!(tables.len() >= 3);
    assert!(tables.iter().all(|t| t.attr("role") == Some("presentation")));
    let container = select(&doc, "table.card")[0];
    assert_eq!(container.attr("width"), Some("600"));
    assert!(container.attr("style").unwrap().contains("max-width:600px"));
}

#[test]
fn the_only_style_block_holds_media_queries() {
    let html = ana().html;
    let doc = Html::parse_document(&html);
    let styles = select(&doc, "style");
    assert_eq!(styles.len(), 1);
    let css: String = styles[0].text().collect();
    // Every rule is inside an @media block or an Outlook dark-mode selector.
    let outside_media = css.split("@media").next().unwrap();
    assert!(outside_media.is_empty(), "{outside_media}");
    assert!(css.contains("prefers-color-scheme:dark"));
    assert!(css.contains("max-width:620px"));
}

#[test]
fn every_text_element_has_an_inline_style_with_readable_type() {
    let html = ana().html;
    let doc = Html::parse_document(&html);
    for el in select(&doc, "p, li, h1, h2, h3, td, blockquote, ul, ol, a") {
        let has_own = el.attr("style").is_some();
        assert!(
            has_own || el.value().name() == "li" || el.value().name() == "td",
            "{:?} has no inline style",
            el.value()
        );
    }
    // Every font size stated is at least 14px.
    for size in html.split("font-size:").skip(1) {
        let px: String = size.chars().take_while(char::is_ascii_digit).collect();
        let px: u32 = px.parse().unwrap();
        assert!(px >= 14 || px == 1, "font-size {px}px is too small");
    }
    let body_cell = select(&doc, "td.pad")[0].attr("style").unwrap();
    assert!(body_cell.contains("font-size:16px") && body_cell.contains("line-height:1.5"), "{body_cell}");
}

#[test]
fn the_preheader_is_hidden_and_first_in_the_body() {
    let doc = Html::parse_document(&ana().html);
    let first = select(&doc, "body > div")[0];
    assert!(first.attr("style").unwrap().contains("display:none"));
    let text: String = first.text().collect();
    assert!(text.starts_with("Pray with us this week for Kenya"));
}

#[test]
fn the_preheader_is_hidden_without_the_tiny_font_that_spam_filters_score() {
    // SpamAssassin reads `font-size:0px`/`1px` before words as invisible
    // text (__FONT_INVIS, __HTML_FONT_TINY_01, __AC_TINY_FONT; with them
    // FONT_INVIS_MSGID scored the sample 1.0). display:none and a zero
    // height hide the preheader in every client without it.
    let html = ana().html;
    let doc = Html::parse_document(&html);
    let style = select(&doc, "body > div")[0].attr("style").unwrap().to_owned();
    assert!(style.contains("display:none") && style.contains("max-height:0"), "{style}");
    assert!(!html.contains("font-size:0") && !html.contains("font-size:1px"), "{style}");
}

#[test]
fn the_sample_parts_agree_by_the_measure_check_uses() {
    let p = ana();
    let d = crate::lint::difference(&p.html, &p.text);
    assert!(d.html_words > 400, "{d}");
    assert_eq!((d.missing_from_text, d.missing_from_html), (0, 0), "{d}");
    let p = personalise(
        &format!("{HEAD}\n# Title\n\n**Bold**, _it_, ~~gone~~ and `code`; [a link](https://example.org/a).\n\n1. one\n   - two\n\n> quoted\n>\n> — someone\n\n![A well in Kenya](https://example.org/w.jpg)\n\n---\n\n    preformatted text\n"),
        "email,first_name\na@example.org,Ana\n",
    )
    .remove(0);
    let d = crate::lint::difference(&p.html, &p.text);
    assert_eq!((d.missing_from_text, d.missing_from_html), (0, 0), "{d}\n{}", p.text);
}

#[test]
fn the_sample_has_a_heading_per_region_and_the_verse_as_a_quote() {
    let doc = Html::parse_document(&ana().html);
    let h2: Vec<String> = select(&doc, "h2").iter().map(|h| h.text().collect()).collect();
    assert_eq!(h2, ["Latin America", "South Asia", "Southeast Asia", "IJM HQ & Global Partners"]);
    let quote: String = select(&doc, "blockquote")[0].text().collect();
    assert!(quote.contains("“You, LORD, will keep the needy safe"));
    assert!(quote.contains("— Psalm 12:7-8"));
    assert_eq!(select(&doc, "ul > li").len(), 5);
}

#[test]
fn the_footer_names_the_organisation_reason_and_unsubscribe_link() {
    let html = ana().html;
    let doc = Html::parse_document(&html);
    let footer: String = select(&doc, "td.muted")[0].text().collect();
    assert!(footer.contains("Hope & Justice Trust"));
    assert!(footer.contains("12 Market Street, Bristol BS1 1AA"));
    assert!(footer.contains("because you signed up"));
    assert!(footer.contains("sent to ana.silva@example.org"));
    let links: Vec<_> = select(&doc, "td.muted a").iter().filter_map(|a| a.attr("href")).collect();
    assert_eq!(links, ["https://hope.example.org/u?t=TOKEN", "https://hope.example.org/"]);
}

#[test]
fn the_sample_is_far_under_gmails_clipping_limit() {
    let html = ana().html;
    assert!(html.len() < crate::message::GMAIL_CLIP_BYTES / 4, "{} bytes", html.len());
}

#[test]
fn the_text_part_has_the_same_words_as_the_html() {
    let p = ana();
    let doc = Html::parse_document(&p.html);
    let words = |s: &str| {
        s.split_whitespace()
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_owned())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
    };
    let body: String = select(&doc, "td.pad")[0].text().collect::<Vec<_>>().join(" ");
    let html_words = words(&body);
    let text_words = words(&p.text);
    // The text part holds every word of the HTML body, in the same order.
    let mut rest = text_words.iter();
    for word in &html_words {
        assert!(rest.any(|w| w == word), "`{word}` missing or out of order in the text part");
    }
}

#[test]
fn text_lines_are_at_most_78_columns() {
    let p = personalise(
        &format!(
            "{HEAD}\n{}\n\n- {}\n  1. {}\n",
            "word ".repeat(60),
            "nested ".repeat(30),
            "deeper ".repeat(30)
        ),
        "email,first_name\na@example.org,Ana\n",
    )
    .remove(0);
    for line in p.text.lines() {
        let is_one_token = !line.trim().contains(' ');
        assert!(textwrap::core::display_width(line) <= text::WIDTH || is_one_token, "too long: {line:?}");
    }
}

#[test]
fn links_become_numbered_references_in_text() {
    let p = personalise(
        &format!("{HEAD}\nRead [our report](https://example.org/r) and [give](https://example.org/g), or visit <https://example.org>. [Again](https://example.org/r).\n"),
        "email,first_name\na@example.org,Ana\n",
    )
    .remove(0);
    assert!(
        p.text.contains("Read our report [1] and give [2], or visit https://example.org. Again [1]."),
        "{}",
        p.text
    );
    assert!(p.text.contains("Links:\n[1] https://example.org/r\n[2] https://example.org/g\n"), "{}", p.text);
}

#[test]
fn numbered_and_nested_lists_render_in_both_parts() {
    let p = personalise(
        &format!("{HEAD}\n1. First\n   - inner\n2. Second\n"),
        "email,first_name\na@example.org,Ana\n",
    )
    .remove(0);
    assert!(p.text.contains("1. First\n\n   * inner\n\n2. Second\n"), "{}", p.text);
    let doc = Html::parse_document(&p.html);
    assert_eq!(select(&doc, "ol > li").len(), 2);
    assert_eq!(select(&doc, "ol > li > ul > li").len(), 1);
}

#[test]
fn images_keep_their_alt_text() {
    let p = personalise(
        &format!("{HEAD}\n![Children at school in Accra](https://example.org/a.jpg)\n"),
        "email,first_name\na@example.org,Ana\n",
    )
    .remove(0);
    let doc = Html::parse_document(&p.html);
    assert_eq!(select(&doc, "img")[0].attr("alt"), Some("Children at school in Accra"));
    assert!(p.text.contains("[image: Children at school in Accra]"));
}

#[test]
fn subscriber_values_are_escaped_in_html_and_literal_in_text() {
    let p = personalise(
        &format!("{HEAD}\nDear {{{{ first_name }}}}, from **{{{{ town }}}}**.\n"),
        "email,first_name,town\na@example.org,<script>alert(1)</script>,**Eve** & \"co\"\n",
    )
    .remove(0);
    assert!(!p.html.contains("<script>"), "{}", p.html);
    assert!(p.html.contains(
        "Dear &lt;script&gt;alert(1)&lt;/script&gt;, from <strong>**Eve** &amp; &quot;co&quot;</strong>."
    ));
    assert!(p.text.contains("Dear <script>alert(1)</script>, from ***Eve** & \"co\"*."), "{}", p.text);
}

#[test]
fn the_subject_is_personalised_on_one_line() {
    let p = personalise(
        HEAD.to_owned().as_str().to_owned().add_body(),
        "email,first_name\na@example.org,\"Ana\nBcc: x@example.org\"\nb@example.org,\n",
    );
    assert_eq!(p[0].subject, "Hello Ana Bcc: x@example.org");
    assert_eq!(p[1].subject, "Hello friend");
}

#[test]
fn defaults_fill_empty_values_in_the_body() {
    let texts = personalise(SAMPLE, "email,first_name\na@example.org,Ana\nb@example.org,  \n");
    assert!(texts[0].text.contains("Dear Ana, thank you"));
    assert!(texts[1].text.contains("Dear prayer partner, thank you"));
    assert!(texts[1].html.contains("Dear prayer partner, thank you"));
}

#[test]
fn a_long_name_rewraps_its_paragraph() {
    let long = "Bartholomew-Maximilian Featherstonehaugh-Cholmondeley";
    let p = sample_for(&format!("email,first_name\na@example.org,{long}\n"));
    let first_para: Vec<&str> = p.text.split("\n\n").nth(1).unwrap().lines().collect();
    assert_eq!(first_para.len(), 2, "{first_para:?}");
    assert!(first_para.iter().all(|l| l.len() <= text::WIDTH));
}

#[test]
fn unknown_merge_fields_are_reported_with_their_lines_before_rendering() {
    let b = bulletin(&format!("{HEAD}\nHi {{{{ frist_name }}}} of {{{{ town }}}}\n"));
    let (columns, _) = list("email,first_name\n");
    let errors = Rendered::new(&b, &settings(), &columns).unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "content/test.md:7: merge field `frist_name` is not a column of the subscriber list (its columns: email, first_name)",
            "content/test.md:7: merge field `town` is not a column of the subscriber list (its columns: email, first_name)",
        ]
    );
}

#[test]
fn empty_fields_without_a_default_are_reported() {
    let b = bulletin(&format!("{HEAD}\nHi {{{{ first_name }}}}\n"));
    let (columns, subs) = list("email,first_name\na@example.org,\nb@example.org,Bo\n");
    let rendered = Rendered::new(&b, &settings(), &columns).unwrap();
    let empty: Vec<_> = rendered.empty_fields(&subs[0]).map(ToString::to_string).collect();
    assert_eq!(empty, ["first_name"]);
    assert_eq!(rendered.empty_fields(&subs[1]).count(), 0);
}

trait AddBody {
    fn add_body(self) -> &'static str;
}

impl AddBody for String {
    fn add_body(self) -> &'static str {
        Box::leak(format!("{self}\nBody\n").into_boxed_str())
    }
}

fn branded(text: &str, pairs: &[(&str, &str)]) -> Personalised {
    let (columns, subscribers) = list("email,first_name\na@example.org,Ana\n");
    let mut all = vec![
        ("ORG_NAME", "Hope & Justice Trust"),
        ("ORG_ADDRESS", "12 Market Street, Bristol BS1 1AA"),
        ("FROM_EMAIL", "prayer@hope.example.org"),
    ];
    all.extend_from_slice(pairs);
    let settings = Settings::from_source(&Source::from_pairs(all)).unwrap();
    let rendered = Rendered::new(&bulletin(text), &settings, &columns).unwrap();
    rendered.personalise(&Addressee {
        subscriber: &subscribers[0],
        unsubscribe_url: "https://hope.example.org/u",
        preferences_url: "",
    })
}

#[test]
fn a_button_is_a_table_cell_in_the_brand_colours_and_a_line_of_text() {
    let p = branded(
        &format!("{HEAD}\nIntro.\n\n[Donate **today**](https://example.org/give){{.button}}\n\nAfter.\n"),
        &[("BRAND_COLOR", "#8a1538")],
    );
    let doc = Html::parse_document(&p.html);
    let cell = select(&doc, "table.button td")[0];
    assert_eq!(cell.attr("bgcolor"), Some("#8a1538"));
    assert!(cell.attr("style").unwrap().contains("background-color:#8a1538"), "{:?}", cell.attr("style"));
    assert!(cell.attr("style").unwrap().contains("mso-padding-alt:14px 28px"));
    let link = select(&doc, "table.button td a")[0];
    assert_eq!(link.attr("href"), Some("https://example.org/give"));
    let style = link.attr("style").unwrap();
    assert!(style.contains("color:#ffffff") && style.contains("display:inline-block"), "{style}");
    // 14px of padding above and below a 20px line: 48px, over the 44px touch target.
    assert!(style.contains("padding:14px 28px") && style.contains("line-height:20px"), "{style}");
    assert_eq!(link.text().collect::<String>(), "Donate today");
    assert!(!p.html.contains("{.button}") && !p.text.contains("{.button}"));
    assert!(p.text.contains("\nDonate *today*: https://example.org/give\n\nAfter.\n"), "{}", p.text);
    assert!(!p.text.contains("Links:"), "{}", p.text);
}

#[test]
fn the_brand_colour_colours_headings_links_and_rules_and_dark_mode_lightens_it() {
    let p = branded(
        &format!("{HEAD}\n## Asia\n\nSee [this](https://example.org/a).\n\n---\n\nEnd.\n"),
        &[("BRAND_COLOR", "#8A1538")],
    );
    let doc = Html::parse_document(&p.html);
    assert!(select(&doc, "h2")[0].attr("style").unwrap().contains("color:#8a1538"));
    assert!(select(&doc, "td.pad a")[0].attr("style").unwrap().contains("color:#8a1538"));
    assert!(!p.html.contains("#1d4f91") && !p.html.contains("#1a5fb4"), "today's blue is gone");
    let dark = crate::render::on_dark(crate::domain::Colour::parse("#8a1538").unwrap());
    assert!(p.html.contains(&format!("a{{color:{dark}!important}}")), "{}", p.html);
    assert!(p.html.contains(".button a{color:#ffffff!important}"));
}

#[test]
fn footer_links_to_give_and_follow_show_in_both_parts() {
    let p = branded(
        &format!("{HEAD}\nHello.\n"),
        &[
            ("DONATE_URL", "https://hope.example.org/give"),
            ("INSTAGRAM_URL", "https://instagram.com/hope"),
            ("FACEBOOK_URL", "https://facebook.com/hope"),
        ],
    );
    let doc = Html::parse_document(&p.html);
    let links: Vec<(String, String)> = select(&doc, "td.muted a")
        .iter()
        .map(|a| (a.text().collect(), a.attr("href").unwrap().to_owned()))
        .collect();
    let pair = |w: &str, u: &str| (w.to_owned(), u.to_owned());
    assert!(links.contains(&pair("Donate", "https://hope.example.org/give")), "{links:?}");
    assert!(links.contains(&pair("Facebook", "https://facebook.com/hope")), "{links:?}");
    assert!(links.contains(&pair("Instagram", "https://instagram.com/hope")), "{links:?}");
    assert!(p.text.contains("Donate: https://hope.example.org/give\nFacebook: https://facebook.com/hope\nInstagram: https://instagram.com/hope\n"), "{}", p.text);
}

#[test]
fn a_button_has_a_vml_fallback_for_outlook_on_windows_and_the_table_for_everyone_else() {
    let p = branded(
        &format!(
            "{HEAD}\nIntro.\n\n[Donate **today**](https://example.org/give?a=1&b=2){{.button}}\n\nAfter.\n"
        ),
        &[("BRAND_COLOR", "#8a1538")],
    );
    let open = p.html.find("<!--[if mso]><v:roundrect").expect("a VML button for Outlook");
    let end = open + p.html[open..].find("<![endif]-->").expect("the fallback is closed");
    let vml = &p.html[open..end];
    assert!(vml.contains("xmlns:v=\"urn:schemas-microsoft-com:vml\""), "{vml}");
    assert!(vml.contains("href=\"https://example.org/give?a=1&amp;b=2\""), "the link, escaped: {vml}");
    assert!(vml.contains("fillcolor=\"#8a1538\"") && vml.contains("stroke=\"f\""), "{vml}");
    assert!(vml.contains("height:48px;"), "as tall as the others' 48px: {vml}");
    assert!(
        vml.contains("color:#ffffff;") && vml.contains(">Donate <strong>today</strong></center>"),
        "{vml}"
    );
    assert!(vml.contains("</v:roundrect>"), "{vml}");
    // Everyone else gets the table as before; Outlook does not see it twice.
    let rest = &p.html[end..];
    let table = rest.find("<table role=\"presentation\" class=\"button\"").expect("the table button");
    assert!(rest[..table].contains("<!--[if !mso]><!-->"), "the table is hidden from Outlook: {rest}");
    assert!(rest[table..].contains("</table><!--<![endif]-->"), "{rest}");
    // Browsers and parsers see one button: the comment is a comment.
    let doc = Html::parse_document(&p.html);
    assert_eq!(select(&doc, "table.button td a").len(), 1);
    assert_eq!(select(&doc, "table.button td a")[0].text().collect::<String>(), "Donate today");
}

fn web() -> WebPage {
    WebPage { index: "../index.html".into(), feed: "../feed.xml".into() }
}

#[test]
fn a_web_page_links_subscribe_and_the_archive_and_has_no_address_or_unsubscribe_link() {
    let settings = Settings::from_source(&Source::from_pairs([
        ("ORG_NAME", "Hope & Justice Trust"),
        ("ORG_ADDRESS", "12 Market Street, Bristol BS1 1AA"),
        ("SUBSCRIBE_URL", "https://hope.example.org/join"),
        ("ARCHIVE_URL", "https://hope.example.org/bulletins"),
    ]))
    .unwrap();
    let text = "+++\nsubject = \"News\"\npreheader = \"This week\"\ndate = 2025-10-16\n+++\n\nHello all.\n";
    let page = Rendered::page(&bulletin(text), &settings, &[], None, web());
    let document = Html::parse_document(&page.html);
    let links: Vec<&str> =
        document.select(&Selector::parse("a").unwrap()).filter_map(|a| a.value().attr("href")).collect();
    assert_eq!(links, ["https://hope.example.org/join", "../index.html", "../feed.xml"]);
    let h1: Vec<String> =
        document.select(&Selector::parse("h1").unwrap()).map(|h| h.text().collect()).collect();
    assert_eq!(h1, ["News"], "without a title, the subject heads the page");
    for absent in ["Unsubscribe", "sent to", "12 Market Street", "in your browser", "This week&#847;"] {
        assert!(!page.html.contains(absent), "{absent:?} is on the page");
    }
}

#[test]
fn with_archive_url_an_email_links_its_page_first_and_the_archive_in_the_footer() {
    let settings =
        Settings::from_source(&Source::from_pairs([("ARCHIVE_URL", "https://hope.example.org/bulletins/")]))
            .unwrap();
    let (columns, subscribers) = list("email,first_name\nana@example.org,Ana\n");
    let rendered = Rendered::new(&bulletin(SAMPLE), &settings, &columns).unwrap();
    let email = rendered.personalise(&Addressee {
        subscriber: &subscribers[0],
        unsubscribe_url: "https://u.example.org/?t=T",
        preferences_url: "",
    });
    let page = "https://hope.example.org/bulletins/2025-10-16-test/";
    let document = Html::parse_document(&email.html);
    let links: Vec<&str> =
        document.select(&Selector::parse("a").unwrap()).filter_map(|a| a.value().attr("href")).collect();
    assert_eq!(links.first(), Some(&page));
    assert!(links.contains(&"https://hope.example.org/bulletins/"), "{links:?}");
    assert!(email.text.starts_with(&format!("View this email in your browser: {page}\n")), "{}", email.text);
    assert!(email.text.contains("Past issues: https://hope.example.org/bulletins/\n"));
}
