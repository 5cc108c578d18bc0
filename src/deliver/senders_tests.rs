//! The send loop's rules, driven in-process with a scripted [`Transport`]
//! and a real journal in a temporary folder (the real-server tests in
//! `tests/it/send.rs` cover the same rules through SMTP).

use std::collections::HashMap;
use std::sync::Mutex as StdMutex;

use lettre::Address;
use lettre::address::Envelope;

use super::*;
use crate::content::CampaignId;
use crate::domain::{EmailKey, MessageId, ReplyCode};
use crate::journal::Recipient;

/// Answers each submission with what `answer` says for its recipient, and
/// lets `check` look at the journal first, as a crash at that instant would
/// leave it.
/// How the script answers a recipient's `n`th submission.
type Answer = dyn Fn(&str, u32) -> Result<Reply, Failure> + Send + Sync;

struct Scripted {
    answer: Arc<Answer>,
    check: Arc<dyn Fn(&str) + Send + Sync>,
    /// Submissions so far, per recipient.
    tries: Arc<StdMutex<HashMap<String, u32>>>,
}

impl Transport for Scripted {
    async fn submit(&mut self, envelope: &Envelope, _bytes: &[u8]) -> Result<Reply, Failure> {
        let to = envelope.to()[0].to_string();
        (self.check)(&to);
        let attempt = {
            let mut tries = self.tries.lock().unwrap();
            let n = tries.entry(to.clone()).or_default();
            *n += 1;
            *n
        };
        tokio::task::yield_now().await;
        (self.answer)(&to, attempt)
    }

    async fn close(self) {}
}

fn ok() -> Result<Reply, Failure> {
    Ok(Reply::coded(ReplyCode::new(250), "250 2.0.0 Ok: queued"))
}

fn refused(text: &str) -> Result<Reply, Failure> {
    Err(Failure::permanent(Reply::from_text(text)))
}

fn deferred(text: &str) -> Result<Reply, Failure> {
    Err(Failure::transient(Reply::from_text(text)))
}

struct Run {
    dir: tempfile::TempDir,
    tries: Arc<StdMutex<HashMap<String, u32>>>,
}

fn campaign() -> CampaignId {
    CampaignId::for_tests("2025-10-16-prayer")
}

fn outgoing(n: usize) -> Outgoing {
    let address = format!("reader{n}@example.org");
    let to: Address = address.parse().unwrap();
    Outgoing {
        recipient: Recipient { key: EmailKey::of(&address), address: address.clone() },
        message_id: MessageId::parse(&format!("<{n}@example.org>")).unwrap(),
        envelope: Envelope::new(Some("news@example.org".parse().unwrap()), vec![to]).unwrap(),
        bytes: b"Subject: hi\r\n\r\nhello\r\n".to_vec(),
    }
}

fn policy(attempts: u32, retry_delay: Duration) -> Policy {
    Policy { rate: Rate::Unlimited, attempts, retry_delay, allowance: None, suppressed: None, gate: None }
}

impl Run {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap(), tries: Arc::default() }
    }

    fn journal(&self) -> Journal {
        Journal::open(self.dir.path(), &campaign()).unwrap()
    }

    fn transport(
        &self,
        answer: impl Fn(&str, u32) -> Result<Reply, Failure> + Send + Sync + 'static,
        check: impl Fn(&str) + Send + Sync + 'static,
    ) -> Scripted {
        Scripted { answer: Arc::new(answer), check: Arc::new(check), tries: Arc::clone(&self.tries) }
    }

    /// Sends `messages` through `transports` and waits for the end.
    async fn send(
        &self,
        transports: Vec<Scripted>,
        messages: usize,
        policy: Policy,
        cancel: CancellationToken,
    ) -> (Finished, Arc<Counts>) {
        let (tx, rx) = mpsc::channel(4);
        let feeder = tokio::spawn(async move {
            for n in 0..messages {
                if tx.send(outgoing(n)).await.is_err() {
                    break;
                }
            }
        });
        let counts = Arc::new(Counts::default());
        let finished =
            send_all(transports, rx, self.journal(), policy, cancel, Arc::clone(&counts)).await.unwrap();
        feeder.await.unwrap();
        (finished, counts)
    }

    fn tries(&self, n: usize) -> u32 {
        self.tries.lock().unwrap().get(&format!("reader{n}@example.org")).copied().unwrap_or(0)
    }

    fn state(&self, n: usize) -> Option<State> {
        self.journal().state(&EmailKey::of(&format!("reader{n}@example.org"))).unwrap()
    }
}

