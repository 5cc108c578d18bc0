//! What happened to each row of the list in one pass over it, counted and
//! told: who would get the bulletin, who was skipped and why, and the first
//! rows that point at mistakes.

use std::fmt::Write;

use super::text::{TextEncoding, delimiter_name};
use super::{Skip, SkipReason};
use crate::domain::counted;

/// Every line of a list file accounted for: the header's, the rows' (a
/// row with a quoted field over several lines takes more than one), and
/// the blank ones (rows of empty cells among them); with how its bytes
/// and columns were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCount {
    /// Lines in the file.
    pub total: u64,
    pub header: u64,
    pub rows: u64,
    /// Lines the rows take.
    pub row_lines: u64,
    pub blank: u64,
    pub encoding: TextEncoding,
    pub delimiter: u8,
}

impl LineCount {
    /// "read as Windows-1252, columns split at `;`": how the file was read,
    /// when that is not UTF-8 and commas.
    pub fn how_read(&self) -> Option<String> {
        let mut how = Vec::new();
        if self.encoding != TextEncoding::Utf8 {
            how.push(format!("read as {}", self.encoding.name()));
        }
        if self.delimiter != b',' {
            how.push(format!("columns split at {}", delimiter_name(self.delimiter)));
        }
        (!how.is_empty()).then(|| how.join(", "))
    }

    /// Whether the parts add up to the whole.
    pub fn adds_up(&self) -> bool {
        self.header + self.row_lines + self.blank == self.total
    }
}

impl std::fmt::Display for LineCount {
    /// `6 lines = 1 header + 3 rows on 4 lines + 1 blank`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows = if self.rows == 1 { "row" } else { "rows" };
        write!(f, "{} lines = {} header + {} {rows}", self.total, self.header, self.rows)?;
        if self.row_lines != self.rows {
            write!(f, " on {} lines", self.row_lines)?;
        }
        write!(f, " + {} blank", self.blank)
    }
}

/// How many problem rows a summary lists before saying "and N more".
pub const PROBLEMS_SHOWN: usize = 20;

/// Counts of a run over the subscriber list.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Messages rendered (and written or sent).
    pub recipients: u64,
    pub unsubscribed: u64,
    pub suppressed: u64,
    pub not_in_segment: u64,
    /// Readers left out of a welcome: not newcomers.
    pub not_newcomers: u64,
    /// Readers who paused their emails on the preference page.
    pub paused: u64,
    pub invalid: u64,
    pub duplicate: u64,
    problems: Vec<Skip>,
    keep: usize,
    /// Every line of the file, once it was read whole.
    pub lines: Option<LineCount>,
}

impl Tally {
    /// A tally that remembers the first [`PROBLEMS_SHOWN`] problem rows.
    pub fn new() -> Self {
        Self::keeping(PROBLEMS_SHOWN)
    }

    /// A tally that remembers the first `keep` problem rows.
    pub fn keeping(keep: usize) -> Self {
        Self { keep, ..Self::default() }
    }

    pub fn skip(&mut self, skip: Skip) {
        let counter = match skip.reason {
            SkipReason::Unsubscribed => &mut self.unsubscribed,
            SkipReason::Suppressed => &mut self.suppressed,
            SkipReason::NotInSegment(_) => &mut self.not_in_segment,
            SkipReason::NotNewcomer => &mut self.not_newcomers,
            SkipReason::Paused => &mut self.paused,
            SkipReason::Invalid(_) => &mut self.invalid,
            SkipReason::Duplicate { .. } => &mut self.duplicate,
        };
        *counter += 1;
        if skip.reason.is_problem() && self.problems.len() < self.keep {
            self.problems.push(skip);
        }
    }

    pub fn skipped(&self) -> u64 {
        self.unsubscribed
            + self.suppressed
            + self.not_in_segment
            + self.not_newcomers
            + self.paused
            + self.invalid
            + self.duplicate
    }

    /// Rows that point at mistakes in the list.
    pub fn problem_count(&self) -> u64 {
        self.invalid + self.duplicate
    }

    /// The problem rows remembered, in file order.
    pub fn problems(&self) -> &[Skip] {
        &self.problems
    }

    /// "3 unsubscribed, 1 invalid", leaving out zeros.
    pub fn skipped_breakdown(&self) -> String {
        counted(&[
            (self.unsubscribed, "unsubscribed"),
            (self.suppressed, "suppressed"),
            (self.not_in_segment, "not in the segment"),
            (self.not_newcomers, "not newcomers"),
            (self.paused, "paused"),
            (self.invalid, "invalid"),
            (self.duplicate, "duplicate"),
        ])
        .join(", ")
    }

    /// The counts of a dry run: how many would be sent and skipped, and why.
    pub fn dry_run_summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "  would send   {}", self.recipients);
        if self.skipped() > 0 {
            let _ = writeln!(out, "  skipped      {} ({})", self.skipped(), self.skipped_breakdown());
        } else {
            let _ = writeln!(out, "  skipped      0");
        }
        if let Some(lines) = &self.lines {
            let _ = writeln!(out, "  read         {lines}");
            if let Some(how) = lines.how_read() {
                let _ = writeln!(out, "  file         {how}");
            }
        }
        out
    }

    /// One line per remembered problem row, then how many more there were.
    pub fn problem_lines(&self, list: &str) -> String {
        let mut out = String::new();
        for skip in &self.problems {
            let _ = writeln!(out, "{}", skip.located(list));
        }
        let unshown = self.problem_count().saturating_sub(self.problems.len() as u64);
        if unshown > 0 {
            let _ = writeln!(out, "  … and {unshown} more (`bulletin check` lists them all)");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscribers::RowProblem;

    fn skip(line: u64, reason: SkipReason) -> Skip {
        Skip { line, file: None, email: Some("a@example.org".into()), reason }
    }

    #[test]
    fn skips_are_counted_by_reason_and_problems_remembered() {
        let mut t = Tally::new();
        t.skip(skip(2, SkipReason::Unsubscribed));
        t.skip(skip(3, SkipReason::Invalid(RowProblem::MissingEmail)));
        t.skip(skip(4, SkipReason::Duplicate { first_line: 3 }));
        assert_eq!(t.skipped(), 3);
        assert_eq!(t.skipped_breakdown(), "1 unsubscribed, 1 invalid, 1 duplicate");
        assert_eq!(t.problems().len(), 2);
        assert_eq!(
            t.problem_lines("list.csv"),
            "list.csv:3: no email address\nlist.csv:4: duplicate of line 3 (a@example.org): delete line 4\n"
        );
    }

    #[test]
    fn only_the_first_problems_are_listed_and_the_rest_counted() {
        let mut t = Tally::keeping(1);
        for line in 2..5 {
            t.skip(skip(line, SkipReason::Invalid(RowProblem::MissingEmail)));
        }
        assert!(t.problem_lines("l.csv").ends_with("… and 2 more (`bulletin check` lists them all)\n"));
    }
}
