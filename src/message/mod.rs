//! Messages: one reader's content wrapped in headers and MIME by lettre.
//!
//! Everything that must be the same when a message is sent twice (its
//! `Message-ID`, its MIME boundary) is derived from the campaign and the
//! address, so a dry run's `.eml` and a later send match byte for byte apart
//! from `Date` (and the DKIM signature, when there is one, which covers it).
//!
//! The unsubscribe link each message carries is signed by [`unsubscribe`];
//! the envelope sender, with `BOUNCE_ADDRESS`, by [`verp`]; the parts'
//! transfer encoding is `transfer`'s. Ends at the finished
//! message, DKIM-signed when there is a key: sending it is `deliver`'s.

pub mod confirmation;
pub mod preferences;
pub mod token;
mod transfer;
pub mod unsubscribe;
pub mod verp;

use std::time::SystemTime;

use email_encoding::headers::writer::EmailWriter;
use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::content::CampaignId;
use crate::domain::{EmailKey, MessageId};
use crate::render::Personalised;
use crate::subscribers::{EmailAddress, Subscriber};
use unsubscribe::Signer;
use verp::Verp;

/// Gmail hides everything after this many bytes of HTML behind a "View
/// entire message" link.
pub const GMAIL_CLIP_BYTES: usize = 102 * 1024;

/// The longest display name a message carries, in characters. A longer one
/// (a whole spreadsheet cell pasted into the name column, say) keeps its
/// first 199 characters and ends with `…`, in the `From`/`To` header only:
/// merge fields and the dry run's index show it whole.
pub const LONGEST_NAME: usize = 200;

/// The longest run of ASCII without a space that lettre's folding (at
/// spaces) can place within 78 columns, with a header name before it. A
/// subject or display name holding a longer one is written as RFC 2047
/// encoded words instead, which may be split anywhere, so no header line
/// passes 78 columns (RFC 5322 allows 998).
const LONGEST_WORD: usize = 60;

/// Builds the messages of one campaign.
#[derive(Debug)]
pub struct Composer {
    campaign: CampaignId,
    from: Mailbox,
    /// The envelope sender, where bounce reports go, when it is the same
    /// for every message (no `BOUNCE_ADDRESS`: `From`).
    bounce: lettre::Address,
    /// With `BOUNCE_ADDRESS`: it, and the signer of the per-recipient
    /// token each envelope sender carries.
    verp: Option<(EmailAddress, Verp)>,
    reply_to: Option<Mailbox>,
    list_id: String,
    mailto: String,
    unsubscribe_url: Option<crate::config::HttpsUrl>,
    /// `List-Archive` (RFC 2369) when `ARCHIVE_URL` is set: `<https://…/>`.
    list_archive: Option<String>,
    signer: Signer,
    /// `PREFERENCES_URL`, and the signer of its per-reader tokens.
    preferences: Option<(crate::config::HttpsUrl, preferences::PreferencesSigner)>,
    /// Signs each message when DKIM is set up.
    dkim: Option<std::sync::Arc<crate::dkim::Dkim>>,
    /// Images every message carries beside its HTML (`multipart/related`),
    /// encoded once: (Content-ID, MIME type, body).
    inline_images: Vec<(String, lettre::message::header::ContentType, lettre::message::Body)>,
}

/// A message could not be built (or signed).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the message for {email}")]
pub struct MessageError {
    email: String,
    source: Box<dyn std::error::Error + Send + Sync>,
}

/// Whom a message is for and what names it: the parts of its head that
/// differ between a bulletin, a test copy and a notice.
struct Head {
    to: Mailbox,
    envelope_sender: lettre::Address,
    message_id: String,
    /// Its digest, from which the MIME boundaries come.
    digest: [u8; 32],
    subject: String,
}

