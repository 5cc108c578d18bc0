//! `bulletin check`: every problem with a bulletin, its list and the
//! settings, listed at once, without sending or writing anything.

use std::path::PathBuf;

use super::Outcome;
use crate::config::{Security, Settings, SmtpOverrides, SmtpSettings, Source};
use crate::content::Bulletin;
use crate::deliver::smtp::Relay;
use crate::domain::{Clock, SystemClock};
use crate::lint::dns::{DnsSetup, Severity};
use crate::lint::findings_with_journal;
use crate::render::ArchiveLinks;
use crate::subscribers::Lists;

/// `check --dns`: the relay named on the command line, if one is.
#[derive(Debug, Clone, Default)]
pub struct DnsCheck {
    /// `--smtp-host`, which wins over `SMTP_HOST`.
    pub smtp_host: Option<String>,
}

/// Options of `bulletin check`.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub bulletin: PathBuf,
    pub list: Lists,
    /// Also try the relay, with these command-line settings.
    pub smtp: Option<SmtpOverrides>,
    /// Also look the sending setup up in the DNS.
    pub dns: Option<DnsCheck>,
    /// The web archive's folder, where the issue's page should be.
    pub site: PathBuf,
    /// Where the journal lives: who a send would skip is said as the send
    /// would say it.
    pub state_dir: PathBuf,
}

pub(super) fn run(options: &CheckOptions, env: &Source) -> anyhow::Result<Outcome> {
    let mut found = findings_with_journal(&options.bulletin, &options.list, env, Some(&options.state_dir));
    archive(options, env, &mut found.errors, &mut found.warnings);
    // What `serve` schedules by (TIME_ZONE, CATCH_UP, SEND_EVERY): refused
    // here as `serve` would refuse it at start.
    if let Err(e) = crate::config::ScheduleSettings::from_source(env) {
        found.errors.push(crate::domain::chain(&e));
    }
    let (errors, warnings) = super::welcome::check(&options.bulletin, &options.list, env);
    found.errors.extend(errors);
    found.warnings.extend(warnings);
    if let Some(overrides) = &options.smtp {
        match check_relay(env, overrides) {
            Ok((line, warning)) => {
                println!("{}", crate::report::printable(&line));
                found.warnings.extend(warning);
            }
            Err(e) => found.errors.push(format!("{e:#}")),
        }
    }
    if let Some(dkim) = &found.dkim {
        print_dkim(dkim);
    }
    if let Some(dns) = &options.dns {
        check_dns(env, dns, &mut found.errors, &mut found.warnings);
    }
    for read in &found.read {
        println!("{read}");
    }
    match crate::config::send_window(env) {
        Ok(Some(window)) => println!("Send window: {}", super::send::window_line(&window, SystemClock.now())),
        Ok(None) => {}
        Err(e) => found.errors.push(crate::domain::chain(&e)),
    }
    if !found.not_sent.is_empty() {
        println!("Not sent by what the journal says: {}", found.not_sent.join(", "));
    }
    for line in &found.earlier {
        println!("earlier: {line}");
    }
    for error in &found.errors {
        println!("error: {}", crate::report::printable(error));
    }
    for warning in &found.warnings {
        println!("warning: {}", crate::report::printable(warning));
    }
    println!(
        "Checked {} against {}: {} would receive it ({} skipped); {} error(s), {} warning(s).",
        crate::report::printable(&found.what),
        options.list.subscribers.display(),
        found.recipients,
        found.skipped,
        found.errors.len(),
        found.warnings.len()
    );
    Ok(if found.errors.is_empty() { Outcome::Done } else { Outcome::Problems })
}

