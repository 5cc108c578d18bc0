//! The preference page (part of `bulletin serve`), reached from every
//! email's footer by a signed per-reader link (`PREFERENCES_URL`,
//! [`crate::message::preferences`]):
//!
//! * `GET /preferences?t=TOKEN` shows the reader's interests (`INTERESTS`)
//!   as check boxes, those the reader has now checked (their tags on the
//!   list or in `signups.csv`, or the interests they chose), a pause of some
//!   weeks, and an unsubscribe button; it changes nothing.
//! * `POST /preferences?t=TOKEN` with `action=save` (and `interests`),
//!   `action=pause` (and `weeks`) or `action=unsubscribe`: interests are a
//!   new row of `preferences.csv` ([`PreferencesFile`]), which the list
//!   reader applies; a pause (`paused`, with its `until`) and an
//!   unsubscribe are rows of the consent ledger, the suppression list. The
//!   subscriber list is never rewritten. A pause leaves the reader's tags
//!   as they were; a save keeps the reader's tags the page does not offer.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};

use super::layout::{Look, column};
use super::respond::{mask, respond};
use crate::config::Settings;
use crate::domain::{Clock, chain};
use crate::message::preferences::{PreferencesLink, PreferencesSigner};
use crate::subscribers::preferences::{Preference, PreferencesFile};
use crate::subscribers::{EmailAddress, Entry, Reason, SubscriberReader, SuppressionFile};

/// The longest pause offered, in weeks.
pub const LONGEST_PAUSE_WEEKS: u64 = 26;

/// What the preference page needs.
#[derive(Debug, Clone)]
pub struct PreferencesOptions {
    pub file: PreferencesFile,
    /// `INTERESTS`: tags (lower case) and labels.
    pub interests: Vec<crate::config::Interest>,
    /// The subscriber list, for the tags a reader has now.
    pub list: std::path::PathBuf,
}

impl PreferencesOptions {
    /// `INTERESTS` from `source` ([`crate::config::interests`]), and
    /// `preferences.csv` beside `list`.
    pub fn from_source(
        source: &crate::config::Source,
        list: &std::path::Path,
    ) -> Result<Self, crate::config::ConfigError> {
        let interests = crate::config::interests(source)?;
        let file = PreferencesFile::new(crate::subscribers::preferences::beside(list));
        Ok(Self { file, interests, list: list.to_owned() })
    }
}

struct Service {
    options: PreferencesOptions,
    signer: PreferencesSigner,
    suppressed: SuppressionFile,
    list_name: String,
    clock: Arc<dyn Clock>,
    look: Arc<Look>,
}

impl PreferencesOptions {
    /// Whether `tag` is one of the interests offered.
    fn offers(&self, tag: &str) -> bool {
        self.interests.iter().any(|i| i.tag == tag)
    }
}

/// The route `/preferences`.
pub(crate) fn router(settings: &Settings, options: PreferencesOptions, shared: super::Shared) -> Router {
    let service = Service {
        options,
        signer: PreferencesSigner::from_settings(settings),
        suppressed: shared.suppressed,
        list_name: settings.list_name.clone(),
        clock: shared.clock,
        look: shared.look,
    };
    Router::new()
        .route("/preferences", get(show).post(change))
        .layer(DefaultBodyLimit::max(16 * 1024))
        .with_state(Arc::new(service))
}

impl Service {
    fn reader(&self, query: Option<&str>) -> Option<PreferencesLink> {
        url::form_urlencoded::parse(query?.as_bytes())
            .filter(|(k, _)| k == "t")
            .find_map(|(_, token)| self.signer.verify(&token))
    }

    fn refuse(&self, method: &str) -> Response {
        eprintln!("{} refused {method} /preferences: no valid token", self.clock.now());
        respond(
            StatusCode::BAD_REQUEST,
            column(
                &self.look,
                "This link does not work",
                html! { h1 { "This link does not work" } p { "Nothing has been changed. Use the Preferences link of a recent email, the whole of it." } },
            ),
        )
    }
}

