//! One HTTPS `GET` to an allowed host (SNS's signing certificate, its
//! subscription confirmation), with Mozilla's roots and the authorities of
//! `SNS_CERT_CA_FILE`, a time limit and a size limit. hyper's own client
//! connection over tokio-rustls: the same TLS stack the relay uses.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;

/// The longest one fetch may take, from connecting to the last byte.
pub const TIME_LIMIT: Duration = Duration::from_secs(10);

/// The TLS settings for the fetches: Mozilla's roots and `extra`.
pub fn tls(extra: &[rustls_pki_types::CertificateDer<'static>]) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    for certificate in extra {
        roots.add(certificate.clone())?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The body of `url` (https) if it answers 200 with at most `limit` bytes.
pub async fn get(url: &url::Url, tls: Arc<rustls::ClientConfig>, limit: usize) -> Result<Vec<u8>, String> {
    match tokio::time::timeout(TIME_LIMIT, fetch(url, tls, limit)).await {
        Ok(fetched) => fetched,
        Err(_) => Err(format!("no answer within {} s", TIME_LIMIT.as_secs())),
    }
}

async fn fetch(url: &url::Url, tls: Arc<rustls::ClientConfig>, limit: usize) -> Result<Vec<u8>, String> {
    let server_name = match url.host() {
        Some(url::Host::Domain(name)) => ServerName::try_from(name.to_owned()).map_err(|e| e.to_string())?,
        Some(url::Host::Ipv4(ip)) => ServerName::IpAddress(IpAddr::V4(ip).into()),
        Some(url::Host::Ipv6(ip)) => ServerName::IpAddress(IpAddr::V6(ip).into()),
        None => return Err("no host".into()),
    };
    let port = url.port_or_known_default().ok_or("no port")?;
    let host = url.host_str().ok_or("no host")?;
    let tcp = tokio::net::TcpStream::connect(format!("{host}:{port}"))
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(server_name, tcp)
        .await
        .map_err(|e| format!("TLS failed: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP failed: {e}"))?;
    tokio::spawn(connection);
    let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let request = axum::http::Request::get(path)
        .header(axum::http::header::HOST, url.authority())
        .body(axum::body::Body::empty())
        .map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| format!("HTTP failed: {e}"))?;
    if response.status() != axum::http::StatusCode::OK {
        return Err(format!("answered {}", response.status()));
    }
    let body = axum::body::to_bytes(axum::body::Body::new(response.into_body()), limit)
        .await
        .map_err(|_| format!("the answer is longer than {limit} bytes, or broken off"))?;
    Ok(body.to_vec())
}
