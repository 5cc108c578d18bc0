//! Images in a bulletin: a local file next to the bulletin is checked (alt
//! text, plain http, a missing file) with its file and line.

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
    let run =
        check("Hello.\n\n![A well](images/well.jpg)\n", &[("content/images/well.jpg", b"not checked here")]);
    assert!(!run.stdout.contains("error: "), "{}", run.printed());
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
