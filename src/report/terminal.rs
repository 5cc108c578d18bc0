//! Text from outside (relay replies, bounce reports, list values, file
//! names, error causes) made safe to print: a terminal obeys the control
//! characters in what it is given, so an escape sequence in a bounce's
//! `Diagnostic-Code` could recolour, retitle or rewrite the screen.

use std::borrow::Cow;

/// `text` with every control character (C0, DEL and C1: ESC begins the
/// terminal's sequences, BEL rings, CR goes back over the line) and every
/// bidirectional override shown as Rust writes it: `\u{1b}`, `\r`,
/// `\u{202e}`. Borrowed as it is when there is none.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unprintable) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unprintable(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_unprintable(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Whether to colour what goes to `stream`: only on a terminal, and never
/// when `NO_COLOR` is set to anything (<https://no-color.org>). Everything
/// that colours asks this (clap's help and errors follow the same rule).
pub fn colour(stream: &impl std::io::IsTerminal) -> bool {
    colour_wanted(stream.is_terminal(), std::env::var_os("NO_COLOR"))
}

fn colour_wanted(terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// An error and its causes, as `main` prints it: `outer: cause: root
/// cause` ([`crate::domain::chain`]). Each error's message says only what
/// failed and leaves why to its source, so each cause is said once as it
/// is; nothing is taken out.
pub fn error_message(error: &anyhow::Error) -> String {
    crate::domain::chain(error.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_is_only_for_a_terminal_without_no_color() {
        assert!(colour_wanted(true, None));
        assert!(colour_wanted(true, Some("".into())), "an empty NO_COLOR is unset");
        assert!(!colour_wanted(true, Some("1".into())));
        assert!(!colour_wanted(false, None));
    }

    #[test]
    fn control_characters_and_bidi_overrides_are_shown_escaped() {
        assert_eq!(printable("550 \x1b[31mUser unknown\x1b[0m"), r"550 \u{1b}[31mUser unknown\u{1b}[0m");
        assert_eq!(printable("a\x07b\rc\td\ne\u{7f}f\u{9b}g"), r"a\u{7}b\rc\td\ne\u{7f}f\u{9b}g");
        assert_eq!(printable("evil\u{202e}txt.exe"), r"evil\u{202e}txt.exe");
    }

    #[test]
    fn ordinary_text_is_printed_as_it_is_without_a_copy() {
        let text = "José Núñez <jose@example.com>: 550 5.1.1 “mailbox unavailable” ✓";
        assert!(matches!(printable(text), Cow::Borrowed(t) if t == text));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read bulletin {path}")]
    struct ReadError {
        path: String,
        source: std::io::Error,
    }

    #[test]
    fn an_error_chain_whose_messages_do_not_repeat_their_sources_prints_each_cause_exactly_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let cause = io.to_string();
        let error = anyhow::Error::new(ReadError { path: "b.md".into(), source: io }).context("cannot check");
        let message = error_message(&error);
        assert_eq!(message, format!("cannot check: cannot read bulletin b.md: {cause}"));
        for said in ["cannot check", "cannot read bulletin b.md", &cause] {
            assert_eq!(message.matches(said).count(), 1, "{said:?} in {message}");
        }
    }

    #[test]
    fn causes_are_all_kept_in_order() {
        let error =
            anyhow::anyhow!("connection refused").context("cannot reach the relay").context("send stopped");
        assert_eq!(error_message(&error), "send stopped: cannot reach the relay: connection refused");
    }

    #[test]
    fn a_cause_that_reads_like_part_of_the_message_is_still_said() {
        // Nothing is left out for looking like what was said before it.
        let error = anyhow::anyhow!("locked").context("the journal is locked");
        assert_eq!(error_message(&error), "the journal is locked: locked");
    }
}
