//! Whether SpamAssassin's `HTML_IMAGE_RATIO_*` rules would fire on a
//! message's HTML: too little text for the area of its pictures.
//!
//! The measure is SpamAssassin's own (4.0, `Message/Node.pm`, `HTML.pm`
//! and `Plugin/HTMLEval.pm`'s `html_image_ratio`): the characters of the
//! HTML's text that are not white space (every text node outside `<script>`
//! and `<style>`, hidden or not, `<title>` included; alt text and comments
//! not) over the sum of the areas of the `<img>` tags that have both a
//! `width` and a `height` attribute. An attribute that is a whole number
//! counts as that many pixels, a percentage as that share of an 800×600
//! screen, anything else (`600px`, `auto`, `0`) as 200. The rules fire for a
//! ratio above 0 and at most 0.002, 0.004, 0.006 or 0.008
//! (`20_html_tests.cf`), so a message clears them all above 0.008: at least
//! one character of text for every 125 square pixels of picture.

use std::fmt;

use scraper::{Html, Node};

use crate::job::Job;

/// SpamAssassin's rules, each with the ratios it fires on: above the first,
/// at most the second (`20_html_tests.cf`).
const RULES: [(&str, f64, f64); 4] = [
    ("HTML_IMAGE_RATIO_02", 0.000, 0.002),
    ("HTML_IMAGE_RATIO_04", 0.002, 0.004),
    ("HTML_IMAGE_RATIO_06", 0.004, 0.006),
    ("HTML_IMAGE_RATIO_08", 0.006, 0.008),
];

/// The screen SpamAssassin assumes for percentage sizes.
const SCREEN: (u64, u64) = (800, 600);

/// The size SpamAssassin guesses for a width or height it cannot read.
const GUESS: u64 = 200;

/// An `<img>` as SpamAssassin measures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageArea {
    /// Its `src`, as the HTML has it (`cid:image1.jpg@bulletin`).
    pub src: String,
    pub width: u64,
    pub height: u64,
    /// Both attributes are whole numbers of pixels, so a smaller file
    /// shows smaller.
    pub in_pixels: bool,
}

impl ImageArea {
    pub fn area(&self) -> u64 {
        self.width.saturating_mul(self.height)
    }
}

/// A message's text against its images; see the module's documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRatio {
    /// Characters of text that are not white space.
    pub text: u64,
    /// The images that count, in the order of the HTML.
    pub images: Vec<ImageArea>,
}

impl ImageRatio {
    /// Measures `html` as SpamAssassin does.
    pub fn of(html: &str) -> Self {
        let document = Html::parse_document(html);
        let mut text = 0u64;
        let mut images = Vec::new();
        for node in document.tree.nodes() {
            match node.value() {
                Node::Text(t) => {
                    let outside_code = node.ancestors().all(|a| {
                        a.value().as_element().is_none_or(|e| !matches!(e.name(), "script" | "style"))
                    });
                    if outside_code {
                        text += t.chars().filter(|c| !c.is_whitespace()).count() as u64;
                    }
                }
                Node::Element(e) if e.name() == "img" => {
                    if let (Some(width), Some(height)) = (e.attr("width"), e.attr("height")) {
                        let (width, w_pixels) = length(width, SCREEN.0);
                        let (height, h_pixels) = length(height, SCREEN.1);
                        images.push(ImageArea {
                            src: e.attr("src").unwrap_or_default().to_owned(),
                            width,
                            height,
                            in_pixels: w_pixels && h_pixels,
                        });
                    }
                }
                _ => {}
            }
        }
        Self { text, images }
    }

    /// The images' area in square pixels.
    pub fn area(&self) -> u64 {
        self.images.iter().map(ImageArea::area).sum()
    }

    /// Text over area, as SpamAssassin divides; `None` without images.
    pub fn ratio(&self) -> Option<f64> {
        ratio(self.text, self.area())
    }

    /// The rule that fires, if any.
    pub fn rule(&self) -> Option<&'static str> {
        rule(self.text, self.area())
    }

    /// The fewest characters of text that clear every rule at this area.
    pub fn text_to_clear(&self) -> u64 {
        let area = self.area();
        let mut text = (area / 125).max(self.text);
        while rule(text, area).is_some() {
            text += 1;
        }
        text
    }

    /// The largest image area that clears every rule at this text (0 when
    /// there is no text to speak of).
    pub fn area_to_clear(&self) -> u64 {
        let mut area = self.text.saturating_mul(125);
        while area > 0 && rule(self.text, area).is_some() {
            area -= 1;
        }
        area
    }

    /// The largest image, the one whose size matters most.
    pub fn largest(&self) -> Option<&ImageArea> {
        self.images.iter().max_by_key(|image| image.area())
    }
}

