//! Issue 25, the image-ratio warning: `check` and the dry run warn exactly
//! when SpamAssassin's `HTML_IMAGE_RATIO_*` rules (too little text for the
//! area of the pictures) fire on the message the dry run wrote, and what
//! the warning says clears it does.
//!
//! The sample, a short bulletin with one large photo, that bulletin with
//! the text the warning asks for (and one character less), and with the
//! photo as wide as the warning allows (and one pixel wider) are dry-run
//! with a real organisation's settings and scored together in one run of
//! SpamAssassin (see `spam.rs`).

use crate::images::big_photo;
use crate::spam::{ENV, RETURN_PATH, Verdict, score};
use crate::util::{SAMPLE_BULLETIN, SAMPLE_LOGO, Test, bulletin};

const LIST: &str = "email,first_name\nana@example.org,Ana\n";
const PHOTO: &str = "images/photo.jpg";

/// A few lines of text and one photo, as a short bulletin is; `more` is a
/// paragraph of extra text, or nothing.
fn short_bulletin(more: &str) -> String {
    bulletin(&format!(
        "Please pray for the team in Kenya this week.\n\n![Dawn over the hills](images/photo.jpg)\n\n{more}\n"
    ))
}

/// The short bulletin with `photo`, and the sample's logo, which the
/// settings name.
fn with_photo(more: &str, photo: &[u8]) -> Test {
    let logo = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE_LOGO)).unwrap();
    Test::new()
        .file(".env", ENV)
        .file(SAMPLE_LOGO, logo)
        .file("content/b.md", short_bulletin(more))
        .file(&format!("content/{PHOTO}"), photo)
        .file("list.csv", LIST)
}

/// `chars` letters of plain prose (spaces between words not counted).
fn prose(chars: usize) -> String {
    let words = "we give thanks for the families who found safety this week and pray for courage".split(' ');
    let mut out = Vec::new();
    let mut left = chars;
    for word in words.cycle() {
        if left == 0 {
            break;
        }
        let take = word.len().min(left);
        out.push(&word[..take]);
        left -= take;
    }
    out.join(" ")
}

/// A JPEG `width` pixels wide in the big photo's shape (4:3).
fn photo_of_width(width: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, width * 3 / 4, image::Rgb([200, 140, 60]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).unwrap();
    out
}

/// A dry run of `bulletin` in `test`: its image-ratio warning, if any, and
/// the first message as the receiving server hands it to SpamAssassin.
fn dry_run(test: &Test, bulletin: &str, list: &str) -> (Option<String>, Vec<u8>) {
    let run = test.run(&["send", bulletin, "--subscribers", list, "--dry-run", "--out", "out"]).code(0);
    let warning = ratio_warning(&run.stderr);
    let emls = test.emls("out");
    let mut bytes = RETURN_PATH.as_bytes().to_vec();
    bytes.extend_from_slice(&emls.first().expect("the dry run wrote a message").raw);
    (warning, bytes)
}

fn ratio_warning(printed: &str) -> Option<String> {
    printed.lines().find(|l| l.starts_with("warning: ") && l.contains("HTML_IMAGE_RATIO_")).map(str::to_owned)
}

/// The rule a warning names.
fn warned_rule(warning: &str) -> &str {
    let at = warning.find("HTML_IMAGE_RATIO_").expect("names the rule");
    &warning[at..at + "HTML_IMAGE_RATIO_02".len()]
}

/// The number in `warning` just before `after`.
fn number_before(warning: &str, after: &str) -> usize {
    let head = &warning[..warning.find(after).unwrap_or_else(|| panic!("no {after:?} in {warning}"))];
    let digits: String = head.chars().rev().take_while(char::is_ascii_digit).collect();
    digits.chars().rev().collect::<String>().parse().unwrap_or_else(|e| panic!("{e}: {warning}"))
}

#[test]
fn the_image_ratio_warning_appears_exactly_when_spamassassin_fires_and_what_it_asks_for_clears_it() {
    // (a) The sample: enough words for its photo and logo.
    let sample = Test::with_sample().file(".env", ENV);
    let mut cases = vec![("the sample", dry_run(&sample, SAMPLE_BULLETIN, "subscribers/subscribers.csv"))];

    // (b) A few lines and a camera's photo, shown 600×450.
    let heavy = with_photo("", big_photo());
    let (warning, message) = dry_run(&heavy, "content/b.md", "list.csv");
    let warning = warning.unwrap_or_else(|| panic!("a dry run of a short bulletin with a large photo warns"));
    assert!(
        warning.starts_with("warning: content/b.md:9: "),
        "names the file and the photo's line: {warning}"
    );
    assert!(warning.contains(PHOTO), "names the photo as the bulletin does: {warning}");
    let check = heavy.run(&["check", "content/b.md", "--subscribers", "list.csv"]).code(0);
    assert_eq!(
        ratio_warning(&check.stdout).as_deref(),
        Some(warning.as_str()),
        "check warns alike\n{}",
        check.printed()
    );
    let more = number_before(&warning, " characters of text (not counting spaces), or");
    let width = number_before(&warning, " pixels wide");
    cases.push(("a short bulletin with a large photo", (Some(warning), message)));

    // (c) The text the warning asks for clears it; a character less does not.
    let enough = with_photo(&prose(more), big_photo());
    cases.push(("with the text asked for", dry_run(&enough, "content/b.md", "list.csv")));
    let short = with_photo(&prose(more - 1), big_photo());
    cases.push(("with a character less", dry_run(&short, "content/b.md", "list.csv")));

    // (d) The photo as wide as the warning allows clears it; a pixel wider does not.
    let smaller = with_photo("", &photo_of_width(width as u32));
    cases.push(("with the photo as wide as allowed", dry_run(&smaller, "content/b.md", "list.csv")));
    let wider = with_photo("", &photo_of_width(width as u32 + 1));
    cases.push(("with the photo a pixel wider", dry_run(&wider, "content/b.md", "list.csv")));

    let messages: Vec<(String, Vec<u8>)> =
        cases.iter().map(|(name, (_, bytes))| ((*name).to_owned(), bytes.clone())).collect();
    let verdicts: Vec<Verdict> = score(&messages);
    let expected_to_fire = [false, true, false, true, false, true];
    let mut failures = Vec::new();
    for (((name, (warning, _)), verdict), expected) in cases.iter().zip(&verdicts).zip(expected_to_fire) {
        let fired: Vec<&String> =
            verdict.rules.iter().filter(|r| r.starts_with("HTML_IMAGE_RATIO_")).collect();
        eprintln!("{name}: score {:.3}, {:?}", verdict.score, verdict.rules);
        let warned = warning.as_deref().map(warned_rule);
        if fired.first().map(|r| r.as_str()) != warned {
            failures.push(format!(
                "{name}: SpamAssassin fired {fired:?}, bulletin warned {warning:?}\n{}",
                verdict.report
            ));
        } else if warned.is_some() != expected {
            failures.push(format!("{name}: expected the rule to fire: {expected}, warning {warning:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
