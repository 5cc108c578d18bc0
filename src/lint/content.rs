//! Lints of the bulletin itself: its subject, links, images and greeting.

use crate::content::markdown::plain_text;
use crate::content::{Block, Bulletin, Inline};
use crate::merge::Segment;

/// What marks a slot `bulletin new` leaves to fill in.
pub const SLOT: &str = "TODO:";

/// The slots left unfilled in `text`, the bulletin at `path` as written:
/// one error each, naming its line.
pub fn slots(path: &std::path::Path, text: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.contains(SLOT))
        .map(|(n, line)| {
            format!(
                "{}:{}: {:?} is a slot `bulletin new` left to fill in; write this week's text in its place, \
                 or delete the line",
                path.display(),
                n + 1,
                line.trim()
            )
        })
        .collect()
}

/// Everything in `bulletin` that hurts delivery or the reader, one line
/// each, naming the file and line.
pub fn bulletin(bulletin: &Bulletin) -> Vec<String> {
    let path = bulletin.path.display();
    let mut warnings = subject(bulletin);
    visit(&bulletin.blocks, &mut |item| {
        let (line, problems) = match item {
            Item::Paragraph { content, line } => (line, dear_friend(content).into_iter().collect()),
            Item::Inline(Inline::Image { url, alt, line }) => (*line, image(url, alt)),
            Item::Inline(Inline::Link { url, content, line }) => {
                (*line, link(url, content).into_iter().collect())
            }
            Item::Button { url, label, line } => (line, link(url, label).into_iter().collect()),
            Item::Inline(_) => return,
        };
        warnings.extend(problems.into_iter().map(|problem: String| format!("{path}:{line}: {problem}")));
    });
    warnings
}

/// What is wrong with an image, if anything.
fn image(url: &str, alt: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if alt.trim().is_empty() {
        problems.push(format!(
            "the image {url} has no alt text; readers whose mail program blocks images (and screen readers) \
             get nothing in its place, and spam filters distrust images without words; say what it shows: \
             ![Children at the new school]({url})"
        ));
    }
    if url.starts_with("http://") {
        problems.push(plain_http(url));
    }
    problems
}

/// What is wrong with a link, if anything.
fn link(url: &str, content: &[Inline]) -> Option<String> {
    if url.starts_with("http://") {
        return Some(plain_http(url));
    }
    if !url.starts_with("https://") {
        return None;
    }
    let text = plain_text(content);
    let text = text.trim();
    looks_like_web_address(text).then(|| {
        let lead = if same_address(text, url) {
            format!("the link's text is its bare address {text}")
        } else {
            format!("the link's text is the address {text}, but it leads to {url}")
        };
        format!(
            "{lead}; spam filters and readers distrust links that show an address instead of saying where \
             they lead (and one that shows another address than it goes to looks like phishing); write \
             words instead: [Read this year's report]({url})"
        )
    })
}

fn plain_http(url: &str) -> String {
    let https = url.replacen("http://", "https://", 1);
    format!(
        "{url} is plain http; spam filters and browsers distrust unencrypted addresses in email; use \
         {https} if the site offers it"
    )
}

