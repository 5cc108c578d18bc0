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
# the certificates it signs for the TLS relay tests), and two DKIM verifiers for
# tests/it/dkim_verifiers.rs beside dkimpy: Perl's Mail::DKIM
# (libmail-dkim-perl; libcryptx-perl for Ed25519 where that Mail::DKIM verifies
# it, 1.20230630 on) and OpenDKIM (the opendkim package's `opendkim -t`, which
# reads test keys from a file; opendkim-tools' opendkim-testmsg asks the DNS),
# dnsmasq (the DNS server tests/it/dns.rs runs on 127.0.0.1 for
# `check --dns`), and Dovecot (dovecot-imapd: the IMAP server tests/it/imap.rs
# runs on 127.0.0.1 for `serve`'s bounce mailbox).
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
[ -x /usr/sbin/smtp-sink ] || command -v smtp-sink >/dev/null 2>&1 || missing+=(postfix)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
[ -x /usr/bin/spamassassin ] || missing+=(spamassassin)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
perl -MMail::DKIM::Verifier -e 1 >/dev/null 2>&1 || missing+=(libmail-dkim-perl)
perl -MCrypt::PK::Ed25519 -e 1 >/dev/null 2>&1 || missing+=(libcryptx-perl)
[ -x /usr/sbin/opendkim ] || missing+=(opendkim)
[ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq-base)
# systemd-analyze, which checks the unit in deploy/ (tests/it/deploy.rs).
[ -x /usr/bin/systemd-analyze ] || missing+=(systemd)
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
# The scheduling tests read times in Europe/London (TIME_ZONE) from the system's zone files.
[ -f /usr/share/zoneinfo/Europe/London ] || missing+=(tzdata)
# mold, the linker scripts/linker.sh uses when it is there: the suite's large
# debug binaries link in a fraction of GNU ld's time.
[ -x /usr/libexec/mold/ld ] || missing+=(mold)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}…"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Mail::DKIM verifies Ed25519 signatures from 1.20230630 on, and Debian 12's
# is 1.20230212. Where the system's is older, Debian 13's package (pure Perl,
# every dependency already in Debian 12) is unpacked, not installed, into
# target/test-tools/perl5, which tests/it/dkim_verifiers.rs puts first on
# Perl's path; the system's Perl (and SpamAssassin) are left as they are.
mail_dkim_lib=target/test-tools/perl5
if ! perl -MMail::DKIM::Algorithm::ed25519_sha256 -e 1 >/dev/null 2>&1 \
    && ! perl -I"$mail_dkim_lib/usr/share/perl5" -MMail::DKIM::Algorithm::ed25519_sha256 -e 1 >/dev/null 2>&1; then
  echo "unpacking Debian 13's libmail-dkim-perl (Ed25519) into $mail_dkim_lib…"
  deb=$(mktemp)
  curl -fsSL -o "$deb" \
    https://deb.debian.org/debian/pool/main/libm/libmail-dkim-perl/libmail-dkim-perl_1.20240923-1_all.deb
  echo "fd71159c4bc441c8ec707a81768a1ab6ee043d163b24ad4ba40230d3972717a8  $deb" | sha256sum --check --quiet
  rm -rf "$mail_dkim_lib" && mkdir -p "$mail_dkim_lib" && dpkg-deb -x "$deb" "$mail_dkim_lib"
  rm -f "$deb"
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

# mdBook, for the user guide in docs/: Debian's package where the release
# offers one (Debian 12 does not), else the pinned release from crates.io,
# without its web server and file watcher, which `mdbook build` does not use
# (a one-time build of about 6 minutes on two busy cores, 3 minutes of CPU).
if ! command -v mdbook >/dev/null 2>&1; then
  $sudo apt-get update -qq
  if apt-cache policy mdbook 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    echo "installing mdbook…"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq mdbook >/dev/null
  else
    echo "installing mdbook from crates.io…"
    cargo install --locked --quiet mdbook --version 0.5.4 --no-default-features
  fi
fi

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
# The docs: the user guide builds, and every internal link and #anchor in it,
# in README.md and in CONTRIBUTING.md leads somewhere (nothing is fetched).
mdbook build docs 2>&1 | { grep -v '^ INFO ' || true; }
python3 tests/support/docs_links.py --book target/book --src docs/src README.md CONTRIBUTING.md
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Four tests at a time on two cores: most of the integration tests wait on
# servers and processes rather than compute (measured in BENCHMARKS.md).
RUST_TEST_THREADS=${RUST_TEST_THREADS:-4} cargo test --locked 2>&1 | tee "$log"

# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
