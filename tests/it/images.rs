//! Images in a bulletin: a local file next to the bulletin is checked (alt
//! text, plain http, a missing file) with its file and line, prepared once
//! and embedded in each message as an inline part the HTML refers to by
//! `cid:`.

use std::sync::OnceLock;

use mail_parser::{MimeHeaders, PartType};

use crate::util::{Test, bulletin};

const LIST: &str = "email,first_name\nana@example.org,Ana\n";

fn check(body: &str, files: &[(&str, &[u8])]) -> crate::util::Run {
    let mut test = Test::new().file("content/b.md", bulletin(body)).file("list.csv", LIST);
    for (path, bytes) in files {
        test = test.file(path, bytes);
    }
    test.run(&["check", "content/b.md", "--subscribers", "list.csv"])
}

#[test]
fn a_local_image_beside_the_bulletin_is_accepted_by_check() {
    let photo = small_photo();
    let run = check("Hello.\n\n![A well](images/well.jpg)\n", &[("content/images/well.jpg", &photo)]);
    assert!(!run.stdout.contains("error: "), "{}", run.printed());
}

#[test]
fn a_local_file_that_is_not_an_image_is_an_error_naming_the_file_and_line() {
    let run =
        check("Hello.\n\n![A well](images/well.jpg)\n", &[("content/images/well.jpg", b"hello")]).code(1);
    run.stdout_has("content/b.md:9: image \"images/well.jpg\"").stdout_has("not a JPEG, PNG or GIF image");
}

fn small_photo() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(40, 30, image::Rgb([20, 120, 200]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).unwrap();
    out
}

#[test]
fn a_local_image_without_alt_text_is_an_error_naming_the_file_and_line() {
    let run = check("Hello.\n\n![](images/well.jpg)\n", &[("content/images/well.jpg", b"x")]).code(1);
    run.stdout_has("content/b.md:9: the image images/well.jpg has no alt text");
}

#[test]
fn a_plain_http_image_is_an_error_naming_the_file_and_line() {
    let run = check("Hello.\n\nSee:\n![A well](http://example.org/w.jpg)\n", &[]).code(1);
    run.stdout_has("content/b.md:10: image \"http://example.org/w.jpg\"");
}

#[test]
fn data_and_file_images_are_errors_naming_the_line() {
    for url in ["data:image/png;base64,AAAA", "file:///etc/passwd"] {
        let run = check(&format!("Hello.\n\n![A well]({url})\n"), &[]).code(1);
        run.stdout_has("content/b.md:9:");
    }
}

#[test]
fn a_missing_local_image_is_an_error_naming_the_file_and_line() {
    let run = check("Hello.\n\n![A well](images/gone.jpg)\n", &[]).code(1);
    run.stdout_has("content/b.md:9: image \"images/gone.jpg\": cannot read");
}

/// A 4000×3000 photo, as a camera would write it: made once per test
/// process (encoding 12 megapixels takes seconds) and shared by every test
/// that writes it into its folder.
pub(crate) fn big_photo() -> &'static [u8] {
    static PHOTO: OnceLock<Vec<u8>> = OnceLock::new();
    PHOTO.get_or_init(|| {
        let img =
            image::RgbImage::from_fn(4000, 3000, |x, y| image::Rgb([(x / 16) as u8, (y / 12) as u8, 90]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95).encode_image(&img).unwrap();
        out
    })
}

fn with_photo() -> Test {
    Test::new()
        .file("content/b.md", bulletin("Hello.\n\n![Children at the new school](images/school.jpg)\n"))
        .file("content/images/school.jpg", big_photo())
        .file("list.csv", LIST)
}

