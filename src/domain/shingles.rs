//! A bulletin's [`Shingles`]: the runs of words its body is made of, so
//! that a corrected copy (a typo fixed, a line added) is recognised as the
//! same bulletin while next week's new text, under the same subject, is
//! not.

use sha2::{Digest, Sha256};

/// How many words make one shingle. Three: one word changed changes at
/// most three shingles, so a correction of a word or two in a short
/// bulletin of 60 words still keeps 90% of them, while two texts that only
/// share their headings and set phrases share few (17% for the two weeks
/// of 60 words in `tests/it/duplicates.rs`).
const WORDS: usize = 3;

/// The share of shingles two bodies must have in common, of the larger
/// set, to count as copies of one bulletin: 90%.
pub const NEAR_COPY_PERCENT: u64 = 90;

/// The set of a Markdown body's three-word shingles, each as the first 8
/// bytes of its SHA-256 (stable across versions and machines, since the
/// journal keeps them), sorted, without repeats.
///
/// Words are the runs of letters and digits, lower-cased: punctuation,
/// Markdown marks, line breaks and case do not count. The subject is left
/// out: a newsletter often keeps one subject every week.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shingles(Vec<u64>);

impl Shingles {
    /// The shingles of `body`. A body of fewer than three words is one
    /// shingle of them all; an empty one has none.
    pub fn of(body: &str) -> Self {
        let words: Vec<String> = body
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        let runs: Vec<&[String]> = if words.len() < WORDS && !words.is_empty() {
            vec![&words[..]]
        } else {
            words.windows(WORDS).collect()
        };
        let mut hashes: Vec<u64> = runs
            .into_iter()
            .map(|run| {
                let mut hash = Sha256::new();
                for word in run {
                    hash.update(word.as_bytes());
                    hash.update([0]);
                }
                let digest = hash.finalize();
                u64::from_be_bytes(digest[..8].try_into().expect("SHA-256 has 32 bytes"))
            })
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        Self(hashes)
    }

    /// How many shingles the two have in common, in percent of the larger
    /// set (0 when either is empty).
    pub fn shared_percent(&self, other: &Self) -> u64 {
        let larger = self.0.len().max(other.0.len());
        if self.0.is_empty() || other.0.is_empty() {
            return 0;
        }
        let (mut a, mut b, mut shared) = (self.0.iter().peekable(), other.0.iter().peekable(), 0usize);
        while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
            match x.cmp(y) {
                std::cmp::Ordering::Less => {
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    b.next();
                }
                std::cmp::Ordering::Equal => {
                    shared += 1;
                    a.next();
                    b.next();
                }
            }
        }
        (shared * 100 / larger) as u64
    }

    /// True when `other` is a near copy: at least [`NEAR_COPY_PERCENT`]
    /// of the shingles shared.
    pub fn is_near_copy_of(&self, other: &Self) -> bool {
        self.shared_percent(other) >= NEAR_COPY_PERCENT
    }

    /// As stored: 8 bytes a shingle, big-endian, in order.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|h| h.to_be_bytes()).collect()
    }

    /// Read back from [`Shingles::to_bytes`]; `None` for bytes it cannot
    /// have written.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if !bytes.len().is_multiple_of(8) {
            return None;
        }
        let hashes: Vec<u64> =
            bytes.chunks_exact(8).map(|c| u64::from_be_bytes(c.try_into().expect("8 bytes"))).collect();
        hashes.is_sorted_by(|a, b| a < b).then_some(Self(hashes))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEEK_1: &str = "> Seek justice, defend the oppressed. — Isaiah 1:17\n\n\
        ## Africa\n\nPray for the rescue team in Kampala as they follow up on three cases of forced labour \
        in the brick kilns outside the city, and for the families waiting for news.\n\n\
        ## South Asia\n\nGive thanks for the court in Chennai, which convicted two traffickers last week; \
        pray for the survivors as they rebuild their lives and return to school.\n\n\
        ## Latin America\n\nPray for the new aftercare home in Guatemala City and the staff who will open \
        it in January, that it becomes a place of safety and healing for girls.\n";

    const WEEK_2: &str = "> Learn to do right; seek justice. — Isaiah 1:17\n\n\
        ## Africa\n\nPray for the lawyers in Ghana preparing for a hearing on the fishing boats of Lake \
        Volta, where boys are made to dive in cold water for hours at a time.\n\n\
        ## South Asia\n\nPray for the investigators in Kolkata as they trace a network that sells girls \
        across the border, and for wisdom for the police who work with them.\n\n\
        ## Latin America\n\nGive thanks for the fifty officers trained in Lima this month to spot the \
        signs of exploitation and to treat survivors with care.\n";

    #[test]
    fn a_corrected_copy_is_a_near_copy() {
        let corrected = WEEK_1.replace("Kampala", "Kampala, Uganda,").replace("brick kilns", "brick-kilns");
        let first = Shingles::of(WEEK_1);
        let second = Shingles::of(&corrected);
        assert!(second.shared_percent(&first) >= 90, "{}", second.shared_percent(&first));
        assert!(second.is_near_copy_of(&first));
        assert_eq!(Shingles::of(WEEK_1).shared_percent(&first), 100);
    }

    #[test]
    fn next_weeks_text_under_the_same_headings_is_not_a_near_copy() {
        let (one, two) = (Shingles::of(WEEK_1), Shingles::of(WEEK_2));
        assert!(one.shared_percent(&two) < 20, "{}", one.shared_percent(&two));
        assert!(!one.is_near_copy_of(&two));
    }

    #[test]
    fn case_punctuation_and_markdown_marks_do_not_count() {
        assert_eq!(Shingles::of("## Pray for *Kampala*, today!"), Shingles::of("pray FOR kampala today"));
    }

    #[test]
    fn short_and_empty_bodies() {
        assert_eq!(Shingles::of("Hello there").len(), 1);
        assert!(Shingles::of(" — ").is_empty());
        assert_eq!(Shingles::of("").shared_percent(&Shingles::of("")), 0);
    }

    #[test]
    fn bytes_round_trip_and_foreign_bytes_are_refused() {
        let s = Shingles::of(WEEK_2);
        assert_eq!(Shingles::from_bytes(&s.to_bytes()), Some(s));
        assert_eq!(Shingles::from_bytes(&[1, 2, 3]), None);
        let mut reversed = Shingles::of(WEEK_1).to_bytes();
        reversed.reverse();
        assert_eq!(Shingles::from_bytes(&reversed), None);
    }
}
