//! The weekly rule (issue 26, `SEND_EVERY="Thursday 07:00"`): the real
//! `bulletin serve` with `TIME_ZONE=Europe/London`, its scheduler waking
//! every 100 ms, sending through the aiosmtpd server, and the test clock
//! moved to just before and just after the next Thursday 07:00 in London
//! (the offset from the machine's time computed here with jiff, not by the
//! code under test). The right bulletin goes once, at its time; with none
//! ready nothing goes and staff are told; two `serve` processes send once;
//! the reminder the day before goes once; a bad value is refused.

use std::time::Duration;

use bulletin::domain::{Clock, SystemClock};
use jiff::civil::Weekday;
use pretty_assertions::assert_eq;

use crate::send_util::{DEADLINE, Faults, PyServer, Received, by_recipient, to_relay, wait_until};
use crate::signup::serve;
use crate::staff_report::{Parsed, python_reads};
use crate::unsubscribe::list_test;
use crate::util::Test;

const READERS: usize = 3;
const STAFF: &str = "office@hope.example.org";
const WAKE_MS: &str = "100";
/// Long enough for `serve` to have looked about ten times.
const WATCH: Duration = Duration::from_secs(1);

/// The occurrence the tests aim at: the first Thursday 07:00 in London at
/// least two days after the machine's time, as seconds since the epoch and
/// its local date.
struct Target {
    at: i64,
    date: jiff::civil::Date,
}

impl Target {
    fn next() -> Self {
        let london = jiff::tz::TimeZone::get("Europe/London").unwrap();
        let mut date =
            london.to_datetime(jiff::Timestamp::now()).date().tomorrow().unwrap().tomorrow().unwrap();
        while date.weekday() != Weekday::Thursday {
            date = date.tomorrow().unwrap();
        }
        Self::on(date)
    }

    /// 07:00 in London on `date`.
    fn on(date: jiff::civil::Date) -> Self {
        let london = jiff::tz::TimeZone::get("Europe/London").unwrap();
        let at = london.to_ambiguous_timestamp(date.at(7, 0, 0, 0)).compatible().unwrap();
        Self { at: at.as_second(), date }
    }

    /// The occurrence a week later.
    fn week_after(&self) -> Self {
        Self::on((0..7).fold(self.date, |d, _| d.tomorrow().unwrap()))
    }

    /// `days` before the occurrence's date, as a front matter writes it.
    fn day(&self, days: i8) -> String {
        (0..days).fold(self.date, |d, _| d.yesterday().unwrap()).to_string()
    }

    /// The occurrence's key in the store.
    fn key(&self) -> String {
        format!("{}T07:00", self.date)
    }

    /// The key of the occurrence a week before, which a `serve` started
    /// between the two records (skipped) at its first look.
    fn week_before_key(&self) -> String {
        format!("{}T07:00", self.day(7))
    }

    /// Moves `test`'s clock to `offset` seconds from the occurrence.
    fn clock_at(&self, test: &Test, offset: i64) {
        let real = i64::try_from(SystemClock.now().unix_seconds()).unwrap();
        test.set_clock_ahead((self.at + offset - real) as f64);
    }
}

/// A bulletin dated `date`, with `subject`, and `extra` front matter.
fn issue(subject: &str, date: &str, extra: &str) -> String {
    format!(
        "+++\nsubject = \"{subject}\"\npreheader = \"This week\"\ndate = {date}\n{extra}+++\n\nNews: {subject}.\n"
    )
}

/// [`READERS`] readers, the relay on `port`, the rule, and the test clock.
fn weekly(port: u16) -> Test {
    let (test, _) = list_test(READERS);
    to_relay(test, port)
        .with_test_clock()
        .env("SMTP_RATE", "unlimited")
        .env("TIME_ZONE", "Europe/London")
        .env("SEND_EVERY", "Thursday 07:00")
        .env("BULLETIN_TEST_SCHEDULER_WAKE_MS", WAKE_MS)
}

