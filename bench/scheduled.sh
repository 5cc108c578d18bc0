#!/usr/bin/env bash
# A scheduled send against the same send from the command line: N messages
# of the sample to Postfix's smtp-sink on 127.0.0.1 (SMTP_RATE unlimited,
# 8 connections, journal on), once by `bulletin send --yes` and once by
# `bulletin serve`'s scheduler (`bulletin schedule --at`). Each is timed the
# same way, from the journal: from its first message recorded sent to its
# last (polled every 20 ms), so the scheduler's wait for the time is not
# counted. Then `serve` is left idle for 60 s with its scheduler and its
# IMAP poller on (a Dovecot started here): its CPU and memory.
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

# start_dovecot: Dovecot on 127.0.0.1:$imap_port (imaps), user "bounces"
# with an empty Maildir, in $work/imap.
start_dovecot() {
  local d="$work/imap" owner
  mkdir -p "$d/mail/Maildir/new" "$d/mail/Maildir/cur" "$d/mail/Maildir/tmp"
  chmod 755 "$d"
  owner=$(id -u):$(id -g)
  [ "$(id -u)" -ne 0 ] || owner=$(awk -F: '$1 == "mail" { print $3 ":" $4 }' /etc/passwd)
  chown -R "$owner" "$d/mail"
  # A CA of our own (the poller trusts it as BOUNCE_IMAP_CA_FILE) and the
  # server's certificate it signs for 127.0.0.1.
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=bench-ca \
    -keyout "$d/ca-key.pem" -out "$d/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$d/key.pem" -out "$d/req.pem" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$d/ext.cnf"
  openssl x509 -req -in "$d/req.pem" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial -days 1 \
    -extfile "$d/ext.cnf" -out "$d/cert.pem" 2>/dev/null
  echo "bounces:{PLAIN}bench-password:${owner%:*}:${owner#*:}::$d/mail::" >"$d/passwd"
  imap_port=$(free_port)
  cat >"$d/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
auth_verbose = yes
ssl = required
ssl_cert = <$d/cert.pem
ssl_key = <$d/key.pem
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u $d/passwd
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = $imap_port
    ssl = yes
  }
}
service anvil {
  chroot =
}
CONF
  /usr/sbin/dovecot -F -c "$d/dovecot.conf" </dev/null >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$imap_port") 2>/dev/null && return; sleep 0.1; done
  echo "dovecot did not start"; cat "$d/dovecot.log"; exit 1
}

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

# Idle: the scheduler waking (every 15 s, as in production) with nothing
# due, and the IMAP poller reading an empty bounce mailbox on Dovecot
# (Debian's dovecot-imapd) on 127.0.0.1 every 5 s, sixty times its default
# pace, over TLS from a certificate made here.
kill "$serve"; wait "$serve" 2>/dev/null || true
start_dovecot
BOUNCE_IMAP_URL="imaps://bounces@127.0.0.1:$imap_port/INBOX" BOUNCE_IMAP_PASSWORD=bench-password \
  BOUNCE_IMAP_CA_FILE="$work/imap/ca.pem" BOUNCE_IMAP_EVERY=5s \
  "$bin" serve --listen 127.0.0.1:0 --subscribers list.csv --state-dir state-serve >idle.log 2>&1 &
idle=$!
pids+=($idle)
sleep 3
ticks() { awk '{ print $14 + $15 }' "/proc/$idle/stat"; }
before=$(ticks)
sleep "${IDLE_SECONDS:-60}"
after=$(ticks)
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$idle/status")
hz=$(getconf CLK_TCK)
rounds=$(grep -c 'Login: user=<bounces>' "$work/imap/dovecot.log" || true)
grep -q "Bounce mailbox" idle.log || { cat idle.log; exit 1; }
[ -z "${BENCH_VERBOSE:-}" ] || { tail -5 idle.log; tail -5 "$work/imap/dovecot.log"; }

echo "bulletin send:       $ours messages/s ($n messages, 8 connections, journal on)"
echo "scheduled by serve:  $scheduled messages/s (the same, sent by serve's scheduler)"
python3 -c "print(f'ratio:               {$scheduled / $ours:.0%} of bulletin send')"
echo "bounce mailbox:      $rounds logins to Dovecot while idle (every 5 s)"
python3 -c "print(f'serve idle:          {($after - $before) / $hz / ${IDLE_SECONDS:-60} * 100:.2f}% of a core over ${IDLE_SECONDS:-60} s, {$rss / 1024:.1f} MB resident')"
