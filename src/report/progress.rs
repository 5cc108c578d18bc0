//! Progress while sending: a bar on a terminal, a plain line every few
//! seconds elsewhere (a log file, CI), when something changed (a send
//! paused by its window for a weekend writes nothing meanwhile).

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::Count;
use crate::deliver::Counts;

/// A progress bar on a terminal, a line every few seconds elsewhere.
pub struct Progress {
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// Starts showing progress of `total` messages; shows nothing when `quiet`.
    pub fn start(total: u64, quiet: bool, counts: Arc<Counts>) -> Self {
        let stop = CancellationToken::new();
        if quiet {
            return Self { stop, task: None };
        }
        let on_terminal = std::io::stderr().is_terminal();
        let token = stop.clone();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let bar = on_terminal.then(|| {
                let bar = indicatif::ProgressBar::new(total);
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{bar:30} {msg} {per_sec} eta {eta}")
                        .expect("template is valid"),
                );
                bar
            });
            let tick = if on_terminal { Duration::from_millis(200) } else { Duration::from_secs(5) };
            let mut last_line = None;
            loop {
                let stopping = tokio::select! {
                    () = token.cancelled() => true,
                    () = tokio::time::sleep(tick) => false,
                };
                let count = Count {
                    sent: counts.sent.load(Ordering::SeqCst),
                    failed: counts.failed.load(Ordering::SeqCst),
                    // Unsubscribed during the send: done with all the same.
                    held_back: counts.suppressed.load(Ordering::SeqCst),
                    of: total,
                };
                match &bar {
                    Some(bar) => {
                        bar.set_position(count.sent + count.failed + count.held_back);
                        bar.set_message(count.to_string());
                    }
                    None if !stopping && last_line != Some(count) => {
                        last_line = Some(count);
                        let rate = count.sent as f64 / started.elapsed().as_secs_f64().max(0.001);
                        eprintln!("progress: {count}, {rate:.1}/s");
                    }
                    None => {}
                }
                if stopping {
                    if let Some(bar) = bar {
                        bar.finish_and_clear();
                    }
                    return;
                }
            }
        });
        Self { stop, task: Some(task) }
    }

    /// Stops and clears the display.
    pub async fn finish(self) {
        self.stop.cancel();
        if let Some(task) = self.task {
            let _ = task.await;
        }
    }
}
