//! The OCI image layout (image-spec `image-layout.md`): `oci-layout`, `index.json` and
//! content-addressed `blobs/ALG/HEX`. Blob paths are derived from validated digests only,
//! so nothing a layout says can name a file outside it.

use super::ArchiveError;
use crate::digest::Digest;
use crate::manifest::{Descriptor, ImageIndex};

/// The marker file at a layout's root.
pub const LAYOUT_FILE: &str = "oci-layout";
/// The layout's entry point.
pub const INDEX_FILE: &str = "index.json";
/// The annotation that gives a manifest of `index.json` its tag.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Largest `index.json` read: 4 MiB lists tens of thousands of tags.
pub const MAX_INDEX_BYTES: u64 = 4 << 20;

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct LayoutMarker {
    image_layout_version: String,
}

/// Checks the `oci-layout` marker: JSON naming a 1.x layout version.
pub fn check_layout_marker(bytes: &[u8]) -> Result<(), ArchiveError> {
    let marker: LayoutMarker = serde_json::from_slice(bytes).map_err(|e| ArchiveError::Json {
        member: LAYOUT_FILE,
        reason: e.to_string(),
    })?;
    if marker.image_layout_version.split('.').next() != Some("1") {
        return Err(ArchiveError::LayoutVersion(marker.image_layout_version));
    }
    Ok(())
}

/// Parses `index.json` (capped at [`MAX_INDEX_BYTES`]).
pub fn parse_layout_index(bytes: &[u8]) -> Result<ImageIndex, ArchiveError> {
    if bytes.len() as u64 > MAX_INDEX_BYTES {
        return Err(ArchiveError::TooLarge {
            member: INDEX_FILE,
            size: bytes.len() as u64,
            limit: MAX_INDEX_BYTES,
        });
    }
    serde_json::from_slice(bytes).map_err(|e| ArchiveError::Json {
        member: INDEX_FILE,
        reason: e.to_string(),
    })
}

/// Where a blob lives inside a layout: `blobs/sha256/HEX`.
pub fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm().name(), digest.hex())
}

/// The digest a member path names, if it is a blob path (`blobs/ALG/HEX`, an optional
/// leading `./` allowed as tar writers add it). Other paths give `Ok(None)`.
pub fn digest_of_blob_path(path: &str) -> Result<Option<Digest>, ArchiveError> {
    let path = path.strip_prefix("./").unwrap_or(path);
    let Some(rest) = path.strip_prefix("blobs/") else {
        return Ok(None);
    };
    let Some((algorithm, hex)) = rest.split_once('/') else {
        return Ok(None);
    };
    if hex.is_empty() {
        return Ok(None);
    }
    Digest::parse(&format!("{algorithm}:{hex}"))
        .map(Some)
        .map_err(|problem| ArchiveError::BlobPath {
            path: path.to_owned(),
            problem,
        })
}

/// The tagged entries of `index.json`: (tag, descriptor), in the index's order. A full
/// reference as `ref.name` (`docker.io/library/app:1.0`, as Docker writes) is a tag too.
pub fn tags(index: &ImageIndex) -> Vec<(String, &Descriptor)> {
    index
        .manifests
        .iter()
        .filter_map(|d| d.annotation(REF_NAME).map(|name| (name.to_owned(), d)))
        .collect()
}

/// The entry of `index.json` for a tag: the exact `ref.name`, else the one full reference
/// whose tag part is `tag`.
pub fn resolve<'a>(index: &'a ImageIndex, tag: &str) -> Result<&'a Descriptor, ArchiveError> {
    let tagged = tags(index);
    if let Some((_, d)) = tagged.iter().find(|(name, _)| name == tag) {
        return Ok(d);
    }
    let by_suffix: Vec<_> = tagged
        .iter()
        .filter(|(name, _)| {
            name.contains('/') && name.rsplit_once(':').map(|(_, t)| t) == Some(tag)
        })
        .collect();
    if let [(_, d)] = by_suffix.as_slice() {
        return Ok(d);
    }
    if tagged.is_empty() && index.manifests.len() == 1 && tag == "latest" {
        // An untagged single-image layout (`umoci`, some CI tools): its one image.
        return Ok(&index.manifests[0]);
    }
    Err(ArchiveError::TagNotFound {
        tag: tag.to_owned(),
        available: tagged.into_iter().map(|(name, _)| name).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn index(entries: &[Option<&str>]) -> ImageIndex {
        let manifests: Vec<_> = entries
            .iter()
            .map(|name| {
                let mut d = serde_json::json!({
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": format!("sha256:{HEX}"), "size": 10});
                if let Some(name) = name {
                    d["annotations"] = serde_json::json!({ REF_NAME: name });
                }
                d
            })
            .collect();
        let doc = serde_json::json!({"schemaVersion": 2, "manifests": manifests});
        parse_layout_index(doc.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn marker_versions() {
        check_layout_marker(br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        assert_eq!(
            check_layout_marker(br#"{"imageLayoutVersion":"2.0.0"}"#),
            Err(ArchiveError::LayoutVersion("2.0.0".into()))
        );
        assert!(matches!(
            check_layout_marker(b"nope"),
            Err(ArchiveError::Json {
                member: LAYOUT_FILE,
                ..
            })
        ));
    }

    #[test]
    fn index_that_is_not_json_is_named() {
        let err = parse_layout_index(b"{\"manifests\": [").unwrap_err();
        assert!(
            matches!(
                err,
                ArchiveError::Json {
                    member: INDEX_FILE,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().starts_with("index.json is not valid JSON"));
        let huge = vec![b' '; MAX_INDEX_BYTES as usize + 1];
        assert!(matches!(
            parse_layout_index(&huge),
            Err(ArchiveError::TooLarge { .. })
        ));
    }

    #[test]
    fn blob_paths_round_trip_and_refuse_escapes() {
        let digest = Digest::parse(&format!("sha256:{HEX}")).unwrap();
        let path = blob_path(&digest);
        assert_eq!(path, format!("blobs/sha256/{HEX}"));
        assert_eq!(digest_of_blob_path(&path), Ok(Some(digest.clone())));
        assert_eq!(digest_of_blob_path(&format!("./{path}")), Ok(Some(digest)));
        assert_eq!(digest_of_blob_path("index.json"), Ok(None));
        for bad in [
            "blobs/sha256/../../etc/passwd",
            "blobs/sha256/abc",
            "blobs/md5/00",
        ] {
            assert!(
                matches!(digest_of_blob_path(bad), Err(ArchiveError::BlobPath { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn tags_resolve_exactly_then_by_full_reference() {
        let idx = index(&[Some("v1"), Some("docker.io/library/app:2.0"), None]);
        assert!(resolve(&idx, "v1").is_ok());
        assert!(resolve(&idx, "2.0").is_ok());
        let err = resolve(&idx, "v3").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no image tagged \"v3\" here; tags: v1, docker.io/library/app:2.0"
        );
        let single = index(&[None]);
        assert!(resolve(&single, "latest").is_ok());
        assert!(resolve(&single, "other").is_err());
    }
}
