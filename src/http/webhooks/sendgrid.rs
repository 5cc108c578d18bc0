//! SendGrid's signed event webhook (`POST /webhooks/sendgrid`, a JSON
//! array of events): believed when `X-Twilio-Email-Event-Webhook-Signature`
//! is an ECDSA P-256 SHA-256 signature (DER, base64), by the key of
//! `SENDGRID_VERIFICATION_KEY`, of the `…-Timestamp` header followed by the
//! body as it came, the timestamp within [`super::SIGNED_WINDOW`] of the
//! clock; each event's `sg_event_id` is taken once. `bounce` (a bounce, or
//! `blocked`), `spamreport`, `unsubscribe` and `group_unsubscribe` events
//! are acted on.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine as _;
use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use serde_json::Value;

use super::{Event, Hooks, Refusal, SIGNED_WINDOW};
use crate::bounce::intake::{Report, Said};
use crate::bounce::{Class, StatusCode, classify_text};
use crate::domain::{EmailAddress, Timestamp};

const RELAY: &str = "sendgrid";
const SIGNATURE: &str = "x-twilio-email-event-webhook-signature";
const TIMESTAMP: &str = "x-twilio-email-event-webhook-timestamp";

pub(super) async fn hook(State(hooks): State<Arc<Hooks>>, headers: HeaderMap, body: Bytes) -> Response {
    match check(&hooks, &headers, &body) {
        Ok(events) => hooks.take(RELAY, events).await,
        Err(refusal) => hooks.refuse(RELAY, refusal),
    }
}

fn check(hooks: &Hooks, headers: &HeaderMap, body: &[u8]) -> Result<Vec<Event>, Refusal> {
    let key = hooks.settings.sendgrid.as_ref().expect("the route is only there with a key");
    let header =
        |name| headers.get(name).and_then(|v| v.to_str().ok()).ok_or(Refusal::Unproved("no signature"));
    let (signature, timestamp) = (header(SIGNATURE)?, header(TIMESTAMP)?);
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| Refusal::Unproved("a signature that is not base64"))?;
    let signed = [timestamp.as_bytes(), body].concat();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key)
        .verify(&signed, &signature)
        .map_err(|_| Refusal::Unproved("a signature that does not verify"))?;
    let at = timestamp
        .trim()
        .parse::<u64>()
        .map_err(|_| Refusal::Malformed("a timestamp that is not a number".into()))?;
    if !hooks.recent(Timestamp::from_unix(at), SIGNED_WINDOW) {
        return Err(Refusal::Stale);
    }
    let json: Value = serde_json::from_slice(body).map_err(|_| Refusal::Malformed("not JSON".into()))?;
    let events = json.as_array().ok_or_else(|| Refusal::Malformed("not a list of events".into()))?;
    events
        .iter()
        .map(|event| {
            let id = event["sg_event_id"]
                .as_str()
                .ok_or_else(|| Refusal::Malformed("an event without sg_event_id".into()))?;
            Ok(Event { id: id.to_owned(), reports: report(event).into_iter().collect() })
        })
        .collect()
}

/// What one event says, if it is one that is acted on.
fn report(event: &Value) -> Option<Report> {
    let status = event["status"].as_str().unwrap_or("").to_owned();
    let detail = event["reason"].as_str().unwrap_or("").to_owned();
    let said = match event["event"].as_str()? {
        "bounce" if event["type"].as_str() == Some("blocked") => Said::Bounce(Class::Blocked),
        "bounce" => Said::Bounce(match StatusCode::parse(&status) {
            // A 4.x.x status in a bounce is a soft one; words decide when
            // there is no status.
            Some(code) if code.class() == 4 => Class::Soft,
            Some(_) => Class::Hard,
            None => match classify_text(&detail).class() {
                Class::Unknown => Class::Hard,
                class => class,
            },
        }),
        "spamreport" => Said::Complaint,
        "unsubscribe" | "group_unsubscribe" => Said::Unsubscribe,
        _ => return None,
    };
    Some(Report {
        address: EmailAddress::parse(event["email"].as_str()?).ok()?,
        message_id: event["smtp-id"].as_str().map(str::to_owned),
        said,
        status,
        detail: if detail.is_empty() {
            format!("{} reported by SendGrid", event["event"].as_str()?)
        } else {
            detail
        },
        source: "SendGrid webhook",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sendgrid_bounce_is_hard_soft_or_blocked_by_its_type_and_status_and_a_delivery_is_not_acted_on() {
        let said = |event: Value| report(&event).map(|r| r.said);
        let bounce = |status: &str| json!({"email": "a@example.org", "event": "bounce", "status": status});
        assert_eq!(said(bounce("5.1.1")), Some(Said::Bounce(Class::Hard)));
        assert_eq!(said(bounce("4.2.2")), Some(Said::Bounce(Class::Soft)));
        let blocked =
            json!({"email": "a@example.org", "event": "bounce", "type": "blocked", "status": "5.7.1"});
        assert_eq!(said(blocked), Some(Said::Bounce(Class::Blocked)));
        assert_eq!(said(json!({"email": "a@example.org", "event": "spamreport"})), Some(Said::Complaint));
        assert_eq!(
            said(json!({"email": "a@example.org", "event": "group_unsubscribe"})),
            Some(Said::Unsubscribe)
        );
        assert_eq!(said(json!({"email": "a@example.org", "event": "delivered"})), None);
        assert_eq!(said(json!({"email": "nobody", "event": "spamreport"})), None);
    }
}
