//! The relay: where messages are submitted, over connections of our own
//! (one per sender, see [`Connection`]), and the one question delivery asks
//! of each failure: try again, or give up?
//!
//! lettre speaks SMTP on each session; we open the sockets, so that
//! Nagle's algorithm is off (see `stream`), and keep the sessions, so that
//! each sender reuses its own without lettre's pool checking it with a NOOP
//! before every message.

mod session;
mod stream;
mod trust;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::TlsParameters;
use lettre::transport::smtp::extension::ClientId;

use super::transport::{Failure, Transport};
use crate::config::{Security, SmtpSettings};
use crate::domain::{Reply, ReplyCode};
use session::{Refused, Session};
use stream::ImplicitTls;
use trust::Trust;

/// How to reach one relay. Cheap to clone; opens nothing by itself.
#[derive(Clone)]
pub struct Relay {
    endpoint: Arc<Endpoint>,
}

/// Everything a session needs to open.
struct Endpoint {
    host: String,
    port: u16,
    implicit_tls: Option<ImplicitTls>,
    starttls: Option<TlsParameters>,
    /// Whose certificates the relay may present, and what to say when its
    /// own is refused.
    trust: Trust,
    credentials: Option<Credentials>,
    /// The EHLO name: this machine's host name, as lettre gives it.
    hello: ClientId,
    /// For connecting, for the TLS handshake and for each command.
    timeout: Duration,
    name: String,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay").field("name", &self.endpoint.name).finish()
    }
}

impl Failure {
    fn from_lettre(error: &lettre::transport::smtp::Error) -> Self {
        // A reply starting 5 is final; so is a message lettre itself refuses
        // to send. Everything else (4xx, network, TLS, timeouts) may pass.
        let transient = !(error.is_permanent() || error.is_client());
        let code = error.status().and_then(|code| ReplyCode::new(code.to_string().parse().ok()?));
        Self { transient, reply: Reply::coded(code, describe(error)) }
    }
}

/// lettre's error text, with the relay's reply as it was given.
fn describe(error: &lettre::transport::smtp::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    // lettre wraps a connection error in another: say it once.
    let mut parts: Vec<&str> = text.split(": ").collect();
    parts.dedup();
    parts.join(": ")
}

/// The relay could not be set up from the settings.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up TLS for {host}: {reason}")]
pub struct RelayError {
    host: String,
    reason: String,
}

impl Relay {
    /// The relay the settings name. Nothing connects until a
    /// [`Connection`] is used or [`Relay::check`] is called.
    pub fn new(settings: &SmtpSettings) -> Result<Self, RelayError> {
        let host = settings.host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let refused = |reason: String| RelayError { host: host.clone(), reason };
        let trust = Trust::new(settings.ca_file.as_ref());
        let (implicit_tls, starttls) = match settings.security {
            Security::Tls => {
                let roots = trust.roots().map_err(refused)?;
                (Some(ImplicitTls::new(&host, roots).map_err(refused)?), None)
            }
            Security::StartTls => (None, Some(trust.starttls(&host).map_err(refused)?)),
            Security::None => (None, None),
        };
        let credentials = settings
            .credentials
            .as_ref()
            .map(|c| Credentials::new(c.username.clone(), c.password.expose_secret().to_owned()));
        let endpoint = Endpoint {
            port: settings.port,
            implicit_tls,
            starttls,
            trust,
            credentials,
            hello: ClientId::default(),
            timeout: settings.timeout,
            name: format!("{}:{} ({})", settings.host, settings.port, settings.security),
            host,
        };
        Ok(Self { endpoint: Arc::new(endpoint) })
    }

    /// `host:port (security)`, for messages.
    pub fn name(&self) -> &str {
        &self.endpoint.name
    }

    /// A connection that opens its session when first used.
    pub fn connection(&self) -> Connection {
        Connection { relay: self.clone(), session: None }
    }

    /// A connection with its session open: connected, TLS negotiated and
    /// logged in. This is the check a send makes before it starts.
    pub async fn connect(&self) -> Result<Connection, Failure> {
        let session = Session::open(&self.endpoint).await?;
        Ok(Connection { relay: self.clone(), session: Some(session) })
    }

    /// Connects, negotiates TLS, logs in and says NOOP and QUIT, sending
    /// nothing.
    pub async fn check(&self) -> Result<(), Failure> {
        let mut session = Session::open(&self.endpoint).await?;
        let answered = session.noop().await;
        session.quit().await;
        answered
    }
}

/// One connection to the relay, owned by one sender: its session opens
/// when first needed and again after the relay closes it or a reply goes
/// astray. Messages go one after another; a refused message leaves the
/// session open for the next (RSET).
pub struct Connection {
    relay: Relay,
    session: Option<Session>,
}

impl Connection {
    /// Hands one message over; returns the relay's reply (which usually
    /// holds its queue id).
    pub async fn submit(&mut self, envelope: &Envelope, bytes: &[u8]) -> Result<Reply, Failure> {
        let mut retried_stale = false;
        loop {
            let session = match &mut self.session {
                Some(session) => session,
                None => self.session.insert(Session::open(&self.relay.endpoint).await?),
            };
            let result = session.send(envelope, bytes).await;
            if !session.usable() {
                self.session = None;
            }
            match result {
                Ok(reply) => return Ok(reply),
                // The relay closed an idle session (a timeout of its own, a
                // limit of messages per session): the message never left.
                Err(Refused { stale: true, .. }) if !retried_stale => retried_stale = true,
                Err(Refused { failure, .. }) => return Err(failure),
            }
        }
    }

    /// Says QUIT and closes the session, if one is open.
    pub async fn close(mut self) {
        if let Some(session) = self.session.take() {
            session.quit().await;
        }
    }
}

impl Transport for Connection {
    async fn submit(&mut self, envelope: &Envelope, bytes: &[u8]) -> Result<Reply, Failure> {
        Connection::submit(self, envelope, bytes).await
    }

    async fn rest(&mut self) {
        if let Some(session) = self.session.take() {
            session.quit().await;
        }
    }

    async fn close(self) {
        Connection::close(self).await;
    }
}