#[test]
fn a_dry_run_embeds_a_local_photo_resized_as_an_inline_part_the_html_refers_to() {
    let test = with_photo();
    test.run(&["send", "content/b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
    let emls = test.emls("out");
    assert_eq!(emls.len(), 1);
    let message = emls[0].parse();
    let root = message.content_type().unwrap();
    assert_eq!((root.ctype(), root.subtype()), ("multipart", Some("alternative")));
    let PartType::Multipart(children) = &message.parts[0].body else { panic!("not multipart") };
    assert_eq!(children.len(), 2, "text and related");
    let text = message.part(children[0]).unwrap();
    assert_eq!(text.content_type().unwrap().subtype(), Some("plain"));
    let related = message.part(children[1]).unwrap();
    let kind = related.content_type().unwrap();
    assert_eq!((kind.ctype(), kind.subtype()), ("multipart", Some("related")));
    let PartType::Multipart(inner) = &related.body else { panic!("related is not multipart") };
    assert_eq!(inner.len(), 2, "HTML and the image");
    let html = message.part(inner[0]).unwrap();
    assert_eq!(html.content_type().unwrap().subtype(), Some("html"));
    let image = message.part(inner[1]).unwrap();
    assert_eq!(image.content_type().unwrap().ctype(), "image");
    let content_id = image.content_id().expect("the image has a Content-ID");
    let html_text = emls[0].html();
    assert!(html_text.contains(&format!("src=\"cid:{content_id}\"")), "{html_text}");
    assert!(html_text.contains("width=\"600\" height=\"450\""), "{html_text}");
    let bytes = image.contents();
    assert!(bytes.len() < 300 * 1024, "{} bytes", bytes.len());
    let decoded = image::load_from_memory(bytes).unwrap();
    assert!(decoded.width() <= 1200, "{} px wide", decoded.width());
    assert!(emls[0].text().contains("[Photo: Children at the new school]"), "{}", emls[0].text());
}

#[test]
fn with_assets_url_the_photo_is_linked_there_and_not_embedded() {
    let test = with_photo().env("ASSETS_URL", "https://cdn.example.org/news/");
    test.run(&["send", "content/b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
    let emls = test.emls("out");
    let message = emls[0].parse();
    assert!(
        message.parts.iter().all(|p| p.content_type().is_none_or(|ct| ct.ctype() != "image")),
        "no image part"
    );
    assert!(
        !message.parts.iter().any(|p| p.content_type().is_some_and(|ct| ct.subtype() == Some("related")))
    );
    let html = emls[0].html();
    assert!(html.contains("src=\"https://cdn.example.org/news/image1.jpg\""), "{html}");
    assert!(!html.contains("cid:"), "{html}");
}

#[test]
fn assets_writes_the_prepared_images_to_upload() {
    let test = with_photo().file("logo.png", logo_png()).env("LOGO", "logo.png");
    test.run(&["assets", "content/b.md", "--out", "upload"]).code(0).stdout_has("image1.jpg");
    assert_eq!(
        std::fs::read(test.join("upload/logo.png")).unwrap(),
        logo_png(),
        "a small logo is kept as it is"
    );
    let bytes = std::fs::read(test.join("upload/image1.jpg")).unwrap();
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1200, 900));
    test.run(&["assets", "content/b.md", "--out", "upload"]).code(0).stdout_has("2 image(s)");
}

#[test]
fn an_image_over_a_megabyte_after_preparing_is_a_warning_with_its_size() {
    // Noise does not compress: 1100×300 RGBA stays about 1.3 MB as a PNG.
    let mut seed = 12345u32;
    let noise = image::RgbaImage::from_fn(1100, 300, |_, _| {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        image::Rgba(seed.to_le_bytes())
    });
    let mut png = Vec::new();
    noise.write_with_encoder(image::codecs::png::PngEncoder::new(&mut png)).unwrap();
    let run = check("Hello.\n\n![Static](images/noise.png)\n", &[("content/images/noise.png", &png)]).code(0);
    run.stdout_has("warning: content/b.md:9: the image images/noise.png is 1");
}

fn logo_png() -> Vec<u8> {
    let img = image::RgbaImage::from_pixel(320, 80, image::Rgba([29, 79, 145, 255]));
    let mut out = Vec::new();
    img.write_with_encoder(image::codecs::png::PngEncoder::new(&mut out)).unwrap();
    out
}

#[test]
fn a_logo_file_is_embedded_at_the_top_at_its_display_width() {
    let test = Test::new()
        .file("content/b.md", bulletin("Hello.\n"))
        .file("brand/logo.png", logo_png())
        .file("list.csv", LIST)
        .env("LOGO", "brand/logo.png")
        .env("ORG_NAME", "Hope Trust");
    test.run(&["send", "content/b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
    let emls = test.emls("out");
    let message = emls[0].parse();
    let image = message
        .parts
        .iter()
        .find(|p| p.content_type().is_some_and(|ct| ct.ctype() == "image"))
        .expect("the logo is an image part");
    let content_id = image.content_id().unwrap();
    let html = emls[0].html();
    assert!(
        html.contains(&format!("src=\"cid:{content_id}\" alt=\"Hope Trust\" width=\"160\" height=\"40\"")),
        "{html}"
    );
}

#[test]
fn a_logo_at_an_https_address_is_linked_with_its_alt_text() {
    let test = Test::new()
        .file("content/b.md", bulletin("Hello.\n"))
        .file("list.csv", LIST)
        .env("LOGO", "https://cdn.example.org/logo.png")
        .env("LOGO_ALT", "Hope logo")
        .env("LOGO_WIDTH", "120");
    test.run(&["send", "content/b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
    let emls = test.emls("out");
    let html = emls[0].html();
    assert!(
        html.contains("src=\"https://cdn.example.org/logo.png\" alt=\"Hope logo\" width=\"120\""),
        "{html}"
    );
    let message = emls[0].parse();
    assert!(message.parts.iter().all(|p| p.content_type().is_none_or(|ct| ct.ctype() != "image")));
}

#[test]
fn a_missing_logo_file_is_an_error_in_check_naming_the_setting() {
    let test = Test::new()
        .file("content/b.md", bulletin("Hello.\n"))
        .file("list.csv", LIST)
        .env("LOGO", "brand/gone.png");
    test.run(&["check", "content/b.md", "--subscribers", "list.csv"])
        .code(1)
        .stdout_has("error: setting LOGO");
}

#[test]
fn a_dry_run_refuses_a_local_image_without_alt_text_naming_the_file_and_line() {
    let test = Test::new()
        .file("content/b.md", bulletin("Hello.\n\n![](images/well.jpg)\n"))
        .file("content/images/well.jpg", small_photo())
        .file("list.csv", LIST);
    let run =
        test.run(&["send", "content/b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(2);
    run.stderr_has("content/b.md:9: the image images/well.jpg has no alt text");
}

#[test]
fn preview_writes_the_embedded_images_beside_its_html_file() {
    let test = with_photo().file("logo.png", logo_png()).env("LOGO", "logo.png");
    test.run(&["preview", "content/b.md", "--subscribers", "list.csv"]).code(0);
    let names = test.file_names("preview");
    assert!(names.contains(&"logo.png".to_owned()) && names.contains(&"image1.jpg".to_owned()), "{names:?}");
    let html_name = names.iter().find(|n| n.ends_with(".html")).unwrap();
    let html = std::fs::read_to_string(test.join("preview").join(html_name)).unwrap();
    assert!(html.contains("src=\"logo.png\"") && html.contains("src=\"image1.jpg\""), "{html}");
    assert!(
        test.emls("preview")[0].html().contains("src=\"cid:image1.jpg@bulletin\""),
        "the .eml keeps cid:"
    );
}

#[test]
fn a_remote_image_without_alt_text_is_an_error_in_check_and_the_dry_run_naming_the_file_and_line() {
    let run = check("Hello.\n\nSee:\n![](https://example.org/a.jpg)\n", &[]).code(1);
    run.stdout_has("error: content/b.md:10: the image https://example.org/a.jpg has no alt text");
    let test = Test::new()
        .file("content/b.md", bulletin("Hello.\n\n![ ](https://example.org/a.jpg)\n"))
        .file("list.csv", LIST);
    let run =
        test.run(&["send", "content/b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(2);
    run.stderr_has("content/b.md:9: the image https://example.org/a.jpg has no alt text");
}

#[test]
fn a_plain_http_image_is_an_error_in_the_dry_run_naming_the_file_and_line() {
    let test = Test::new()
        .file("content/b.md", bulletin("Hello.\n\n![A well](http://example.org/w.jpg)\n"))
        .file("list.csv", LIST);
    let run =
        test.run(&["send", "content/b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(2);
    run.stderr_has("content/b.md:9: image \"http://example.org/w.jpg\"");
}

/// The `src` of every `<img>` in `html`.
fn image_sources(html: &str) -> Vec<String> {
    let document = scraper::Html::parse_document(html);
    let img = scraper::Selector::parse("img").unwrap();
    document.select(&img).filter_map(|e| e.value().attr("src").map(str::to_owned)).collect()
}

#[test]
fn a_dry_runs_html_files_show_the_embedded_images_from_the_folder_and_the_eml_keeps_cid() {
    let test = with_photo().file("brand/logo.png", logo_png()).env("LOGO", "brand/logo.png");
    let two = format!("{LIST}bo@example.org,Bo\n");
    let test = test.file("list.csv", two);
    test.run(&["send", "content/b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
    let names = test.file_names("out");
    let htmls: Vec<&String> = names.iter().filter(|n| n.ends_with(".html") && *n != "index.html").collect();
    assert_eq!(htmls.len(), 2, "{names:?}");
    for name in htmls {
        let html = std::fs::read_to_string(test.join("out").join(name)).unwrap();
        assert!(!html.contains("cid:"), "{name} still refers to cid: images, which a browser cannot show");
        let sources = image_sources(&html);
        assert_eq!(sources.len(), 2, "the logo and the photo: {sources:?}");
        for src in sources {
            let path = test.join("out").join(&src);
            let bytes =
                std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {src} is not in the folder: {e}"));
            image::load_from_memory(&bytes).unwrap_or_else(|e| panic!("{src} is not an image: {e}"));
        }
    }
    // Each image is written once, not once per message.
    let images: Vec<&String> = names.iter().filter(|n| n.ends_with(".jpg") || n.ends_with(".png")).collect();
    assert_eq!(images.len(), 2, "{names:?}");
    for eml in test.emls("out") {
        let html = eml.html();
        assert!(
            html.contains("src=\"cid:logo.png@bulletin\"")
                && html.contains("src=\"cid:image1.jpg@bulletin\"")
        );
    }
    // The folder is the dry run's: a second run takes it over, images and all.
    test.run(&["send", "content/b.md", "--subscribers", "list.csv", "--dry-run", "--out", "out"]).code(0);
}