fn ratio(text: u64, area: u64) -> Option<f64> {
    (area > 0).then(|| text as f64 / area as f64)
}

fn rule(text: u64, area: u64) -> Option<&'static str> {
    let ratio = ratio(text, area)?;
    RULES.iter().find(|(_, above, most)| ratio > *above && ratio <= *most).map(|(name, ..)| *name)
}

/// A `width` or `height` attribute as SpamAssassin reads it (`^(\d+)(%)?$`,
/// a percentage of `screen`, else a guess), and whether it was in pixels.
fn length(value: &str, screen: u64) -> (u64, bool) {
    let (digits, percent) = match value.strip_suffix('%') {
        Some(digits) => (digits, true),
        None => (value, false),
    };
    let number = (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse::<u64>().unwrap_or(u64::MAX));
    match number {
        Some(n) if n > 0 && percent => (n.saturating_mul(screen / 100), false),
        Some(n) if n > 0 => (n, true),
        _ => (GUESS, false),
    }
}

/// The widest `image` can be shown, keeping its shape, for the images
/// together to stay within `area`: its width and height, or `None` if
/// even one pixel's width is too much.
pub fn widest_within(image: &ImageArea, others: u64, area: u64) -> Option<(u64, u64)> {
    let room = area.checked_sub(others)?;
    let height_at = |width: u64| (image.height.saturating_mul(width) / image.width.max(1)).max(1);
    let scale = (room as f64 / image.area().max(1) as f64).sqrt();
    let mut width = ((image.width as f64 * scale) as u64).min(image.width);
    while width > 0 && width.saturating_mul(height_at(width)) > room {
        width -= 1;
    }
    while width < image.width && (width + 1).saturating_mul(height_at(width + 1)) <= room {
        width += 1;
    }
    (width > 0).then(|| (width, height_at(width)))
}

/// The warning for `html`, one reader's message of `job`, when a rule
/// would fire: the ratio, the rule, the largest image as the bulletin
/// names it (with its line), and what clears it: how much more text, or
/// how wide that image may be shown at the text there is.
pub fn image_ratio(job: &Job, html: &str) -> Option<String> {
    let measured = ImageRatio::of(html);
    let rule = measured.rule()?;
    let largest = measured.largest()?;
    let (name, line) = name_of(job, &largest.src);
    let at = match line {
        Some(line) => format!("{}:{line}", job.bulletin.path.display()),
        None => job.bulletin.path.display().to_string(),
    };
    let more = measured.text_to_clear() - measured.text;
    let allowed = measured.area_to_clear();
    let others = measured.area() - largest.area();
    let smaller = match widest_within(largest, others, allowed).filter(|_| largest.in_pixels) {
        Some((width, height)) => format!(
            "or show {name} at most {width} pixels wide ({width}×{height}, against {}×{} now: resize the file)",
            largest.width, largest.height
        ),
        None => format!("or make the images smaller: {allowed} square pixels together at most"),
    };
    Some(format!(
        "{at}: the HTML has {measured}: SpamAssassin's {rule} rule (too little text for the area of the \
         pictures) fires on it, and spam filters distrust mail that is mostly picture; the largest image is \
         {name}; to clear it, add at least {more} characters of text (not counting spaces), {smaller}"
    ))
}

/// An image of the HTML by the name the bulletin or the settings give it,
/// with the bulletin line it stands on.
fn name_of(job: &Job, src: &str) -> (String, Option<usize>) {
    if let Some(shown) = job.shown.iter().find(|shown| shown.url == src) {
        let line = crate::content::images::all(&job.bulletin.blocks)
            .into_iter()
            .find(|(written, ..)| *written == shown.src)
            .map(|(.., line)| line);
        return (shown.src.clone(), line);
    }
    if job.shown_logo.as_ref().is_some_and(|logo| logo.url == src) {
        return ("the logo (LOGO)".to_owned(), None);
    }
    (src.to_owned(), None)
}

