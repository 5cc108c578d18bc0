//! Settings for handling bounces.

use std::num::NonZeroU32;

use super::{ConfigError, Source, parse_with};

/// How bounces are acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BounceSettings {
    /// `BOUNCE_SOFT_LIMIT`: soft bounces in a row (in consecutive messages
    /// to the address) after which it is suppressed. Defaults to 3.
    pub soft_limit: NonZeroU32,
}

impl BounceSettings {
    pub fn from_source(source: &Source) -> Result<Self, ConfigError> {
        let soft_limit = parse_with(source, "BOUNCE_SOFT_LIMIT", |s| {
            s.parse::<NonZeroU32>().map_err(|_| "must be a whole number, 1 or more")
        })?;
        Ok(Self { soft_limit: soft_limit.unwrap_or(NonZeroU32::new(3).expect("3 is not 0")) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<BounceSettings, ConfigError> {
        BounceSettings::from_source(&Source::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn the_soft_limit_defaults_to_three_and_must_be_positive() {
        assert_eq!(settings(&[]).unwrap().soft_limit.get(), 3);
        assert_eq!(settings(&[("BOUNCE_SOFT_LIMIT", "5")]).unwrap().soft_limit.get(), 5);
        for bad in ["0", "-1", "three", "2.5"] {
            let err = settings(&[("BOUNCE_SOFT_LIMIT", bad)]).unwrap_err().to_string();
            assert!(err.contains("BOUNCE_SOFT_LIMIT") && err.contains("whole number"), "{err}");
        }
    }
}
