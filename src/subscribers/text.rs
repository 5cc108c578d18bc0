//! A list file's bytes as UTF-8 text, read as a stream, whatever the
//! spreadsheet saved: UTF-8 with or without a byte-order mark, UTF-16 with
//! one ("Unicode text"), or Windows-1252 ("CSV" on Windows), decided at the
//! first byte that is not UTF-8. Then the column separator, from the header
//! line: `,`, `;` (Excel in most of Europe) or a tab.
//!
//! Until a file shows a byte that is not UTF-8 it is read as UTF-8. If
//! everything before that byte was ASCII, which Windows-1252 reads the same,
//! the whole file is Windows-1252. If UTF-8 letters came first the file
//! mixes encodings: the bytes are passed on as they are, and the row that
//! holds them is reported as not UTF-8 text, with its line.

use std::io::{self, Read};

use encoding_rs::{Decoder, DecoderResult, Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// How a file's bytes were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    Windows1252,
}

impl TextEncoding {
    /// Its usual name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Utf8 => "UTF-8",
            Self::Utf16Le => "UTF-16LE",
            Self::Utf16Be => "UTF-16BE",
            Self::Windows1252 => "Windows-1252",
        }
    }

    /// `text` in this encoding, for adding rows to a file read in it: a
    /// character Windows-1252 has no byte for becomes `?`.
    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Self::Utf8 => text.as_bytes().to_vec(),
            Self::Utf16Le => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            Self::Utf16Be => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
            Self::Windows1252 => text
                .chars()
                .flat_map(|c| {
                    let mut buf = [0; 4];
                    let (bytes, _, unmappable) = WINDOWS_1252.encode(c.encode_utf8(&mut buf));
                    if unmappable { vec![b'?'] } else { bytes.into_owned() }
                })
                .collect(),
        }
    }
}

/// `text` to write over a file that was `encoding` and started with `raw`'s
/// byte-order mark, if any: the mark to write first and the bytes. Text
/// Windows-1252 cannot hold is written as UTF-8 with a mark instead.
pub fn encoded_as(text: &str, encoding: TextEncoding, raw: &[u8]) -> (&'static [u8], Vec<u8>) {
    const UTF8_MARK: &[u8] = b"\xef\xbb\xbf";
    let had = |mark: &[u8]| raw.starts_with(mark);
    match encoding {
        TextEncoding::Windows1252 if WINDOWS_1252.encode(text).2 => (UTF8_MARK, text.as_bytes().to_vec()),
        TextEncoding::Utf8 => (if had(UTF8_MARK) { UTF8_MARK } else { b"" }, text.as_bytes().to_vec()),
        TextEncoding::Utf16Le => (if had(b"\xff\xfe") { b"\xff\xfe" } else { b"" }, encoding.encode(text)),
        TextEncoding::Utf16Be => (if had(b"\xfe\xff") { b"\xfe\xff" } else { b"" }, encoding.encode(text)),
        TextEncoding::Windows1252 => (b"", encoding.encode(text)),
    }
}

/// What the reader is doing with the bytes.
enum Mode {
    /// The first bytes are not yet looked at for a byte-order mark.
    Start,
    /// Passing UTF-8 on; `letters` once a non-ASCII character was seen.
    Utf8 { letters: bool },
    /// Decoding to UTF-8.
    Decoding(Decoder),
}

/// A reader that hands on UTF-8 text, decoding its input as it goes.
pub struct Decoded<R> {
    inner: R,
    mode: Mode,
    encoding: TextEncoding,
    /// Input read but not yet handed on.
    raw: Vec<u8>,
    eof: bool,
    /// Output not yet handed on, from `out_at`.
    out: Vec<u8>,
    out_at: usize,
}

