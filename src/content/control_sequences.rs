//! Terminal control sequences and other control characters in text that
//! comes from outside (a plain-text bulletin pasted from an old email): an
//! ESC or C1 sequence can set a terminal's title, clear it or rewrite what
//! it shows, and a control character in a mail header changes the header.
//! [`strip`] takes them out whole, parameters included, keeping the words.

use std::borrow::Cow;

/// Whether `c` is a control character other than a line break or a tab:
/// C0, DEL or C1.
pub fn is_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\r' | '\t')
}

/// `text` without control sequences (ESC `[`…, ESC `]`… and the other
/// ESC and C1 sequences, with their parameters and terminators) and without
/// other control characters; line breaks and tabs are kept.
pub fn strip(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.peek() {
                Some('[') => {
                    chars.next();
                    skip_csi(&mut chars);
                }
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    chars.next();
                    skip_string(&mut chars);
                }
                // ESC, intermediates, then a final character: `ESC ( B`, `ESC c`.
                Some(' '..='~') => {
                    while chars.next_if(|c| (' '..='/').contains(c)).is_some() {}
                    chars.next_if(|c| ('0'..='~').contains(c));
                }
                _ => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            c if is_control(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A CSI sequence's parameters and intermediates, then its final character.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while chars.next_if(|c| ('0'..='?').contains(c) || (' '..='/').contains(c)).is_some() {}
    chars.next_if(|c| ('@'..='~').contains(c));
}

/// An OSC, DCS, SOS, PM or APC string, up to its terminator (BEL, ESC `\`
/// or ST) or, left open, the end of its line.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(&c) = chars.peek() {
        match c {
            '\n' => return,
            '\u{7}' | '\u{9c}' => {
                chars.next();
                return;
            }
            '\u{1b}' => {
                chars.next();
                chars.next_if_eq(&'\\');
                return;
            }
            _ => {
                chars.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_are_taken_out_whole_and_the_words_kept() {
        for (hostile, kept) in [
            ("Prayer \u{1b}]0;owned\u{7}news", "Prayer news"),
            ("\u{1b}[31mred\u{1b}[0m and \u{9b}2Jplain", "red and plain"),
            ("title \u{1b}]2;x\u{1b}\\set", "title set"),
            ("\u{1b}(Bcharset \u{1b}cReset", "charset Reset"),
            ("bell\u{7} del\u{7f} c1\u{85}", "bell del c1"),
            ("an open \u{1b}]0;osc\nnext line", "an open \nnext line"),
        ] {
            assert_eq!(strip(hostile), kept, "{hostile:?}");
        }
    }

    #[test]
    fn text_without_control_characters_is_left_as_it_is() {
        let text = "Lines\nand\ttabs, “quotes” — and ünïcödé\r\n";
        assert!(matches!(strip(text), Cow::Borrowed(t) if t == text));
    }
}
