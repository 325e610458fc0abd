#!/usr/bin/env bash
# Fuzzes every target in fuzz/ for SECONDS each (default 60), on the stable toolchain:
# RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags, and `-s none` builds without a
# sanitizer (so leaks are not detected; crashes, panics, OOM and timeouts are).
# Each corpus (fuzz/corpus/TARGET, git-ignored) is seeded from the captured real documents
# in shared/tests/data/real and from small inputs written here. Fails if any target
# crashes, and prints the path of the input that did it.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-60}
shift || true
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "[fuzz] installing cargo-fuzz (from source)"
    cargo install cargo-fuzz --locked
fi

cd fuzz
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi
if [ "${#targets[@]}" -eq 0 ]; then
    echo "[fuzz] no targets found (cargo fuzz list)" >&2
    exit 1
fi

echo "[fuzz] building ${#targets[@]} targets"
build_start=$(date +%s)
cargo fuzz build -s none -a
echo "[fuzz] built in $(( $(date +%s) - build_start ))s"

real="$root/shared/tests/data/real"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# seed TARGET FILE...: copies files into the target's corpus (names are content hashes,
# as libFuzzer names its own, so re-seeding adds nothing).
seed() {
    local target=$1 dir="$root/fuzz/corpus/$1" f
    shift
    mkdir -p "$dir"
    for f in "$@"; do
        [ -f "$f" ] && cp "$f" "$dir/$(sha1sum <"$f" | cut -c1-40)"
    done
    return 0
}
# seed_text TARGET LINE...: one input per line.
seed_text() {
    local target=$1 line n=0
    shift
    for line in "$@"; do
        n=$((n + 1))
        printf '%s' "$line" >"$work/text-$n"
        seed "$target" "$work/text-$n"
    done
}

hex=$(printf x | sha256sum | cut -c1-64)
references=("nginx" "nginx:1.27" "docker.io/library/alpine:3.20" "ghcr.io/o/r@sha256:$hex"
    "localhost:5000/a/b:v1@sha256:$hex" "[::1]:5000/x:y" "oci:demo" "oci:ci-out:v1.2"
    "oci:demo@sha256:$hex" "docker-daemon:alpine:3.20" "docker-daemon:sha256:$hex"
    "docker-daemon:quay.io/x/y:z@sha256:$hex")
seed_text reference "${references[@]}"
seed_text image_source "${references[@]}"
seed_text paste "${references[@]}" "docker pull nginx:1.27" "  'quay.io/org/app:v1'  " \
    $'# syntax=docker/dockerfile:1\nFROM --platform=$BUILDPLATFORM golang:1.23 AS build\nRUN make' \
    "podman pull --arch arm64 docker.io/library/alpine" "skopeo inspect docker://ghcr.io/o/r:v1" \
    "http://127.0.0.1:8080/image/docker.io/library/nginx@sha256:$hex?tab=files&path=%2Fetc"
# browse_listing's first byte picks: 0 tags/list, 1 _catalog, 2 a Link header, 3 tag lines.
printf '\0{"name":"a/b","tags":["v1","v10","v2","latest","sha256-%s.sig","sha256-%s.att"]}' "$hex" "$hex" >"$work/tags"
printf '\1{"repositories":["library/nginx","team/api",null]}' >"$work/catalog"
printf '\2</v2/a/tags/list?n=2&last=v2>; rel="next", <x>; rel=prev; title="a,b"' >"$work/link"
printf '\3v1.2.3\nv1.10.0\n1.*\n[a-\nsha256-%s\n' "$hex" >"$work/lines"
seed browse_listing "$work/tags" "$work/catalog" "$work/link" "$work/lines"

# layer_toc's first byte picks: 0 an eStargz tail, 1 a zstd:chunked manifest, 2 a TOC's
# JSON, 3 a manifest-position annotation.
toc_json='{"version":1,"entries":[{"name":"bin/","type":"dir","mode":16877},{"name":"bin/sh","type":"reg","size":9,"mode":33261,"offset":126},{"name":"bin/sh","type":"chunk","chunkOffset":4,"chunkSize":5},{"name":"lib/x","type":"symlink","linkName":"../bin/sh"},{"name":".wh.gone","type":"reg"}]}'
{ printf '\2'; printf '%s' "$toc_json"; } >"$work/toc-json"
{ printf '\1'; printf '%s' "$toc_json" | zstd -q -c; } >"$work/toc-zstd"
{ printf '\0'; printf '%s' "$toc_json" | gzip -c; printf '\37\213\10\4\0\0\0\0\0\377\32\0SG\26\0%016xSTARGZ\1\0\0\377\377\0\0\0\0\0\0\0\0' 0; } >"$work/toc-estargz"
printf '\3900:80:300:1' >"$work/toc-position"
seed layer_toc "$work/toc-json" "$work/toc-zstd" "$work/toc-estargz" "$work/toc-position"

