#!/usr/bin/env bash
# Dry run of the sample bulletin to N generated subscribers (render and
# encode every message, write no files): wall time and peak memory.
#     bench/dry-run.sh [N]        (default 100000)
source "$(dirname "$0")/common.sh"
n=${1:-100000}
build
subscribers "$n" "$work/list.csv"
cd "$work"
/usr/bin/time -f "%e s wall, %M KB peak RSS" "$bin" send "$sample" --subscribers "$work/list.csv" --dry-run -q \
  2>&1 | grep -E "would send|size|wall"
