//! The `DKIM-Signature` header field (RFC 6376 section 3.5): the header
//! fields it covers, the body hash, its tags in a fixed order and folded
//! into lines of at most 78 characters, `b=` last.
//!
//! `b=` is the last tag, its value starts right after the `=` and nothing
//! follows it, not even a `;`: a verifier empties that value before
//! hashing the field again (section 3.7), and implementations differ on
//! the white space around it, so there is none to differ on.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::canonical;

/// Lines of the field are folded before they pass this many characters.
const WIDTH: usize = 76;

/// What the signature says of itself, besides the hashes.
pub(super) struct Tags<'a> {
    /// `a=`: `rsa-sha256` or `ed25519-sha256`.
    pub algorithm: &'static str,
    /// `s=`
    pub selector: &'a str,
    /// `d=`
    pub domain: &'a str,
    /// `t=`: when it was signed, in seconds since the Unix epoch.
    pub signed_at: u64,
}

/// The field's value (after `DKIM-Signature:`, before its final CRLF),
/// folded with CRLF TAB, for `message` (CRLF line ends, as sent). Each
/// field named in `names` is signed in every instance present, bottom up,
/// and once more as absent, so that none can be added on the way.
/// `sign` turns the bytes to sign into the signature.
pub(super) fn field<E>(
    tags: &Tags<'_>,
    names: &[&str],
    message: &[u8],
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>,
) -> Result<String, E> {
    let (fields, body) = canonical::split(message);
    let body_hash = ring::digest::digest(&ring::digest::SHA256, &canonical::body(body));

    let mut signed = Vec::with_capacity(2048);
    let mut h = Vec::with_capacity(names.len() * 2);
    for name in names {
        for field in fields.iter().rev().filter(|f| f.name.eq_ignore_ascii_case(name.as_bytes())) {
            canonical::header(field.name, field.value, true, &mut signed);
            h.push(*name);
        }
        h.push(*name);
    }

    let mut text = Folded::default();
    text.push(&format!(
        "v=1; a={}; s={}; d={}; c=relaxed/relaxed;",
        tags.algorithm, tags.selector, tags.domain
    ));
    text.fold();
    for (n, name) in h.iter().enumerate() {
        if n == 0 {
            text.push("h=");
        } else {
            text.push(":");
        }
        text.push_fitting(name);
    }
    text.push(";");
    text.push_fitting(&format!(" t={};", tags.signed_at));
    text.fold();
    text.push(&format!("bh={};", BASE64.encode(body_hash)));
    text.fold();
    text.push("b=");

    canonical::header(b"DKIM-Signature", text.0.as_bytes(), false, &mut signed);
    let signature = BASE64.encode(sign(&signed)?);
    // Folded inside the value only: the first characters go right after
    // `b=`, and the field ends with the last.
    let mut rest = signature.as_str();
    while !rest.is_empty() {
        let room = WIDTH.saturating_sub(text.1).max(1);
        let (line, after) = rest.split_at(room.min(rest.len()));
        text.push(line);
        if !after.is_empty() {
            text.fold();
        }
        rest = after;
    }
    Ok(text.0)
}

/// A field value being written, and the column its last line has reached
/// (counting the field's name before it on the first line).
struct Folded(String, usize);

impl Default for Folded {
    fn default() -> Self {
        Self(String::with_capacity(512), "DKIM-Signature: ".len())
    }
}

impl Folded {
    fn push(&mut self, text: &str) {
        self.0.push_str(text);
        self.1 += text.len();
    }

    /// Goes on on a new line, which starts with a TAB.
    fn fold(&mut self) {
        self.0.push_str("\r\n\t");
        self.1 = 1;
    }

    /// `text` on this line if it fits, else on a new one (its leading space
    /// dropped: the fold is the space).
    fn push_fitting(&mut self, text: &str) {
        if self.1 + text.len() > WIDTH {
            self.fold();
            self.push(text.trim_start());
        } else {
            self.push(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    const MESSAGE: &[u8] = b"From: a@hope.example.org\r\nTo: b@example.org\r\nSubject: Hi\r\n\r\nHello.\r\n";

    fn tags() -> Tags<'static> {
        Tags {
            algorithm: "rsa-sha256",
            selector: "sel",
            domain: "hope.example.org",
            signed_at: 1_760_000_000,
        }
    }

    /// Signs with a fixed "signature" and hands back what was signed.
    fn fake(names: &[&str]) -> (String, Vec<u8>) {
        let mut signed = Vec::new();
        let field = field::<()>(&tags(), names, MESSAGE, |data| {
            signed = data.to_vec();
            Ok(vec![0xAB; 256])
        })
        .unwrap();
        (field, signed)
    }

    #[test]
    fn b_is_the_last_tag_with_no_white_space_around_its_value_and_no_final_semicolon() {
        let (field, _) = fake(&["From", "To"]);
        let unfolded = field.replace("\r\n\t", "");
        let b = unfolded.rsplit(';').next().unwrap();
        assert!(b.starts_with("b=q6ur"), "{field}");
        assert_eq!(&b[2..], BASE64.encode([0xAB; 256]));
        assert!(!field.ends_with(';') && !field.ends_with(char::is_whitespace), "{field}");
        assert!(!field.contains("b=\r\n"), "{field}");
    }

    #[test]
    fn every_line_of_the_field_fits_in_78_characters() {
        let names = ["From", "Reply-To", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe-Post"];
        let (field, _) = fake(&names);
        let text = format!("DKIM-Signature: {field}");
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert!(lines.len() > 3, "{field}");
        for line in &lines[1..] {
            assert!(line.len() <= 78 && line.starts_with('\t'), "{line:?}");
        }
    }

    #[test]
    fn what_is_signed_is_the_present_fields_bottom_up_then_the_field_itself_without_b() {
        let (field, signed) = fake(&["Subject", "From", "Reply-To"]);
        let prefix = &field[..field.rfind("b=").unwrap() + 2];
        let expected = format!(
            "subject:Hi\r\nfrom:a@hope.example.org\r\ndkim-signature:{}",
            prefix.replace("\r\n\t", " ")
        );
        assert_eq!(String::from_utf8(signed).unwrap(), expected);
        assert!(field.contains("h=Subject:Subject:From:From:Reply-To;"), "{field}");
    }

    #[test]
    fn the_tags_come_in_a_fixed_order_with_the_body_hash_of_the_relaxed_body() {
        let (field, _) = fake(&["From"]);
        let bh = BASE64.encode(ring::digest::digest(&ring::digest::SHA256, b"Hello.\r\n"));
        assert!(
            field.starts_with(&format!(
                "v=1; a=rsa-sha256; s=sel; d=hope.example.org; c=relaxed/relaxed;\r\n\th=From:From; \
                 t=1760000000;\r\n\tbh={bh};\r\n\tb="
            )),
            "{field}"
        );
    }
}
