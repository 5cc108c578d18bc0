//! The bounce mailbox read over IMAP by `bulletin serve` (issue 26): a
//! real Dovecot (Debian's `dovecot-imapd`) on 127.0.0.1, configured by the
//! test in a temporary folder (a passwd-file user, a Maildir, `ssl =
//! required` with a certificate from the tests' own authority), and 20
//! reports delivered into its INBOX after a real send through smtp-sink.

use std::fs;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;

use crate::send_util::{FROM_EMAIL, TestCa};
use crate::signup::serve;
use crate::util::Test;
use crate::webhooks::{ledgers, mailed};

pub(crate) const USER: &str = "bounces";
pub(crate) const PASSWORD: &str = "imap-test-password-1";

/// Dovecot on a free port of 127.0.0.1, killed on drop.
pub(crate) struct Dovecot {
    child: Child,
    dir: tempfile::TempDir,
    /// imaps: TLS from the start.
    pub(crate) port: u16,
    /// imap: STARTTLS.
    starttls_port: u16,
}

impl Dovecot {
    /// Starts Dovecot with a certificate for 127.0.0.1 from `ca` and the
    /// configuration lines `extra`; waits (bounded) until it listens.
    pub(crate) fn start(ca: &TestCa, extra: &str) -> Self {
        let binary = Path::new("/usr/sbin/dovecot");
        assert!(binary.is_file(), "dovecot is missing: install dovecot-imapd (scripts/test.sh does)");
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // Dovecot's login processes run as dovenull and must reach base_dir.
        fs::set_permissions(root, fs::Permissions::from_mode(0o755)).unwrap();
        let (uid, gid) = mail_owner();
        let maildir = root.join("mail/Maildir");
        for sub in ["new", "cur", "tmp"] {
            fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        for path in [
            root.join("mail"),
            maildir.clone(),
            maildir.join("new"),
            maildir.join("cur"),
            maildir.join("tmp"),
        ] {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
        }
        let cert = ca.issue(&["127.0.0.1"]);
        let home = root.join("mail");
        fs::write(
            root.join("passwd"),
            format!("{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{}::\n", home.display()),
        )
        .unwrap();
        let (port, starttls_port) = (free_port(), free_port());
        let r = root.display();
        let conf = format!(
            "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {r}/run\nstate_dir = {r}/state\n\
             log_path = {r}/dovecot.log\nssl = required\nssl_cert = <{}\nssl_key = <{}\n\
             first_valid_uid = 1\nmail_location = maildir:~/Maildir\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {r}/passwd\n}}\n\
             userdb {{\n  driver = passwd-file\n  args = username_format=%u {r}/passwd\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    port = {starttls_port}\n  }}\n  \
             inet_listener imaps {{\n    port = {port}\n    ssl = yes\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\n{extra}\n",
            cert.cert.display(),
            cert.key.display()
        );
        fs::write(root.join("dovecot.conf"), conf).unwrap();
        let child = Command::new(binary)
            .args(["-F", "-c"])
            .arg(root.join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start dovecot");
        let dovecot = Self { child, dir, port, starttls_port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while [port, starttls_port].iter().any(|p| TcpStream::connect(("127.0.0.1", *p)).is_err()) {
            let log = fs::read_to_string(dovecot.dir.path().join("dovecot.log")).unwrap_or_default();
            assert!(Instant::now() < deadline, "dovecot did not start:\n{log}");
            std::thread::sleep(Duration::from_millis(50));
        }
        dovecot
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("mail/Maildir")
    }

    /// Puts `message` in the INBOX, as the mail server's delivery does.
    fn deliver(&self, n: usize, message: &str) {
        let name = format!("{}.M{n}P1.test", 1_700_000_000 + n);
        let tmp = self.maildir().join("tmp").join(&name);
        fs::write(&tmp, message.replace("\r\n", "\n")).unwrap();
        fs::rename(&tmp, self.maildir().join("new").join(name)).unwrap();
    }

    /// How many messages the folder holds (`""` is the INBOX).
    fn count(&self, folder: &str) -> usize {
        let dir = if folder.is_empty() { self.maildir() } else { self.maildir().join(format!(".{folder}")) };
        ["new", "cur"].iter().map(|sub| fs::read_dir(dir.join(sub)).map_or(0, |d| d.count())).sum()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The mail user: the current user's ids, or `mail`'s as root (Dovecot
/// refuses to give a mailbox to uid 0).
fn mail_owner() -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let me = fs::metadata("/proc/self").unwrap();
    if me.uid() != 0 {
        return (me.uid(), me.gid());
    }
    let passwd = fs::read_to_string("/etc/passwd").unwrap();
    let line = passwd.lines().find(|l| l.starts_with("mail:")).expect("a mail user in /etc/passwd");
    let fields: Vec<&str> = line.split(':').collect();
    (fields[2].parse().unwrap(), fields[3].parse().unwrap())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The Message-ID the journal holds for `address`.
fn message_id(test: &Test, address: &str) -> String {
    let conn = rusqlite::Connection::open(test.join(".bulletin/journal.sqlite3")).unwrap();
    conn.query_row("SELECT message_id FROM recipients WHERE address = ?1", [address], |r| r.get(0)).unwrap()
}

/// A delivery status notification about `about` with `status`.
fn dsn(about: &str, original_id: &str, status: &str, words: &str) -> String {
    let date = "Thu, 16 Oct 2025 14:05:00 +0000";
    format!(
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@relay.example.net\r\nTo: bounces@hope.example.org\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nDate: {date}\r\n\
         Message-ID: <dsn.{about}@relay.example.net>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\n<{about}>: {words}\r\n\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example.net\r\n\r\n\
         Final-Recipient: rfc822; {about}\r\nAction: failed\r\nStatus: {status}\r\n\
         Diagnostic-Code: smtp; {words}\r\n\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {FROM_EMAIL}\r\nTo: {about}\r\nDate: {date}\r\n\
         Message-ID: {original_id}\r\nSubject: News\r\n\r\n--B--\r\n"
    )
}

/// An ARF complaint (RFC 5965) about our message to `about`.
fn complaint(about: &str, original_id: &str) -> String {
    format!(
        "From: fbl@isp.example.net\r\nTo: bounces@hope.example.org\r\nSubject: FW: News\r\n\
         Date: Thu, 16 Oct 2025 15:00:00 +0000\r\nMessage-ID: <arf.{about}@isp.example.net>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\r\n\r\n\
         --F\r\nContent-Type: text/plain\r\n\r\nA complaint about a message.\r\n\r\n\
         --F\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: isp/1.0\r\n\
         Version: 1\r\nOriginal-Rcpt-To: {about}\r\n\r\n\
         --F\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {FROM_EMAIL}\r\nTo: {about}\r\n\
         Message-ID: {original_id}\r\nSubject: News\r\n\r\n--F--\r\n"
    )
}

/// The sample mailed to 15 readers with the bounce mailbox's settings, and
/// Dovecot holding 20 reports: hard bounces for readers 1–5, soft for
/// 6–10, complaints from 11–15, and five forged hard bounces naming
/// addresses never mailed, quoting a Message-ID we never sent.
fn mailbox_with_reports() -> (Test, Dovecot, TestCa) {
    let ca = TestCa::new();
    let dovecot = Dovecot::start(&ca, "");
    (test_with_reports(&dovecot, &ca), dovecot, ca)
}

/// [`mailbox_with_reports`]'s send and reports, into `dovecot`.
fn test_with_reports(dovecot: &Dovecot, ca: &TestCa) -> Test {
    let url = format!("imaps://{USER}@127.0.0.1:{}/INBOX", dovecot.port);
    let test = mailed(15, &[("BOUNCE_ADDRESS", "bounces@hope.example.org")])
        .env("BOUNCE_IMAP_URL", &url)
        .env("BOUNCE_IMAP_PASSWORD_FILE", "imap-password")
        .file("imap-password", format!("{PASSWORD}\n"))
        .env("BOUNCE_IMAP_CA_FILE", ca.cert_file().to_str().unwrap())
        .env("BOUNCE_IMAP_EVERY", "2s");
    let reader = |i: usize| format!("reader{i:02}@example.org");
    for i in 1..=5 {
        let id = message_id(&test, &reader(i));
        dovecot.deliver(i, &dsn(&reader(i), &id, "5.1.1", "550 5.1.1 User unknown"));
    }
    for i in 6..=10 {
        let id = message_id(&test, &reader(i));
        dovecot.deliver(i, &dsn(&reader(i), &id, "5.2.2", "552 5.2.2 Mailbox full"));
    }
    for i in 11..=15 {
        dovecot.deliver(i, &complaint(&reader(i), &message_id(&test, &reader(i))));
    }
    for i in 16..=20 {
        let forged = format!("<2025-10-16-ijm-prayer-requests.0123456789abcdef{i:08}@hope.example.org>");
        dovecot.deliver(
            i,
            &dsn(&format!("newcomer{i}@example.org"), &forged, "5.1.1", "550 5.1.1 User unknown"),
        );
    }
    assert_eq!(dovecot.count(""), 20);
    test
}

#[test]
fn serve_reads_twenty_reports_from_dovecot_suppresses_the_right_readers_ignores_forged_ones_and_moves_them_all()
 {
    let (test, dovecot, _ca) = mailbox_with_reports();
    let server = serve(&test);
    let deadline = Instant::now() + Duration::from_secs(60);
    while dovecot.count("") > 0 || dovecot.count("bulletin-processed") < 20 {
        assert!(Instant::now() < deadline, "the INBOX was not emptied within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, stdout, stderr) = server.stop();
    assert!(
        stderr.contains(
            "bounce mailbox: read 20: hard 5, soft 5, complaints 5, blocked 0, unknown 0, not bounces 0, \
             seen before 0, not ours 5, unusable 0; suppressed 10; moved 20"
        ),
        "{stderr}"
    );
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD), "the password is never printed");

    let ledgers = ledgers(&test);
    let mut suppressed: Vec<(String, String)> =
        ledgers.suppressed.iter().map(|(email, reason, _)| (email.clone(), reason.clone())).collect();
    suppressed.sort();
    let expected: Vec<(String, String)> = (1..=5)
        .map(|i| (format!("reader{i:02}@example.org"), "hard-bounce".to_owned()))
        .chain((11..=15).map(|i| (format!("reader{i:02}@example.org"), "complaint".to_owned())))
        .collect();
    assert_eq!(suppressed, expected);
    let mut kinds: Vec<(String, String)> =
        ledgers.reports.iter().map(|(address, kind, _)| (address.clone(), kind.clone())).collect();
    kinds.sort();
    assert_eq!(kinds.len(), 15, "{kinds:?}");
    assert!(
        kinds.iter().all(|(a, _)| !a.starts_with("newcomer")),
        "forged reports change nothing: {kinds:?}"
    );
    let soft: Vec<&str> = kinds.iter().filter(|(_, k)| k == "soft").map(|(a, _)| a.as_str()).collect();
    assert_eq!(soft, (6..=10).map(|i| format!("reader{i:02}@example.org")).collect::<Vec<_>>());
    assert!(ledgers.reports.iter().all(|(_, _, source)| source.contains(";UID=")), "{:?}", ledgers.reports);

    // Started again, it reads nothing twice.
    let server = serve(&test);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (_, _, stderr) = server.stop_when(|line| line.contains("bounce mailbox: read"), deadline);
    assert!(stderr.contains("bounce mailbox: read 0: "), "{stderr}");
    assert_eq!(crate::webhooks::ledgers(&test), ledgers);
    assert_eq!(dovecot.count("bulletin-processed"), 20);
    let conn = rusqlite::Connection::open(test.join(".bulletin/journal.sqlite3")).unwrap();
    let last: u32 = conn.query_row("SELECT last_uid FROM imap_progress", [], |r| r.get(0)).unwrap();
    assert_eq!(last, 20, "the progress is remembered in the journal's file");
    let log = fs::read_to_string(dovecot.dir.path().join("dovecot.log")).unwrap();
    assert!(!log.contains("expunged=20"), "MOVE, not copy and expunge:\n{log}");
}

#[test]
fn with_starttls_and_delete_read_reports_are_deleted_and_no_folder_is_made() {
    let ca = TestCa::new();
    let dovecot = Dovecot::start(&ca, "");
    let url = format!("imap://{USER}@127.0.0.1:{}", dovecot.starttls_port);
    let test = mailed(2, &[])
        .env("BOUNCE_IMAP_URL", &url)
        .env("BOUNCE_IMAP_PASSWORD", PASSWORD)
        .env("BOUNCE_IMAP_CA_FILE", ca.cert_file().to_str().unwrap())
        .env("BOUNCE_IMAP_DELETE", "yes");
    let reader = "reader01@example.org";
    dovecot.deliver(1, &dsn(reader, &message_id(&test, reader), "5.1.1", "550 5.1.1 User unknown"));
    let forged = "<2025-10-16-ijm-prayer-requests.0123456789abcdef99999999@hope.example.org>";
    dovecot.deliver(2, &dsn("reader02@example.org", forged, "5.1.1", "550 5.1.1 User unknown"));
    let server = serve(&test);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (_, _, stderr) = server.stop_when(|line| line.contains("bounce mailbox: read"), deadline);
    assert!(stderr.contains("read 2: hard 1, "), "{stderr}");
    assert!(stderr.contains("not ours 1, unusable 0; suppressed 1; deleted 2"), "{stderr}");
    assert_eq!((dovecot.count(""), dovecot.count("bulletin-processed")), (0, 0));
    let suppressed: Vec<String> = ledgers(&test).suppressed.into_iter().map(|(email, _, _)| email).collect();
    assert_eq!(suppressed, [reader]);
}

#[test]
fn a_refused_login_is_logged_without_the_password_retried_and_serve_keeps_answering() {
    let ca = TestCa::new();
    let dovecot = Dovecot::start(&ca, "auth_failure_delay = 0");
    let url = format!("imaps://{USER}@127.0.0.1:{}/INBOX", dovecot.port);
    let (test, _) = crate::unsubscribe::list_test(1);
    let test = test
        .env("BOUNCE_IMAP_URL", &url)
        .env("BOUNCE_IMAP_PASSWORD", "wrong-password-shown-nowhere")
        .env("BOUNCE_IMAP_CA_FILE", ca.cert_file().to_str().unwrap())
        .env("BOUNCE_IMAP_EVERY", "1s");
    let server = serve(&test);
    let mut errors = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    let (code, _, stderr) = server.stop_when(
        |line| {
            errors += usize::from(line.contains("refused the login of bounces"));
            errors == 2
        },
        deadline,
    );
    assert_eq!(code, Some(0), "serve ran on through the errors and stopped cleanly: {stderr}");
    assert!(stderr.contains("bounce mailbox: error: "), "{stderr}");
    assert!(!stderr.contains("wrong-password-shown-nowhere"), "{stderr}");
}

#[test]
fn a_server_without_move_gets_copy_then_the_originals_expunged() {
    let ca = TestCa::new();
    // Dovecot's capabilities as announced, without MOVE.
    let dovecot = Dovecot::start(&ca, "imap_capability = IMAP4rev1 LITERAL+ UIDPLUS IDLE");
    let test = test_with_reports(&dovecot, &ca);
    let server = serve(&test);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (_, _, stderr) = server.stop_when(|line| line.contains("bounce mailbox: read"), deadline);
    assert!(stderr.contains("not ours 5, unusable 0; suppressed 10; moved 20"), "{stderr}");
    assert_eq!((dovecot.count(""), dovecot.count("bulletin-processed")), (0, 20));
    let log = fs::read_to_string(dovecot.dir.path().join("dovecot.log")).unwrap();
    assert!(log.contains("expunged=20"), "the originals were expunged after the copy:\n{log}");
}

#[test]
fn a_move_that_fails_is_tried_again_next_round_without_reading_the_reports_twice() {
    let ca = TestCa::new();
    let dovecot = Dovecot::start(&ca, "");
    let test = test_with_reports(&dovecot, &ca).env("BOUNCE_IMAP_EVERY", "1s");
    // The done folder exists but the mail user cannot write to it.
    let done = dovecot.maildir().join(".bulletin-processed");
    let folders = [done.clone(), done.join("cur"), done.join("new"), done.join("tmp")];
    for folder in &folders {
        fs::create_dir_all(folder).unwrap();
    }
    for folder in folders.iter().rev() {
        fs::set_permissions(folder, fs::Permissions::from_mode(0o555)).unwrap();
    }
    let server = serve(&test);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (_, _, stderr) = server.stop_when(
        |line| {
            if line.contains("moved 0: UID MOVE failed") {
                for folder in &folders {
                    fs::set_permissions(folder, fs::Permissions::from_mode(0o777)).unwrap();
                }
            }
            line.contains("bounce mailbox: read 0: ")
        },
        deadline,
    );
    assert!(stderr.contains("read 20: hard 5, soft 5, complaints 5, "), "{stderr}");
    assert!(stderr.contains("suppressed 10; moved 0: UID MOVE failed"), "{stderr}");
    assert!(stderr.contains("seen before 0, not ours 0, unusable 0; suppressed 0; moved 20"), "{stderr}");
    assert_eq!((dovecot.count(""), dovecot.count("bulletin-processed")), (0, 20));
    assert_eq!(ledgers(&test).reports.len(), 15, "each report counted once");
}
