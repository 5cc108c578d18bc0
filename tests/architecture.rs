//! The architecture, checked: `src/` keeps the layer order written in
//! CONTRIBUTING.md, no two files import each other in a circle, and no
//! `X.rs` sits beside a folder `X/`.
//!
//! Read from the source text, as `../shared/tools/structure.py` does:
//! `crate::` paths (also in `use crate::{a, b::c}` groups) and `super::`
//! paths, outside comments and outside the test code at the end of a file
//! (`#[cfg(test)]` onwards, and files named `tests.rs`), which may reach
//! anything.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The layers, lowest first: a module imports only from layers before its
/// own. Modules in one layer do not import each other. CONTRIBUTING.md
/// writes the same order (checked below).
const LAYERS: &[&[&str]] = &[
    &["domain"],
    &["merge", "dkim", "output_folder"],
    &["content", "subscribers", "config"],
    &["render"],
    &["message"],
    &["job"],
    &["journal"],
    &["deliver"],
    &["report"],
    &["lint"],
    &["bounce", "publish"],
    &["http"],
    &["commands"],
    &["cli"],
];

/// The order as CONTRIBUTING.md writes it: `domain` → `merge`, `dkim`,
/// `output_folder` → `content`, … .
fn written_order() -> String {
    LAYERS
        .iter()
        .map(|layer| layer.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "))
        .collect::<Vec<_>>()
        .join(" → ")
}

/// One `use` of another module: where it is written and what it names.
#[derive(Debug, Clone)]
struct Import {
    /// The importing file, relative to `src/`.
    file: PathBuf,
    line: usize,
    /// The path's segments from the crate root (`["subscribers", "ledger", "Ledger"]`).
    path: Vec<String>,
}

/// Every `.rs` file under `src`, relative to it.
fn rust_files(src: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![src.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path.strip_prefix(src).unwrap().to_path_buf());
            }
        }
    }
    found.sort();
    found
}

/// The module path of `file` (relative to `src/`): `subscribers/ledger.rs`
/// is `["subscribers", "ledger"]`, `subscribers/mod.rs` `["subscribers"]`,
/// `lib.rs` `[]`.
fn module_of(file: &Path) -> Vec<String> {
    let mut parts: Vec<String> = file.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_owned());
    }
    parts
}

fn is_test_file(file: &Path) -> bool {
    let name = file.file_name().unwrap().to_string_lossy();
    name == "tests.rs" || name.ends_with("_tests.rs") || file.iter().any(|p| p == "tests")
}

/// The paths `text` (the file `file`) imports from elsewhere in the crate,
/// resolved from the crate root.
fn imports_of(file: &Path, text: &str) -> Vec<Import> {
    let module = module_of(file);
    let mut found = Vec::new();
    let mut in_group: Option<(Vec<String>, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let code = line.trim();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let line_no = i + 1;
        let mut push = |path: Vec<String>| {
            if !path.is_empty() {
                found.push(Import { file: file.to_path_buf(), line: line_no, path });
            }
        };
        // The rest of a `crate::{ … }` group begun on an earlier line.
        if let Some((base, mut group)) = in_group.take() {
            group.push_str(code);
            if code.contains('}') {
                for path in group_paths(&base, &group) {
                    push(path);
                }
            } else {
                in_group = Some((base, group));
            }
            continue;
        }
        for (at, _) in code.match_indices("crate::").chain(code.match_indices("super::")) {
            // Only a path's start: not `foo::crate::` nor `super::super::`'s second half.
            let before = &code[..at];
            if before.ends_with("::") || before.ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &code[at..];
            let (base, rest) = match rest.strip_prefix("crate::") {
                Some(rest) => (Vec::new(), rest),
                None => {
                    let mut base = module.clone();
                    let mut rest = rest;
                    while let Some(r) = rest.strip_prefix("super::") {
                        base.pop();
                        rest = r;
                    }
                    (base, rest)
                }
            };
            if let Some(group) = rest.strip_prefix('{') {
                if group.contains('}') {
                    for path in group_paths(&base, group) {
                        push(path);
                    }
                } else {
                    in_group = Some((base, group.to_owned()));
                }
                continue;
            }
            let mut path = base;
            path.extend(segments(rest));
            push(path);
        }
    }
    found
}

/// The identifiers of a path `a::b::C` up to where it stops being a path.
fn segments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        out.push(rest[..end].to_owned());
        match rest[end..].strip_prefix("::") {
            Some(r) if !r.starts_with('{') => rest = r,
            _ => break,
        }
    }
    out
}

