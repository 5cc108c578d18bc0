#!/usr/bin/env bash
# Send N messages of the sample bulletin to Postfix's smtp-sink on
# 127.0.0.1 (--rate unlimited --concurrency 8, journal on), then let
# Postfix's own load generator smtp-source send N messages of the same size
# over 8 sessions to the same sink: messages per second for each.
# With S, a consent ledger of S rows about the list is read too.
#     bench/send.sh [N] [S]       (default 20000, no ledger)
source "$(dirname "$0")/common.sh"
n=${1:-20000}
s=${2:-0}
build
subscribers "$n" "$work/list.csv"
ledger "$s" "$work/suppressed.csv"
start_sink
cd "$work"

# The message size, before the send: afterwards a dry run would send nobody.
size=$("$bin" send "$sample" --subscribers "$work/list.csv" --dry-run -q | awk '/size/ { printf "%d", $2 * 1024 }')
start=$(date +%s.%N)
SMTP_HOST=127.0.0.1 SMTP_PORT=$port SMTP_SECURITY=none \
  "$bin" send "$sample" --subscribers "$work/list.csv" --rate unlimited --concurrency 8 --yes -q >/dev/null
end=$(date +%s.%N)
ours=$(python3 -c "print(f'{$n / ($end - $start):.0f}')")

start=$(date +%s.%N)
smtp-source -s 8 -m "$n" -l "$size" -f news@hope.example.org -t reader@example.org "127.0.0.1:$port"
end=$(date +%s.%N)
theirs=$(python3 -c "print(f'{$n / ($end - $start):.0f}')")

echo "bulletin:     $ours messages/s ($n messages, 8 connections, journal on)"
echo "smtp-source:  $theirs messages/s ($n messages of $size bytes, 8 sessions)"
python3 -c "print(f'ratio:        {$ours / $theirs:.0%} of smtp-source')"
