//! Real SMTP servers on 127.0.0.1 for the sending tests, and the binary run
//! in the background so a test can interrupt or kill it.
//!
//! Two servers: Postfix's `smtp-sink` (a plain, fast sink, as lettre's own
//! CI uses) and `tests/support/smtp_server.py` (aiosmtpd, which can be told
//! to misbehave per recipient, or to speak TLS with a certificate from
//! [`TestCa`]). Each listens on a free port of 127.0.0.1,
//! writes what it accepts into a folder of its own, and is stopped when
//! dropped; if the test process dies first, each also stops by itself
//! (its standard input closes, and it has a lifetime). Every wait here has
//! a deadline.

use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::util::{Eml, Run};

/// The longest any test waits for something to happen.
/// The sender of the test sends.
pub const FROM_EMAIL: &str = "news@hope.example.org";

/// `test` with the settings for a real send to the relay on
/// 127.0.0.1:`port`: a real-looking organisation, no TLS (this machine
/// only), retries after 50 ms.
pub fn to_relay(test: crate::util::Test, port: u16) -> crate::util::Test {
    test.env("FROM_EMAIL", FROM_EMAIL)
        .env("ORG_NAME", "Hope Trust")
        .env("ORG_ADDRESS", "2 High Street, Hopeton, HO1 2PE")
        .env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_PORT", &port.to_string())
        .env("SMTP_SECURITY", "none")
        .env("SMTP_RETRY_DELAY", "50ms")
        .env("SMTP_TIMEOUT", "10s")
}

/// How long a wait for the test SMTP server gives up after: long enough for
/// a machine busy with other test binaries, and never waited out by a test
/// that passes.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The longest the test SMTP server holds an answer a test never released.
const HOLD_LIMIT: Duration = Duration::from_secs(60);

/// `test` (from [`to_relay`]) with an `SMTP_TIMEOUT` longer than the test
/// SMTP server ever holds an answer ([`Faults::hold_after`]), so a held
/// message waits for its release however long the test takes to give it.
pub fn outwaiting_holds(test: crate::util::Test) -> crate::util::Test {
    test.env("SMTP_TIMEOUT", &format!("{}s", HOLD_LIMIT.as_secs() + 30))
}

/// How long a server lives at most if nobody stops it.
const SERVER_LIFETIME_SECS: u32 = 180;

const SMTP_SINK: &str = "/usr/sbin/smtp-sink";

/// Polls `probe` every 20 ms until it gives a value; panics naming `what`
/// after `limit`.
#[track_caller]
pub fn wait_until<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "gave up after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Fails the test, clearly, when a server the tests need is not installed.
pub fn require_smtp_sink() {
    assert!(
        Path::new(SMTP_SINK).is_file(),
        "{SMTP_SINK} is missing: the sending tests need Postfix's smtp-sink. Install postfix \
         (scripts/test.sh does: apt-get install postfix)"
    );
}

/// Fails the test, clearly, when Python's aiosmtpd cannot be imported.
pub fn require_aiosmtpd() {
    static FOUND: OnceLock<Result<(), String>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        match Command::new("python3").args(["-c", "import aiosmtpd"]).stdin(Stdio::null()).output() {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
            Err(e) => Err(format!("cannot run python3: {e}")),
        }
    });
    if let Err(why) = found {
        panic!(
            "python3 with aiosmtpd is missing: the sending tests need it. Install it with \
             `python3 -m pip install aiosmtpd` (scripts/test.sh does).\n{why}"
        );
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("cannot bind 127.0.0.1:0");
    listener.local_addr().expect("a bound socket has an address").port()
}

/// A temporary folder everyone may write to (smtp-sink drops to `nobody`).
fn open_folder() -> TempDir {
    let dir = tempfile::tempdir().expect("cannot make a temporary folder");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).expect("cannot chmod folder");
    dir
}

/// Closes `stdin`, which tells the server to stop, then waits (bounded),
/// killing it if it lingers.
fn stop(child: &mut Child, stdin: &mut Option<ChildStdin>) {
    drop(stdin.take());
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// One message a server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// The file it was stored in.
    pub file: String,
    /// The envelope sender and recipients, without angle brackets.
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// When MAIL FROM arrived and when the message was accepted, in seconds
    /// since the epoch (aiosmtpd only).
    pub mail_time: Option<f64>,
    pub time: Option<f64>,
    /// The connection it came on: the client's port (aiosmtpd only).
    pub session: Option<u16>,
    /// The message as the server stored it (smtp-sink's added lines removed).
    pub raw: Vec<u8>,
}

