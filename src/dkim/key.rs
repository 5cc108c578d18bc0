//! The DKIM private key: read once from a PEM file, checked (an RSA key of
//! at least 2048 bits or an Ed25519 key), and never shown.
//!
//! Error messages name the file and say what kind of file it is, but never
//! quote it: a key file's bytes are the secret.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine;
use ring::signature::KeyPair;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, PrivateKeyInfo};
use rsa::traits::PublicKeyParts;
use rustls_pki_types::{PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, pem::PemObject};
use zeroize::Zeroizing;

/// The smallest RSA key accepted: RFC 8301 makes 1024 bits the floor for
/// verifiers, and receivers such as Gmail want 2048.
pub const MIN_RSA_BITS: usize = 2048;

/// The longest RSA key accepted: RFC 8301 asks verifiers to handle keys up
/// to 4096 bits, so a longer one may not verify everywhere.
pub const MAX_RSA_BITS: usize = 4096;

/// No PEM key is anywhere near this long; a larger file is the wrong file.
const MAX_FILE_BYTES: u64 = 64 * 1024;

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_ED25519: &str = "1.3.101.112";

/// What kind of key signs, as the `k=` tag of the DNS record names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `rsa-sha256` with a modulus of `bits` bits.
    Rsa { bits: usize },
    /// `ed25519-sha256` (RFC 8463).
    Ed25519,
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rsa { bits } => write!(f, "RSA {bits} bits"),
            Self::Ed25519 => f.write_str("Ed25519"),
        }
    }
}

/// A checked private key and its public half. `Debug` shows the algorithm
/// only.
pub struct PrivateKey {
    inner: Inner,
    /// The `p=` value of the DNS record: the DER SubjectPublicKeyInfo for
    /// RSA (RFC 6376 section 3.6.1), the raw 32 bytes for Ed25519
    /// (RFC 8463 section 4).
    public: Vec<u8>,
    /// Where it was read from, for messages.
    path: PathBuf,
    /// The file can be read by other users.
    pub(super) shared_file: bool,
}

enum Inner {
    /// Signed with ring, twice as fast as the `rsa` crate (see
    /// BENCHMARKS.md); the modulus is `usize` bits.
    Rsa(ring::rsa::KeyPair, usize),
    Ed25519(ring::signature::Ed25519KeyPair),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm())
            .field("path", &self.path)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// Why a key file cannot be used. Each message names the file and never
/// quotes it.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read {}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is {size} bytes, too large to be a key file", path.display())]
    TooLarge { path: PathBuf, size: u64 },
    #[error(
        "{} is not a PEM key file (no -----BEGIN ...----- line); make one with `openssl genpkey` (see the user guide, Deliverability, \"DKIM\")",
        path.display()
    )]
    NotPem { path: PathBuf },
    #[error("{} holds {what}, not a private key; DKIM_PRIVATE_KEY must name the private key file", path.display())]
    NotPrivate { path: PathBuf, what: &'static str },
    #[error(
        "{} is encrypted with a passphrase; bulletin needs it unencrypted: \
         `openssl pkey -in {} -out dkim-private.pem`, then keep that file private",
        path.display(),
        path.display()
    )]
    Encrypted { path: PathBuf },
    #[error(
        "{} is an OpenSSH key (from ssh-keygen); DKIM needs a PEM key: make one with `openssl genpkey` (see the user guide, Deliverability, \"DKIM\")",
        path.display()
    )]
    OpenSsh { path: PathBuf },
    #[error("{} holds {what}; DKIM signs with RSA (2048 bits or more) or Ed25519", path.display())]
    Unsupported { path: PathBuf, what: String },
    #[error("{} holds a {kind} that cannot be decoded ({reason})", path.display())]
    Malformed { path: PathBuf, kind: &'static str, reason: String },
    #[error(
        "{} holds an RSA key of {bits} bits; DKIM needs {MIN_RSA_BITS} or more (RFC 8301; many receivers \
         ignore shorter keys): make a new one with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`",
        path.display()
    )]
    TooShort { path: PathBuf, bits: usize },
    #[error(
        "{} holds an RSA key of {bits} bits; receivers need only verify keys of up to {MAX_RSA_BITS} bits \
         (RFC 8301), so DKIM needs 2048 to {MAX_RSA_BITS}",
        path.display()
    )]
    TooLong { path: PathBuf, bits: usize },
}

