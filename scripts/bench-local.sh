#!/usr/bin/env bash
# Local-image benchmarks (issue 11), in one run; prints numbers, never pass/fail:
#  1. a Debian-sized `docker save` archive (~280 MB of real /usr files plus two small
#     layers) opened in the browser vs `tar -xf` + the one-pass CLI pipeline
#     (`tee >(sha256sum) < layer | tar -t`) on the extracted layers;
#  2. the same image from a real Docker Engine (dockerd, vfs) vs `docker save | tar -x` + the
#     same pipeline;
#  3. the browser's peak memory (summed PSS of Chromium's processes) while it opens a 2 GB
#     archive, against its largest layer.
# Needs root for dockerd. Env: STRATA_BENCH_E2E_MB (default 280), STRATA_BENCH_ARCHIVE_MB
# (default 2048), STRATA_BENCH_DIST (an app already built with `trunk build --release`;
# otherwise one is built in a temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
work="$(mktemp -d /tmp/strata-bench-local.XXXXXX)"
trap 'rm -rf "$work"' EXIT
dist="${STRATA_BENCH_DIST:-}"
if [ -z "$dist" ]; then
  dist="$work/dist"
  trunk build --offline --release --dist "$dist" >"$work/trunk.log" 2>&1 \
    || { tail -30 "$work/trunk.log"; exit 1; }
fi
for t in bench_archive_and_daemon bench_archive_memory; do
  STRATA_DIST="$dist" cargo test --release --quiet -p strata-tests --test bench_local \
    -- --ignored --nocapture --exact "$t" 2>&1 | grep -E '^LOCAL|panicked|Error' || true
done
