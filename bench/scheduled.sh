#!/usr/bin/env bash
# A scheduled send against the same send from the command line: N messages
# of the sample to Postfix's smtp-sink on 127.0.0.1 (SMTP_RATE unlimited,
# 8 connections, journal on), once by `bulletin send --yes` and once by
# `bulletin serve`'s scheduler (`bulletin schedule --at`). Each is timed the
# same way, from the journal: from its first message recorded sent to its
# last (polled every 20 ms), so the scheduler's wait for the time is not
# counted. Then `serve` is left idle with the scheduler (and, with
# IMAP=imaps://…, nothing else is started here) for 60 s: its CPU and memory.
#     bench/scheduled.sh [N]      (default 20000)
source "$(dirname "$0")/common.sh"
n=${1:-20000}
build
subscribers "$n" "$work/list.csv"
start_sink
cd "$work"
export SMTP_HOST=127.0.0.1 SMTP_PORT=$port SMTP_SECURITY=none SMTP_RATE=unlimited SMTP_CONCURRENCY=8
export UNSUBSCRIBE_SECRET=bench-unsubscribe-secret-0123456789abcdef
export UNSUBSCRIBE_URL=https://news.bench.test/unsubscribe
cp "$sample" "$work/bulletin.md"
cp -r "$(dirname "$sample")/images" "$work/images"

# watch DB: messages a second from the first recipient recorded sent to the N-th.
watch() {
  python3 - "$1" "$n" <<'PY'
import os, sqlite3, sys, time
path, n = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 300
first = None
while time.time() < deadline:
    count = 0
    if os.path.exists(path):
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
            count = db.execute("SELECT count(*) FROM recipients WHERE state = 'sent'").fetchone()[0]
            db.close()
        except sqlite3.Error:
            pass
    now = time.time()
    if count and first is None:
        first = (now, count)
    if count >= n:
        print(f"{(n - first[1]) / (now - first[0]):.0f}")
        sys.exit(0)
    time.sleep(0.02)
sys.exit("timed out")
PY
}

"$bin" send bulletin.md --subscribers list.csv --state-dir state-send --yes -q >/dev/null &
pids+=($!)
ours=$(watch state-send/journal.sqlite3) || exit 1
wait "${pids[-1]}"

at=$(date -u -d '+20 seconds' +%Y-%m-%dT%H:%M:%SZ)
"$bin" schedule bulletin.md --at "$at" --state-dir state-serve >/dev/null
BULLETIN_TEST_SCHEDULER_WAKE_MS=100 "$bin" serve --listen 127.0.0.1:0 --subscribers list.csv \
  --state-dir state-serve >serve.log 2>&1 &
serve=$!
pids+=($serve)
scheduled=$(watch state-serve/journal.sqlite3) || { cat serve.log; exit 1; }

# Idle: the scheduler waking (every 15 s, as in production) and nothing due.
kill "$serve"; wait "$serve" 2>/dev/null || true
"$bin" serve --listen 127.0.0.1:0 --subscribers list.csv --state-dir state-serve >idle.log 2>&1 &
idle=$!
pids+=($idle)
sleep 2
ticks() { awk '{ print $14 + $15 }' "/proc/$idle/stat"; }
before=$(ticks)
sleep 60
after=$(ticks)
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$idle/status")
hz=$(getconf CLK_TCK)

echo "bulletin send:       $ours messages/s ($n messages, 8 connections, journal on)"
echo "scheduled by serve:  $scheduled messages/s (the same, sent by serve's scheduler)"
python3 -c "print(f'ratio:               {$scheduled / $ours:.0%} of bulletin send')"
python3 -c "print(f'serve idle:          {($after - $before) / $hz / 60 * 100:.2f}% of a core over 60 s, {$rss / 1024:.1f} MB resident')"
