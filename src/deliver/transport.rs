//! The seam between the send loop and whatever carries a message on: a
//! [`Transport`] takes one message at a time and answers with the relay's
//! [`Reply`] or a [`Failure`] that says whether trying again could help.
//! [`super::smtp::Connection`] is the real one; the send loop's tests use a
//! scripted one.

use std::future::Future;

use lettre::address::Envelope;

use crate::domain::{MessageId, Reply};
use crate::journal::Recipient;

/// Carries messages, one after another, to where they are delivered.
pub trait Transport: Send + 'static {
    /// Hands one message over; the reply usually holds the relay's queue id.
    fn submit(
        &mut self,
        envelope: &Envelope,
        bytes: &[u8],
    ) -> impl Future<Output = Result<Reply, Failure>> + Send;

    /// Ends the conversation politely (SMTP's QUIT), if one is open.
    fn close(self) -> impl Future<Output = ()> + Send;

    /// Ends the conversation for a long wait (the send window is closed),
    /// so nothing is held open through it; the next [`Transport::submit`]
    /// opens a new one. Does nothing unless the transport holds one.
    fn rest(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// What the relay said when it did not take a message, or why it could not
/// be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reply}")]
pub struct Failure {
    /// Worth another try later (4xx, a dropped connection, a timeout).
    pub transient: bool,
    pub reply: Reply,
}

impl Failure {
    /// A failure that another try may mend.
    pub fn transient(reply: Reply) -> Self {
        Self { transient: true, reply }
    }

    /// A failure that another try would only repeat.
    pub fn permanent(reply: Reply) -> Self {
        Self { transient: false, reply }
    }
}

/// One message ready to hand over.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub recipient: Recipient,
    pub message_id: MessageId,
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
}
