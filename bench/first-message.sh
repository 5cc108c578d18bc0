#!/usr/bin/env bash
# Time from the command's start to the first message the relay receives,
# for a list of N subscribers (default 100000), against the aiosmtpd test
# server (it stamps each message with the time it arrived). The run is
# stopped once the first message is in.
#     bench/first-message.sh [N]
source "$(dirname "$0")/common.sh"
n=${1:-100000}
build
subscribers "$n" "$work/list.csv"
# The server stops when its standard input closes: hold a pipe open to it.
mkfifo "$work/stdin"
python3 "$root/tests/support/smtp_server.py" --dir "$work/received" --lifetime 120 < "$work/stdin" > "$work/port" &
pids+=($!)
exec 3>"$work/stdin"
for _ in $(seq 50); do grep -q PORT "$work/port" 2>/dev/null && break; sleep 0.1; done
port=$(awk '/PORT/ { print $2 }' "$work/port")
cd "$work"
start=$(python3 -c 'import time; print(time.time())')
SMTP_HOST=127.0.0.1 SMTP_PORT=$port SMTP_SECURITY=none \
  timeout 10 "$bin" send "$sample" --subscribers "$work/list.csv" --rate unlimited --yes -q --limit 20 >/dev/null
first=$(python3 -c "import json,glob; print(min(json.load(open(p))['time'] for p in glob.glob('$work/received/*.json')))")
python3 -c "print(f'first message after {$first - $start:.3f} s ({$n} subscribers)')"
