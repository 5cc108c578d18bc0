//! `INTERESTS`: the tags a reader may choose, on the sign-up form and on
//! the preference page, read by one rule for both. Each entry is a tag, or
//! a tag and the words a reader sees for it (`prayer:Weekly prayer
//! requests`); the list stores only the tag.

use super::{ConfigError, Source};

/// One interest offered to readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interest {
    /// What the list stores: lower case, no `;`, quotes or line breaks.
    pub tag: String,
    /// What a reader sees; the tag itself when `INTERESTS` gives no words.
    pub label: String,
}

/// The label of `tag` among `interests`, or the tag itself when it is not
/// offered (a tag the list has from elsewhere).
pub fn label_of<'a>(interests: &'a [Interest], tag: &'a str) -> &'a str {
    interests.iter().find(|i| i.tag == tag).map_or(tag, |i| i.label.as_str())
}

/// `INTERESTS` from `source`: split at commas, each entry `tag` or
/// `tag:Label`, trimmed; tags lower case (as the list's tags are read),
/// each once (`prayer,PRAYER` is one interest, with the first label
/// written), in the order first written; empty entries left out, and none
/// when it is not set. A tag with `;` (the list's separator between tags),
/// a quote or a line break, an empty tag or an empty label is an error
/// naming the entry.
pub fn interests(source: &Source) -> Result<Vec<Interest>, ConfigError> {
    let Some((value, origin)) = source.get("INTERESTS") else { return Ok(Vec::new()) };
    let invalid = |reason: String| ConfigError::Invalid {
        key: "INTERESTS",
        reason,
        value: value.clone(),
        origin: origin.clone(),
    };
    let mut interests: Vec<Interest> = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (tag, label) = match entry.split_once(':') {
            Some((tag, label)) => (tag.trim().to_lowercase(), label.trim()),
            None => (entry.to_lowercase(), ""),
        };
        if tag.is_empty() {
            return Err(invalid(format!("{entry:?} has no tag before the `:` (write `tag:Label`)")));
        }
        if tag.contains([';', '"', '\n', '\r']) {
            return Err(invalid(format!("{tag:?} cannot be a tag (no `;` or quotes)")));
        }
        if entry.contains(':') && label.is_empty() {
            return Err(invalid(format!("{entry:?} has no label after the `:` (write `tag:Label`)")));
        }
        if label.contains(['\n', '\r']) {
            return Err(invalid(format!("the label of {tag:?} cannot hold a line break")));
        }
        if !interests.iter().any(|i| i.tag == tag) {
            let label = if label.is_empty() { tag.clone() } else { label.to_owned() };
            interests.push(Interest { tag, label });
        }
    }
    Ok(interests)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(value: &str) -> Result<Vec<Interest>, String> {
        interests(&Source::from_pairs([("INTERESTS", value)])).map_err(|e| e.to_string())
    }

    fn tags(value: &str) -> Vec<String> {
        read(value).unwrap().into_iter().map(|i| i.tag).collect()
    }

    #[test]
    fn interests_are_trimmed_lower_cased_and_each_kept_once_in_the_order_first_written() {
        assert_eq!(tags("prayer, PRAYER,News,,news ,Prayer"), ["prayer", "news"]);
        assert_eq!(interests(&Source::from_pairs([])).unwrap(), Vec::<Interest>::new());
    }

    #[test]
    fn a_tag_without_words_is_its_own_label_as_in_the_old_form() {
        let read = read("prayer,News").unwrap();
        assert_eq!(read[0], Interest { tag: "prayer".into(), label: "prayer".into() });
        assert_eq!(read[1], Interest { tag: "news".into(), label: "news".into() });
    }

    #[test]
    fn a_tag_with_a_label_keeps_the_label_as_written_and_the_tag_lower_case() {
        let read =
            read("Prayer: Weekly prayer requests , news:News and stories: every month,events").unwrap();
        let pairs: Vec<(&str, &str)> = read.iter().map(|i| (i.tag.as_str(), i.label.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("prayer", "Weekly prayer requests"),
                ("news", "News and stories: every month"),
                ("events", "events")
            ]
        );
        assert_eq!(label_of(&read, "prayer"), "Weekly prayer requests");
        assert_eq!(label_of(&read, "unoffered"), "unoffered");
    }

    #[test]
    fn a_tag_that_the_list_could_not_hold_is_named() {
        let error = read("prayer,a;b").unwrap_err();
        assert!(error.contains("INTERESTS") && error.contains("\"a;b\" cannot be a tag"), "{error}");
        let error = read("a\"b:Label").unwrap_err();
        assert!(error.contains("INTERESTS") && error.contains("cannot be a tag"), "{error}");
    }

    #[test]
    fn an_empty_tag_or_label_around_the_colon_is_named() {
        let error = read("prayer, :Weekly prayer").unwrap_err();
        assert!(error.contains("INTERESTS") && error.contains("\":Weekly prayer\" has no tag"), "{error}");
        let error = read("prayer:").unwrap_err();
        assert!(error.contains("INTERESTS") && error.contains("\"prayer:\" has no label"), "{error}");
    }
}
