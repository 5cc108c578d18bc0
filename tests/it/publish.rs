//! `bulletin publish`: the web archive, its index and Atom feed, read back
//! the way visitors and feed readers read them (Python's HTML parser and
//! `feedparser`, headless Chromium), and the links the emails gain from
//! ARCHIVE_URL.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use serde_json::{Value as Json, json};

use crate::browser_util::with_browser;
use crate::util::{SAMPLE_BULLETIN, SAMPLE_SUBSCRIBERS, Test, collapse, visible_text};

/// The sample's campaign and page.
const SAMPLE_CAMPAIGN: &str = "2025-10-16-ijm-prayer-requests";
/// The bulletin written for these tests: newer than the sample, with a
/// photo, a merge field with a default and one without.
const NEWS: &str = "content/autumn-news.md";
const NEWS_CAMPAIGN: &str = "2025-11-06-autumn-news";
const BASE: &str = "https://news.example.org/archive";

fn news() -> String {
    "+++\n\
     subject = \"Autumn news for {{ first_name | default(\\\"our friends\\\") }}\"\n\
     preheader = \"A new school, a photo and a thank-you.\"\n\
     date = 2025-11-06\n\
     title = \"Autumn news\"\n\
     +++\n\n\
     Dear {{ first_name | default(\"friend\") }}, here is our autumn news. \
     We thought of you in {{ town }} this week. Thank you for praying.\n\n\
     ## A new school\n\n\
     ![Children outside the new school](images/school.jpg)\n\n\
     The school opened in October with [forty pupils](https://example.org/school).\n"
        .to_owned()
}

fn photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(800, 600, |x, y| image::Rgb([(x / 4) as u8, (y / 3) as u8, 90]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).unwrap();
    out
}

/// The sample, the news, and two bulletins that must stay out of the site.
fn with_bulletins() -> Test {
    Test::with_sample()
        .file(NEWS, news())
        .file("content/images/school.jpg", photo())
        .file(
            "content/private.md",
            crate::util::bulletin_with("archive = false\n", "Only for the prayer team: PRIVATE-NOTE.\n"),
        )
        .file(
            "content/unfinished.md",
            crate::util::bulletin_with("draft = true\n", "Not ready yet: DRAFT-NOTE.\n"),
        )
}

