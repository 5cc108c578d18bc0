//! Merge fields: the `{{ first_name | default("friend") }}` placeholders a
//! bulletin uses to personalise its subject and body.
//!
//! This module knows the syntax and nothing about Markdown or CSV files: it
//! turns text into [`Template`]s (literal text and [`Field`]s) and says where
//! each field stood. Binding a field to a CSV column happens in `render`.

use std::fmt;

/// The name of a merge field, normalised the way CSV headers are
/// (see [`FieldName::normalise`]), so `{{ First Name }}` and a column headed
/// `first_name` meet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldName(String);

impl FieldName {
    /// Normalises a header or field name: trimmed, lower case, and runs of
    /// spaces or hyphens turned into one underscore. Returns `None` for a name
    /// that is empty or holds anything but letters, digits, `_`, `-` and
    /// spaces.
    pub fn normalise(raw: &str) -> Option<Self> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return None;
        }
        let mut name = String::with_capacity(trimmed.len());
        let mut pending_separator = false;
        for c in trimmed.chars() {
            if c == ' ' || c == '-' || c == '_' {
                pending_separator = true;
                continue;
            }
            if !c.is_alphanumeric() {
                return None;
            }
            if pending_separator && !name.is_empty() {
                name.push('_');
            }
            pending_separator = false;
            name.extend(c.to_lowercase());
        }
        if name.is_empty() { None } else { Some(Self(name)) }
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One `{{ … }}` placeholder: the field it reads and the text to use when the
/// subscriber's value is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Which value to insert.
    pub name: FieldName,
    /// Used when the value is empty or only white space; without it an empty
    /// value inserts nothing.
    pub default: Option<String>,
}

impl Field {
    /// The text this field puts in the message for a subscriber whose value
    /// is `value`.
    pub fn resolve<'a>(&'a self, value: &'a str) -> &'a str {
        let value = value.trim();
        match &self.default {
            Some(default) if value.is_empty() => default,
            _ => value,
        }
    }
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Text that is the same for everyone.
    Literal(String),
    /// A value that differs per subscriber.
    Field(Field),
}

/// Text with merge fields in it, parsed once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Template(pub Vec<Segment>);

impl Template {
    /// Parses `text`; an error's `offset` is the byte offset in `text` of the
    /// placeholder at fault.
    pub fn parse(text: &str) -> Result<Self, SyntaxError> {
        let mut segments = Vec::new();
        for piece in scan(text) {
            match piece? {
                Piece::Literal(s) => segments.push(Segment::Literal(s.to_owned())),
                Piece::Field { field, .. } => segments.push(Segment::Field(field)),
            }
        }
        Ok(Self(segments))
    }

    /// The fields this template uses, in order.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.0.iter().filter_map(|s| match s {
            Segment::Field(f) => Some(f),
            Segment::Literal(_) => None,
        })
    }

    /// True when the template has no field, so it reads the same for all.
    pub fn is_static(&self) -> bool {
        self.fields().next().is_none()
    }
}

/// A malformed placeholder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct SyntaxError {
    /// Byte offset of the `{{` that starts the bad placeholder.
    pub offset: usize,
    /// What is wrong with it.
    pub kind: SyntaxErrorKind,
}

/// What can be wrong with a placeholder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxErrorKind {
    #[error("`{{{{` is not closed by `}}}}` on the same line")]
    Unclosed,
    #[error("merge field `{0}` is not a valid field name (letters, digits, `_`, `-` and spaces)")]
    BadName(String),
    #[error("unknown filter `{0}` in merge field (the only filter is `default(\"text\")`)")]
    UnknownFilter(String),
}

/// A piece of scanned text.
#[derive(Debug)]
pub enum Piece<'a> {
    /// Text outside any placeholder.
    Literal(&'a str),
    /// A placeholder starting at byte `offset`.
    Field {
        /// The parsed placeholder.
        field: Field,
        /// Byte offset of its `{{`.
        offset: usize,
    },
}

