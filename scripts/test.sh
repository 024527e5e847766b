#!/usr/bin/env bash
# Installs what is missing and runs every test: the engine and CLI natively, the app's own
# unit tests, then the release build in Chromium (Playwright), then the size/speed report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
export DISTLAB_TESTDATA="${DISTLAB_TESTDATA:-$(cd .. && pwd)/shared/testdata}"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== native tests (engine, lessons, CLI, app logic)"
cargo test --workspace --quiet 2>&1 | tee /tmp/distlab-cargo-test.log | grep -E "^(test result|running|error|warning: unused)|FAILED|panicked" || true
if grep -qE "FAILED|^error" /tmp/distlab-cargo-test.log || ! grep -q "^test result" /tmp/distlab-cargo-test.log; then
  cat /tmp/distlab-cargo-test.log; exit 1
fi

echo "== release build (trunk)"
cargo fetch --quiet
trunk build --release --offline >/tmp/distlab-trunk.log 2>&1 || { cat /tmp/distlab-trunk.log; exit 1; }

echo "== browser tests (Playwright + Chromium, against dist/)"
node --test --test-concurrency=1 e2e/

echo "== report"
scripts/report.sh
