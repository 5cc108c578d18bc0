//! The relays' webhooks end to end (issue 26): a real send through
//! Postfix's smtp-sink fills the journal, then the real `bulletin serve`
//! answers real HTTP requests (ureq) signed by the test with keys `openssl`
//! makes, configured as the user guide's bounces page says. A valid event
//! about a mailed reader suppresses them (the ledger row, and the next dry
//! run leaves them out); forged, stale, replayed events, and events about
//! addresses never mailed, change nothing. SES through SNS is in
//! `webhooks_ses.rs`.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use pretty_assertions::assert_eq;
use serde_json::json;

use crate::send_util::SinkServer;
use crate::signup::{dry_run, serve};
use crate::unsubscribe::{Server, client, list_test};
use crate::util::{SAMPLE_BULLETIN, Test, bulletin};

// ---------------------------------------------------------------- helpers

/// Next week's bulletin, which the dry runs make (the sample went out for
/// real, so a dry run of it would leave everyone out).
pub(crate) const NEXT: &str = "next.md";

/// `n` readers `reader01@example.org`… mailed the sample through
/// smtp-sink (so the journal knows them), with `settings`; the relay's
/// settings are then taken away, so `serve` runs without sign-ups.
pub(crate) fn mailed(n: usize, settings: &[(&str, &str)]) -> Test {
    let sink = SinkServer::start();
    let (test, _) = list_test(n);
    let mut test = test.file(NEXT, bulletin("Next week's prayer requests."));
    for (key, value) in settings {
        test.set_env(key, value);
    }
    test.set_env("SMTP_HOST", "127.0.0.1");
    test.set_env("SMTP_PORT", &sink.port().to_string());
    test.set_env("SMTP_SECURITY", "none");
    test.run(&["send", SAMPLE_BULLETIN, "--subscribers", "list.csv", "--yes", "--rate", "unlimited"])
        .code(0)
        .stdout_has(&format!("  {n} sent, "));
    test.set_env("SMTP_HOST", "");
    test
}

/// What the webhooks may change: the suppression list's rows (email,
/// reason, detail) and the bounce ledger's (address, kind, source).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Ledgers {
    pub suppressed: Vec<(String, String, String)>,
    pub reports: Vec<(String, String, String)>,
}

pub(crate) fn ledgers(test: &Test) -> Ledgers {
    let mut suppressed = Vec::new();
    if let Ok(mut reader) = csv::Reader::from_path(test.join("suppressed.csv")) {
        for row in reader.records() {
            let row = row.unwrap();
            suppressed.push((row[0].to_owned(), row[1].to_owned(), row[3].to_owned()));
        }
    }
    let mut reports = Vec::new();
    let path = test.join(".bulletin/bounces.sqlite3");
    if path.exists() {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut stmt = conn.prepare("SELECT address, kind, source FROM reports ORDER BY rowid").unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
        reports = rows.map(Result::unwrap).collect();
    }
    Ledgers { suppressed, reports }
}

/// Posts `body` with `headers` to `path`; the status and body.
pub(crate) fn post(server: &Server, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut request = client().post(format!("{}{path}", server.origin));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.send(body).expect("the server answers");
    (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
}

/// Seconds since the epoch now, by the program's own clock.
pub(crate) fn now() -> u64 {
    use bulletin::domain::Clock as _;
    bulletin::domain::SystemClock.now().unix_seconds()
}

/// RFC 3339, as Postmark and SNS write times, `ago` seconds before now.
pub(crate) fn rfc3339(ago: u64) -> String {
    bulletin::domain::Timestamp::from_unix(now() - ago).to_string()
}

/// Runs `openssl` with `args` in `dir`; its standard output.
pub(crate) fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let output = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

/// Signs `data` with the PEM key `key` in `dir`, digest `digest`; base64.
pub(crate) fn sign(dir: &Path, key: &str, digest: &str, data: &[u8]) -> String {
    std::fs::write(dir.join("to-sign"), data).unwrap();
    let signature = openssl(dir, &["dgst", digest, "-sign", key, "to-sign"]);
    base64::engine::general_purpose::STANDARD.encode(signature)
}

fn hmac_hex(key: &str, data: &str) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[track_caller]
fn assert_unchanged(test: &Test, before: &Ledgers, (status, body): (u16, String), expected: u16) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(&ledgers(test), before, "{body}");
}