impl Received {
    /// The message as an [`Eml`], CRLF line ends restored if the server
    /// stored LF.
    pub fn eml(&self) -> Eml {
        let raw = if self.raw.windows(2).any(|w| w == b"\r\n") {
            self.raw.clone()
        } else {
            String::from_utf8_lossy(&self.raw).replace('\n', "\r\n").into_bytes()
        };
        Eml { name: self.file.clone(), raw }
    }

    /// The `Message-ID` header's value.
    pub fn message_id(&self) -> String {
        self.eml().header("Message-ID").unwrap_or_else(|| panic!("{}: no Message-ID", self.file))
    }

    /// The one envelope recipient.
    #[track_caller]
    pub fn recipient(&self) -> &str {
        assert_eq!(self.rcpt_to.len(), 1, "{}: one recipient per message: {:?}", self.file, self.rcpt_to);
        &self.rcpt_to[0]
    }
}

/// The messages by (lower-case) envelope recipient.
pub fn by_recipient(messages: &[Received]) -> std::collections::BTreeMap<String, Vec<&Received>> {
    let mut map: std::collections::BTreeMap<String, Vec<&Received>> = std::collections::BTreeMap::new();
    for message in messages {
        map.entry(message.recipient().to_lowercase()).or_default().push(message);
    }
    map
}

/// What to make the aiosmtpd server do wrong.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    auth: Option<(String, String)>,
    tempfail: Vec<(String, u32)>,
    reject: Vec<(String, String)>,
    drop_data: Vec<(String, u32)>,
    reject_sender: Option<String>,
    slow_reply: Vec<(String, f64)>,
    /// Hold the answer to every message after this many, until released.
    hold_after: Option<u32>,
    /// Hold the answer to every message to these, until released.
    hold: Vec<String>,
    session_limit: Option<u32>,
    /// A sending rate per second, and the refusal beyond it.
    rate: Option<(u32, String)>,
    /// A quota of messages, and the refusal once it is used up.
    quota: Option<(u32, String)>,
    /// Connections open at once, and the greeting for one more.
    max_connections: Option<(u32, String)>,
    /// The TLS mode, and the certificate and key files.
    tls: Option<(&'static str, ServerCertificate)>,
    /// Leave SMTPUTF8 out of the EHLO reply.
    without_smtputf8: bool,
}

impl Faults {
    pub fn new() -> Self {
        Self::default()
    }

    /// Require AUTH with this user name and password.
    pub fn auth(mut self, username: &str, password: &str) -> Self {
        self.auth = Some((username.to_owned(), password.to_owned()));
        self
    }

    /// Answer the first `times` RCPTs to `address` with 451.
    pub fn tempfail(mut self, address: &str, times: u32) -> Self {
        self.tempfail.push((address.to_lowercase(), times));
        self
    }

    /// Answer every RCPT to `address` with `reply` (a 5xx line).
    pub fn reject(mut self, address: &str, reply: &str) -> Self {
        self.reject.push((address.to_lowercase(), reply.to_owned()));
        self
    }

    /// Close the connection, unanswered, at the end of the first `times`
    /// DATAs to `address`.
    pub fn drop_data(mut self, address: &str, times: u32) -> Self {
        self.drop_data.push((address.to_lowercase(), times));
        self
    }

    /// Refuse every MAIL FROM with `reply`.
    pub fn reject_sender(mut self, reply: &str) -> Self {
        self.reject_sender = Some(reply.to_owned());
        self
    }

    /// Store each message to `address`, then wait `seconds` before
    /// answering 250: a sender stopped meanwhile cannot know it was taken.
    pub fn slow_reply(mut self, address: &str, seconds: f64) -> Self {
        self.slow_reply.push((address.to_lowercase(), seconds));
        self
    }

    /// Store each message after the first `messages`, then hold its 250
    /// until [`PyServer::release`]: a send cannot finish before that, so
    /// whatever the test does meanwhile overlaps it, on a machine however
    /// busy. (Give the send an `SMTP_TIMEOUT` longer than the hold.)
    pub fn hold_after(mut self, messages: u32) -> Self {
        self.hold_after = Some(messages);
        self
    }

    /// As [`Faults::hold_after`], for each message to `address`.
    pub fn hold(mut self, address: &str) -> Self {
        self.hold.push(address.to_lowercase());
        self
    }

