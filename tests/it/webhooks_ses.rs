//! Amazon SES's notifications through SNS end to end (issue 26): the test
//! plays SNS with a signing certificate of its own (RSA, `openssl`), served
//! over HTTPS on 127.0.0.1 (`tests/support/https_server.py`, its TLS
//! certificate from the tests' own authority), and `bulletin serve`
//! configured as the guide says for a self-hosted mirror:
//! `SNS_CERT_URL_HOSTS=127.0.0.1:PORT`, `SNS_CERT_CA_FILE`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use pretty_assertions::assert_eq;
use serde_json::json;

use crate::send_util::{DEADLINE, TestCa};
use crate::signup::serve;
use crate::unsubscribe::Server;
use crate::util::Test;
use crate::webhooks::{Ledgers, ledgers, mailed, openssl, post, rfc3339, sign};

const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:hope-bounces";

/// The test's SNS hosts: an HTTPS file server on 127.0.0.1.
struct Mirror {
    child: Child,
    port: u16,
    requests: mpsc::Receiver<String>,
    dir: tempfile::TempDir,
}

impl Mirror {
    fn start(ca: &TestCa) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let tls = ca.issue(&["127.0.0.1"]);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/https_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .arg(&tls.cert)
            .arg(&tls.key)
            .arg("180")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let (tx, requests) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = requests.recv_timeout(DEADLINE).expect("the HTTPS server starts");
        let port = first.strip_prefix("port ").expect("it says its port").parse().unwrap();
        // The signing certificate: RSA, self-signed, as SNS's is a plain
        // RSA certificate; and a page to confirm subscriptions at.
        openssl(
            dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=sns.test",
                "-keyout",
                "signing.key",
                "-out",
                "signing.pem",
            ],
        );
        openssl(dir.path(), &["genrsa", "-out", "forger.key", "2048"]);
        std::fs::write(dir.path().join("confirm"), "<ConfirmSubscriptionResponse/>").unwrap();
        Self { child, port, requests, dir }
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}/{path}", self.port)
    }

    /// The requests it answered since the last call. The server prints a
    /// request's line before it answers, but the line reaches the test
    /// through a reader thread that may not have passed it on yet: lines
    /// are taken until none has come for [`QUIET`].
    fn requests(&self) -> Vec<String> {
        std::iter::from_fn(|| self.requests.recv_timeout(QUIET).ok()).collect()
    }

    /// An SNS message of `kind` with `fields`, signed (`version` 1: SHA1,
    /// 2: SHA256) with `key` over SNS's canonical string.
    fn message(&self, key: &str, version: u8, fields: serde_json::Value) -> String {
        let mut message = fields;
        let kind = message["Type"].as_str().unwrap().to_owned();
        let names: &[&str] = if kind == "Notification" {
            &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        } else {
            &["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        };
        let mut canonical = String::new();
        for name in names {
            if let Some(value) = message[name].as_str() {
                canonical.push_str(&format!("{name}\n{value}\n"));
            }
        }
        let digest = if version == 1 { "-sha1" } else { "-sha256" };
        message["Signature"] = sign(self.dir.path(), key, digest, canonical.as_bytes()).into();
        message["SignatureVersion"] = version.to_string().into();
        if message.get("SigningCertURL").is_none() {
            message["SigningCertURL"] = self.url("SimpleNotificationService-test.pem").into();
        }
        message.to_string()
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long the mirror's output must stay quiet before the requests it
/// printed are taken to be all of them.
const QUIET: std::time::Duration = std::time::Duration::from_millis(300);

fn bounce(id: &str, recipient: &str, bounce_type: &str, ago: u64) -> serde_json::Value {
    let ses = json!({
        "notificationType": "Bounce",
        "bounce": {"bounceType": bounce_type, "bounceSubType": "General", "bouncedRecipients": [
            {"emailAddress": recipient, "action": "failed", "status": "5.1.1",
             "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]},
        "mail": {"messageId": "0102018c-ses-id", "source": "news@hope.example.org"},
    });
    json!({"Type": "Notification", "MessageId": id, "TopicArn": TOPIC, "Message": ses.to_string(),
           "Timestamp": rfc3339(ago)})
}

/// The SNS stand-in serving its signing certificate, and `readers` readers
/// mailed by a `serve` set up for `TOPIC` the way the user guide says:
/// certificates from the stand-in's host only, trusted through the test CA.
fn subscribed_to_sns(readers: usize) -> (TestCa, Mirror, Test, Server) {
    let ca = TestCa::new();
    let mirror = Mirror::start(&ca);
    std::fs::copy(
        mirror.dir.path().join("signing.pem"),
        mirror.dir.path().join("SimpleNotificationService-test.pem"),
    )
    .unwrap();
    let hosts = format!("127.0.0.1:{}", mirror.port);
    let ca_file = ca.cert_file();
    let test = mailed(
        readers,
        &[
            ("SES_SNS_TOPIC_ARN", TOPIC),
            ("SNS_CERT_URL_HOSTS", &hosts),
            ("SNS_CERT_CA_FILE", ca_file.to_str().unwrap()),
        ],
    );
    let server = serve(&test);
    (ca, mirror, test, server)
}

#[test]
fn an_ses_bounce_signed_by_the_sns_certificate_suppresses_and_forged_other_topic_stale_replayed_or_foreign_hosted_ones_change_nothing()
 {
    let (_ca, mirror, test, server) = subscribed_to_sns(3);
    let hook =
        |body: &str| post(&server, "/webhooks/ses", &[("x-amz-sns-message-type", "Notification")], body);
    let unchanged = |before: &Ledgers, (status, body): (u16, String), expected: u16| {
        assert_eq!(status, expected, "{body}");
        assert_eq!(&ledgers(&test), before, "{body}");
    };
    let empty = ledgers(&test);

    let forged = mirror.message("forger.key", 2, bounce("m-forged", "reader01@example.org", "Permanent", 5));
    unchanged(&empty, hook(&forged), 401);
    assert_eq!(mirror.requests(), ["GET /SimpleNotificationService-test.pem"], "fetched once, then kept");
    let mut other_topic = bounce("m-other", "reader01@example.org", "Permanent", 5);
    other_topic["TopicArn"] = "arn:aws:sns:eu-west-1:999999999999:someone-else".into();
    unchanged(&empty, hook(&mirror.message("signing.key", 2, other_topic)), 403);
    let mut elsewhere = bounce("m-elsewhere", "reader01@example.org", "Permanent", 5);
    elsewhere["SigningCertURL"] =
        format!("https://localhost:{}/SimpleNotificationService-test.pem", mirror.port).into();
    let refused = hook(&mirror.message("signing.key", 2, elsewhere));
    assert!(refused.1.contains("not https on a host of SNS_CERT_URL_HOSTS"), "{refused:?}");
    unchanged(&empty, refused, 403);
    let mut not_pem = bounce("m-not-pem", "reader01@example.org", "Permanent", 5);
    not_pem["SigningCertURL"] = mirror.url("confirm?SimpleNotificationService-test.pem").into();
    let refused = hook(&mirror.message("signing.key", 2, not_pem));
    assert!(refused.1.contains("not a .pem file"), "{refused:?}");
    unchanged(&empty, refused, 403);
    assert_eq!(mirror.requests(), Vec::<String>::new(), "nothing fetched for the refused ones");
    let stale =
        mirror.message("signing.key", 1, bounce("m-stale", "reader01@example.org", "Permanent", 40 * 86_400));
    unchanged(&empty, hook(&stale), 403);

    let valid = mirror.message("signing.key", 1, bounce("m-valid", "reader01@example.org", "Permanent", 5));
    let (status, body) = hook(&valid);
    assert_eq!(status, 200, "{body}");
    let after = ledgers(&test);
    assert_eq!(
        after.suppressed,
        [(
            "reader01@example.org".to_owned(),
            "hard-bounce".to_owned(),
            "smtp; 550 5.1.1 user unknown".to_owned()
        )]
    );
    assert_eq!(after.reports, [("reader01@example.org".into(), "hard".into(), "Amazon SES webhook".into())]);
    unchanged(&after, hook(&valid), 409);

    let complaint = json!({"Type": "Notification", "MessageId": "m-complaint", "TopicArn": TOPIC, "Timestamp": rfc3339(1),
        "Message": json!({"notificationType": "Complaint", "complaint": {"complainedRecipients": [
            {"emailAddress": "reader02@example.org"}], "complaintFeedbackType": "abuse"}, "mail": {}}).to_string()});
    let (status, body) = hook(&mirror.message("signing.key", 2, complaint));
    assert_eq!(status, 200, "{body}");
    assert_eq!(ledgers(&test).suppressed[1].1, "complaint");
    let next: Vec<String> =
        crate::signup::dry_run(&test, crate::webhooks::NEXT).into_iter().map(|(to, _)| to).collect();
    assert_eq!(next, ["reader03@example.org"]);
}

#[test]
fn an_sns_subscription_confirmation_for_the_topic_is_confirmed_only_on_an_allowed_host() {
    let (_ca, mirror, test, server) = subscribed_to_sns(1);
    let confirmation = |id: &str, subscribe: String| {
        let fields = json!({"Type": "SubscriptionConfirmation", "MessageId": id, "TopicArn": TOPIC, "Token": "tok-1",
            "Message": "You have chosen to subscribe to the topic.", "SubscribeURL": subscribe, "Timestamp": rfc3339(1)});
        let body = mirror.message("signing.key", 1, fields);
        post(&server, "/webhooks/ses", &[("x-amz-sns-message-type", "SubscriptionConfirmation")], &body)
    };
    let (status, body) =
        confirmation("c-elsewhere", format!("https://localhost:{}/confirm?Token=tok-1", mirror.port));
    assert!(status == 403 && body.contains("SubscribeURL is not https on a host"), "{status} {body}");
    let (status, body) =
        confirmation("c-http", format!("http://127.0.0.1:{}/confirm?Token=tok-1", mirror.port));
    assert!(status == 403 && body.contains("SubscribeURL is not https on a host"), "{status} {body}");
    assert_eq!(mirror.requests(), ["GET /SimpleNotificationService-test.pem"], "no confirmation fetched");
    assert_eq!(ledgers(&test), Ledgers { suppressed: vec![], reports: vec![] });
    let (status, body) = confirmation("c-1", mirror.url("confirm?Action=ConfirmSubscription&Token=tok-1"));
    assert_eq!(status, 200, "{body}");
    let requests = mirror.requests();
    assert!(
        requests.contains(&"GET /confirm?Action=ConfirmSubscription&Token=tok-1".to_owned()),
        "{requests:?}"
    );
    let (_, out, log) = server.stop();
    assert!(log.contains(&format!("confirmed the subscription to {TOPIC}")), "{out}{log}");
}