fn looks_like_web_address(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    !text.contains(char::is_whitespace)
        && (lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www."))
}

/// `text` names `url`, give or take its scheme, a `www.` and a final slash.
fn same_address(text: &str, url: &str) -> bool {
    let bare = |s: &str| {
        let s = s.to_ascii_lowercase();
        let s = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")).unwrap_or(&s).to_owned();
        let s = s.strip_prefix("www.").unwrap_or(&s).to_owned();
        s.trim_end_matches('/').to_owned()
    };
    bare(text) == bare(url)
}

/// The problem with a paragraph that opens with "Dear friend", for every
/// reader or (through a merge field's default) for those without a value.
fn dear_friend(content: &[Inline]) -> Option<String> {
    let mut text = String::new();
    let mut via_default = None;
    for inline in content {
        match inline {
            Inline::Field(field) => match &field.default {
                Some(default) => {
                    via_default.get_or_insert(field.name.to_string());
                    text.push_str(default);
                }
                None => text.push_str(field.name.as_str()),
            },
            other => text.push_str(&plain_text(std::slice::from_ref(other))),
        }
        if text.len() > 40 {
            break;
        }
    }
    let lower = text.trim_start().to_lowercase();
    let rest = lower.strip_prefix("dear")?;
    let rest = rest.strip_prefix(char::is_whitespace)?.trim_start().strip_prefix("friend")?;
    if rest.starts_with(char::is_alphanumeric) {
        return None;
    }
    let shown: String = text.trim_start().chars().take("Dear friend".chars().count()).collect();
    let who = match via_default {
        Some(field) => format!("readers without a {field} read \"{shown}\""),
        None => format!("every reader reads \"{shown}\""),
    };
    Some(format!(
        "{who}; spam filters score that greeting as spam (SpamAssassin's DEAR_FRIEND rule gives it 2.6 of \
         the 5 points that mark a message as spam); greet readers another way, e.g. \
         {{{{ first_name | default(\"prayer partner\") }}}} or \"Hello\""
    ))
}

/// Lints of the subject as written: capitals and exclamation marks.
fn subject(bulletin: &Bulletin) -> Vec<String> {
    let place = format!("{}:{}", bulletin.path.display(), bulletin.subject_line);
    // Merge values are unknown here; the words around them decide.
    let written: String = bulletin
        .subject
        .0
        .iter()
        .map(|segment| match segment {
            Segment::Literal(text) => text.as_str(),
            Segment::Field(_) => " ",
        })
        .collect();
    let mut warnings = Vec::new();
    let letters: Vec<char> = written.chars().filter(|c| c.is_alphabetic()).collect();
    let capitals = letters.iter().filter(|c| c.is_uppercase()).count();
    let words = written.split_whitespace().count();
    if words >= 2 && letters.len() >= 5 && !letters.iter().any(|c| c.is_lowercase()) {
        warnings.push(format!(
            "{place}: the subject is all in capitals; spam filters score shouting subjects (SpamAssassin's \
             SUBJ_ALL_CAPS) and readers skim past them; write it in sentence case"
        ));
    } else if letters.len() >= 10 && capitals * 2 > letters.len() {
        warnings.push(format!(
            "{place}: {} of the subject's {} letters are capitals; spam filters and readers take that for \
             shouting; write it in sentence case, keeping capitals for names",
            capitals,
            letters.len()
        ));
    }
    let exclamations = written.matches('!').count();
    if exclamations >= 2 {
        warnings.push(format!(
            "{place}: the subject has {exclamations} exclamation marks; spam filters and readers associate \
             them with advertising; use one at most"
        ));
    } else if exclamations == 1 && written.contains('?') {
        warnings.push(format!(
            "{place}: the subject has both an exclamation mark and a question mark, which spam filters score \
             (SpamAssassin's PLING_QUERY); keep one of them"
        ));
    }
    warnings
}

/// What [`visit`] shows: every paragraph, and every inline (nested ones
/// too), in document order.
enum Item<'a> {
    Paragraph { content: &'a [Inline], line: usize },
    Button { url: &'a str, label: &'a [Inline], line: usize },
    Inline(&'a Inline),
}

fn visit<'a>(blocks: &'a [Block], f: &mut impl FnMut(Item<'a>)) {
    fn inlines<'a>(content: &'a [Inline], f: &mut impl FnMut(Item<'a>)) {
        for inline in content {
            f(Item::Inline(inline));
            match inline {
                Inline::Strong(c)
                | Inline::Emphasis(c)
                | Inline::Strikethrough(c)
                | Inline::Link { content: c, .. } => inlines(c, f),
                _ => {}
            }
        }
    }
    for block in blocks {
        match block {
            Block::Heading { content, .. } => inlines(content, f),
            Block::Paragraph { content, line } => {
                f(Item::Paragraph { content, line: *line });
                inlines(content, f);
            }
            Block::List { items, .. } => items.iter().for_each(|item| visit(item, f)),
            Block::Quote { body, attribution } => {
                visit(body, f);
                if let Some(a) = attribution {
                    inlines(a, f);
                }
            }
            Block::Button { label, url, line } => {
                f(Item::Button { url, label, line: *line });
                inlines(label, f);
            }
            Block::Code(_) | Block::Rule => {}
        }
    }
}
