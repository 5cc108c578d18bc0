//! Whether a message's plaintext part says what its HTML part says.
//!
//! The measure: the words a reader sees in each part, compared as two
//! multisets. HTML words are the text of `<body>` outside hidden elements
//! (`display:none`, such as the preheader) plus image alt text (what shows
//! when images are blocked); `<head>`, `<style>` and comments do not count.
//! Words are split at white space, lower-cased and stripped of surrounding
//! punctuation (so `*bold*` and `<strong>bold</strong>` match); web and
//! mailto addresses, link reference numbers such as `[2]`, and the
//! plaintext's own marks (`Links:`, `[image: …]`, `[Photo: …]`, a numbered
//! list's `2.`)
//! are left out, since the plaintext spells out what the HTML puts behind
//! links and images or draws itself. The
//! result is the share of the HTML's words (counted with repeats) that the
//! plaintext lacks, and the share of the plaintext's words that the HTML
//! lacks. SpamAssassin's `MPART_ALT_DIFF` is the first share, by distinct
//! word, above 99%; `MPART_ALT_DIFF_COUNT` a plaintext with over three
//! times the HTML's distinct words.

use std::collections::HashMap;
use std::fmt;

use scraper::{ElementRef, Html, Node, Selector};

/// How much two parts differ; see the module's documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct PartsDifference {
    /// Words in the HTML's visible text.
    pub html_words: usize,
    /// Words in the plaintext.
    pub text_words: usize,
    /// HTML words (with repeats) the plaintext lacks.
    pub missing_from_text: usize,
    /// Plaintext words (with repeats) the HTML lacks.
    pub missing_from_html: usize,
    /// A few of the words that are in one part only, for the report.
    pub examples: Vec<String>,
}

impl PartsDifference {
    /// The share of the HTML's words that the plaintext lacks (0 to 1).
    pub fn missing_from_text_share(&self) -> f64 {
        share(self.missing_from_text, self.html_words)
    }

    /// The share of the plaintext's words that the HTML lacks (0 to 1).
    pub fn missing_from_html_share(&self) -> f64 {
        share(self.missing_from_html, self.text_words)
    }

    /// True when either share is above `limit`.
    pub fn exceeds(&self, limit: f64) -> bool {
        self.missing_from_text_share() > limit || self.missing_from_html_share() > limit
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 { if part == 0 { 0.0 } else { 1.0 } } else { part as f64 / whole as f64 }
}

impl fmt::Display for PartsDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.0}% of the HTML's {} words are not in the plaintext, {:.0}% of the plaintext's {} words are \
             not in the HTML",
            self.missing_from_text_share() * 100.0,
            self.html_words,
            self.missing_from_html_share() * 100.0,
            self.text_words
        )?;
        if !self.examples.is_empty() {
            let quoted: Vec<String> = self.examples.iter().map(|w| format!("“{w}”")).collect();
            write!(f, "; for example {}", quoted.join(", "))?;
        }
        Ok(())
    }
}

/// Compares the visible words of `html` with the words of `text`.
pub fn difference(html: &str, text: &str) -> PartsDifference {
    let html = words(&visible_text(html));
    let text = words(text);
    let html_only = only_in(&html, &text);
    let text_only = only_in(&text, &html);
    let examples = html_only.iter().chain(&text_only).take(5).map(|(w, _)| (*w).clone()).collect();
    PartsDifference {
        html_words: html.values().sum(),
        text_words: text.values().sum(),
        missing_from_text: html_only.iter().map(|(_, n)| n).sum(),
        missing_from_html: text_only.iter().map(|(_, n)| n).sum(),
        examples,
    }
}

/// The words of `a` that `b` lacks, with how many times each, most first.
fn only_in<'a>(a: &'a HashMap<String, usize>, b: &HashMap<String, usize>) -> Vec<(&'a String, usize)> {
    let mut only: Vec<(&String, usize)> = a
        .iter()
        .map(|(word, n)| (word, n.saturating_sub(b.get(word).copied().unwrap_or(0))))
        .filter(|(_, n)| *n > 0)
        .collect();
    only.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
    only
}

/// Each word of `text` with how often it occurs; see the module's
/// documentation for what counts as a word.
fn words(text: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    let lines = text.lines().filter(|line| line.trim() != "Links:");
    // A number opening a line is a numbered list's marker, which HTML
    // draws rather than writes.
    let tokens = lines.flat_map(|line| {
        line.split_whitespace()
            .enumerate()
            .filter(|(i, token)| *i > 0 || !is_list_number(token))
            .map(|(_, t)| t)
    });
    for token in tokens {
        if is_address(token) || is_reference(token) || matches!(token, "[image:" | "[image]" | "[Photo:") {
            continue;
        }
        let word = token.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
        if !word.is_empty() {
            *counts.entry(word).or_default() += 1;
        }
    }
    counts
}

fn is_address(token: &str) -> bool {
    let token = token.trim_start_matches(['<', '(']).to_ascii_lowercase();
    token.contains("://") || token.starts_with("mailto:") || token.starts_with("tel:")
}

fn is_list_number(token: &str) -> bool {
    token.strip_suffix('.').is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// A link reference of the plaintext, such as `[2]`.
fn is_reference(token: &str) -> bool {
    token
        .trim_end_matches(['.', ',', ';', ':', '!', '?', ')'])
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// The text of `html`'s body as a reader sees it, with image alt text.
fn visible_text(html: &str) -> String {
    let document = Html::parse_document(html);
    let body = Selector::parse("body").expect("a valid selector");
    let mut out = String::new();
    if let Some(body) = document.select(&body).next() {
        collect(body, &mut out);
    }
    out
}

fn collect(element: ElementRef<'_>, out: &mut String) {
    for child in element.children() {
        match child.value() {
            Node::Text(text) => out.push_str(text),
            Node::Element(e) => {
                let Some(child) = ElementRef::wrap(child) else { continue };
                if matches!(e.name(), "head" | "title" | "style" | "script") || is_hidden(e) {
                    continue;
                }
                if e.name() == "img" {
                    out.push(' ');
                    out.push_str(e.attr("alt").unwrap_or_default());
                }
                // Block boxes and line breaks separate words; inline
                // elements such as <strong> do not.
                let block = !matches!(e.name(), "a" | "strong" | "b" | "em" | "i" | "s" | "span" | "code");
                if block {
                    out.push(' ');
                }
                collect(child, out);
                if block {
                    out.push(' ');
                }
            }
            _ => {}
        }
    }
}

fn is_hidden(element: &scraper::node::Element) -> bool {
    element.attr("style").is_some_and(|style| {
        style.split(';').any(|declaration| {
            let declaration: String = declaration.chars().filter(|c| !c.is_whitespace()).collect();
            declaration.eq_ignore_ascii_case("display:none")
                || declaration.eq_ignore_ascii_case("visibility:hidden")
        })
    }) || element.attr("hidden").is_some()
}
