//! One connection to the bounce mailbox: TCP, TLS (from the start, or
//! after STARTTLS) verified against Mozilla's roots and
//! `BOUNCE_IMAP_CA_FILE`, and the login. Every step has a time limit, so a
//! server that stops answering ends the round instead of holding it.

use std::sync::Arc;
use std::time::Duration;

use async_imap::Session;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::config::{ImapSecurity, ImapSettings};

/// How long one step (connecting, the handshake, one command) may take.
pub(super) const STEP: Duration = Duration::from_secs(60);

/// A logged-in session over TLS.
pub(super) type Imap = Session<TlsStream<TcpStream>>;

/// Why a round could not start.
#[derive(Debug, thiserror::Error)]
pub(super) enum SessionError {
    #[error("cannot connect to {host}:{port}")]
    Connect { host: String, port: u16, source: std::io::Error },
    #[error("{what} with {host} took longer than {STEP:?}")]
    Timeout { host: String, what: &'static str },
    #[error("the TLS settings for {host} are unusable: {why}")]
    Tls { host: String, why: String },
    #[error("TLS with {host} failed")]
    Handshake { host: String, source: std::io::Error },
    #[error("{host} refused STARTTLS")]
    StartTls { host: String, source: async_imap::error::Error },
    #[error("{host} refused the login of {user}")]
    Login { host: String, user: String, source: async_imap::error::Error },
}

/// Connects and logs in.
pub(super) async fn open(settings: &ImapSettings) -> Result<Imap, SessionError> {
    let host = settings.host.clone();
    let timeout = |what: &'static str| {
        let host = host.clone();
        move |_| SessionError::Timeout { host, what }
    };
    let connector = connector(settings)?;
    let name = ServerName::try_from(host.clone())
        .map_err(|_| SessionError::Tls { host: host.clone(), why: "not a host name or IP address".into() })?;
    let tcp = tokio::time::timeout(STEP, TcpStream::connect((host.as_str(), settings.port)))
        .await
        .map_err(timeout("connecting"))?
        .map_err(|source| SessionError::Connect { host: host.clone(), port: settings.port, source })?;
    let _ = tcp.set_nodelay(true);
    let tcp = match settings.security {
        ImapSecurity::Tls => tcp,
        ImapSecurity::StartTls => {
            let mut plain = async_imap::Client::new(tcp);
            let starttls = async {
                plain.read_response().await?;
                plain.run_command_and_check_ok("STARTTLS", None).await
            };
            tokio::time::timeout(STEP, starttls)
                .await
                .map_err(timeout("STARTTLS"))?
                .map_err(|source| SessionError::StartTls { host: host.clone(), source })?;
            plain.into_inner()
        }
    };
    let tls = tokio::time::timeout(STEP, connector.connect(name, tcp))
        .await
        .map_err(timeout("the TLS handshake"))?
        .map_err(|source| SessionError::Handshake { host: host.clone(), source })?;
    let mut client = async_imap::Client::new(tls);
    let login = async {
        if settings.security == ImapSecurity::Tls {
            // The greeting; after STARTTLS there is none.
            client.read_response().await?;
        }
        client.login(&settings.user, settings.password.expose_secret()).await.map_err(|(e, _)| e)
    };
    let login_error =
        |source| SessionError::Login { host: host.clone(), user: settings.user.clone(), source };
    tokio::time::timeout(STEP, login).await.map_err(timeout("the login"))?.map_err(login_error)
}

/// TLS 1.2 and 1.3 with `ring`, as the relay's connections, trusting
/// Mozilla's roots and `BOUNCE_IMAP_CA_FILE`'s authorities.
fn connector(settings: &ImapSettings) -> Result<TlsConnector, SessionError> {
    let unusable = |why: String| SessionError::Tls { host: settings.host.clone(), why };
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    for certificate in settings.ca_file.iter().flat_map(|ca| ca.certificates()) {
        roots.add(certificate.clone()).map_err(|e| unusable(format!("BOUNCE_IMAP_CA_FILE: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| unusable(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
