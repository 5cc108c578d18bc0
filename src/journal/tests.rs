use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::domain::{EmailKey, Shingles};

fn campaign() -> CampaignId {
    CampaignId::for_tests("2025-10-16-prayer")
}

fn fixed_clock() -> Arc<dyn Clock> {
    Arc::new(Timestamp::from_unix(1_760_000_000))
}

/// `sending` for `key`, written as in the list as `address`.
fn sending(j: &Journal, key: &str, address: &str, id: &str) {
    let recipient = Recipient { key: EmailKey::of(key), address: address.to_owned() };
    j.sending(&recipient, &MessageId::parse(id).unwrap()).unwrap();
}

fn answered(j: &Journal, key: &str, state: State, reply: &str) {
    j.answered(&EmailKey::of(key), state, &Reply::from_text(reply)).unwrap();
}

#[test]
fn a_recipient_moves_from_pending_to_sending_to_sent() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path(), &campaign()).unwrap().with_clock(fixed_clock());
    assert_eq!(j.state(&EmailKey::of("a@example.org")).unwrap(), None);
    sending(&j, "a@example.org", "A@example.org", "<id@x>");
    assert_eq!(j.state(&EmailKey::of("a@example.org")).unwrap(), Some(State::Sending));
    answered(&j, "a@example.org", State::Sent, "250 2.0.0 Ok: queued as 4ABC");
    let entries = j.entries(None).unwrap();
    assert_eq!(
        entries,
        [Entry {
            address: "A@example.org".into(),
            message_id: "<id@x>".into(),
            state: State::Sent,
            attempts: 1,
            reply: Reply::from_text("250 2.0.0 Ok: queued as 4ABC"),
            updated_at: Timestamp::parse("2025-10-09T08:53:20Z").unwrap(),
        }]
    );
}

#[test]
fn what_was_committed_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let j = Journal::open(dir.path(), &campaign()).unwrap();
        let shingles = Shingles::of("Body");
        j.started(Path::new("content/x.md"), "Subject", text(&shingles)).unwrap();
        sending(&j, "a@example.org", "a@example.org", "<1@x>");
        sending(&j, "b@example.org", "b@example.org", "<2@x>");
        answered(&j, "b@example.org", State::Failed, "550 no such user");
    }
    let j = Journal::open_existing(dir.path(), &campaign()).unwrap().unwrap();
    let s = j.summary().unwrap();
    assert_eq!((s.sent, s.failed, s.sending), (0, 1, 1));
    assert!(s.first_started_at.is_some() && s.finished_at.is_none());
    assert_eq!(j.entries(Some(State::Sending)).unwrap()[0].address, "a@example.org");
}

#[test]
fn campaigns_do_not_see_each_others_rows() {
    let dir = tempfile::tempdir().unwrap();
    let a = Journal::open(dir.path(), &campaign()).unwrap();
    let b = Journal::open(dir.path(), &CampaignId::for_tests("2025-10-23-prayer")).unwrap();
    sending(&a, "x@example.org", "x@example.org", "<1@x>");
    assert_eq!(b.state(&EmailKey::of("x@example.org")).unwrap(), None);
}

#[test]
fn a_retry_counts_attempts_and_forget_makes_pending_again() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path(), &campaign()).unwrap();
    sending(&j, "a@example.org", "a@example.org", "<1@x>");
    sending(&j, "a@example.org", "a@example.org", "<1@x>");
    assert_eq!(j.entries(None).unwrap()[0].attempts, 2);
    j.forget(&EmailKey::of("a@example.org")).unwrap();
    assert_eq!(j.state(&EmailKey::of("a@example.org")).unwrap(), None);
}

