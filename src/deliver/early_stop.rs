//! Stopping early: when the first messages of a run all fail the same way
//! with nothing sent, the fault is the relay's or the settings', and going
//! on would only fail every recipient.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// How many first messages failing the same way, with nothing sent yet,
/// stop the run.
pub const EARLY_STOP_AFTER: usize = 3;

/// Watches the first answers for one fault repeated with nothing sent.
#[derive(Default)]
pub struct EarlyStop {
    any_sent: AtomicBool,
    failures: Mutex<Vec<(String, String)>>,
    reason: Mutex<Option<String>>,
}

impl EarlyStop {
    /// Records a failure; true when the run should stop. Refusals of the
    /// recipient's own address or mailbox never count: three unknown users
    /// at the top of a list say nothing about the relay.
    pub fn failed(&self, key: &str, text: &str) -> bool {
        if self.any_sent.load(Ordering::SeqCst) || is_about_the_recipient(text) {
            return false;
        }
        let mut failures = self.failures.lock().expect("not poisoned");
        failures.push((key.to_owned(), text.to_owned()));
        let same = failures.len() >= EARLY_STOP_AFTER && failures.iter().all(|(_, t)| t == text);
        if same {
            self.reason.lock().expect("not poisoned").get_or_insert_with(|| text.to_owned());
        }
        same
    }
}

/// True when a reply's enhanced status code (RFC 3463) blames the
/// recipient's address (x.1.1 to x.1.6, x.1.9, x.1.10) or mailbox (x.2.*),
/// as opposed to the sender, the relay or the message.
pub fn is_about_the_recipient(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || c == ':' || c == '(' || c == ')').any(|word| {
        let parts: Vec<&str> = word.split('.').collect();
        let [class, subject, detail] = parts.as_slice() else { return false };
        let numeric = |s: &str| !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
        if !(matches!(*class, "4" | "5") && numeric(subject) && numeric(detail)) {
            return false;
        }
        match *subject {
            "2" => true,
            "1" => matches!(*detail, "1" | "2" | "3" | "4" | "5" | "6" | "9" | "10"),
            _ => false,
        }
    })
}

impl EarlyStop {
    /// Records that a message was accepted: from now on nothing stops the run.
    pub fn sent(&self) {
        self.any_sent.store(true, Ordering::SeqCst);
    }

    /// Why the run stopped early, if it did.
    pub fn reason(&self) -> Option<String> {
        self.reason.lock().expect("not poisoned").clone()
    }

    /// The recipients whose failure stopped the run, to make pending again.
    pub fn failed_keys(&self) -> Vec<String> {
        self.failures.lock().expect("not poisoned").iter().map(|(key, _)| key.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_failure_three_times_before_any_success_stops_the_run() {
        let watch = EarlyStop::default();
        assert!(!watch.failed("a", "553 sender refused"));
        assert!(!watch.failed("b", "553 sender refused"));
        assert!(watch.failed("c", "553 sender refused"));
        assert_eq!(watch.reason().as_deref(), Some("553 sender refused"));
    }

    #[test]
    fn different_failures_or_an_earlier_success_do_not_stop_the_run() {
        let watch = EarlyStop::default();
        assert!(!watch.failed("a", "550 <a>: no such user"));
        assert!(!watch.failed("b", "550 <b>: no such user"));
        assert!(!watch.failed("c", "550 <c>: no such user"));
        let watch = EarlyStop::default();
        watch.sent();
        for key in ["a", "b", "c", "d"] {
            assert!(!watch.failed(key, "553 sender refused"));
        }
    }

    #[test]
    fn refusals_of_the_recipients_address_never_stop_the_run() {
        let watch = EarlyStop::default();
        for key in ["a", "b", "c", "d"] {
            assert!(!watch.failed(key, "permanent error (550): 5.1.1 User unknown"));
        }
        assert!(is_about_the_recipient("permanent error (552): 5.2.2 Mailbox full"));
        assert!(!is_about_the_recipient("permanent error (553): 5.1.8 Bad sender's system address"));
        assert!(!is_about_the_recipient("permanent error (554): 5.7.1 Relay access denied"));
        assert!(!is_about_the_recipient("permanent error (550): Sender rejected"));
    }
}