/// Splits `text` into literal text and placeholders, in order.
pub fn scan(text: &str) -> impl Iterator<Item = Result<Piece<'_>, SyntaxError>> {
    let mut rest_start = 0;
    let mut done = false;
    let mut queued: Option<Piece<'_>> = None;
    std::iter::from_fn(move || {
        if let Some(piece) = queued.take() {
            return Some(Ok(piece));
        }
        if done {
            return None;
        }
        let rest = &text[rest_start..];
        let Some(open) = rest.find("{{") else {
            done = true;
            return (!rest.is_empty()).then_some(Ok(Piece::Literal(rest)));
        };
        let offset = rest_start + open;
        let inner_start = offset + 2;
        let line_end = text[inner_start..].find('\n').map_or(text.len(), |i| inner_start + i);
        let Some(close) = text[inner_start..line_end].find("}}") else {
            done = true;
            return Some(Err(SyntaxError { offset, kind: SyntaxErrorKind::Unclosed }));
        };
        let inner = &text[inner_start..inner_start + close];
        rest_start = inner_start + close + 2;
        let field = match parse_inner(inner) {
            Ok(field) => field,
            Err(kind) => {
                done = true;
                return Some(Err(SyntaxError { offset, kind }));
            }
        };
        let piece = Piece::Field { field, offset };
        if open == 0 {
            Some(Ok(piece))
        } else {
            queued = Some(piece);
            Some(Ok(Piece::Literal(&rest[..open])))
        }
    })
}

fn parse_inner(inner: &str) -> Result<Field, SyntaxErrorKind> {
    let (name, filter) = match inner.split_once('|') {
        Some((name, filter)) => (name, Some(filter.trim())),
        None => (inner, None),
    };
    let name = FieldName::normalise(name).ok_or_else(|| SyntaxErrorKind::BadName(name.trim().into()))?;
    let default = filter.map(parse_default).transpose()?;
    Ok(Field { name, default })
}

