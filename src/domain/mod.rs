//! The values the pipeline passes along, each of which can only hold what
//! is valid: an [`EmailAddress`], a [`MessageId`], an SMTP [`ReplyCode`] and
//! enhanced [`StatusCode`], a bulletin's [`Fingerprint`] and
//! [`Shingles`], a [`Timestamp`]
//! and the one [`Clock`] that makes them; counts in words ([`counted`]);
//! and [`chain`], how any error is said with its causes. Nothing here reads
//! files, opens sockets or knows a command.

mod chain;
mod colour;
mod counted;
mod email;
mod fingerprint;
mod limit;
mod message_id;
mod rate;
mod reply;
mod shingles;
mod status;
mod time;

pub use chain::chain;
pub use colour::Colour;
pub use counted::counted;
pub use email::{AddressProblem, EmailAddress, EmailKey};
pub use fingerprint::Fingerprint;
pub use limit::Limit;
pub use message_id::MessageId;
pub use rate::{BadRate, DEFAULT_RATE, Period, Rate, RateLimit};
pub use reply::Reply;
pub use shingles::{NEAR_COPY_PERCENT, Shingles};
pub use status::{ReplyCode, StatusCode};
pub use time::{Clock, SystemClock, Timestamp};