impl<R: Read> Decoded<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            mode: Mode::Start,
            encoding: TextEncoding::Utf8,
            raw: Vec::new(),
            eof: false,
            out: Vec::new(),
            out_at: 0,
        }
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// How the bytes handed on so far were read.
    pub fn encoding(&self) -> TextEncoding {
        self.encoding
    }

    /// Reads more input; false at the end of it.
    fn fill(&mut self) -> io::Result<bool> {
        let mut buf = [0; 8192];
        let n = loop {
            match self.inner.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other?,
            }
        };
        self.raw.extend_from_slice(&buf[..n]);
        self.eof = n == 0;
        Ok(n > 0)
    }

    fn decode_with(&mut self, encoding: &'static Encoding, kind: TextEncoding, skip: usize) {
        self.raw.drain(..skip);
        self.encoding = kind;
        self.mode = Mode::Decoding(encoding.new_decoder_without_bom_handling());
    }

    /// Turns what input there is into output.
    fn convert(&mut self) {
        if let Mode::Start = self.mode {
            if self.raw.len() < 3 && !self.eof {
                return;
            }
            if self.raw.starts_with(b"\xEF\xBB\xBF") {
                self.raw.drain(..3);
                self.mode = Mode::Utf8 { letters: false };
            } else if self.raw.starts_with(b"\xFF\xFE") {
                self.decode_with(UTF_16LE, TextEncoding::Utf16Le, 2);
            } else if self.raw.starts_with(b"\xFE\xFF") {
                self.decode_with(UTF_16BE, TextEncoding::Utf16Be, 2);
            } else {
                self.mode = Mode::Utf8 { letters: false };
            }
        }
        match &mut self.mode {
            Mode::Start => {}
            Mode::Utf8 { letters } => {
                let (valid, bad) = match std::str::from_utf8(&self.raw) {
                    Ok(_) => (self.raw.len(), 0),
                    Err(e) => (e.valid_up_to(), e.error_len().unwrap_or(if self.eof { 1 } else { 0 })),
                };
                *letters |= !self.raw[..valid].is_ascii();
                if bad > 0 && !*letters {
                    // Only ASCII so far, which Windows-1252 reads the same.
                    self.out.extend_from_slice(&self.raw[..valid]);
                    self.decode_with(WINDOWS_1252, TextEncoding::Windows1252, valid);
                    self.convert();
                    return;
                }
                // Mixed: the bad bytes go on as they are, for the row to be
                // reported.
                let end = (valid + bad).min(self.raw.len());
                self.out.extend_from_slice(&self.raw[..end]);
                self.raw.drain(..end);
            }
            Mode::Decoding(decoder) => {
                let mut out =
                    vec![
                        0;
                        decoder.max_utf8_buffer_length_without_replacement(self.raw.len()).unwrap_or(0) + 4
                    ];
                let mut read = 0;
                let mut written = 0;
                loop {
                    let (result, r, w) = decoder.decode_to_utf8_without_replacement(
                        &self.raw[read..],
                        &mut out[written..],
                        self.eof,
                    );
                    read += r;
                    written += w;
                    match result {
                        DecoderResult::InputEmpty => break,
                        DecoderResult::OutputFull => out.resize(out.len() * 2 + 16, 0),
                        // Not text: a byte that is not UTF-8 either, so the
                        // row is reported.
                        DecoderResult::Malformed(..) => {
                            if out.len() == written {
                                out.push(0);
                            }
                            out[written] = 0xFF;
                            written += 1;
                        }
                    }
                }
                self.out.extend_from_slice(&out[..written]);
                self.raw.drain(..read);
            }
        }
    }
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_at < self.out.len() {
                let n = buf.len().min(self.out.len() - self.out_at);
                buf[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
                self.out_at += n;
                if self.out_at == self.out.len() {
                    self.out.clear();
                    self.out_at = 0;
                }
                return Ok(n);
            }
            if self.eof && self.raw.is_empty() {
                return Ok(0);
            }
            if !self.eof {
                self.fill()?;
            }
            self.convert();
            if self.eof && self.out.is_empty() {
                // Whatever could not be decoded has been handed on.
                self.raw.clear();
            }
        }
    }
}