/// The paths of a `{a, b::c, d::{e, f}}` group's text (after the `{`),
/// each prefixed by `base`; a nested group counts as its first segment.
fn group_paths(base: &[String], group: &str) -> Vec<Vec<String>> {
    let mut depth = 0;
    let mut items = vec![String::new()];
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => items.push(String::new()),
            _ => items.last_mut().unwrap().push(c),
        }
    }
    items
        .iter()
        .map(|item| item.trim())
        .filter(|item| !item.is_empty() && *item != "self")
        .map(|item| {
            let mut path = base.to_vec();
            path.extend(segments(item));
            path
        })
        .collect()
}

/// The file a path from the crate root lands in: the longest prefix of it
/// that is a module file.
fn file_of(path: &[String], files: &BTreeSet<PathBuf>) -> Option<PathBuf> {
    (1..=path.len()).rev().find_map(|n| {
        let module = path[..n].join("/");
        [PathBuf::from(format!("{module}.rs")), PathBuf::from(format!("{module}/mod.rs"))]
            .into_iter()
            .find(|f| files.contains(f))
    })
}

/// What is wrong with the source tree at `src`, one line each, naming the
/// file and line.
fn problems(src: &Path) -> Vec<String> {
    let files = rust_files(src);
    let set: BTreeSet<PathBuf> = files.iter().cloned().collect();
    let layer_of = |module: &str| LAYERS.iter().position(|layer| layer.contains(&module));
    let mut problems = Vec::new();
    let mut edges: BTreeMap<PathBuf, BTreeMap<PathBuf, (usize, String)>> = BTreeMap::new();
    for file in &files {
        // `X.rs` beside `X/`.
        let folder = src.join(file.with_extension(""));
        if folder.is_dir() && file.file_name().unwrap() != "mod.rs" {
            problems.push(format!(
                "src/{}: beside the folder src/{}/: make it src/{}/mod.rs, or move the folder's files",
                file.display(),
                file.with_extension("").display(),
                file.with_extension("").display(),
            ));
        }
        let module = module_of(file);
        let Some(top) = module.first() else { continue };
        if is_test_file(file) {
            continue;
        }
        let Some(own) = layer_of(top) else {
            problems.push(format!(
                "src/{}: `{top}` is in no layer: add it to LAYERS in tests/architecture.rs and to CONTRIBUTING.md",
                file.display()
            ));
            continue;
        };
        let text = fs::read_to_string(src.join(file)).unwrap();
        for import in imports_of(file, &text) {
            let Some(target) = import.path.first() else { continue };
            if let Some(theirs) = layer_of(target).filter(|&theirs| target != top && theirs >= own) {
                let how = if theirs == own { "in its own layer" } else { "above it" };
                problems.push(format!(
                    "src/{}:{}: `{top}` imports `{}`, which is {how} in the layer order {}",
                    import.file.display(),
                    import.line,
                    import.path.join("::"),
                    written_order(),
                ));
            }
            // File to file, leaving out a file's own ancestors (a child
            // using what its parent module declares is the module tree).
            if let Some(to) = file_of(&import.path, &set) {
                let ancestor = module.starts_with(&module_of(&to));
                if to != *file && !ancestor {
                    edges
                        .entry(file.clone())
                        .or_default()
                        .entry(to)
                        .or_insert((import.line, import.path.join("::")));
                }
            }
        }
    }
    for circle in circles(&edges) {
        let steps: Vec<String> = circle
            .iter()
            .zip(circle.iter().cycle().skip(1))
            .map(|(from, to)| {
                let (line, path) = &edges[from][to];
                format!("src/{}:{line} imports {path}", from.display())
            })
            .collect();
        problems.push(format!("a circle of imports: {}", steps.join("; ")));
    }
    problems
}

