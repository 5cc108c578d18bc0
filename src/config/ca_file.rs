//! `SMTP_CA_FILE`: certificate authorities the relay's certificate may chain
//! to, trusted in addition to Mozilla's roots.
//!
//! Why: an organisation that runs its own Postfix relay often gives it a
//! certificate from its own, internal authority, which no public root
//! signed. Trusting that one authority keeps every check TLS makes (the
//! chain, the dates, the relay's name) where the only other way would be
//! to switch verification off, which `bulletin` never does.
//!
//! The file is read and every certificate in it parsed here, once per run,
//! so a wrong path or a wrong file is a settings error before any
//! connection is made.

use std::fmt;
use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::{self, PemObject, SectionKind};

use super::{ConfigError, Source};

/// The setting.
const KEY: &str = "SMTP_CA_FILE";

/// The certificates of `SMTP_CA_FILE`: at least one, each a parsable X.509
/// certificate usable as a trust anchor.
#[derive(Clone)]
pub struct CaFile {
    path: PathBuf,
    certificates: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for CaFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaFile")
            .field("path", &self.path)
            .field("certificates", &self.certificates.len())
            .finish()
    }
}

impl CaFile {
    /// The file `SMTP_CA_FILE` names, read and checked, or `None` when the
    /// setting is not set. A relative path starts from the folder of the
    /// settings file that sets it.
    pub(super) fn from_source(source: &Source) -> Result<Option<Self>, ConfigError> {
        let Some((raw, origin)) = source.get(KEY) else { return Ok(None) };
        if raw.contains("-----") || raw.contains('\n') {
            return Err(ConfigError::NotShown {
                key: KEY,
                origin,
                reason: "holds a certificate, not the path of a file: put the certificate in a PEM file and \
                         set SMTP_CA_FILE to that file's path"
                    .into(),
            });
        }
        let path = source.path(KEY, &raw);
        Self::load(&path).map(Some).map_err(|reason| ConfigError::Invalid {
            key: KEY,
            value: raw,
            origin,
            reason,
        })
    }

    /// Reads the PEM file at `path`; the error says what is wrong with it.
    pub fn load(path: &Path) -> Result<Self, String> {
        let shown = path.display();
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let mut certificates = Vec::new();
        let mut private_key = false;
        for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(&bytes) {
            match section.map_err(|e| format!("{shown} is not a valid PEM file: {}", pem_problem(&e)))? {
                (SectionKind::Certificate, der) => certificates.push(CertificateDer::from(der)),
                (SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey, _) => {
                    private_key = true;
                }
                _ => {}
            }
        }
        if private_key {
            return Err(format!(
                "{shown} holds a private key: SMTP_CA_FILE wants only the certificates of the authorities to \
                 trust (-----BEGIN CERTIFICATE----- blocks); keep private keys out of it"
            ));
        }
        if certificates.is_empty() {
            let binary = std::str::from_utf8(&bytes).is_err();
            return Err(if binary {
                format!(
                    "{shown} is not PEM text (a binary DER certificate?); convert it with \
                     `openssl x509 -inform der -in {shown} -out ca.pem`"
                )
            } else {
                format!(
                    "{shown} holds no certificate: expected one or more -----BEGIN CERTIFICATE----- blocks"
                )
            });
        }
        let count = certificates.len();
        for (n, certificate) in certificates.iter().enumerate() {
            let mut store = rustls::RootCertStore::empty();
            store.add(certificate.clone()).map_err(|e| {
                format!("certificate {} of {count} in {shown} is not a usable X.509 certificate: {e}", n + 1)
            })?;
        }
        Ok(Self { path: path.to_owned(), certificates })
    }

    /// The file the certificates came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The certificates, in the file's order.
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.certificates
    }
}