/// What tests/support/site_check.py found in the site at `dir`.
fn site_check(dir: &Path) -> Json {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/site_check.py");
    let output = Command::new("python3").arg(&script).arg(dir).output().expect("cannot run python3");
    assert!(
        output.status.success(),
        "site_check.py failed (is feedparser installed? scripts/test.sh installs it):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("site_check.py prints JSON")
}

/// Every file under `dir`, by path relative to it.
fn files(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, (Vec<u8>, SystemTime)>) {
        for entry in fs::read_dir(dir).expect("cannot list folder") {
            let path = entry.expect("cannot read folder entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let modified = fs::metadata(&path).and_then(|m| m.modified()).expect("an mtime");
                let bytes = fs::read(&path).expect("cannot read file");
                out.insert(path.strip_prefix(root).unwrap().to_owned(), (bytes, modified));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Dates every file under `dir` back to 2001, so that one written again
/// afterwards has another time however soon it is written, rather than a
/// test waiting for the file system's clock to move on.
fn backdate(dir: &Path) {
    let past = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    for path in files(dir).into_keys() {
        let path = dir.join(path);
        let file = fs::File::options().write(true).open(&path).expect("cannot open a file to date it");
        file.set_modified(past).unwrap_or_else(|e| panic!("cannot date {}: {e}", path.display()));
    }
}

fn read(test: &Test, path: &str) -> String {
    fs::read_to_string(test.join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

#[test]
fn publish_writes_a_page_per_issue_and_an_index_newest_first() {
    let test = with_bulletins();
    test.run(&["publish", "--base-url", BASE]).code(0).stdout_has("2 issue(s)");

    let index = visible_text(&read(&test, "site/index.html"));
    let news = index.find("Autumn news").unwrap_or_else(|| panic!("the index lists the news: {index}"));
    let sample =
        index.find("IJM Prayer Requests").unwrap_or_else(|| panic!("the index lists the sample: {index}"));
    assert!(news < sample, "the newer issue comes first: {index}");
    for shown in
        ["2025-11-06", "2025-10-16", "A new school, a photo and a thank-you.", "Pray with us this week"]
    {
        assert!(index.contains(shown), "the index shows {shown:?}: {index}");
    }

    let page = read(&test, &format!("site/{NEWS_CAMPAIGN}/index.html"));
    assert!(page.contains("<html lang=\"en\""), "the page says its language");
    let text = visible_text(&page);
    assert!(text.contains("Dear friend, here is our autumn news."), "defaults stand in: {text}");
    assert!(
        !text.contains("We thought of you"),
        "a sentence whose merge field has no default is left out: {text}"
    );
    assert!(text.contains("Thank you for praying."), "the next sentence stays: {text}");
    assert!(!text.contains("Unsubscribe"), "a page has no unsubscribe link: {text}");
    let sample_page = collapse(&visible_text(&read(&test, &format!("site/{SAMPLE_CAMPAIGN}/index.html"))));
    assert!(sample_page.contains("Dear prayer partner, thank you for praying with us this week."));
    assert!(sample_page.contains("Example Charity"), "the organisation is named: {sample_page}");
    assert!(
        test.join(&format!("site/{NEWS_CAMPAIGN}")).read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".jpg")),
        "the photo is beside its page"
    );
}

#[test]
fn the_feed_parses_in_a_feed_reader_and_every_internal_link_in_the_site_leads_to_a_file() {
    let test = with_bulletins().env("SUBSCRIBE_URL", "https://news.example.org/subscribe");
    test.run(&["publish", "--base-url", BASE]).code(0);
    let found = site_check(&test.join("site"));

    let links = &found["links"];
    assert_eq!(links["broken"], json!([]), "links that lead nowhere: {links}");
    assert!(links["checked"].as_u64().unwrap() >= 6, "too few internal links looked at: {links}");
    let external: Vec<&str> = links["external"].as_array().unwrap().iter().filter_map(Json::as_str).collect();
    assert!(external.contains(&"https://news.example.org/subscribe"), "a subscribe link: {external:?}");

    let feed = &found["feed"];
    assert_eq!(feed["bozo"], json!(false), "the feed is well formed: {feed}");
    let entries = feed["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{feed}");
    assert_eq!(entries[0]["title"], json!("Autumn news for our friends"));
    assert_eq!(entries[1]["title"], json!("IJM Prayer Requests — “You, LORD, will keep the needy safe”"));
    assert_eq!(entries[0]["link"], json!(format!("{BASE}/{NEWS_CAMPAIGN}/")));
    assert_eq!(entries[1]["link"], json!(format!("{BASE}/{SAMPLE_CAMPAIGN}/")));
    assert!(entries[0]["updated"].as_str().unwrap().starts_with("2025-11-06"), "{}", entries[0]);
    assert!(entries[1]["published"].as_str().unwrap().starts_with("2025-10-16"), "{}", entries[1]);
    let content = entries[0]["content"][0].as_str().unwrap();
    assert!(content.contains("forty pupils") && content.contains("Thank you for praying."), "{content}");
    let content = entries[1]["content"][0].as_str().unwrap();
    assert!(content.contains("Praise God for justice in Cambodia"), "full content: {content}");
}

#[test]
fn no_file_in_the_site_holds_a_subscriber_address_a_token_or_a_merge_field() {
    let test = with_bulletins()
        .env("UNSUBSCRIBE_URL", "https://news.example.org/unsubscribe")
        .env("UNSUBSCRIBE_SECRET", "a-long-enough-secret-for-the-tests-0123456789");
    test.run(&["publish", "--base-url", BASE]).code(0);
    let list = fs::read_to_string(test.join(SAMPLE_SUBSCRIBERS)).unwrap();
    let addresses: Vec<&str> = list
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .map(|a| a.trim_matches('"'))
        .filter(|a| a.contains('@'))
        .collect();
    assert!(addresses.len() >= 10, "{addresses:?}");
    let site = files(&test.join("site"));
    assert!(site.len() >= 5, "{:?}", site.keys());
    for (path, (bytes, _)) in &site {
        let text = String::from_utf8_lossy(bytes);
        for address in &addresses {
            assert!(!text.contains(address), "{} holds {address}", path.display());
        }
        for needle in ["?t=", "{{", "@example.org", "@example.com", "sent to"] {
            assert!(!text.contains(needle), "{} holds {needle:?}", path.display());
        }
    }
}

#[test]
fn bulletins_marked_archive_false_or_draft_are_left_out_of_the_site() {
    let test = with_bulletins();
    test.run(&["publish"]).code(0);
    for (path, (bytes, _)) in files(&test.join("site")) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("PRIVATE-NOTE") && !text.contains("DRAFT-NOTE"), "{}", path.display());
        let name = path.display().to_string();
        assert!(!name.contains("private") && !name.contains("unfinished"), "{name}");
    }
    // Named on the command line, they are still left out.
    test.run(&["publish", "content/private.md", "content/unfinished.md", "--out", "named"])
        .code(0)
        .stdout_has("0 issue(s)");
    assert!(!test.join("named/2025-10-16-private").exists());
}

#[test]
fn publishing_unchanged_content_again_rewrites_no_file() {
    let test = with_bulletins();
    test.run(&["publish"]).code(0);
    backdate(&test.join("site"));
    let before = files(&test.join("site"));
    test.run(&["publish"]).code(0).stdout_has("0 written");
    let after = files(&test.join("site"));
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
    for (path, (bytes, modified)) in &before {
        assert!(after[path].0 == *bytes, "{} changed", path.display());
        assert_eq!(after[path].1, *modified, "{} was written again", path.display());
    }

    // An issue taken out of content/ is taken out of the site.
    fs::remove_file(test.join(NEWS)).unwrap();
    test.run(&["publish"]).code(0);
    assert!(!test.join(&format!("site/{NEWS_CAMPAIGN}/index.html")).exists());
    assert!(!read(&test, "site/index.html").contains("Autumn news"));
}

/// Issue 23, row 12: `publish draft.md team.md --out site` said "2
/// removed" and deleted every other issue from the site (and, through the
/// README's `rsync --delete`, from the live archive).
#[test]
fn publishing_named_bulletins_changes_only_their_issues_and_a_named_draft_or_private_one_is_skipped_saying_why()
 {
    let test = with_bulletins();
    test.run(&["publish"]).code(0).stdout_has("2 issue(s)");
    backdate(&test.join("site"));
    let before = files(&test.join("site"));

    let run = test.run(&["publish", "content/unfinished.md", "content/private.md"]).code(0);
    run.stdout_has("skipped content/unfinished.md: a draft (draft = true)")
        .stdout_has("skipped content/private.md: archive = false")
        .stdout_has("0 removed");
    let after = files(&test.join("site"));
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>(), "every issue stays");
    for (path, (bytes, modified)) in &before {
        assert!(after[path].0 == *bytes && after[path].1 == *modified, "{} was written", path.display());
    }

    // A new issue named is added, and the index and feed list it with the
    // others; an issue not named stays as it was, though its text changed.
    let winter = crate::util::bulletin("Winter news: WINTER-NOTE.\n").replace("2025-10-16", "2025-12-04");
    let test = test.file("content/winter.md", winter).file(NEWS, news().replace("forty", "fifty"));
    test.run(&["publish", "content/winter.md"]).code(0).stdout_has("1 issue(s)").stdout_has("0 removed");
    let after = files(&test.join("site"));
    assert!(read(&test, "site/2025-12-04-winter/index.html").contains("WINTER-NOTE"));
    let news_page = PathBuf::from(format!("{NEWS_CAMPAIGN}/index.html"));
    assert_eq!(after[&news_page], before[&news_page], "an issue not named is left as it was");
    let index = visible_text(&read(&test, "site/index.html"));
    let at =
        |needle: &str| index.find(needle).unwrap_or_else(|| panic!("the index lists {needle:?}: {index}"));
    assert!(at("2025-12-04") < at("Autumn news") && at("Autumn news") < at("IJM Prayer Requests"), "{index}");
    assert_eq!(site_check(&test.join("site"))["feed"]["entries"].as_array().unwrap().len(), 3);

    // An issue whose bulletin left content/ stays too, and the run says
    // the index no longer lists it.
    fs::remove_file(test.join(NEWS)).unwrap();
    let run = test.run(&["publish", "content/winter.md"]).code(0).stdout_has("0 removed");
    run.stderr_has(&format!("site/{NEWS_CAMPAIGN} is kept, but no bulletin in content/ makes it"));
    assert!(test.join(&format!("site/{NEWS_CAMPAIGN}/index.html")).exists());
}

#[test]
fn with_archive_url_the_email_links_its_page_in_both_parts_and_has_a_list_archive_header() {
    let test = Test::with_sample().env("ARCHIVE_URL", BASE);
    test.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(0);
    let emls = test.emls("out");
    let eml = &emls[0];
    let page = format!("{BASE}/{SAMPLE_CAMPAIGN}/");
    assert_eq!(eml.header("List-Archive"), Some(format!("<{BASE}/>")));

    let html = eml.html();
    let document = scraper::Html::parse_document(&html);
    let links: Vec<(String, String)> = document
        .select(&scraper::Selector::parse("a[href]").unwrap())
        .map(|a| (a.value().attr("href").unwrap().to_owned(), collapse(&a.text().collect::<String>())))
        .collect();
    assert_eq!(
        links.first(),
        Some(&(page.clone(), "View this email in your browser".to_owned())),
        "the first link is to the page: {links:?}"
    );
    assert!(
        links.iter().any(|(href, _)| *href == format!("{BASE}/")),
        "the footer links the archive: {links:?}"
    );

    let text = eml.text();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap();
    assert_eq!(first, format!("View this email in your browser: {page}"), "{text}");
    assert!(text.contains(&format!("Past issues: {BASE}/")), "{text}");

    // Without ARCHIVE_URL, none of it.
    let plain = Test::with_sample();
    plain.run(&["send", SAMPLE_BULLETIN, "--dry-run", "--out", "out"]).code(0);
    let eml = &plain.emls("out")[0];
    assert_eq!(eml.header("List-Archive"), None);
    assert!(!eml.text().contains("in your browser"));
}

#[test]
fn check_warns_of_an_unpublished_page_and_refuses_an_unarchived_bulletin_the_email_would_link() {
    // A list with no problems of its own, so check's exit code is about the archive.
    let test = with_bulletins()
        .file(SAMPLE_SUBSCRIBERS, "email,first_name,town\nana@example.org,Ana,Lisbon\n")
        .env("ARCHIVE_URL", BASE);
    test.run(&["check", SAMPLE_BULLETIN])
        .code(0)
        .stdout_has(&format!("warning: ARCHIVE_URL is set but site/{SAMPLE_CAMPAIGN}/index.html"))
        .stdout_has("bulletin publish");
    test.run(&["publish"]).code(0);
    let run = test.run(&["check", SAMPLE_BULLETIN]).code(0);
    assert!(!run.printed().contains("bulletin publish"), "{}", run.printed());
    // Another folder, named.
    test.run(&["check", SAMPLE_BULLETIN, "--site", "elsewhere"])
        .code(0)
        .stdout_has(&format!("elsewhere/{SAMPLE_CAMPAIGN}/index.html"));

    let run = test.run(&["check", "content/private.md"]).code(1);
    assert!(
        run.printed().contains("archive = false") && run.printed().contains("ARCHIVE_URL"),
        "{}",
        run.printed()
    );
}

#[test]
fn send_refuses_a_draft_without_allow_draft_but_a_dry_run_makes_it() {
    let test = with_bulletins();
    let run =
        test.run(&["send", "content/unfinished.md", "--yes", "--smtp-host", "127.0.0.1", "--smtp-port", "9"]);
    let run = run.code(2);
    assert!(run.printed().contains("draft") && run.printed().contains("--allow-draft"), "{}", run.printed());
    assert!(!run.printed().contains("127.0.0.1:9"), "refused before connecting: {}", run.printed());
    test.run(&["send", "content/unfinished.md", "--dry-run"]).code(0);
    test.run(&["check", "content/unfinished.md"]).stdout_has("is a draft");

    // With --allow-draft the send goes on, to the next thing it needs.
    let run = test.run(&["send", "content/unfinished.md", "--yes", "--allow-draft"]).code(2);
    assert!(!run.printed().contains("is a draft"), "{}", run.printed());
    assert!(run.printed().contains("refusing to send with example.org placeholders"), "{}", run.printed());
}

#[test]
fn an_issue_page_and_the_index_fit_a_phone_and_a_desktop_with_body_text_of_at_least_16px() {
    let test = with_bulletins();
    test.run(&["publish"]).code(0);
    let pages = [test.join("site/index.html"), test.join(&format!("site/{SAMPLE_CAMPAIGN}/index.html"))];
    with_browser(async |client| {
        for width in [375_u32, 1280] {
            client.set_window_size(width, 900).await.expect("cannot size the window");
            for page in &pages {
                let url = format!("file://{}", page.display());
                client.goto(&url).await.unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
                let found = client
                    .execute(
                        "const root = document.documentElement;
                         const found = { viewport: root.clientWidth, scroll: root.scrollWidth, checked: 0, small: [] };
                         for (const el of document.body.querySelectorAll('p, li, blockquote, td')) {
                           const hasText = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim() !== '');
                           if (!hasText || el.closest('footer, .muted')) continue;
                           found.checked++;
                           const size = parseFloat(getComputedStyle(el).fontSize);
                           if (!(size >= 16)) found.small.push(`${el.tagName} ${size}: ${el.textContent.trim().slice(0, 50)}`);
                         }
                         return found;",
                        vec![],
                    )
                    .await
                    .expect("the script runs");
                let what = format!("{} at {width}px: {found}", page.display());
                let viewport = found["viewport"].as_f64().unwrap();
                assert!((viewport - f64::from(width)).abs() <= 20.0, "the window is {width}px wide: {what}");
                assert!(found["scroll"].as_f64().unwrap() <= viewport, "scrolls sideways: {what}");
                assert!(found["checked"].as_u64().unwrap() >= 2, "too little text looked at: {what}");
                assert_eq!(found["small"], json!([]), "body text under 16px: {what}");
            }
        }
    });
}