/// Who the next dry run mails.
fn mailed_next(test: &Test) -> Vec<String> {
    let mut to: Vec<String> = dry_run(test, NEXT).into_iter().map(|(to, _)| to).collect();
    to.sort();
    to
}

// ---------------------------------------------------------------- Mailgun

const MAILGUN_KEY: &str = "key-mailgun-webhook-3f9a1c-never-printed";

fn mailgun_body(key: &str, timestamp: u64, token: &str, event: serde_json::Value) -> String {
    let signature = hmac_hex(key, &format!("{timestamp}{token}"));
    json!({
        "signature": {"timestamp": timestamp.to_string(), "token": token, "signature": signature},
        "event-data": event,
    })
    .to_string()
}

fn failed(recipient: &str, severity: &str) -> serde_json::Value {
    json!({
        "event": "failed", "severity": severity, "recipient": recipient, "reason": "bounce",
        "delivery-status": {"code": 550, "message": "5.1.1 The email account that you tried to reach does not exist"},
    })
}

#[test]
fn a_signed_mailgun_failure_suppresses_the_reader_and_forged_stale_replayed_or_strangers_events_change_nothing()
 {
    let test = mailed(3, &[("MAILGUN_SIGNING_KEY", MAILGUN_KEY)]);
    let server = serve(&test);
    let hook = |body: &str| post(&server, "/webhooks/mailgun", &[("Content-Type", "application/json")], body);
    let empty = ledgers(&test);
    assert_eq!(empty, Ledgers { suppressed: vec![], reports: vec![] });

    let forged =
        mailgun_body("another-key", now(), "token-forged", failed("reader01@example.org", "permanent"));
    assert_unchanged(&test, &empty, hook(&forged), 401);
    let stale =
        mailgun_body(MAILGUN_KEY, now() - 600, "token-stale", failed("reader01@example.org", "permanent"));
    assert_unchanged(&test, &empty, hook(&stale), 403);
    let stranger =
        mailgun_body(MAILGUN_KEY, now(), "token-stranger", failed("stranger@example.org", "permanent"));
    let (status, body) = hook(&stranger);
    assert_eq!((status, ledgers(&test)), (200, Ledgers { suppressed: vec![], reports: vec![] }), "{body}");
    assert!(body.contains("ignored"), "{body}");

    let valid =
        mailgun_body(MAILGUN_KEY, now(), "token-valid-1", failed("reader01@example.org", "permanent"));
    let (status, body) = hook(&valid);
    assert_eq!(status, 200, "{body}");
    let after = ledgers(&test);
    assert_eq!(
        after.suppressed,
        [(
            "reader01@example.org".to_owned(),
            "hard-bounce".to_owned(),
            "5.1.1 The email account that you tried to reach does not exist".to_owned()
        )]
    );
    assert_eq!(after.reports, [("reader01@example.org".into(), "hard".into(), "Mailgun webhook".into())]);
    assert_unchanged(&test, &after, hook(&valid), 409);

    // A soft bounce is counted, not suppressed (BOUNCE_SOFT_LIMIT is 3).
    let soft = mailgun_body(MAILGUN_KEY, now(), "token-soft", failed("reader02@example.org", "temporary"));
    let (status, body) = hook(&soft);
    assert!(status == 200 && body.contains("soft bounce, 1 in a row"), "{status} {body}");
    assert_eq!(ledgers(&test).suppressed, after.suppressed);
    assert_eq!(ledgers(&test).reports.len(), 2);

    assert_eq!(mailed_next(&test), ["reader02@example.org", "reader03@example.org"]);
    let (_, out, log) = server.stop();
    assert!(!out.contains(MAILGUN_KEY) && !log.contains(MAILGUN_KEY), "{out}{log}");
    assert!(log.contains("webhook mailgun: r***@example.org: suppressed (hard-bounce)"), "{log}");
    assert!(!log.contains("reader01@example.org"), "the log masks addresses\n{log}");
}