/// What is wrong with a PEM file, in words (the PEM parser's own text
/// shows bytes as lists of numbers).
fn pem_problem(error: &pem::Error) -> String {
    match error {
        pem::Error::MissingSectionEnd { end_marker } => {
            format!("a block has no -----END {}----- line", String::from_utf8_lossy(end_marker))
        }
        pem::Error::IllegalSectionStart { .. } => "a -----BEGIN line is malformed".to_owned(),
        pem::Error::Base64Decode(_) => "a block's base64 text is damaged".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two self-signed CA certificates (EC P-256, valid for a century),
    /// made with `openssl req -x509`; public, no key kept.
    const CA_1: &str = "-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIUBdluGTAnRCSzm9+1YVbYr55OSY4wCgYIKoZIzj0EAwIw
IjEgMB4GA1UEAwwXYnVsbGV0aW4gdW5pdCB0ZXN0IENBIDEwIBcNMjYxMTI1MDQx
NTE2WhgPMjEyNjExMDEwNDE1MTZaMCIxIDAeBgNVBAMMF2J1bGxldGluIHVuaXQg
dGVzdCBDQSAxMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEL2ZUTJUGyPu+WXAl
2niB3Kxhq9yLk8NIoxAsv0D6CQIO/FPzRK2sLJ19qlcph8YFEZp+uAIERr6yumFR
ISKo1aNTMFEwHQYDVR0OBBYEFOYp5SZdjAfzGU5M3ZoGOaP95rGpMB8GA1UdIwQY
MBaAFOYp5SZdjAfzGU5M3ZoGOaP95rGpMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZI
zj0EAwIDRwAwRAIgT0fjhPbCG0WnAPZyMPUrAMpSkYo67t1trec4NqqtdJQCIAPr
ROnN9IukAYXghiW/Qmv8YdTay2ei9SEbUfVibIKs
-----END CERTIFICATE-----
";
    const CA_2: &str = "-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUHGNPPYM9omcZK34jhHiQO7pft8owCgYIKoZIzj0EAwIw
IjEgMB4GA1UEAwwXYnVsbGV0aW4gdW5pdCB0ZXN0IENBIDIwIBcNMjYxMTI1MDQx
NTE2WhgPMjEyNjExMDEwNDE1MTZaMCIxIDAeBgNVBAMMF2J1bGxldGluIHVuaXQg
dGVzdCBDQSAyMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE+5fhyyyXV9nsxkqy
LSny9aIUIBzZBu1QrM+29CqmlMdk/ti367LigSjlzcv41piGEk9+3Z3hEIFgozIa
F+NyLaNTMFEwHQYDVR0OBBYEFLwpt5df/456eptChF8cHu5PWPKQMB8GA1UdIwQY
MBaAFLwpt5df/456eptChF8cHu5PWPKQMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZI
zj0EAwIDSAAwRQIgAVdwjaqfy/ib0CZj0/1zxgVUsW6e+LtFA+BHTjF+mksCIQDP
3x8omvisjQRC7MdQBgH5/vAtxHoNyV3vqYKJohoMrQ==
-----END CERTIFICATE-----
";

    fn load(text: &[u8]) -> Result<CaFile, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, text).unwrap();
        CaFile::load(&path)
    }

    #[test]
    fn every_certificate_of_a_bundle_is_kept_in_order() {
        let ca = load(format!("# our authorities\n{CA_1}\n{CA_2}").as_bytes()).unwrap();
        let expected: Vec<Vec<u8>> = [CA_1, CA_2]
            .iter()
            .map(|pem| CertificateDer::from_pem_slice(pem.as_bytes()).unwrap().to_vec())
            .collect();
        let got: Vec<Vec<u8>> = ca.certificates().iter().map(|c| c.to_vec()).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn a_relative_path_in_a_settings_file_is_taken_from_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path().join("conf/.env");
        std::fs::create_dir_all(dir.path().join("conf/certs")).unwrap();
        std::fs::write(&env, "SMTP_CA_FILE=certs/ca.pem\n").unwrap();
        std::fs::write(dir.path().join("conf/certs/ca.pem"), CA_1).unwrap();
        let mut source = Source::load(&env, true).unwrap();
        source.env.clear();
        let ca = CaFile::from_source(&source).unwrap().unwrap();
        assert_eq!(ca.path(), dir.path().join("conf/certs/ca.pem"));
        assert_eq!(ca.certificates().len(), 1);
    }

    #[test]
    fn unset_means_no_extra_authority() {
        assert!(CaFile::from_source(&Source::from_pairs([])).unwrap().is_none());
    }

    #[test]
    fn a_missing_file_names_the_setting_and_the_file() {
        let err = CaFile::from_source(&Source::from_pairs([(KEY, "/nonexistent/ca.pem")])).unwrap_err();
        let err = err.to_string();
        assert!(err.starts_with("setting SMTP_CA_FILE = \"/nonexistent/ca.pem\""), "{err}");
        assert!(err.contains("cannot read /nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn a_file_without_a_certificate_is_refused() {
        let err = load(b"# nothing here\n").unwrap_err();
        assert!(err.contains("holds no certificate"), "{err}");
        let err = load(b"\x30\x82\x01\x00\xff\xfe").unwrap_err();
        assert!(err.contains("not PEM text") && err.contains("-inform der"), "{err}");
    }

    #[test]
    fn a_damaged_pem_file_is_refused_in_words() {
        let err = load(b"-----BEGIN CERTIFICATE-----\nMIIB\n").unwrap_err();
        assert!(
            err.contains("is not a valid PEM file: a block has no -----END CERTIFICATE----- line"),
            "{err}"
        );
        let err = load(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n").unwrap_err();
        assert!(err.contains("base64"), "{err}");
    }

    #[test]
    fn a_certificate_that_does_not_parse_is_named_by_its_place() {
        // Well-formed PEM whose second block holds five bytes, not X.509.
        let text = format!("{CA_1}-----BEGIN CERTIFICATE-----\nAAECAwQ=\n-----END CERTIFICATE-----\n");
        let err = load(text.as_bytes()).unwrap_err();
        assert!(
            err.contains("certificate 2 of 2 in") && err.contains("not a usable X.509 certificate"),
            "{err}"
        );
    }

    #[test]
    fn a_private_key_in_the_file_is_refused() {
        let text = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
        let err = load(text.as_bytes()).unwrap_err();
        assert!(err.contains("holds a private key"), "{err}");
        assert!(!err.contains("MC4CAQAw"), "{err}");
    }

    #[test]
    fn a_pasted_certificate_is_refused_without_echoing_it() {
        let source = Source::from_pairs([(KEY, CA_1)]);
        let err = CaFile::from_source(&source).unwrap_err().to_string();
        assert!(err.contains("SMTP_CA_FILE") && err.contains("not the path of a file"), "{err}");
        assert!(!err.contains("MIIBmjCC"), "{err}");
    }
}
