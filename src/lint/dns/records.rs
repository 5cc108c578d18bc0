//! The pure side of `check --dns`: the records to publish and how the
//! domains align, worded for the findings. Nothing here asks the DNS.

use std::net::IpAddr;

use crate::dkim::{Alignment, alignment};

/// A domain as the DNS holds it: lower case, an international one in its
/// `xn--` form (`bücher.example` is `xn--bcher-kva.example`).
pub fn ascii_domain(domain: &str) -> String {
    idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_ascii_lowercase())
}

/// The SPF mechanism that authorises one address: `ip4:192.0.2.1` or
/// `ip6:2001:db8::1`.
pub fn mechanism(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(ip) => format!("ip4:{ip}"),
        IpAddr::V6(ip) => format!("ip6:{ip}"),
    }
}

/// The SPF record that authorises `missing` as well: the `existing` record
/// with their mechanisms put first (before its `include:`s, `all` and
/// `redirect=`, so they are matched whatever follows), or a new record
/// that allows them and soft-fails the rest.
pub fn spf_with(existing: Option<&str>, missing: &[IpAddr]) -> String {
    let added: Vec<String> = missing.iter().copied().map(mechanism).collect();
    let added = added.join(" ");
    match existing.map(str::trim) {
        Some(record) => {
            let rest = record.get("v=spf1".len()..).unwrap_or_default().trim();
            if rest.is_empty() { format!("v=spf1 {added}") } else { format!("v=spf1 {added} {rest}") }
        }
        None => format!("v=spf1 {added} ~all"),
    }
}

/// The TXT record of an SPF policy, if `text` is one (RFC 7208 section
/// 4.5: the version tag alone, or followed by a space).
pub fn is_spf(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower == "v=spf1" || lower.starts_with("v=spf1 ")
}

/// DMARC's alignment modes (RFC 7489 section 3.1): `adkim=` and `aspf=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `r`, the default: the same organisational domain will do.
    Relaxed,
    /// `s`: exactly the same domain.
    Strict,
}

impl Mode {
    fn tag(self) -> &'static str {
        match self {
            Self::Relaxed => "r",
            Self::Strict => "s",
        }
    }
}

/// Whether `domain` aligns with the From domain `from` in `mode`.
pub fn aligns(mode: Mode, domain: &str, from: &str) -> bool {
    match (alignment(domain, from), mode) {
        (Alignment::Strict, _) | (Alignment::Relaxed, Mode::Relaxed) => true,
        (Alignment::Relaxed, Mode::Strict) | (Alignment::None, _) => false,
    }
}

/// What a DMARC record asks receivers to do with mail that fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    None,
    Quarantine,
    Reject,
}

impl Policy {
    fn tag(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Quarantine => "quarantine",
            Self::Reject => "reject",
        }
    }
}

/// The DMARC record found and the domains it is about.
#[derive(Debug, Clone)]
pub struct Dmarc<'a> {
    /// Where the record was found: `_dmarc.example.org`.
    pub name: &'a str,
    pub policy: Policy,
    pub adkim: Mode,
    pub aspf: Mode,
    /// The From address's domain.
    pub from: &'a str,
    /// `d=` of bulletin's DKIM signature, when messages are signed.
    pub dkim: Option<&'a str>,
    /// The envelope sender's domain, which SPF vouches for.
    pub envelope: &'a str,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// As it should be.
    Fine,
    /// Works, but worth a look.
    Warning,
    /// Mail will fail a check receivers make: fix before sending.
    Error,
}

