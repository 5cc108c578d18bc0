//! Telling a person how a send is going and how it went: the progress
//! display while it runs, read from the senders' [`crate::deliver::Counts`],
//! and the [`Count`] both it and the summary say; [`staff`], the report
//! emailed to staff after a send.

mod count;
mod progress;
pub mod staff;
mod terminal;

pub use count::Count;
pub use progress::Progress;
pub use terminal::{colour, error_message, printable};

#[cfg(test)]
mod error_texts_tests;
