#!/usr/bin/env bash
# Installs what is missing and runs every test: the engine and CLI natively, the app's own
# unit tests, then the release build in Chromium (Playwright), then the size/speed report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser --postgres
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
export DISTLAB_TESTDATA="${DISTLAB_TESTDATA:-$(cd .. && pwd)/shared/testdata}"
export DISTLAB_POSTGRES_URL="${DISTLAB_POSTGRES_URL:-postgres://postgres:distlab@127.0.0.1:5432/distlab}"

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
node --test --test-concurrency=1 e2e/ 2>&1 | tee /tmp/distlab-e2e.log
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1

echo "== report"
scripts/report.sh

# One closing line for the whole suite: native (cargo) and browser (node --test) counts.
native_pass=$(grep -Eo "^test result: ok\. [0-9]+ passed" /tmp/distlab-cargo-test.log | awk '{s+=$4} END {print s+0}')
e2e_pass=$(grep -Eo "^# pass [0-9]+" /tmp/distlab-e2e.log | awk '{print $3}')
e2e_fail=$(grep -Eo "^# fail [0-9]+" /tmp/distlab-e2e.log | awk '{print $3}')
echo "tests: $((native_pass + ${e2e_pass:-0})) passed, ${e2e_fail:-0} failed"
