//! `bulletin check --dns` against a real DNS server: Debian's `dnsmasq`
//! on 127.0.0.1 and a free port (no daemon, no upstream servers, no
//! /etc/hosts), serving the records each test writes, correct, missing or
//! wrong; `DNS_SERVER` points the look-ups at it. DKIM keys are made by
//! `openssl`, and the record's `p=` by `openssl pkey -pubout`, not by
//! bulletin.

use std::net::{TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::util::{Run, Test, bulletin};

const FROM: &str = "news@example.org";
const SELECTOR: &str = "bulletin2025";
const KEY_FILE: &str = "keys/dkim.pem";
const RELAY: &str = "smtp.example.org";
const RELAY_IP: &str = "127.0.0.5";

/// A `dnsmasq` serving only what it is given, stopped when dropped.
struct Dnsmasq {
    child: Child,
    port: u16,
}

impl Dnsmasq {
    /// Starts dnsmasq with `records` (its `--txt-record=`, `--mx-host=` and
    /// `--host-record=` options) and waits, at most 10 s, until it listens.
    /// A port another process took between our choosing and dnsmasq
    /// binding it (tests run four at a time) is chosen again, 10 times at most.
    fn start(records: &[String]) -> Self {
        for _ in 0..10 {
            let port = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            match Self::start_on(port, records) {
                Ok(server) => return server,
                Err(stderr) if stderr.contains("Address already in use") => continue,
                Err(stderr) => panic!("dnsmasq stopped: {stderr}"),
            }
        }
        panic!("dnsmasq found no free port in 10 tries");
    }

    /// dnsmasq listening on `port`, or what it said when it stopped.
    fn start_on(port: u16, records: &[String]) -> Result<Self, String> {
        let child = Command::new("dnsmasq")
            .args([
                "--keep-in-foreground",
                "--no-resolv",
                "--no-hosts",
                "--conf-file=/dev/null",
                "--pid-file=",
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--log-facility=-",
                // Names under these domains are answered from the records
                // alone (no such name: NXDOMAIN), never forwarded.
                "--local=/example.org/",
                "--local=/example.net/",
                &format!("--port={port}"),
            ])
            .args(records)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dnsmasq is needed for the DNS tests (scripts/test.sh installs Debian's dnsmasq-base)");
        let mut server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                let mut stderr = String::new();
                std::io::Read::read_to_string(server.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
                return Err(format!("({status}) {stderr}"));
            }
            assert!(Instant::now() < deadline, "dnsmasq did not listen on port {port} within 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TXT record as dnsmasq takes it: the value in strings of at most 255
/// characters.
fn txt(name: &str, value: &str) -> String {
    let parts: Vec<&str> =
        value.as_bytes().chunks(255).map(|chunk| std::str::from_utf8(chunk).unwrap()).collect();
    format!("--txt-record={name},{}", parts.join(","))
}

/// An RSA key made by openssl, and its DKIM record's value.
struct Key {
    pem: Vec<u8>,
    record: String,
}

fn openssl(args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl is needed to make test keys (scripts/test.sh installs it)");
    if let Some(input) = input {
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), input).unwrap();
    }
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

impl Key {
    fn new() -> Self {
        let pem = openssl(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], None);
        let der = openssl(&["pkey", "-pubout", "-outform", "DER"], Some(&pem));
        let base64 = openssl(&["base64", "-A"], Some(&der));
        Self { pem, record: format!("v=DKIM1; k=rsa; p={}", String::from_utf8(base64).unwrap().trim()) }
    }
}

/// Two keys for the whole run: the one DKIM_PRIVATE_KEY holds, and another.
fn keys() -> &'static (Key, Key) {
    static KEYS: OnceLock<(Key, Key)> = OnceLock::new();
    KEYS.get_or_init(|| (Key::new(), Key::new()))
}

/// The records of a correct setup, each of which a test may change.
struct Zone {
    spf: Option<String>,
    relay_ip: String,
    dkim: Option<String>,
    dmarc: Option<String>,
    mx: bool,
    extra: Vec<String>,
}

impl Zone {
    fn correct() -> Self {
        Self {
            spf: Some(format!("v=spf1 ip4:{RELAY_IP} -all")),
            relay_ip: RELAY_IP.to_owned(),
            dkim: Some(keys().0.record.clone()),
            dmarc: Some("v=DMARC1; p=reject".to_owned()),
            mx: true,
            extra: Vec::new(),
        }
    }

    fn records(&self) -> Vec<String> {
        let mut records = vec![format!("--host-record={RELAY},{}", self.relay_ip)];
        records.extend(self.spf.iter().map(|spf| txt("example.org", spf)));
        records.extend(self.dkim.iter().map(|dkim| txt(&format!("{SELECTOR}._domainkey.example.org"), dkim)));
        records.extend(self.dmarc.iter().map(|dmarc| txt("_dmarc.example.org", dmarc)));
        if self.mx {
            records.push("--mx-host=example.org,mx.example.org,10".to_owned());
            records.push("--host-record=mx.example.org,127.0.0.9".to_owned());
        }
        records.extend(self.extra.iter().cloned());
        records
    }
}

/// `check --dns` of a clean bulletin and list, signed with the first key,
/// against `zone`, with `settings` added.
fn check(zone: &Zone, settings: &[(&str, &str)]) -> Run {
    let dns = Dnsmasq::start(&zone.records());
    let mut test = Test::new()
        .file("bulletin.md", bulletin("Hello."))
        .file("subscribers/subscribers.csv", "email,first_name\nreader@example.org,Ann\n")
        .file(KEY_FILE, &keys().0.pem)
        .env("FROM_EMAIL", FROM)
        .env("ORG_NAME", "Hope Trust")
        .env("ORG_ADDRESS", "2 High Street, Hopeton, HO1 2PE")
        .env("SMTP_HOST", RELAY)
        .env("DKIM_DOMAIN", "example.org")
        .env("DKIM_SELECTOR", SELECTOR)
        .env("DKIM_PRIVATE_KEY", KEY_FILE)
        .env("DNS_SERVER", &dns.address());
    for (key, value) in settings {
        test.set_env(key, value);
    }
    test.run(&["check", "bulletin.md", "--dns"])
}

/// The one line of standard output that starts with `start`.
#[track_caller]
fn line<'a>(run: &'a Run, start: &str) -> &'a str {
    let lines: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with(start)).collect();
    assert_eq!(lines.len(), 1, "one line starting {start:?}\n{}", run.printed());
    lines[0]
}

