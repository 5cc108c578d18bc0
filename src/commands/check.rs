//! `bulletin check`: every problem with a bulletin, its list and the
//! settings, listed at once, without sending or writing anything.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{ListOptions, Outcome, describe_bulletin};
use crate::config::{Security, Settings, SmtpOverrides, SmtpSettings, Source};
use crate::content::Bulletin;
use crate::deliver::smtp::Relay;
use crate::lint;
use crate::message::Composer;
use crate::render::{Reader, Rendered};
use crate::report::{Tally, describe};
use crate::subscribers::{Audience, Row, SubscriberReader, Suppressions};

/// Options of `bulletin check`.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub bulletin: PathBuf,
    pub list: ListOptions,
    /// Also try the relay, with these command-line settings.
    pub smtp: Option<SmtpOverrides>,
}

/// What a check found.
#[derive(Debug, Default)]
pub struct Findings {
    /// Problems that need fixing: each one line, naming file and line.
    pub errors: Vec<String>,
    /// Risks worth a look.
    pub warnings: Vec<String>,
    /// How many would receive the bulletin.
    pub recipients: u64,
    /// How many rows are not mailed.
    pub skipped: u64,
    /// The bulletin's campaign and subject, or its path if it did not parse.
    pub what: String,
    /// The DKIM signer, when set up: its DNS record is printed.
    pub dkim: Option<std::sync::Arc<crate::dkim::Dkim>>,
}

pub(super) fn run(options: &CheckOptions, env: &Source) -> anyhow::Result<Outcome> {
    let mut found = findings(&options.bulletin, &options.list, env);
    if let Some(overrides) = &options.smtp {
        match check_relay(env, overrides) {
            Ok((line, warning)) => {
                println!("{line}");
                found.warnings.extend(warning);
            }
            Err(e) => found.errors.push(format!("{e:#}")),
        }
    }
    if let Some(dkim) = &found.dkim {
        print_dkim(dkim);
    }
    for error in &found.errors {
        println!("error: {error}");
    }
    for warning in &found.warnings {
        println!("warning: {warning}");
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

/// Checks the bulletin, its merge fields against the list, every row of the
/// list, the suppression list and the settings; prints nothing.
pub fn findings(bulletin_path: &Path, list_options: &ListOptions, env: &Source) -> Findings {
    let mut found = Findings::default();
    let settings = match Settings::from_source(env) {
        Ok(settings) => {
            found.warnings.extend(settings.warnings());
            found.warnings.extend(lint::settings(&settings));
            found.dkim = settings.dkim.clone();
            settings
        }
        Err(e) => {
            found.errors.push(e.to_string());
            Settings::from_source(&Source::default()).expect("placeholders are valid")
        }
    };
    let bulletin = match Bulletin::load(bulletin_path) {
        Ok(bulletin) => {
            found.warnings.extend(lint::bulletin(&bulletin));
            Some(bulletin)
        }
        Err(e) => {
            found.errors.push(e.to_string());
            None
        }
    };

    let suppressed = match list_options.read_suppressions() {
        Ok((suppressed, problems)) => {
            found.warnings.extend(problems);
            suppressed
        }
        Err(e) => {
            found.errors.push(e.to_string());
            Suppressions::default()
        }
    };

    let list = list_options.subscribers.display().to_string();
    let audience = Audience { suppressed, segment: bulletin.as_ref().and_then(|b| b.segment.clone()) };
    let mut tally = Tally::keeping(usize::MAX);
    match SubscriberReader::open(&list_options.subscribers, audience) {
        Err(e) => found.errors.push(e.to_string()),
        Ok(reader) => {
            let rendered =
                bulletin.as_ref().and_then(|b| match Rendered::new(b, &settings, reader.columns()) {
                    Ok(rendered) => Some((b, rendered)),
                    Err(unknown) => {
                        found.errors.extend(unknown.iter().map(ToString::to_string));
                        None
                    }
                });
            let mut first = None;
            let mut international = Vec::new();
            for row in reader {
                match row {
                    Err(e) => {
                        found.errors.push(e.to_string());
                        break;
                    }
                    Ok(Row::Skipped(skip)) => tally.skip(skip),
                    Ok(Row::Subscribed(s)) => {
                        tally.recipients += 1;
                        if !s.email().as_lettre().user().is_ascii() {
                            international.push(s.email().to_string());
                        }
                        first.get_or_insert(s);
                    }
                }
            }
            found.errors.extend(tally.problems().iter().map(|p| describe(&list, p)));
            if let Some(example) = international.first() {
                found.warnings.push(format!(
                    "{} address(es), such as {example}, have non-ASCII letters before the @: only a relay \
                     that supports SMTPUTF8 can take them; others will fail",
                    international.len()
                ));
            }
            if let (Some((bulletin, rendered)), Some(subscriber)) = (rendered, first) {
                let composer = Composer::new(&settings, bulletin.campaign.clone());
                let link = composer.unsubscribe_link(subscriber.email());
                let content =
                    rendered.personalise(&Reader { subscriber: &subscriber, unsubscribe_url: &link });
                found.warnings.extend(lint::message(bulletin, &content));
                if let Err(e) = composer.compose(&subscriber, &content, &link, SystemTime::UNIX_EPOCH) {
                    found.errors.push(e.to_string());
                }
            }
        }
    }

    found.recipients = tally.recipients;
    found.skipped = tally.skipped();
    found.what = bulletin.as_ref().map_or_else(|| bulletin_path.display().to_string(), describe_bulletin);
    found
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