#[tokio::test]
async fn a_message_is_recorded_as_sending_before_it_is_handed_over() {
    let run = Run::new();
    let dir = run.dir.path().to_owned();
    let seen = Arc::new(StdMutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let check = move |to: &str| {
        // Another connection, as a re-run after a crash here would see it.
        let state = Journal::open(&dir, &campaign()).unwrap().state(&EmailKey::of(to)).unwrap();
        log.lock().unwrap().push(state);
    };
    let transport = run.transport(|_, _| ok(), check);
    let (finished, counts) =
        run.send(vec![transport], 5, policy(3, Duration::ZERO), CancellationToken::new()).await;
    assert_eq!(*seen.lock().unwrap(), vec![Some(State::Sending); 5]);
    assert_eq!(counts.sent.load(Ordering::SeqCst), 5);
    assert_eq!(finished.journal.summary().unwrap().sent, 5);
    assert!(finished.halt.is_none());
}

#[tokio::test]
async fn at_most_one_row_per_sender_is_ever_in_doubt() {
    let run = Run::new();
    let dir = run.dir.path().to_owned();
    let most = Arc::new(StdMutex::new(0));
    let seen = Arc::clone(&most);
    let check = move |_: &str| {
        let journal = Journal::open(&dir, &campaign()).unwrap();
        let in_doubt = journal.entries(Some(State::Sending)).unwrap().len();
        let mut most = seen.lock().unwrap();
        *most = (*most).max(in_doubt);
    };
    let check = Arc::new(check);
    let transports = (0..3)
        .map(|_| {
            let check = Arc::clone(&check);
            run.transport(|_, _| ok(), move |to| check(to))
        })
        .collect();
    run.send(transports, 30, policy(3, Duration::ZERO), CancellationToken::new()).await;
    let most = *most.lock().unwrap();
    assert!((1..=3).contains(&most), "{most} rows in doubt with three senders");
}

#[tokio::test]
async fn a_temporary_failure_is_tried_again_and_then_sent() {
    let run = Run::new();
    let transport =
        run.transport(|_, attempt| if attempt == 1 { deferred("451 4.3.0 try later") } else { ok() }, |_| {});
    let (finished, counts) =
        run.send(vec![transport], 2, policy(3, Duration::from_millis(1)), CancellationToken::new()).await;
    assert_eq!((run.tries(0), run.tries(1)), (2, 2));
    assert_eq!(counts.retries.load(Ordering::SeqCst), 2);
    let entries = finished.journal.entries(None).unwrap();
    assert!(entries.iter().all(|e| e.state == State::Sent && e.attempts == 2), "{entries:?}");
}

#[tokio::test]
async fn a_message_out_of_attempts_is_failed_with_the_relays_words_and_code() {
    let run = Run::new();
    let transport = run.transport(|_, _| deferred("452 4.2.2 Mailbox full"), |_| {});
    let (finished, counts) =
        run.send(vec![transport], 1, policy(2, Duration::from_millis(1)), CancellationToken::new()).await;
    assert_eq!(run.tries(0), 2);
    assert_eq!(counts.failed.load(Ordering::SeqCst), 1);
    let entry = &finished.journal.entries(None).unwrap()[0];
    assert_eq!(entry.state, State::Failed);
    assert_eq!(entry.reply.text(), "452 4.2.2 Mailbox full (gave up after 2 attempts)");
    assert_eq!(entry.reply.code().map(ReplyCode::value), Some(452));
    assert_eq!(entry.reply.status().map(|s| s.to_string()).as_deref(), Some("4.2.2"));
}

#[tokio::test]
async fn a_message_cancelled_while_waiting_to_be_tried_again_is_pending_not_failed() {
    let run = Run::new();
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let transport = run.transport(
        move |_, _| {
            // The run is stopped (Ctrl-C) while this message waits a minute
            // to be tried again.
            stop.cancel();
            deferred("421 4.7.0 Try again later")
        },
        |_| {},
    );
    let (finished, counts) = run.send(vec![transport], 3, policy(5, Duration::from_secs(60)), cancel).await;
    assert_eq!(run.tries(0), 1);
    assert_eq!(run.state(0), None, "pending again");
    assert_eq!((run.tries(1), run.state(1)), (0, None), "never taken");
    assert_eq!(counts.failed.load(Ordering::SeqCst), 0);
    assert_eq!(finished.journal.summary().unwrap().sending, 0);
}

#[tokio::test]
async fn the_same_refusal_three_times_before_any_success_stops_the_run_and_forgets_them() {
    let run = Run::new();
    let transport =
        run.transport(|_, _| refused("553 5.7.1 Sender address rejected: not owned by user"), |_| {});
    let cancel = CancellationToken::new();
    let (finished, _) = run.send(vec![transport], 10, policy(3, Duration::ZERO), cancel.clone()).await;
    let Some(Halt::Failing { reason, forgotten: failures }) = finished.halt else { panic!("stopped early") };
    assert_eq!(failures, 3);
    assert!(reason.text().contains("not owned by user"), "{reason}");
    assert!(cancel.is_cancelled());
    assert_eq!(finished.journal.entries(None).unwrap(), [], "every failure pending again");
    assert_eq!((0..10).map(|n| run.tries(n)).sum::<u32>(), 3);
}

#[tokio::test]
async fn refusals_of_the_recipients_own_address_never_stop_the_run() {
    let run = Run::new();
    let transport = run.transport(|_, _| refused("550 5.1.1 User unknown"), |_| {});
    let (finished, counts) =
        run.send(vec![transport], 5, policy(3, Duration::ZERO), CancellationToken::new()).await;
    assert!(finished.halt.is_none());
    assert_eq!(counts.failed.load(Ordering::SeqCst), 5);
    assert_eq!(finished.journal.summary().unwrap().failed, 5);
}

#[tokio::test]
async fn an_earlier_success_means_later_identical_refusals_do_not_stop_the_run() {
    let run = Run::new();
    let transport = run.transport(
        |to, _| if to == "reader0@example.org" { ok() } else { refused("554 5.7.1 Relay access denied") },
        |_| {},
    );
    let (finished, counts) =
        run.send(vec![transport], 6, policy(3, Duration::ZERO), CancellationToken::new()).await;
    assert!(finished.halt.is_none());
    assert_eq!((counts.sent.load(Ordering::SeqCst), counts.failed.load(Ordering::SeqCst)), (1, 5));
}

#[tokio::test]
async fn slow_down_replies_are_tried_again_without_using_up_the_retries() {
    let run = Run::new();
    let transport = run.transport(
        |_, attempt| {
            if attempt <= 2 {
                deferred("454 Throttling failure: Maximum sending rate exceeded.")
            } else {
                ok()
            }
        },
        |_| {},
    );
    let (finished, counts) =
        run.send(vec![transport], 2, policy(1, Duration::ZERO), CancellationToken::new()).await;
    assert_eq!((run.tries(0), run.tries(1)), (3, 3), "tried until taken, with one attempt allowed");
    assert_eq!(counts.sent.load(Ordering::SeqCst), 2);
    assert_eq!(counts.retries.load(Ordering::SeqCst), 0);
    assert_eq!(counts.throttled.load(Ordering::SeqCst), 4);
    let slowdowns = finished.slowdowns.expect("the pace fell");
    assert!(slowdowns.times >= 1, "{slowdowns:?}");
}

#[tokio::test]
async fn a_quota_used_up_stops_the_run_and_leaves_the_untaken_pending_not_failed() {
    let run = Run::new();
    let transport = run.transport(
        |to, _| {
            let n: usize = to.trim_start_matches("reader").split('@').next().unwrap().parse().unwrap();
            if n < 3 { ok() } else { refused("550 5.4.5 Daily user sending limit exceeded.") }
        },
        |_| {},
    );
    let cancel = CancellationToken::new();
    let (finished, counts) = run.send(vec![transport], 10, policy(3, Duration::ZERO), cancel.clone()).await;
    let Some(Halt::Quota(reply)) = &finished.halt else { panic!("{:?}", finished.halt) };
    assert!(reply.text().contains("Daily user sending limit"), "{reply}");
    assert!(cancel.is_cancelled());
    assert_eq!(counts.sent.load(Ordering::SeqCst), 3);
    assert_eq!(counts.failed.load(Ordering::SeqCst), 0);
    let summary = finished.journal.summary().unwrap();
    assert_eq!((summary.sent, summary.failed, summary.sending), (3, 0, 0), "the refused one is pending");
    assert_eq!((3..10).map(|n| run.tries(n)).sum::<u32>(), 1, "nothing after the refusal was tried");
}

#[tokio::test]
async fn a_sender_refused_a_connection_hands_its_message_to_the_others_and_closes() {
    let run = Run::new();
    let refused_connection =
        run.transport(|_, _| deferred("421 4.3.2 Too many concurrent connections"), |_| {});
    let accepted = run.transport(|_, _| ok(), |_| {});
    let (finished, counts) = run
        .send(vec![refused_connection, accepted], 8, policy(1, Duration::ZERO), CancellationToken::new())
        .await;
    assert_eq!(counts.sent.load(Ordering::SeqCst), 8, "every message went on the connection that was taken");
    assert_eq!(counts.failed.load(Ordering::SeqCst), 0);
    assert_eq!(counts.retries.load(Ordering::SeqCst), 0);
    assert_eq!(finished.journal.summary().unwrap().sent, 8);
}

#[tokio::test]
async fn a_daily_allowance_sends_that_many_and_leaves_the_rest_pending() {
    let run = Run::new();
    let transport = run.transport(|_, _| ok(), |_| {});
    let policy = Policy { allowance: Some(4), ..policy(1, Duration::ZERO) };
    let cancel = CancellationToken::new();
    let (finished, counts) = run.send(vec![transport], 10, policy, cancel.clone()).await;
    assert_eq!(finished.halt, Some(Halt::Allowance));
    assert_eq!(counts.sent.load(Ordering::SeqCst), 4);
    let summary = finished.journal.summary().unwrap();
    assert_eq!((summary.sent, summary.failed, summary.sending), (4, 0, 0));
}

#[tokio::test]
async fn a_recipient_who_unsubscribes_during_the_run_is_never_handed_over_and_stays_pending() {
    use crate::subscribers::{EmailAddress, Entry, Lists, LiveSuppression, Reason, SuppressionFile};
    let run = Run::new();
    let lists = Lists { subscribers: run.dir.path().join("list.csv"), suppressed: None };
    let file = SuppressionFile::new(lists.suppression_path().0);
    let unsubscribe = move |address: &str| {
        let entry = Entry::new(EmailAddress::parse(address).unwrap(), Reason::Unsubscribed);
        file.add(&[entry], std::time::SystemTime::UNIX_EPOCH).unwrap();
    };
    // As reader1's message goes, reader5 unsubscribes; reader3 does while
    // its own first attempt is deferred.
    let check = move |to: &str| match to {
        "reader1@example.org" => unsubscribe("reader5@example.org"),
        "reader3@example.org" => unsubscribe("reader3@example.org"),
        _ => {}
    };
    let transport = run.transport(
        |to, attempt| {
            if to == "reader3@example.org" && attempt == 1 { deferred("451 4.3.0 later") } else { ok() }
        },
        check,
    );
    let live = LiveSuppression::every(lists, Duration::ZERO, |w| panic!("{w}"));
    let policy = Policy { suppressed: Some(Arc::new(live)), ..policy(3, Duration::from_millis(1)) };
    let (finished, counts) = run.send(vec![transport], 8, policy, CancellationToken::new()).await;
    assert_eq!(run.tries(5), 0, "never handed over");
    assert_eq!(run.state(5), None, "pending: the next run skips them as suppressed");
    assert_eq!(run.tries(3), 1, "not tried again once unsubscribed");
    assert_eq!(run.state(3), None, "its first attempt's row is forgotten: pending, not failed");
    assert_eq!(counts.suppressed.load(Ordering::SeqCst), 2);
    assert_eq!(counts.sent.load(Ordering::SeqCst), 6);
    assert_eq!(finished.journal.summary().unwrap().sent, 6);
}

/// A clock the test moves.
#[derive(Debug)]
struct Hand(StdMutex<crate::domain::Timestamp>);

impl crate::domain::Clock for Hand {
    fn now(&self) -> crate::domain::Timestamp {
        *self.0.lock().unwrap()
    }
}

impl Hand {
    fn set(&self, utc: &str) {
        *self.0.lock().unwrap() = crate::domain::Timestamp::parse(utc).unwrap();
    }
}

#[tokio::test]
async fn a_send_window_that_closes_mid_run_pauses_with_nothing_in_doubt_and_resumes_at_the_opening() {
    use super::super::gate::{Gate, Notice};
    let run = Run::new();
    // Friday 2026-12-11, a second before closing.
    let hand =
        Arc::new(Hand(StdMutex::new(crate::domain::Timestamp::parse("2026-12-11T17:59:59Z").unwrap())));
    let window = crate::config::SendWindow::parse("Mon-Fri 08:00-18:00", jiff::tz::TimeZone::UTC).unwrap();
    let told = Arc::new(StdMutex::new(Vec::new()));
    let gate = {
        let told = Arc::clone(&told);
        let gate = Gate::new(window, Arc::clone(&hand) as _, move |n| told.lock().unwrap().push(n));
        Arc::new(gate.stepping(Duration::from_millis(5)))
    };
    // The window closes while reader2's message is being handed over.
    let closes = Arc::clone(&hand);
    let transport = run.transport(
        |_, _| ok(),
        move |to| {
            if to == "reader2@example.org" {
                closes.set("2026-12-11T18:00:00Z");
            }
        },
    );
    let policy = Policy { gate: Some(Arc::clone(&gate)), ..policy(1, Duration::ZERO) };
    let watch = async {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while told.lock().unwrap().is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "never paused: {:?}",
                (0..6).map(|n| run.tries(n)).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Long enough for the sender to have handed over everything else.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let during = (0..6).map(|n| run.tries(n)).collect::<Vec<_>>();
        let summary = run.journal().summary().unwrap();
        hand.set("2026-12-14T08:00:00Z");
        (during, summary.sent, summary.sending)
    };
    let ((finished, counts), (during, sent, sending)) =
        tokio::join!(run.send(vec![transport], 6, policy, CancellationToken::new()), watch);
    assert_eq!(during, [1, 1, 1, 0, 0, 0], "nothing handed over while closed");
    assert_eq!((sent, sending), (3, 0), "the one in flight finished; nothing new recorded");
    assert_eq!((0..6).map(|n| run.tries(n)).collect::<Vec<_>>(), [1; 6], "everyone once");
    assert_eq!(counts.sent.load(Ordering::SeqCst), 6);
    assert_eq!(finished.journal.summary().unwrap().sent, 6);
    let told = told.lock().unwrap().clone();
    assert!(matches!(told.as_slice(), [Notice::Paused { .. }, Notice::Resumed { .. }]), "{told:?}");
}