impl fmt::Display for ImageRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} characters of text (not counting spaces) against {} square pixels of images",
            self.text,
            self.area()
        )?;
        if let Some(ratio) = self.ratio() {
            write!(f, ", a ratio of {ratio:.4}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn page(body: &str) -> String {
        format!(
            "<!DOCTYPE html><html><head><title>Hi</title><style>p {{ color: red }}</style></head><body>{body}</body></html>"
        )
    }

    #[test]
    fn text_is_counted_without_spaces_and_with_the_title_and_hidden_text() {
        let measured = ImageRatio::of(&page(
            "<p>one two\n three</p><div style=\"display:none\">pre</div><!-- a comment --><script>var x = 1;</script>",
        ));
        // "Hi" + "onetwothree" + "pre"; the style, the comment and the script do not count.
        assert_eq!(measured.text, 2 + 11 + 3);
        assert_eq!(measured.images, Vec::new());
        assert_eq!(measured.rule(), None, "no images, no ratio");
    }

    #[test]
    fn entities_count_as_the_character_they_stand_for_and_nbsp_as_a_space() {
        // "Hi", then "a&b", "c" and "“d”".
        assert_eq!(ImageRatio::of(&page("<p>a&amp;b&nbsp;c “d”</p>")).text, 2 + 3 + 1 + 3);
    }

    #[test]
    fn alt_text_does_not_count_and_an_image_needs_both_width_and_height() {
        let measured = ImageRatio::of(&page(
            "<img src=\"cid:a\" alt=\"a long description\" width=\"600\" height=\"400\">\
             <img src=\"cid:b\" width=\"600\"><img src=\"cid:c\">",
        ));
        assert_eq!(measured.text, 2);
        assert_eq!(
            measured.images,
            vec![ImageArea { src: "cid:a".into(), width: 600, height: 400, in_pixels: true }]
        );
    }

    #[test]
    fn percentages_are_of_an_800_by_600_screen_and_other_sizes_are_guessed_as_200() {
        let measured = ImageRatio::of(&page(
            "<img src=\"a\" width=\"50%\" height=\"10%\"><img src=\"b\" width=\"600px\" height=\"0\">",
        ));
        let sizes: Vec<(u64, u64, bool)> =
            measured.images.iter().map(|i| (i.width, i.height, i.in_pixels)).collect();
        assert_eq!(sizes, vec![(400, 60, false), (200, 200, false)]);
    }

    #[test]
    fn each_rule_fires_on_its_own_range_and_none_above_0_008() {
        // 600×500 = 300,000 square pixels: 0.002 is 600 characters.
        let at = |text| rule(text, 300_000);
        assert_eq!(at(0), None, "no text at all is HTML_IMAGE_ONLY's business");
        assert_eq!(at(1), Some("HTML_IMAGE_RATIO_02"));
        assert_eq!(at(600), Some("HTML_IMAGE_RATIO_02"));
        assert_eq!(at(601), Some("HTML_IMAGE_RATIO_04"));
        assert_eq!(at(1800), Some("HTML_IMAGE_RATIO_06"));
        assert_eq!(at(2400), Some("HTML_IMAGE_RATIO_08"));
        assert_eq!(at(2401), None);
    }

    #[test]
    fn what_clears_it_is_the_least_text_or_the_largest_area_that_does() {
        let measured = ImageRatio {
            text: 400,
            images: vec![ImageArea { src: "a".into(), width: 600, height: 450, in_pixels: true }],
        };
        assert_eq!(measured.rule(), Some("HTML_IMAGE_RATIO_02"));
        // 270,000 / 125 = 2,160 is exactly 0.008, which still fires.
        assert_eq!(measured.text_to_clear(), 2161);
        // 400 × 125 = 50,000 is exactly 0.008 again.
        assert_eq!(measured.area_to_clear(), 49_999);
        let cleared = ImageRatio { text: 2161, ..measured.clone() };
        assert_eq!(cleared.rule(), None);
    }

    #[test]
    fn the_widest_photo_that_clears_keeps_its_shape_and_fits_beside_the_others() {
        let photo = ImageArea { src: "a".into(), width: 600, height: 450, in_pixels: true };
        let (width, height) = widest_within(&photo, 0, 49_999).unwrap();
        assert_eq!((width, height), (258, 193));
        assert!(width * height <= 49_999 && (width + 1) * ((width + 1) * 3 / 4) > 49_999);
        assert_eq!(widest_within(&photo, 10_000, 49_999), Some((231, 173)));
        assert_eq!(widest_within(&photo, 60_000, 49_999), None, "the other images alone are too much");
        assert_eq!(widest_within(&photo, 0, 1_000_000), Some((600, 450)), "never wider than it is");
    }
}
