//! What every page of the servers is answered with: headers that keep it
//! out of caches, frames, search engines and other sites' `Referer`, and
//! the masked address the logs name a reader by.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::Markup;

use crate::domain::EmailAddress;

/// A page with headers that keep it out of caches, frames, search engines
/// and other sites' `Referer` (its address holds the reader's token).
pub(crate) fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, axum::response::Html(markup.into_string())).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            // Images: the logo, inline (`data:`) or at an https `LOGO`.
            "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::HeaderName::from_static("x-robots-tag"), "noindex, nofollow"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// `a***@example.org`: enough to tell events apart and see which provider
/// sends them, without copying whole addresses into logs that may be kept
/// for long. The suppression list holds the addresses themselves.
pub fn mask(email: &EmailAddress) -> String {
    let (user, domain) = email.as_str().rsplit_once('@').unwrap_or(("", email.as_str()));
    let first: String = user.chars().take(1).collect();
    format!("{first}***@{domain}")
}
