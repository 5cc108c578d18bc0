//! The bounce mailbox read over IMAP by `bulletin serve`, beside its HTTP
//! server: a round every `BOUNCE_IMAP_EVERY` (the first at start) connects,
//! fetches the messages not yet taken in (by UID, remembered with the
//! mailbox's UIDVALIDITY in [`progress`]), takes them in as `bounces
//! import` does (the same [`super::reports::take`]: only reports about our
//! messages are believed), then moves every message read to
//! `BOUNCE_IMAP_DONE_FOLDER` (or deletes it, if asked). A report not
//! believed is moved too, so it is not read again, and changes nothing.
//! A round that fails (login refused, server gone) is logged and tried
//! again next time; nothing stops `serve`.

mod progress;
mod session;

use std::collections::BTreeSet;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use tokio_stream::StreamExt as _;

use self::session::{Imap, STEP};
use super::reports::{self, Intake, Taken};
use crate::bounce::mailbox::Item;
use crate::config::{ImapSecurity, ImapSettings, Source as EnvSource};
use crate::domain::Clock;
use crate::http::health::{Alive, Part};
use crate::subscribers::Lists;

/// The most messages one round reads; the rest wait for the next round.
const BATCH: usize = 500;

/// What the poller needs: the mailbox, and where its reports go.
pub struct Poller<'a> {
    pub settings: ImapSettings,
    pub list: &'a Lists,
    pub state_dir: &'a Path,
    pub env: &'a EnvSource,
    pub clock: Arc<dyn Clock>,
    /// Told how each round went (`/healthz`).
    pub health: Arc<Part>,
}

/// What one round did.
struct Round {
    read: usize,
    taken: Taken,
    /// How many were moved (or deleted), or why they could not be.
    moved: anyhow::Result<usize>,
    left: usize,
}