    /// Close each session, unanswered, at the first MAIL FROM after it has
    /// carried `messages` messages.
    pub fn session_limit(mut self, messages: u32) -> Self {
        self.session_limit = Some(messages);
        self
    }

    /// Refuse a MAIL FROM with `reply` when `per_second` were admitted in
    /// the last second (a relay's sending rate).
    pub fn rate(mut self, per_second: u32, reply: &str) -> Self {
        self.rate = Some((per_second, reply.to_owned()));
        self
    }

    /// Refuse every MAIL FROM with `reply` after `messages` were admitted
    /// (a daily quota running out).
    pub fn quota(mut self, messages: u32, reply: &str) -> Self {
        self.quota = Some((messages, reply.to_owned()));
        self
    }

    /// Greet a connection beyond `count` open at once with `reply`, and
    /// close it.
    pub fn max_connections(mut self, count: u32, reply: &str) -> Self {
        self.max_connections = Some((count, reply.to_owned()));
        self
    }

    /// Do not offer SMTPUTF8 (as many relays do not): an address with
    /// non-ASCII letters cannot be given to it.
    pub fn without_smtputf8(mut self) -> Self {
        self.without_smtputf8 = true;
        self
    }

    /// TLS from the first byte, with `certificate`.
    pub fn implicit_tls(mut self, certificate: &ServerCertificate) -> Self {
        self.tls = Some(("implicit", certificate.clone()));
        self
    }

    /// STARTTLS required, with `certificate`, and AUTH only after it.
    pub fn starttls(mut self, certificate: &ServerCertificate) -> Self {
        self.tls = Some(("starttls", certificate.clone()));
        self
    }

    /// TLS as `security` (an `SMTP_SECURITY` value, `tls` or `starttls`) says.
    pub fn tls(self, security: &str, certificate: &ServerCertificate) -> Self {
        match security {
            "tls" => self.implicit_tls(certificate),
            "starttls" => self.starttls(certificate),
            other => panic!("no TLS mode is called {other:?}"),
        }
    }

