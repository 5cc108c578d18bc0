//! One SMTP session with the relay, on lettre's `AsyncSmtpConnection`:
//! greeting and EHLO, STARTTLS, AUTH, then one transaction after another.
//! Every command is given the settings' timeout. A refusal leaves the
//! session usable (after RSET); anything that leaves the two sides out of
//! step (a lost or late reply, the relay closing) ends it.

use std::future::Future;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::DEFAULT_MECHANISMS;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::{Data, Mail, Noop, Rcpt, Rset};
use lettre::transport::smtp::extension::{Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::{Category, Detail, Severity};

use super::stream;
use super::{Endpoint, Failure};
use crate::domain::{Reply, ReplyCode, StatusCode};

/// An open session with the relay.
pub(super) struct Session {
    conn: AsyncSmtpConnection,
    timeout: Duration,
    /// False once the session cannot carry another message.
    usable: bool,
    /// Transactions begun on this session.
    transactions: u64,
}

/// A message the relay did not take.
pub(super) struct Refused {
    pub failure: Failure,
    /// The session had carried messages before and the relay answered its
    /// first command with nothing or with 421: it had closed the session
    /// while it sat idle, and the message never left. Worth one more try
    /// on a new session at once.
    pub stale: bool,
}

/// What went wrong with one command.
enum StepError {
    Smtp(SmtpError),
    TimedOut(&'static str),
}

impl StepError {
    fn failure(&self, timeout: Duration) -> Failure {
        match self {
            Self::Smtp(e) => Failure::from_lettre(e),
            Self::TimedOut(what) => Failure::transient(Reply::local(format!(
                "the relay did not answer {what} within {}",
                humantime::format_duration(timeout)
            ))),
        }
    }

    /// True when the relay gave a whole negative reply and will take
    /// another command; false after a timeout, a broken connection, an
    /// unreadable reply, or 421 (the relay is closing the session).
    fn in_step(&self) -> bool {
        match self {
            Self::Smtp(e) => e.status().is_some_and(|code| {
                !(code.severity == Severity::TransientNegativeCompletion
                    && code.category == Category::Connections
                    && code.detail == Detail::One)
            }),
            Self::TimedOut(_) => false,
        }
    }
}

/// Our refusal to hand the relay an address with non-ASCII letters when it
/// does not offer SMTPUTF8. It is kept with the codes a server gives for
/// it (553, and `5.6.7` "non-ASCII addresses not permitted", RFC 6531 §3.5
/// and RFC 6533), so that every later reader of the journal (`status`,
/// bounce counts) knows it as permanent: no retry can mend it.
fn without_smtputf8() -> Reply {
    Reply::new(
        ReplyCode::new(553),
        StatusCode::parse("5.6.7"),
        "not sent: the address has non-ASCII letters before the @ and the relay does not offer SMTPUTF8, \
         which such an address needs",
    )
}

/// Runs one command, giving up after `timeout`.
async fn within<T>(
    timeout: Duration,
    what: &'static str,
    command: impl Future<Output = Result<T, SmtpError>>,
) -> Result<T, StepError> {
    match tokio::time::timeout(timeout, command).await {
        Ok(result) => result.map_err(StepError::Smtp),
        Err(_) => Err(StepError::TimedOut(what)),
    }
}

impl Session {
    /// Connects, reads the greeting, says EHLO, upgrades with STARTTLS and
    /// logs in, as the endpoint says.
    pub(super) async fn open(endpoint: &Endpoint) -> Result<Self, Failure> {
        let timeout = endpoint.timeout;
        let stream = stream::open(&endpoint.host, endpoint.port, endpoint.implicit_tls.as_ref(), timeout)
            .await
            .map_err(|e| {
                Failure::transient(Reply::local(endpoint.trust.explain(crate::domain::chain(&e), &e)))
            })?;
        let greeted = within(
            timeout,
            "the greeting",
            AsyncSmtpConnection::connect_with_transport(stream, &endpoint.hello),
        )
        .await;
        let conn = greeted.map_err(|e| e.failure(timeout))?;
        let mut session = Self { conn, timeout, usable: true, transactions: 0 };
        if let Some(tls) = &endpoint.starttls {
            let upgraded =
                within(timeout, "STARTTLS", session.conn.starttls(tls.clone(), &endpoint.hello)).await;
            // Never go on in plain text: without TLS the session ends here.
            if let Err(e) = upgraded {
                let failure = e.failure(timeout);
                return Err(match &e {
                    StepError::Smtp(error) => Failure {
                        transient: failure.transient,
                        reply: Reply::new(
                            failure.reply.code(),
                            failure.reply.status(),
                            endpoint.trust.explain(failure.reply.text().to_owned(), error),
                        ),
                    },
                    StepError::TimedOut(_) => failure,
                });
            }
        }
        if let Some(credentials) = &endpoint.credentials {
            let auth = within(timeout, "AUTH", session.conn.auth(DEFAULT_MECHANISMS, credentials)).await;
            if let Err(e) = auth {
                let failure = session.fail(e).await;
                session.quit().await;
                return Err(failure);
            }
        }
        Ok(session)
    }

    /// False once the relay closed the session or a reply went astray.
    pub(super) fn usable(&self) -> bool {
        self.usable && !self.conn.has_broken()
    }

    /// Asks the relay whether it is still there.
    pub(super) async fn noop(&mut self) -> Result<(), Failure> {
        match within(self.timeout, "NOOP", self.conn.command(Noop)).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.fail(e).await),
        }
    }

    /// One transaction: MAIL, RCPT for each recipient, DATA, the message.
    /// Returns the relay's last reply (which usually holds its queue id).
    pub(super) async fn send(&mut self, envelope: &Envelope, bytes: &[u8]) -> Result<Reply, Refused> {
        let options =
            self.mail_options(envelope, bytes).map_err(|failure| Refused { failure, stale: false })?;
        let reused = self.transactions > 0;
        self.transactions += 1;
        let timeout = self.timeout;
        let mail =
            within(timeout, "MAIL FROM", self.conn.command(Mail::new(envelope.from().cloned(), options)));
        if let Err(e) = mail.await {
            let stale = reused && !e.in_step() && !matches!(e, StepError::TimedOut(_));
            return Err(Refused { failure: self.fail(e).await, stale });
        }
        for to in envelope.to() {
            if let Err(e) = within(timeout, "RCPT TO", self.conn.command(Rcpt::new(to.clone(), vec![]))).await
            {
                return Err(Refused { failure: self.fail(e).await, stale: false });
            }
        }
        if let Err(e) = within(timeout, "DATA", self.conn.command(Data)).await {
            return Err(Refused { failure: self.fail(e).await, stale: false });
        }
        // lettre ends DATA with CRLF . CRLF itself; the message's own final
        // line break is that CRLF, so the relay gets exactly `bytes`.
        let content = bytes.strip_suffix(b"\r\n").unwrap_or(bytes);
        match within(timeout, "the message", self.conn.message(content)).await {
            Ok(response) => {
                let text: Vec<&str> = response.message().collect();
                let code = ReplyCode::new(response.code().to_string().parse().unwrap_or_default());
                Ok(Reply::coded(code, format!("{} {}", response.code(), text.join(" "))))
            }
            Err(e) => Err(Refused { failure: self.fail(e).await, stale: false }),
        }
    }

    /// The MAIL FROM parameters the message needs, if the relay offers
    /// them (the same rules as lettre's own `send`).
    fn mail_options(&self, envelope: &Envelope, bytes: &[u8]) -> Result<Vec<MailParameter>, Failure> {
        let info = self.conn.server_info();
        let mut options = vec![];
        let non_ascii =
            envelope.from().into_iter().chain(envelope.to()).any(|a| !AsRef::<str>::as_ref(a).is_ascii());
        if non_ascii {
            if !info.supports_feature(Extension::SmtpUtfEight) {
                return Err(Failure::permanent(without_smtputf8()));
            }
            options.push(MailParameter::SmtpUtfEight);
        }
        if !bytes.is_ascii() {
            if !info.supports_feature(Extension::EightBitMime) {
                return Err(Failure::permanent(Reply::local(
                    "the message has 8-bit bytes but the relay does not offer 8BITMIME",
                )));
            }
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        Ok(options)
    }

    /// What a failed command means for the session: after a whole
    /// negative reply, RSET so the next transaction starts clean; after
    /// anything else the session is over.
    async fn fail(&mut self, error: StepError) -> Failure {
        let failure = error.failure(self.timeout);
        if error.in_step() {
            if within(self.timeout, "RSET", self.conn.command(Rset)).await.is_err() {
                self.usable = false;
            }
        } else {
            self.usable = false;
        }
        failure
    }

    /// Says QUIT if the session is still in step, and closes it.
    pub(super) async fn quit(mut self) {
        if self.usable() {
            let _ = within(self.timeout, "QUIT", self.conn.quit()).await;
        }
    }
}
