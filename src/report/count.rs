//! How far a send has got, in the words the progress display and the
//! summary both use: "17 sent, 1 failed of 18". Each message is counted
//! once, under what became of it, so the parts add up to what was done.

use std::fmt;

/// Messages of one run, by what became of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// Taken by the relay.
    pub sent: u64,
    /// Refused, or given up on after every attempt.
    pub failed: u64,
    /// Not mailed: the reader unsubscribed while the send ran.
    pub held_back: u64,
    /// Messages the run set out to send.
    pub of: u64,
}

impl fmt::Display for Count {
    /// `17 sent, 1 failed of 18`; `, 1 held back` before `of` when any were.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} sent, {} failed", self.sent, self.failed)?;
        if self.held_back > 0 {
            write!(f, ", {} held back", self.held_back)?;
        }
        write!(f, " of {}", self.of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_failure_in_eighteen_reads_seventeen_sent_one_failed_of_eighteen() {
        let count = Count { sent: 17, failed: 1, held_back: 0, of: 18 };
        assert_eq!(count.to_string(), "17 sent, 1 failed of 18");
    }

    #[test]
    fn messages_held_back_are_named_and_a_run_under_way_shows_what_is_left() {
        let count = Count { sent: 5, failed: 0, held_back: 1, of: 18 };
        assert_eq!(count.to_string(), "5 sent, 0 failed, 1 held back of 18");
    }
}
