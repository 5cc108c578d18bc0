//! Line numbers for CSV records. The `csv` crate's own positions skip blank
//! lines and miscount CRLF files, and a person fixing a list needs the line
//! their editor shows, so we count line breaks in the bytes as they are read.
//!
//! The same pass follows the quotes as the `csv` crate does, which never
//! says when a quoted field is still open at the end of the file: the
//! tracker does, with the line the quote opened on. It also counts each
//! field's and record's bytes as they stream past, and stops one longer
//! than its [`Limits`] before the `csv` crate has gathered it in memory.

use std::collections::VecDeque;
use std::io::{self, Read};

/// The longest field and record a [`LineTracker`] passes on, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub field: u64,
    pub record: u64,
}

impl Limits {
    /// For a subscriber list: a field of 128 KiB, room for the 32,767
    /// characters a spreadsheet cell holds at most; a record of 1 MiB.
    pub const LIST: Self = Self { field: 128 << 10, record: 1 << 20 };
}

/// A field or record longer than its [`Limits`]: what the reader gets as
/// the inner error of an [`io::Error`] of kind `InvalidData`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct TooLong {
    /// The line the record starts on.
    pub line: u64,
    /// The field's index in its record, from 0.
    pub field: usize,
    /// The record, not the field, went past its limit.
    pub record: bool,
    /// The limit passed, in bytes.
    pub limit: u64,
    /// The field is quoted and its quote is still open.
    pub quoted: bool,
}

impl TooLong {
    fn describe(&self) -> String {
        let what = if self.record { "the row" } else { "the field" };
        let mut text = format!("{what} is longer than {} KiB", self.limit >> 10);
        if self.quoted {
            text.push_str(" inside a quote that has not closed: is a quote left open?");
        }
        text
    }

    /// The [`TooLong`] inside `error`, if that is what it is.
    pub fn of(error: &io::Error) -> Option<&Self> {
        error.get_ref().and_then(|inner| inner.downcast_ref())
    }

    /// The [`TooLong`] a CSV reader met reading through a [`LineTracker`],
    /// if that is what `error` is.
    pub fn of_csv(error: &csv::Error) -> Option<&Self> {
        match error.kind() {
            csv::ErrorKind::Io(error) => Self::of(error),
            _ => None,
        }
    }
}

/// A reader that remembers where the line-break bytes it passed on were,
/// until asked about them.
pub struct LineTracker<R> {
    inner: R,
    consumed: u64,
    /// Offsets of `\r` and `\n` bytes read but not yet counted; `true` for `\n`.
    breaks: VecDeque<(u64, bool)>,
    lines_before: u64,
    delimiter: u8,
    quotes: Quotes,
    /// Line breaks (`\n`) passed on.
    newlines: u64,
    /// The line the open quoted field started on.
    opened: u64,
    last: Option<u8>,
    eof: bool,
    limits: Limits,
    /// Where the bytes passed on stand: the line their record started on,
    /// the field (from 0), and the bytes so far of the field and the record.
    record_line: u64,
    field: usize,
    field_bytes: u64,
    record_bytes: u64,
}

/// Where the bytes passed on stand, in CSV's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quotes {
    /// At the start of a field (or of a record).
    FieldStart,
    /// In a field that did not start with a quote.
    Unquoted,
    /// In a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field: the field's end, or the
    /// first of two.
    QuoteInQuoted,
}