    /// The faults as `tests/support/smtp_server.py` reads them; held
    /// answers are released when the file `release` exists.
    fn to_json(&self, release: &Path) -> String {
        fn string(s: &str) -> String {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c if (c as u32) < 0x20 => {
                        let _ = write!(out, "\\u{:04x}", c as u32);
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        fn object<V>(pairs: &[(String, V)], value: impl Fn(&V) -> String) -> String {
            let items: Vec<String> =
                pairs.iter().map(|(k, v)| format!("{}: {}", string(k), value(v))).collect();
            format!("{{{}}}", items.join(", "))
        }
        let mut fields = vec![
            format!("\"tempfail\": {}", object(&self.tempfail, u32::to_string)),
            format!("\"reject\": {}", object(&self.reject, |v| string(v))),
            format!("\"drop_data\": {}", object(&self.drop_data, u32::to_string)),
            format!("\"slow_reply\": {}", object(&self.slow_reply, f64::to_string)),
        ];
        if self.hold_after.is_some() || !self.hold.is_empty() {
            let after = self.hold_after.map_or("null".to_owned(), |n| n.to_string());
            let recipients: Vec<String> = self.hold.iter().map(|a| string(a)).collect();
            fields.push(format!(
                "\"hold\": {{\"after\": {after}, \"recipients\": [{}], \"release\": {}, \"limit\": {}}}",
                recipients.join(", "),
                string(release.to_str().expect("temporary paths are UTF-8")),
                HOLD_LIMIT.as_secs()
            ));
        }
        if let Some(limit) = self.session_limit {
            fields.push(format!("\"session_limit\": {limit}"));
        }
        if self.without_smtputf8 {
            fields.push("\"smtputf8\": false".to_owned());
        }
        if let Some((mode, certificate)) = &self.tls {
            let path = |p: &Path| string(p.to_str().expect("temporary paths are UTF-8"));
            fields.push(format!(
                "\"tls\": {{\"mode\": {}, \"cert\": {}, \"key\": {}}}",
                string(mode),
                path(&certificate.cert),
                path(&certificate.key)
            ));
        }
        for (name, limit) in
            [("rate", &self.rate), ("quota", &self.quota), ("max_connections", &self.max_connections)]
        {
            if let Some((count, reply)) = limit {
                let key = match name {
                    "rate" => "per_second",
                    "quota" => "messages",
                    _ => "count",
                };
                fields.push(format!("\"{name}\": {{\"{key}\": {count}, \"reply\": {}}}", string(reply)));
            }
        }
        if let Some(reply) = &self.reject_sender {
            fields.push(format!("\"reject_sender\": {}", string(reply)));
        }
        if let Some((username, password)) = &self.auth {
            fields.push(format!(
                "\"auth\": {{\"username\": {}, \"password\": {}}}",
                string(username),
                string(password)
            ));
        }
        format!("{{{}}}", fields.join(", "))
    }
}

/// A certificate authority of the tests' own, made with `openssl` at test
/// time (as an organisation makes its internal one), and the server
/// certificates it signs. Its files live as long as it does.
pub struct TestCa {
    dir: TempDir,
    issued: std::cell::Cell<u32>,
}

/// A server certificate and its private key, as PEM files.
#[derive(Debug, Clone)]
pub struct ServerCertificate {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Runs `openssl` with `command`'s words as arguments, in `dir`; panics
/// with what it said if it fails.
fn openssl(dir: &Path, command: &str) {
    let args: Vec<&str> = command.split_whitespace().collect();
    let output = Command::new("openssl")
        .args(&args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run openssl ({e}): the TLS tests make certificates with it (scripts/test.sh installs it)")
        });
    assert!(
        output.status.success(),
        "openssl {command} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A new EC P-256 key, without a passphrase.
const NEW_KEY: &str = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";

impl TestCa {
    /// A new authority: a key and a self-signed CA certificate.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("cannot make a temporary folder");
        openssl(
            dir.path(),
            &format!(
                "req -x509 {NEW_KEY} -days 2 -subj /O=HopeTrust/CN=HopeTrust-internal-CA \
                 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
                 -keyout ca.key -out ca.pem"
            ),
        );
        Self { dir, issued: std::cell::Cell::new(0) }
    }

    /// The authority's certificate (PEM), for `SMTP_CA_FILE`.
    pub fn cert_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A server certificate signed by this authority for `names` (host
    /// names or IP addresses, all in its subjectAltName).
    pub fn issue(&self, names: &[&str]) -> ServerCertificate {
        let n = self.issued.get() + 1;
        self.issued.set(n);
        let dir = self.dir.path();
        let san: Vec<String> = names
            .iter()
            .map(|name| match name.parse::<std::net::IpAddr>() {
                Ok(_) => format!("IP:{name}"),
                Err(_) => format!("DNS:{name}"),
            })
            .collect();
        let extensions = format!(
            "subjectAltName={}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=serverAuth\n",
            san.join(",")
        );
        fs::write(dir.join(format!("server{n}.ext")), extensions).expect("cannot write the extensions file");
        openssl(
            dir,
            &format!("req -new {NEW_KEY} -subj /CN={} -keyout server{n}.key -out server{n}.csr", names[0]),
        );
        openssl(
            dir,
            &format!(
                "x509 -req -in server{n}.csr -CA ca.pem -CAkey ca.key -set_serial {} -days 2 \
                 -extfile server{n}.ext -out server{n}.pem",
                1000 + n
            ),
        );
        ServerCertificate {
            cert: dir.join(format!("server{n}.pem")),
            key: dir.join(format!("server{n}.key")),
        }
    }
}

/// `tests/support/smtp_server.py`: aiosmtpd with faults per recipient.
pub struct PyServer {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    // Holds the faults (which may hold a password) and the server's log,
    // outside every test's own folder.
    home: TempDir,
}

impl PyServer {
    /// Starts the server with `faults` and waits (bounded) until it listens.
    pub fn start(faults: &Faults) -> Self {
        Self::start_for(faults, Duration::from_secs(SERVER_LIFETIME_SECS.into()))
    }

    /// [`PyServer::start`], the server living at most `lifetime` (for a
    /// test that runs longer than the usual lifetime).
    pub fn start_for(faults: &Faults, lifetime: Duration) -> Self {
        require_aiosmtpd();
        let home = tempfile::tempdir().expect("cannot make a temporary folder");
        let faults_path = home.path().join("faults.json");
        fs::write(&faults_path, faults.to_json(&home.path().join("release"))).expect("cannot write faults");
        let log = fs::File::create(home.path().join("server.log")).expect("cannot make the server log");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg("--dir")
            .arg(home.path().join("mail"))
            .arg("--faults")
            .arg(&faults_path)
            .arg("--lifetime")
            .arg(lifetime.as_secs().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut server = Self { child, stdin, port: 0, home };
        let line = rx.recv_timeout(DEADLINE).unwrap_or_default();
        match line.trim().strip_prefix("PORT ").and_then(|p| p.parse().ok()) {
            Some(port) => server.port = port,
            None => panic!("the test SMTP server did not start (said {line:?})\n{}", server.log()),
        }
        server
    }

    /// The port it listens on, on 127.0.0.1 and every other address of
    /// `localhost`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What the server wrote on standard error.
    pub fn log(&self) -> String {
        fs::read_to_string(self.home.path().join("server.log")).unwrap_or_default()
    }

    /// The folder it stores messages in: `<n>.eml` with `<n>.envelope`
    /// beside it, as `tests/support/smtp_server.py` says.
    pub fn mail_dir(&self) -> PathBuf {
        self.home.path().join("mail")
    }

    /// Answers the messages [`Faults::hold_after`] and [`Faults::hold`]
    /// hold, and every later one at once.
    pub fn release(&self) {
        fs::write(self.home.path().join("release"), "").expect("cannot write the release file");
    }

    /// How many messages it has accepted so far.
    pub fn count(&self) -> usize {
        let Ok(entries) = fs::read_dir(self.mail_dir()) else { return 0 };
        entries.filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))).count()
    }

    /// Waits (bounded) until it has accepted at least `n` messages.
    pub fn wait_for(&self, n: usize) {
        wait_until(&format!("{n} messages at the test SMTP server"), DEADLINE, || {
            (self.count() >= n).then_some(())
        });
    }

    /// Waits (bounded) until a message to `address` has been stored.
    pub fn wait_for_message_to(&self, address: &str) {
        wait_until(&format!("a message to {address} at the test SMTP server"), DEADLINE, || {
            self.messages()
                .iter()
                .any(|m| m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(address)))
                .then_some(())
        });
    }

    /// Every message accepted so far, in order of arrival.
    pub fn messages(&self) -> Vec<Received> {
        let dir = self.mail_dir();
        let Ok(entries) = fs::read_dir(&dir) else { return Vec::new() };
        let mut emls: Vec<PathBuf> = entries
            .map(|e| e.expect("cannot read folder entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        emls.sort();
        emls.iter()
            .map(|path| {
                let envelope_path = path.with_extension("envelope");
                let envelope = fs::read_to_string(&envelope_path)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", envelope_path.display()));
                let mut received = Received {
                    file: path.file_name().unwrap().to_string_lossy().into_owned(),
                    mail_from: String::new(),
                    rcpt_to: Vec::new(),
                    mail_time: None,
                    time: None,
                    session: None,
                    raw: fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display())),
                };
                for line in envelope.lines() {
                    let (key, value) = line.split_once(' ').unwrap_or((line, ""));
                    match key {
                        "mail_from" => received.mail_from = value.to_owned(),
                        "rcpt_to" => received.rcpt_to.push(value.to_owned()),
                        "mail_time" => received.mail_time = value.parse().ok(),
                        "time" => received.time = value.parse().ok(),
                        "session" => received.session = value.parse().ok(),
                        _ => {}
                    }
                }
                received
            })
            .collect()
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        stop(&mut self.child, &mut self.stdin);
    }
}

/// Postfix's `smtp-sink`, accepting everything, one dump file per message.
///
/// It runs under a small shell that kills it when the shell's standard
/// input closes (on drop, or when the test process dies) or after its
/// lifetime.
pub struct SinkServer {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    dir: TempDir,
}

impl SinkServer {
    /// Starts smtp-sink on a free port and waits (bounded) until it answers.
    pub fn start() -> Self {
        require_smtp_sink();
        let mut dir = open_folder();
        let mut last_failure = String::new();
        for _ in 0..3 {
            let port = free_port();
            let pattern = dir.path().join("%Y%m%d%H%M%S.");
            let mut args = Vec::new();
            if is_root() {
                args.extend(["-u".to_owned(), "nobody".to_owned()]);
            }
            args.extend([
                "-d".to_owned(),
                pattern.display().to_string(),
                format!("127.0.0.1:{port}"),
                "100".to_owned(),
            ]);
            let script = format!(
                "{SMTP_SINK} \"$@\" </dev/null & pid=$!; timeout {SERVER_LIFETIME_SECS} cat >/dev/null; \
                 kill $pid 2>/dev/null; wait $pid 2>/dev/null; exit 0"
            );
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(script)
                .arg("smtp-sink")
                .args(&args)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("cannot run sh to start smtp-sink");
            let stdin = child.stdin.take();
            let mut server = Self { child, stdin, port, dir };
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return server;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            stop(&mut server.child, &mut server.stdin);
            let mut stderr = String::new();
            if let Some(mut err) = server.child.stderr.take() {
                let _ = err.read_to_string(&mut stderr);
            }
            last_failure = stderr;
            dir = std::mem::replace(&mut server.dir, open_folder());
        }
        panic!("smtp-sink did not start on 127.0.0.1:\n{last_failure}");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message dumped so far: smtp-sink's own lines (X-Client-Addr
    /// ... Received and its continuation lines) taken off, and the one empty
    /// line it adds at the end removed. It stores LF line ends. smtp-sink
    /// writes a dump as the message arrives: one that does not end with
    /// that empty line yet is still being written, and is left for a later
    /// call (a test waiting for a message would otherwise read half of it).
    pub fn messages(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = fs::read_dir(self.dir.path())
            .expect("cannot list smtp-sink's folder")
            .map(|e| e.expect("cannot read folder entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        files
            .iter()
            .filter_map(|path| {
                let bytes = fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
                bytes.ends_with(b"\n\n").then(|| parse_sink_dump(path, &bytes))
            })
            .collect()
    }
}

fn parse_sink_dump(path: &Path, bytes: &[u8]) -> Received {
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut received = Received {
        file: file.clone(),
        mail_from: String::new(),
        rcpt_to: Vec::new(),
        mail_time: None,
        time: None,
        session: None,
        raw: Vec::new(),
    };
    let mut offset = 0;
    let mut in_received = false;
    while offset < bytes.len() {
        let end = bytes[offset..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| offset + i + 1);
        let line = String::from_utf8_lossy(&bytes[offset..end]);
        let first_arg = |prefix: &str| {
            line[prefix.len()..].split_whitespace().next().unwrap_or("").trim_matches(['<', '>']).to_owned()
        };
        if in_received && line.starts_with([' ', '\t']) {
            // The Received header's continuation.
        } else if in_received {
            break;
        } else if line.starts_with("X-Mail-Args: ") {
            received.mail_from = first_arg("X-Mail-Args: ");
        } else if line.starts_with("X-Rcpt-Args: ") {
            received.rcpt_to.push(first_arg("X-Rcpt-Args: "));
        } else if line.starts_with("Received: ") {
            in_received = true;
        } else if !line.starts_with("X-") {
            panic!("{file}: unexpected line {line:?} before smtp-sink's Received header");
        }
        offset = end;
    }
    let message = &bytes[offset..];
    assert!(message.ends_with(b"\n\n"), "{file}: smtp-sink's dump does not end with an empty line");
    received.raw = message[..message.len() - 1].to_vec();
    received
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

impl Drop for SinkServer {
    fn drop(&mut self) {
        stop(&mut self.child, &mut self.stdin);
    }
}

/// The binary, started in the background.
pub struct Background {
    child: Child,
    args: Vec<String>,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Background {
    /// Starts `command` (from [`crate::util::Test::std_command`]) with its
    /// output collected and no standard input.
    pub fn start(mut command: Command, args: &[&str]) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start bulletin");
        let collect = |mut stream: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = stream.read_to_end(&mut bytes);
                bytes
            })
        };
        let stdout = collect(Box::new(child.stdout.take().expect("piped")));
        let stderr = collect(Box::new(child.stderr.take().expect("piped")));
        Self {
            child,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }

    /// True while it runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends it SIGKILL: it stops at once, wherever it was.
    pub fn kill(&mut self) {
        self.child.kill().expect("cannot kill bulletin");
    }

    /// Sends it SIGINT, as Ctrl-C on a terminal does.
    pub fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("cannot run kill");
        assert!(status.success(), "kill -INT failed");
    }

    /// Waits (at most `limit`) for it to end, and collects what it did.
    #[track_caller]
    pub fn wait(mut self, limit: Duration) -> Run {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("cannot wait for bulletin") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let run = self.collect(None);
                panic!(
                    "`bulletin {}` was still running after {limit:?}\n{}",
                    run.args.join(" "),
                    run.printed()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.collect(status.code())
    }

    fn collect(&mut self, code: Option<i32>) -> Run {
        let text = |handle: Option<JoinHandle<Vec<u8>>>| {
            String::from_utf8(handle.map(|h| h.join().expect("reader thread")).unwrap_or_default())
                .expect("output is UTF-8")
        };
        Run {
            args: self.args.clone(),
            code,
            stdout: text(self.stdout.take()),
            stderr: text(self.stderr.take()),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
