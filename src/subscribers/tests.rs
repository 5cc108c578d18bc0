use std::io::Write;

use pretty_assertions::assert_eq;

use super::*;

fn file(contents: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(contents).unwrap();
    f
}

fn read(contents: &str) -> Vec<Row> {
    read_with(contents.as_bytes(), Audience::default())
}

fn read_with(contents: &[u8], audience: Audience) -> Vec<Row> {
    let f = file(contents);
    SubscriberReader::open(f.path(), audience).unwrap().map(Result::unwrap).collect()
}

fn summary(rows: &[Row]) -> Vec<(u64, String)> {
    rows.iter()
        .map(|r| match r {
            Row::Subscribed(s) => (s.line(), format!("ok {}", s.email())),
            Row::Skipped(s) => (s.line, format!("skip {}", s.reason)),
        })
        .collect()
}

fn open_error(contents: &[u8]) -> SubscribersError {
    let f = file(contents);
    match SubscriberReader::open(f.path(), Audience::default()) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn valid_rows_become_subscribers_with_their_line() {
    let rows = read("email,first_name,last_name\nana@example.org,Ana,Silva\nbo@example.com,,\n");
    assert_eq!(summary(&rows), vec![(2, "ok ana@example.org".into()), (3, "ok bo@example.com".into())]);
    let Row::Subscribed(ana) = &rows[0] else { panic!() };
    assert_eq!(ana.display_name(), Some("Ana Silva"));
    let Row::Subscribed(bo) = &rows[1] else { panic!() };
    assert_eq!(bo.display_name(), None);
}

#[test]
fn a_value_escaped_against_spreadsheet_formulas_is_read_as_it_was_typed() {
    let rows = read(
        "email,first_name,last_name,town\n\
         ana@example.org,'=1+1,'-2+3,'@SUM(1)\n\
         'bo@example.org,'quoted,O'Brien,'+44\n",
    );
    let Row::Subscribed(ana) = &rows[0] else { panic!("{rows:?}") };
    assert_eq!(ana.display_name(), Some("=1+1 -2+3"));
    assert_eq!(ana.value(3), "@SUM(1)");
    let Row::Subscribed(bo) = &rows[1] else { panic!("{rows:?}") };
    assert_eq!(bo.email().as_str(), "'bo@example.org", "an address is never changed");
    assert_eq!(bo.display_name(), Some("'quoted O'Brien"), "a quote before anything else stays");
    assert_eq!(bo.value(3), "+44");
    for typed in ["=1+1", "-2+3", "@SUM(1)", "+44", "\t=1", "'quoted", "Ana"] {
        assert_eq!(as_typed(&inert_in_spreadsheets(typed)), typed);
    }
}

/// Issue 23, row 9: a 1 GB field took 9.4 GB to read.
#[test]
fn a_field_longer_than_any_cell_of_a_spreadsheet_stops_the_list_with_its_line_and_column() {
    let mut list = b"email,first_name,note\nana@example.org,Ana,hello\nbo@example.org,Bo,".to_vec();
    list.extend(std::iter::repeat_n(b'x', 10 << 20));
    list.extend_from_slice(b"\ncy@example.org,Cy,\n");
    let f = file(&list);
    let error = SubscriberReader::open(f.path(), Audience::default())
        .unwrap()
        .find_map(Result::err)
        .expect("the list is refused");
    let said = error.to_string();
    assert!(said.starts_with(&format!("{}:3: ", f.path().display())), "{said}");
    assert!(said.contains("`note`"), "{said}");
    assert!(said.len() < 1000, "{said}");
}

#[test]
fn csv_row_without_email_is_rejected() {
    let rows = read("email,first_name\n,Ana\n");
    assert_eq!(summary(&rows), vec![(2, "skip no email address".into())]);
}

#[test]
fn csv_row_with_invalid_email_is_rejected_with_the_value() {
    let rows = read("email\nana(at)example.org\n");
    assert_eq!(summary(&rows), vec![(2, "skip invalid email address \"ana(at)example.org\": no `@`".into())]);
}

#[test]
fn duplicate_addresses_are_found_without_case() {
    let rows = read("email\nana@example.org\nbo@example.org\nANA@Example.org\n");
    assert_eq!(summary(&rows)[2], (4, "skip duplicate of line 2".into()));
}

#[test]
fn an_unknown_status_is_rejected() {
    let rows = read("email,status\nana@example.org,maybe\n");
    assert_eq!(
        summary(&rows),
        vec![(2, "skip status \"maybe\" is neither `subscribed` nor `unsubscribed`".into())]
    );
}

#[test]
fn a_row_with_too_few_fields_is_rejected() {
    let rows = read("email,first_name,town\nana@example.org,Ana\n");
    assert_eq!(summary(&rows), vec![(2, "skip 2 fields where the header has 3".into())]);
}

#[test]
fn unsubscribed_rows_are_skipped_and_win_over_a_later_subscribed_row() {
    let rows = read(
        "email,status\nana@example.org,subscribed\nbo@example.org,Unsubscribed\nANA@example.org,unsubscribed\n",
    );
    assert_eq!(
        summary(&rows),
        vec![
            (2, "skip unsubscribed".into()),
            (3, "skip unsubscribed".into()),
            (4, "skip duplicate of line 2".into()),
        ]
    );
}

#[test]
fn an_empty_status_means_subscribed() {
    let rows = read("email,status\nana@example.org,\n");
    assert_eq!(summary(&rows), vec![(2, "ok ana@example.org".into())]);
}

#[test]
fn suppressed_addresses_are_skipped() {
    let audience = Audience {
        suppressed: ["ANA@example.org"].into_iter().collect(),
        segment: None,
        ..Audience::default()
    };
    let rows = read_with(b"email\nana@example.org\nbo@example.org\n", audience);
    assert_eq!(
        summary(&rows),
        vec![(2, "skip on the suppression list".into()), (3, "ok bo@example.org".into())]
    );
}

#[test]
fn a_segment_keeps_only_tagged_subscribers() {
    let audience = Audience {
        suppressed: Suppressions::default(),
        segment: Some("volunteers".into()),
        ..Audience::default()
    };
    let rows = read_with(b"email,tags\na@example.org,donors; Volunteers\nb@example.org,donors\n", audience);
    assert_eq!(
        summary(&rows),
        vec![
            (2, "ok a@example.org".into()),
            (3, "skip not tagged `volunteers`, the bulletin's segment".into())
        ]
    );
    let Row::Subscribed(a) = &rows[0] else { panic!() };
    assert_eq!(a.tags(), ["donors", "volunteers"]);
}

#[test]
fn a_byte_order_mark_crlf_and_blank_lines_are_handled() {
    let rows = read_with(
        b"\xEF\xBB\xBFemail,first_name\r\n\r\nana@example.org,Ana\r\n,\r\n\r\nbo@example.org,Bo\r\n",
        Audience::default(),
    );
    assert_eq!(summary(&rows), vec![(3, "ok ana@example.org".into()), (6, "ok bo@example.org".into())]);
}

#[test]
fn quoted_fields_with_commas_and_newlines_are_one_value() {
    let rows = read(
        "email,first_name,town\n\"ana@example.org\",\"Ana, the second\",\"Upper\nTown\"\nbo@example.org,Bo,X\n",
    );
    let Row::Subscribed(ana) = &rows[0] else { panic!() };
    assert_eq!(ana.value(1), "Ana, the second");
    assert_eq!(ana.value(2), "Upper Town", "line breaks become spaces");
    assert_eq!(rows[1].clone().line(), 4, "the next row's line counts the embedded newline");
}

#[test]
fn surrounding_white_space_is_trimmed() {
    let rows = read("  email , first_name \n  ana@example.org ,  Ana  \n");
    let Row::Subscribed(ana) = &rows[0] else { panic!() };
    assert_eq!(ana.email().as_str(), "ana@example.org");
    assert_eq!(ana.value(1), "Ana");
}

#[test]
fn a_value_with_crlf_cannot_carry_a_header() {
    let rows = read("email,first_name\nana@example.org,\"Ana\r\nBcc: evil@example.com\"\n");
    let Row::Subscribed(ana) = &rows[0] else { panic!() };
    assert_eq!(ana.display_name(), Some("Ana Bcc: evil@example.com"));
}

#[test]
fn a_row_that_is_not_utf8_names_its_column() {
    // UTF-8 letters first, so the file is not read as Windows-1252.
    let rows = read_with(
        b"email,first_name\nb\xc3\xa9@example.org,Bo\nana@example.org,\xff\xfe\n",
        Audience::default(),
    );
    assert_eq!(summary(&rows)[1], (3, "skip column `first_name` is not UTF-8 text".into()));
}

#[test]
fn a_file_of_ascii_then_a_byte_that_is_not_utf8_is_read_as_windows_1252() {
    let f = file(b"email;first_name\r\nana@example.org;Ren\xe9e\r\n");
    let mut reader = SubscriberReader::open(f.path(), Audience::default()).unwrap();
    let Some(Ok(Row::Subscribed(ana))) = reader.next() else { panic!() };
    assert_eq!(ana.value(1), "Renée");
    assert!(reader.next().is_none());
    let lines = reader.lines().unwrap();
    assert_eq!((lines.encoding, lines.delimiter), (TextEncoding::Windows1252, b';'));
}

#[test]
fn every_line_is_accounted_for() {
    let f = file(b"email,note\n\na@x.org,\"one\ntwo\"\n , \nnot-an-address,x\n\nb@x.org,y");
    let mut reader = SubscriberReader::open(f.path(), Audience::default()).unwrap();
    assert_eq!(reader.by_ref().count(), 3);
    let lines = reader.lines().unwrap();
    assert_eq!((lines.total, lines.header, lines.rows, lines.row_lines, lines.blank), (8, 1, 3, 4, 3));
    assert!(lines.adds_up());
    assert_eq!(lines.to_string(), "8 lines = 1 header + 3 rows on 4 lines + 3 blank");
}

#[test]
fn a_quoted_field_that_takes_in_rows_is_refused_with_the_line_it_opened_on() {
    let f = file(b"email,note\na@x.org,\"one\nb@x.org,two\nc@x.org,three\"\nd@x.org,four\n");
    let rows: Vec<_> = SubscriberReader::open(f.path(), Audience::default()).unwrap().collect();
    let Some(Err(err)) = rows.first() else { panic!("{rows:?}") };
    let text = err.to_string();
    assert!(
        matches!(err, SubscribersError::OpenQuote { line: 2, lines: 3, to_end: false, rows: 2, .. }),
        "{text}"
    );
    assert!(
        text.contains(":2: a quoted field opens on this line and runs over 3 lines, to line 4"),
        "{text}"
    );
    assert!(text.contains("the first on line 3: \"b@x.org,two\""), "{text}");
}

#[test]
fn a_quote_left_open_in_the_header_is_refused_too() {
    let err = open_error(b"email,\"name\na@x.org,Ann\nb@x.org,Bo\n");
    assert!(
        matches!(err, SubscribersError::OpenQuote { line: 1, lines: 3, to_end: true, rows: 2, .. }),
        "{err}"
    );
}

#[test]
fn a_quote_never_closed_is_refused_even_when_the_list_has_a_status_column() {
    let f = file(b"email,status,note\na@x.org,,\"one\nb@x.org,,two\n");
    let err = SubscriberReader::open(f.path(), Audience::default()).err().unwrap();
    assert!(
        matches!(err, SubscribersError::OpenQuote { line: 2, lines: 2, to_end: true, rows: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("never closed: it takes in all 2 lines to the end of the file"),
        "{err}"
    );
}

#[test]
fn headers_are_matched_by_normalised_name() {
    let f = file(b"Email Address,First Name,Favourite Hymn\nana@example.org,Ana,Amazing Grace\n");
    let reader = SubscriberReader::open(f.path(), Audience::default()).unwrap();
    let columns = reader.columns().clone();
    let names: Vec<_> = columns.field_names().map(|n| n.as_str().to_owned()).collect();
    assert_eq!(names, ["email_address", "first_name", "favourite_hymn"]);
    let email = FieldName::normalise("email").unwrap();
    assert_eq!(columns.index_of(&email), Some(0));
    let rows: Vec<_> = reader.map(Result::unwrap).collect();
    let Row::Subscribed(ana) = &rows[0] else { panic!() };
    assert_eq!(ana.display_name(), Some("Ana"));
}

#[test]
fn a_file_without_an_email_column_is_refused() {
    let err = open_error(b"name,town\nAna,Lisbon\n");
    assert!(matches!(err, SubscribersError::NoEmailColumn { .. }));
    assert!(err.to_string().contains(":1: no `email` column (the header has: \"name\", \"town\")"), "{err}");
}

#[test]
fn a_binary_file_is_not_a_csv() {
    let err = open_error(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    assert!(matches!(err, SubscribersError::NotCsv { .. }), "{err}");
}

#[test]
fn an_empty_file_is_refused() {
    assert!(matches!(open_error(b""), SubscribersError::Empty { .. }));
}

#[test]
fn a_repeated_column_is_refused() {
    let err = open_error(b"email,First Name,first_name\n");
    assert!(err.to_string().contains("column `first_name` appears twice (columns 2 and 3)"), "{err}");
}

#[test]
fn the_suppression_file_reads_addresses_and_reports_bad_rows() {
    let f = file(b"email\nANA@example.org\nnot-an-address\n");
    let (suppressed, problems) = Suppressions::load(f.path()).unwrap();
    assert_eq!(suppressed.len(), 1);
    assert!(suppressed.contains(&EmailAddress::parse("ana@example.org").unwrap()));
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, 3);
}

impl Row {
    fn line(self) -> u64 {
        match self {
            Row::Subscribed(s) => s.line(),
            Row::Skipped(s) => s.line,
        }
    }
}

proptest::proptest! {
    #[test]
    fn any_row_is_either_a_subscriber_or_a_skip_with_a_line(
        rows in proptest::collection::vec("[a-zA-Z0-9@., \"\n;]{0,30}", 0..8)
    ) {
        let mut text = String::from("email,first_name,tags\n");
        for row in &rows {
            text.push_str(row);
            text.push('\n');
        }
        let f = file(text.as_bytes());
        for row in SubscriberReader::open(f.path(), Audience::default()).unwrap() {
            // A quote that takes in rows stops the reading, with its line.
            if let Err(SubscribersError::OpenQuote { line, .. }) = row {
                proptest::prop_assert!(line >= 2);
                break;
            }
            match row.unwrap() {
                Row::Subscribed(s) => proptest::prop_assert!(s.line() >= 2 && s.email().as_str().contains('@')),
                Row::Skipped(s) => proptest::prop_assert!(s.line >= 2),
            }
        }
    }
}

#[test]
fn sign_ups_come_after_the_list_once_with_their_own_columns_and_preferences_apply_to_both() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.csv");
    std::fs::write(&list, "email,first_name\nana@example.org,Ana\nbo@example.org,Bo\n").unwrap();
    std::fs::write(
        dir.path().join("signups.csv"),
        "email,first_name,last_name,tags,consented_at,consent_text_hash,source\n\
         ANA@example.org,Other,,news,2026-01-01T00:00:00Z,h,signup-form\n\
         cy@example.org,Cy,Ray,news,2026-01-01T00:00:00Z,h,signup-form\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("preferences.csv"),
        "email,tags,paused_until,changed_at\n\
         bo@example.org,prayer,,2026-01-01T00:00:00Z\n\
         cy@example.org,news,9999-01-01T00:00:00Z,2026-01-01T00:00:00Z\n",
    )
    .unwrap();
    let reader = SubscriberReader::with_signups(&list, Audience::default()).unwrap();
    let columns = reader.columns().clone();
    let rows: Vec<Row> = reader.map(Result::unwrap).collect();
    assert_eq!(
        summary(&rows),
        [
            (2, "ok ana@example.org".to_owned()),
            (3, "ok bo@example.org".to_owned()),
            (3, "skip paused on the preference page".to_owned())
        ]
    );
    let Row::Subscribed(ana) = &rows[0] else { unreachable!() };
    let Row::Subscribed(bo) = &rows[1] else { unreachable!() };
    let field = |name: &str| columns.index_of(&crate::merge::FieldName::normalise(name).unwrap()).unwrap();
    // The list wins: Ana's own row, with the sign-ups' columns empty.
    assert_eq!((ana.value(field("first_name")), ana.value(field("consented_at"))), ("Ana", ""));
    assert!(ana.tags().is_empty());
    assert_eq!(bo.tags(), ["prayer"]);
}
