//! The `manifest.json` of `docker save` (both shapes: the legacy one with
//! `<id>/layer.tar` paths, and Docker 25+'s, whose paths are `blobs/sha256/HEX`), which
//! `podman save` and `skopeo … docker-archive:` write too.

use super::ArchiveError;

/// Largest `manifest.json` read.
const MAX_MANIFEST_JSON_BYTES: u64 = 4 << 20;
const MANIFEST_JSON: &str = "manifest.json";

/// One image of a `docker save` archive.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LegacyImage {
    /// Path of the config JSON inside the archive (its sha256 is the image ID).
    pub config: String,
    /// `repo:tag` names, when the image was saved by name.
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    /// Paths of the layer tars, base first.
    pub layers: Vec<String>,
}

/// Parses `manifest.json` and checks every path it names with [`safe_member_path`].
pub fn parse_legacy_manifest(bytes: &[u8]) -> Result<Vec<LegacyImage>, ArchiveError> {
    if bytes.len() as u64 > MAX_MANIFEST_JSON_BYTES {
        return Err(ArchiveError::TooLarge {
            member: MANIFEST_JSON,
            size: bytes.len() as u64,
            limit: MAX_MANIFEST_JSON_BYTES,
        });
    }
    let mut images: Vec<LegacyImage> =
        serde_json::from_slice(bytes).map_err(|e| ArchiveError::Json {
            member: MANIFEST_JSON,
            reason: e.to_string(),
        })?;
    if images.is_empty() {
        return Err(ArchiveError::Empty(MANIFEST_JSON));
    }
    for image in &mut images {
        image.config = safe_member_path(&image.config)?;
        for layer in &mut image.layers {
            *layer = safe_member_path(layer)?;
        }
    }
    Ok(images)
}

/// A member path normalized to `a/b/c` (a leading `./` dropped), or an error when it could
/// leave the archive: absolute, `..`, empty components, backslashes or NUL.
pub fn safe_member_path(path: &str) -> Result<String, ArchiveError> {
    let trimmed = path.strip_prefix("./").unwrap_or(path);
    let unsafe_path = trimmed.is_empty()
        || trimmed.starts_with('/')
        || trimmed.contains('\\')
        || trimmed.contains('\0')
        || trimmed
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..");
    if unsafe_path {
        return Err(ArchiveError::UnsafePath(path.to_owned()));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_and_oci_shaped_manifests() {
        let legacy = br#"[{"Config":"abc.json","RepoTags":["app:1"],"Layers":["l1/layer.tar","./l2/layer.tar"]}]"#;
        let images = parse_legacy_manifest(legacy).unwrap();
        assert_eq!(images[0].layers, ["l1/layer.tar", "l2/layer.tar"]);
        assert_eq!(
            images[0].repo_tags.as_deref(),
            Some(&["app:1".to_owned()][..])
        );
        let untagged = br#"[{"Config":"blobs/sha256/aa","RepoTags":null,"Layers":[]}]"#;
        assert_eq!(parse_legacy_manifest(untagged).unwrap()[0].repo_tags, None);
    }

    #[test]
    fn escaping_paths_are_refused_by_name() {
        for bad in [
            "../../etc/passwd",
            "/etc/passwd",
            "a/../../b",
            "a//b",
            "a\\b",
            "",
        ] {
            let doc = format!(r#"[{{"Config":"c.json","Layers":[{bad:?}]}}]"#);
            assert_eq!(
                parse_legacy_manifest(doc.as_bytes()),
                Err(ArchiveError::UnsafePath(bad.to_owned())),
                "{bad}"
            );
        }
        assert_eq!(
            ArchiveError::UnsafePath("../../etc/passwd".into()).to_string(),
            "unsafe path \"../../etc/passwd\" in the archive: paths must stay inside it"
        );
    }

    #[test]
    fn empty_and_broken_manifests() {
        assert_eq!(
            parse_legacy_manifest(b"[]"),
            Err(ArchiveError::Empty(MANIFEST_JSON))
        );
        assert!(matches!(
            parse_legacy_manifest(b"{"),
            Err(ArchiveError::Json {
                member: MANIFEST_JSON,
                ..
            })
        ));
    }
}