#[test]
fn a_correct_setup_gets_one_line_per_item_saying_it_is_fine() {
    let run = check(&Zone::correct(), &[]).code(0);
    assert!(line(&run, "DNS: ").starts_with("DNS: asked DNS server 127.0.0.1:"), "{}", run.printed());
    assert_eq!(
        line(&run, "SPF: "),
        "SPF: example.org's record authorises the relay smtp.example.org (127.0.0.5): v=spf1 ip4:127.0.0.5 -all"
    );
    assert_eq!(
        line(&run, "DKIM record: "),
        "DKIM record: bulletin2025._domainkey.example.org publishes the public key of DKIM_PRIVATE_KEY (a test signature verifies)"
    );
    assert_eq!(
        line(&run, "DMARC: "),
        "DMARC: _dmarc.example.org publishes p=reject (adkim=r, aspf=r); From example.org aligns with DKIM \
         d=example.org and with the envelope sender's domain example.org"
    );
    assert_eq!(
        line(&run, "bounces: "),
        "bounces: example.org receives mail at mx.example.org, so bounce reports can arrive"
    );
    assert!(!run.stdout.contains("error:") && !run.stdout.contains("warning: SPF"), "{}", run.printed());
}

#[test]
fn a_missing_spf_record_is_an_error_giving_the_record_to_publish() {
    let run = check(&Zone { spf: None, ..Zone::correct() }, &[]).code(1);
    assert_eq!(
        line(&run, "error: SPF: "),
        "error: SPF: example.org, the envelope sender's domain, has no SPF record, so receivers cannot tell the \
         relay smtp.example.org (127.0.0.5) may send for it; publish a TXT record at example.org: \
         v=spf1 ip4:127.0.0.5 ~all"
    );
    line(&run, "DKIM record: ");
}

#[test]
fn an_spf_record_not_authorising_the_relays_address_is_an_error_giving_the_record_with_it() {
    let run = check(&Zone { relay_ip: "127.0.0.6".to_owned(), ..Zone::correct() }, &[]).code(1);
    assert_eq!(
        line(&run, "error: SPF: "),
        "error: SPF: example.org's record does not authorise the relay smtp.example.org (127.0.0.6: fail): \
         v=spf1 ip4:127.0.0.5 -all; publish instead: v=spf1 ip4:127.0.0.6 ip4:127.0.0.5 -all"
    );
}

#[test]
fn a_missing_dkim_record_is_an_error_giving_the_record_to_publish() {
    let run = check(&Zone { dkim: None, ..Zone::correct() }, &[]).code(1);
    let error = line(&run, "error: DKIM record: ");
    assert!(
        error.starts_with(
            "error: DKIM record: there is no DKIM record at bulletin2025._domainkey.example.org, so no signature \
             verifies; publish this TXT record: bulletin2025._domainkey.example.org. IN TXT ( \"v=DKIM1; k=rsa; p="
        ),
        "{error}"
    );
    // The record to publish holds the key openssl derived from DKIM_PRIVATE_KEY.
    let p = keys().0.record.split("p=").nth(1).unwrap();
    assert!(error.replace("\" \"", "").contains(p), "{error}");
}

#[test]
fn a_dkim_record_with_another_key_is_an_error_naming_the_key_file() {
    let run = check(&Zone { dkim: Some(keys().1.record.clone()), ..Zone::correct() }, &[]).code(1);
    let error = line(&run, "error: DKIM record: ");
    assert!(
        error.starts_with(
            "error: DKIM record: the record at bulletin2025._domainkey.example.org publishes another key than \
             DKIM_PRIVATE_KEY's ("
        ) && error.contains("publish this TXT record: bulletin2025._domainkey.example.org. IN TXT ("),
        "{error}"
    );
}