impl Composer {
    pub fn new(settings: &Settings, campaign: CampaignId) -> Self {
        let mailto = format!("mailto:{}?subject=unsubscribe", settings.unsubscribe_mailto);
        Self {
            campaign,
            from: Mailbox::new(Some(shortened(&settings.from_name)), settings.from_email.as_lettre().clone()),
            bounce: settings.envelope_sender().as_lettre().clone(),
            verp: settings.bounce_address.clone().map(|bounce| (bounce, Verp::from_settings(settings))),
            reply_to: settings.reply_to.as_ref().map(|r| Mailbox::new(None, r.as_lettre().clone())),
            list_id: format!("{} <{}>", settings.list_name, settings.list_id.as_str()),
            mailto,
            unsubscribe_url: settings.unsubscribe_url.clone(),
            list_archive: settings
                .archive_url
                .as_ref()
                .map(|base| format!("<{}/>", base.as_url().as_str().trim_end_matches('/'))),
            signer: Signer::from_settings(settings),
            preferences: settings
                .preferences_url
                .clone()
                .map(|url| (url, preferences::PreferencesSigner::from_settings(settings))),
            dkim: settings.dkim.clone(),
            inline_images: Vec::new(),
        }
    }

    /// This composer, with `images` embedded in every message as inline
    /// parts the HTML refers to by `cid:`.
    pub fn with_inline_images(mut self, images: &[crate::content::images::PreparedImage]) -> Self {
        self.inline_images = images
            .iter()
            .map(|image| {
                let mime = lettre::message::header::ContentType::parse(image.picture.mime)
                    .expect("an image MIME type is valid");
                (image.content_id(), mime, lettre::message::Body::new(image.picture.bytes.clone()))
            })
            .collect();
        self
    }

    /// The link the reader follows to unsubscribe: the signed https address
    /// when `UNSUBSCRIBE_URL` is set, else the mailto.
    pub fn unsubscribe_link(&self, email: &EmailAddress) -> String {
        match &self.unsubscribe_url {
            Some(base) => self.signer.url(base, email),
            None => self.mailto.clone(),
        }
    }

    /// The reader's signed link to the preference page; empty without
    /// `PREFERENCES_URL`.
    /// It says it was issued on the day of `issued` (the message's date, to
    /// the day: the same link all day, so two dry runs show the same
    /// message), so the server can tell it from a link made before the
    /// reader was erased; a link of the day of an erasure counts as before
    /// it.
    pub fn preferences_link(&self, email: &EmailAddress, issued: SystemTime) -> String {
        let day = crate::domain::Timestamp::from(issued).unix_seconds() / 86_400 * 86_400;
        let issued = std::time::UNIX_EPOCH + std::time::Duration::from_secs(day);
        self.preferences.as_ref().map(|(base, signer)| signer.url(base, email, issued)).unwrap_or_default()
    }

    /// The `Message-ID` for `email` in this campaign: the same on every run.
    pub fn message_id(&self, email: &EmailAddress) -> MessageId {
        MessageId::parse(&self.message_id_of(&self.digest(email)))
            .expect("ours has a local part and a domain")
    }

    /// The `Message-ID` of the recipient whose [`Composer::digest`] is
    /// `digest`.
    fn message_id_of(&self, digest: &[u8; 32]) -> String {
        let hex = hex::encode(&digest[..12]);
        format!("<{}.{hex}@{}>", self.campaign, self.from.email.domain())
    }

    /// The campaign named in a `Message-ID` that [`Composer::message_id`]
    /// made (`<campaign.24 hex digits@domain>`), for telling which campaign
    /// a bounce report is about.
    pub fn campaign_in(message_id: &MessageId) -> Option<&str> {
        let (local, _domain) = message_id.inner().rsplit_once('@')?;
        let (campaign, hex) = local.rsplit_once('.')?;
        let ours = hex.len() == 24 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        (ours && !campaign.is_empty() && !campaign.starts_with("test.")).then_some(campaign)
    }

    /// The envelope sender (`MAIL FROM`, the receiver's `Return-Path`) of
    /// a message to `recipient`: with `BOUNCE_ADDRESS`, its signed VERP
    /// form (`bounces+TOKEN@domain`, see [`verp`]), else `From`.
    pub fn envelope_sender(&self, recipient: &EmailKey) -> lettre::Address {
        match &self.verp {
            Some((bounce, verp)) => verp.address(bounce, self.campaign.as_str(), recipient),
            None => self.bounce.clone(),
        }
    }