impl Poller<'_> {
    /// The mailbox as the banner and the log name it (no password).
    pub fn describe(&self) -> String {
        let s = &self.settings;
        let scheme = match s.security {
            ImapSecurity::Tls => "imaps",
            ImapSecurity::StartTls => "imap",
        };
        format!("{scheme}://{}@{}:{}/{}", s.user, s.host, s.port, s.mailbox)
    }

    /// Rounds until `stop`'s sender is dropped, on a runtime of its own.
    pub fn run(&self, mut stop: tokio::sync::watch::Receiver<()>) {
        let _alive = Alive(Arc::clone(&self.health));
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!("{} bounce mailbox: cannot start: {e}", self.clock.now());
                return;
            }
        };
        loop {
            // A bug in one round (a panic, printed by Rust's hook) is logged
            // and the next round tries again: it never takes `serve` down.
            let round = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                runtime.block_on(async {
                    tokio::select! {
                        outcome = self.round() => Some(outcome),
                        _ = stop.changed() => None,
                    }
                })
            }));
            match round {
                Ok(Some(outcome)) => self.log(outcome),
                Ok(None) => return,
                Err(_) => self.log(Err(anyhow::anyhow!("a bug stopped this round (the message above)"))),
            }
            let stopped = runtime.block_on(async {
                tokio::select! {
                    () = tokio::time::sleep(self.settings.every) => false,
                    _ = stop.changed() => true,
                }
            });
            if stopped {
                return;
            }
        }
    }

    fn log(&self, outcome: anyhow::Result<Round>) {
        let now = self.clock.now();
        let Round { read, taken, moved, left } = match outcome {
            Ok(round) => {
                self.health.succeeded(now);
                round
            }
            Err(e) => {
                self.health.failed(now, what_failed(&e));
                let next = humantime::format_duration(self.settings.every);
                eprintln!(
                    "{now} bounce mailbox: error: {}; trying again in {next}",
                    crate::domain::chain(&*e)
                );
                return;
            }
        };
        let t = &taken.tally;
        let verb = if self.settings.delete { "deleted" } else { "moved" };
        let moved = match moved {
            Ok(n) => format!("{verb} {n}"),
            Err(e) => format!("{verb} 0: {}; tried again next round", crate::domain::chain(&*e)),
        };
        eprintln!(
            "{now} bounce mailbox: read {read}: hard {}, soft {}, complaints {}, blocked {}, unknown {}, \
             not bounces {}, seen before {}, not ours {}, unusable {}; suppressed {}; {moved}{}",
            t.hard,
            t.soft,
            t.complaints,
            t.blocked,
            t.unknown,
            t.not_bounces + t.delayed,
            t.seen_before,
            t.not_ours.len(),
            t.unusable.len(),
            taken.suppressed.added.len(),
            if left > 0 { format!("; {left} left for the next round") } else { String::new() },
        );
    }

    async fn round(&self) -> anyhow::Result<Round> {
        let mut imap = session::open(&self.settings).await?;
        let round = self.read(&mut imap).await;
        let _ = tokio::time::timeout(STEP, imap.logout()).await;
        round
    }

    async fn read(&self, imap: &mut Imap) -> anyhow::Result<Round> {
        let s = &self.settings;
        let capabilities = step("CAPABILITY", imap.capabilities()).await?;
        let can_move = capabilities.has_str("MOVE");
        let uid_plus = capabilities.has_str("UIDPLUS");
        if !s.delete {
            self.make_done_folder(imap).await?;
        }
        let mailbox = step("SELECT", imap.select(&s.mailbox)).await?;
        let validity = mailbox.uid_validity.unwrap_or(0);
        let key = self.describe();
        let last = progress::last_uid(self.state_dir, &key, validity)?;
        let all: BTreeSet<u32> = step("UID SEARCH", imap.uid_search("ALL")).await?.into_iter().collect();
        let new: Vec<u32> = all.range(last.saturating_add(1)..).copied().collect();
        let left = new.len().saturating_sub(BATCH);
        let new = &new[..new.len() - left];
        let items = self.fetch(imap, new, validity).await?;
        let read = items.len();
        let intake = Intake {
            list: self.list,
            state_dir: self.state_dir,
            env: self.env,
            now: self.clock.now().as_system_time(),
            dry_run: false,
            trust_unmatched: false,
        };
        let taken = reports::take(&intake, items)?;
        let high = new.last().copied().unwrap_or(last).max(last);
        progress::remember(self.state_dir, &key, validity, high)?;
        // Everything taken in, this round or before (a move that failed
        // last time is tried again). The reports are in the ledgers by now:
        // a move that fails is logged with the round's counts.
        let done: Vec<u32> = all.range(..=high).copied().collect();
        let moved = self.put_away(imap, &done, can_move, uid_plus).await.map(|()| done.len());
        Ok(Round { read, taken, moved, left })
    }

    /// Moves the messages `done` to the done folder, or deletes them.
    async fn put_away(
        &self,
        imap: &mut Imap,
        done: &[u32],
        can_move: bool,
        uid_plus: bool,
    ) -> anyhow::Result<()> {
        if done.is_empty() {
            return Ok(());
        }
        let set = uid_set(done);
        let folder = &self.settings.done_folder;
        if self.settings.delete {
            self.delete(imap, &set, uid_plus).await
        } else if can_move {
            step("UID MOVE", imap.uid_mv(&set, folder)).await
        } else {
            step("UID COPY", imap.uid_copy(&set, folder)).await?;
            self.delete(imap, &set, uid_plus).await
        }
    }

    /// Creates `BOUNCE_IMAP_DONE_FOLDER` unless it exists.
    async fn make_done_folder(&self, imap: &mut Imap) -> anyhow::Result<()> {
        let folder = &self.settings.done_folder;
        // The setting holds no quote, backslash or wildcard.
        let pattern = format!("\"{folder}\"");
        let found = step("LIST", async {
            let names: Vec<_> = imap.list(None, Some(&pattern)).await?.collect::<Result<_, _>>().await?;
            Ok(names.len())
        })
        .await?;
        if found == 0 {
            step("CREATE", imap.create(folder)).await.with_context(|| format!("cannot create {folder}"))?;
        }
        Ok(())
    }

    /// Marks `set` deleted and expunges it (only it, with UIDPLUS).
    async fn delete(&self, imap: &mut Imap, set: &str, uid_plus: bool) -> anyhow::Result<()> {
        step("UID STORE", async {
            let _: Vec<_> =
                imap.uid_store(set, "+FLAGS.SILENT (\\Deleted)").await?.collect::<Result<_, _>>().await?;
            Ok(())
        })
        .await?;
        step("EXPUNGE", async {
            if uid_plus {
                let _: Vec<_> = imap.uid_expunge(set).await?.collect::<Result<_, _>>().await?;
            } else {
                let _: Vec<_> = imap.expunge().await?.collect::<Result<_, _>>().await?;
            }
            Ok(())
        })
        .await
    }

    /// The messages `uids`, whole, without marking them read.
    async fn fetch(&self, imap: &mut Imap, uids: &[u32], validity: u32) -> anyhow::Result<Vec<Item>> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let fetches = step("UID FETCH", async {
            let fetches: Vec<_> =
                imap.uid_fetch(uid_set(uids), "(UID BODY.PEEK[])").await?.collect::<Result<_, _>>().await?;
            Ok(fetches)
        })
        .await?;
        let origin = |uid: u32| format!("{};UIDVALIDITY={validity}/;UID={uid}", self.describe());
        let mut items: Vec<Item> = fetches
            .iter()
            .filter_map(|f| Some((f.uid?, f.body()?)))
            .filter(|(uid, _)| uids.contains(uid))
            .map(|(uid, body)| Item { origin: origin(uid), bytes: Ok(body.to_vec()) })
            .collect();
        // A message that vanished between the search and the fetch (another
        // client moved it) is listed, not lost silently.
        for uid in uids {
            if !items.iter().any(|i| i.origin == origin(*uid)) {
                items.push(Item { origin: origin(*uid), bytes: Err("gone before it could be read".into()) });
            }
        }
        Ok(items)
    }
}

