//! Which certificates the relay may present: one chaining to Mozilla's
//! roots (`webpki-roots`) or to an authority of `SMTP_CA_FILE`, and naming
//! the host we connect to. The same roots serve implicit TLS (our own
//! rustls configuration, see `stream`) and STARTTLS (lettre's). Nothing
//! here can switch verification off.
//!
//! And, when the relay's certificate is refused, what to do about it.

use std::error::Error;
use std::path::PathBuf;

use lettre::transport::smtp::client::{Certificate, CertificateStore, TlsParameters};
use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, RootCertStore};

use crate::config::CaFile;

/// The authorities the relay's certificate may chain to.
pub(super) struct Trust {
    /// `SMTP_CA_FILE`'s certificates, trusted besides Mozilla's roots.
    extra: Vec<CertificateDer<'static>>,
    /// The file they came from, for messages.
    ca_file: Option<PathBuf>,
}

impl Trust {
    pub(super) fn new(ca_file: Option<&CaFile>) -> Self {
        Self {
            extra: ca_file.map(|ca| ca.certificates().to_vec()).unwrap_or_default(),
            ca_file: ca_file.map(|ca| ca.path().to_owned()),
        }
    }

    /// Mozilla's roots and the extra authorities, for implicit TLS.
    pub(super) fn roots(&self) -> Result<RootCertStore, String> {
        let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        for certificate in &self.extra {
            roots.add(certificate.clone()).map_err(|e| self.unusable(&e))?;
        }
        Ok(roots)
    }

    /// lettre's TLS settings for STARTTLS with `host`: the same roots.
    pub(super) fn starttls(&self, host: &str) -> Result<TlsParameters, String> {
        let mut builder =
            TlsParameters::builder(host.to_owned()).certificate_store(CertificateStore::WebpkiRoots);
        for certificate in &self.extra {
            let certificate = Certificate::from_der(certificate.to_vec()).map_err(|e| self.unusable(&e))?;
            builder = builder.add_root_certificate(certificate);
        }
        builder.build().map_err(|e| super::describe(&e))
    }

    fn unusable(&self, error: &dyn std::fmt::Display) -> String {
        let file = self.ca_file.as_ref().map_or_else(String::new, |p| format!(" in {}", p.display()));
        format!("a certificate{file} cannot be trusted: {error}")
    }

    /// `text`, the account of a failure, with what to do when `error` is
    /// the relay's certificate being refused for a reason the settings can
    /// fix.
    pub(super) fn explain(&self, text: String, error: &(dyn Error + 'static)) -> String {
        let hint = match refused_certificate(error) {
            Some(CertificateError::UnknownIssuer) => match &self.ca_file {
                None => "the relay's certificate does not chain to an authority bulletin trusts, Mozilla's \
                         roots: if it comes from your organisation's own authority, set SMTP_CA_FILE to that \
                         authority's certificate (a PEM file)"
                    .to_owned(),
                Some(path) => format!(
                    "the relay's certificate chains neither to Mozilla's roots nor to an authority in \
                     SMTP_CA_FILE ({})",
                    path.display()
                ),
            },
            Some(CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }) => {
                "set SMTP_HOST to a name the relay's certificate holds".to_owned()
            }
            _ => return text,
        };
        format!("{text}; {hint}")
    }
}

/// The rustls verdict on the relay's certificate somewhere in `error`'s
/// chain (rustls errors travel inside `io::Error`s).
fn refused_certificate<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a CertificateError> {
    let mut next = Some(error);
    while let Some(error) = next {
        let inner = match error.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|e| e as &(dyn Error + 'static)),
            None => Some(error),
        };
        if let Some(rustls::Error::InvalidCertificate(refusal)) =
            inner.and_then(|e| e.downcast_ref::<rustls::Error>())
        {
            return Some(refusal);
        }
        next = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io_wrapped(error: rustls::Error) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, error)
    }

    #[test]
    fn an_unknown_authority_points_to_smtp_ca_file() {
        let trust = Trust::new(None);
        let error = io_wrapped(CertificateError::UnknownIssuer.into());
        let text = trust.explain("TLS failed".to_owned(), &error);
        assert!(text.starts_with("TLS failed; ") && text.contains("set SMTP_CA_FILE"), "{text}");
    }

    #[test]
    fn a_certificate_for_another_name_points_to_smtp_host() {
        let trust = Trust::new(None);
        let error = io_wrapped(CertificateError::NotValidForName.into());
        assert!(trust.explain("x".to_owned(), &error).contains("set SMTP_HOST"));
    }

    #[test]
    fn other_failures_are_left_as_they_are() {
        let trust = Trust::new(None);
        let error = io_wrapped(CertificateError::BadSignature.into());
        assert_eq!(trust.explain("x".to_owned(), &error), "x");
        let error = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(trust.explain("x".to_owned(), &error), "x");
    }
}