// --------------------------------------------------------------- Postmark

const POSTMARK_PASSWORD: &str = "pm-hook-password-8d2e-never-printed";

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

fn postmark_bounce(id: u64, email: &str, kind: &str, bounced_at: &str) -> String {
    json!({
        "RecordType": "Bounce", "ID": id, "Type": kind, "TypeCode": 1, "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Email": email, "BouncedAt": bounced_at, "Description": "The server was unable to deliver your message",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist",
    })
    .to_string()
}

#[test]
fn a_postmark_hard_bounce_and_complaint_with_the_password_suppress_and_a_wrong_password_stale_or_replayed_one_change_nothing()
 {
    let test =
        mailed(3, &[("WEBHOOK_POSTMARK_USER", "postmark"), ("WEBHOOK_POSTMARK_PASSWORD", POSTMARK_PASSWORD)]);
    let server = serve(&test);
    let good = basic("postmark", POSTMARK_PASSWORD);
    let bad = basic("postmark", "guess");
    let hook = |auth: Option<&str>, body: &str| {
        let mut headers = vec![("Content-Type", "application/json")];
        headers.extend(auth.map(|a| ("Authorization", a)));
        post(&server, "/webhooks/postmark", &headers, body)
    };
    let empty = ledgers(&test);
    let bounce =
        postmark_bounce(4_323_372_036_854_775_807, "reader01@example.org", "HardBounce", &rfc3339(60));
    assert_unchanged(&test, &empty, hook(None, &bounce), 401);
    assert_unchanged(&test, &empty, hook(Some(&bad), &bounce), 401);
    let stale = postmark_bounce(17, "reader01@example.org", "HardBounce", &rfc3339(40 * 86_400));
    assert_unchanged(&test, &empty, hook(Some(&good), &stale), 403);

    let (status, body) = hook(Some(&good), &bounce);
    assert_eq!(status, 200, "{body}");
    let after = ledgers(&test);
    assert_eq!(after.suppressed.len(), 1);
    assert_eq!(after.suppressed[0].0, "reader01@example.org");
    assert_eq!(after.suppressed[0].1, "hard-bounce");
    assert!(after.suppressed[0].2.contains("550 5.1.1"), "{after:?}");
    assert_unchanged(&test, &after, hook(Some(&good), &bounce), 409);

    let complaint = json!({
        "RecordType": "SpamComplaint", "ID": 18, "Type": "SpamComplaint", "Email": "reader02@example.org",
        "BouncedAt": rfc3339(5), "MessageID": "00000000-0000-0000-0000-000000000002",
    });
    let (status, body) = hook(Some(&good), &complaint.to_string());
    assert_eq!(status, 200, "{body}");
    let reasons: Vec<(String, String)> =
        ledgers(&test).suppressed.into_iter().map(|(e, r, _)| (e, r)).collect();
    assert_eq!(
        reasons,
        [
            ("reader01@example.org".to_owned(), "hard-bounce".to_owned()),
            ("reader02@example.org".to_owned(), "complaint".to_owned())
        ]
    );
    assert_eq!(mailed_next(&test), ["reader03@example.org"]);
    let (_, out, log) = server.stop();
    assert!(!out.contains(POSTMARK_PASSWORD) && !log.contains(POSTMARK_PASSWORD), "{out}{log}");
    assert!(log.contains("webhook postmark: refused (401): wrong basic-auth credentials"), "{log}");
}

// --------------------------------------------------------------- SendGrid