    fn digest(&self, email: &EmailAddress) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(self.campaign.as_str());
        hash.update(b"\n");
        hash.update(email.key().as_str());
        hash.finalize().into()
    }

    /// The message for `subscriber` with `content`, dated `date`.
    pub fn compose(
        &self,
        subscriber: &Subscriber,
        content: &Personalised,
        unsubscribe_link: &str,
        date: SystemTime,
    ) -> Result<Message, MessageError> {
        let email = subscriber.email();
        let to = Mailbox::new(subscriber.display_name().map(shortened), email.as_lettre().clone());
        let digest = self.digest(email);
        let envelope_sender = self.envelope_sender(email.key());
        let message_id = self.message_id_of(&digest);
        let head = Head { to, envelope_sender, message_id, digest, subject: content.subject.clone() };
        self.build(head, content, unsubscribe_link, date)
    }

    /// A test copy of `subscriber`'s message for `to`: subject prefixed
    /// `[TEST] `, and a `Message-ID` of its own, so the real message is not
    /// taken for a copy already seen.
    pub fn compose_test(
        &self,
        subscriber: &Subscriber,
        content: &Personalised,
        unsubscribe_link: &str,
        date: SystemTime,
        to: &EmailAddress,
    ) -> Result<Message, MessageError> {
        let mut hash = Sha256::new();
        hash.update(self.digest(subscriber.email()));
        hash.update(to.key().as_str());
        hash.update(humantime::format_rfc3339_nanos(date).to_string());
        let digest: [u8; 32] = hash.finalize().into();
        let hex = hex::encode(&digest[..12]);
        let message_id = format!("<test.{}.{hex}@{}>", self.campaign, self.from.email.domain());
        let subject = format!("[TEST] {}", content.subject);
        // The copy's own address signs its envelope: a bounce of the copy
        // is about the test address, never the subscriber it shows.
        let envelope_sender = self.envelope_sender(to.key());
        let to = Mailbox::new(None, to.as_lettre().clone());
        self.build(Head { to, envelope_sender, message_id, digest, subject }, content, unsubscribe_link, date)
    }

    /// A message of the list's own to `to` that is no bulletin (a sign-up's
    /// request to confirm): built, signed and encoded as a bulletin's
    /// messages are, with a `Message-ID` of its own for `date` and no https
    /// unsubscribe link (the reader is on no list yet).
    pub fn compose_notice(
        &self,
        to: &EmailAddress,
        content: &Personalised,
        date: SystemTime,
    ) -> Result<Message, MessageError> {
        let mut hash = Sha256::new();
        hash.update(b"notice\n");
        hash.update(to.key().as_str());
        hash.update(humantime::format_rfc3339_nanos(date).to_string());
        let digest: [u8; 32] = hash.finalize().into();
        let message_id = self.message_id_of(&digest);
        let envelope_sender = self.envelope_sender(to.key());
        let mailbox = Mailbox::new(None, to.as_lettre().clone());
        let head =
            Head { to: mailbox, envelope_sender, message_id, digest, subject: content.subject.clone() };
        self.build(head, content, "", date)
    }

    fn build(
        &self,
        head: Head,
        content: &Personalised,
        unsubscribe_link: &str,
        date: SystemTime,
    ) -> Result<Message, MessageError> {
        let Head { to, envelope_sender, message_id, digest, subject } = head;
        let email = to.email.to_string();
        let boundary = hex::encode(&digest[12..28]);

        let mut list_unsubscribe = String::new();
        if unsubscribe_link.starts_with("https:") {
            list_unsubscribe.push_str(&format!("<{unsubscribe_link}>, "));
        }
        list_unsubscribe.push_str(&format!("<{}>", self.mailto));

        let names = [plain_name_header("From", &self.from), plain_name_header("To", &to)];
        // The envelope sender is BOUNCE_ADDRESS, signed for this recipient
        // (else From): bounce reports go to the mailbox `bulletin bounces
        // import` reads.
        let envelope = lettre::address::Envelope::new(Some(envelope_sender), vec![to.email.clone()])
            .map_err(|source| MessageError { email: email.clone(), source: source.into() })?;
        let long_subject = has_long_word(&subject).then(|| encoded_header("Subject", &subject));
        let mut builder = Message::builder().envelope(envelope).from(self.from.clone()).to(to);
        builder = match long_subject {
            Some(header) => builder.raw_header(header),
            None => builder.subject(subject),
        };
        let mut builder = builder
            .date(date)
            .message_id(Some(message_id))
            .raw_header(header("List-Id", self.list_id.clone()))
            .raw_header(header("List-Unsubscribe", list_unsubscribe));
        if unsubscribe_link.starts_with("https:") {
            builder =
                builder.raw_header(header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".to_owned()));
        }
        if let Some(archive) = &self.list_archive {
            builder = builder.raw_header(header("List-Archive", archive.clone()));
        }
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        for name in names.into_iter().flatten() {
            builder = builder.raw_header(name);
        }
        let html = SinglePart::html(transfer::text_body(&content.html));
        let body = MultiPart::alternative()
            .boundary(format!("bulletin-{boundary}"))
            .singlepart(SinglePart::plain(transfer::text_body(&content.text)));
        let body = if self.inline_images.is_empty() {
            body.singlepart(html)
        } else {
            let related = self.inline_images.iter().fold(
                MultiPart::related().boundary(format!("bulletin-related-{boundary}")).singlepart(html),
                |related, (content_id, mime, image)| {
                    related.singlepart(
                        lettre::message::Attachment::new_inline(content_id.clone())
                            .body(image.clone(), mime.clone()),
                    )
                },
            );
            body.multipart(related)
        };
        let fail =
            |source: Box<dyn std::error::Error + Send + Sync>| MessageError { email: email.clone(), source };
        let mut message = builder.multipart(body).map_err(|e| fail(e.into()))?;
        // Signed last, over the exact bytes that will be sent or written.
        if let Some(dkim) = &self.dkim {
            dkim.sign_message(&mut message, date).map_err(|e| fail(e.into()))?;
        }
        Ok(message)
    }
}

