//! A built index: per-platform images and a BuildKit attestation of the first.

use serde::Serialize;

use super::built::{BuiltImage, attestation_manifest};
use super::descriptor::{Descriptor, Platform};
use super::media::*;
use super::spec::ImageSpec;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IndexJson<'a> {
    schema_version: u32,
    media_type: &'a str,
    manifests: &'a [Descriptor],
}

/// A built index: per-platform images, the attestation of the first, and the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltIndex {
    /// The format of the index (and of the platform manifests).
    pub format: Format,
    /// The platform images, in index order.
    pub images: Vec<(Platform, BuiltImage)>,
    /// The attestation manifest about the first image.
    pub attestation: BuiltImage,
    /// The index entries as written.
    pub entries: Vec<Descriptor>,
    /// The index bytes.
    pub bytes: Vec<u8>,
    /// Their digest.
    pub digest: String,
    /// The index media type.
    pub media_type: String,
}

/// Builds an index of `specs` (one image per platform) plus a BuildKit attestation
/// manifest for the first one, listed last with platform `unknown/unknown`.
pub fn build_index(name: &str, specs: &[ImageSpec], format: Format) -> anyhow::Result<BuiltIndex> {
    anyhow::ensure!(!specs.is_empty(), "an index needs at least one image");
    let images = specs
        .iter()
        .map(|s| Ok((s.platform(), s.build(format)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (first_platform, first) = &images[0];
    let purl = format!(
        "pkg:docker/{name}?platform={}",
        first_platform.to_string().replace('/', "%2F")
    );
    let attestation = attestation_manifest(&purl, first)?;
    let mut entries: Vec<Descriptor> = images
        .iter()
        .map(|(p, img)| img.descriptor(Some(p.clone())))
        .collect();
    let mut attestation_entry = attestation.descriptor(Some(Platform {
        architecture: "unknown".into(),
        os: "unknown".into(),
        variant: None,
    }));
    attestation_entry
        .annotations
        .insert(REFERENCE_DIGEST.into(), first.manifest_digest.clone());
    attestation_entry
        .annotations
        .insert(REFERENCE_TYPE.into(), "attestation-manifest".into());
    entries.push(attestation_entry);
    let bytes = serde_json::to_vec_pretty(&IndexJson {
        schema_version: 2,
        media_type: format.index_type(),
        manifests: &entries,
    })?;
    Ok(BuiltIndex {
        format,
        images,
        attestation,
        entries,
        digest: sha256_digest(&bytes),
        bytes,
        media_type: format.index_type().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_lists_platforms_and_attestation() {
        let spec = crate::fixtures::three_layer_image();
        let specs = [
            spec.for_platform("amd64", None),
            spec.for_platform("arm64", Some("v8")),
        ];
        let index = build_index("127.0.0.1:1/x:y", &specs, Format::Docker).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&index.bytes).unwrap();
        assert_eq!(json["mediaType"], DOCKER_MANIFEST_LIST);
        let manifests = json["manifests"].as_array().unwrap();
        assert_eq!(manifests.len(), 3);
        assert_eq!(manifests[1]["platform"]["variant"], "v8");
        assert_eq!(manifests[2]["platform"]["os"], "unknown");
        assert_eq!(
            manifests[2]["annotations"][REFERENCE_DIGEST],
            index.images[0].1.manifest_digest
        );
        assert_eq!(manifests[2]["mediaType"], OCI_MANIFEST);
        let statement: serde_json::Value =
            serde_json::from_slice(&index.attestation.layers[0].blob).unwrap();
        assert_eq!(
            format!(
                "sha256:{}",
                statement["subject"][0]["digest"]["sha256"]
                    .as_str()
                    .unwrap()
            ),
            index.images[0].1.manifest_digest
        );
    }
}
