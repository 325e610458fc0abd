#!/usr/bin/env bash
# The compare benchmark (issue 15), in one run; prints numbers, never pass/fail:
#  1. end to end in headless Chromium: two Debian-sized images sharing a base layer of
#     real /usr files and differing by ~2,000 files, from navigation to a ready diff,
#     next to opening B alone, and the tree diff's time in wasm on the page
#     (tests/tests/bench_compare.rs);
#  2. the tree diff natively on 20k-entry trees (shared/examples/tree_diff_bench.rs);
#  3. the layer pipeline natively with and without the per-file content hash
#     (shared/examples/layer_bench.rs; the "content hash" lines).
# Env: STRATA_BENCH_E2E_MB (files for the shared base layer, default 280),
# STRATA_BENCH_DIST (an app already built with `trunk build --release`; otherwise one is
# built in a temporary directory), STRATA_BENCH_ENGINE_MB (layer_bench, default 300).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
work="$(mktemp -d /tmp/strata-bench-compare.XXXXXX)"
trap 'rm -rf "$work"' EXIT
dist="${STRATA_BENCH_DIST:-}"
if [ -z "$dist" ]; then
  dist="$work/dist"
  trunk build --offline --release --dist "$dist" >"$work/trunk.log" 2>&1 \
    || { tail -30 "$work/trunk.log"; exit 1; }
fi
echo "== 1. compare end to end (release app, headless Chromium)"
STRATA_DIST="$dist" cargo test --release --quiet -p strata-tests --test bench_compare \
  -- --ignored --nocapture 2>&1 | grep -E '^COMPARE|panicked|Error' || true
echo
echo "== 2. tree diff, native"
cargo run --quiet --release -p strata-shared --example tree_diff_bench
echo
echo "== 3. layer pipeline with and without the content hash, native"
cargo run --quiet --release -p strata-shared --example layer_bench -- /usr/share "${STRATA_BENCH_ENGINE_MB:-300}" \
  | grep -iE 'hash|engine|CLI'
