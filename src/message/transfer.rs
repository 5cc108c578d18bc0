//! The transfer encoding of a text part, in one pass: the same bytes and
//! the same `Content-Transfer-Encoding` as lettre's `Body::new` gives (7bit
//! when the text is ASCII with short lines, else quoted-printable, or base64
//! when more than a third of the bytes would need escaping), at a fraction
//! of the cost.
//!
//! Why not lettre's own: it scans each part twice to choose the encoding,
//! converts line ends by inserting one byte at a time into the string, then
//! quoted-printable encodes it a character at a time (the `quoted_printable`
//! crate): 40 of the 50 µs each message cost in the dry run's profile.
//! Here runs of bytes that need no escaping are copied whole. The unit tests
//! check the result against lettre's for any text.

use lettre::message::Body;
use lettre::message::header::ContentTransferEncoding;

/// Longest encoded line, not counting its CRLF (RFC 2045).
const LIMIT: usize = 76;

/// `text` as a part's body, encoded for the wire.
pub(super) fn text_body(text: &str) -> Body {
    if text.is_ascii() && !line_too_long(text.as_bytes()) {
        return Body::dangerous_pre_encoded(crlf(text.as_bytes()), ContentTransferEncoding::SevenBit);
    }
    let (encoded, escaped) = quoted_printable(text.as_bytes());
    // The rule of lettre's encoding chooser (`email-encoding`).
    if escaped <= text.len() / 3 {
        return Body::dangerous_pre_encoded(encoded, ContentTransferEncoding::QuotedPrintable);
    }
    let lines = crlf(text.as_bytes());
    let mut base64 = String::with_capacity(email_encoding::body::base64::encoded_len(lines.len()));
    email_encoding::body::base64::encode(&lines, &mut base64).expect("writing to a String cannot fail");
    Body::dangerous_pre_encoded(base64.into_bytes(), ContentTransferEncoding::Base64)
}

/// The chooser's test for 7bit, as `email-encoding` 0.4 words it: a line
/// (counted with the LF before it, except the first) of 76 bytes or more.
fn line_too_long(b: &[u8]) -> bool {
    let mut last = 0;
    memchr::memchr_iter(b'\n', b).any(|i| {
        let previous = std::mem::replace(&mut last, i);
        i - previous >= LIMIT
    }) || b.len() - last >= LIMIT
}

/// Every LF not already after a CR gets one.
fn crlf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 32);
    let mut start = 0;
    for i in memchr::memchr_iter(b'\n', text) {
        out.extend_from_slice(&text[start..i]);
        if i == 0 || text[i - 1] != b'\r' {
            out.push(b'\r');
        }
        start = i;
    }
    out.extend_from_slice(&text[start..]);
    out
}

/// The bytes quoted-printable writes as they are: tab, and printable ASCII
/// but `=`.
const LITERAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = b' ';
    while b <= b'~' {
        table[b as usize] = b != b'=';
        b += 1;
    }
    table[b'\t' as usize] = true;
    table
};

/// Quoted-printable, with line ends made CRLF, written exactly as lettre
/// writes it (which follows the `quoted_printable` crate in text mode,
/// line limit 76); and how many bytes count against the encoding in
/// lettre's chooser (all but tab and printable ASCII).
fn quoted_printable(text: &[u8]) -> (Vec<u8>, usize) {
    let mut w = Writer { out: Vec::with_capacity(text.len() + text.len() / 4 + 16), on_line: 0, backup: 0 };
    let mut against = 0;
    let mut was_cr = false;
    let mut i = 0;
    while i < text.len() {
        let byte = text[i];
        i += 1;
        if was_cr {
            was_cr = false;
            if byte == b'\n' {
                against += 1;
                w.hard_break();
                continue;
            }
            w.append(*b"=0D");
        }
        if LITERAL[usize::from(byte)] {
            if LIMIT - w.on_line >= 3 {
                // A run of bytes written as they are, stopping two short of
                // the limit so a soft break always fits.
                let start = i - 1;
                let max = (start + LIMIT - w.on_line - 2).min(text.len());
                let end = i + literal_run(&text[i..max]);
                w.out.extend_from_slice(&text[start..end]);
                w.on_line += end - start;
                w.backup = w.out.len();
                i = end;
            } else {
                w.append([byte]);
            }
            continue;
        }
        match byte {
            b'=' => w.append(*b"=3D"),
            b'\r' => {
                against += 1;
                was_cr = true;
            }
            // lettre has made every line end CRLF before encoding.
            b'\n' => {
                against += 1;
                w.hard_break();
            }
            _ => {
                against += 1;
                w.append(hex(byte));
            }
        }
    }
    if was_cr {
        w.append(*b"=0D");
    } else {
        w.escape_trailing_blank();
    }
    (w.out, against)
}

/// How many bytes at the start of `bytes` are written as they are: eight
/// at a time while no byte of a word is a control, `=` or beyond ASCII
/// (the classic bit tricks of "Bit Twiddling Hacks": each test is exact
/// for "any byte"), then one at a time.
fn literal_run(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    let mut n = 0;
    while let Some(chunk) = bytes.get(n..n + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let below_space = w.wrapping_sub(ONES * 0x20) & !w;
        let above_tilde = w.wrapping_add(ONES) | w;
        let equals = (w ^ (ONES * u64::from(b'='))).wrapping_sub(ONES) & !(w ^ (ONES * u64::from(b'=')));
        if (below_space | above_tilde | equals) & HIGH != 0 {
            break;
        }
        n += 8;
    }
    n + bytes[n..].iter().position(|&b| !LITERAL[usize::from(b)]).unwrap_or(bytes.len() - n)
}

