//! Postmark's webhooks (`POST /webhooks/postmark`, JSON): believed when
//! the request carries the basic-auth user and password of
//! `WEBHOOK_POSTMARK_USER` and `WEBHOOK_POSTMARK_PASSWORD` (Postmark sends
//! them from the webhook URL, `https://user:password@…`). Postmark signs
//! nothing else, so the event must be at most
//! [`super::REMEMBERED_WINDOW`] old, its id new. `Bounce` (hard, soft,
//! blocked), `SpamComplaint` and `SubscriptionChange` records are acted on.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use base64::Engine as _;
use serde_json::Value;

use super::{Event, Hooks, REMEMBERED_WINDOW, Refusal};
use crate::bounce::Class;
use crate::bounce::intake::{Report, Said};
use crate::domain::{EmailAddress, Timestamp};

const RELAY: &str = "postmark";

pub(super) async fn hook(State(hooks): State<Arc<Hooks>>, headers: HeaderMap, body: Bytes) -> Response {
    match check(&hooks, &headers, &body) {
        Ok(event) => hooks.take(RELAY, vec![event]).await,
        Err(refusal) => hooks.refuse(RELAY, refusal),
    }
}

fn check(hooks: &Hooks, headers: &HeaderMap, body: &[u8]) -> Result<Event, Refusal> {
    let auth = hooks.settings.postmark.as_ref().expect("the route is only there with a password");
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v.trim()).ok())
        .ok_or(Refusal::Unproved("no basic-auth credentials"))?;
    let expected = format!("{}:{}", auth.user, auth.password.expose_secret());
    // Compared in constant time: the time taken says nothing of how much matched.
    if !same_secret(&given, expected.as_bytes()) {
        return Err(Refusal::Unproved("wrong basic-auth credentials"));
    }
    let json: Value = serde_json::from_slice(body).map_err(|_| Refusal::Malformed("not JSON".into()))?;
    let record = json["RecordType"].as_str().ok_or_else(|| Refusal::Malformed("no RecordType".into()))?;
    let (id, at) = match record {
        // A subscription change has no ID of its own.
        "SubscriptionChange" => (
            format!(
                "{}/{}",
                json["MessageID"].as_str().unwrap_or(""),
                json["ChangedAt"].as_str().unwrap_or("")
            ),
            json["ChangedAt"].as_str(),
        ),
        _ => (json["ID"].to_string(), json["BouncedAt"].as_str()),
    };
    let at =
        at.and_then(Timestamp::parse).ok_or_else(|| Refusal::Malformed("no time of the event".into()))?;
    if !hooks.recent(at, REMEMBERED_WINDOW) {
        return Err(Refusal::Stale);
    }
    Ok(Event { id: format!("{record}:{id}"), reports: report(record, &json).into_iter().collect() })
}

fn same_secret(a: &[u8], b: &[u8]) -> bool {
    use sha2::Digest as _;
    // Equal-length digests, so the comparison cannot stop early on length.
    let (a, b) = (sha2::Sha256::digest(a), sha2::Sha256::digest(b));
    a.iter().zip(b.iter()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// What one record says, if it is one that is acted on.
fn report(record: &str, json: &Value) -> Option<Report> {
    let (said, address) = match record {
        "Bounce" => {
            let class = match json["Type"].as_str()? {
                "HardBounce" | "BadEmailAddress" => Class::Hard,
                "SoftBounce" | "Transient" | "DnsError" => Class::Soft,
                "Blocked" => Class::Blocked,
                "SpamNotification" => return complaint(json),
                _ => return None,
            };
            (Said::Bounce(class), json["Email"].as_str()?)
        }
        "SpamComplaint" => return complaint(json),
        "SubscriptionChange" if json["SuppressSending"].as_bool() == Some(true) => {
            // Postmark's own suppression after a bounce or complaint arrives
            // as its own record; only the reader's choice is taken here.
            if json["SuppressionReason"].as_str() != Some("ManualSuppression") {
                return None;
            }
            (Said::Unsubscribe, json["Recipient"].as_str()?)
        }
        _ => return None,
    };
    Some(Report {
        address: EmailAddress::parse(address).ok()?,
        message_id: None,
        said,
        status: String::new(),
        detail: [&json["Details"], &json["Description"]]
            .iter()
            .find_map(|v| v.as_str().filter(|s| !s.is_empty()))
            .unwrap_or("unsubscribed through Postmark")
            .to_owned(),
        source: "Postmark webhook",
    })
}

fn complaint(json: &Value) -> Option<Report> {
    Some(Report {
        address: EmailAddress::parse(json["Email"].as_str()?).ok()?,
        message_id: None,
        said: Said::Complaint,
        status: String::new(),
        detail: "spam complaint reported by Postmark".to_owned(),
        source: "Postmark webhook",
    })
}