async fn show(State(service): State<Arc<Service>>, RawQuery(query): RawQuery) -> Response {
    let Some(PreferencesLink { email, .. }) = service.reader(query.as_deref()) else {
        return service.refuse("GET");
    };
    let list = service.options.list.clone();
    let email2 = email.clone();
    let current = tokio::task::spawn_blocking(move || SubscriberReader::tags_of(&list, &email2)).await;
    let chosen = match current {
        Ok(Ok(tags)) => tags,
        Ok(Err(error)) => {
            eprintln!("{} error: the tags of {}: {}", service.clock.now(), mask(&email), chain(&error));
            Vec::new()
        }
        Err(panic) => {
            eprintln!("{} error: the tags of {}: {panic}", service.clock.now(), mask(&email));
            Vec::new()
        }
    };
    respond(StatusCode::OK, page(&service, &email, &chosen))
}

fn page(service: &Service, email: &EmailAddress, chosen: &[String]) -> Markup {
    column(
        &service.look,
        &format!("Your {} preferences", service.list_name),
        html! {
            h1 { "Your " (service.list_name) " preferences" }
            p { "For " strong { (email.as_str()) } "." }
            @if !service.options.interests.is_empty() {
                form method="post" action="" {
                    input type="hidden" name="action" value="save";
                    fieldset {
                        legend { "What would you like to hear about?" }
                        @for interest in &service.options.interests {
                            p.choice { label { input type="checkbox" name="interests" value=(interest.tag) checked[chosen.contains(&interest.tag)]; (interest.label) } }
                        }
                    }
                    button type="submit" { "Save" }
                }
            }
            form method="post" action="" {
                input type="hidden" name="action" value="pause";
                p { label { "Pause my emails for "
                    select name="weeks" {
                        @for weeks in [2, 4, 8, 12, LONGEST_PAUSE_WEEKS] { option value=(weeks) { (weeks) " weeks" } }
                    } } }
                button type="submit" { "Pause" }
            }
            form method="post" action="" {
                input type="hidden" name="action" value="unsubscribe";
                button type="submit" { "Unsubscribe" }
            }
        },
    )
}