/// An ECDSA P-256 key pair made by openssl in `dir` as `name.key`; the
/// public key as SendGrid shows it (base64 DER SubjectPublicKeyInfo).
fn p256(dir: &Path, name: &str) -> String {
    let key = format!("{name}.key");
    openssl(dir, &["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", &key]);
    let der = openssl(dir, &["ec", "-in", &key, "-pubout", "-outform", "DER"]);
    base64::engine::general_purpose::STANDARD.encode(der)
}

fn sendgrid(server: &Server, dir: &Path, key: &str, timestamp: u64, body: &str) -> (u16, String) {
    let timestamp = timestamp.to_string();
    let signature = sign(dir, key, "-sha256", format!("{timestamp}{body}").as_bytes());
    post(
        server,
        "/webhooks/sendgrid",
        &[
            ("Content-Type", "application/json"),
            ("X-Twilio-Email-Event-Webhook-Signature", &signature),
            ("X-Twilio-Email-Event-Webhook-Timestamp", &timestamp),
        ],
        body,
    )
}

#[test]
fn a_signed_sendgrid_batch_suppresses_its_complaint_and_unsubscribe_and_a_forged_stale_or_replayed_batch_changes_nothing()
 {
    let keys = tempfile::tempdir().unwrap();
    let public = p256(keys.path(), "sendgrid");
    p256(keys.path(), "forger");
    let test = mailed(3, &[("SENDGRID_VERIFICATION_KEY", &public)]);
    let server = serve(&test);
    let at = now();
    let batch = json!([
        {"email": "reader01@example.org", "event": "spamreport", "sg_event_id": "ev-spam-1", "timestamp": at},
        {"email": "reader02@example.org", "event": "unsubscribe", "sg_event_id": "ev-unsub-1", "timestamp": at},
        {"email": "reader03@example.org", "event": "delivered", "sg_event_id": "ev-delivered-1", "timestamp": at},
        {"email": "stranger@example.org", "event": "bounce", "type": "bounce", "status": "5.1.1",
         "sg_event_id": "ev-stranger-1", "timestamp": at},
    ])
    .to_string();
    let empty = ledgers(&test);
    assert_unchanged(&test, &empty, sendgrid(&server, keys.path(), "forger.key", at, &batch), 401);
    assert_unchanged(&test, &empty, sendgrid(&server, keys.path(), "sendgrid.key", at - 600, &batch), 403);
    // Signed for another body than the one sent.
    let signature = sign(keys.path(), "sendgrid.key", "-sha256", format!("{at}[]").as_bytes());
    let tampered = post(
        &server,
        "/webhooks/sendgrid",
        &[
            ("X-Twilio-Email-Event-Webhook-Signature", signature.as_str()),
            ("X-Twilio-Email-Event-Webhook-Timestamp", &at.to_string()),
        ],
        &batch,
    );
    assert_unchanged(&test, &empty, tampered, 401);

    let (status, body) = sendgrid(&server, keys.path(), "sendgrid.key", at, &batch);
    assert_eq!(status, 200, "{body}");
    let after = ledgers(&test);
    let reasons: Vec<(&str, &str)> =
        after.suppressed.iter().map(|(e, r, _)| (e.as_str(), r.as_str())).collect();
    assert_eq!(reasons, [("reader01@example.org", "complaint"), ("reader02@example.org", "unsubscribed")]);
    assert_eq!(
        after.reports,
        [("reader01@example.org".into(), "complaint".into(), "SendGrid webhook".into())]
    );
    assert_unchanged(&test, &after, sendgrid(&server, keys.path(), "sendgrid.key", at, &batch), 409);
    assert_eq!(mailed_next(&test), ["reader03@example.org"]);
}

#[test]
fn a_webhook_whose_settings_are_unset_is_not_there() {
    let (test, _) = list_test(1);
    let server = serve(&test);
    for relay in ["postmark", "mailgun", "sendgrid", "ses"] {
        let (status, _) = post(&server, &format!("/webhooks/{relay}"), &[], "{}");
        assert_eq!(status, 404, "{relay}");
    }
}
