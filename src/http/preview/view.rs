//! One look at the bulletin as a chosen reader would get it, made afresh
//! from the files on disk for every request. Ends at the data: the page
//! lays it out.

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Source;
use crate::content::images::PreparedImage;
use crate::domain::{Clock, EmailKey, chain};
use crate::job::{Job, JobError, Made};
use crate::lint::{Findings, findings};
use crate::subscribers::Lists;
use crate::subscribers::Row;

/// Where the email finds its embedded images, relative to `/email`: the
/// route `/images/{name}`.
pub const IMAGES: &str = "images/";

/// How many readers the picker lists; the rest are reached by address.
const PICKER_LIMIT: usize = 1000;

/// Where the preview's files are.
#[derive(Debug, Clone)]
pub struct Sources {
    pub bulletin: PathBuf,
    pub list: Lists,
    pub env_file: PathBuf,
    pub env_required: bool,
    /// Dates the messages shown.
    pub clock: Arc<dyn Clock>,
}

/// A reader the picker offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub email: String,
    pub label: String,
}

/// A merge field as the chosen reader has it.
#[derive(Debug, Clone)]
pub struct FieldValue {
    pub name: String,
    /// `None` when the reader has no value, so the fallback shows.
    pub value: Option<String>,
}

/// What the page shows.
#[derive(Debug)]
pub struct View {
    pub title: String,
    pub choices: Vec<Choice>,
    /// How many readers there are in all.
    pub readers: u64,
    pub findings: Findings,
    /// The chosen reader's message, or why there is none.
    pub message: Result<Message, Vec<String>>,
}

/// One reader's message.
#[derive(Debug)]
pub struct Message {
    pub email: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// The header block exactly as it would be sent.
    pub headers: String,
    pub fields: Vec<FieldValue>,
    /// The images the HTML shows from [`IMAGES`], prepared as for sending.
    pub images: Vec<PreparedImage>,
}

impl Sources {
    fn env(&self) -> Result<Source, Vec<String>> {
        Source::load(&self.env_file, self.env_required).map_err(|e| vec![chain(&e)])
    }

    /// The page for reader `to` (the first reader when `None`).
    pub fn view(&self, to: Option<&str>) -> View {
        let env = self.env();
        let findings = match &env {
            Ok(env) => findings(&self.bulletin, &self.list, env),
            Err(errors) => Findings {
                errors: errors.clone(),
                what: self.bulletin.display().to_string(),
                ..Findings::default()
            },
        };
        let mut view = View {
            title: findings.what.clone(),
            choices: Vec::new(),
            readers: findings.recipients,
            findings,
            message: Err(Vec::new()),
        };
        view.message = env.and_then(|env| self.message(&env, to, &mut view.choices));
        view
    }

    /// Only the chosen reader's HTML, for the frames, with the images it
    /// embeds (for the server to hand out without preparing them again).
    pub fn html(&self, to: Option<&str>) -> Result<(String, Vec<PreparedImage>), Vec<String>> {
        let env = self.env()?;
        self.message(&env, to, &mut Vec::new()).map(|m| (m.html, m.images))
    }

    /// The embedded image (the logo or a bulletin's image, prepared as for
    /// sending) whose file name is `name`: its MIME type and bytes.
    pub fn image(&self, name: &str) -> Option<(&'static str, Vec<u8>)> {
        let env = self.env().ok()?;
        let (job, _) = Job::prepare(&self.bulletin, &self.list, &env).ok()?;
        let image = job.embedded.into_iter().find(|image| image.name == name)?;
        Some((image.picture.mime, image.picture.bytes))
    }

    fn message(
        &self,
        env: &Source,
        to: Option<&str>,
        choices: &mut Vec<Choice>,
    ) -> Result<Message, Vec<String>> {
        let (job, reader) = Job::prepare(&self.bulletin, &self.list, env).map_err(|e| match e {
            JobError::Fields(errors) => errors.iter().map(|e| chain(e)).collect(),
            e => vec![chain(&e)],
        })?;
        let wanted = to.map(EmailKey::of);
        let mut chosen = None;
        for row in reader {
            let Ok(Row::Subscribed(subscriber)) = row else { continue };
            if choices.len() < PICKER_LIMIT {
                let label = match subscriber.display_name() {
                    Some(name) => format!("{name} <{}>", subscriber.email()),
                    None => subscriber.email().to_string(),
                };
                choices.push(Choice { email: subscriber.email().to_string(), label });
            }
            let matches = wanted.as_ref().is_none_or(|key| key == subscriber.email().key());
            if chosen.is_none() && matches {
                chosen = Some(subscriber);
            }
            if chosen.is_some() && choices.len() >= PICKER_LIMIT {
                break;
            }
        }
        let subscriber = chosen.ok_or_else(|| match to {
            Some(to) => vec![format!(
                "{to} would not receive this bulletin (not on the list, unsubscribed, suppressed or invalid)"
            )],
            None => vec!["nobody on the list would receive this bulletin".to_owned()],
        })?;

        let Made { content, message } =
            job.message_for(&subscriber, self.clock.now().as_system_time()).map_err(|e| vec![chain(&e)])?;
        let bytes = message.formatted();
        let end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(bytes.len());
        let headers = String::from_utf8_lossy(&bytes[..end]).replace("\r\n", "\n");

        let mut names: Vec<_> = job.bulletin.field_uses.iter().map(|u| u.name.clone()).collect();
        names.sort();
        names.dedup();
        let fields = names
            .iter()
            .map(|name| {
                let value = job.columns.index_of(name).map(|i| subscriber.value(i).trim().to_owned());
                FieldValue { name: name.to_string(), value: value.filter(|v| !v.is_empty()) }
            })
            .collect();
        Ok(Message {
            email: subscriber.email().to_string(),
            subject: content.subject,
            // The embedded images come from the preview's own route.
            html: crate::content::images::shown_from(&content.html, &job.embedded, IMAGES),
            text: content.text,
            headers,
            fields,
            images: job.embedded,
        })
    }
}

/// The email as clients that honour `prefers-color-scheme: dark` show it,
/// whatever the viewer's own setting.
pub fn dark(html: &str) -> String {
    html.replace("@media (prefers-color-scheme:dark)", "@media all")
}