/// The column separator of a header line: whichever of `,`, `;` and tab
/// appears most outside quotes; `,` when none does.
pub fn delimiter_of(header: &[u8]) -> u8 {
    let mut counts = [(b',', 0), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &byte in header {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(count) = counts.iter_mut().find(|(d, _)| *d == byte) {
            count.1 += 1;
        }
    }
    counts.iter().fold((b',', 0), |best, &(d, n)| if n > best.1 { (d, n) } else { best }).0
}

/// How a separator is named to people.
pub fn delimiter_name(delimiter: u8) -> &'static str {
    match delimiter {
        b';' => "`;`",
        b'\t' => "tabs",
        _ => "`,`",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (Vec<u8>, TextEncoding) {
        // One byte at a time, the hardest way to be handed input.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some((first, rest)) = self.0.split_first() else { return Ok(0) };
                buf[0] = *first;
                self.0 = rest;
                Ok(1)
            }
        }
        let mut reader = Decoded::new(Trickle(bytes));
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        (out, reader.encoding())
    }

    #[test]
    fn utf8_with_or_without_a_byte_order_mark_is_passed_on() {
        assert_eq!(
            decode("email\nrenée\n".as_bytes()),
            ("email\nrenée\n".as_bytes().to_vec(), TextEncoding::Utf8)
        );
        assert_eq!(decode(b"\xEF\xBB\xBFemail\n"), (b"email\n".to_vec(), TextEncoding::Utf8));
        assert_eq!(decode(b""), (Vec::new(), TextEncoding::Utf8));
        assert_eq!(decode(b"e"), (b"e".to_vec(), TextEncoding::Utf8));
    }

    #[test]
    fn windows_1252_is_recognised_at_its_first_byte_that_is_not_utf8() {
        let (text, encoding) = decode(b"email;name\r\na@x.org;Ren\xe9e \x80\r\n");
        assert_eq!(String::from_utf8(text).unwrap(), "email;name\r\na@x.org;Renée €\r\n");
        assert_eq!(encoding, TextEncoding::Windows1252);
    }

    #[test]
    fn a_file_that_mixes_encodings_passes_the_bad_bytes_on() {
        let (text, encoding) = decode(b"a\xc3\xa9\nb\xe9\n");
        assert_eq!(text, b"a\xc3\xa9\nb\xe9\n");
        assert_eq!(encoding, TextEncoding::Utf8);
    }

    #[test]
    fn utf16_with_a_byte_order_mark_is_decoded_and_bad_units_marked() {
        let mut le = vec![0xFF, 0xFE];
        le.extend("email\tname\r\nrenée".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&le), ("email\tname\r\nrenée".as_bytes().to_vec(), TextEncoding::Utf16Le));
        let mut be = vec![0xFE, 0xFF];
        be.extend("é".encode_utf16().flat_map(u16::to_be_bytes));
        be.extend([0xD8, 0x00, 0x00, b'x']);
        assert_eq!(decode(&be), (b"\xc3\xa9\xffx".to_vec(), TextEncoding::Utf16Be));
    }

    #[test]
    fn the_separator_is_the_commonest_of_comma_semicolon_and_tab_outside_quotes() {
        assert_eq!(delimiter_of(b"email,first_name"), b',');
        assert_eq!(delimiter_of(b"email;first_name;last_name"), b';');
        assert_eq!(delimiter_of(b"email\tname"), b'\t');
        assert_eq!(delimiter_of(b"\"Name, full\";email"), b';');
        assert_eq!(delimiter_of(b"email"), b',');
    }

    #[test]
    fn rows_are_encoded_as_the_file_was_read() {
        assert_eq!(TextEncoding::Windows1252.encode("Renée ☃"), b"Ren\xe9e ?");
        assert_eq!(TextEncoding::Utf16Le.encode("é"), [0xE9, 0x00]);
    }
}
