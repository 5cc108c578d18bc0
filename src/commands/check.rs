//! `bulletin check`: every problem with a bulletin, its list and the
//! settings, listed at once, without sending or writing anything.

use std::path::PathBuf;

use super::Outcome;
use crate::config::{Security, SmtpOverrides, SmtpSettings, Source};
use crate::deliver::smtp::Relay;
use crate::lint::findings;
use crate::subscribers::Lists;

/// Options of `bulletin check`.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub bulletin: PathBuf,
    pub list: Lists,
    /// Also try the relay, with these command-line settings.
    pub smtp: Option<SmtpOverrides>,
}

pub(super) fn run(options: &CheckOptions, env: &Source) -> anyhow::Result<Outcome> {
    let mut found = findings(&options.bulletin, &options.list, env);
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
    for read in &found.read {
        println!("{read}");
    }
    for error in &found.errors {
        println!("error: {}", crate::report::printable(error));
    }
    for warning in &found.warnings {
        println!("warning: {}", crate::report::printable(warning));
    }
    println!(
        "Checked {} against {}: {} would receive it ({} skipped); {} error(s), {} warning(s).",
        found.what,
        options.list.subscribers.display(),
        found.recipients,
        found.skipped,
        found.errors.len(),
        found.warnings.len()
    );
    Ok(if found.errors.is_empty() { Outcome::Done } else { Outcome::Problems })
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