#[tokio::test]
async fn the_writer_commits_changes_from_many_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let writer = std::sync::Arc::new(Writer::start(Journal::open(dir.path(), &campaign()).unwrap()));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let writer = std::sync::Arc::clone(&writer);
        tasks.push(tokio::spawn(async move {
            let key = format!("p{i}@example.org");
            let sending = Change::Sending {
                recipient: Recipient { key: EmailKey::of(&key), address: key.clone() },
                message_id: MessageId::parse(&format!("<{i}@x>")).unwrap(),
            };
            writer.write(sending).await.unwrap();
            writer
                .queue(Change::Answered {
                    key: EmailKey::of(&key),
                    state: State::Sent,
                    reply: Reply::from_text("250 ok"),
                })
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let journal = std::sync::Arc::into_inner(writer).unwrap().close().unwrap();
    assert_eq!(journal.summary().unwrap().sent, 50);
    let reopened = Journal::open(dir.path(), &campaign()).unwrap();
    assert_eq!(reopened.summary().unwrap().sent, 50);
}

#[tokio::test]
async fn a_commit_that_fails_says_the_journal_once_and_then_why() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path(), &campaign()).unwrap();
    let path = journal.path.clone();
    rusqlite::Connection::open(&path).unwrap().execute_batch("DROP TABLE recipients").unwrap();
    let writer = Writer::start(journal);
    let error = writer
        .write(Change::Sending {
            recipient: Recipient { key: EmailKey::of("a@example.org"), address: "a@example.org".into() },
            message_id: MessageId::parse("<a@x>").unwrap(),
        })
        .await
        .unwrap_err();
    let said = crate::domain::chain(&error);
    let journal = format!("journal {}", path.display());
    assert!(said.starts_with(&format!("{journal}: ")), "{said}");
    assert_eq!(said.matches(&journal).count(), 1, "{said}");
    assert!(said.contains("no such table: recipients"), "{said}");
    assert!(writer.close().is_err(), "the failed commit is said again at the close");
}

#[tokio::test]
async fn a_queued_answer_is_on_disk_once_a_later_write_returns() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Writer::start(Journal::open(dir.path(), &campaign()).unwrap());
    let sending = |key: &str| Change::Sending {
        recipient: Recipient { key: EmailKey::of(key), address: key.to_owned() },
        message_id: MessageId::parse(key).unwrap(),
    };
    writer.write(sending("a@example.org")).await.unwrap();
    writer
        .queue(Change::Answered {
            key: EmailKey::of("a@example.org"),
            state: State::Sent,
            reply: Reply::from_text("250 ok"),
        })
        .unwrap();
    writer.write(sending("b@example.org")).await.unwrap();
    // Another connection, as a rerun after a crash here would see it.
    let reader = Journal::open(dir.path(), &campaign()).unwrap();
    assert_eq!(reader.state(&EmailKey::of("a@example.org")).unwrap(), Some(State::Sent));
    assert_eq!(reader.state(&EmailKey::of("b@example.org")).unwrap(), Some(State::Sending));
    writer.close().unwrap();
}

#[test]
fn the_archive_finds_a_message_by_its_id_and_every_message_to_an_address() {
    let dir = tempfile::tempdir().unwrap();
    let a = Journal::open(dir.path(), &campaign()).unwrap().with_clock(fixed_clock());
    let b = Journal::open(dir.path(), &CampaignId::for_tests("2025-10-23-prayer")).unwrap();
    sending(&a, "ana@example.org", "Ana@example.org", "<1@x>");
    answered(&a, "ana@example.org", State::Sent, "250 ok");
    sending(&b, "ana@example.org", "Ana@example.org", "<2@x>");
    answered(&b, "ana@example.org", State::Failed, "452 4.2.2 full");
    let archive = Archive::open_existing(dir.path()).unwrap().unwrap();
    let found = archive.message(&MessageId::parse("1@x").unwrap()).unwrap().unwrap();
    assert_eq!((found.campaign.as_str(), found.address.as_str()), ("2025-10-16-prayer", "Ana@example.org"));
    assert_eq!(archive.message(&MessageId::parse("<2@x>").unwrap()).unwrap().unwrap().state, State::Failed);
    assert_eq!(archive.message(&MessageId::parse("3@x").unwrap()).unwrap(), None);
    let all = archive.messages_to(&EmailKey::of("ana@example.org")).unwrap();
    assert_eq!(all.iter().map(|s| s.message_id.as_str()).collect::<Vec<_>>(), ["<1@x>", "<2@x>"]);
    assert!(Archive::open_existing(&dir.path().join("none")).unwrap().is_none());
}

#[test]
fn no_journal_means_none() {
    let dir = tempfile::tempdir().unwrap();
    assert!(Journal::open_existing(dir.path(), &campaign()).unwrap().is_none());
}

