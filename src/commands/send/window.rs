//! The send window (`SEND_WINDOW`) in a live send: what the plan says of
//! it before the send is confirmed, the [`Gate`] the senders wait at, each
//! pause and resumption printed as it happens (and logged), and the
//! summary's line.

use std::sync::Arc;

use crate::config::SendWindow;
use crate::deliver::{Gate, Paused, rounded};
use crate::domain::{Clock, Timestamp};

/// The plan's line: the window, and whether the send waits for it.
pub(in crate::commands) fn plan_line(window: &SendWindow, now: Timestamp) -> String {
    if window.is_open(now) {
        return format!("{window}: open now; outside it the send pauses and goes on at the next opening");
    }
    match window.next_opening(now) {
        Some(opens) => format!("{window}: closed now, so the send waits until {}", window.local(opens)),
        None => {
            format!("{window}: closed now, and no opening found in the next week; the send waits for one")
        }
    }
}

/// The gate for `window` on `clock`, printing what it does.
pub(super) fn gate(window: SendWindow, clock: Arc<dyn Clock>) -> Arc<Gate> {
    Arc::new(Gate::new(window, clock, |notice| println!("{notice}")))
}

/// The summary's line, when the window held the send up.
pub(super) fn summary_line(paused: Paused) -> String {
    let times = if paused.times == 1 { "once".to_owned() } else { format!("{} times", paused.times) };
    format!("{} outside SEND_WINDOW ({times})", rounded(paused.total))
}
