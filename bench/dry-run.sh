#!/usr/bin/env bash
# Dry run of the sample bulletin to N generated subscribers (render and
# encode every message, write no files): wall time and peak memory. With S,
# a consent ledger of S rows about them is read too (see `ledger`).
#     bench/dry-run.sh [N] [S]    (default 100000, no ledger)
source "$(dirname "$0")/common.sh"
n=${1:-100000}
s=${2:-0}
build
subscribers "$n" "$work/list.csv"
ledger "$s" "$work/suppressed.csv"
cd "$work"
/usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB peak RSS" "$bin" send "$sample" --subscribers "$work/list.csv" --dry-run -q \
  2>&1 | grep -E "would send|size|wall"
