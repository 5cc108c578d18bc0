//! The errors' convention, checked on the source text: no `#[error]`
//! message in `src/` says its own source (a field named `source`, or one
//! marked `#[source]` or `#[from]`), since [`super::error_message`] and
//! [`crate::domain::chain`] say each cause after the message; a message
//! that also said it would say it twice.

use std::fs;
use std::path::{Path, PathBuf};

/// The attribute, written in two so that this file does not hold it.
const ATTRIBUTE: &str = concat!("#[", "error(");

/// One `#[error]` that says its source: where, and which.
#[derive(Debug, PartialEq, Eq)]
struct Repeat {
    line: usize,
    field: String,
}

/// Every `#[error]` in `text` whose message interpolates a source field.
fn repeats(text: &str) -> Vec<Repeat> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(ATTRIBUTE).map(|i| from + i) {
        let open = at + ATTRIBUTE.len() - 1;
        let Some(close) = closing(text, open) else { break };
        from = close + 1;
        let inside = &text[open + 1..close];
        if inside.trim() == "transparent" {
            continue;
        }
        let sources = source_fields(item_fields(&text[close + 1..]));
        let line = text[..at].matches('\n').count() + 1;
        for field in said(inside).into_iter().filter(|said| sources.contains(said)) {
            found.push(Repeat { line, field });
        }
    }
    found
}

/// The index of the bracket that closes the one at `open`, passing over
/// string literals.
fn closing(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// `text` split at its top-level commas.
fn top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start, mut in_string, mut escaped) = (0i32, 0, false, false);
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' | '<' => depth += 1,
            ')' | ']' | '}' | '>' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// The fields the message names: `{name}`, `{0}`, and the fields the
/// arguments after the format string use (`path.display()`, `.source`,
/// `.0`), by name or tuple index.
fn said(inside: &str) -> Vec<String> {
    let parts = top_level(inside);
    let Some((format, arguments)) = parts.split_first() else { return Vec::new() };
    let format = format.trim().trim_matches('"');
    let mut names = Vec::new();
    let mut rest = format;
    while let Some(open) = rest.find('{') {
        if rest[open + 1..].starts_with('{') {
            rest = &rest[open + 2..];
            continue;
        }
        let Some(end) = rest[open..].find('}') else { break };
        let name = rest[open + 1..open + end].split(':').next().unwrap_or_default().trim();
        if !name.is_empty() {
            names.push(name.to_owned());
        }
        rest = &rest[open + end + 1..];
    }
    for argument in arguments {
        let expression = argument.split_once('=').map_or(*argument, |(_, e)| e).trim();
        let first = expression.trim_start_matches('.');
        let field: String = first.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        names.push(field);
    }
    names
}

/// The fields of the struct or variant that starts `after` (past any
/// further attributes and doc comments): `name: Type` or `Type` each,
/// with their own attributes, in order.
fn item_fields(after: &str) -> Vec<&str> {
    let mut rest = after.trim_start();
    loop {
        if rest.starts_with("#[") {
            let end = closing(rest, 1).map_or(rest.len(), |i| i + 1);
            rest = rest[end..].trim_start();
        } else if rest.starts_with("//") {
            rest = rest.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    // The first bracket after the name, unless the item ends first.
    let Some(open) = rest.find(['{', '(', ',', ';', '}']) else { return Vec::new() };
    if !matches!(rest.as_bytes()[open], b'{' | b'(') {
        return Vec::new();
    }
    let Some(close) = closing(rest, open) else { return Vec::new() };
    top_level(&rest[open + 1..close])
}

/// Which of `fields` are sources, by name (`source`, or the tuple index
/// `0`, `1`, …): a field named `source`, or marked `#[source]` or
/// `#[from]`.
fn source_fields(fields: Vec<&str>) -> Vec<String> {
    let mut sources = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let marked = field.contains("#[source]") || field.contains("#[from]");
        let mut declaration = field.trim();
        while declaration.starts_with("#[") || declaration.starts_with("//") {
            declaration = match declaration.strip_prefix("//") {
                Some(comment) => comment.split_once('\n').map_or("", |(_, r)| r).trim_start(),
                None => {
                    declaration[closing(declaration, 1).map_or(declaration.len(), |i| i + 1)..].trim_start()
                }
            };
        }
        let declaration = declaration.trim_start_matches("pub ").trim();
        let identifier =
            |name: &str| !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
        let name = match declaration.split_once(':') {
            Some((name, kind)) if identifier(name.trim()) && !kind.starts_with(':') => name.trim().to_owned(),
            _ => index.to_string(),
        };
        if marked || name == "source" {
            sources.push(name);
        }
    }
    sources
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn no_error_message_in_src_says_its_own_source() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut seen = 0;
    let mut wrong = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        seen += text.matches(ATTRIBUTE).count();
        for Repeat { line, field } in repeats(&text) {
            let file = file.strip_prefix(&src).unwrap().display();
            wrong.push(format!("src/{file}:{line}: the message says `{field}`, its source"));
        }
    }
    assert!(seen > 50, "only {seen} error messages found under {}", src.display());
    assert!(
        wrong.is_empty(),
        "a message says what failed and its source says why; say the source only once, as the \
         source:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_check_finds_a_source_said_by_name_by_argument_or_by_tuple_index() {
    let attribute = |rest: &str| format!("{ATTRIBUTE}{rest}");
    let named = attribute(
        "\"cannot read {}: {source}\", path.display())]\nRead { path: PathBuf, source: io::Error },",
    );
    assert_eq!(repeats(&named), [Repeat { line: 1, field: "source".into() }]);
    let debug = attribute("\"cannot read it: {source:?}\")]\nRead { source: io::Error },");
    assert_eq!(repeats(&debug).len(), 1);
    let argument = attribute(
        "\"{} failed: {}\", path.display(), .cause)]\nFailed { path: PathBuf, #[source] cause: Error },",
    );
    assert_eq!(repeats(&argument), [Repeat { line: 1, field: "cause".into() }]);
    let tuple = attribute("\"{0}\")]\n    Sql(#[from] rusqlite::Error),");
    assert_eq!(repeats(&tuple), [Repeat { line: 1, field: "0".into() }]);
    let a_struct = format!(
        "#[derive(Debug)]\n{}\n/// Doc.\npub struct JournalError {{\n    path: PathBuf,\n    source: Fault,\n}}",
        attribute("\"journal {}: {source}\", path.display())]")
    );
    assert_eq!(repeats(&a_struct), [Repeat { line: 2, field: "source".into() }]);

    let convention =
        attribute("\"cannot read {}\", path.display())]\nRead { path: PathBuf, source: io::Error },");
    let not_a_source = attribute("\"cannot decode it: {0}\")]\n    Decode(image::ImageError),");
    let transparent = attribute("transparent)]\n    Sql(#[from] rusqlite::Error),");
    let unit = attribute("\"no `@`\")]\n    NoAt,\n") + &attribute("\"{0}\")]\n    Other(#[from] E),");
    for good in [convention, not_a_source, transparent] {
        assert_eq!(repeats(&good), [], "{good}");
    }
    assert_eq!(repeats(&unit).len(), 1, "the second of two is read as well");
}
