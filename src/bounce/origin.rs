//! Whether a report is about a message we sent, and so whether to believe
//! it. Anyone can email the bounce address; a report is acted on only when
//! it matches a message in the journal:
//! - by the VERP token of the address it came back to (see
//!   [`crate::message::verp`]), which only the holder of the key can make,
//!   or
//! - by the `Message-ID` of the original that it quotes,
//!
//! and only about the recipient that message went to. [`Ours`] is the
//! journal's messages indexed both ways, built once per import.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::notice::Notice;
use crate::domain::{EmailKey, MessageId};
use crate::journal::{Archive, JournalError, Sent};
use crate::message::verp::Verp;

/// Every message the journal holds, by VERP token and by `Message-ID`.
#[derive(Debug, Default)]
pub struct Ours {
    messages: Vec<(EmailKey, Sent)>,
    by_token: HashMap<String, usize>,
    by_message_id: HashMap<MessageId, usize>,
    recipients: HashSet<EmailKey>,
}

/// How a report was matched to one of our messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    Token,
    MessageId,
    Both,
}

/// What a report shows of which of our messages it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence<'a> {
    /// None of its tokens or `Message-ID`s is one of ours.
    None,
    /// Its tokens and `Message-ID` are of messages to different
    /// recipients: somebody made it up.
    Conflict { first: &'a str, second: &'a str },
    /// One of our messages.
    Ours { recipient: &'a EmailKey, sent: &'a Sent, proof: Proof },
}

/// Why a report, or one address in it, is not believed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotOurs {
    /// It carries no VERP token and quotes no `Message-ID` we sent.
    Unmatched,
    /// Its tokens and `Message-ID` name different recipients.
    Conflict { first: String, second: String },
    /// It is about `named`, but the message it matches went to `ours`,
    /// another of our recipients.
    OtherRecipient { named: String, ours: String },
}

impl fmt::Display for NotOurs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unmatched => f.write_str("no VERP token or Message-ID we sent"),
            Self::Conflict { first, second } => write!(
                f,
                "its VERP token and Message-ID are of messages to different recipients ({first}, {second})"
            ),
            Self::OtherRecipient { ours, .. } => {
                write!(f, "its VERP token or Message-ID is of our message to {ours}, another recipient")
            }
        }
    }
}

impl Ours {
    /// The journal's messages in `state_dir`'s archive (none without one),
    /// their tokens made with `verp`.
    pub fn load(archive: Option<&Archive>, verp: &Verp) -> Result<Self, JournalError> {
        let messages = match archive {
            Some(archive) => archive.every_message()?,
            None => Vec::new(),
        };
        Ok(Self::new(messages, verp))
    }

    /// `messages` indexed, their tokens made with `verp`.
    pub fn new(messages: Vec<(EmailKey, Sent)>, verp: &Verp) -> Self {
        let mut ours = Self { messages, ..Self::default() };
        for (at, (recipient, sent)) in ours.messages.iter().enumerate() {
            ours.by_token.insert(verp.token(&sent.campaign, recipient), at);
            if let Some(id) = MessageId::parse(&sent.message_id) {
                ours.by_message_id.entry(id).or_insert(at);
            }
            ours.recipients.insert(recipient.clone());
        }
        ours
    }