fn hex(byte: u8) -> [u8; 3] {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    [b'=', DIGITS[usize::from(byte >> 4)], DIGITS[usize::from(byte & 0x0f)]]
}

struct Writer {
    out: Vec<u8>,
    /// Bytes on the current output line.
    on_line: usize,
    /// Where the last thing appended starts: a soft break that no longer
    /// fits after it goes before it.
    backup: usize,
}

impl Writer {
    /// Appends one byte or one `=XX` (sized at compile time: this runs a
    /// few hundred times a message).
    #[inline]
    fn append<const N: usize>(&mut self, bytes: [u8; N]) {
        if self.on_line + N > LIMIT {
            self.soft_break();
        }
        self.backup = self.out.len();
        self.out.extend_from_slice(&bytes);
        self.on_line += N;
    }

    fn soft_break(&mut self) {
        if self.on_line == LIMIT {
            // Full: the break goes before the last thing appended (one
            // byte or one `=XX`).
            let mut last = [0; 3];
            let n = self.out.len() - self.backup;
            last[..n].copy_from_slice(&self.out[self.backup..]);
            self.out.truncate(self.backup);
            self.out.extend_from_slice(b"=\r\n");
            self.out.extend_from_slice(&last[..n]);
            self.on_line = n;
        } else {
            self.out.extend_from_slice(b"=\r\n");
            self.on_line = 0;
        }
    }

    fn hard_break(&mut self) {
        self.escape_trailing_blank();
        self.out.extend_from_slice(b"\r\n");
        self.on_line = 0;
    }

    /// A space or tab must not end an encoded line (RFC 2045 6.7 (3)).
    fn escape_trailing_blank(&mut self) {
        let escaped = match self.out.last() {
            Some(b' ') => *b"=20",
            Some(b'\t') => *b"=09",
            _ => return,
        };
        self.out.pop();
        self.on_line -= 1;
        self.append(escaped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// lettre's own encoding of `text`: what ours must equal.
    fn lettres(text: &str) -> (ContentTransferEncoding, Vec<u8>) {
        let body = Body::new(text.to_owned());
        (body.encoding(), body.into_vec())
    }

    fn ours(text: &str) -> (ContentTransferEncoding, Vec<u8>) {
        let body = text_body(text);
        (body.encoding(), body.into_vec())
    }

    #[track_caller]
    fn same_as_lettre(text: &str) {
        let (want_encoding, want) = lettres(text);
        let (got_encoding, got) = ours(text);
        assert_eq!(
            (got_encoding, String::from_utf8_lossy(&got)),
            (want_encoding, String::from_utf8_lossy(&want)),
            "{text:?}"
        );
    }

    #[test]
    fn the_sample_bulletins_parts_encode_as_lettre_encodes_them() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for snapshot in ["sample_html", "sample_text"] {
            let path = root.join(format!("src/render/snapshots/bulletin__render__tests__{snapshot}.snap"));
            let text = std::fs::read_to_string(&path).unwrap();
            same_as_lettre(&text);
            same_as_lettre(&text.replace('\n', "\r\n"));
        }
    }

    #[test]
    fn lines_at_and_around_the_limit_break_as_lettres_do() {
        for n in 70..=160 {
            for filler in ["a", "é", "=", " ", "\t", "a ", "ab\t"] {
                let line: String = filler.repeat(n).chars().take(n).collect();
                same_as_lettre(&line);
                same_as_lettre(&format!("{line}\n{line}\r\nend "));
                same_as_lettre(&format!("é{line} \n"));
            }
        }
    }

    #[test]
    fn short_ascii_is_7bit_and_mostly_unprintable_text_is_base64() {
        assert_eq!(ours("Dear Ana,\nthank you.").0, ContentTransferEncoding::SevenBit);
        assert_eq!(ours("Dear Ana,\nthank you.").1, b"Dear Ana,\r\nthank you.");
        assert_eq!(ours("日本語のテキスト").0, ContentTransferEncoding::Base64);
        same_as_lettre("日本語のテキスト");
        same_as_lettre("");
        same_as_lettre("\r");
        same_as_lettre("a\rb\r\r\nc\n\r");
    }

    #[test]
    fn a_literal_run_stops_at_the_first_byte_that_needs_escaping() {
        for (text, run) in [
            ("", 0),
            ("plain text, eight+ bytes long", 29),
            ("abcdefgh=ijkl", 8),
            ("abcdefghijk\tl", 13),
            ("abcdefghijkl\r\n", 12),
            ("abc\u{7f}defghijkl", 3),
            ("abcdefghijklmnoé", 15),
            ("~~~~~~~~ ~~~~~~~\u{1f}", 16),
        ] {
            assert_eq!(literal_run(text.as_bytes()), run, "{text:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn any_text_encodes_as_lettre_encodes_it(text in r"([ -~]|[\t\r\n =]|é|€|😀){0,400}") {
            same_as_lettre(&text);
        }

        #[test]
        fn long_lines_with_blanks_encode_as_lettre_encodes_them(
            words in proptest::collection::vec(r"[a-z]{1,12}|[ \t]{1,3}|=|é", 0..120)
        ) {
            same_as_lettre(&words.concat());
        }

        #[test]
        fn encoded_lines_are_never_longer_than_76_bytes(text in r"([ -~]|[\t\n =]|é){0,600}") {
            let (_, bytes) = ours(&text);
            for line in bytes.split(|&b| b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                prop_assert!(line.len() <= LIMIT, "{:?}", String::from_utf8_lossy(line));
            }
        }
    }
}
