#!/usr/bin/env bash
# Runs every test: format and lints, native unit and integration tests (a real
# Distribution registry, skopeo, GNU tar/gzip/pigz/zstd), and the real-browser tests
# (headless Chromium over WebDriver against the app built by Trunk).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "setup"
scripts/setup.sh

step "format"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --exclude strata-web --all-targets -- -D warnings
cargo clippy -p strata-web --target wasm32-unknown-unknown -- -D warnings

step "shared builds for wasm32"
cargo build -p strata-shared --target wasm32-unknown-unknown

step "build the app (trunk, dev profile)"
trunk build --offline

step "engine and app unit tests in headless Chromium (wasm-bindgen-test)"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner CHROMEDRIVER=/usr/bin/chromedriver
cargo test -p strata-shared --target wasm32-unknown-unknown --test wasm_engine
cargo test -p strata-web --target wasm32-unknown-unknown --lib

step "native and browser tests"
STRATA_DIST="$PWD/dist" cargo test --workspace --exclude strata-web

step "fuzz every target for a few seconds (stable toolchain)"
scripts/fuzz.sh 5

step "done"