# Documents as a registry serves them; manifest_document's first byte picks the
# Content-Type (0: none).
for f in "$real"/1-index/* "$real"/2-manifest/* "$real"/4-attestation/*manifest*.json \
    "$real"/5-signing/*manifest*.json "$real"/5-signing/referrers*.json; do
    { printf '\0'; cat "$f"; } >"$work/doc"
    seed manifest_document "$work/doc"
done
seed image_config "$real"/3-config/* "$real"/4-attestation/*config*.json
seed attestation_statement "$real"/4-attestation/*intoto*.json
for f in "$real"/4-attestation/*intoto*.json; do
    # The same statement in a DSSE envelope, and its bare predicate.
    jq -c '{payloadType: "application/vnd.in-toto+json", payload: (tojson | @base64),
            signatures: [{keyid: "k", sig: "c2ln"}]}' "$f" >"$work/dsse"
    seed attestation_statement "$work/dsse"
    jq -c '.predicate' "$f" >"$work/predicate"
    seed sbom_documents "$work/predicate"
done
printf '%s' '{"bomFormat":"CycloneDX","specVersion":"1.5","metadata":{"tools":[{"name":"syft"}]},"components":[{"bom-ref":"a","type":"library","name":"zlib","version":"1.3","purl":"pkg:apk/alpine/zlib@1.3?arch=x86_64","licenses":[{"license":{"id":"Zlib"}}],"properties":[{"name":"syft:location:0:path","value":"/lib/apk/db/installed"}]}]}' >"$work/cdx"
seed sbom_documents "$work/cdx"
seed cosign_payload "$real"/5-signing/*simplesigning*.json
printf -- '-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n' >"$work/pem"
seed cosign_payload "$work/pem"

awk 'NF && !/^#/' "$real/6-auth/www-authenticate-samples.txt" | {
    n=0
    while IFS= read -r line; do
        n=$((n + 1))
        printf '%s' "$line" >"$work/auth-$n"
        seed www_authenticate "$work/auth-$n"
    done
}

# Tars: ustar, GNU long names and PAX, plain and compressed, for the layer readers and
# the outer-tar table.
mkdir -p "$work/tree/etc/deep/$(printf 'd%.0s' {1..60})" "$work/tree/bin"
cp "$real/3-config/docker-config-httpd-2.4.23.json" "$work/tree/etc/config.json"
printf 'x' >"$work/tree/etc/deep/$(printf 'd%.0s' {1..60})/$(printf 'f%.0s' {1..80})"
ln -sf ../etc/config.json "$work/tree/bin/link"
touch "$work/tree/etc/.wh.gone" "$work/tree/bin/.wh..wh..opq"
for format in ustar gnu posix; do
    tar --format=$format -C "$work/tree" -cf "$work/layer-$format.tar" . 2>/dev/null || continue
    seed layer_tar "$work/layer-$format.tar"
    seed archive_tar_table "$work/layer-$format.tar"
    gzip -9c "$work/layer-$format.tar" >"$work/layer-$format.tar.gz"
    seed layer_gzip_tar "$work/layer-$format.tar.gz"
    zstd -q -19 -c "$work/layer-$format.tar" >"$work/layer-$format.tar.zst"
    seed layer_zstd_tar "$work/layer-$format.tar.zst"
done

# docker save's manifest.json, NUL, the config, NUL, the archive's member paths; and an
# OCI layout's marker and index.
config="$real/3-config/docker-config-httpd-2.4.23.json"
config_hex=$(sha256sum <"$config" | cut -c1-64)
layers=$(jq -r '.rootfs.diff_ids | to_entries | map("l\(.key)/layer.tar") | @json' "$config")
{
    printf '[{"Config":"%s.json","RepoTags":["httpd:2.4.23"],"Layers":%s}]\0' "$config_hex" "$layers"
    cat "$config"
    printf '\0%s.json\n' "$config_hex"
    jq -r '.rootfs.diff_ids | to_entries[] | "./l\(.key)/layer.tar"' "$config"
    printf 'blobs/sha256/%s\n' "$config_hex"
} >"$work/save"
seed archive_manifests "$work/save"
printf '{"imageLayoutVersion":"1.0.0"}' >"$work/marker"
jq -c --arg d "sha256:$config_hex" '.manifests[0].annotations["org.opencontainers.image.ref.name"] = "latest"' \
    "$real/1-index/buildkit-oci-index-with-attestation.ghcr.json" >"$work/index" 2>/dev/null || true
seed archive_manifests "$work/marker" "$work/index"

failed=()
summary=()
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    log="artifacts/$target.log"
    start=$(date +%s)
    status=0
    cargo fuzz run "$target" -s none -a -- -max_total_time="$seconds" -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
    took=$(( $(date +%s) - start ))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ "$status" -eq 0 ]; then
        summary+=("[fuzz] $target: ${runs:-?} runs in ${took}s, ok")
    else
        input=$(sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' "$log" | tail -1)
        summary+=("[fuzz] $target: ${runs:-?} runs in ${took}s, FAILED (exit $status)${input:+: $input}")
        failed+=("$target")
        echo "[fuzz] $target failed; log: fuzz/$log"
        grep -E 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | head -5 || true
        if [ -n "$input" ]; then
            echo "[fuzz] reproduce: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run $target -s none -a $input"
        fi
    fi
    echo "${summary[-1]}"
done

echo
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "[fuzz] FAILED: ${failed[*]}"
    exit 1
fi
