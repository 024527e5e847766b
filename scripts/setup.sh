#!/usr/bin/env bash
# Installs whatever is missing to build, serve and test Distlab. Checks before installing,
# so on a warm machine it does nothing but a few version checks.
# Usage: scripts/setup.sh [--browser] [--postgres]
#   --browser   also Chromium (Debian) and playwright-core, for browser tests
#   --postgres  also PostgreSQL 15 (Debian), started on 127.0.0.1:5432, for differential tests
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

want_browser=0
want_postgres=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    --postgres) want_postgres=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# 1. wasm target for the Rust toolchain.
if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  say "adding Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2. Trunk, pinned (0.22 needs a newer rustc than this machine has).
if ! trunk --version 2>/dev/null | grep -q '0.21.14'; then
  say "installing trunk 0.21.14 (takes ~15 minutes once)"
  cargo install trunk --version 0.21.14 --locked
fi

# 3. wasm-bindgen CLI equal to the crate version in Cargo.lock.
if ! wasm-bindgen --version 2>/dev/null | grep -q '0.2.130'; then
  say "installing wasm-bindgen-cli 0.2.130"
  cargo install wasm-bindgen-cli --version 0.2.130
fi

# 4. npm packages: binaryen (wasm-opt 132), playwright-core, axe-core (accessibility checks).
if [ ! -x node_modules/.bin/wasm-opt ] || { [ "$want_browser" = 1 ] && { [ ! -d node_modules/playwright-core ] || [ ! -f node_modules/axe-core/axe.min.js ]; }; }; then
  say "installing npm packages (binaryen, playwright-core, axe-core)"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

# 5. Chromium for browser tests (Debian's; Playwright never downloads its own).
if [ "$want_browser" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  say "installing chromium from apt"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# 6. PostgreSQL 15 for the differential tests of the transactions engine.
if [ "$want_postgres" = 1 ]; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! pg_lsclusters 2>/dev/null | grep -q '^15 '; then
    say "installing postgresql from apt"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  if ! pg_lsclusters 2>/dev/null | grep -q '^15 .*online'; then
    say "starting PostgreSQL 15"
    pg_ctlcluster 15 main start
  fi
  # A password for TCP connections from the tests (local machine only).
  su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'distlab'\"" >/dev/null
  # The differential tests' database, with the C collation the simulator's text order
  # follows (whatever locale the cluster was created with).
  if ! su postgres -c "psql -Atc \"select 1 from pg_database where datname = 'distlab'\"" | grep -q 1; then
    su postgres -c "psql -qc \"CREATE DATABASE distlab TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'\"" >/dev/null
  fi
fi

say "toolchain ready"
