//! Amazon SES's notifications through SNS (`POST /webhooks/ses`): believed
//! only for the topic of `SES_SNS_TOPIC_ARN`, when the message's signature
//! (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA, over SNS's
//! canonical string of its fields) verifies with the certificate at its
//! `SigningCertURL`, which must be https on a host of `SNS_CERT_URL_HOSTS`
//! (Amazon SNS's own unless set) and is fetched over verified TLS, then
//! kept. A `SubscriptionConfirmation` for the topic is confirmed by
//! fetching its `SubscribeURL`, on the same hosts only. A `Notification`'s
//! message is SES's: `Bounce` (Permanent, Transient) or `Complaint`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode as Http;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use ring::signature::{
    RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey,
};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use serde_json::Value;

use super::{Event, Hooks, REMEMBERED_WINDOW, Refusal, fetch};
use crate::bounce::Class;
use crate::bounce::intake::{Report, Said};
use crate::config::SesSettings;
use crate::domain::{EmailAddress, Timestamp};

const RELAY: &str = "ses";

/// The largest certificate file fetched.
const CERTIFICATE_LIMIT: usize = 64 * 1024;

/// The signing certificates' RSA keys, by URL, and how to fetch them.
pub(crate) struct Certificates {
    tls: Option<Arc<rustls::ClientConfig>>,
    keys: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

impl Certificates {
    pub fn new(ses: Option<&SesSettings>) -> anyhow::Result<Self> {
        let tls = match ses {
            Some(ses) => Some(fetch::tls(ses.ca_file.as_ref().map_or(&[], |ca| ca.certificates()))?),
            None => None,
        };
        Ok(Self { tls, keys: Mutex::new(HashMap::new()) })
    }

    /// The RSA public key (PKCS #1) of the certificate at `url`.
    async fn key(&self, url: &url::Url) -> Result<Arc<Vec<u8>>, Refusal> {
        if let Some(key) =
            self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(url.as_str())
        {
            return Ok(Arc::clone(key));
        }
        let tls = Arc::clone(self.tls.as_ref().expect("the route is only there with SES settings"));
        let pem = fetch::get(url, tls, CERTIFICATE_LIMIT).await.map_err(|why| {
            Refusal::Forbidden(format!("cannot fetch the signing certificate {url}: {why}"))
        })?;
        let key = Arc::new(
            rsa_key(&pem).map_err(|why| Refusal::Forbidden(format!("the signing certificate {why}")))?,
        );
        let mut keys = self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.insert(url.as_str().to_owned(), Arc::clone(&key));
        Ok(key)
    }
}

/// The RSA public key of the PEM certificate `pem`.
fn rsa_key(pem: &[u8]) -> Result<Vec<u8>, &'static str> {
    let der = CertificateDer::from_pem_slice(pem).map_err(|_| "is not a PEM certificate")?;
    let certificate = webpki::EndEntityCert::try_from(&der).map_err(|_| "is not an X.509 certificate")?;
    let spki = certificate.subject_public_key_info();
    let spki = spki::SubjectPublicKeyInfoRef::try_from(spki.as_ref()).map_err(|_| "has a damaged key")?;
    if spki.algorithm.oid != spki::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1") {
        return Err("has no RSA key");
    }
    spki.subject_public_key.as_bytes().map(<[u8]>::to_vec).ok_or("has a damaged key")
}

pub(super) async fn hook(State(hooks): State<Arc<Hooks>>, body: Bytes) -> Response {
    match check(&hooks, &body).await {
        Ok(Checked::Notification(event)) => hooks.take(RELAY, vec![event]).await,
        Ok(Checked::Confirmed(topic)) => {
            eprintln!("{} webhook ses: confirmed the subscription to {topic}", hooks.clock.now());
            (Http::OK, "ok: subscription confirmed\n").into_response()
        }
        Ok(Checked::Other(kind)) => (Http::OK, format!("ok: {kind} noted\n")).into_response(),
        Err(refusal) => hooks.refuse(RELAY, refusal),
    }
}

