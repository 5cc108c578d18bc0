//! Counts in words, the way every summary says them: "3 unsubscribed",
//! leaving out what is zero. Shared by the list's tally and the send's
//! plan, so both speak alike.

/// "3 unsubscribed" for each count that is not zero.
pub fn counted(counts: &[(u64, &str)]) -> Vec<String> {
    counts.iter().filter(|(n, _)| *n > 0).map(|(n, what)| format!("{n} {what}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_count_is_a_number_and_its_words_and_zeros_are_left_out() {
        assert_eq!(
            counted(&[(3, "unsubscribed"), (0, "suppressed"), (1, "failed")]),
            ["3 unsubscribed", "1 failed"]
        );
        assert!(counted(&[(0, "sent")]).is_empty());
    }
}
