//! The integration tests, as one test binary: each module below drives the
//! real `bulletin` binary (and real SMTP servers, HTTP clients, Chromium,
//! SpamAssassin or dkimpy) on 127.0.0.1, and the helpers they share are
//! compiled once.
//!
//! `cargo test --test it` runs them all; `cargo test --test it send::` runs
//! one module's.

// Shared helpers.
mod browser_util;
mod consent_oracle;
mod send_util;
mod util;

// The tests.
mod bounces;
mod brand;
mod brand_pages;
mod browser;
mod cli;
mod concurrency;
mod consent;
mod deploy;
mod dkim;
mod dkim_verifiers;
mod dns;
mod duplicates;
mod first_newsletter;
mod folders;
mod healthz;
mod image_ratio;
mod images;
mod imap;
mod ledger;
mod lists;
mod nesting;
mod onboarding;
mod people;
mod publish;
mod relay_limits;
mod schedule;
mod send;
mod send_window;
mod servers;
mod signup;
mod spam;
mod staff_report;
mod unsubscribe;
mod webhooks;
mod webhooks_ses;
mod weekly;
mod weekly_rule;
mod welcome;
