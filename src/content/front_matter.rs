//! The TOML block between `+++` lines at the top of a bulletin.

use serde::Deserialize;
use toml::Spanned;

use super::{BulletinDate, ContentErrorKind};
use crate::merge::Template;

/// Front matter as written, before templates are parsed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    subject: Option<Spanned<String>>,
    preheader: Option<Spanned<String>>,
    date: Option<Spanned<toml::Value>>,
    title: Option<Spanned<String>>,
    segment: Option<Spanned<String>>,
    lang: Option<Spanned<String>>,
    campaign: Option<Spanned<String>>,
    archive: Option<bool>,
    draft: Option<bool>,
    welcome: Option<bool>,
}

/// Checked front matter. Offsets are byte offsets into the front matter text.
#[derive(Debug)]
pub struct FrontMatter {
    pub subject: Template,
    /// Where the subject's value starts.
    pub subject_offset: usize,
    pub preheader: Template,
    pub date: BulletinDate,
    pub title: Option<Template>,
    pub segment: Option<String>,
    pub lang: String,
    pub campaign: Option<String>,
    /// `archive = false` keeps the issue out of the web archive.
    pub archive: bool,
    /// `draft = true`: never published, nor sent without `--allow-draft`.
    pub draft: bool,
    /// `welcome = true`: the welcome bulletin, sent by `bulletin serve` to
    /// each new sign-up once, never to the whole list.
    pub welcome: bool,
    /// Every merge field in the templates above, with the byte offset of the
    /// key it stands in.
    pub field_offsets: Vec<(crate::merge::Field, usize)>,
}

/// An error at a byte offset of the front matter text.
pub type Located = (usize, ContentErrorKind);

pub fn parse(text: &str) -> Result<FrontMatter, Located> {
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        (offset, ContentErrorKind::FrontMatter(e.message().trim().to_owned()))
    })?;
    let required = |value: Option<Spanned<String>>, key: &'static str| {
        value.filter(|v| !v.get_ref().trim().is_empty()).ok_or((0, ContentErrorKind::MissingKey(key)))
    };
    let mut field_offsets = Vec::new();
    let mut template = |value: Spanned<String>| -> Result<Template, Located> {
        let offset = value.span().start;
        let template = Template::parse(value.get_ref().trim())
            .map_err(|e| (offset, ContentErrorKind::MergeField(e.kind)))?;
        field_offsets.extend(template.fields().map(|f| (f.clone(), offset)));
        Ok(template)
    };

    for (key, value) in [
        ("subject", &raw.subject),
        ("preheader", &raw.preheader),
        ("title", &raw.title),
        ("segment", &raw.segment),
        ("campaign", &raw.campaign),
    ] {
        if let Some(value) = value
            && let Some(c) = value.get_ref().chars().find(|&c| super::control_sequences::is_control(c))
        {
            return Err((value.span().start, ContentErrorKind::ControlCharacter { key, code: u32::from(c) }));
        }
    }
    let subject = required(raw.subject, "subject")?;
    let subject_offset = subject.span().start;
    let subject = template(subject)?;
    let preheader = template(required(raw.preheader, "preheader")?)?;
    let title = raw.title.map(&mut template).transpose()?;
    let date = raw.date.ok_or((0, ContentErrorKind::MissingKey("date")))?;
    let date =
        BulletinDate::from_toml(date.get_ref()).ok_or((date.span().start, ContentErrorKind::BadDate))?;
    if subject.0.iter().any(|s| matches!(s, crate::merge::Segment::Literal(l) if l.contains(['\r', '\n']))) {
        return Err((subject_offset, ContentErrorKind::MultiLineSubject));
    }
    let segment = match raw.segment {
        Some(s) if s.get_ref().trim().is_empty() || s.get_ref().contains(';') => {
            return Err((s.span().start, ContentErrorKind::BadSegment));
        }
        Some(s) => Some(s.into_inner().trim().to_lowercase()),
        None => None,
    };
    let lang = match raw.lang {
        Some(l) if !is_language_tag(l.get_ref()) => {
            return Err((l.span().start, ContentErrorKind::BadLang(l.into_inner())));
        }
        Some(l) => l.into_inner(),
        None => "en".to_owned(),
    };
    let campaign = match raw.campaign {
        Some(c) if super::slug(c.get_ref()).is_empty() => {
            return Err((c.span().start, ContentErrorKind::BadCampaign));
        }
        Some(c) => Some(c.into_inner()),
        None => None,
    };
    Ok(FrontMatter {
        subject,
        subject_offset,
        preheader,
        date,
        title,
        segment,
        lang,
        campaign,
        archive: raw.archive.unwrap_or(true),
        draft: raw.draft.unwrap_or(false),
        welcome: raw.welcome.unwrap_or(false),
        field_offsets,
    })
}