/// `name`, or its first [`LONGEST_NAME`] characters ending in `…`.
fn shortened(name: &str) -> String {
    if name.chars().count() <= LONGEST_NAME {
        return name.to_owned();
    }
    let kept: String = name.chars().take(LONGEST_NAME - 1).collect();
    format!("{}…", kept.trim_end())
}

/// Whether `value` holds a run of ASCII without a space longer than
/// [`LONGEST_WORD`], which folding at spaces cannot keep within 78 columns.
fn has_long_word(value: &str) -> bool {
    value.split(' ').any(|word| word.is_ascii() && word.len() > LONGEST_WORD)
}

/// `value` as RFC 2047 encoded words, by lettre's own encoder, folded so
/// no line of the `field` header passes 78 columns.
fn rfc2047(field: &str, value: &str) -> (String, usize) {
    let mut encoded = String::new();
    let column = {
        let mut writer = EmailWriter::new(&mut encoded, field.len() + ": ".len(), 0, false);
        email_encoding::headers::rfc2047::encode(value, &mut writer)
            .expect("writing to a String cannot fail");
        writer.line_len()
    };
    (encoded, column)
}

/// The `field` header holding `value` as RFC 2047 encoded words.
fn encoded_header(field: &'static str, value: &str) -> HeaderValue {
    let (encoded, _) = rfc2047(field, value);
    HeaderValue::dangerous_new_pre_encoded(HeaderName::new_from_ascii_str(field), value.to_owned(), encoded)
}

