#!/usr/bin/env bash
# The layer pipeline benchmark, in one run (prints numbers; never pass/fail):
#  1. native engine vs the one-pass CLI pipeline (tee >(sha256sum) | gzip -dc | tee >(sha256sum) | tar -t)
#     on a gzip'd tar of real files (shared/examples/layer_bench.rs);
#  2. the same engine in wasm, release build, in headless Chromium, on the same bytes
#     (shared/tests/wasm_bench.rs), without and with simd128;
#  3. end to end: the real app (trunk build --release) indexing a Debian-sized image
#     (one ~100 MB gzip layer of /usr files + two small layers) from a real Distribution
#     registry on loopback, navigation to data-strata-state=ready, next to the CLI pipeline
#     on the same blobs, with the longest main-thread task, the peak memory above the idle
#     browser and the revisit time (tests/tests/browser_layers.rs, bench_debian_sized_image);
#  4. memory on a big layer: one layer of at least 500 MB gzip of files under /usr/lib,
#     peak memory above the idle browser against the bound, and its time next to the CLI
#     pipeline (bench_big_layer_memory).
# Usage: scripts/bench.sh [MB of files for the engine layer, default 300]
# Env: STRATA_BENCH_E2E_MB (files for the e2e Debian-sized layer, default 280),
#      STRATA_BENCH_BIG_MB (files for the big layer, default 1600), STRATA_BENCH_SKIP_E2E=1,
#      STRATA_BENCH_SKIP_BIG=1.
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-300}"
work="$(mktemp -d /tmp/strata-bench.XXXXXX)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== 1. native engine and CLI pipeline"
STRATA_BENCH_KEEP="$work" cargo run --quiet --release -p strata-shared --example layer_bench -- /usr/share "$mb" \
  | tee "$work/native.txt"

echo
echo "== 2. the engine in wasm (release) in headless Chromium, same blob"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 - "$work" "$port" <<'PY' &
import functools, http.server, sys
class Cors(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()
    def log_message(self, *a):
        pass
handler = functools.partial(Cors, directory=sys.argv[1])
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), handler).serve_forever()
PY
server_pid=$!
export STRATA_BENCH_URL="http://127.0.0.1:$port/layer.tar.gz"
STRATA_BENCH_DIGEST="$(cat "$work/digest")"
STRATA_BENCH_DIFF_ID="$(cat "$work/diff_id")"
export STRATA_BENCH_DIGEST STRATA_BENCH_DIFF_ID
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=900
wasm_bench() {
  cargo test --release -p strata-shared --target wasm32-unknown-unknown --test wasm_bench \
    -- --include-ignored --nocapture 2>&1 | grep '^ *WASM' | sed 's/^ *//'
}
wasm_bench | tee "$work/wasm.txt"
echo "-- with RUSTFLAGS=-C target-feature=+simd128"
RUSTFLAGS="-C target-feature=+simd128" wasm_bench | tee "$work/wasm_simd.txt"
kill "$server_pid" 2>/dev/null || true
server_pid=""

native_s="$(sed -n 's/^engine, one thread, all stages: *\([0-9.]*\) s.*/\1/p' "$work/native.txt")"
split_s="$(sed -n 's/^engine, two threads (page split): *\([0-9.]*\) s.*/\1/p' "$work/native.txt")"
cli_s="$(sed -n 's/^CLI pipeline total: *\([0-9.]*\) s.*/\1/p' "$work/native.txt")"
wasm_s="$(sed -n 's/^WASM_ENGINE_SECONDS //p' "$work/wasm.txt")"
simd_s="$(sed -n 's/^WASM_ENGINE_SECONDS //p' "$work/wasm_simd.txt")"
echo
echo "== ratios (time, lower is faster; one thread unless said)"
python3 - "$native_s" "$split_s" "$cli_s" "$wasm_s" "$simd_s" <<'PY'
import sys
native, split, cli, wasm, simd = (float(x) if x else float("nan") for x in sys.argv[1:])
print(f"wasm / native engine:          {wasm / native:.2f}")
print(f"wasm+simd128 / native engine:  {simd / native:.2f}")
print(f"wasm / CLI pipeline:           {wasm / cli:.2f}")
print(f"wasm+simd128 / CLI pipeline:   {simd / cli:.2f}")
print(f"native engine / CLI pipeline:  {native / cli:.2f}")
print(f"native two threads / CLI:      {split / cli:.2f}")
PY

if [ "${STRATA_BENCH_SKIP_E2E:-0}" = 1 ]; then exit 0; fi
echo
echo "== 3. end to end in the real app (trunk build --release), Debian-sized image"
trunk build --offline --release --dist "$work/dist" >"$work/trunk.log" 2>&1 \
  || { tail -30 "$work/trunk.log"; exit 1; }
STRATA_DIST="$work/dist" cargo test --quiet -p strata-tests --test browser_layers \
  -- --ignored --nocapture bench_debian_sized_image 2>&1 | grep '^E2E'

if [ "${STRATA_BENCH_SKIP_BIG:-0}" = 1 ]; then exit 0; fi
echo
echo "== 4. memory on a big layer (at least 500 MB gzip of /usr/lib files)"
STRATA_DIST="$work/dist" cargo test --quiet -p strata-tests --test browser_layers \
  -- --ignored --nocapture bench_big_layer_memory 2>&1 | grep '^E2E'