/// Each circle of `edges` (a strongly connected set of more than one
/// file), as a walk through it.
fn circles(edges: &BTreeMap<PathBuf, BTreeMap<PathBuf, (usize, String)>>) -> Vec<Vec<PathBuf>> {
    let nodes: BTreeSet<&PathBuf> = edges.keys().chain(edges.values().flat_map(|m| m.keys())).collect();
    let reach = |from: &PathBuf| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(at) = todo.pop() {
            for next in edges.get(&at).into_iter().flat_map(|m| m.keys()) {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&PathBuf, BTreeSet<PathBuf>> = nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut done = BTreeSet::new();
    let mut found = Vec::new();
    for node in &nodes {
        if done.contains(*node) || !reached[node].contains(*node) {
            continue;
        }
        let component: BTreeSet<PathBuf> =
            reached[node].iter().filter(|other| reached[other].contains(*node)).cloned().collect();
        done.extend(component.iter().cloned());
        // A walk from `node` back to itself inside the component.
        let mut walk = vec![(*node).clone()];
        let mut at = (*node).clone();
        loop {
            let next = edges[&at]
                .keys()
                .filter(|n| component.contains(*n))
                .find(|n| *n == *node || !walk.contains(n))
                .cloned()
                .unwrap_or_else(|| (*node).clone());
            if next == **node {
                break;
            }
            walk.push(next.clone());
            at = next;
        }
        found.push(walk);
    }
    found
}

#[test]
fn the_source_keeps_the_layer_order_has_no_circle_of_imports_and_no_file_beside_its_folder() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = problems(&src);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn contributing_writes_the_same_layer_order_as_this_test() {
    let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("CONTRIBUTING.md")).unwrap();
    let order = written_order();
    assert!(text.contains(&order), "CONTRIBUTING.md does not give the layer order\n{order}");
}

/// A source tree of `files` (path, text) in a new temporary folder.
fn tree(files: &[(&str, &str)]) -> tempdir::Dir {
    let dir = tempdir::Dir::new();
    for (path, text) in files {
        let path = dir.0.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

mod tempdir {
    /// A folder removed when dropped.
    pub struct Dir(pub std::path::PathBuf);

    impl Dir {
        pub fn new() -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::SeqCst);
            let path = std::env::temp_dir().join(format!("bulletin-architecture-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn an_upward_import_is_named_with_its_file_and_line() {
    let dir = tree(&[
        ("lib.rs", "pub mod domain;\npub mod config;\npub mod commands;\n"),
        ("domain.rs", "//! uses crate::commands in a comment only\nuse crate::commands::run;\n"),
        ("config/mod.rs", "mod dkim;\nuse crate::{domain::Clock, subscribers::{EmailAddress, Skip}};\n"),
        (
            "config/dkim.rs",
            "use super::super::domain::X;\n#[cfg(test)]\nmod tests { use crate::cli::Cli; }\n",
        ),
        ("commands/mod.rs", "use crate::config::Source;\n"),
    ]);
    let problems = problems(&dir.0);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[0].starts_with(
            "src/config/mod.rs:2: `config` imports `subscribers::EmailAddress`, which is in its own layer"
        ),
        "{problems:#?}"
    );
    assert!(
        problems[1].starts_with("src/domain.rs:2: `domain` imports `commands::run`, which is above it"),
        "{problems:#?}"
    );
    // The upward import closes a circle too.
    assert!(
        problems[2].starts_with("a circle of imports: src/commands/mod.rs:1 imports config::Source;"),
        "{problems:#?}"
    );
}

#[test]
fn two_sibling_files_importing_each_other_are_a_circle_but_a_child_using_its_parent_is_not() {
    let dir = tree(&[
        ("http/mod.rs", "mod serve;\nmod unsubscribe;\nmod signup;\nuse serve::run;\n"),
        ("http/unsubscribe.rs", "use super::signup::router;\nuse super::Service;\n"),
        ("http/signup.rs", "use super::unsubscribe::{respond, mask};\n"),
        ("http/serve.rs", "use super::signup::router;\n"),
    ]);
    let problems = problems(&dir.0);
    assert_eq!(
        problems,
        ["a circle of imports: src/http/signup.rs:1 imports http::unsubscribe; \
          src/http/unsubscribe.rs:1 imports http::signup::router"]
    );
}

#[test]
fn a_file_beside_a_folder_of_its_name_is_refused_and_a_module_in_no_layer_too() {
    let dir = tree(&[("commands/init.rs", "mod x;\n"), ("commands/init/x.rs", ""), ("runner.rs", "")]);
    let problems = problems(&dir.0);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].starts_with("src/commands/init.rs: beside the folder src/commands/init/"),
        "{problems:#?}"
    );
    assert!(problems[1].starts_with("src/runner.rs: `runner` is in no layer"), "{problems:#?}");
}

/// The process never changes its folder: a `chdir` is global to every
/// thread and every path at once, so paths are made to work from where the
/// program was started (`cli::Anchor`) instead.
#[test]
fn nothing_in_the_source_changes_the_process_folder() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found: Vec<String> = rust_files(&src)
        .iter()
        .flat_map(|file| {
            let text = fs::read_to_string(src.join(file)).unwrap();
            let name = file.display().to_string();
            text.lines()
                .enumerate()
                .filter(|(_, line)| line.contains("set_current_dir") && !line.trim_start().starts_with("//"))
                .map(|(n, _)| format!("src/{name}:{}", n + 1))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(found.is_empty(), "the process folder is changed at {}", found.join(", "));
}