#[test]
fn a_version_1_journal_gains_the_reply_codes_read_from_its_words() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join(FILE_NAME)).unwrap();
        conn.execute_batch(
            "CREATE TABLE recipients (campaign TEXT NOT NULL, email_key TEXT NOT NULL, address TEXT NOT NULL,
                 message_id TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
                 attempts INTEGER NOT NULL DEFAULT 0, reply TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL,
                 PRIMARY KEY (campaign, email_key));
             INSERT INTO recipients VALUES ('2025-10-16-prayer', 'a@example.org', 'a@example.org', '<1@x>',
                 'failed', 1, 'permanent error (550): 5.1.1 User unknown', '2025-10-09T08:53:20Z');
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let j = Journal::open(dir.path(), &campaign()).unwrap();
    let entry = &j.entries(None).unwrap()[0];
    assert_eq!(entry.reply.code().map(ReplyCode::value), Some(550));
    assert_eq!(entry.reply.status().map(|s| s.to_string()).as_deref(), Some("5.1.1"));
    assert_eq!(entry.reply.text(), "permanent error (550): 5.1.1 User unknown");
    // Opening it again changes nothing.
    drop(j);
    let j = Journal::open(dir.path(), &campaign()).unwrap();
    assert_eq!(j.entries(None).unwrap()[0].reply.code().map(ReplyCode::value), Some(550));
}

#[test]
fn a_state_the_journal_never_writes_is_an_error_not_a_guess() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path(), &campaign()).unwrap();
    sending(&j, "a@example.org", "a@example.org", "<1@x>");
    j.conn
        .execute_batch("PRAGMA ignore_check_constraints = ON; UPDATE recipients SET state = 'lost'")
        .unwrap();
    assert!(j.entries(None).is_err());
    assert!(j.state(&EmailKey::of("a@example.org")).is_err());
}

/// The fingerprint kept with `key`'s row in `j`'s campaign, as written.
fn fingerprint_of(j: &Journal, key: &str) -> Option<String> {
    j.conn
        .query_row(
            "SELECT fingerprint FROM recipients WHERE campaign = ?1 AND email_key = ?2",
            params![j.campaign, key],
            |row| row.get(0),
        )
        .unwrap()
}

#[test]
fn each_sending_row_keeps_the_runs_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let fingerprint = Fingerprint::of("News", "The well is finished.");
    let j = Journal::open(dir.path(), &campaign()).unwrap().with_fingerprint(fingerprint);
    sending(&j, "a@example.org", "a@example.org", "<1@x>");
    assert_eq!(fingerprint_of(&j, "a@example.org"), Some(fingerprint.to_string()));
    let without = Journal::open(dir.path(), &CampaignId::for_tests("2025-10-23-prayer")).unwrap();
    sending(&without, "a@example.org", "a@example.org", "<2@x>");
    assert_eq!(fingerprint_of(&without, "a@example.org"), None);
}

#[test]
fn a_version_2_journal_gains_an_empty_fingerprint_and_its_subjects_lose_the_campaign_id() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join(FILE_NAME)).unwrap();
        conn.execute_batch(
            "CREATE TABLE campaigns (id TEXT PRIMARY KEY, bulletin TEXT NOT NULL, subject TEXT NOT NULL,
                 first_started_at TEXT, last_started_at TEXT, finished_at TEXT);
             CREATE TABLE recipients (campaign TEXT NOT NULL, email_key TEXT NOT NULL, address TEXT NOT NULL,
                 message_id TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
                 attempts INTEGER NOT NULL DEFAULT 0, reply TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL,
                 reply_code INTEGER, reply_status TEXT, PRIMARY KEY (campaign, email_key));
             INSERT INTO campaigns VALUES ('2025-10-16-prayer', 'content/prayer.md',
                 '2025-10-16-prayer (subject: Pray with us, {{ first_name }} (this week))',
                 '2025-10-16T08:00:00Z', '2025-10-16T08:00:00Z', NULL);
             INSERT INTO campaigns VALUES ('2025-10-23-odd', 'content/odd.md', 'Written by hand',
                 '2025-10-23T08:00:00Z', '2025-10-23T08:00:00Z', NULL);
             INSERT INTO recipients VALUES ('2025-10-16-prayer', 'a@example.org', 'a@example.org', '<1@x>',
                 'sent', 1, '250 ok', '2025-10-16T08:53:20Z', 250, NULL);
             PRAGMA user_version = 2;",
        )
        .unwrap();
    }
    let subjects = |j: &Journal| -> Vec<String> {
        j.conn
            .prepare("SELECT subject FROM campaigns ORDER BY id")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let j = Journal::open(dir.path(), &campaign()).unwrap();
    let version: i64 = j.conn.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
    assert_eq!(version, super::schema::VERSION);
    assert_eq!(fingerprint_of(&j, "a@example.org"), None);
    assert_eq!(j.entries(None).unwrap()[0].reply.code().map(ReplyCode::value), Some(250));
    assert_eq!(subjects(&j), ["Pray with us, {{ first_name }} (this week)", "Written by hand"]);
    // Opening it again changes nothing.
    drop(j);
    let j = Journal::open(dir.path(), &campaign()).unwrap();
    assert_eq!(subjects(&j), ["Pray with us, {{ first_name }} (this week)", "Written by hand"]);
    // And new rows keep their fingerprint.
    let fingerprint = Fingerprint::of("Pray with us", "Body");
    let j = j.with_fingerprint(fingerprint);
    sending(&j, "b@example.org", "b@example.org", "<2@x>");
    assert_eq!(fingerprint_of(&j, "b@example.org"), Some(fingerprint.to_string()));
}

