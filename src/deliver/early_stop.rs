//! Stopping early: when the first messages of a run all fail the same way
//! with nothing sent, the fault is the relay's or the settings', and going
//! on would only fail every recipient.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::domain::{EmailKey, Reply};

/// How many first messages failing the same way, with nothing sent yet,
/// stop the run.
pub const EARLY_STOP_AFTER: usize = 3;

/// Watches the first answers for one fault repeated with nothing sent.
#[derive(Default)]
pub struct EarlyStop {
    any_sent: AtomicBool,
    failures: Mutex<Vec<(EmailKey, Reply)>>,
    reason: Mutex<Option<Reply>>,
}

impl EarlyStop {
    /// Records a failure; true when the run should stop. Refusals of the
    /// recipient's own address or mailbox never count: three unknown users
    /// at the top of a list say nothing about the relay. Nor do three
    /// addresses with non-ASCII letters a relay without SMTPUTF8 cannot
    /// take: it takes the others.
    pub fn failed(&self, key: &EmailKey, reply: &Reply) -> bool {
        if self.any_sent.load(Ordering::SeqCst)
            || reply.is_about_the_recipient()
            || reply.is_about_non_ascii_letters()
        {
            return false;
        }
        let mut failures = self.failures.lock().expect("not poisoned");
        failures.push((key.clone(), reply.clone()));
        let same = failures.len() >= EARLY_STOP_AFTER && failures.iter().all(|(_, r)| r == reply);
        if same {
            self.reason.lock().expect("not poisoned").get_or_insert_with(|| reply.clone());
        }
        same
    }

    /// Records that a message was accepted: from now on nothing stops the run.
    pub fn sent(&self) {
        self.any_sent.store(true, Ordering::SeqCst);
    }

    /// Why the run stopped early, if it did.
    pub fn reason(&self) -> Option<Reply> {
        self.reason.lock().expect("not poisoned").clone()
    }

    /// The recipients whose failure stopped the run, to make pending again.
    pub fn failed_keys(&self) -> Vec<EmailKey> {
        self.failures.lock().expect("not poisoned").iter().map(|(key, _)| key.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(address: &str) -> EmailKey {
        EmailKey::of(address)
    }

    fn reply(text: &str) -> Reply {
        Reply::from_text(text)
    }

    #[test]
    fn the_same_failure_three_times_before_any_success_stops_the_run() {
        let watch = EarlyStop::default();
        assert!(!watch.failed(&key("a"), &reply("553 sender refused")));
        assert!(!watch.failed(&key("b"), &reply("553 sender refused")));
        assert!(watch.failed(&key("c"), &reply("553 sender refused")));
        assert_eq!(watch.reason().map(|r| r.to_string()).as_deref(), Some("553 sender refused"));
    }

    #[test]
    fn different_failures_or_an_earlier_success_do_not_stop_the_run() {
        let watch = EarlyStop::default();
        assert!(!watch.failed(&key("a"), &reply("550 <a>: no such user")));
        assert!(!watch.failed(&key("b"), &reply("550 <b>: no such user")));
        assert!(!watch.failed(&key("c"), &reply("550 <c>: no such user")));
        let watch = EarlyStop::default();
        watch.sent();
        for key in ["a", "b", "c", "d"] {
            assert!(!watch.failed(&self::key(key), &reply("553 sender refused")));
        }
    }

    #[test]
    fn refusals_of_the_recipients_address_never_stop_the_run() {
        let watch = EarlyStop::default();
        for key in ["a", "b", "c", "d"] {
            assert!(!watch.failed(&self::key(key), &reply("permanent error (550): 5.1.1 User unknown")));
        }
    }

    #[test]
    fn addresses_a_relay_without_smtputf8_cannot_take_never_stop_the_run() {
        let watch = EarlyStop::default();
        for key in ["a", "b", "c", "d"] {
            let refusal = Reply::new(
                crate::domain::ReplyCode::new(553),
                crate::domain::StatusCode::parse("5.6.7"),
                "not sent: the relay does not offer SMTPUTF8",
            );
            assert!(!watch.failed(&self::key(key), &refusal));
        }
    }
}
