//! Mailgun's webhooks (`POST /webhooks/mailgun`, JSON): believed when
//! `signature.signature` is the HMAC-SHA256, keyed with
//! `MAILGUN_SIGNING_KEY`, of `signature.timestamp` followed by
//! `signature.token`, the timestamp within [`super::SIGNED_WINDOW`] of
//! the clock and the token new. `failed` events (permanent or temporary),
//! `complained` and `unsubscribed` are acted on.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::{Event, Hooks, Refusal, SIGNED_WINDOW};
use crate::bounce::Class;
use crate::bounce::intake::{Report, Said};
use crate::domain::{EmailAddress, Timestamp};

const RELAY: &str = "mailgun";

pub(super) async fn hook(State(hooks): State<Arc<Hooks>>, body: Bytes) -> Response {
    match check(&hooks, &body) {
        Ok(event) => hooks.take(RELAY, vec![event]).await,
        Err(refusal) => hooks.refuse(RELAY, refusal),
    }
}

fn check(hooks: &Hooks, body: &[u8]) -> Result<Event, Refusal> {
    let key = hooks.settings.mailgun.as_ref().expect("the route is only there with a key");
    let json: Value = serde_json::from_slice(body).map_err(|_| Refusal::Malformed("not JSON".into()))?;
    let field = |name: &str| json["signature"][name].as_str().ok_or(Refusal::Unproved("no signature"));
    let (timestamp, token, signature) = (field("timestamp")?, field("token")?, field("signature")?);
    let tag = hex::decode(signature).map_err(|_| Refusal::Unproved("a signature that is not hex"))?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose_secret().as_bytes())
        .expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(token.as_bytes());
    mac.verify_slice(&tag).map_err(|_| Refusal::Unproved("a signature that does not verify"))?;
    let at = timestamp
        .parse::<u64>()
        .map_err(|_| Refusal::Malformed("a timestamp that is not a number".into()))?;
    if !hooks.recent(Timestamp::from_unix(at), SIGNED_WINDOW) {
        return Err(Refusal::Stale);
    }
    Ok(Event { id: token.to_owned(), reports: report(&json["event-data"]).into_iter().collect() })
}

/// What one event says, if it is one that is acted on.
fn report(data: &Value) -> Option<Report> {
    let said = match (data["event"].as_str()?, data["severity"].as_str()) {
        ("failed", Some("permanent")) => Said::Bounce(Class::Hard),
        ("failed", _) => Said::Bounce(Class::Soft),
        ("complained", _) => Said::Complaint,
        ("unsubscribed", _) => Said::Unsubscribe,
        _ => return None,
    };
    let address = EmailAddress::parse(data["recipient"].as_str()?).ok()?;
    let status = &data["delivery-status"];
    let detail = [&status["message"], &status["description"], &data["reason"]]
        .iter()
        .find_map(|v| v.as_str().filter(|s| !s.is_empty()))
        .unwrap_or("")
        .to_owned();
    Some(Report {
        address,
        message_id: data["message"]["headers"]["message-id"].as_str().map(str::to_owned),
        said,
        status: status["enhanced-code"].as_str().unwrap_or("").to_owned(),
        detail,
        source: "Mailgun webhook",
    })
}