/// A text of `shingles` with the fingerprint of "Body".
fn text(shingles: &Shingles) -> Text<'_> {
    Text { fingerprint: Fingerprint::of("Subject", "Body"), shingles }
}

#[test]
fn received_elsewhere_finds_the_same_text_at_any_time_and_a_near_copy_lately_but_never_the_subject_alone() {
    let dir = tempfile::tempdir().unwrap();
    let body = "Pray for the rescue team in Kampala as they follow up on three cases of forced labour in the \
                brick kilns outside the city, and for the families waiting for news of them. Give thanks for \
                the court in Chennai, which convicted two traffickers last week, and pray for the survivors \
                as they rebuild their lives and return to school. Pray for the new aftercare home in \
                Guatemala City and the staff who will open it in January.";
    let corrected = body.replace("Kampala", "Kampala, Uganda,");
    let next_week = "Pray for the lawyers in Ghana preparing for a hearing on the fishing boats of Lake Volta, \
                     where boys are made to dive in cold water for hours at a time.";
    let same = (Fingerprint::of("News", body), Shingles::of(body));
    let near = (Fingerprint::of("News", &corrected), Shingles::of(&corrected));
    let new = (Fingerprint::of("News", next_week), Shingles::of(next_week));
    let day = 24 * 60 * 60;
    let now = 1_760_000_000;
    // Sends from `campaign` the text `sent`, `days_ago`, to three keys:
    // the first is sent, the second failed, the third left uncertain
    // (sending).
    let send =
        |campaign: &str, subject: &str, sent: &(Fingerprint, Shingles), days_ago: u64, keys: [&str; 3]| {
            let clock: Arc<dyn Clock> = Arc::new(Timestamp::from_unix(now - days_ago * day));
            let j = Journal::open(dir.path(), &CampaignId::for_tests(campaign))
                .unwrap()
                .with_clock(clock)
                .with_fingerprint(sent.0);
            j.started(Path::new("content/news.md"), subject, Text { fingerprint: sent.0, shingles: &sent.1 })
                .unwrap();
            let [ok, failed, _uncertain] = keys;
            for key in keys {
                sending(&j, key, key, &format!("<{campaign}.{key}>"));
            }
            answered(&j, ok, State::Sent, "250 ok");
            answered(&j, failed, State::Failed, "550 no such user");
        };
    send("2024-10-16-news", "Old news", &same, 400, ["a@x.org", "b@x.org", "c@x.org"]);
    send("2025-09-20-news", "Other", &near, 19, ["d@x.org", "e@x.org", "f@x.org"]);
    send("2025-09-01-news", "News", &near, 31, ["g@x.org", "h@x.org", "i@x.org"]);
    send("2025-10-08-other", "News", &new, 1, ["j@x.org", "k@x.org", "l@x.org"]);
    send("2025-10-09-news", "News", &same, 0, ["m@x.org", "n@x.org", "o@x.org"]);

    let j = Journal::open(dir.path(), &CampaignId::for_tests("2025-10-09-news")).unwrap();
    let found = j
        .received_elsewhere(Text { fingerprint: same.0, shingles: &same.1 }, Timestamp::from_unix(now))
        .unwrap();
    let keys: Vec<char> =
        ('a'..='o').filter(|k| found.get(&EmailKey::of(&format!("{k}@x.org"))).is_some()).collect();
    // Not the campaign's own rows (m, o), nor any that failed, nor the near
    // copy 31 days ago, nor next week's text under the same subject.
    assert_eq!(keys, ['a', 'c', 'd', 'f']);
    assert_eq!(found.len(), 4);
    let a = found.get(&EmailKey::of("a@x.org")).unwrap();
    assert_eq!(
        (a.campaign.as_str(), a.day().as_str(), a.near_copy),
        ("2024-10-16-news", "2024-09-04", false)
    );
    let d = found.get(&EmailKey::of("d@x.org")).unwrap();
    assert_eq!((d.campaign.as_str(), d.near_copy), ("2025-09-20-news", true));

    // And the campaigns that send this text or nearly: not next week's.
    assert_eq!(
        j.campaigns_sending_the_same(Text { fingerprint: same.0, shingles: &same.1 }).unwrap(),
        ["2024-10-16-news", "2025-09-01-news", "2025-09-20-news"]
    );
}

