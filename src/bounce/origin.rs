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
use crate::message::verp::{TOKEN_LEN, Verp};

/// The journal's messages, by VERP token (an index built in one pass over
/// the journal, a few dozen bytes a message) and by `Message-ID` (the
/// journal's own index).
#[derive(Debug)]
pub struct Ours<'a> {
    archive: Option<&'a Archive>,
    /// Each message's token → its journal row.
    by_token: HashMap<[u8; TOKEN_LEN], i64>,
    /// Everyone the journal has mailed.
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
pub enum Evidence {
    /// None of its tokens or `Message-ID`s is one of ours.
    None,
    /// Its tokens and `Message-ID` are of messages to different
    /// recipients (as the list writes them): somebody made it up.
    Conflict { first: String, second: String },
    /// One of our messages.
    Ours { recipient: EmailKey, sent: Sent, proof: Proof },
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

impl<'a> Ours<'a> {
    /// The messages in `archive` (none without one), their tokens made
    /// with `verp`.
    pub fn load(archive: Option<&'a Archive>, verp: &Verp) -> Result<Self, JournalError> {
        let mut ours = Self { archive, by_token: HashMap::new(), recipients: HashSet::new() };
        if let Some(archive) = archive {
            archive.each_message(|row, campaign, recipient| {
                let token = verp.token(campaign, &recipient);
                if let Ok(token) = token.as_bytes().try_into() {
                    ours.by_token.insert(token, row);
                }
                ours.recipients.insert(recipient);
            })?;
        }
        Ok(ours)
    }

