//! DKIM signing (RFC 6376; Ed25519 keys by RFC 8463): every message is
//! signed with the organisation's key when `DKIM_DOMAIN`, `DKIM_SELECTOR`
//! and `DKIM_PRIVATE_KEY` are set, so receivers can check it really comes
//! from that domain and was not changed on the way.
//!
//! The signature is made over the exact bytes that are sent (or written to
//! a dry run's `.eml`), with relaxed/relaxed canonicalisation, by our own
//! signer (`canonical`, `signature`) and `ring`. No crate fitted: lettre's
//! signer cannot sign a field name twice (over-signing) and signs RSA with
//! the slower `rsa` crate; mail-auth, which signed before, pulls in a DNS
//! resolver (hickory) that signing never uses, so only `check --dns`
//! (src/lint/dns) uses it, as a verifier of what is published. This module holds the key, chooses the signed header fields and
//! makes the DNS record to publish; it ends where the signed message is
//! handed back to `message`.

mod canonical;
mod dns;
mod key;
mod signature;

use std::time::SystemTime;

pub use dns::{Alignment, DnsName, DnsRecord, alignment};
pub use key::{Algorithm, KeyError, MAX_RSA_BITS, MIN_RSA_BITS, PrivateKey};

/// The header fields signed, each where present: those RFC 8058 section 4
/// requires for one-click unsubscribing, the ones a reader sees (and
/// `List-Archive`, where the web archive is), and the
/// MIME fields that say how to read the body. Each one present is also
/// signed once more as absent ("over-signed"), and each one absent is signed
/// as absent, so none can be added on the way without breaking the
/// signature.
pub const SIGNED_HEADERS: [&str; 13] = [
    "From",
    "Reply-To",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Archive",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

/// Signs messages as one domain with one key. `Debug` never shows the key.
#[derive(Debug)]
pub struct Dkim {
    domain: DnsName,
    selector: DnsName,
    key: PrivateKey,
}

/// A signature could not be made: ring's RSA signer failed (ring says no
/// more than that).
#[derive(Debug, thiserror::Error)]
#[error("cannot DKIM-sign the message: the key did not sign")]
pub struct SignError;

impl Dkim {
    pub fn new(domain: DnsName, selector: DnsName, key: PrivateKey) -> Self {
        Self { domain, selector, key }
    }

    /// `d=`: the domain that signs.
    pub fn domain(&self) -> &DnsName {
        &self.domain
    }

    /// `s=`: the selector naming the key under the domain.
    pub fn selector(&self) -> &DnsName {
        &self.selector
    }

    pub fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }

    /// The key file.
    pub fn key_path(&self) -> &std::path::Path {
        self.key.path()
    }

    /// The TXT record that publishes the public key.
    pub fn dns_record(&self) -> DnsRecord {
        let k = match self.algorithm() {
            Algorithm::Rsa { .. } => "rsa",
            Algorithm::Ed25519 => "ed25519",
        };
        DnsRecord::new(&self.domain, &self.selector, k, &self.key.public_base64())
    }

    /// A warning when DMARC would not count this signature for mail from
    /// `from_domain` (RFC 7489 section 3.1.1).
    pub fn alignment_warning(&self, from_domain: &str) -> Option<String> {
        if alignment(self.domain.as_str(), from_domain) != Alignment::None {
            return None;
        }
        let from_domain = from_domain.to_ascii_lowercase();
        let parent = psl::domain_str(&from_domain)
            .filter(|org| *org != from_domain)
            .map(|org| format!(" (or its organisational domain {org})"))
            .unwrap_or_default();
        Some(format!(
            "setting DKIM_DOMAIN = \"{}\" does not align with FROM_EMAIL's domain {from_domain}: DMARC counts only a \
             signature by the sender's domain or its organisational domain, so receivers will treat these \
             messages as unsigned; set DKIM_DOMAIN to {from_domain}{parent} and publish the key there",
            self.domain
        ))
    }

    /// Risks worth a warning in `bulletin check`.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let path = self.key.path().display();
        if self.algorithm() == Algorithm::Ed25519 {
            warnings.push(format!(
                "setting DKIM_PRIVATE_KEY: {path} is an Ed25519 key; many receivers do not verify Ed25519 \
                 signatures yet (RFC 8463) and treat such messages as unsigned; an RSA key of 2048 bits \
                 is understood everywhere (see the user guide, Deliverability, \"DKIM\")"
            ));
        }
        if self.key.shared_file {
            warnings.push(format!(
                "setting DKIM_PRIVATE_KEY: {path} can be read by other users of this computer, and \
                 anyone holding it can sign mail as {}; make it private with `chmod 600 {path}`",
                self.domain
            ));
        }
        warnings
    }

    /// The `DKIM-Signature` field for `message` (the whole message, CRLF
    /// line ends, as it will be sent) signed at `signed_at` (its `Date`),
    /// ending in CRLF, to add to its header. Where it goes in the header
    /// does not matter to receivers.
    pub fn sign(&self, message: &[u8], signed_at: SystemTime) -> Result<String, SignError> {
        let tags = signature::Tags {
            algorithm: self.key.dkim_name(),
            selector: self.selector.as_str(),
            domain: self.domain.as_str(),
            signed_at: crate::domain::Timestamp::from(signed_at).unix_seconds(),
        };
        let value = signature::field(&tags, &SIGNED_HEADERS, message, |data| self.key.sign(data))
            .map_err(|_| SignError)?;
        Ok(format!("DKIM-Signature: {value}\r\n"))
    }

    /// Signs `message`, dated `signed_at`, in place: adds its
    /// `DKIM-Signature` field after the others (lettre writes the multipart
    /// `Content-Type` after that).
    pub fn sign_message(
        &self,
        message: &mut lettre::Message,
        signed_at: SystemTime,
    ) -> Result<(), SignError> {
        use lettre::message::header::{HeaderName, HeaderValue};
        let field = self.sign(&message.formatted(), signed_at)?;
        let folded = field
            .strip_prefix("DKIM-Signature: ")
            .and_then(|f| f.strip_suffix("\r\n"))
            .expect("sign writes DKIM-Signature: …CRLF")
            .to_owned();
        let unfolded = folded.replace("\r\n\t", " ");
        // Already folded and plain ASCII (tags, names and base64): lettre
        // must write it exactly so, or the signature would not match what
        // was hashed.
        message.headers_mut().insert_raw(HeaderValue::dangerous_new_pre_encoded(
            HeaderName::new_from_ascii_str("DKIM-Signature"),
            unfolded,
            folded,
        ));
        Ok(())
    }
}

#[cfg(test)]
mod tests;
