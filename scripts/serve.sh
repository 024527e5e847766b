#!/usr/bin/env bash
# Installs what is missing, builds the app and serves it on http://127.0.0.1:8080
# (opens on the lesson list; the first lesson is /lesson/replication-lag).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
cargo fetch --quiet
echo "Distlab: building, then serving on http://127.0.0.1:8080 (Ctrl-C to stop)"
exec trunk serve --release --offline
