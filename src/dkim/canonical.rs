//! RFC 6376's "relaxed" canonicalisation (section 3.4.2 for header fields,
//! 3.4.4 for the body): the bytes a DKIM signature is computed over, so
//! that white space a relay re-folds or pads does not break it. Also the
//! split of a message into its header fields and body.

/// One header field of a message, as it is in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Field<'a> {
    /// The name, as written (before the colon, white space trimmed).
    pub name: &'a [u8],
    /// Everything after the colon up to the field's final CRLF, folding
    /// included.
    pub value: &'a [u8],
}

/// The header fields of `message` in order, and its body (after the empty
/// line; empty when there is none). Lines end in CRLF; a line that starts
/// with white space continues the field before it.
pub(super) fn split(message: &[u8]) -> (Vec<Field<'_>>, &[u8]) {
    // Each field as (name, where its value starts, where it ends).
    let mut fields: Vec<(&[u8], usize, usize)> = Vec::new();
    let mut at = 0;
    while at < message.len() {
        let end = find_crlf(&message[at..]).map_or(message.len(), |n| at + n);
        let line = &message[at..end];
        let next = (end + 2).min(message.len());
        if line.is_empty() {
            at = next;
            break;
        }
        if matches!(line[0], b' ' | b'\t') {
            // A continuation line: the field before it goes on to here.
            if let Some(field) = fields.last_mut() {
                field.2 = end;
            }
        } else if let Some(colon) = line.iter().position(|b| *b == b':') {
            fields.push((line[..colon].trim_ascii(), at + colon + 1, end));
        }
        at = next;
    }
    let fields =
        fields.into_iter().map(|(name, start, end)| Field { name, value: &message[start..end] }).collect();
    (fields, &message[at.min(message.len())..])
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    memchr::memmem::find(bytes, b"\r\n")
}

/// Appends the relaxed form of one header field to `out`: the name in
/// lower case, a colon, the value unfolded with each run of white space
/// made one space and none at either end, then CRLF when `line_end`
/// (the signature's own field is hashed without it).
pub(super) fn header(name: &[u8], value: &[u8], line_end: bool, out: &mut Vec<u8>) {
    out.extend(name.trim_ascii().iter().map(u8::to_ascii_lowercase));
    out.push(b':');
    let mut space = false;
    let mut written = false;
    for &b in value {
        match b {
            // Unfolding removes the line breaks; the white space that
            // follows them stays, as one space.
            b'\r' | b'\n' => {}
            b' ' | b'\t' => space = true,
            _ => {
                if space && written {
                    out.push(b' ');
                }
                space = false;
                written = true;
                out.push(b);
            }
        }
    }
    if line_end {
        out.extend_from_slice(b"\r\n");
    }
}

/// The relaxed form of a body: each run of white space within a line made
/// one space, none at the end of a line, no empty lines at the end, and a
/// final CRLF unless the body is then empty.
pub(super) fn body(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    // Empty lines are written only once a line with text follows them.
    let mut empty_lines = 0;
    let mut rest = body;
    while !rest.is_empty() {
        let (line, after) = match find_crlf(rest) {
            Some(at) => (&rest[..at], &rest[at + 2..]),
            None => (rest, &rest[rest.len()..]),
        };
        // Most lines (the base64 of a photo, above all) hold no white space
        // at all: copied whole, not byte by byte.
        if !line.is_empty() && memchr::memchr2(b' ', b'\t', line).is_none() {
            for _ in 0..std::mem::take(&mut empty_lines) {
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
            rest = after;
            continue;
        }
        let mut space = false;
        let mut text = false;
        for &b in line {
            if matches!(b, b' ' | b'\t') {
                space = true;
                continue;
            }
            if !text {
                for _ in 0..std::mem::take(&mut empty_lines) {
                    out.extend_from_slice(b"\r\n");
                }
                text = true;
            }
            // Kept as one space between words and at the start of the line,
            // dropped at its end.
            if std::mem::take(&mut space) {
                out.push(b' ');
            }
            out.push(b);
        }
        if text {
            out.extend_from_slice(b"\r\n");
        } else {
            empty_lines += 1;
        }
        rest = after;
    }
    out
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    /// RFC 6376 section 3.4.5, the example of both canonicalisations.
    const RFC_EXAMPLE: &[u8] = b"A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";

    fn relaxed_headers(message: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for field in split(message).0 {
            header(field.name, field.value, true, &mut out);
        }
        out
    }

    #[test]
    fn the_rfc_6376_example_header_canonicalises_as_the_rfc_says() {
        assert_eq!(String::from_utf8(relaxed_headers(RFC_EXAMPLE)).unwrap(), "a:X\r\nb:Y Z\r\n");
    }

    #[test]
    fn the_rfc_6376_example_body_canonicalises_as_the_rfc_says() {
        let body = split(RFC_EXAMPLE).1;
        assert_eq!(String::from_utf8(super::body(body)).unwrap(), " C\r\nD E\r\n");
    }

    #[test]
    fn a_message_splits_into_its_fields_with_their_folding_and_its_body() {
        let (fields, body) =
            split(b"From: a@b.example\r\nSubject: one\r\n two\r\nTo:c@d.example\r\n\r\nHi\r\n");
        let fields: Vec<(&[u8], &[u8])> = fields.iter().map(|f| (f.name, f.value)).collect();
        assert_eq!(
            fields,
            [(&b"From"[..], &b" a@b.example"[..]), (b"Subject", b" one\r\n two"), (b"To", b"c@d.example"),]
        );
        assert_eq!(body, b"Hi\r\n");
    }

    #[test]
    fn an_empty_body_or_one_of_empty_lines_canonicalises_to_nothing() {
        assert_eq!(body(b""), b"");
        assert_eq!(body(b"\r\n\r\n \t\r\n"), b"");
        assert_eq!(split(b"From: a@b.example\r\n").1, b"");
    }

    #[test]
    fn a_body_without_a_final_line_break_is_given_one_and_inner_empty_lines_are_kept() {
        assert_eq!(body(b"one\r\n\r\n\r\ntwo  "), b"one\r\n\r\n\r\ntwo\r\n");
    }

    /// RFC 6376 section 3.4.4 read literally, line by line, for comparing.
    fn relaxed_body_by_the_letter(body: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(body);
        let mut lines: Vec<String> = text
            .split("\r\n")
            .map(|line| {
                let mut out = String::new();
                let mut space = false;
                for c in line.chars() {
                    if c == ' ' || c == '\t' {
                        space = true;
                    } else {
                        if space {
                            out.push(' ');
                        }
                        space = false;
                        out.push(c);
                    }
                }
                out
            })
            .collect();
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        lines.iter().flat_map(|l| format!("{l}\r\n").into_bytes()).collect()
    }

    proptest::proptest! {
        #[test]
        fn the_body_is_canonicalised_as_the_rfc_says_whatever_its_lines(
            parts in proptest::collection::vec(proptest::sample::select(vec!["a", "bc", " ", "\t", "\r\n", "=="]), 0..40)
        ) {
            let body = parts.concat();
            proptest::prop_assert_eq!(super::body(body.as_bytes()), relaxed_body_by_the_letter(body.as_bytes()));
        }
    }
}
