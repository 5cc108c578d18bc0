//! The records of a CSV file, read as every reader of the project's lists
//! reads them: the text decoded ([`super::text`]), the separator found
//! from the header line, every line counted and every field limited as it
//! streams past ([`LineTracker`]), and a quoted field that swallowed what
//! look like rows of their own refused. [`super::SubscriberReader`] reads
//! the list through it row by row; [`Table`] reads a whole file for
//! [`super::CsvFile`] to change.

use std::fs::File;
use std::io::{Chain, Cursor, Read};
use std::path::Path;

use super::lines::{Limits, LineTracker, TooLong};
use super::text::{Decoded, TextEncoding, delimiter_of};
use super::{EmailAddress, SubscribersError};
use crate::merge::FieldName;

/// The file's text as the CSV reader sees it: the header line read ahead
/// (to find the separator), then the rest, decoded as it is read.
pub(super) type Input<R = File> = LineTracker<Chain<Cursor<Vec<u8>>, Decoded<R>>>;

/// The longest header line looked at for its separator.
const HEADER_LOOK: usize = 64 * 1024;

/// A CSV reader of `source`, the text of `path`, decoded, its separator
/// found from the header line, its lines counted and its fields limited.
pub(super) fn csv_reader<R: Read>(
    path: &Path,
    source: R,
) -> Result<(csv::Reader<Input<R>>, u8), SubscribersError> {
    let read = |source| SubscribersError::Read { path: path.to_owned(), source };
    let mut text = Decoded::new(source);
    // The header line, read ahead for its separator.
    let mut head = Vec::new();
    let mut chunk = [0; 4096];
    while !head.contains(&b'\n') && head.len() < HEADER_LOOK {
        let n = text.read(&mut chunk).map_err(read)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    if head.contains(&0) {
        return Err(SubscribersError::NotCsv {
            path: path.to_owned(),
            reason: "it holds binary data".to_owned(),
        });
    }
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let delimiter = delimiter_of(first_line);
    let input = LineTracker::new(Cursor::new(head).chain(text), delimiter, Limits::LIST);
    Ok((csv::ReaderBuilder::new().flexible(true).delimiter(delimiter).from_reader(input), delimiter))
}

/// A CSV file's text read whole, as every reader reads it (one separator,
/// decoding, line count, field limit and open-quote check): what
/// [`super::CsvFile`] changes under its lock.
#[derive(Debug)]
pub(crate) struct Table {
    /// The first line; none when the file holds no text.
    pub header: Option<csv::StringRecord>,
    /// Every record after it, rows of empty cells too, as written.
    pub records: Vec<csv::StringRecord>,
    /// The line each record starts on.
    pub lines: Vec<u64>,
    pub delimiter: u8,
    pub encoding: TextEncoding,
    /// The text ends with a line break (or there is none).
    pub ends_with_newline: bool,
}

impl Table {
    /// Reads `bytes`, the contents of `path`.
    pub(crate) fn read(path: &Path, bytes: &[u8]) -> Result<Self, SubscribersError> {
        let (mut csv, delimiter) = csv_reader(path, bytes)?;
        let header = csv.byte_headers().map_err(|source| csv_error(path, 1, source, &[]))?.clone();
        if lines_of(&header) > 1 {
            check_quotes(path, csv.get_ref(), &header, 1, delimiter)?;
        }
        let text = |record: csv::ByteRecord, line: u64| {
            csv::StringRecord::from_byte_record(record).map_err(|_| SubscribersError::NotCsv {
                path: path.to_owned(),
                reason: format!("line {line} is not text"),
            })
        };
        let names: Vec<_> =
            header.iter().map(|n| FieldName::normalise(&String::from_utf8_lossy(n))).collect();
        let (mut records, mut lines) = (Vec::new(), Vec::new());
        let mut record = csv::ByteRecord::new();
        while read_record(path, &mut csv, &mut record, delimiter, &names)? {
            let line = csv.get_mut().line_at(record.position().map_or(0, csv::Position::byte));
            records.push(text(std::mem::take(&mut record), line)?);
            lines.push(line);
        }
        let tracker = csv.get_ref();
        let encoding = tracker.get_ref().get_ref().1.encoding();
        let ends_with_newline = tracker.ends_with_line_break();
        let header = (!header.is_empty()).then(|| text(header, 1)).transpose()?;
        Ok(Self { header, records, lines, delimiter, encoding, ends_with_newline })
    }
}

/// How many lines a record takes: one, and one more for each line break
/// inside its quoted fields.
pub(super) fn lines_of(record: &csv::ByteRecord) -> u64 {
    1 + record.iter().map(|f| memchr::memchr_iter(b'\n', f).count() as u64).sum::<u64>()
}

/// What `source`, met reading `path` (at `line`, as far as `csv` knows)
/// with columns `names`, means: a field too long is named by its column,
/// at the line its own count found.
pub(super) fn csv_error(
    path: &Path,
    line: u64,
    source: csv::Error,
    names: &[Option<FieldName>],
) -> SubscribersError {
    if let Some(too_long) = TooLong::of_csv(&source) {
        let column = names
            .get(too_long.field)
            .and_then(Option::as_ref)
            .map_or_else(|| format!("#{}", too_long.field + 1), ToString::to_string);
        return SubscribersError::TooLong {
            path: path.to_owned(),
            line: too_long.line,
            column,
            reason: too_long.clone(),
        };
    }
    SubscribersError::Csv { path: path.to_owned(), line, source }
}

/// Reads the next record, refusing one whose quoted field took in what
/// look like rows of their own, or ran to the end of the file, or a field
/// longer than [`Limits::LIST`] (`names`, its columns, name it).
pub(super) fn read_record<R: Read>(
    path: &Path,
    csv: &mut csv::Reader<Input<R>>,
    record: &mut csv::ByteRecord,
    delimiter: u8,
    names: &[Option<FieldName>],
) -> Result<bool, SubscribersError> {
    let more = csv.read_byte_record(record).map_err(|source| {
        let line = csv.get_mut().line_at(source.position().map_or(0, csv::Position::byte));
        csv_error(path, line, source, names)
    })?;
    let lines = lines_of(record);
    if !more || lines == 1 {
        return Ok(more);
    }
    let byte = record.position().map_or(0, csv::Position::byte);
    let line = csv.get_mut().line_at(byte);
    check_quotes(path, csv.get_ref(), record, line, delimiter)?;
    Ok(more)
}

/// Refuses a record starting on `line` whose quoted field took in what
/// look like rows of their own, or ran to the end of the file.
pub(super) fn check_quotes<R: Read>(
    path: &Path,
    tracker: &Input<R>,
    record: &csv::ByteRecord,
    line: u64,
    delimiter: u8,
) -> Result<(), SubscribersError> {
    let open_quote = |line, lines, to_end, swallowed: Vec<(u64, String)>| SubscribersError::OpenQuote {
        path: path.to_owned(),
        line,
        lines,
        to_end,
        rows: swallowed.len() as u64,
        first: swallowed.into_iter().next(),
    };
    let mut before = 0;
    for field in record.iter() {
        let opened = line + before;
        let inside = memchr::memchr_iter(b'\n', field).count() as u64;
        before += inside;
        if inside == 0 {
            continue;
        }
        let swallowed: Vec<(u64, String)> = field
            .split(|&b| b == b'\n')
            .enumerate()
            .skip(1)
            .filter(|(_, text)| looks_like_row(text, delimiter))
            .map(|(k, text)| (opened + k as u64, String::from_utf8_lossy(text).trim().to_owned()))
            .collect();
        if let Some(unclosed) = tracker.unclosed_quote()
            && unclosed == opened
        {
            let total = tracker.total_lines().unwrap_or(opened);
            return Err(open_quote(opened, total + 1 - opened, true, swallowed));
        }
        if !swallowed.is_empty() {
            return Err(open_quote(opened, inside + 1, false, swallowed));
        }
    }
    Ok(())
}

/// Whether a line inside a quoted field reads like a row of the list: one
/// of its cells is an email address.
fn looks_like_row(line: &[u8], delimiter: u8) -> bool {
    line.split(|&b| b == delimiter).any(|cell| {
        std::str::from_utf8(cell)
            .map(|c| c.trim().trim_matches('"').trim())
            .is_ok_and(|c| c.contains('@') && EmailAddress::parse(c).is_ok())
    })
}
