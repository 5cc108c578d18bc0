//! The organisation's look: its colour, the colour of text on it, and the
//! links its footer offers besides the website.

use super::{ConfigError, HttpsUrl, Source, parse_with};
use crate::domain::Colour;

/// Today's blue, used for headings, links, rules and buttons unless
/// `BRAND_COLOR` says otherwise.
pub const DEFAULT_BRAND_COLOR: Colour = Colour::rgb(0x1d, 0x4f, 0x91);

/// The near-black offered for text on a light brand colour (the body's ink).
pub const NEAR_BLACK: Colour = Colour::rgb(0x1f, 0x29, 0x33);

/// The footer's optional links to the organisation's pages elsewhere, with
/// the words each is shown as, in the order shown.
pub const SOCIAL_KEYS: [(&str, &str); 5] = [
    ("FACEBOOK_URL", "Facebook"),
    ("INSTAGRAM_URL", "Instagram"),
    ("X_URL", "X"),
    ("YOUTUBE_URL", "YouTube"),
    ("LINKEDIN_URL", "LinkedIn"),
];

/// Colours and footer links.
#[derive(Debug, Clone)]
pub struct Brand {
    /// `BRAND_COLOR`: headings, links, rules and buttons.
    pub color: Colour,
    /// `BRAND_TEXT_COLOR`: text on the brand colour (a button's label).
    /// Defaults to white or near-black, whichever contrasts more.
    pub text_color: Colour,
    /// `DONATE_URL`: an https page to give, linked from the footer.
    pub donate_url: Option<HttpsUrl>,
    /// `FACEBOOK_URL` … `LINKEDIN_URL` that are set: the words shown and the address.
    pub social: Vec<(&'static str, HttpsUrl)>,
}

impl Default for Brand {
    fn default() -> Self {
        Self {
            color: DEFAULT_BRAND_COLOR,
            text_color: text_on(DEFAULT_BRAND_COLOR),
            donate_url: None,
            social: Vec::new(),
        }
    }
}

/// White or near-black, whichever contrasts more with `background`.
pub fn text_on(background: Colour) -> Colour {
    if Colour::WHITE.contrast(background) >= NEAR_BLACK.contrast(background) {
        Colour::WHITE
    } else {
        NEAR_BLACK
    }
}

impl Brand {
    pub fn from_source(source: &Source) -> Result<Self, ConfigError> {
        let color = parse_with(source, "BRAND_COLOR", Colour::parse)?.unwrap_or(DEFAULT_BRAND_COLOR);
        let text_color = parse_with(source, "BRAND_TEXT_COLOR", Colour::parse)?.unwrap_or(text_on(color));
        let mut social = Vec::new();
        for (key, words) in SOCIAL_KEYS {
            if let Some(url) = parse_with(source, key, HttpsUrl::parse)? {
                social.push((words, url));
            }
        }
        Ok(Self { color, text_color, donate_url: parse_with(source, "DONATE_URL", HttpsUrl::parse)?, social })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand(pairs: &[(&str, &str)]) -> Result<Brand, ConfigError> {
        Brand::from_source(&Source::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn the_default_is_todays_blue_with_white_text() {
        let b = brand(&[]).unwrap();
        assert_eq!(b.color.to_string(), "#1d4f91");
        assert_eq!(b.text_color, Colour::WHITE);
        assert!(b.donate_url.is_none() && b.social.is_empty());
    }

    #[test]
    fn text_on_a_light_brand_colour_defaults_to_near_black() {
        let b = brand(&[("BRAND_COLOR", "#f5c518")]).unwrap();
        assert_eq!(b.text_color, NEAR_BLACK);
        let b = brand(&[("BRAND_COLOR", "#f5c518"), ("BRAND_TEXT_COLOR", "#FFFFFF")]).unwrap();
        assert_eq!(b.text_color, Colour::WHITE);
    }

    #[test]
    fn a_bad_colour_or_link_names_its_setting() {
        let err = brand(&[("BRAND_COLOR", "blue")]).unwrap_err().to_string();
        assert!(err.starts_with("setting BRAND_COLOR = \"blue\"") && err.contains("#rrggbb"), "{err}");
        let err = brand(&[("BRAND_TEXT_COLOR", "#fff")]).unwrap_err().to_string();
        assert!(err.starts_with("setting BRAND_TEXT_COLOR"), "{err}");
        let err = brand(&[("INSTAGRAM_URL", "http://instagram.com/hope")]).unwrap_err().to_string();
        assert!(err.starts_with("setting INSTAGRAM_URL") && err.contains("https://"), "{err}");
        let err = brand(&[("DONATE_URL", "give.example.org")]).unwrap_err().to_string();
        assert!(err.starts_with("setting DONATE_URL"), "{err}");
    }

    #[test]
    fn social_links_keep_the_footers_order() {
        let b = brand(&[
            ("YOUTUBE_URL", "https://youtube.com/@hope"),
            ("FACEBOOK_URL", "https://facebook.com/hope"),
        ])
        .unwrap();
        let words: Vec<&str> = b.social.iter().map(|(w, _)| *w).collect();
        assert_eq!(words, ["Facebook", "YouTube"]);
    }
}
