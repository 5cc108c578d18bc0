//! The byte stream under an SMTP session: a TCP connection with Nagle's
//! algorithm off, wrapped in TLS from the first byte when the relay wants
//! implicit TLS. STARTTLS is negotiated later, by the session.
//!
//! Why our own socket: lettre 0.11 sends a message's body and its closing
//! `CRLF . CRLF` as two writes on a socket that keeps Nagle's algorithm on,
//! so the five closing bytes wait for the relay to acknowledge the body,
//! which it delays by 40 ms (Linux) to 200 ms: one connection then carries
//! about 22 messages a second. With `TCP_NODELAY` the same connection
//! carries thousands.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use lettre::transport::smtp::client::AsyncTokioStream;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Implicit TLS settings: whom the certificate must name, the roots it may
/// chain to (see `trust`), and the protocol versions and provider lettre
/// itself uses (TLS 1.2 and 1.3, `ring`).
#[derive(Clone)]
pub(super) struct ImplicitTls {
    connector: TlsConnector,
    server_name: ServerName<'static>,
}

impl ImplicitTls {
    pub(super) fn new(host: &str, roots: rustls::RootCertStore) -> Result<Self, String> {
        let server_name = ServerName::try_from(host.to_owned())
            .map_err(|_| format!("{host} is neither a host name nor an IP address"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(rustls::ALL_VERSIONS)
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self { connector: TlsConnector::from(Arc::new(config)), server_name })
    }
}

/// Why no stream could be opened.
#[derive(Debug, thiserror::Error)]
pub(super) enum StreamError {
    #[error("cannot find {host}")]
    Resolve { host: String, source: io::Error },
    #[error("{host} has no address to connect to")]
    NoAddress { host: String },
    #[error("cannot connect to {address}")]
    Connect { address: SocketAddr, source: io::Error },
    #[error("no answer from {address} within {timeout:?}")]
    ConnectTimeout { address: SocketAddr, timeout: Duration },
    #[error("TLS with {address} failed")]
    Tls { address: SocketAddr, source: io::Error },
    #[error("no TLS handshake with {address} within {timeout:?}")]
    TlsTimeout { address: SocketAddr, timeout: Duration },
}

/// Connects to `host:port`, trying each of its addresses in turn, each
/// within `timeout`; then TLS, if `tls` says so.
pub(super) async fn open(
    host: &str,
    port: u16,
    tls: Option<&ImplicitTls>,
    timeout: Duration,
) -> Result<Box<dyn AsyncTokioStream>, StreamError> {
    let resolved = tokio::time::timeout(timeout, tokio::net::lookup_host((host, port)))
        .await
        .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "no answer from DNS")))
        .map_err(|source| StreamError::Resolve { host: host.to_owned(), source })?;
    let mut last = StreamError::NoAddress { host: host.to_owned() };
    for address in resolved {
        let tcp = match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(source)) => {
                last = StreamError::Connect { address, source };
                continue;
            }
            Err(_) => {
                last = StreamError::ConnectTimeout { address, timeout };
                continue;
            }
        };
        tcp.set_nodelay(true).map_err(|source| StreamError::Connect { address, source })?;
        let Some(tls) = tls else { return Ok(Box::new(tcp)) };
        let handshake = tls.connector.connect(tls.server_name.clone(), tcp);
        return match tokio::time::timeout(timeout, handshake).await {
            Ok(Ok(stream)) => Ok(Box::new(Tls(stream))),
            Ok(Err(source)) => Err(StreamError::Tls { address, source }),
            Err(_) => Err(StreamError::TlsTimeout { address, timeout }),
        };
    }
    Err(last)
}

/// A TLS stream in the shape lettre's session takes.
#[derive(Debug)]
struct Tls(TlsStream<TcpStream>);

impl AsyncTokioStream for Tls {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl AsyncRead for Tls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tls {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}
