//! Manifest and index JSON as a registry serves it: parsing never panics, whatever the
//! bytes and the `Content-Type`, and whatever parses can be walked as the app walks it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_shared::attestation::{artifact, notation::NotationSignature, CosignSignature};
use strata_shared::manifest::{Document, LayerFormat, LayerTally, ParsedDocument, Platform};

/// Content types a registry may send (the first input byte picks one).
const CONTENT_TYPES: [Option<&str>; 8] = [
    None,
    Some("application/vnd.oci.image.index.v1+json"),
    Some("application/vnd.oci.image.manifest.v1+json"),
    Some("application/vnd.docker.distribution.manifest.list.v2+json"),
    Some("application/vnd.docker.distribution.manifest.v2+json"),
    Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
    Some("application/json"),
    Some("text/plain; charset=utf-8"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, raw)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(pick) % CONTENT_TYPES.len()];
    let Ok(parsed) = ParsedDocument::parse(raw.to_vec(), content_type) else {
        return;
    };
    assert_eq!(parsed.raw, raw, "the raw bytes are kept as served");
    let _ = parsed.digest();
    match &parsed.document {
        Document::Index(index) => {
            let entries = index.entries();
            for entry in &entries.platforms {
                let platform = entry.platform();
                let _ = platform.is_unknown();
                let _ = platform.to_string();
            }
            let _ = entries.select(None);
            let _ = entries.select(Platform::parse("linux/arm64/v8").as_ref());
        }
        Document::Manifest(manifest) => {
            let _ = manifest.layers_size();
            let _ = artifact::classify(manifest).label();
            let _ = artifact::artifact_type(manifest);
            let _ = NotationSignature::from_manifest(manifest);
            for layer in &manifest.layers {
                let _ = CosignSignature::from_layer(layer);
                // Foreign, ocicrypt (base64 pubopts), eStargz and zstd:chunked annotations.
                let format = LayerFormat::of(layer);
                let _ = format.is_fetched();
            }
            let _ = LayerTally::of(&manifest.layers);
        }
        Document::Schema1(manifest) => {
            // The digest's bytes of a signed manifest come from its JWS header.
            let _ = parsed.digested_bytes();
            let _ = manifest.history.len() + manifest.layers.len() + manifest.signatures.len();
        }
    }
});