    /// Which of our messages `notice` is about, by the tokens of the
    /// addresses it came back to and the `Message-ID`s it quotes.
    pub fn evidence(&self, notice: &Notice) -> Result<Evidence, JournalError> {
        let Some(archive) = self.archive else { return Ok(Evidence::None) };
        let mut found: Vec<(EmailKey, Sent)> = Vec::new();
        let rows: HashSet<i64> = notice
            .delivered_to
            .iter()
            .chain(&notice.original.return_path)
            .filter_map(|address| Verp::token_in(address))
            .filter_map(|token| self.by_token.get(token.as_bytes()).copied())
            .collect();
        for row in rows {
            found.extend(archive.message_in_row(row)?);
        }
        let by_token = !found.is_empty();
        let mut by_id = false;
        for id in notice.original.message_ids.iter().filter_map(|id| MessageId::parse(id)) {
            if let Some(message) = archive.keyed_message(&id)? {
                // The message it quotes is the best name for what it is
                // about.
                found.insert(0, message);
                by_id = true;
                break;
            }
        }
        let mut found = found.into_iter();
        let Some((recipient, sent)) = found.next() else { return Ok(Evidence::None) };
        if let Some((_, other)) = found.find(|(key, _)| key != &recipient) {
            return Ok(Evidence::Conflict { first: sent.address, second: other.address });
        }
        let proof = match (by_token, by_id) {
            (true, true) => Proof::Both,
            (true, false) => Proof::Token,
            (false, _) => Proof::MessageId,
        };
        Ok(Evidence::Ours { recipient, sent, proof })
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
    pub fn believe<'e>(
        &self,
        evidence: &'e Evidence,
        named: Option<&str>,
        sole: bool,
    ) -> Result<&'e Sent, NotOurs> {
        match evidence {
            Evidence::None => Err(NotOurs::Unmatched),
            Evidence::Conflict { first, second } => {
                Err(NotOurs::Conflict { first: first.clone(), second: second.clone() })
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
    use crate::content::CampaignId;
    use crate::journal::{Journal, Recipient};

    fn verp() -> Verp {
        Verp::new(&Secret::new("k".to_owned()))
    }

    /// A journal in `dir` that mailed Ana and Bo in campaign `c`.
    fn archive(dir: &std::path::Path) -> Archive {
        let journal = Journal::open(dir, &CampaignId::for_tests("c")).unwrap();
        for address in ["Ana@example.org", "bo@example.org"] {
            let recipient = Recipient { key: EmailKey::of(address), address: address.to_owned() };
            let id = format!("<c.{}@hope.example.org>", address.to_lowercase().replace('@', "."));
            journal.sending(&recipient, &MessageId::parse(&id).unwrap()).unwrap();
        }
        Archive::open_existing(dir).unwrap().unwrap()
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

    fn matched(evidence: Evidence) -> (String, Proof) {
        match evidence {
            Evidence::Ours { sent, proof, .. } => (sent.address, proof),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_report_is_matched_by_its_token_its_message_id_or_both() {
        let dir = tempfile::tempdir().unwrap();
        let archive = archive(dir.path());
        let ours = Ours::load(Some(&archive), &verp()).unwrap();
        let token = notice(&[verp_address("c", "ana@example.org")], &[]);
        assert_eq!(matched(ours.evidence(&token).unwrap()), ("Ana@example.org".to_owned(), Proof::Token));
        let id = notice(&[], &["c.bo.example.org@hope.example.org"]);
        assert_eq!(matched(ours.evidence(&id).unwrap()), ("bo@example.org".to_owned(), Proof::MessageId));
        let both = notice(&[verp_address("c", "bo@example.org")], &["<c.bo.example.org@hope.example.org>"]);
        assert_eq!(matched(ours.evidence(&both).unwrap()), ("bo@example.org".to_owned(), Proof::Both));
    }

    #[test]
    fn a_token_for_another_campaign_or_recipient_or_key_matches_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let archive = archive(dir.path());
        let ours = Ours::load(Some(&archive), &verp()).unwrap();
        for to in [verp_address("d", "ana@example.org"), verp_address("c", "cy@example.org")] {
            assert_eq!(ours.evidence(&notice(&[to], &[])).unwrap(), Evidence::None);
        }
        let other_key =
            Verp::new(&Secret::new("other".to_owned())).token("c", &EmailKey::of("ana@example.org"));
        let forged = notice(&[format!("bounces+{other_key}@hope.example.org")], &[]);
        assert_eq!(ours.evidence(&forged).unwrap(), Evidence::None);
        assert_eq!(ours.believe(&Evidence::None, Some("ana@example.org"), true), Err(NotOurs::Unmatched));
        let none = Ours::load(None, &verp()).unwrap();
        assert_eq!(
            none.evidence(&notice(&[verp_address("c", "ana@example.org")], &[])).unwrap(),
            Evidence::None
        );
    }

    #[test]
    fn a_token_and_a_message_id_of_different_recipients_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let archive = archive(dir.path());
        let ours = Ours::load(Some(&archive), &verp()).unwrap();
        let mixed = notice(&[verp_address("c", "ana@example.org")], &["c.bo.example.org@hope.example.org"]);
        let evidence = ours.evidence(&mixed).unwrap();
        assert!(matches!(evidence, Evidence::Conflict { .. }), "{evidence:?}");
        assert!(matches!(ours.believe(&evidence, None, true), Err(NotOurs::Conflict { .. })));
    }

    #[test]
    fn a_report_is_believed_about_its_recipient_or_a_forwarding_address_never_another_recipient() {
        let dir = tempfile::tempdir().unwrap();
        let archive = archive(dir.path());
        let ours = Ours::load(Some(&archive), &verp()).unwrap();
        let evidence = ours.evidence(&notice(&[verp_address("c", "ana@example.org")], &[])).unwrap();
        let believed =
            |named: Option<&str>, sole| ours.believe(&evidence, named, sole).map(|s| s.address.clone());
        assert_eq!(believed(Some("ANA@example.org"), true).as_deref(), Ok("Ana@example.org"));
        assert_eq!(believed(None, true).as_deref(), Ok("Ana@example.org"));
        assert_eq!(believed(Some("ana.forward@elsewhere.example"), true).as_deref(), Ok("Ana@example.org"));
        let other = |r: Result<String, NotOurs>| matches!(r, Err(NotOurs::OtherRecipient { .. }));
        assert!(other(believed(Some("ana.forward@elsewhere.example"), false)));
        assert!(other(believed(Some("bo@example.org"), true)));
    }
}