/// The weekly occurrence's row: state, bulletin and why.
fn occurrence(test: &Test, key: &str) -> Option<(String, String, String)> {
    let conn = rusqlite::Connection::open(test.join(".bulletin/journal.sqlite3")).ok()?;
    conn.query_row("SELECT state, bulletin, why FROM schedules WHERE occurrence = ?1", [key], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .ok()
}

#[track_caller]
fn wait_for_state(test: &Test, key: &str, state: &str) -> (String, String) {
    wait_until(&format!("weekly occurrence {key} to be {state}"), DEADLINE, || {
        occurrence(test, key).filter(|(now, _, _)| now == state).map(|(_, bulletin, why)| (bulletin, why))
    })
}

/// Each reader's messages, by subject.
fn readers(relay: &PyServer) -> Vec<(String, Vec<String>)> {
    let readers: Vec<Received> = relay.messages().into_iter().filter(|m| m.recipient() != STAFF).collect();
    by_recipient(&readers)
        .into_iter()
        .map(|(to, got)| {
            let mut subjects: Vec<String> = got.iter().map(|m| m.eml().header("Subject").unwrap()).collect();
            subjects.sort();
            (to, subjects)
        })
        .collect()
}

fn everyone(subjects: &[&str]) -> Vec<(String, Vec<String>)> {
    let subjects: Vec<String> = subjects.iter().map(|s| (*s).to_owned()).collect();
    (1..=READERS).map(|i| (format!("reader{i:02}@example.org"), subjects.clone())).collect()
}

/// The staff emails at the relay, read by Python's `email`.
fn staff(relay: &PyServer) -> Vec<Parsed> {
    relay
        .messages()
        .into_iter()
        .filter(|m| m.rcpt_to == [STAFF])
        .map(|m| python_reads(&relay.mail_dir().join(&m.file)))
        .collect()
}

fn subjects(staff: &[Parsed]) -> Vec<String> {
    staff.iter().map(|p| p.subject.clone()).collect()
}

#[test]
fn the_newest_ready_bulletin_goes_once_at_the_weekly_time_not_a_draft_not_one_already_sent_not_before() {
    let relay = PyServer::start(&Faults::new());
    let target = Target::next();
    let test = weekly(relay.port())
        .env("STAFF_EMAIL", STAFF)
        .file(&format!("content/{}-last-week.md", target.day(7)), issue("Last week", &target.day(7), ""))
        .file(&format!("content/{}-this-week.md", target.day(2)), issue("This week", &target.day(2), ""))
        .file(
            &format!("content/{}-next.md", target.day(1)),
            issue("Not yet", &target.day(1), "draft = true\n"),
        );
    // Last week's went from the command line.
    let last_week = format!("content/{}-last-week.md", target.day(7));
    test.run(&["send", &last_week, "--subscribers", "list.csv", "--yes"]).code(0);
    assert_eq!(readers(&relay), everyone(&["Last week"]));

    target.clock_at(&test, -60);
    let first = serve(&test);
    test.run(&["schedule", "list"])
        .code(0)
        .stdout_has("Next weekly send (SEND_EVERY, every Thursday 07:00)")
        .stdout_has(&format!("would send content/{}-this-week.md", target.day(2)));
    wait_for_state(&test, &target.week_before_key(), "skipped");
    std::thread::sleep(WATCH);
    assert_eq!(readers(&relay), everyone(&["Last week"]), "nothing before its time");
    assert_eq!(occurrence(&test, &target.key()), None);

    target.clock_at(&test, 1);
    let (bulletin, _) = wait_for_state(&test, &target.key(), "sent");
    assert!(bulletin.ends_with("-this-week.md"), "{bulletin}");
    wait_until("everyone's copy", DEADLINE, || {
        (readers(&relay) == everyone(&["Last week", "This week"])).then_some(())
    });
    let (_, _, log) = first.stop();
    assert!(log.contains(&format!("weekly send {}: queued as #", target.key())), "{log}");
    assert_eq!(log.matches("weekly send ").count(), 2, "the week before skipped, this one queued:\n{log}");

    // A restart after it: nothing more.
    let again = serve(&test);
    std::thread::sleep(WATCH);
    drop(again);
    assert_eq!(readers(&relay), everyone(&["Last week", "This week"]));
    test.run(&["schedule", "list"]).code(0).stdout_has("weekly (SEND_EVERY): ").stdout_has("sent");
    // Staff had the two sends' reports, and no reminder: a bulletin was ready.
    let told = subjects(&staff(&relay));
    assert_eq!(told.len(), 2, "{told:?}");
    assert!(told.iter().all(|s| s.starts_with("Sent: ")), "{told:?}");
}

#[test]
fn with_no_new_bulletin_ready_nothing_goes_and_the_staff_email_says_so() {
    let relay = PyServer::start(&Faults::new());
    let target = Target::next();
    let sent = format!("content/{}-sent.md", target.day(3));
    let test = weekly(relay.port())
        .env("STAFF_EMAIL", STAFF)
        .file(&sent, issue("Already sent", &target.day(3), ""))
        .file(
            &format!("content/{}-next.md", target.day(1)),
            issue("Not yet", &target.day(1), "draft = true\n"),
        );
    test.run(&["send", &sent, "--subscribers", "list.csv", "--yes"]).code(0);

    target.clock_at(&test, -60);
    let server = serve(&test);
    wait_until("the reminder", DEADLINE, || (staff(&relay).len() >= 2).then_some(()));
    target.clock_at(&test, 1);
    let (bulletin, why) = wait_for_state(&test, &target.key(), "skipped");
    assert_eq!(bulletin, "");
    assert!(why.starts_with("skipped: no new bulletin in content/"), "{why}");
    assert!(why.contains("-sent.md, was sent to the list on "), "{why}");
    wait_until("the staff email", DEADLINE, || (staff(&relay).len() >= 3).then_some(()));
    std::thread::sleep(WATCH);
    let (_, _, log) = server.stop();
    assert_eq!(readers(&relay), everyone(&["Already sent"]), "nothing more went");
    assert_eq!(
        log.matches(&format!("weekly send {} (#2): skipped: no new bulletin in content/", target.key()))
            .count(),
        1,
        "{log}"
    );

    let told = staff(&relay);
    let subjects = subjects(&told);
    assert_eq!(subjects.len(), 3, "the send's report, the reminder, the skip: {subjects:?}");
    assert!(subjects[0].starts_with("Sent: Already sent"), "{subjects:?}");
    assert_eq!(subjects[1], "No bulletin is ready for Thursday's 07:00 send");
    assert!(subjects[2].starts_with("Stopped: weekly send #"), "{subjects:?}");
    let skip = told[2].flat_text();
    assert!(
        skip.contains("no new bulletin in content/") && skip.contains("was sent to the list on"),
        "{skip}"
    );
    assert!(told[2].html.contains("no new bulletin in content/"), "{}", told[2].html);
}

#[test]
fn two_serve_processes_send_the_weekly_bulletin_once() {
    let relay = PyServer::start(&Faults::new());
    let target = Target::next();
    let test = weekly(relay.port())
        .file(&format!("content/{}-this-week.md", target.day(1)), issue("This week", &target.day(1), ""));
    target.clock_at(&test, -60);
    let (one, two) = (serve(&test), serve(&test));
    wait_for_state(&test, &target.week_before_key(), "skipped");
    target.clock_at(&test, 1);
    wait_for_state(&test, &target.key(), "sent");
    wait_until("everyone's copy", DEADLINE, || (readers(&relay) == everyone(&["This week"])).then_some(()));
    std::thread::sleep(WATCH);
    let logs = [one.stop().2, two.stop().2];
    let queued = logs.iter().map(|log| log.matches("queued as #").count()).sum::<usize>();
    let sending = logs.iter().map(|log| log.matches(": sending /").count()).sum::<usize>();
    assert_eq!((queued, sending), (1, 1), "one serve queues and sends it:\n{logs:#?}");
    assert_eq!(readers(&relay), everyone(&["This week"]));
}

#[test]
fn the_reminder_goes_the_day_before_once_when_no_bulletin_is_ready() {
    let relay = PyServer::start(&Faults::new());
    let target = Target::next();
    let test = weekly(relay.port()).env("STAFF_EMAIL", STAFF).file(
        &format!("content/{}-next.md", target.day(1)),
        issue("Not yet", &target.day(1), "draft = true\n"),
    );
    let day = 24 * 3600;
    target.clock_at(&test, -day - 60);
    let (one, two) = (serve(&test), serve(&test));
    wait_for_state(&test, &target.week_before_key(), "skipped");
    std::thread::sleep(WATCH);
    assert_eq!(subjects(&staff(&relay)), Vec::<String>::new(), "no reminder before the day before");

    target.clock_at(&test, -day + 1);
    wait_until("the reminder", DEADLINE, || (!staff(&relay).is_empty()).then_some(()));
    std::thread::sleep(WATCH);
    let logs = [one.stop().2, two.stop().2];
    let told = staff(&relay);
    assert_eq!(subjects(&told), ["No bulletin is ready for Thursday's 07:00 send"], "once, by two serves");
    let text = told[0].flat_text();
    assert!(text.contains("bulletin new") && text.contains("no new bulletin in content/"), "{text}");
    let when = format!("{} 07:00", target.date.strftime("%A %-d %B %Y"));
    assert!(text.contains(&when), "{when} in {text}");
    let reminded = logs.iter().map(|log| log.matches("reminder sent to STAFF_EMAIL").count()).sum::<usize>();
    assert_eq!(reminded, 1, "{logs:#?}");
    assert!(readers(&relay).is_empty());
}

#[test]
fn a_weekly_send_missed_by_more_than_catch_up_is_skipped_and_staff_are_told_and_one_less_late_goes() {
    let relay = PyServer::start(&Faults::new());
    let target = Target::next();
    let test = weekly(relay.port())
        .env("STAFF_EMAIL", STAFF)
        .file(&format!("content/{}-this-week.md", target.day(1)), issue("This week", &target.day(1), ""));
    // `serve` ran the week before, then the machine was off until 13 hours
    // after the time.
    target.clock_at(&test, -3 * 24 * 3600);
    let before = serve(&test);
    wait_for_state(&test, &target.week_before_key(), "skipped");
    drop(before);
    target.clock_at(&test, 13 * 3600);
    let late = serve(&test);
    let (_, why) = wait_for_state(&test, &target.key(), "skipped");
    assert!(why.starts_with("skipped: missed by 13h") && why.contains("CATCH_UP, 12h"), "{why}");
    wait_until("the staff email", DEADLINE, || (!staff(&relay).is_empty()).then_some(()));
    std::thread::sleep(WATCH);
    drop(late);
    let told = staff(&relay);
    assert_eq!(told.len(), 1, "{:?}", subjects(&told));
    assert!(told[0].subject.starts_with("Stopped: weekly send #"), "{}", told[0].subject);
    assert!(told[0].flat_text().contains("missed by 13h (more than CATCH_UP, 12h)"), "{}", told[0].text);
    assert!(readers(&relay).is_empty(), "nothing went");

    // The next week's, missed by an hour only, goes when `serve` is back.
    let next_week = target.week_after();
    std::fs::write(
        test.join(&format!("content/{}-next-week.md", next_week.day(1))),
        issue("Next week", &next_week.day(1), ""),
    )
    .unwrap();
    next_week.clock_at(&test, 3600);
    let back = serve(&test);
    wait_for_state(&test, &next_week.key(), "sent");
    wait_until("everyone's copy", DEADLINE, || (readers(&relay) == everyone(&["Next week"])).then_some(()));
    drop(back);
}

#[test]
fn a_bad_send_every_is_refused_naming_the_setting_by_serve_and_by_check() {
    let (test, _) = list_test(1);
    let test = test.env("SEND_EVERY", "Thursdays at 7");
    test.run(&["serve", "--listen", "127.0.0.1:0", "--subscribers", "list.csv"])
        .code(2)
        .stderr_has("SEND_EVERY")
        .stderr_has("Thursday 07:00");
    test.run(&["check", crate::util::SAMPLE_BULLETIN, "--subscribers", "list.csv"])
        .code(1)
        .stdout_has("error: setting SEND_EVERY");
}