fn parse_default(filter: &str) -> Result<String, SyntaxErrorKind> {
    let unknown = || SyntaxErrorKind::UnknownFilter(filter.to_owned());
    let argument = filter
        .strip_prefix("default")
        .map(str::trim_start)
        .and_then(|s| s.strip_prefix('('))
        .and_then(|s| s.strip_suffix(')'))
        .map(str::trim)
        .ok_or_else(unknown)?;
    let mut chars = argument.chars();
    let quote = chars.next().filter(|q| *q == '"' || *q == '\'').ok_or_else(unknown)?;
    let body = &argument[1..];
    match body.strip_suffix(quote) {
        Some(text) if !text.contains(quote) => Ok(text.to_owned()),
        _ => Err(unknown()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn field(name: &str, default: Option<&str>) -> Segment {
        Segment::Field(Field {
            name: FieldName::normalise(name).unwrap(),
            default: default.map(str::to_owned),
        })
    }

    #[test]
    fn a_field_between_text_is_split_out() {
        let t = Template::parse("Dear {{ first_name }}, thank you").unwrap();
        assert_eq!(
            t.0,
            vec![
                Segment::Literal("Dear ".into()),
                field("first_name", None),
                Segment::Literal(", thank you".into()),
            ]
        );
    }

    #[test]
    fn default_filter_takes_double_or_single_quotes() {
        for src in [
            r#"{{ first_name | default("friend") }}"#,
            "{{first_name|default('friend')}}",
            r#"{{ first_name | default ( "friend" ) }}"#,
        ] {
            let t = Template::parse(src).unwrap();
            assert_eq!(t.0, vec![field("first_name", Some("friend"))], "{src}");
        }
    }

    #[test]
    fn default_may_hold_spaces_and_punctuation() {
        let t = Template::parse(r#"{{ name | default("dear friend, of course") }}"#).unwrap();
        assert_eq!(t.0, vec![field("name", Some("dear friend, of course"))]);
    }

    #[test]
    fn field_names_are_normalised_like_csv_headers() {
        assert_eq!(FieldName::normalise(" First Name ").unwrap().as_str(), "first_name");
        assert_eq!(FieldName::normalise("first-name").unwrap().as_str(), "first_name");
        assert_eq!(FieldName::normalise("Town").unwrap().as_str(), "town");
        assert_eq!(FieldName::normalise("Café").unwrap().as_str(), "café");
        assert!(FieldName::normalise("").is_none());
        assert!(FieldName::normalise("a.b").is_none());
    }

    #[test]
    fn an_unclosed_placeholder_is_an_error_at_its_offset() {
        let err = Template::parse("Hello {{ first_name, welcome").unwrap_err();
        assert_eq!(err.offset, 6);
        assert_eq!(err.kind, SyntaxErrorKind::Unclosed);
    }

    #[test]
    fn a_placeholder_may_not_span_lines() {
        let err = Template::parse("Hello {{ first\n_name }}").unwrap_err();
        assert_eq!(err.kind, SyntaxErrorKind::Unclosed);
    }

    #[test]
    fn an_unknown_filter_is_an_error() {
        let err = Template::parse("{{ first_name | upper }}").unwrap_err();
        assert_eq!(err.kind, SyntaxErrorKind::UnknownFilter("upper".into()));
        let err = Template::parse(r#"{{ first_name | default(friend) }}"#).unwrap_err();
        assert!(matches!(err.kind, SyntaxErrorKind::UnknownFilter(_)));
    }

    #[test]
    fn a_bad_field_name_is_an_error() {
        let err = Template::parse("{{ <script> }}").unwrap_err();
        assert_eq!(err.kind, SyntaxErrorKind::BadName("<script>".into()));
        let err = Template::parse("{{ }}").unwrap_err();
        assert!(matches!(err.kind, SyntaxErrorKind::BadName(_)));
    }

    #[test]
    fn the_default_is_used_only_for_empty_values() {
        let f = Field { name: FieldName::normalise("first_name").unwrap(), default: Some("friend".into()) };
        assert_eq!(f.resolve(""), "friend");
        assert_eq!(f.resolve("   "), "friend");
        assert_eq!(f.resolve("Ana"), "Ana");
    }

    #[test]
    fn text_without_placeholders_is_static() {
        let t = Template::parse("Pray for { braces } and }} strays").unwrap();
        assert!(t.is_static());
        assert_eq!(t.0, vec![Segment::Literal("Pray for { braces } and }} strays".into())]);
    }

    proptest! {
        #[test]
        fn literal_text_without_braces_round_trips(s in "[^{}]*") {
            let t = Template::parse(&s).unwrap();
            let joined: String = t.0.iter().map(|seg| match seg {
                Segment::Literal(l) => l.clone(),
                Segment::Field(_) => unreachable!(),
            }).collect();
            prop_assert_eq!(joined, s);
        }

        #[test]
        fn any_well_formed_placeholder_parses_back(
            before in "[^{}\n]{0,20}",
            name in "[a-z][a-z0-9_]{0,12}",
            default in proptest::option::of("[^\"'\n(){}|]{0,15}"),
            after in "[^{}\n]{0,20}",
        ) {
            let placeholder = match &default {
                Some(d) => format!("{{{{ {name} | default(\"{d}\") }}}}"),
                None => format!("{{{{{name}}}}}"),
            };
            let t = Template::parse(&format!("{before}{placeholder}{after}")).unwrap();
            let fields: Vec<_> = t.fields().collect();
            prop_assert_eq!(fields.len(), 1);
            prop_assert_eq!(fields[0].default.as_deref(), default.as_deref());
            let expected = FieldName::normalise(&name).unwrap();
            prop_assert_eq!(&fields[0].name, &expected);
        }

        #[test]
        fn scanning_never_panics(s in "\\PC*") {
            let _ = Template::parse(&s);
        }
    }
}
