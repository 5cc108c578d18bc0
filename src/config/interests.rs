//! `INTERESTS`: the tags a reader may choose, on the sign-up form and on
//! the preference page, read by one rule for both.

use super::{ConfigError, Source};

/// `INTERESTS` from `source`, as tags: split at commas, trimmed, lower
/// case (as the list's tags are read), each once (`prayer,PRAYER` is one
/// interest), in the order first written; empty ones left out, and none
/// when it is not set. A tag with `;` (the list's separator between tags),
/// a quote or a line break is an error naming it.
pub fn interests(source: &Source) -> Result<Vec<String>, ConfigError> {
    let Some((value, origin)) = source.get("INTERESTS") else { return Ok(Vec::new()) };
    let mut interests: Vec<String> = Vec::new();
    for tag in value.split(',').map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()) {
        if tag.contains([';', '"', '\n', '\r']) {
            return Err(ConfigError::Invalid {
                key: "INTERESTS",
                reason: format!("{tag:?} cannot be a tag (no `;` or quotes)"),
                value,
                origin,
            });
        }
        if !interests.contains(&tag) {
            interests.push(tag);
        }
    }
    Ok(interests)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(value: &str) -> Result<Vec<String>, String> {
        interests(&Source::from_pairs([("INTERESTS", value)])).map_err(|e| e.to_string())
    }

    #[test]
    fn interests_are_trimmed_lower_cased_and_each_kept_once_in_the_order_first_written() {
        assert_eq!(read("prayer, PRAYER,News,,news ,Prayer").unwrap(), ["prayer", "news"]);
        assert_eq!(interests(&Source::from_pairs([])).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_tag_that_the_list_could_not_hold_is_named() {
        let error = read("prayer,a;b").unwrap_err();
        assert!(error.contains("INTERESTS") && error.contains("\"a;b\" cannot be a tag"), "{error}");
    }
}
