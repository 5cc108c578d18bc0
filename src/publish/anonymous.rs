//! A bulletin for nobody in particular: what its web page shows. Each merge
//! field with a default becomes that text; a field without one takes its
//! whole sentence with it (the sentence around it, from the end of the one
//! before to the first `.`, `!` or `?` after), and a paragraph, heading or
//! list item left empty goes too.

use crate::content::{Block, Bulletin, Inline};
use crate::merge::{Segment, Template};

/// `bulletin` with no merge field left in it.
pub fn for_everyone(bulletin: &Bulletin) -> Bulletin {
    let mut out = bulletin.clone();
    out.subject = template(&bulletin.subject);
    out.preheader = template(&bulletin.preheader);
    out.title = bulletin.title.as_ref().map(template);
    out.blocks = blocks(&bulletin.blocks);
    out.field_uses.clear();
    out
}

/// A template without fields; if nothing is left of it, its literal text.
fn template(template: &Template) -> Template {
    let inlines: Vec<Inline> = template
        .0
        .iter()
        .map(|s| match s {
            Segment::Literal(text) => Inline::Text(text.clone()),
            Segment::Field(field) => Inline::Field(field.clone()),
        })
        .collect();
    let mut text: String = inlines_of(&inlines)
        .iter()
        .filter_map(|i| if let Inline::Text(t) = i { Some(t.as_str()) } else { None })
        .collect();
    if text.trim().is_empty() {
        text = template
            .0
            .iter()
            .filter_map(|s| if let Segment::Literal(l) = s { Some(l.as_str()) } else { None })
            .collect();
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    Template(vec![Segment::Literal(text.replace(" ,", ",").trim_matches([' ', ',']).to_owned())])
}

fn blocks(blocks: &[Block]) -> Vec<Block> {
    blocks.iter().filter_map(block).collect()
}

fn block(block: &Block) -> Option<Block> {
    Some(match block {
        Block::Heading { level, content } => Block::Heading { level: *level, content: non_empty(content)? },
        Block::Paragraph { content, line } => Block::Paragraph { content: non_empty(content)?, line: *line },
        Block::List { start, items } => {
            let items: Vec<Vec<Block>> =
                items.iter().map(|item| self::blocks(item)).filter(|item| !item.is_empty()).collect();
            if items.is_empty() {
                return None;
            }
            Block::List { start: *start, items }
        }
        Block::Quote { body, attribution } => {
            let body = self::blocks(body);
            if body.is_empty() {
                return None;
            }
            Block::Quote { body, attribution: attribution.as_deref().and_then(non_empty) }
        }
        Block::Button { label, url, line } => {
            Block::Button { label: non_empty(label)?, url: url.clone(), line: *line }
        }
        Block::Code(_) | Block::Rule => block.clone(),
    })
}

/// `content` without fields, or `None` if no text is left.
fn non_empty(content: &[Inline]) -> Option<Vec<Inline>> {
    let out = inlines_of(content);
    has_text(&out).then_some(out)
}

fn has_text(content: &[Inline]) -> bool {
    content.iter().any(|inline| match inline {
        Inline::Text(text) => !text.trim().is_empty(),
        Inline::Strong(inner) | Inline::Emphasis(inner) | Inline::Strikethrough(inner) => has_text(inner),
        Inline::Link { content, .. } => has_text(content),
        Inline::Field(_) | Inline::LineBreak => false,
        Inline::Code(_) | Inline::Image { .. } => true,
    })
}

/// Where a sentence ends in `text`: the byte after its `.`, `!` or `?`
/// (and any closing quotes or brackets), when white space or the end follows.
fn sentence_ends(text: &str) -> Vec<usize> {
    let mut ends = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(_, c)) in chars.iter().enumerate() {
        if !matches!(c, '.' | '!' | '?') {
            continue;
        }
        let mut j = i + 1;
        while j < chars.len() && matches!(chars[j].1, '"' | '\'' | '”' | '’' | ')' | ']') {
            j += 1;
        }
        if j == chars.len() || chars[j].1.is_whitespace() {
            ends.push(chars.get(j).map_or(text.len(), |&(at, _)| at));
        }
    }
    ends
}

/// `content` with each field replaced by its default, or its sentence taken
/// out; nested content (emphasis, links) is done on its own.
fn inlines_of(content: &[Inline]) -> Vec<Inline> {
    let mut out: Vec<Inline> = content
        .iter()
        .map(|inline| match inline {
            Inline::Field(field) => match &field.default {
                Some(default) => Inline::Text(default.clone()),
                None => Inline::Field(field.clone()),
            },
            Inline::Strong(inner) => Inline::Strong(inlines_of(inner)),
            Inline::Emphasis(inner) => Inline::Emphasis(inlines_of(inner)),
            Inline::Strikethrough(inner) => Inline::Strikethrough(inlines_of(inner)),
            Inline::Link { url, content, line } => {
                Inline::Link { url: url.clone(), content: inlines_of(content), line: *line }
            }
            other => other.clone(),
        })
        .collect();
    while let Some(at) = out.iter().position(|i| matches!(i, Inline::Field(_))) {
        out = without_sentence(out, at);
    }
    out
}