impl Dmarc<'_> {
    /// One line on the policy and on what aligns with From, and how
    /// serious it is: an error when neither DKIM nor the envelope sender
    /// aligns (every message fails DMARC), a warning for `p=none` or for
    /// one of the two not aligning.
    pub fn verdict(&self) -> (Severity, String) {
        let Self { name, policy, adkim, aspf, from, dkim, envelope } = self;
        let dkim_aligns = dkim.is_some_and(|d| aligns(*adkim, d, from));
        let spf_aligns = aligns(*aspf, envelope, from);
        let mut line = format!(
            "{name} publishes p={} (adkim={}, aspf={}); From {from} ",
            policy.tag(),
            adkim.tag(),
            aspf.tag()
        );
        let dkim_words = match dkim {
            Some(d) => format!("DKIM d={d}"),
            None => "a DKIM signature of bulletin's (DKIM is not set up)".to_owned(),
        };
        let envelope_words = format!("the envelope sender's domain {envelope}");
        line += &match (dkim_aligns, spf_aligns) {
            (true, true) => format!("aligns with {dkim_words} and with {envelope_words}"),
            (true, false) => format!("aligns with {dkim_words} but not with {envelope_words}"),
            (false, true) => format!("aligns with {envelope_words} but not with {dkim_words}"),
            (false, false) => format!("aligns with neither {dkim_words} nor {envelope_words}"),
        };
        let mut severity = Severity::Fine;
        if !(dkim_aligns || spf_aligns) {
            severity = Severity::Error;
            line += &format!(
                ", so every message fails DMARC: set DKIM_DOMAIN to {from} (and publish its key there), or \
                 BOUNCE_ADDRESS to an address under {from}"
            );
        } else if !spf_aligns {
            severity = Severity::Warning;
            line += &format!(
                ": DMARC passes on the DKIM signature alone, and fails where a forwarder breaks it; use a \
                 BOUNCE_ADDRESS under {from}{}",
                relax(*aspf, envelope, from, "aspf", self)
            );
        } else if !dkim_aligns {
            severity = Severity::Warning;
            line += &format!(
                ": DMARC passes on SPF alone, which a forwarder breaks; set DKIM_DOMAIN to {from}{}",
                dkim.map(|d| relax(*adkim, d, from, "adkim", self)).unwrap_or_default()
            );
        }
        if *policy == Policy::None {
            severity = severity.max(Severity::Warning);
            line += &format!(
                "; p=none only asks for reports, so mail forged as {from} is still delivered: once the reports \
                 show your mail passing, publish at {name}: {}",
                self.record_with(Policy::Quarantine, *adkim, *aspf)
            );
        }
        (severity, line)
    }

    /// The record with another policy and modes, the other tags left out.
    fn record_with(&self, policy: Policy, adkim: Mode, aspf: Mode) -> String {
        let mut record = format!("v=DMARC1; p={}", policy.tag());
        for (tag, mode) in [("adkim", adkim), ("aspf", aspf)] {
            if mode == Mode::Strict {
                record += &format!("; {tag}=s");
            }
        }
        record
    }
}

/// ", or relax the record: …" when `domain` would align in relaxed mode.
fn relax(mode: Mode, domain: &str, from: &str, tag: &str, dmarc: &Dmarc<'_>) -> String {
    if mode == Mode::Strict && aligns(Mode::Relaxed, domain, from) {
        let (adkim, aspf) =
            if tag == "adkim" { (Mode::Relaxed, dmarc.aspf) } else { (dmarc.adkim, Mode::Relaxed) };
        format!(
            ", or relax {tag} by publishing at {}: {}",
            dmarc.name,
            dmarc.record_with(dmarc.policy, adkim, aspf)
        )
    } else {
        String::new()
    }
}

