#!/usr/bin/env bash
# Prints the release bundle's size (wasm raw and gzip) and the engine benchmark.
# Targets (from the foundation issue): wasm ≤ 400 KB gzip; step back < 16 ms natively.
# Browser timings (first diagram, autoplay frame p95) are printed by the browser tests
# into e2e/artifacts/perf.json and repeated here when present.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
wasm=$(ls dist/*.wasm 2>/dev/null | head -1 || true)
if [ -n "$wasm" ]; then
  raw=$(stat -c %s "$wasm"); gz=$(gzip -9 -c "$wasm" | wc -c)
  js=$(ls dist/*.js | head -1); jsgz=$(gzip -9 -c "$js" | wc -c)
  printf 'bundle.wasm_bytes %d\nbundle.wasm_gzip_bytes %d (target <= 409600)\nbundle.js_gzip_bytes %d\n' "$raw" "$gz" "$jsgz"
else
  echo "bundle: dist/ not built (run trunk build --release --offline)"
fi
cargo run --quiet --release -p distlab-cli -- bench
# The linearizability checker on Porcupine's etcd and kv histories (natively); the same
# workload in WASM is timed by e2e/perf.test.mjs (lin_wasm_* below).
if [ -d "${DISTLAB_TESTDATA:-../shared/testdata}/porcupine" ]; then
  cargo run --quiet --release -p distlab-cli -- check bench --testdata "${DISTLAB_TESTDATA:-../shared/testdata}"
else
  echo "linearizability bench: testdata absent (set DISTLAB_TESTDATA)"
fi
# The differential test against PostgreSQL (crates/cli/tests/cli/sql_diff.rs) keeps its output.
if [ -f target/tmp/sql-fuzz.txt ]; then
  echo "sql fuzz (seed 1, 1,000 generated scripts per level, vs PostgreSQL):"
  grep "generated scripts agree" target/tmp/sql-fuzz.txt | sed 's/^/  /'
fi
if [ -f e2e/artifacts/perf.json ]; then
  echo "browser: $(cat e2e/artifacts/perf.json)"
fi