/// `content` without the sentence around the item at `at`.
fn without_sentence(mut content: Vec<Inline>, at: usize) -> Vec<Inline> {
    // Back to the end of the sentence before (kept), or the start.
    let mut start = (0, None);
    for i in (0..at).rev() {
        if let Inline::Text(text) = &content[i]
            && let Some(&end) = sentence_ends(text).last()
        {
            start = (i, Some(end));
            break;
        }
    }
    // On to the end of this sentence (dropped), or the end.
    let mut end = (content.len(), None);
    for (i, inline) in content.iter().enumerate().skip(at + 1) {
        if let Inline::Text(text) = inline
            && let Some(&stop) = sentence_ends(text).first()
        {
            end = (i, Some(stop));
            break;
        }
    }
    let mut after: Vec<Inline> = match end {
        (i, Some(stop)) => {
            let Inline::Text(text) = &content[i] else { unreachable!("a sentence ends in text") };
            let rest = text[stop..].trim_start().to_owned();
            let mut after = vec![Inline::Text(rest)];
            after.extend(content.drain(i + 1..));
            after
        }
        _ => Vec::new(),
    };
    let mut before: Vec<Inline> = match start {
        (i, Some(stop)) => {
            let Inline::Text(text) = &content[i] else { unreachable!("a sentence ends in text") };
            let kept = text[..stop].to_owned();
            let mut before: Vec<Inline> = content.drain(..i).collect();
            before.push(Inline::Text(kept));
            before
        }
        _ => Vec::new(),
    };
    if !before.is_empty() && has_text(&after) {
        before.push(Inline::Text(" ".to_owned()));
    }
    before.append(&mut after);
    before.retain(|i| !matches!(i, Inline::Text(t) if t.is_empty()));
    before
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn page_text(body: &str) -> String {
        let source = format!(
            "+++\nsubject = \"Hi {{{{ first_name }}}}, news\"\npreheader = \"For {{{{ first_name | default(\\\"you\\\") }}}}\"\ndate = 2025-10-16\n+++\n\n{body}"
        );
        let bulletin = for_everyone(&Bulletin::parse(Path::new("b.md"), &source).unwrap());
        assert!(bulletin.field_uses.is_empty());
        let mut out = String::new();
        collect(&bulletin.blocks, &mut out);
        out.trim().to_owned()
    }

    fn collect(blocks: &[Block], out: &mut String) {
        for block in blocks {
            match block {
                Block::Paragraph { content, .. } | Block::Heading { content, .. } => {
                    text(content, out);
                    out.push('|');
                }
                Block::List { items, .. } => items.iter().for_each(|item| collect(item, out)),
                Block::Quote { body, .. } => collect(body, out),
                _ => {}
            }
        }
    }

    fn text(content: &[Inline], out: &mut String) {
        for inline in content {
            match inline {
                Inline::Text(t) => out.push_str(t),
                Inline::Strong(inner) | Inline::Emphasis(inner) => text(inner, out),
                Inline::Link { content, .. } => text(content, out),
                Inline::Field(_) => out.push_str("{{FIELD}}"),
                _ => {}
            }
        }
    }

    #[test]
    fn a_field_with_a_default_shows_the_default() {
        assert_eq!(
            page_text("Dear {{ first_name | default(\"friend\") }}, welcome.\n"),
            "Dear friend, welcome.|"
        );
    }

    #[test]
    fn a_field_without_a_default_takes_its_sentence_with_it() {
        assert_eq!(
            page_text("Hello all. We prayed for {{ town }} this week! Thank you.\n"),
            "Hello all. Thank you.|"
        );
        assert_eq!(page_text("{{ first_name }}, thank you. Bye.\n"), "Bye.|");
        assert_eq!(page_text("Hello. Thank you, {{ first_name }}\n"), "Hello.|");
    }

    #[test]
    fn a_paragraph_or_list_item_left_empty_goes_and_others_stay() {
        assert_eq!(page_text("Dear {{ first_name }},\n\n- For {{ town }}.\n- For rain.\n"), "For rain.|");
    }

    #[test]
    fn the_subject_keeps_its_words_when_its_only_sentence_had_a_field() {
        let source = "+++\nsubject = \"Hi {{ first_name }}, news\"\npreheader = \"For {{ first_name | default(\\\"you\\\") }}\"\ndate = 2025-10-16\n+++\n\nText.\n";
        let bulletin = for_everyone(&Bulletin::parse(Path::new("b.md"), source).unwrap());
        assert_eq!(bulletin.subject, Template(vec![Segment::Literal("Hi, news".into())]));
        assert_eq!(bulletin.preheader, Template(vec![Segment::Literal("For you".into())]));
    }
}
