#!/usr/bin/env bash
# Relay benchmark: the companion (release build) relaying the real Distribution registry
# on loopback, against fetching from that registry directly.
#
#   scripts/bench-relay.sh [BLOBS] [MB]      (default: 50 concurrent blobs of 100 MB)
#
# Prints throughput direct and relayed for BLOBS concurrent downloads of an MB-megabyte
# blob, their ratio (relayed time / direct time: 1.00 is no overhead), the one-blob
# overhead ratio (best of 5), and the companion's peak RSS. Clients are curl processes
# writing to /dev/null, so the client side costs little CPU; on a small machine client,
# relay and registry still compete for the same cores.
set -euo pipefail
cd "$(dirname "$0")/.."

BLOBS="${1:-50}"
MB="${2:-100}"
ROUNDS="${ROUNDS:-3}"
REGISTRY_BIN=/usr/bin/docker-registry

log() { printf '[bench] %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { log "$1 is not installed: run scripts/setup.sh"; exit 1; }; }
need curl
need sha256sum
[ -x "$REGISTRY_BIN" ] || { log "$REGISTRY_BIN is not installed: run scripts/setup.sh"; exit 1; }

log "building the companion (release)"
cargo build --release -q -p strata-companion --bin strata-companion
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
COMPANION="$target_dir/release/strata-companion"

work="$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A port nothing answers on (the registry start is checked below).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/" || { echo "$p"; return; }
  done
}
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
wait_http() { # URL
  for _ in $(seq 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done
  log "no answer from $1"; return 1
}

# 1. The registry, with one MB-megabyte blob.
port="$(free_port)"
mkdir -p "$work/storage"
cat >"$work/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: "$work/storage"
http:
  addr: "127.0.0.1:$port"
  secret: strata-bench
EOF
"$REGISTRY_BIN" serve "$work/config.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port/v2/"
head -c "$((MB * 1000000))" /dev/urandom >"$work/blob"
digest="sha256:$(sha256sum "$work/blob" | cut -d' ' -f1)"
location="$(curl -s -D - -o /dev/null -X POST "http://127.0.0.1:$port/v2/bench/blob/blobs/uploads/" \
  | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')"
case "$location" in http*) ;; *) location="http://127.0.0.1:$port$location" ;; esac
case "$location" in *\?*) sep='&' ;; *) sep='?' ;; esac
status="$(curl -s -o /dev/null -w '%{http_code}' -T "$work/blob" \
  -H 'Content-Type: application/octet-stream' "$location${sep}digest=$digest")"
[ "$status" = 201 ] || { log "blob upload answered $status"; exit 1; }
rm "$work/blob"
log "registry on 127.0.0.1:$port serves $digest ($MB MB)"

# 2. The companion, a separate process so its RSS is its own.
NO_COLOR=1 RUST_LOG=warn,strata_companion=info "$COMPANION" --listen 127.0.0.1:0 --anonymous \
  --insecure-registry "127.0.0.1:$port" >"$work/companion.log" 2>&1 &
companion_pid=$!
pids+=("$companion_pid")
relay=""
for _ in $(seq 200); do
  relay="$(grep -o 'listening on http://[0-9.:]*' "$work/companion.log" | head -1 | sed 's|.*http://||')" || true
  [ -n "$relay" ] && break
  sleep 0.05
done
[ -n "$relay" ] || { log "companion did not start:"; cat "$work/companion.log" >&2; exit 1; }

direct_url="http://127.0.0.1:$port/v2/bench/blob/blobs/$digest"
relay_url="http://$relay/api/registry/127.0.0.1:$port/v2/bench/blob/blobs/$digest"

now() { date +%s.%N; }
# Fetches URL N times at once; prints the seconds taken; fails unless every download is
# a 200 of the whole blob.
fetch_many() { # N URL
  local n="$1" url="$2" out="$work/sizes" start end p
  local jobs=()
  : >"$out"
  start="$(now)"
  for _ in $(seq "$n"); do
    # The companion's /api/ routes want the app's header (harmless on the direct URL).
    curl -s -o /dev/null -H 'X-Strata-Client: 1' -w '%{http_code} %{size_download}\n' "$url" >>"$out" &
    jobs+=($!)
  done
  wait "${jobs[@]}"
  end="$(now)"
  local bad
  bad="$(grep -vc "^200 $((MB * 1000000))\$" "$out" || true)"
  [ "$bad" = 0 ] || { log "$bad of $n downloads of $url failed:"; sort "$out" | uniq -c >&2; exit 1; }
  calc "$end - $start"
}
min() { printf '%s\n' "$@" | sort -g | head -1; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

fetch_many 1 "$direct_url" >/dev/null # warm the page cache
log "one blob, best of 5"
one_direct=(); one_relayed=()
for _ in 1 2 3 4 5; do
  one_direct+=("$(fetch_many 1 "$direct_url")")
  one_relayed+=("$(fetch_many 1 "$relay_url")")
done
log "$BLOBS concurrent blobs, median of $ROUNDS rounds"
many_direct=(); many_relayed=()
for _ in $(seq "$ROUNDS"); do
  many_direct+=("$(fetch_many "$BLOBS" "$direct_url")")
  many_relayed+=("$(fetch_many "$BLOBS" "$relay_url")")
done

d1="$(min "${one_direct[@]}")"; r1="$(min "${one_relayed[@]}")"
dn="$(median "${many_direct[@]}")"; rn="$(median "${many_relayed[@]}")"
rss_kib="$(awk '/^VmHWM:/ {print $2}' "/proc/$companion_pid/status")"
total_mb="$((BLOBS * MB))"
printf 'relay benchmark: %s concurrent blobs of %s MB, %s cores\n' "$BLOBS" "$MB" "$(nproc)"
printf '  direct   %8.0f MB/s  (%.2f s)\n' "$(calc "$total_mb / $dn")" "$dn"
printf '  relayed  %8.0f MB/s  (%.2f s)\n' "$(calc "$total_mb / $rn")" "$rn"
printf '  ratio relayed/direct time: %.3f\n' "$(calc "$rn / $dn")"
printf '  one blob: direct %.3f s, relayed %.3f s, ratio %.3f\n' "$d1" "$r1" "$(calc "$r1 / $d1")"
printf '  companion peak RSS: %d MiB\n' "$((rss_kib / 1024))"
