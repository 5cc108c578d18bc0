//! An error said with its causes. Our errors follow one convention: the
//! message says what failed, [`std::error::Error::source`] says why, and no
//! message repeats its source; so the whole account is the chain, each
//! message once, joined with `": "`.

use std::error::Error;

/// `error` and each of its causes, outermost first, joined with `": "`:
/// `cannot read b.md: No such file or directory (os error 2)`. Wherever an
/// error is shown on its own (a log line, a page, a finding) it is shown
/// this way, since its `Display` alone leaves out why.
pub fn chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        text.push_str(": ");
        text.push_str(&error.to_string());
        cause = error.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read {path}")]
    struct Read {
        path: &'static str,
        source: std::io::Error,
    }

    #[test]
    fn an_error_is_said_with_each_of_its_causes_in_order() {
        let io = std::io::Error::other("disk on fire");
        assert_eq!(chain(&Read { path: "b.md", source: io }), "cannot read b.md: disk on fire");
        assert_eq!(chain(&std::io::Error::other("alone")), "alone");
    }
}