/// Runs `write` (a change of `email`'s interests to `tags`) under the
/// consent ledger's lock, which records it, unless `email` was erased
/// after the link was issued: then nothing is written (`false`), so an old
/// link never writes the address back.
fn change_interests(
    service: &Service,
    email: &EmailAddress,
    issued: Option<std::time::SystemTime>,
    tags: &[String],
    now: std::time::SystemTime,
    write: impl FnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<bool> {
    match service.suppressed.change_interests(email, issued, tags, now, write)? {
        Some(written) => written.map(|()| true),
        None => Ok(false),
    }
}

/// `chosen`, after the tags `email` has now that the page does not offer
/// (a save changes only the interests it shows).
fn with_unoffered(
    options: &PreferencesOptions,
    email: &EmailAddress,
    chosen: Vec<String>,
) -> Result<Vec<String>, crate::subscribers::SubscribersError> {
    let mut tags: Vec<String> =
        SubscriberReader::tags_of(&options.list, email)?.into_iter().filter(|t| !options.offers(t)).collect();
    tags.extend(chosen);
    Ok(tags)
}

/// `POST`: the token is checked before the body is read, so a forged
/// link is refused at once however slowly its body comes.
async fn change(
    State(service): State<Arc<Service>>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let Some(PreferencesLink { email, issued }) = service.reader(query.as_deref()) else {
        return service.refuse("POST");
    };
    let body = match Bytes::from_request(request, &()).await {
        Ok(body) => body,
        Err(rejection) => return rejection.into_response(),
    };
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned());
    let now = service.clock.now().as_system_time();
    let service2 = Arc::clone(&service);
    let email2 = email.clone();
    type Change = Box<dyn FnOnce() -> anyhow::Result<bool> + Send>;
    // What to do, and the page's heading and sentence once it is done.
    let (done, heading, said): (Change, &str, String) = match field("action").as_deref() {
        Some("unsubscribe") => (
            Box::new(move || {
                service2.suppressed.add(&[Entry::new(email2, Reason::Unsubscribed)], now)?;
                Ok(true)
            }),
            "You are unsubscribed",
            format!("You will get no more {} emails.", service.list_name),
        ),
        Some("pause") => {
            let weeks: u64 = field("weeks")
                .and_then(|w| w.parse().ok())
                .filter(|w| (1..=LONGEST_PAUSE_WEEKS).contains(w))
                .unwrap_or(4);
            let until = now + Duration::from_secs(weeks * 7 * 86_400);
            (
                // A row of the consent ledger; the reader's interests
                // are left as they are.
                Box::new(move || Ok(service2.suppressed.pause(&email2, issued, until, now)?)),
                "Your emails are paused",
                format!("Your emails are paused for {weeks} weeks."),
            )
        }
        Some("save") => {
            let tags: Vec<String> = form
                .iter()
                .filter(|(k, _)| k == "interests")
                .map(|(_, v)| v.trim().to_lowercase())
                .filter(|t| service.options.offers(t))
                .collect();
            let labels: Vec<&str> =
                tags.iter().map(|t| crate::config::label_of(&service.options.interests, t)).collect();
            let said = if labels.is_empty() {
                "You chose none of the interests.".to_owned()
            } else {
                format!("You will hear about: {}.", labels.join(", "))
            };
            (
                Box::new(move || {
                    change_interests(&service2, &email2, issued, &tags.clone(), now, || {
                        let tags = Some(with_unoffered(&service2.options, &email2, tags)?);
                        Ok(service2.options.file.add(
                            &email2,
                            &Preference { tags, paused_until: None },
                            now,
                        )?)
                    })
                }),
                "Your choices are saved",
                said,
            )
        }
        _ => {
            return respond(
                StatusCode::BAD_REQUEST,
                column(&service.look, "Nothing changed", html! { h1 { "Nothing changed" } }),
            );
        }
    };
    match tokio::task::spawn_blocking(done).await {
        Ok(Ok(false)) => {
            eprintln!(
                "{} refused POST /preferences for {}: the link is older than their erasure",
                service.clock.now(),
                mask(&email)
            );
            respond(
                StatusCode::GONE,
                column(
                    &service.look,
                    "This link no longer works",
                    html! { h1 { "This link no longer works" } p { "Nothing has been changed." } },
                ),
            )
        }
        Ok(Ok(true)) => {
            eprintln!("{} preferences of {}: {heading}", service.clock.now(), mask(&email));
            respond(StatusCode::OK, column(&service.look, heading, html! { h1 { (heading) } p { (said) } }))
        }
        Ok(Err(error)) => {
            eprintln!(
                "{} error: preferences of {}: {}",
                service.clock.now(),
                mask(&email),
                chain(error.as_ref())
            );
            respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                column(
                    &service.look,
                    "Something went wrong",
                    html! { h1 { "Something went wrong on our side" } p { "Nothing has been changed. Please try again in a few minutes." } },
                ),
            )
        }
        Err(panic) => {
            eprintln!("{} error: preferences of {}: {panic}", service.clock.now(), mask(&email));
            respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                column(
                    &service.look,
                    "Something went wrong",
                    html! { h1 { "Something went wrong on our side" } },
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 23, row 13: `INTERESTS=prayer,PRAYER` offered prayer twice.
    #[test]
    fn interests_written_twice_in_another_case_are_offered_once() {
        let source = crate::config::Source::from_pairs([("INTERESTS", "prayer, PRAYER,News,,news ,Prayer")]);
        let options = PreferencesOptions::from_source(&source, std::path::Path::new("list.csv")).unwrap();
        let tags: Vec<&str> = options.interests.iter().map(|i| i.tag.as_str()).collect();
        assert_eq!(tags, ["prayer", "news"]);
    }
}