/// With ARCHIVE_URL set, the email links the issue's page: an error if the
/// bulletin keeps itself out of the archive, a warning if the page is not
/// in the site folder yet.
fn archive(options: &CheckOptions, env: &Source, errors: &mut Vec<String>, warnings: &mut Vec<String>) {
    let (Ok(settings), Ok(bulletin)) = (Settings::without_dkim(env), Bulletin::load(&options.bulletin))
    else {
        return; // Reported by the findings.
    };
    if bulletin.draft {
        warnings.push(format!(
            "{} is a draft (`draft = true`): `send` refuses it without --allow-draft, and `publish` leaves it out",
            bulletin.path.display()
        ));
    }
    let Some(links) = ArchiveLinks::of(&settings, &bulletin) else { return };
    if !bulletin.archive {
        errors.push(format!(
            "{}: ARCHIVE_URL is set, so the email links its page {}, but the bulletin has `archive = false` \
             and is never published there: take `archive = false` out, or send it without ARCHIVE_URL",
            bulletin.path.display(),
            links.issue
        ));
        return;
    }
    let page = options.site.join(crate::publish::page_path(&bulletin));
    if !page.is_file() {
        warnings.push(format!(
            "ARCHIVE_URL is set but {} is missing, so the email's \"View this email in your browser\" link \
             ({}) would lead nowhere: run `bulletin publish` (and upload the site) before sending",
            page.display(),
            links.issue
        ));
    }
}

/// What DKIM signs with, and the DNS record to publish for it.
fn print_dkim(dkim: &crate::dkim::Dkim) {
    let record = dkim.dns_record();
    println!(
        "DKIM: messages are signed as {} with selector {} ({}, key file {})",
        dkim.domain(),
        dkim.selector(),
        dkim.algorithm(),
        dkim.key_path().display()
    );
    println!(
        "Publish this TXT record in the DNS of {} (once; again only when the key changes):",
        dkim.domain()
    );
    println!("  name   {}", record.name);
    println!("  value  {}", record.value);
    println!("  as a zone-file line, the value in quoted strings of at most 255 characters:");
    println!("  {}", record.zone_file_line());
}

/// Connects, negotiates TLS and logs in to the relay without sending; says
/// so, and warns of an `SMTP_CA_FILE` that no TLS uses.
fn check_relay(env: &Source, overrides: &SmtpOverrides) -> anyhow::Result<(String, Option<String>)> {
    let smtp = SmtpSettings::from_source(env, overrides)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let relay = Relay::new(&smtp)?;
    runtime
        .block_on(relay.check())
        .map_err(|failure| anyhow::anyhow!("relay {}: {failure}", relay.name()))?;
    let login = smtp
        .credentials
        .as_ref()
        .map_or_else(|| "no login".to_owned(), |c| format!("logged in as {}", c.username));
    let (trust, warning) = match (&smtp.ca_file, smtp.security) {
        (None, _) => (String::new(), None),
        (Some(ca), Security::None) => (
            String::new(),
            Some(format!(
                "SMTP_CA_FILE ({}) is set but SMTP_SECURITY is none: without TLS no certificate is checked",
                ca.path().display()
            )),
        ),
        (Some(ca), _) => (
            format!(
                "; trusting {} authorit{} of {} besides Mozilla's roots",
                ca.certificates().len(),
                if ca.certificates().len() == 1 { "y" } else { "ies" },
                ca.path().display()
            ),
            None,
        ),
    };
    Ok((format!("relay {}: connected, {login}{trust}", relay.name()), warning))
}

/// `--dns`: prints what is as it should be, one line per item, and adds the
/// rest to the errors and warnings.
fn check_dns(env: &Source, dns: &DnsCheck, errors: &mut Vec<String>, warnings: &mut Vec<String>) {
    let settings = match Settings::from_source(env) {
        Ok(settings) => settings,
        // The error is among the findings already.
        Err(_) => return warnings.push("DNS: not checked, as the settings have an error (above)".to_owned()),
    };
    let server = match crate::config::dns_server(env) {
        Ok(server) => server,
        Err(e) => return errors.push(format!("DNS: not checked: {}", crate::domain::chain(&e))),
    };
    let relay = dns.smtp_host.clone().or_else(|| env.get("SMTP_HOST").map(|(host, _)| host));
    let setup = DnsSetup {
        settings: &settings,
        relay: relay.as_deref(),
        server,
        now: SystemClock.now().as_system_time(),
    };
    for finding in crate::lint::dns::check(&setup) {
        match finding.severity {
            Severity::Fine => println!("{}", crate::report::printable(&finding.to_string())),
            Severity::Warning => warnings.push(finding.to_string()),
            Severity::Error => errors.push(finding.to_string()),
        }
    }
}
