//! A bulletin's [`Fingerprint`]: what it says, as a digest, so that the
//! journal can tell that a recipient already received the same text under
//! another campaign's name.

use std::fmt;

use sha2::{Digest, Sha256};

/// SHA-256 of a bulletin's subject and Markdown body as written, before any
/// subscriber's merge fields are filled in; written as 64 lower-case hex
/// digits.
///
/// Only the subject and the body go in: the date, the file name and the rest
/// of the front matter (preheader, title, segment, language, campaign) do
/// not, since correcting the date, renaming the file or copying it makes a
/// new campaign of the *same* bulletin, and it must still be recognised.
/// Any edit of the subject's or the body's words gives another fingerprint.
/// The Markdown, not the rendered email, is what is hashed: the rendering
/// changes with the settings (the footer, the unsubscribe link) and with
/// bulletin's own versions, the text a person wrote does not. Differences a
/// reader cannot see are evened out first: CRLF line ends, white space at
/// the end of a line, and blank lines before or after the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of a bulletin whose subject (as written, merge
    /// fields and all) is `subject` and whose Markdown body is `body`.
    pub fn of(subject: &str, body: &str) -> Self {
        let body = body.replace("\r\n", "\n");
        let lines: Vec<&str> = body.lines().map(str::trim_end).collect();
        let first = lines.iter().position(|l| !l.is_empty()).unwrap_or(lines.len());
        let last = lines.iter().rposition(|l| !l.is_empty()).map_or(first, |i| i + 1);
        let body = lines[first..last].join("\n");
        let mut hash = Sha256::new();
        // Each part with its length first, so that no text can move from
        // one part to the other and keep the digest.
        for part in [subject.trim(), body.as_str()] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        Self(hash.finalize().into())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_trailing_spaces_and_outer_blank_lines_do_not_change_it() {
        let one = Fingerprint::of("News", "Dear {{ first_name }},\n\nThe well is finished.\n");
        assert_eq!(
            Fingerprint::of(" News ", "\r\n\r\nDear {{ first_name }},  \r\n\r\nThe well is finished."),
            one
        );
        assert_ne!(Fingerprint::of("News", "Dear {{ first_name }},\n\nThe well is done.\n"), one);
        assert_ne!(Fingerprint::of("News!", "Dear {{ first_name }},\n\nThe well is finished.\n"), one);
    }

    #[test]
    fn text_cannot_move_between_the_subject_and_the_body() {
        assert_ne!(Fingerprint::of("ab", "c"), Fingerprint::of("a", "bc"));
    }

    #[test]
    fn it_is_written_as_64_lower_case_hex_digits() {
        let text = Fingerprint::of("News", "Body").to_string();
        assert_eq!(text.len(), 64);
        assert!(text.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)), "{text}");
    }
}
