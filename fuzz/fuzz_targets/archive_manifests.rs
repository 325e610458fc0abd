//! The small JSON files of local archives: `docker save`'s `manifest.json`, an OCI
//! layout's `oci-layout` and `index.json`, blob paths, and the manifest Strata writes for
//! legacy images. Input: `manifest.json`, NUL, config, NUL, member path lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_shared::archive::{
    blob_path, check_layout_marker, digest_of_blob_path, parse_layout_index, parse_legacy_manifest,
    resolve, safe_member_path, synthesize, tags, Member, REF_NAME,
};
use strata_shared::manifest::{Document, ParsedDocument};

fuzz_target!(|data: &[u8]| {
    let _ = check_layout_marker(data);
    if let Ok(index) = parse_layout_index(data) {
        for (tag, _) in tags(&index) {
            // An exact ref.name always resolves, to an entry carrying that name.
            let found = resolve(&index, &tag).expect("a listed tag resolves");
            assert_eq!(found.annotation(REF_NAME), Some(tag.as_str()));
        }
        let _ = resolve(&index, "latest");
    }

    let mut parts = data.splitn(3, |&b| b == 0);
    let manifest_json = parts.next().unwrap_or_default();
    let config = parts.next().unwrap_or_default();
    let paths = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();

    let mut members = Vec::new();
    for (i, path) in paths.lines().enumerate().take(64) {
        if let Ok(Some(digest)) = digest_of_blob_path(path) {
            let stripped = path.strip_prefix("./").unwrap_or(path);
            assert_eq!(blob_path(&digest), stripped, "blob path round trip");
        }
        if let Ok(safe) = safe_member_path(path) {
            assert_eq!(safe_member_path(&safe).as_deref().ok(), Some(safe.as_str()));
            members.push(Member {
                path: safe,
                offset: 512 * (i as u64 + 1),
                size: i as u64,
            });
        }
    }

    let Ok(images) = parse_legacy_manifest(manifest_json) else {
        return;
    };
    for image in images.iter().take(8) {
        let Ok(layout) = synthesize(image, config, &members) else {
            continue;
        };
        assert_eq!(layout.blobs.len(), image.layers.len() + 1);
        let written = ParsedDocument::parse(layout.manifest.clone(), None)
            .expect("the written manifest parses");
        let Document::Manifest(manifest) = written.document else {
            panic!("the written manifest is an image manifest");
        };
        assert_eq!(manifest.config.digest, layout.config_digest);
        assert_eq!(manifest.layers.len(), image.layers.len());
    }
});