fn header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// A `From` or `To` field whose display name is plain ASCII, written as a
/// quoted string (`"Hope & Justice" <news@hope.org>`). lettre base64-encodes
/// any name holding a character such as `&`, `'` or `,`, which spam filters
/// score as needless encoding (SpamAssassin's `FROM_EXCESS_BASE64`). `None`
/// when lettre's own encoding is right: no name, or one beyond ASCII.
///
/// A name with a word too long to fold around (see [`LONGEST_WORD`]) is
/// written as RFC 2047 encoded words instead, so the field stays within 78
/// columns.
fn plain_name_header(field: &'static str, mailbox: &Mailbox) -> Option<HeaderValue> {
    let name = mailbox.name.as_deref().map(str::trim).filter(|n| !n.is_empty())?;
    if !name.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
        return None;
    }
    let address = mailbox.email.to_string();
    // Each word as the quoted string holds it, `\` and `"` escaped.
    let words: Vec<String> = name.split(' ').map(|w| w.replace('\\', "\\\\").replace('"', "\\\"")).collect();
    if words.iter().any(|w| w.len() > LONGEST_WORD) {
        let (mut encoded, column) = rfc2047(field, name);
        let fits = column + " <".len() + address.len() + ">".len() <= 78;
        encoded.push_str(if fits { " <" } else { "\r\n <" });
        encoded.push_str(&address);
        encoded.push('>');
        return Some(HeaderValue::dangerous_new_pre_encoded(
            HeaderName::new_from_ascii_str(field),
            mailbox.to_string(),
            encoded,
        ));
    }
    // Fold before a space once a line passes 78 columns; a quoted string
    // may hold folding white space.
    let mut encoded = String::from("\"");
    let mut column = field.len() + ": \"".len();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            // One more for the closing quote, should this word be the last.
            if column + 1 + word.len() + 1 > 78 {
                encoded.push_str("\r\n");
                column = 0;
            }
            encoded.push(' ');
            column += 1;
        }
        encoded.push_str(word);
        column += word.len();
    }
    let fits = column + "\" <".len() + address.len() + ">".len() <= 78;
    encoded.push_str(if fits { "\" <" } else { "\"\r\n <" });
    encoded.push_str(&address);
    encoded.push('>');
    Some(HeaderValue::dangerous_new_pre_encoded(
        HeaderName::new_from_ascii_str(field),
        mailbox.to_string(),
        encoded,
    ))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::Strategy;
    use proptest::prop_oneof;

    use super::*;
    use crate::config::Source;

    fn composer(pairs: &[(&str, &str)]) -> Composer {
        let settings = Settings::from_source(&Source::from_pairs(pairs.iter().copied())).unwrap();
        Composer::new(&settings, crate::content::CampaignId::for_tests("2025-10-16-prayer"))
    }

    fn email(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    #[test]
    fn message_ids_are_stable_per_campaign_and_recipient() {
        let c = composer(&[("FROM_EMAIL", "news@hope.example.org")]);
        let a = c.message_id(&email("Ana@example.org"));
        assert_eq!(a, c.message_id(&email("ana@example.org")));
        assert_ne!(a, c.message_id(&email("bo@example.org")));
        assert!(a.as_str().starts_with("<2025-10-16-prayer."), "{a}");
        assert!(a.as_str().ends_with("@hope.example.org>"), "{a}");
    }

    #[test]
    fn a_message_id_carries_the_first_twelve_bytes_of_the_digest_in_lower_case_hex() {
        let c = composer(&[("FROM_EMAIL", "news@hope.example.org")]);
        let ana = email("ana@example.org");
        let hex: String = c.digest(&ana)[..12].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(c.message_id(&ana).as_str(), format!("<2025-10-16-prayer.{hex}@hope.example.org>"));
    }

    #[test]
    fn the_campaign_reads_back_from_a_message_id_and_only_from_ours() {
        let c = composer(&[("FROM_EMAIL", "news@hope.example.org")]);
        let id = c.message_id(&email("ana@example.org"));
        assert_eq!(Composer::campaign_in(&id), Some("2025-10-16-prayer"));
        let bare = MessageId::parse(id.inner()).unwrap();
        assert_eq!(Composer::campaign_in(&bare), Some("2025-10-16-prayer"));
        let campaign =
            |text: &str| MessageId::parse(text).and_then(|id| Composer::campaign_in(&id).map(str::to_owned));
        assert_eq!(campaign("<E1X58pB-0004bW-2s@marutamachi.example.org>"), None);
        assert_eq!(campaign("<x.0123456789abcdef01234567>"), None);
    }

    #[test]
    fn without_a_bounce_address_the_envelope_sender_is_from_for_everyone() {
        let c = composer(&[("FROM_EMAIL", "news@hope.example.org")]);
        let ana = c.envelope_sender(&EmailKey::of("ana@example.org"));
        assert_eq!(ana.to_string(), "news@hope.example.org");
        assert_eq!(ana, c.envelope_sender(&EmailKey::of("bo@example.org")));
    }

    #[test]
    fn with_a_bounce_address_the_envelope_sender_carries_the_recipients_signed_token() {
        let c = composer(&[("BOUNCE_ADDRESS", "bounces@hope.example.org"), ("UNSUBSCRIBE_SECRET", "k")]);
        let ana = EmailKey::of("ana@example.org");
        let sender = c.envelope_sender(&ana).to_string();
        let token = Verp::token_in(&sender).unwrap();
        assert_eq!(sender, format!("bounces+{token}@hope.example.org"));
        let verp = Verp::new(&crate::config::Secret::new("k".to_owned()));
        assert!(verp.verifies(&token, "2025-10-16-prayer", &ana));
        assert_ne!(c.envelope_sender(&EmailKey::of("bo@example.org")).to_string(), sender);
    }

    #[test]
    fn without_an_unsubscribe_url_the_link_is_the_mailto() {
        let c = composer(&[("UNSUBSCRIBE_MAILTO", "leave@example.org")]);
        assert_eq!(
            c.unsubscribe_link(&email("a@example.org")),
            "mailto:leave@example.org?subject=unsubscribe"
        );
    }

    /// The header block of a message whose `field` is `name <address>`,
    /// written by [`plain_name_header`] when it applies.
    fn written(field: &'static str, name: &str) -> (String, Option<Mailbox>) {
        let mailbox = Mailbox::new(Some(name.to_owned()), "ana@example.org".parse().unwrap());
        let other = Mailbox::new(None, "bo@example.org".parse().unwrap());
        let (from, to) = if field == "From" { (mailbox.clone(), other) } else { (other, mailbox.clone()) };
        let mut builder = Message::builder().from(from).to(to).subject("x");
        if let Some(header) = plain_name_header(field, &mailbox) {
            builder = builder.raw_header(header);
        }
        let message = builder.body(String::from("x")).unwrap();
        let text = String::from_utf8(message.formatted()).unwrap();
        let headers = text[..text.find("\r\n\r\n").unwrap()].to_owned();
        // The field as a receiver reads it: unfolded, then parsed.
        let unfolded = headers.replace("\r\n ", " ");
        let value = unfolded.lines().find_map(|l| l.strip_prefix(&format!("{field}: "))).unwrap();
        (headers, value.parse().ok())
    }

    #[test]
    fn an_ascii_display_name_with_punctuation_is_a_quoted_string_not_base64() {
        let (headers, parsed) = written("From", "Hope & Justice Prayer Team");
        assert!(headers.contains("From: \"Hope & Justice Prayer Team\" <ana@example.org>\r\n"), "{headers}");
        assert_eq!(parsed.unwrap().name.as_deref(), Some("Hope & Justice Prayer Team"));
        let (headers, _) = written("To", "Tom O'Brien, Jr.");
        assert!(headers.contains("To: \"Tom O'Brien, Jr.\" <ana@example.org>\r\n"), "{headers}");
    }

    #[test]
    fn quotes_and_backslashes_in_a_display_name_are_escaped() {
        let (headers, parsed) = written("To", r#"Ana "Nan" O\Brien"#);
        assert!(headers.contains(r#"To: "Ana \"Nan\" O\\Brien" <ana@example.org>"#), "{headers}");
        assert_eq!(parsed.unwrap().name.as_deref(), Some(r#"Ana "Nan" O\Brien"#));
    }

    #[test]
    fn a_long_display_name_is_folded_at_spaces_within_78_columns() {
        let name =
            "The Very Long Name of a Charity & Trust for Prayer, Justice and Hope in Every Town of the Land";
        let (headers, parsed) = written("From", name);
        assert!(headers.lines().all(|l| l.len() <= 78), "{headers}");
        assert_eq!(parsed.unwrap().name.as_deref(), Some(name));
        assert!(!headers.contains("=?utf-8?"), "{headers}");
    }

    #[test]
    fn a_name_beyond_ascii_is_left_to_lettres_rfc_2047_encoding() {
        let mailbox = Mailbox::new(Some("Peter Müller".into()), "p@example.org".parse().unwrap());
        assert!(plain_name_header("To", &mailbox).is_none());
        assert!(plain_name_header("To", &Mailbox::new(None, "p@example.org".parse().unwrap())).is_none());
        let (headers, _) = written("To", "Peter Müller");
        assert!(headers.contains("To: =?utf-8?b?"), "{headers}");
    }

    /// The header block of `name`'s message with `subject`, as sent.
    fn headers_of(c: &Composer, name: &str, subject: &str) -> Vec<u8> {
        let to = Mailbox::new(Some(shortened(name)), "ana@example.org".parse().unwrap());
        let content =
            Personalised { subject: subject.to_owned(), html: "<p>x</p>".to_owned(), text: "x".to_owned() };
        let head = Head {
            to,
            envelope_sender: c.envelope_sender(&EmailKey::of("ana@example.org")),
            message_id: "<a.b@example.org>".to_owned(),
            digest: [7; 32],
            subject: subject.to_owned(),
        };
        let message = c.build(head, &content, "mailto:leave@example.org", SystemTime::UNIX_EPOCH).unwrap();
        message.formatted()
    }

    #[test]
    fn a_name_past_200_characters_is_shortened_with_an_ellipsis() {
        assert_eq!(shortened(&"a".repeat(200)), "a".repeat(200));
        assert_eq!(shortened(&"é".repeat(201)), format!("{}…", "é".repeat(199)));
        assert_eq!(
            shortened(&format!("{} {}", "a".repeat(198), "b".repeat(9))),
            format!("{}…", "a".repeat(198))
        );
    }

    #[test]
    fn a_subject_with_a_word_too_long_to_fold_is_encoded_within_78_columns() {
        let c = composer(&[]);
        let subject = format!("Hello {}", "x".repeat(5000));
        let bytes = headers_of(&c, "Ana", &subject);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.lines().all(|l| l.len() <= 78), "{text}");
        let parsed = mail_parser::MessageParser::default().parse(&bytes).unwrap();
        assert_eq!(parsed.subject(), Some(subject.as_str()));
    }

    /// Names and subjects as a spreadsheet or a bulletin might give them:
    /// one line, no control characters, some with words far too long to
    /// fold around.
    fn one_line() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z .,'\"&()\\\\-]{0,300}",
            "[^\\p{Cc}?=]{0,300}",
            "(x{40,1200} ?){1,4}",
            "([a-zé]{1,90} ){1,60}",
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        #[test]
        fn every_header_line_stays_within_rfc_5322_and_reads_back(name in one_line(), subject in one_line()) {
            // As the list reader gives them: trimmed, single-spaced.
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
            proptest::prop_assume!(!name.is_empty() && !subject.is_empty());
            let c = composer(&[]);
            let bytes = headers_of(&c, &name, &subject);
            let text = String::from_utf8(bytes.clone()).unwrap();
            let headers = &text[..text.find("\r\n\r\n").unwrap()];
            for line in headers.split("\r\n") {
                proptest::prop_assert!(line.len() <= 998, "{} octets: {line}", line.len());
                // Within 78 where folding allows: lettre writes the address
                // after a non-ASCII name's last encoded word, on its line.
                let address = " <ana@example.org>".len();
                let limit = if line.ends_with("<ana@example.org>") { 78 + address } else { 78 };
                proptest::prop_assert!(line.len() <= limit, "{} octets: {line}", line.len());
            }
            let parsed = mail_parser::MessageParser::default().parse(&bytes).unwrap();
            let to = parsed.to().and_then(|to| to.first()).unwrap();
            let expected = shortened(&name);
            proptest::prop_assert_eq!(to.name(), Some(expected.as_str()));
            proptest::prop_assert_eq!(parsed.subject(), Some(subject.as_str()));
        }
    }

    #[test]
    fn with_an_unsubscribe_url_the_link_carries_a_token() {
        let c = composer(&[("UNSUBSCRIBE_URL", "https://example.org/u"), ("UNSUBSCRIBE_SECRET", "k")]);
        assert!(c.unsubscribe_link(&email("a@example.org")).starts_with("https://example.org/u?t="));
    }
}