#[test]
fn journals_of_different_campaigns_opened_and_written_at_once_all_succeed() {
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let barrier = Arc::new(std::sync::Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|n| {
                let (dir, barrier) = (dir.path().to_owned(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    let campaign = CampaignId::for_tests(&format!("2025-10-16-c{n}"));
                    let journal = Journal::open(&dir, &campaign).unwrap();
                    let shingles = Shingles::of("Body");
                    journal.started(Path::new("b.md"), "subject", text(&shingles)).unwrap();
                    for i in 0..20 {
                        sending(
                            &journal,
                            &format!("r{i}@x"),
                            &format!("r{i}@x"),
                            &format!("<{round}.{n}.{i}@x>"),
                        );
                        answered(&journal, &format!("r{i}@x"), State::Sent, "250 ok");
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    }
}

#[test]
fn a_version_4_journal_keys_unicode_domains_and_needless_quotes_as_today_keeping_the_row_that_says_more() {
    let dir = tempfile::tempdir().unwrap();
    {
        let j = Journal::open(dir.path(), &campaign()).unwrap();
        j.conn
            .execute_batch(
                "INSERT INTO recipients (campaign, email_key, address, message_id, state, attempts, updated_at) VALUES
                     ('2025-10-16-prayer', 'ulla@bücher.test', 'ulla@bücher.test', '<1@x>', 'sent', 1, 'T'),
                     ('2025-10-16-prayer', '\"bob\"@victim.test', '\"bob\"@victim.test', '<2@x>', 'sending', 1, 'T'),
                     ('2025-10-16-prayer', 'bob@victim.test', 'bob@victim.test', '<3@x>', 'failed', 1, 'T'),
                     ('2025-10-16-prayer', '\"eve\"@victim.test', '\"eve\"@victim.test', '<4@x>', 'failed', 1, 'T'),
                     ('2025-10-16-prayer', 'eve@victim.test', 'eve@victim.test', '<5@x>', 'sent', 1, 'T'),
                     ('2025-10-16-prayer', 'ana@example.org', 'ana@example.org', '<6@x>', 'sent', 1, 'T');
                 PRAGMA user_version = 4;",
            )
            .unwrap();
    }
    let j = Journal::open(dir.path(), &campaign()).unwrap();
    let state = |raw: &str| j.state(&EmailKey::of(raw)).unwrap();
    // The resumed campaign finds the one sent before the upgrade, however spelled.
    assert_eq!(state("ulla@bücher.test"), Some(State::Sent));
    assert_eq!(state("ulla@xn--bcher-kva.test"), Some(State::Sent));
    // Two rows for one person: the one that says more stays.
    assert_eq!(state("bob@victim.test"), Some(State::Sending));
    assert_eq!(state("\"eve\"@victim.test"), Some(State::Sent));
    assert_eq!(state("ana@example.org"), Some(State::Sent));
    let keys: Vec<String> = j
        .conn
        .prepare("SELECT email_key FROM recipients ORDER BY email_key")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(keys, ["ana@example.org", "bob@victim.test", "eve@victim.test", "ulla@xn--bcher-kva.test"]);
}