#[test]
fn a_missing_dmarc_record_is_an_error_giving_the_record_to_publish() {
    let run = check(&Zone { dmarc: None, ..Zone::correct() }, &[]).code(1);
    assert_eq!(
        line(&run, "error: DMARC: "),
        "error: DMARC: there is no DMARC record at _dmarc.example.org: Gmail and Yahoo require one of bulk \
         senders; publish a TXT record at _dmarc.example.org: v=DMARC1; p=none (and add rua=mailto:ADDRESS to it \
         to receive reports)"
    );
}

#[test]
fn a_dmarc_policy_of_none_is_a_warning_giving_the_stricter_record() {
    let run = check(&Zone { dmarc: Some("v=DMARC1; p=none".to_owned()), ..Zone::correct() }, &[]).code(0);
    assert_eq!(
        line(&run, "warning: DMARC: "),
        "warning: DMARC: _dmarc.example.org publishes p=none (adkim=r, aspf=r); From example.org aligns with DKIM \
         d=example.org and with the envelope sender's domain example.org; p=none only asks for reports, so mail \
         forged as example.org is still delivered: once the reports show your mail passing, publish at \
         _dmarc.example.org: v=DMARC1; p=quarantine"
    );
}

#[test]
fn an_envelope_sender_on_another_domain_is_a_dmarc_warning() {
    let mut zone = Zone::correct();
    zone.extra = vec![
        txt("example.net", &format!("v=spf1 ip4:{RELAY_IP} -all")),
        "--mx-host=example.net,mx.example.org,10".to_owned(),
    ];
    let run = check(
        &zone,
        &[("BOUNCE_ADDRESS", "bounces@example.net"), ("UNSUBSCRIBE_SECRET", "s3cret-for-tests")],
    )
    .code(0);
    line(&run, "SPF: example.net's record authorises the relay");
    line(&run, "bounces: example.net receives mail at mx.example.org");
    assert_eq!(
        line(&run, "warning: DMARC: "),
        "warning: DMARC: _dmarc.example.org publishes p=reject (adkim=r, aspf=r); From example.org aligns with DKIM \
         d=example.org but not with the envelope sender's domain example.net: DMARC passes on the DKIM signature \
         alone, and fails where a forwarder breaks it; use a BOUNCE_ADDRESS under example.org"
    );
}

#[test]
fn a_bounce_domain_without_mx_or_address_is_an_error_saying_what_to_publish() {
    let mut zone = Zone::correct();
    zone.extra = vec![txt("bounces.example.org", &format!("v=spf1 ip4:{RELAY_IP} -all"))];
    let run = check(
        &zone,
        &[("BOUNCE_ADDRESS", "b@bounces.example.org"), ("UNSUBSCRIBE_SECRET", "s3cret-for-tests")],
    )
    .code(1);
    line(&run, "SPF: bounces.example.org's record authorises the relay");
    assert_eq!(
        line(&run, "error: bounces: "),
        "error: bounces: bounces.example.org, the envelope sender's domain, has no MX or address record, so bounce \
         reports cannot arrive; publish an MX record for bounces.example.org naming the server that receives its \
         mail (bounces.example.org. IN MX 10 mail.bounces.example.org.), or set BOUNCE_ADDRESS to a mailbox on a \
         domain that receives mail"
    );
}

#[test]
fn a_dns_server_that_never_answers_is_reported_within_seconds() {
    // Bound but silent: queries go nowhere (UDP) or are never answered (TCP).
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = udp.local_addr().unwrap().port();
    let _tcp = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let started = Instant::now();
    let run = Test::new()
        .file("bulletin.md", bulletin("Hello."))
        .file("subscribers/subscribers.csv", "email\nreader@example.org\n")
        .env("FROM_EMAIL", FROM)
        .env("DNS_SERVER", &format!("127.0.0.1:{port}"))
        .run(&["check", "bulletin.md", "--dns"])
        .code(1);
    assert!(started.elapsed() < Duration::from_secs(8), "took {:?}", started.elapsed());
    let error = line(&run, "error: DNS: ");
    assert!(
        error.starts_with(&format!("error: DNS: DNS server 127.0.0.1:{port} (DNS_SERVER) did not answer")),
        "{error}"
    );
    assert!(!run.stdout.contains("SPF:"), "{}", run.printed());
}

#[test]
fn a_dns_server_given_by_name_is_refused_naming_the_setting() {
    let run = Test::new()
        .file("bulletin.md", bulletin("Hello."))
        .file("subscribers/subscribers.csv", "email\nreader@example.org\n")
        .env("DNS_SERVER", "dns.example.org")
        .run(&["check", "bulletin.md", "--dns"])
        .code(1);
    let error = line(&run, "error: DNS: ");
    assert!(
        error.starts_with("error: DNS: not checked: setting DNS_SERVER = \"dns.example.org\" (from the environment): must be"),
        "{error}"
    );
}
