#!/usr/bin/env bash
# The whole test suite: format, lints, unit, golden and end-to-end tests.
# README.md gives this command and .ci/run calls it, so CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# The toolchain's own components; present on our machines, fetched if not.
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$component"
  fi
done

# Real SMTP servers for the sending tests: Postfix's smtp-sink (as lettre's
# own CI uses) and Python's aiosmtpd (for faults per recipient).
if ! command -v smtp-sink >/dev/null 2>&1 && [ ! -x /usr/sbin/smtp-sink ]; then
  echo "installing postfix (for smtp-sink)…"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postfix >/dev/null
fi
if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
  echo "installing aiosmtpd…"
  python3 -m pip install --quiet 'aiosmtpd==1.4.6'
fi

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked 2>&1 | tee "$log"

# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