enum Checked {
    Notification(Event),
    Confirmed(String),
    Other(String),
}

async fn check(hooks: &Hooks, body: &[u8]) -> Result<Checked, Refusal> {
    let ses = hooks.settings.ses.as_ref().expect("the route is only there with SES settings");
    let json: Value = serde_json::from_slice(body).map_err(|_| Refusal::Malformed("not JSON".into()))?;
    let field = |name: &str| json[name].as_str();
    let kind = field("Type").ok_or_else(|| Refusal::Malformed("no Type".into()))?;
    if field("TopicArn") != Some(ses.topic_arn.as_str()) {
        return Err(Refusal::Forbidden("another topic than SES_SNS_TOPIC_ARN".into()));
    }
    let allowed = |raw: Option<&str>, what: &str| {
        let url = raw
            .and_then(|raw| url::Url::parse(raw).ok())
            .ok_or_else(|| Refusal::Malformed(format!("no {what}")))?;
        if ses.hosts.iter().any(|host| host.allows(&url)) {
            Ok(url)
        } else {
            Err(Refusal::Forbidden(format!("its {what} is not https on a host of SNS_CERT_URL_HOSTS")))
        }
    };
    let certificate = allowed(field("SigningCertURL"), "SigningCertURL")?;
    // As AWS's own SDKs check: a certificate file, with no query to vary it.
    if !certificate.path().ends_with(".pem") || certificate.query().is_some() {
        return Err(Refusal::Forbidden("its SigningCertURL is not a .pem file".into()));
    }
    let algorithm: &'static dyn ring::signature::VerificationAlgorithm = match field("SignatureVersion") {
        Some("1") => &RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        Some("2") => &RSA_PKCS1_2048_8192_SHA256,
        _ => return Err(Refusal::Unproved("an unknown SignatureVersion")),
    };
    let signature = field("Signature")
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .ok_or(Refusal::Unproved("no signature"))?;
    let signed =
        canonical(&json, kind).ok_or_else(|| Refusal::Malformed("a field SNS signs is missing".into()))?;
    let key = hooks.certificates.key(&certificate).await?;
    UnparsedPublicKey::new(algorithm, key.as_slice())
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| Refusal::Unproved("a signature that does not verify"))?;
    let at = field("Timestamp")
        .and_then(Timestamp::parse)
        .ok_or_else(|| Refusal::Malformed("no Timestamp".into()))?;
    if !hooks.recent(at, REMEMBERED_WINDOW) {
        return Err(Refusal::Stale);
    }
    let id = field("MessageId").unwrap_or_default().to_owned();
    match kind {
        "Notification" => {
            let message: Value = field("Message")
                .and_then(|m| serde_json::from_str(m).ok())
                .ok_or_else(|| Refusal::Malformed("a Message that is not SES's JSON".into()))?;
            Ok(Checked::Notification(Event { id, reports: reports(&message) }))
        }
        "SubscriptionConfirmation" => {
            if hooks.seen.contains(RELAY, &id) {
                return Err(Refusal::Replay);
            }
            let subscribe = allowed(field("SubscribeURL"), "SubscribeURL")?;
            let tls = Arc::clone(hooks.certificates.tls.as_ref().expect("set with SES settings"));
            fetch::get(&subscribe, tls, CERTIFICATE_LIMIT)
                .await
                .map_err(|why| Refusal::Forbidden(format!("cannot confirm the subscription: {why}")))?;
            let _ = hooks.seen.remember(RELAY, &id, hooks.clock.now());
            Ok(Checked::Confirmed(ses.topic_arn.clone()))
        }
        other => Ok(Checked::Other(other.to_owned())),
    }
}

