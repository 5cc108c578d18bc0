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

# Real components the tests drive, from Debian: Postfix's smtp-sink (the SMTP
# server lettre's own CI uses), Chromium with its WebDriver (for the live
# preview's browser tests), SpamAssassin (tests/it/spam.rs scores the sample's
# messages with it, offline) and openssl (keys for the DKIM tests, as the README
# tells users to make them, and a certificate authority of the tests' own with
# the certificates it signs for the TLS relay tests).
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
[ -x /usr/sbin/smtp-sink ] || command -v smtp-sink >/dev/null 2>&1 || missing+=(postfix)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
[ -x /usr/bin/spamassassin ] || missing+=(spamassassin)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}…"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Python's aiosmtpd, for an SMTP server that fails chosen recipients.
if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
  echo "installing aiosmtpd…"
  python3 -m pip install --quiet 'aiosmtpd==1.4.6'
fi
# Python's dkimpy (with PyNaCl for Ed25519): an independent DKIM verifier.
if ! python3 -c 'import dkim, nacl' >/dev/null 2>&1; then
  echo "installing dkimpy…"
  python3 -m pip install --quiet 'dkimpy==1.1.8' 'PyNaCl==1.6.2'
fi
# Python's feedparser: a real feed reader for the archive's feed.xml.
if ! python3 -c 'import feedparser' >/dev/null 2>&1; then
  echo "installing feedparser…"
  python3 -m pip install --quiet 'feedparser==6.0.11'
fi

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked 2>&1 | tee "$log"

# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