/// The DMARC record to start with where there is none: reports only.
pub fn first_dmarc_record() -> &'static str {
    "v=DMARC1; p=none"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn domains_are_asked_for_in_their_ascii_form() {
        assert_eq!(ascii_domain("Hope.Example.org"), "hope.example.org");
        assert_eq!(ascii_domain("bücher.example"), "xn--bcher-kva.example");
    }

    #[test]
    fn a_new_spf_record_allows_the_relays_addresses_and_soft_fails_the_rest() {
        assert_eq!(
            spf_with(None, &[ip("192.0.2.1"), ip("2001:db8::1")]),
            "v=spf1 ip4:192.0.2.1 ip6:2001:db8::1 ~all"
        );
    }

    #[test]
    fn an_existing_spf_record_gets_the_missing_addresses_first() {
        assert_eq!(
            spf_with(Some("v=spf1 include:_spf.example.net -all"), &[ip("192.0.2.1")]),
            "v=spf1 ip4:192.0.2.1 include:_spf.example.net -all"
        );
        assert_eq!(spf_with(Some("v=spf1"), &[ip("192.0.2.1")]), "v=spf1 ip4:192.0.2.1");
    }

    #[test]
    fn only_v_spf1_records_count_as_spf() {
        assert!(is_spf("v=spf1 -all"));
        assert!(is_spf("V=SPF1"));
        assert!(!is_spf("v=spf10 -all"));
        assert!(!is_spf("google-site-verification=abc"));
    }

    #[test]
    fn strict_alignment_wants_the_same_domain_and_relaxed_the_same_organisation() {
        assert!(aligns(Mode::Relaxed, "bounces.example.org", "example.org"));
        assert!(!aligns(Mode::Strict, "bounces.example.org", "example.org"));
        assert!(aligns(Mode::Strict, "Example.org", "example.org"));
        assert!(!aligns(Mode::Relaxed, "example.net", "example.org"));
    }

    fn dmarc<'a>(policy: Policy, dkim: Option<&'a str>, envelope: &'a str) -> Dmarc<'a> {
        Dmarc {
            name: "_dmarc.example.org",
            policy,
            adkim: Mode::Relaxed,
            aspf: Mode::Relaxed,
            from: "example.org",
            dkim,
            envelope,
        }
    }

    #[test]
    fn dmarc_with_both_aligned_and_a_policy_is_fine() {
        let (severity, line) = dmarc(Policy::Reject, Some("example.org"), "bounces.example.org").verdict();
        assert_eq!(severity, Severity::Fine, "{line}");
        assert_eq!(
            line,
            "_dmarc.example.org publishes p=reject (adkim=r, aspf=r); From example.org aligns with DKIM \
             d=example.org and with the envelope sender's domain bounces.example.org"
        );
    }

    #[test]
    fn dmarc_p_none_is_a_warning_naming_the_stricter_record() {
        let (severity, line) = dmarc(Policy::None, Some("example.org"), "example.org").verdict();
        assert_eq!(severity, Severity::Warning);
        assert!(line.ends_with("publish at _dmarc.example.org: v=DMARC1; p=quarantine"), "{line}");
    }

    #[test]
    fn dmarc_with_nothing_aligned_is_an_error_saying_what_to_set() {
        let (severity, line) = dmarc(Policy::Reject, None, "mailer.example.net").verdict();
        assert_eq!(severity, Severity::Error);
        assert!(line.contains("aligns with neither a DKIM signature of bulletin's"), "{line}");
        assert!(line.contains("set DKIM_DOMAIN to example.org"), "{line}");
    }

    #[test]
    fn a_misaligned_envelope_under_strict_aspf_offers_the_relaxed_record() {
        let mut record = dmarc(Policy::Reject, Some("example.org"), "bounces.example.org");
        record.aspf = Mode::Strict;
        let (severity, line) = record.verdict();
        assert_eq!(severity, Severity::Warning);
        assert!(line.contains("but not with the envelope sender's domain bounces.example.org"), "{line}");
        assert!(
            line.ends_with("or relax aspf by publishing at _dmarc.example.org: v=DMARC1; p=reject"),
            "{line}"
        );
    }

    #[test]
    fn a_misaligned_envelope_elsewhere_asks_for_a_bounce_address_under_from() {
        let (severity, line) = dmarc(Policy::Quarantine, Some("example.org"), "example.net").verdict();
        assert_eq!(severity, Severity::Warning);
        assert!(line.ends_with("use a BOUNCE_ADDRESS under example.org"), "{line}");
    }
}