/// `future`, one IMAP command, within [`STEP`], its error naming it.
async fn step<T>(
    command: &'static str,
    future: impl Future<Output = Result<T, async_imap::error::Error>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(STEP, future).await {
        Ok(result) => result.with_context(|| format!("{command} failed")),
        Err(_) => anyhow::bail!("{command} had no answer within {STEP:?}"),
    }
}

/// What `/healthz` may say of a failed round: its kind, in words that
/// hold no address, user, path or server's text.
fn what_failed(error: &anyhow::Error) -> &'static str {
    use session::SessionError as E;
    match error.downcast_ref::<E>() {
        Some(E::Connect { .. }) => "cannot connect to the mailbox's server",
        Some(E::Timeout { .. }) => "the mailbox's server did not answer in time",
        Some(E::Tls { .. } | E::Handshake { .. } | E::StartTls { .. }) => {
            "TLS with the mailbox's server failed"
        }
        Some(E::Login { .. }) => "login refused",
        None => "a round failed (see serve's log)",
    }
}

/// `1:3,7,9:10` for `[1, 2, 3, 7, 9, 10]` (sorted).
fn uid_set(uids: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut run: Option<(u32, u32)> = None;
    for &uid in uids {
        run = match run {
            Some((start, end)) if uid == end + 1 => Some((start, uid)),
            Some((start, end)) => {
                parts.push(if start == end { start.to_string() } else { format!("{start}:{end}") });
                Some((uid, uid))
            }
            None => Some((uid, uid)),
        };
    }
    if let Some((start, end)) = run {
        parts.push(if start == end { start.to_string() } else { format!("{start}:{end}") });
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_uid_set_joins_runs_of_consecutive_uids() {
        assert_eq!(super::uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(super::uid_set(&[5]), "5");
        assert_eq!(super::uid_set(&[]), "");
    }
}
