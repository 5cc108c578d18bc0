#!/usr/bin/env bash
# What DKIM signing costs: a dry run of the sample bulletin to N generated
# subscribers (render, encode and sign every message, write no files),
# unsigned, then signed with an RSA 2048-bit key and with an Ed25519 key
# (both made here by openssl). Best of 3 runs each; the cost per message is
# the difference from the unsigned run, divided by N.
#     bench/dkim.sh [N]           (default 10000)
source "$(dirname "$0")/common.sh"
n=${1:-10000}
build
subscribers "$n" "$work/list.csv"
cd "$work"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null
openssl genpkey -algorithm ED25519 -out ed25519.pem 2>/dev/null

# best KEY: the fastest of three dry runs, in seconds (KEY empty: unsigned).
best() {
  local key=$1 fastest=""
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    if [ -n "$key" ]; then
      DKIM_DOMAIN=hope.example.org DKIM_SELECTOR=bench DKIM_PRIVATE_KEY="$work/$key" \
        "$bin" send "$sample" --subscribers "$work/list.csv" --dry-run -q >/dev/null
    else
      "$bin" send "$sample" --subscribers "$work/list.csv" --dry-run -q >/dev/null
    fi
    end=$(date +%s.%N)
    fastest=$(python3 -c "t = $end - $start; print(t if '$fastest' == '' else min(t, float('$fastest')))")
  done
  echo "$fastest"
}

unsigned=$(best "")
rsa=$(best rsa.pem)
ed=$(best ed25519.pem)
python3 - "$n" "$unsigned" "$rsa" "$ed" <<'PY'
import sys
n, base, rsa, ed = int(sys.argv[1]), *map(float, sys.argv[2:])
print(f"unsigned:  {base:6.2f} s  {base / n * 1e6:7.1f} µs a message")
for name, t in (("rsa-2048", rsa), ("ed25519", ed)):
    print(f"{name}:  {t:6.2f} s  {t / n * 1e6:7.1f} µs a message, signing {(t - base) / n * 1e6:7.1f} µs of it")
PY
