#!/usr/bin/env bash
# Starts Strata: installs what is missing, builds and starts the companion (the registry
# relay) on 127.0.0.1:8787, then `trunk serve` on http://127.0.0.1:8080 with /api proxied
# to the companion. Extra arguments go to the companion, e.g.
#   scripts/dev.sh --insecure-registry 127.0.0.1:5000
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -p strata-companion
target/release/strata-companion --listen 127.0.0.1:8787 "$@" &
companion=$!
trap 'kill $companion 2>/dev/null || true' EXIT INT TERM
echo "Strata: open http://127.0.0.1:8080/ (companion on http://127.0.0.1:8787)"
trunk serve --offline
