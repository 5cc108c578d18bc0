//! Bounces: why a message was not delivered and what that means for the
//! address, from a relay's reply during a send or from a report that
//! arrived later by email.
//!
//! [`classify`] turns status codes and words into a [`Class`] (hard, soft,
//! blocked, unknown); [`notice`] reads one message from the bounce mailbox
//! (a delivery status notification, a bounce in words, a complaint, or
//! something else); [`mailbox`] finds those messages in a Maildir, an mbox
//! file or `.eml` files; [`ledger`] remembers what was imported so that
//! nothing counts twice and soft bounces can be counted in a row;
//! [`intake`] is the one path from a believed report (the import's, or a
//! relay webhook's) to the ledger and the suppression list, which
//! [`crate::subscribers::SuppressionFile`] writes.

pub mod classify;
pub mod fields;
pub mod intake;
pub mod ledger;
pub mod mailbox;
pub mod notice;
pub mod origin;
mod phrases;
pub mod streak;
pub mod text;

pub use crate::domain::{ReplyCode, StatusCode};
pub use classify::{Blame, Cause, Class, Verdict, classify, classify_reply, classify_text};

#[cfg(test)]
mod tests;
