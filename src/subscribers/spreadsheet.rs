//! The other end of [`super::inert_in_spreadsheets`]: a cell written with a
//! leading `'` so that a spreadsheet shows it as text, read back as it was
//! typed, so the `'` never reaches a To: line, a greeting or a merge field.

/// `cell` without the `'` that [`super::inert_in_spreadsheets`] puts before
/// a value starting like a formula (`=`, `+`, `-`, `@`, a tab or a carriage
/// return); any other cell as it is (`'quoted` keeps its quote). As
/// spreadsheets do, which hide that `'` themselves.
pub fn as_typed(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}
