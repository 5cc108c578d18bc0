//! The relay: lettre's pooled async SMTP transport over rustls, and the one
//! question delivery asks of each failure: try again, or give up?

use std::fmt;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::{self, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{Security, SmtpSettings};

/// A connection pool to one relay.
#[derive(Clone)]
pub struct Relay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    name: String,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay").field("name", &self.name).finish()
    }
}

/// What the relay said, or why it could not be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct Failure {
    /// Worth another try later (4xx, a dropped connection, a timeout).
    pub transient: bool,
    /// The relay's reply, or what went wrong on the way to it.
    pub text: String,
}

impl Failure {
    fn from_lettre(error: &smtp::Error) -> Self {
        // A reply starting 5 is final; so is a message lettre itself refuses
        // to send. Everything else (4xx, network, TLS, timeouts) may pass.
        let transient = !(error.is_permanent() || error.is_client());
        Self { transient, text: describe(error) }
    }
}

/// lettre's error text, with the relay's reply as it was given.
fn describe(error: &smtp::Error) -> String {
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
    text
}

/// The relay could not be set up from the settings.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up TLS for {host}: {source}")]
pub struct RelayError {
    host: String,
    source: smtp::Error,
}

impl Relay {
    /// A pool of up to `settings.concurrency` connections. Nothing connects
    /// until the first message or [`Relay::check`].
    pub fn new(settings: &SmtpSettings) -> Result<Self, RelayError> {
        let host = settings.host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let tls = |host: &str| {
            TlsParameters::new(host.to_owned()).map_err(|source| RelayError { host: host.to_owned(), source })
        };
        let tls = match settings.security {
            Security::Tls => Tls::Wrapper(tls(&host)?),
            Security::StartTls => Tls::Required(tls(&host)?),
            Security::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
            .port(settings.port)
            .tls(tls)
            .timeout(Some(settings.timeout))
            .pool_config(PoolConfig::new().max_size(settings.concurrency as u32));
        if let Some(credentials) = &settings.credentials {
            builder = builder.credentials(Credentials::new(
                credentials.username.clone(),
                credentials.password.expose().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            name: format!("{}:{} ({})", settings.host, settings.port, settings.security),
        })
    }

    /// `host:port (security)`, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connects, negotiates TLS and logs in, sending nothing.
    pub async fn check(&self) -> Result<(), Failure> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Failure { transient: true, text: "the relay did not answer NOOP".to_owned() }),
            Err(e) => Err(Failure::from_lettre(&e)),
        }
    }

    /// Hands one message over; returns the relay's reply (which usually
    /// holds its queue id).
    pub async fn submit(&self, envelope: &Envelope, bytes: &[u8]) -> Result<String, Failure> {
        // lettre ends DATA with CRLF . CRLF itself; the message's own final
        // line break is that CRLF, so the relay gets exactly `bytes`.
        let bytes = bytes.strip_suffix(b"\r\n").unwrap_or(bytes);
        match self.transport.send_raw(envelope, bytes).await {
            Ok(response) => {
                let code = response.code();
                let text: Vec<&str> = response.message().collect();
                Ok(format!("{code} {}", text.join(" ")))
            }
            Err(e) => Err(Failure::from_lettre(&e)),
        }
    }

    /// Closes the pooled connections politely.
    pub async fn shutdown(&self) {
        self.transport.shutdown().await;
    }
}
