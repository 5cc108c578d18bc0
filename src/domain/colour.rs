//! A colour as CSS and email clients take it: `#rrggbb`, and the WCAG 2.x
//! contrast between two of them.

use std::fmt;

/// An sRGB colour; only ever a valid `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour {
    red: u8,
    green: u8,
    blue: u8,
}

impl Colour {
    pub const WHITE: Self = Self::rgb(0xff, 0xff, 0xff);

    pub const fn rgb(red: u8, green: u8, blue: u8) -> Self {
        Self { red, green, blue }
    }

    /// Reads `#rrggbb` (either case).
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        const WANTED: &str = "must be a colour written #rrggbb, such as #1d4f91";
        let hex = raw.strip_prefix('#').ok_or(WANTED)?;
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(WANTED);
        }
        let byte = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).map_err(|_| WANTED);
        Ok(Self::rgb(byte(0)?, byte(2)?, byte(4)?))
    }

    /// The relative luminance of WCAG 2.x: 0 for black, 1 for white.
    pub fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.040_45 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(self.red) + 0.7152 * channel(self.green) + 0.0722 * channel(self.blue)
    }

    /// The WCAG 2.x contrast ratio with `other`: 1 (none) to 21 (black on
    /// white), the same either way round.
    pub fn contrast(self, other: Self) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        let (light, dark) = if a > b { (a, b) } else { (b, a) };
        (light + 0.05) / (dark + 0.05)
    }

    /// This colour mixed with `other`, `share` (0 to 1) of the way towards it.
    pub fn mix(self, other: Self, share: f64) -> Self {
        let channel = |a: u8, b: u8| {
            let mixed = f64::from(a) + (f64::from(b) - f64::from(a)) * share.clamp(0.0, 1.0);
            mixed.round().clamp(0.0, 255.0) as u8
        };
        Self::rgb(
            channel(self.red, other.red),
            channel(self.green, other.green),
            channel(self.blue, other.blue),
        )
    }
}

impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.red, self.green, self.blue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn colour(raw: &str) -> Colour {
        Colour::parse(raw).unwrap()
    }

    #[test]
    fn only_hash_and_six_hex_digits_make_a_colour() {
        assert_eq!(colour("#1D4F91").to_string(), "#1d4f91");
        assert_eq!(colour("#000000"), Colour::rgb(0, 0, 0));
        for bad in ["1d4f91", "#fff", "#1d4f9", "#1d4f911", "#gg0000", "blue", "#1d 4f9", "", "#ééé"] {
            assert!(Colour::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn contrast_matches_the_known_wcag_pairs() {
        let round = |x: f64| (x * 100.0).round() / 100.0;
        assert_eq!(round(colour("#000000").contrast(Colour::WHITE)), 21.0);
        assert_eq!(round(Colour::WHITE.contrast(colour("#000000"))), 21.0);
        assert_eq!(round(colour("#777777").contrast(Colour::WHITE)), 4.48);
        assert_eq!(round(colour("#767676").contrast(Colour::WHITE)), 4.54);
        assert_eq!(round(colour("#1d4f91").contrast(colour("#1d4f91"))), 1.0);
    }

    #[test]
    fn mixing_goes_part_of_the_way() {
        let black = colour("#000000");
        assert_eq!(black.mix(Colour::WHITE, 0.0), black);
        assert_eq!(black.mix(Colour::WHITE, 1.0), Colour::WHITE);
        assert_eq!(black.mix(Colour::WHITE, 0.5).to_string(), "#808080");
    }
}
