//! Telling a person how a send is going and how it went: the progress
//! display while it runs, read from the senders' [`crate::deliver::Counts`].

mod progress;
mod terminal;

pub use progress::Progress;
pub use terminal::{colour, error_message, printable};
