//! The consent ledger's two costs, for the CSV log it is and for the
//! SQLite table it could have been (issue 23: "choose the store by
//! measurement"), each with 10,000 rows already in it:
//!
//! * an event recorded under the lock and on disk (a one-click unsubscribe:
//!   read the address's events, decide, append, flush);
//! * every address's standing read whole (what each send, dry run and
//!   `check` does first).
//!
//! `cargo bench --bench ledger`.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use bulletin::subscribers::{EmailAddress, Entry, Reason, SuppressionFile, Suppressions};
use criterion::{Criterion, criterion_group, criterion_main};

const ROWS: usize = 10_000;

fn csv_ledger(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("suppressed.csv");
    let mut text = String::from("email,reason,date,detail\n");
    for i in 0..ROWS {
        text.push_str(&format!("supporter{i}@example.org,unsubscribed,2026-01-01T00:00:00Z,\n"));
    }
    std::fs::write(&path, text).expect("the ledger is written");
    path
}

fn sqlite_ledger(dir: &std::path::Path) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(dir.join("consent.sqlite3")).expect("a database");
    db.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE events (id INTEGER PRIMARY KEY, key TEXT NOT NULL, reason TEXT NOT NULL,
                              date TEXT, issued TEXT, detail TEXT);
         CREATE INDEX events_key ON events (key);",
    )
    .expect("the schema");
    let tx = db.unchecked_transaction().expect("a transaction");
    for i in 0..ROWS {
        tx.execute(
            "INSERT INTO events (key, reason, date) VALUES (?1, 'unsubscribed', '2026-01-01T00:00:00Z')",
            [format!("supporter{i}@example.org")],
        )
        .expect("a row");
    }
    tx.commit().expect("committed");
    db
}

fn ledger(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a folder");
    let path = csv_ledger(dir.path());
    let file = SuppressionFile::new(&path);
    let db = sqlite_ledger(dir.path());
    let mut n = 0u64;
    let mut group = c.benchmark_group(format!("ledger of {ROWS} rows"));
    group.sample_size(30);
    group.bench_function("csv: record an unsubscribe (locked, flushed)", |b| {
        b.iter(|| {
            n += 1;
            let email = EmailAddress::parse(&format!("new{n}@example.org")).expect("an address");
            let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + n);
            black_box(file.add(&[Entry::new(email, Reason::Unsubscribed)], at).expect("added"));
        })
    });
    group.bench_function("sqlite: record an unsubscribe (transaction, synchronous)", |b| {
        b.iter(|| {
            n += 1;
            let key = format!("new{n}@example.org");
            let tx = db.unchecked_transaction().expect("a transaction");
            let events: Vec<String> = tx
                .prepare_cached("SELECT reason FROM events WHERE key = ?1 ORDER BY id")
                .expect("a query")
                .query_map([&key], |r| r.get(0))
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("read");
            if events.is_empty() {
                tx.execute(
                    "INSERT INTO events (key, reason, date) VALUES (?1, 'unsubscribed', '2026-06-01')",
                    [&key],
                )
                .expect("a row");
            }
            tx.commit().expect("committed");
        })
    });
    group.bench_function("csv: every address's standing", |b| {
        b.iter(|| black_box(Suppressions::load(&path).expect("read").0.len()))
    });
    group.bench_function("sqlite: every address's standing", |b| {
        b.iter(|| {
            let mut statement = db
                .prepare_cached("SELECT key, reason, date, issued FROM events ORDER BY id")
                .expect("a query");
            let rows = statement
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?))
                })
                .expect("rows");
            let mut standing = std::collections::HashMap::new();
            for row in rows {
                let (key, reason, _date) = row.expect("a row");
                standing.insert(key, reason != "resubscribed");
            }
            black_box(standing.len())
        })
    });
    group.finish();
}

criterion_group!(benches, ledger);
criterion_main!(benches);
