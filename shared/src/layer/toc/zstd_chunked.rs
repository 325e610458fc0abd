//! zstd:chunked: the manifest (the TOC) is a zstd-compressed JSON in a skippable frame
//! near the blob's end; the descriptor's annotations give its position and the digest of
//! its compressed bytes, so one `Range` request reads it.

use super::{
    ByteRange, MAX_TOC_BYTES, TocError, TocPlan, ZSTD_CHUNKED_MANIFEST_POSITION,
    ZSTD_CHUNKED_MANIFEST_POSITION_LEGACY, decompress, entries, verify,
};
use crate::digest::Digest;
use crate::layer::{Compression, LayerIndex, Limits};
use crate::manifest::Descriptor;

/// The manifest type containers/storage writes (the CRFS-style TOC).
const MANIFEST_TYPE_CRFS: u64 = 1;

/// The plan from the position annotation.
pub(super) fn plan(descriptor: &Descriptor, checksum: Digest) -> Result<TocPlan, TocError> {
    let position = descriptor
        .annotation(ZSTD_CHUNKED_MANIFEST_POSITION)
        .or_else(|| descriptor.annotation(ZSTD_CHUNKED_MANIFEST_POSITION_LEGACY))
        .ok_or(TocError::NoPosition)?;
    let bad = || TocError::BadPosition(position.to_owned());
    let fields: Vec<u64> = position
        .split(':')
        .map(|f| f.parse::<u64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [offset, length, uncompressed, kind] = fields[..] else {
        return Err(bad());
    };
    if kind != MANIFEST_TYPE_CRFS {
        return Err(bad());
    }
    let largest = length.max(uncompressed);
    if largest > MAX_TOC_BYTES {
        return Err(TocError::TooLarge {
            bytes: largest,
            max: MAX_TOC_BYTES,
        });
    }
    let end = offset.checked_add(length).ok_or_else(bad)?;
    if end > descriptor.size || length == 0 {
        return Err(TocError::OutOfBlob {
            start: offset,
            end,
            size: descriptor.size,
        });
    }
    Ok(TocPlan::ZstdChunked {
        range: ByteRange { start: offset, end },
        uncompressed,
        checksum,
    })
}

/// Verifies the compressed manifest, then decompresses and lists it.
pub(super) fn read(
    uncompressed: u64,
    checksum: &Digest,
    bytes: &[u8],
    limits: &Limits,
) -> Result<LayerIndex, TocError> {
    verify(checksum, bytes)?;
    let json = decompress(Compression::Zstd, bytes, limits)?;
    if json.len() as u64 != uncompressed {
        return Err(TocError::LengthMismatch {
            want: uncompressed,
            got: json.len() as u64,
        });
    }
    entries::index_of(&json, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(annotations: &[(&str, &str)]) -> Descriptor {
        serde_json::from_value(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
            "digest": Digest::sha256_of(b"blob").to_string(),
            "size": 1000,
            "annotations": annotations.iter().map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<std::collections::BTreeMap<_, _>>(),
        }))
        .unwrap()
    }

    #[test]
    fn the_position_gives_one_range_and_the_legacy_key_is_read() {
        let checksum = Digest::sha256_of(b"m");
        for key in [
            ZSTD_CHUNKED_MANIFEST_POSITION,
            ZSTD_CHUNKED_MANIFEST_POSITION_LEGACY,
        ] {
            let plan = plan(&descriptor(&[(key, "900:80:300:1")]), checksum.clone()).unwrap();
            assert_eq!(
                plan.first_range(),
                ByteRange {
                    start: 900,
                    end: 980
                }
            );
        }
    }

    #[test]
    fn a_bad_position_names_itself() {
        let checksum = Digest::sha256_of(b"m");
        let key = ZSTD_CHUNKED_MANIFEST_POSITION;
        for (value, want) in [
            ("900:80:300", "BadPosition"),
            ("900:80:300:2", "BadPosition"),
            ("x:80:300:1", "BadPosition"),
            ("990:80:300:1", "OutOfBlob"),
            ("18446744073709551615:2:3:1", "BadPosition"),
            ("0:10:99999999999:1", "TooLarge"),
        ] {
            let err = plan(&descriptor(&[(key, value)]), checksum.clone()).unwrap_err();
            assert!(format!("{err:?}").starts_with(want), "{value}: {err:?}");
        }
        assert_eq!(
            plan(&descriptor(&[]), checksum).unwrap_err(),
            TocError::NoPosition
        );
    }
}