impl<R: Read> LineTracker<R> {
    pub fn new(inner: R, delimiter: u8, limits: Limits) -> Self {
        Self {
            inner,
            consumed: 0,
            breaks: VecDeque::new(),
            lines_before: 0,
            delimiter,
            quotes: Quotes::FieldStart,
            newlines: 0,
            opened: 0,
            last: None,
            eof: false,
            limits,
            record_line: 1,
            field: 0,
            field_bytes: 0,
            record_bytes: 0,
        }
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Once the whole input was read: the line a quoted field opened on
    /// that never closed.
    pub fn unclosed_quote(&self) -> Option<u64> {
        (self.eof && self.quotes == Quotes::Quoted).then_some(self.opened)
    }

    /// Once the whole input was read: how many lines it has (a last line
    /// without a line break counts).
    pub fn total_lines(&self) -> Option<u64> {
        self.eof.then(|| self.newlines + u64::from(self.last.is_some_and(|b| b != b'\n')))
    }

    /// Whether the input passed on so far is empty or ends with a line
    /// break.
    pub fn ends_with_line_break(&self) -> bool {
        self.last.is_none_or(|b| b == b'\n')
    }

    fn follow(&mut self, byte: u8) {
        let newline = byte == b'\n' || byte == b'\r';
        let outside = self.quotes != Quotes::Quoted;
        self.quotes = match (self.quotes, byte) {
            (Quotes::FieldStart, b'"') => {
                self.opened = self.newlines + 1;
                Quotes::Quoted
            }
            (Quotes::Quoted, b'"') => Quotes::QuoteInQuoted,
            (Quotes::Quoted, _) => Quotes::Quoted,
            (Quotes::QuoteInQuoted, b'"') => Quotes::Quoted,
            (_, b) if b == self.delimiter || newline => Quotes::FieldStart,
            _ => Quotes::Unquoted,
        };
        if byte == b'\n' {
            self.newlines += 1;
        }
        self.last = Some(byte);
        if outside && newline {
            (self.record_line, self.field, self.field_bytes, self.record_bytes) =
                (self.newlines + 1, 0, 0, 0);
        } else if outside && byte == self.delimiter {
            (self.field, self.field_bytes) = (self.field + 1, 0);
            self.record_bytes += 1;
        } else {
            self.field_bytes += 1;
            self.record_bytes += 1;
        }
    }

    /// The field or record just followed, if it is longer than allowed.
    fn too_long(&self) -> Option<TooLong> {
        let record = self.record_bytes > self.limits.record;
        (record || self.field_bytes > self.limits.field).then(|| TooLong {
            line: self.record_line,
            field: self.field,
            record,
            limit: if record { self.limits.record } else { self.limits.field },
            quoted: self.quotes == Quotes::Quoted,
        })
    }

    /// The 1-based line of a record whose `csv` position is `byte`. That
    /// position points just past the previous record's content, so the line
    /// breaks (and blank lines) directly at it belong before the record.
    /// Positions must be asked about in increasing order.
    pub fn line_at(&mut self, byte: u64) -> u64 {
        while let Some(&(offset, is_lf)) = self.breaks.front() {
            if offset >= byte {
                break;
            }
            self.lines_before += u64::from(is_lf);
            self.breaks.pop_front();
        }
        let mut expected = byte;
        while let Some(&(offset, is_lf)) = self.breaks.front() {
            if offset != expected {
                break;
            }
            self.lines_before += u64::from(is_lf);
            self.breaks.pop_front();
            expected += 1;
        }
        self.lines_before + 1
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.eof |= n == 0 && !buf.is_empty();
        for (i, &byte) in buf[..n].iter().enumerate() {
            if byte == b'\n' || byte == b'\r' {
                self.breaks.push_back((self.consumed + i as u64, byte == b'\n'));
            }
            self.follow(byte);
            if let Some(too_long) = self.too_long() {
                return Err(io::Error::new(io::ErrorKind::InvalidData, too_long));
            }
        }
        self.consumed += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line of each record of `input`, as the subscriber reader asks.
    fn lines(input: &[u8]) -> Vec<u64> {
        let mut csv =
            csv::ReaderBuilder::new().flexible(true).from_reader(LineTracker::new(input, b',', Limits::LIST));
        csv.byte_headers().unwrap();
        let mut record = csv::ByteRecord::new();
        let mut lines = Vec::new();
        while csv.read_byte_record(&mut record).unwrap() {
            let byte = record.position().unwrap().byte();
            lines.push(csv.get_mut().line_at(byte));
        }
        lines
    }

    fn too_long(input: &[u8], limits: Limits) -> Option<TooLong> {
        let mut tracker = LineTracker::new(input, b',', limits);
        let error = std::io::copy(&mut tracker, &mut std::io::sink()).err()?;
        Some(TooLong::of(&error).expect("a TooLong").clone())
    }

    #[test]
    fn a_field_or_row_longer_than_its_limit_stops_the_reading_with_its_line_and_field() {
        let limits = Limits { field: 5, record: 12 };
        assert_eq!(too_long(b"email,name\na,12345\r\nb,\"1\n2\"\n", limits), None);
        let field = too_long(b"email,name\na,12345\nb,c,123456\n", limits).unwrap();
        assert_eq!(field, TooLong { line: 3, field: 2, record: false, limit: 5, quoted: false });
        let row = too_long(b"email,name\r\n\r\na,12345,1234,1\n", limits).unwrap();
        assert_eq!(row, TooLong { line: 3, field: 3, record: true, limit: 12, quoted: false });
        let open = too_long(b"email,name\na,\"1\n2\n3\n", limits).unwrap();
        assert_eq!(open, TooLong { line: 2, field: 1, record: false, limit: 5, quoted: true });
    }

    #[test]
    fn lf_lines_are_counted_from_one() {
        assert_eq!(lines(b"email\na@x.org\nb@x.org\n"), [2, 3]);
    }

    #[test]
    fn crlf_lines_count_once() {
        assert_eq!(lines(b"email\r\na@x.org\r\nb@x.org\r\n"), [2, 3]);
    }

    #[test]
    fn blank_lines_are_counted() {
        assert_eq!(lines(b"email\n\na@x.org\n\n\nb@x.org"), [3, 6]);
        assert_eq!(lines(b"email\r\n\r\na@x.org\r\n\r\nb@x.org\r\n"), [3, 5]);
    }

    #[test]
    fn newlines_inside_quotes_move_later_records_down() {
        assert_eq!(lines(b"email,note\na@x.org,\"one\ntwo\nthree\"\nb@x.org,x\n"), [2, 5]);
    }

    #[test]
    fn a_byte_order_mark_does_not_shift_lines() {
        assert_eq!(lines(b"\xEF\xBB\xBFemail\na@x.org\n"), [2]);
    }

    fn tracked(input: &[u8]) -> LineTracker<&[u8]> {
        let mut tracker = LineTracker::new(input, b',', Limits::LIST);
        std::io::copy(&mut tracker, &mut std::io::sink()).unwrap();
        tracker
    }

    #[test]
    fn a_quote_left_open_to_the_end_is_found_with_its_line() {
        let open = tracked(b"email,name\na@x.org,Ann\nb@x.org,\"The \"\"Rev,Smith\nc@x.org,C\n");
        assert_eq!(open.unclosed_quote(), Some(3));
        assert_eq!(open.total_lines(), Some(4));
        for closed in
            [&b"email,name\na@x.org,\"Ann\nMarie\"\n"[..], b"a,b\"c\nd,\"\"\"x\"\"\"\n", b"a,\"\"\n\"b\""]
        {
            assert_eq!(tracked(closed).unclosed_quote(), None, "{}", String::from_utf8_lossy(closed));
        }
    }

    #[test]
    fn every_line_is_counted_with_or_without_a_last_line_break() {
        assert_eq!(tracked(b"").total_lines(), Some(0));
        assert_eq!(tracked(b"email").total_lines(), Some(1));
        assert_eq!(tracked(b"email\r\n\r\na@x.org\r\n").total_lines(), Some(3));
    }

    #[test]
    fn long_files_across_many_buffers_keep_count() {
        let mut input = b"email\n".to_vec();
        for i in 0..20_000 {
            input.extend_from_slice(format!("person{i}@example.org\r\n").as_bytes());
            if i % 1000 == 0 {
                input.extend_from_slice(b"\r\n");
            }
        }
        let got = lines(&input);
        assert_eq!(got.len(), 20_000);
        assert_eq!(got[0], 2);
        assert_eq!(got[1], 4);
        assert_eq!(*got.last().unwrap(), 20_000 + 1 + 20);
    }
}
