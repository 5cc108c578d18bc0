//! Delivery: where finished messages go. A dry run writes them to files for
//! a person to look at; nothing here opens a network connection.

pub mod early_stop;
mod files;
pub mod rate;
pub mod smtp;

pub(crate) use files::prepare_preview_dir;
pub use files::{FileOutbox, OutboxError, file_stem};
