#!/usr/bin/env bash
# How long `bulletin publish` takes for an archive of N bulletins (each the
# sample's text under its own date and file name): into an empty folder
# (every page, the index and the feed written), then again over it with
# nothing changed (every file read and compared, none written). Best of 3
# runs each.
#     bench/publish.sh [N]        (default 500; the goal is under 2 s)
source "$(dirname "$0")/common.sh"
bin="${CARGO_TARGET_DIR:-$root/target}/release/bulletin"
n=${1:-500}
build
mkdir -p "$work/content"
python3 - "$n" "$sample" "$work/content" <<'PY'
import datetime, sys
n, sample, out = int(sys.argv[1]), open(sys.argv[2]).read(), sys.argv[3]
start = datetime.date(2015, 1, 1)
for i in range(n):
    day = start + datetime.timedelta(days=7 * i)
    text = sample.replace("date = 2025-10-16", f"date = {day}", 1)
    text = text.replace('title = "IJM Prayer Requests"', f'title = "IJM Prayer Requests {i}"', 1)
    open(f"{out}/prayer-{i:04}.md", "w").write(text)
PY
cd "$work"

# best ARGS: the fastest of three runs of `bulletin publish`, in seconds;
# with "fresh", each run starts from an empty folder.
best() {
  local fresh=$1 fastest=""
  for _ in 1 2 3; do
    [ "$fresh" = fresh ] && rm -rf site
    start=$(date +%s.%N)
    "$bin" publish -q >/dev/null
    end=$(date +%s.%N)
    fastest=$(python3 -c "t = $end - $start; print(t if '$fastest' == '' else min(t, float('$fastest')))")
  done
  echo "$fastest"
}

first=$(best fresh)
again=$(best again)
files=$(find site -type f | wc -l)
size=$(du -sh site | cut -f1)
python3 - "$n" "$first" "$again" "$files" "$size" <<'PY'
import sys
n, first, again, files, size = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
print(f"{n} bulletins, {files} files, {size}")
print(f"into an empty folder:  {first:6.2f} s  {first / n * 1e3:6.2f} ms a bulletin")
print(f"again, nothing changed: {again:6.2f} s  {again / n * 1e3:6.2f} ms a bulletin")
PY
