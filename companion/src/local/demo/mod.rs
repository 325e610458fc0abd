//! The built-in demo image, `oci:demo`: a real OCI image built here in memory, byte for
//! byte the same on every machine and with no network, so a first-time user sees every
//! view work. A multi-platform index (amd64, arm64), gzip and zstd layers, a whiteout and
//! an opaque directory, text and an image file, history with empty layers and labels,
//! BuildKit-style SBOM and provenance attestations, and a cosign signature.

mod attest;
mod files;

use serde_json::{Value, json};
use strata_shared::Digest;
use strata_shared::archive::REF_NAME;

use super::MemoryLayout;

use attest::public_key_pem;

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
const IN_TOTO: &str = "application/vnd.in-toto+json";
const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The annotation on the demo's index that carries the public key of its signature.
pub(crate) const PUBLIC_KEY_ANNOTATION: &str = "dev.strata.demo.public-key";
const CREATED: &str = "2024-06-01T00:00:00Z";

/// Builds the demo layout.
pub(crate) fn build() -> MemoryLayout {
    let mut layout = MemoryLayout::default();
    let mut platforms = Vec::new();
    for (arch, variant) in [("amd64", None), ("arm64", Some("v8"))] {
        let manifest = platform_image(&mut layout, arch, variant);
        platforms.push(manifest);
    }
    let mut entries: Vec<Value> = platforms.iter().map(|(d, _)| d.clone()).collect();
    for (descriptor, arch) in &platforms {
        entries.push(attestation_manifest(&mut layout, descriptor, arch));
    }
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries,
        "annotations": {
            "org.opencontainers.image.title": "Strata demo",
            "org.opencontainers.image.created": CREATED,
            PUBLIC_KEY_ANNOTATION: public_key_pem(),
        },
    }))
    .expect("json");
    let index_size = index.len();
    let index_digest = layout.put(index);
    let signature = signature_manifest(&mut layout, &index_digest);
    let tagged = |tag: &str, media_type: &str, digest: &Digest, size: usize| {
        json!({"mediaType": media_type, "digest": digest, "size": size,
               "annotations": {REF_NAME: tag}})
    };
    let (amd64, _) = &platforms[0];
    let amd64_digest = Digest::parse(amd64["digest"].as_str().expect("digest")).expect("digest");
    let layout_index = json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [
            tagged("latest", OCI_INDEX, &index_digest, index_size),
            tagged("1.0", OCI_INDEX, &index_digest, index_size),
            tagged("amd64", OCI_MANIFEST, &amd64_digest, amd64["size"].as_u64().unwrap_or(0) as usize),
            tagged(&format!("{}-{}.sig", index_digest.algorithm().name(), index_digest.hex()),
                   OCI_MANIFEST, &signature.0, signature.1),
        ],
    });
    layout.index = serde_json::to_vec(&layout_index).expect("json");
    layout
}

/// One platform's image: three layers, its config and manifest. Returns the manifest's
/// index entry and the architecture.
fn platform_image(layout: &mut MemoryLayout, arch: &str, variant: Option<&str>) -> (Value, String) {
    let [base, config, app] = files::layers(arch);
    let tars = [files::tar(&base), files::tar(&config), files::tar(&app)];
    let compressed = [
        (files::gzip(&tars[0]), LAYER_GZIP),
        (files::zstd(&tars[1]), LAYER_ZSTD),
        (files::gzip(&tars[2]), LAYER_GZIP),
    ];
    let diff_ids: Vec<Digest> = tars.iter().map(|t| Digest::sha256_of(t)).collect();
    let layers: Vec<Value> = compressed
        .into_iter()
        .map(|(bytes, media_type)| {
            let size = bytes.len();
            let digest = layout.put(bytes);
            json!({"mediaType": media_type, "digest": digest, "size": size})
        })
        .collect();
    let step = |by: &str, comment: Option<&str>, empty: bool| {
        let mut s = json!({"created": CREATED, "created_by": by});
        if let Some(c) = comment {
            s["comment"] = json!(c);
        }
        if empty {
            s["empty_layer"] = json!(true);
        }
        s
    };
    let mut platform = json!({"architecture": arch, "os": "linux"});
    if let Some(v) = variant {
        platform["variant"] = json!(v);
    }
    let mut config = json!({
        "created": CREATED, "architecture": arch, "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "DEMO_LEVEL=2"],
            "Cmd": ["/usr/bin/hello"], "WorkingDir": "/app", "User": "1000:1000",
            "ExposedPorts": {"8000/tcp": {}},
            "Labels": {"org.opencontainers.image.title": "Strata demo",
                       "org.opencontainers.image.source": "https://strata.invalid/demo.git",
                       "org.opencontainers.image.version": "1.0"},
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [
            step("ADD base.tar / # buildkit", Some("a small base system"), false),
            step("ENV PATH=/usr/local/bin:/usr/bin:/bin", Some("buildkit.dockerfile.v0"), true),
            step("RUN /bin/sh -c sed -i s/1/2/ /etc/demo.conf && rm /etc/motd.old # buildkit", Some("buildkit.dockerfile.v0"), false),
            step("ARG DEMO_LEVEL=2", Some("buildkit.dockerfile.v0"), true),
            step("LABEL org.opencontainers.image.title=Strata demo", Some("buildkit.dockerfile.v0"), true),
            step("COPY app/ /app/ # buildkit", Some("buildkit.dockerfile.v0"), false),
            step("USER 1000:1000", Some("buildkit.dockerfile.v0"), true),
            step("CMD [\"/usr/bin/hello\"]", Some("buildkit.dockerfile.v0"), true),
        ],
    });
    if let Some(v) = variant {
        config["variant"] = json!(v);
    }
    let annotations = json!({"org.opencontainers.image.created": CREATED});
    let (digest, size) = put_image_manifest(layout, &config, json!(layers), Some(annotations));
    (
        json!({"mediaType": OCI_MANIFEST, "digest": digest, "size": size, "platform": platform}),
        arch.to_owned(),
    )
}

