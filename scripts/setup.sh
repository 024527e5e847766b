#!/usr/bin/env bash
# Installs whatever is missing to build, serve and test Distlab. Checks before installing,
# so on a warm machine it does nothing but a few version checks.
# Usage: scripts/setup.sh [--browser]   (--browser also installs Chromium and Playwright)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

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

# 4. npm packages: binaryen (wasm-opt 132), playwright-core.
if [ ! -x node_modules/.bin/wasm-opt ] || { [ "$want_browser" = 1 ] && [ ! -d node_modules/playwright-core ]; }; then
  say "installing npm packages (binaryen, playwright-core)"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

# 5. Chromium for browser tests (Debian's; Playwright never downloads its own).
if [ "$want_browser" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  say "installing chromium from apt"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

say "toolchain ready"