/// The string SNS signs: each field's name and value on lines of their own,
/// in its order, for the fields of the message's type.
fn canonical(json: &Value, kind: &str) -> Option<String> {
    let fields: &[&str] = match kind {
        "Notification" => &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
        _ => &["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
    };
    let mut text = String::new();
    for name in fields {
        match json[name].as_str() {
            Some(value) => text.push_str(&format!("{name}\n{value}\n")),
            // A notification without a subject signs none.
            None if *name == "Subject" => {}
            None => return None,
        }
    }
    Some(text)
}

/// What an SES notification says of whom: each bounced or complaining
/// recipient of a `Bounce` or `Complaint` (SES's notifications, or its event
/// publishing's `eventType`).
fn reports(message: &Value) -> Vec<Report> {
    let kind = message["notificationType"].as_str().or(message["eventType"].as_str()).unwrap_or("");
    let message_id = message["mail"]["commonHeaders"]["messageId"].as_str().map(str::to_owned);
    let (said, recipients) = match kind {
        "Bounce" => {
            let class = match message["bounce"]["bounceType"].as_str() {
                Some("Permanent") => Class::Hard,
                Some("Transient") => Class::Soft,
                _ => Class::Unknown,
            };
            (Said::Bounce(class), &message["bounce"]["bouncedRecipients"])
        }
        "Complaint" => (Said::Complaint, &message["complaint"]["complainedRecipients"]),
        _ => return Vec::new(),
    };
    let recipients = recipients.as_array().map(Vec::as_slice).unwrap_or_default();
    recipients
        .iter()
        .filter_map(|recipient| {
            Some(Report {
                address: EmailAddress::parse(recipient["emailAddress"].as_str()?).ok()?,
                message_id: message_id.clone(),
                said,
                status: recipient["status"].as_str().unwrap_or("").to_owned(),
                detail: recipient["diagnosticCode"]
                    .as_str()
                    .or(message["complaint"]["complaintFeedbackType"].as_str())
                    .unwrap_or("reported by Amazon SES")
                    .to_owned(),
                source: "Amazon SES webhook",
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_notification_without_a_subject_signs_no_subject_line_and_one_missing_a_field_signs_nothing() {
        let mut json = json!({"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:t", "Message": "hi",
                              "Timestamp": "2026-01-01T00:00:00Z"});
        assert_eq!(
            canonical(&json, "Notification").unwrap(),
            "Message\nhi\nMessageId\nm-1\nTimestamp\n2026-01-01T00:00:00Z\nTopicArn\narn:t\nType\nNotification\n"
        );
        json["Subject"] = "Bounce".into();
        assert!(
            canonical(&json, "Notification").unwrap().contains("MessageId\nm-1\nSubject\nBounce\nTimestamp")
        );
        assert_eq!(canonical(&json, "SubscriptionConfirmation"), None, "no SubscribeURL or Token");
    }

    #[test]
    fn an_ses_bounce_names_each_recipient_with_its_class_and_a_delivery_names_nobody() {
        let bounce = |kind: &str| {
            json!({"notificationType": "Bounce", "bounce": {"bounceType": kind, "bouncedRecipients": [
                {"emailAddress": "a@example.org", "status": "5.1.1"}, {"emailAddress": "not an address"},
                {"emailAddress": "b@example.org"}]}, "mail": {"commonHeaders": {"messageId": "<x@y>"}}})
        };
        let found = reports(&bounce("Permanent"));
        let names: Vec<&str> = found.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(names, ["a@example.org", "b@example.org"]);
        assert!(
            found
                .iter()
                .all(|r| r.said == Said::Bounce(Class::Hard) && r.message_id.as_deref() == Some("<x@y>"))
        );
        assert_eq!(reports(&bounce("Transient"))[0].said, Said::Bounce(Class::Soft));
        assert_eq!(reports(&bounce("Undetermined"))[0].said, Said::Bounce(Class::Unknown));
        assert!(reports(&json!({"notificationType": "Delivery"})).is_empty());
    }
}
