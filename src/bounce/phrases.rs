//! The words servers use for each cause of a failure, lower case, for when
//! the enhanced status code is missing or generic (5.0.0, qmail's #5.5.0).
//! Sources are listed in [`super::classify`]'s documentation.

// Phrases, lower case. Each list is what servers say in their own words
// when the enhanced code is missing or generic (5.0.0, qmail's #5.5.0).

/// The address does not exist (Postfix "User unknown in virtual mailbox
/// table", Exim "Unrouteable address"/"unknown local part", qmail "no
/// mailbox here by that name", Gmail "does not exist"/"Address not found",
/// Microsoft "RecipientNotFound"/"RecipNotFound"/"wasn't found at",
/// Outlook.com "mailbox unavailable", Yahoo "doesn't have a yahoo.com
/// account").
pub(super) const NO_MAILBOX: &[&str] = &[
    "user unknown",
    "unknown user",
    "no such user",
    "no such mailbox",
    "no such recipient",
    "no such account",
    "unknown recipient",
    "recipient unknown",
    "recipient not found",
    "recipientnotfound",
    "recipnotfound",
    "unknown local part",
    "unknown local-part",
    "user not found",
    "mailbox not found",
    "mailbox does not exist",
    "address does not exist",
    "does not exist",
    "doesn't exist",
    "invalid recipient",
    "invalid mailbox",
    "not a valid mailbox",
    "no mailbox here by that name",
    "address not found",
    "couldn't be found",
    "wasn't found at",
    "was not found in",
    "mailbox unavailable",
    "addressee unknown",
    "doesn't have a yahoo",
    "unrouteable address",
    "unroutable address",
];

/// The domain does not exist or takes no mail (Postfix "Host or domain
/// name not found. Name service error", RFC 7505 null MX).
pub(super) const NO_DOMAIN: &[&str] = &[
    "host or domain name not found",
    "domain not found",
    "domain name not found",
    "no such domain",
    "domain does not exist",
    "host not found",
    "host unknown",
    "nxdomain",
    "null mx",
    "domain does not accept mail",
];

/// The mailbox exists but is switched off (Gmail "is disabled", Yahoo
/// "This mailbox is disabled").
pub(super) const DISABLED: &[&str] = &[
    "mailbox is disabled",
    "mailbox disabled",
    "account is disabled",
    "account has been disabled",
    "account disabled",
    "you tried to reach is disabled",
    "deactivated",
];

/// The mailbox is full (Gmail "over quota", Microsoft "Mailbox full").
pub(super) const FULL: &[&str] = &[
    "mailbox full",
    "mailbox is full",
    "over quota",
    "overquota",
    "quota exceeded",
    "exceeded storage",
    "exceeds storage",
    "storage allocation",
    "insufficient storage",
    "mailfolder is full",
    "inbox is full",
    "out of storage",
];

/// SPF, DKIM or DMARC (Gmail "Unauthenticated email … DMARC policy").
pub(super) const AUTHENTICATION: &[&str] =
    &["dmarc", "dkim", " spf", "spf ", "spf=", "unauthenticated", "sender policy framework"];

/// Spam filters, block lists and reputation (Gmail "unsolicited mail",
/// Microsoft "banned sending IP"/"block list", Yahoo "[TSS04]", Spamhaus).
pub(super) const SPAM: &[&str] = &[
    "spam",
    "blocked",
    "blacklist",
    "black list",
    "blocklist",
    "block list",
    "denylist",
    "spamhaus",
    "spamcop",
    "barracuda",
    "dnsbl",
    " rbl",
    "reputation",
    "unsolicited",
    "banned",
    "junk",
    "rate limit",
    "ratelimit",
    "too many messages",
    "throttl",
    "user complaints",
    "listed at",
    "listed on",
    "listed in",
];

/// The sender's address or domain was refused.
pub(super) const SENDER: &[&str] =
    &["sender address rejected", "sender rejected", "sender domain", "sender verify failed"];

/// The message itself was refused.
pub(super) const CONTENT: &[&str] =
    &["virus", "malware", "message too large", "message size exceeds", "too big", "header error"];

/// Other refusals on the receiving side's rules.
pub(super) const POLICY: &[&str] = &[
    "policy",
    "not allowed",
    "not permitted",
    "prohibited",
    "relay access denied",
    "relaying denied",
    "unable to relay",
    "relay not permitted",
    "access denied",
    "client host rejected",
    "reverse dns",
    "ptr record",
    "greylist",
    "tls required",
    "use the smtp server of your isp",
];
