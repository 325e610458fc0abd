//! What an image's layer descriptors say about its distribution, summed: the bytes a pull
//! transfers, how they are compressed, and which layers are foreign, encrypted or lazily
//! pullable. The image page's distribution facts read it.

use std::collections::BTreeMap;

use super::{Descriptor, LayerFormat};
use crate::layer::Compression;

/// The sums over one image's layers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LayerTally {
    /// Every layer's compressed size, summed (foreign ones included: a pull fetches
    /// them from their URLs).
    pub compressed_bytes: u64,
    /// Layers and bytes by how they are compressed (`gzip`, `zstd`, `none`, and
    /// `unknown` for a media type that names no compression), encrypted ones by what is
    /// under the encryption.
    pub by_compression: BTreeMap<&'static str, (usize, u64)>,
    /// Layers not distributed by the registry.
    pub foreign: usize,
    /// ocicrypt-encrypted layers.
    pub encrypted: usize,
    /// Every key type that can decrypt some encrypted layer, sorted, once each.
    pub recipients: Vec<String>,
    /// eStargz layers.
    pub estargz: usize,
    /// zstd:chunked layers.
    pub zstd_chunked: usize,
}

impl LayerTally {
    /// Sums `layers` (a manifest's layer descriptors).
    pub fn of<'a>(layers: impl IntoIterator<Item = &'a Descriptor>) -> LayerTally {
        let mut tally = LayerTally::default();
        for layer in layers {
            tally.compressed_bytes = tally.compressed_bytes.saturating_add(layer.size);
            let readable = layer
                .media_type
                .unencrypted()
                .unwrap_or_else(|| layer.media_type.clone());
            let compression = Compression::from_media_type(readable.as_str())
                .map_or("unknown", Compression::name);
            let entry = tally.by_compression.entry(compression).or_default();
            entry.0 += 1;
            entry.1 = entry.1.saturating_add(layer.size);
            match LayerFormat::of(layer) {
                LayerFormat::Foreign { .. } => tally.foreign += 1,
                LayerFormat::Encrypted { recipients, .. } => {
                    tally.encrypted += 1;
                    tally.recipients.extend(recipients);
                }
                LayerFormat::Estargz { .. } => tally.estargz += 1,
                LayerFormat::ZstdChunked { .. } => tally.zstd_chunked += 1,
                LayerFormat::Plain => {}
            }
        }
        tally.recipients.sort();
        tally.recipients.dedup();
        tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MediaType;
    use crate::manifest::{ENCRYPTION_KEYS_PREFIX, ESTARGZ_TOC_DIGEST};

    fn layer(media_type: &str, size: u64, annotations: &[&str], urls: &[&str]) -> Descriptor {
        Descriptor {
            media_type: MediaType::parse(media_type),
            digest: crate::Digest::parse(&format!("sha256:{}", "cd".repeat(32))).unwrap(),
            size,
            urls: urls.iter().map(|u| (*u).to_owned()).collect(),
            annotations: annotations
                .iter()
                .map(|k| ((*k).to_owned(), "v".to_owned()))
                .collect(),
            platform: None,
            artifact_type: None,
        }
    }

    #[test]
    fn sums_bytes_compressions_and_formats() {
        let jwe = format!("{ENCRYPTION_KEYS_PREFIX}jwe");
        let pgp = format!("{ENCRYPTION_KEYS_PREFIX}pgp");
        let layers = [
            layer(
                "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                100,
                &[],
                &["http://127.0.0.1:9/a"],
            ),
            layer(
                "application/vnd.oci.image.layer.v1.tar+gzip",
                10,
                &[ESTARGZ_TOC_DIGEST],
                &[],
            ),
            layer("application/vnd.oci.image.layer.v1.tar+zstd", 20, &[], &[]),
            layer(
                "application/vnd.oci.image.layer.v1.tar+zstd+encrypted",
                30,
                &[&jwe, &pgp],
                &[],
            ),
            layer(
                "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
                40,
                &[&jwe],
                &[],
            ),
            layer("application/x-mystery", u64::MAX, &[], &[]),
        ];
        let t = LayerTally::of(&layers);
        assert_eq!(t.compressed_bytes, u64::MAX, "saturates");
        assert_eq!(
            t.by_compression.into_iter().collect::<Vec<_>>(),
            [
                ("gzip", (3, 150)),
                ("unknown", (1, u64::MAX)),
                ("zstd", (2, 50))
            ]
        );
        assert_eq!(
            (t.foreign, t.encrypted, t.estargz, t.zstd_chunked),
            (1, 2, 1, 0)
        );
        assert_eq!(t.recipients, ["jwe", "pgp"]);
    }

    #[test]
    fn no_layers_no_bytes() {
        assert_eq!(LayerTally::of(&[]), LayerTally::default());
    }
}
