//! The in-process render loop: one subscriber's message personalised from
//! the sample bulletin (rendered once), built and encoded exactly as it
//! would be sent. `cargo bench --bench render`.

use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use bulletin::config::{Settings, Source};
use bulletin::content::Bulletin;
use bulletin::message::Composer;
use bulletin::render::{Addressee, Rendered};
use bulletin::subscribers::{Audience, Row, Subscriber, SubscriberReader};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn subscribers(n: usize) -> (bulletin::subscribers::Columns, Vec<Subscriber>) {
    let mut file = tempfile::NamedTempFile::new().expect("a temp file");
    writeln!(file, "email,first_name,last_name,status,tags,town").unwrap();
    for i in 0..n {
        writeln!(file, "supporter{i}@example.org,First{i},Last{i},subscribed,prayer-team,Town {}", i % 97)
            .unwrap();
    }
    let reader = SubscriberReader::open(file.path(), Audience::default()).expect("a list");
    let columns = reader.columns().clone();
    let list = reader
        .filter_map(|row| match row.expect("a row") {
            Row::Subscribed(s) => Some(s),
            Row::Skipped(_) => None,
        })
        .collect();
    (columns, list)
}

fn render_loop(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bulletin = Bulletin::load(&root.join("content/ijm-prayer-requests.md")).expect("the sample");
    let settings = Settings::from_source(&Source::from_pairs([
        ("FROM_EMAIL", "news@hope.example.org"),
        ("ORG_NAME", "Hope Trust"),
        ("ORG_ADDRESS", "12 Market Street, Bristol"),
    ]))
    .expect("settings");
    let (columns, list) = subscribers(1000);
    let rendered = Rendered::new(&bulletin, &settings, &columns).expect("fields bound");
    let composer = Composer::new(&settings, bulletin.campaign.clone());
    let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_760_000_000);

    let mut group = c.benchmark_group("render loop");
    group.throughput(Throughput::Elements(1));
    let mut next = list.iter().cycle();
    group.bench_function("personalise", |b| {
        b.iter(|| {
            let s = next.next().expect("cycles");
            black_box(rendered.personalise(&Addressee {
                subscriber: s,
                unsubscribe_url: "mailto:u@example.org",
                preferences_url: "",
            }))
        })
    });
    group.bench_function("personalise + build + encode", |b| {
        b.iter(|| {
            let s = next.next().expect("cycles");
            let link = composer.unsubscribe_link(s.email());
            let content = rendered.personalise(&Addressee {
                subscriber: s,
                unsubscribe_url: &link,
                preferences_url: "",
            });
            let message = composer.compose(s, &content, &link, now).expect("a message");
            black_box(message.formatted())
        })
    });
    group.finish();
}

criterion_group!(benches, render_loop);
criterion_main!(benches);
