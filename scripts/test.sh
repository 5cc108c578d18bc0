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

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