/// A loose check for a BCP 47 tag such as `en`, `en-GB` or `pt-BR`.
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "subject = \"Hi\"\npreheader = \"This week\"\ndate = 2025-10-16\n";

    #[test]
    fn minimal_front_matter_gets_english_and_no_segment() {
        let fm = parse(MINIMAL).unwrap();
        assert_eq!(fm.lang, "en");
        assert_eq!(fm.segment, None);
        assert_eq!(fm.date.to_string(), "2025-10-16");
    }

    #[test]
    fn a_quoted_date_is_accepted() {
        let fm = parse(&MINIMAL.replace("2025-10-16", "\"2025-10-16\"")).unwrap();
        assert_eq!(fm.date.to_string(), "2025-10-16");
    }

    #[test]
    fn a_date_with_a_time_or_nonsense_is_refused() {
        for bad in ["2025-10-16T10:00:00", "\"next thursday\"", "2025-13-01"] {
            let err = parse(&MINIMAL.replace("2025-10-16", bad)).unwrap_err();
            assert!(
                matches!(err.1, ContentErrorKind::BadDate | ContentErrorKind::FrontMatter(_)),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn each_required_key_is_named_when_missing() {
        for (key, line) in [
            ("subject", "subject = \"Hi\"\n"),
            ("preheader", "preheader = \"This week\"\n"),
            ("date", "date = 2025-10-16\n"),
        ] {
            let err = parse(&MINIMAL.replace(line, "")).unwrap_err();
            assert_eq!(err.1, ContentErrorKind::MissingKey(key));
        }
    }

    #[test]
    fn an_unknown_key_is_refused_so_typos_are_caught() {
        let err = parse(&format!("{MINIMAL}subjcet = \"x\"\n")).unwrap_err();
        assert!(matches!(err.1, ContentErrorKind::FrontMatter(ref m) if m.contains("subjcet")), "{err:?}");
        assert_eq!(err.0, MINIMAL.len());
    }

    #[test]
    fn merge_fields_in_the_subject_are_recorded_with_their_offset() {
        let text = MINIMAL.replace("\"Hi\"", "'Hi {{ first_name | default(\"friend\") }}'");
        let fm = parse(&text).unwrap();
        assert_eq!(fm.field_offsets.len(), 1);
        assert_eq!(fm.field_offsets[0].1, "subject = ".len());
    }

    #[test]
    fn segment_is_lower_cased_and_lang_checked() {
        let fm = parse(&format!("{MINIMAL}segment = \"Volunteers\"\nlang = \"pt-BR\"\n")).unwrap();
        assert_eq!(fm.segment.as_deref(), Some("volunteers"));
        assert_eq!(fm.lang, "pt-BR");
        let err = parse(&format!("{MINIMAL}lang = \"english please\"\n")).unwrap_err();
        assert!(matches!(err.1, ContentErrorKind::BadLang(_)));
    }

    #[test]
    fn an_issue_is_archived_and_not_a_draft_unless_the_front_matter_says_so() {
        let fm = parse(MINIMAL).unwrap();
        assert!(fm.archive && !fm.draft);
        let fm = parse(&format!("{MINIMAL}archive = false\ndraft = true\n")).unwrap();
        assert!(!fm.archive && fm.draft);
        let err = parse(&format!("{MINIMAL}draft = \"yes\"\n")).unwrap_err();
        assert!(matches!(err.1, ContentErrorKind::FrontMatter(_)), "{err:?}");
    }

    #[test]
    fn a_bulletin_is_the_welcome_only_when_its_front_matter_says_so() {
        assert!(!parse(MINIMAL).unwrap().welcome);
        assert!(parse(&format!("{MINIMAL}welcome = true\n")).unwrap().welcome);
    }

    #[test]
    fn a_control_character_in_a_text_value_is_refused_with_its_key() {
        for (key, value) in
            [("subject", "Hi \\u001B]0;x\\u0007"), ("title", "\\u009B2J"), ("preheader", "\\u007F")]
        {
            let text = if key == "title" {
                format!("{MINIMAL}title = \"{value}\"\n")
            } else {
                MINIMAL.replace(
                    if key == "subject" { "\"Hi\"" } else { "\"This week\"" },
                    &format!("\"{value}\""),
                )
            };
            let err = parse(&text).unwrap_err();
            assert!(
                matches!(err.1, ContentErrorKind::ControlCharacter { key: k, .. } if k == key),
                "{key}: {err:?}"
            );
        }
        assert!(parse(&MINIMAL.replace("\"Hi\"", "\"Hi\\tthere\"")).is_ok(), "a tab is white space");
    }

    #[test]
    fn a_subject_on_two_lines_is_refused() {
        let err = parse(&MINIMAL.replace("\"Hi\"", "\"\"\"Hi\nthere\"\"\"")).unwrap_err();
        assert_eq!(err.1, ContentErrorKind::MultiLineSubject);
    }
}
