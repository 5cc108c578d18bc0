#!/usr/bin/env bash
# --rate 200/s for 2,000 messages to smtp-sink on 127.0.0.1: total time
# (the target is within 3% of 10 s) and the most messages the sink took in
# any one calendar second (the limit allows 200 plus a burst of 20).
#     bench/rate.sh [RATE] [N]    (default 200 2000)
source "$(dirname "$0")/common.sh"
rate=${1:-200}
n=${2:-2000}
mkdir "$work/dump"
chmod 777 "$work/dump"
build
subscribers "$n" "$work/list.csv"
# One file per message, named after the second the sink took it.
start_sink -d "$work/dump/%Y%m%d%H%M%S."
cd "$work"
start=$(date +%s.%N)
SMTP_HOST=127.0.0.1 SMTP_PORT=$port SMTP_SECURITY=none \
  "$bin" send "$sample" --subscribers "$work/list.csv" --rate "$rate/s" --concurrency 8 --yes -q >/dev/null
end=$(date +%s.%N)
python3 - "$work/dump" "$start" "$end" "$rate" "$n" <<'PY'
import collections, os, sys
dump, start, end, rate, n = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
seconds = collections.Counter(name.split(".")[0] for name in os.listdir(dump))
ideal = (n - max(1, rate // 10)) / rate
print(f"received:     {sum(seconds.values())} of {n}")
print(f"total:        {end - start:.2f} s (ideal {ideal:.2f} s, {100 * (end - start - ideal) / ideal:+.1f}%)")
print(f"busiest second: {max(seconds.values())} messages (limit {rate} + burst {max(1, rate // 10)})")
PY
