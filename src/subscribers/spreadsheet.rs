//! Cells a spreadsheet would run as formulas, both ways: written with a
//! leading `'` so that a spreadsheet shows them as text
//! ([`inert_in_spreadsheets`]), and read back as they were typed
//! ([`as_typed`]), so the `'` never reaches a To: line, a greeting or a
//! merge field.

/// `cell` without the `'` that [`inert_in_spreadsheets`] puts before
/// a value starting like a formula (`=`, `+`, `-`, `@`, a tab or a carriage
/// return); any other cell as it is (`'quoted` keeps its quote). As
/// spreadsheets do, which hide that `'` themselves.
pub fn as_typed(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

/// `text` as a spreadsheet cell that shows as text: Excel, LibreOffice and
/// Google Sheets run a cell starting with `=`, `+`, `-` or `@` (or a tab or
/// carriage return before one) as a formula, and a bounce's words come from
/// whoever wrote the bounce. Such a cell gets a leading `'`, as OWASP
/// advises. Only for free text: an address must stay as it is to match.
pub fn inert_in_spreadsheets(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}").into() } else { text.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cells_starting_like_a_formula_are_changed() {
        for risky in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(inert_in_spreadsheets(risky), format!("'{risky}"));
        }
        for safe in ["", "550 5.1.1 no such user", "user unknown = gone", "'quoted"] {
            assert_eq!(inert_in_spreadsheets(safe), safe);
        }
    }
}