impl PrivateKey {
    /// Reads and checks the key in `path`: PKCS #8 (`BEGIN PRIVATE KEY`, as
    /// `openssl genpkey` writes) holding RSA or Ed25519, or PKCS #1
    /// (`BEGIN RSA PRIVATE KEY`).
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let pem = read_small(path)?;
        let der = decode_pem(path, &pem)?;
        let shared_file = is_shared(path);
        let malformed = |kind, reason: String| KeyError::Malformed { path: path.to_owned(), kind, reason };
        let (inner, public) = match der {
            Der::Pkcs1(der) => {
                let kind = "PKCS #1 RSA key";
                let rsa =
                    rsa::RsaPrivateKey::from_pkcs1_der(&der).map_err(|e| malformed(kind, e.to_string()))?;
                let (bits, public) = check_rsa(path, &rsa)?;
                let key = ring::rsa::KeyPair::from_der(&der).map_err(|e| malformed(kind, e.to_string()))?;
                (Inner::Rsa(key, bits), public)
            }
            Der::Pkcs8(der) => {
                let info = PrivateKeyInfo::try_from(der.as_slice())
                    .map_err(|e| malformed("PKCS #8 key", e.to_string()))?;
                match info.algorithm.oid.to_string().as_str() {
                    OID_RSA => {
                        let kind = "PKCS #8 RSA key";
                        let rsa = rsa::RsaPrivateKey::from_pkcs8_der(&der)
                            .map_err(|e| malformed(kind, e.to_string()))?;
                        let (bits, public) = check_rsa(path, &rsa)?;
                        let key = ring::rsa::KeyPair::from_pkcs8(&der)
                            .map_err(|e| malformed(kind, e.to_string()))?;
                        (Inner::Rsa(key, bits), public)
                    }
                    OID_ED25519 => {
                        // `openssl genpkey` writes PKCS #8 version 1, without
                        // the public key, which ring's unchecked reader takes.
                        let key = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                            .map_err(|e| malformed("PKCS #8 Ed25519 key", e.to_string()))?;
                        let public = key.public_key().as_ref().to_vec();
                        (Inner::Ed25519(key), public)
                    }
                    other => {
                        return Err(KeyError::Unsupported {
                            path: path.to_owned(),
                            what: algorithm_name(other),
                        });
                    }
                }
            }
        };
        Ok(Self { inner, public, path: path.to_owned(), shared_file })
    }

    pub fn algorithm(&self) -> Algorithm {
        match &self.inner {
            Inner::Rsa(_, bits) => Algorithm::Rsa { bits: *bits },
            Inner::Ed25519(_) => Algorithm::Ed25519,
        }
    }

    /// `a=`: the signing algorithm as a DKIM signature names it.
    pub(super) fn dkim_name(&self) -> &'static str {
        match &self.inner {
            Inner::Rsa(..) => "rsa-sha256",
            Inner::Ed25519(_) => "ed25519-sha256",
        }
    }

    /// The signature of `data`: RSASSA-PKCS1-v1_5 over its SHA-256 for RSA
    /// (RFC 6376 section 3.3.1), Ed25519 over its SHA-256 for Ed25519
    /// (RFC 8463 section 3: the hash is what is signed).
    pub(super) fn sign(&self, data: &[u8]) -> Result<Vec<u8>, ring::error::Unspecified> {
        match &self.inner {
            Inner::Rsa(rsa, _) => {
                let mut signature = vec![0; rsa.public().modulus_len()];
                let rng = ring::rand::SystemRandom::new();
                rsa.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, data, &mut signature)?;
                Ok(signature)
            }
            Inner::Ed25519(ed) => {
                let hash = ring::digest::digest(&ring::digest::SHA256, data);
                Ok(ed.sign(hash.as_ref()).as_ref().to_vec())
            }
        }
    }

    /// The public key, base64, as the `p=` tag of the DNS record wants it.
    pub fn public_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.public)
    }

    /// The file the key came from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The key's DER bytes, wiped when dropped.
enum Der {
    Pkcs1(Zeroizing<Vec<u8>>),
    Pkcs8(Zeroizing<Vec<u8>>),
}

fn read_small(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let read = |source| KeyError::Read { path: path.to_owned(), source };
    let file = std::fs::File::open(path).map_err(read)?;
    let size = file.metadata().map_err(read)?.len();
    if size > MAX_FILE_BYTES {
        return Err(KeyError::TooLarge { path: path.to_owned(), size });
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(size as usize));
    file.take(MAX_FILE_BYTES).read_to_end(&mut bytes).map_err(read)?;
    Ok(bytes)
}

