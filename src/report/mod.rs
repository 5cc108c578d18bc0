//! Telling a person how a send is going and how it went: the progress
//! display while it runs, read from the senders' [`crate::deliver::Counts`].

mod progress;

pub use progress::Progress;
