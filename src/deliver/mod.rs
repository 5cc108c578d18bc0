//! Delivery: finished messages carried on. The send loop ([`senders`])
//! takes messages from the [`feed`] and hands each to a [`Transport`] (the
//! relay over [`smtp`]) at one [`pace`] that the relay's throttling slows,
//! with retries, writing every
//! step to the journal first, and waiting at the [`Gate`] while the send
//! window is closed; [`plan`] counts who a run will send to. A
//! dry run's messages go to [`FileOutbox`] files for a person to look at,
//! in an [`crate::output_folder::OutputFolder`] that never writes outside itself.

mod batches;
pub mod early_stop;
mod feed;
mod files;
mod gate;
mod limiter;
mod pace;
pub mod plan;
mod run;
mod senders;
pub mod smtp;
mod transport;

pub use batches::{Flow, Next, make_in_order};
pub use feed::{FeedSource, Read, feed};
pub use files::{FileOutbox, OutboxError, file_stem};
pub use gate::{Gate, Notice, Paused, rounded};
pub use pace::Slowdowns;
pub use run::{Feeding, run};
pub use senders::{Counts, Finished, Halt, Policy, send_all};
pub use transport::{Failure, Outgoing, Transport};