/// The first PEM section's DER, after saying clearly what is wrong with a
/// file that holds no private key we can use.
fn decode_pem(path: &Path, pem: &[u8]) -> Result<Der, KeyError> {
    let labels: Vec<&[u8]> = pem
        .split(|b| *b == b'\n')
        .filter_map(|line| line.trim_ascii().strip_prefix(b"-----BEGIN "))
        .filter_map(|rest| rest.strip_suffix(b"-----"))
        .collect();
    let path = path.to_owned();
    let wanted = labels.iter().find(|l| matches!(**l, b"PRIVATE KEY" | b"RSA PRIVATE KEY"));
    let Some(label) = wanted else {
        // `openssl ecparam -genkey` writes "EC PARAMETERS" before the key:
        // name the key.
        let private = labels.iter().find(|l| l.ends_with(b"PRIVATE KEY"));
        return Err(match private.or(labels.first()).copied() {
            None => KeyError::NotPem { path },
            Some(b"ENCRYPTED PRIVATE KEY") => KeyError::Encrypted { path },
            Some(b"OPENSSH PRIVATE KEY") => KeyError::OpenSsh { path },
            Some(b"PUBLIC KEY" | b"RSA PUBLIC KEY") => KeyError::NotPrivate { path, what: "a public key" },
            Some(b"CERTIFICATE") => KeyError::NotPrivate { path, what: "a certificate" },
            Some(b"EC PRIVATE KEY") => KeyError::Unsupported { path, what: "an EC (ECDSA) key".into() },
            Some(b"DSA PRIVATE KEY") => KeyError::Unsupported { path, what: "a DSA key".into() },
            Some(other) => KeyError::Unsupported {
                path,
                // A label is a short ASCII name, not key material.
                what: format!(
                    "a PEM section labelled {:?}",
                    String::from_utf8_lossy(&other[..other.len().min(40)])
                ),
            },
        });
    };
    let kind = if *label == b"RSA PRIVATE KEY" { "PKCS #1 RSA key" } else { "PKCS #8 key" };
    // The PEM decoder's errors can quote a line; ours never do.
    let malformed = || KeyError::Malformed { path: path.clone(), kind, reason: "bad PEM encoding".into() };
    if *label == b"RSA PRIVATE KEY" {
        let der = PrivatePkcs1KeyDer::from_pem_slice(pem).map_err(|_| malformed())?;
        Ok(Der::Pkcs1(Zeroizing::new(der.secret_pkcs1_der().to_vec())))
    } else {
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem).map_err(|_| malformed())?;
        Ok(Der::Pkcs8(Zeroizing::new(der.secret_pkcs8_der().to_vec())))
    }
}

/// The key's length in bits, if allowed, and its public key info (DER).
fn check_rsa(path: &Path, key: &rsa::RsaPrivateKey) -> Result<(usize, Vec<u8>), KeyError> {
    let malformed = |reason: String| KeyError::Malformed { path: path.to_owned(), kind: "RSA key", reason };
    key.validate().map_err(|e| malformed(e.to_string()))?;
    let bits = key.n().bits();
    if bits < MIN_RSA_BITS {
        return Err(KeyError::TooShort { path: path.to_owned(), bits });
    }
    if bits > MAX_RSA_BITS {
        return Err(KeyError::TooLong { path: path.to_owned(), bits });
    }
    let der = rsa::RsaPublicKey::from(key).to_public_key_der().map_err(|e| malformed(e.to_string()))?;
    Ok((bits, der.into_vec()))
}

/// A PKCS #8 algorithm identifier in words, for the message refusing it.
fn algorithm_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.2.1" => "an EC (ECDSA) key".into(),
        "1.2.840.113549.1.1.10" => "an RSA-PSS key".into(),
        "1.3.101.110" => "an X25519 key".into(),
        "1.3.101.111" => "an X448 key".into(),
        "1.3.101.113" => "an Ed448 key".into(),
        "1.2.840.10040.4.1" => "a DSA key".into(),
        other => format!("a key of algorithm {other}"),
    }
}

#[cfg(unix)]
fn is_shared(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn is_shared(_path: &Path) -> bool {
    false
}