    /// Which of our messages `notice` is about, by the tokens of the
    /// addresses it came back to and the `Message-ID`s it quotes.
    pub fn evidence(&self, notice: &Notice) -> Evidence<'_> {
        let by_token: Vec<usize> = notice
            .delivered_to
            .iter()
            .chain(&notice.original.return_path)
            .filter_map(|address| Verp::token_in(address))
            .filter_map(|token| self.by_token.get(&token).copied())
            .collect();
        let by_id = notice
            .original
            .message_ids
            .iter()
            .filter_map(|id| MessageId::parse(id))
            .find_map(|id| self.by_message_id.get(&id).copied());
        let mut found = by_token.iter().copied().chain(by_id);
        let Some(first) = found.next() else { return Evidence::None };
        let recipient = &self.messages[first].0;
        if let Some(other) = found.find(|&at| &self.messages[at].0 != recipient) {
            return Evidence::Conflict {
                first: &self.messages[first].1.address,
                second: &self.messages[other].1.address,
            };
        }
        let (recipient, sent) = {
            let (recipient, sent) = &self.messages[by_id.unwrap_or(first)];
            (recipient, sent)
        };
        let proof = match (by_token.is_empty(), by_id.is_some()) {
            (false, true) => Proof::Both,
            (false, false) => Proof::Token,
            (true, _) => Proof::MessageId,
        };
        Evidence::Ours { recipient, sent, proof }
    }

    /// The message a report with `evidence` is about, for one address it
    /// names (`None` when it hides it), if it is to be believed; `sole` when
    /// the report names only this address.
    ///
    /// A report about another address than the message's recipient is
    /// believed (about the recipient) only when it is the report's one
    /// address and not one we mail: the recipient's mailbox forwarded the
    /// message there. A report about another of our recipients is not
    /// believed: that is how one reader's token would be used against
    /// another.
    pub fn believe<'a>(
        &self,
        evidence: &Evidence<'a>,
        named: Option<&str>,
        sole: bool,
    ) -> Result<&'a Sent, NotOurs> {
        match *evidence {
            Evidence::None => Err(NotOurs::Unmatched),
            Evidence::Conflict { first, second } => {
                Err(NotOurs::Conflict { first: first.to_owned(), second: second.to_owned() })
            }
            Evidence::Ours { recipient, sent, .. } => match named.map(EmailKey::of) {
                None => Ok(sent),
                Some(key) if &key == recipient => Ok(sent),
                Some(key) if sole && !self.recipients.contains(&key) => Ok(sent),
                Some(_) => Err(NotOurs::OtherRecipient {
                    named: named.unwrap_or_default().to_owned(),
                    ours: sent.address.clone(),
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::domain::{Reply, Timestamp};
    use crate::journal::State;

    fn verp() -> Verp {
        Verp::new(&Secret::new("k".to_owned()))
    }

    fn sent(campaign: &str, address: &str) -> (EmailKey, Sent) {
        (
            EmailKey::of(address),
            Sent {
                campaign: campaign.to_owned(),
                address: address.to_owned(),
                message_id: format!("<{campaign}.{}@hope.example.org>", address.replace('@', ".")),
                state: State::Sent,
                reply: Reply::from_text("250 ok"),
                updated_at: Timestamp::parse("2025-10-16T10:00:00Z").unwrap(),
            },
        )
    }

    fn ours() -> Ours {
        Ours::new(vec![sent("c", "Ana@example.org"), sent("c", "bo@example.org")], &verp())
    }

    fn notice(to: &[String], ids: &[&str]) -> Notice {
        let mut notice = super::super::notice::read(b"From: x@example.org\r\nSubject: x\r\n\r\nx\r\n");
        notice.delivered_to = to.to_vec();
        notice.original.message_ids = ids.iter().map(|s| (*s).to_owned()).collect();
        notice
    }

    fn verp_address(campaign: &str, address: &str) -> String {
        format!("BOUNCES+{}@hope.example.org", verp().token(campaign, &EmailKey::of(address)).to_uppercase())
    }

    #[test]
    fn a_report_is_matched_by_its_token_its_message_id_or_both() {
        let ours = ours();
        let token = notice(&[verp_address("c", "ana@example.org")], &[]);
        let Evidence::Ours { sent, proof, .. } = ours.evidence(&token) else { panic!() };
        assert_eq!((sent.address.as_str(), proof), ("Ana@example.org", Proof::Token));
        let id = notice(&[], &["c.bo.example.org@hope.example.org"]);
        let Evidence::Ours { sent, proof, .. } = ours.evidence(&id) else { panic!() };
        assert_eq!((sent.address.as_str(), proof), ("bo@example.org", Proof::MessageId));
        let both = notice(&[verp_address("c", "bo@example.org")], &["<c.bo.example.org@hope.example.org>"]);
        assert!(matches!(ours.evidence(&both), Evidence::Ours { proof: Proof::Both, .. }));
    }

    #[test]
    fn a_token_for_another_campaign_or_recipient_or_key_matches_nothing() {
        let ours = ours();
        for to in [verp_address("d", "ana@example.org"), verp_address("c", "cy@example.org")] {
            assert_eq!(ours.evidence(&notice(&[to], &[])), Evidence::None);
        }
        let other_key =
            Verp::new(&Secret::new("other".to_owned())).token("c", &EmailKey::of("ana@example.org"));
        let forged = notice(&[format!("bounces+{other_key}@hope.example.org")], &[]);
        assert_eq!(ours.evidence(&forged), Evidence::None);
        assert_eq!(ours.believe(&Evidence::None, Some("ana@example.org"), true), Err(NotOurs::Unmatched));
    }

    #[test]
    fn a_token_and_a_message_id_of_different_recipients_conflict() {
        let ours = ours();
        let mixed = notice(&[verp_address("c", "ana@example.org")], &["c.bo.example.org@hope.example.org"]);
        let evidence = ours.evidence(&mixed);
        assert!(matches!(evidence, Evidence::Conflict { .. }), "{evidence:?}");
        assert!(matches!(ours.believe(&evidence, None, true), Err(NotOurs::Conflict { .. })));
    }

    #[test]
    fn a_report_is_believed_about_its_recipient_or_a_forwarding_address_never_another_recipient() {
        let ours = ours();
        let evidence = ours.evidence(&notice(&[verp_address("c", "ana@example.org")], &[]));
        let believed =
            |named: Option<&str>, sole| ours.believe(&evidence, named, sole).map(|s| s.address.clone());
        assert_eq!(believed(Some("ANA@example.org"), true).as_deref(), Ok("Ana@example.org"));
        assert_eq!(believed(None, true).as_deref(), Ok("Ana@example.org"));
        assert_eq!(believed(Some("ana.forward@elsewhere.example"), true).as_deref(), Ok("Ana@example.org"));
        assert!(matches!(
            believed(Some("ana.forward@elsewhere.example"), false),
            Err(NotOurs::OtherRecipient { .. })
        ));
        assert!(matches!(believed(Some("bo@example.org"), true), Err(NotOurs::OtherRecipient { .. })));
    }
}