/// BuildKit's attestation manifest for one platform: an SPDX SBOM and SLSA provenance.
fn attestation_manifest(layout: &mut MemoryLayout, subject: &Value, arch: &str) -> Value {
    let subject_digest = subject["digest"].as_str().expect("digest").to_owned();
    let subject_hex = subject_digest.trim_start_matches("sha256:");
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    for (predicate_type, predicate) in [
        (attest::SPDX_DOCUMENT, attest::spdx(arch)),
        (attest::SLSA_V1, attest::slsa(arch)),
    ] {
        let statement = attest::statement("strata-demo", subject_hex, predicate_type, predicate);
        let (digest, size) = put_json(layout, &statement);
        diff_ids.push(digest.clone());
        layers.push(json!({"mediaType": IN_TOTO, "digest": digest, "size": size,
                           "annotations": {"in-toto.io/predicate-type": predicate_type}}));
    }
    let config = json!({
        "architecture": "unknown", "os": "unknown", "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let (digest, size) = put_image_manifest(layout, &config, json!(layers), None);
    json!({"mediaType": OCI_MANIFEST, "digest": digest, "size": size,
           "platform": {"architecture": "unknown", "os": "unknown"},
           "annotations": {"vnd.docker.reference.digest": subject_digest,
                           "vnd.docker.reference.type": "attestation-manifest"}})
}

/// A cosign `.sig` manifest signing the index. Returns its digest and size.
fn signature_manifest(layout: &mut MemoryLayout, index_digest: &Digest) -> (Digest, usize) {
    let (payload, signature) = attest::cosign_signature("oci:demo", &index_digest.to_string());
    let payload_size = payload.len();
    let payload_digest = layout.put(payload);
    let config = json!({
        "architecture": "", "os": "", "config": {}, "created": "0001-01-01T00:00:00Z",
        "rootfs": {"type": "layers", "diff_ids": [payload_digest]},
    });
    let layers = json!([{"mediaType": SIMPLE_SIGNING, "digest": payload_digest, "size": payload_size,
                         "annotations": {"dev.cosignproject.cosign/signature": signature}}]);
    put_image_manifest(layout, &config, layers, None)
}

/// Stores `value` as JSON; returns its digest and size.
fn put_json(layout: &mut MemoryLayout, value: &Value) -> (Digest, usize) {
    let bytes = serde_json::to_vec(value).expect("JSON of a json! value");
    let size = bytes.len();
    (layout.put(bytes), size)
}

/// Stores `config` and an OCI image manifest over it and `layers`; returns the
/// manifest's digest and size.
fn put_image_manifest(
    layout: &mut MemoryLayout,
    config: &Value,
    layers: Value,
    annotations: Option<Value>,
) -> (Digest, usize) {
    let (config_digest, config_size) = put_json(layout, config);
    let mut manifest = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
        "layers": layers,
    });
    if let Some(annotations) = annotations {
        manifest["annotations"] = annotations;
    }
    put_json(layout, &manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_shared::archive;

    #[test]
    fn the_demo_is_the_same_every_time_and_small() {
        let a = build();
        let b = build();
        assert_eq!(a.index, b.index);
        assert_eq!(
            a.blobs.keys().collect::<Vec<_>>(),
            b.blobs.keys().collect::<Vec<_>>()
        );
        let total: usize = a.blobs.values().map(|b| b.len()).sum();
        assert!(total < 5 << 20, "demo is {total} bytes");
    }

    #[test]
    fn every_blob_is_stored_under_its_digest_and_every_reference_resolves() {
        let demo = build();
        for (digest, bytes) in &demo.blobs {
            assert!(digest.matches(bytes), "{digest}");
        }
        let index = archive::parse_layout_index(&demo.index).unwrap();
        for tag in ["latest", "1.0", "amd64"] {
            let d = archive::resolve(&index, tag).unwrap();
            assert!(demo.blobs.contains_key(&d.digest), "{tag}");
        }
        // Every digest named anywhere in a stored JSON document is stored too.
        for bytes in demo.blobs.values() {
            let Ok(doc) = serde_json::from_slice::<Value>(bytes) else {
                continue;
            };
            let mut named = Vec::new();
            collect_digests(&doc, &mut named);
            for digest in named {
                if let Ok(d) = Digest::parse(&digest) {
                    // diff_ids of layers name uncompressed tars, which are not blobs.
                    let is_diff_id = doc["rootfs"]["diff_ids"]
                        .as_array()
                        .is_some_and(|ids| ids.iter().any(|i| i == &json!(digest)));
                    assert!(
                        is_diff_id || demo.blobs.contains_key(&d),
                        "{digest} missing"
                    );
                }
            }
        }
    }

    fn collect_digests(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if k == "digest" {
                        if let Some(s) = v.as_str() {
                            out.push(s.to_owned());
                        }
                    } else {
                        collect_digests(v, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| collect_digests(v, out)),
            _ => {}
        }
    }
}
