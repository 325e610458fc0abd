//! The layer formats met in the wild, read from a layer's descriptor alone: foreign
//! layers (not distributed by the registry), ocicrypt-encrypted layers, and the lazily
//! pullable eStargz and zstd:chunked layers. What the page fetches depends on it: a
//! foreign or encrypted layer is listed, never fetched, and never counted as a failure.

use base64::Engine as _;

use super::Descriptor;

/// eStargz: the digest of the layer's table of contents (`stargz.index.json`).
pub const ESTARGZ_TOC_DIGEST: &str = "containerd.io/snapshot/stargz/toc.digest";
/// zstd:chunked: the checksum of the layer's manifest (its table of contents).
pub const ZSTD_CHUNKED_MANIFEST_CHECKSUM: &str =
    "io.github.containers.zstd-chunked.manifest-checksum";
/// The same, as older containers/storage releases wrote it.
pub const ZSTD_CHUNKED_MANIFEST_CHECKSUM_LEGACY: &str =
    "io.containers.zstd-chunked.manifest-checksum";
/// ocicrypt: one annotation per key-wrapping scheme, `…enc.keys.jwe`, `…enc.keys.pkcs7`,
/// `…enc.keys.pgp`, `…enc.keys.provider.NAME`; each holds that scheme's wrapped keys.
pub const ENCRYPTION_KEYS_PREFIX: &str = "org.opencontainers.image.enc.keys.";
/// ocicrypt: base64 JSON of the public options (the cipher, among others).
pub const ENCRYPTION_PUBOPTS: &str = "org.opencontainers.image.enc.pubopts";

/// Larger `pubopts` are not decoded: ocicrypt writes a few hundred bytes.
const MAX_PUBOPTS: usize = 16 * 1024;

/// What kind of layer a descriptor names, as far as fetching and labelling go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayerFormat {
    /// An ordinary layer: fetched, verified and indexed.
    Plain,
    /// Not distributed by this registry (Docker's foreign and OCI's non-distributable
    /// types, or any layer with `urls`): listed with its URLs, never fetched.
    Foreign {
        /// Where the layer's publisher says it can be had (possibly none).
        urls: Vec<String>,
    },
    /// Encrypted with ocicrypt: its contents need a recipient's private key.
    Encrypted {
        /// The key-wrapping schemes of its recipients (`jwe`, `pkcs7`, `pgp`,
        /// `provider.NAME`), from the annotation keys, sorted.
        recipients: Vec<String>,
        /// The symmetric cipher named in `pubopts`, when it could be read.
        cipher: Option<String>,
    },
    /// eStargz: gzip members with a TOC, readable as an ordinary gzip layer.
    Estargz {
        /// The TOC digest the annotation gives.
        toc_digest: String,
    },
    /// zstd:chunked: zstd frames with a TOC, readable as an ordinary zstd layer.
    ZstdChunked {
        /// The manifest checksum the annotation gives.
        manifest_checksum: String,
    },
}

impl LayerFormat {
    /// Reads the format from a layer descriptor. Foreign wins over encrypted (neither is
    /// fetched, and foreign says why), and encrypted over the lazy-pull labels (an
    /// encrypted eStargz layer cannot be read as one).
    pub fn of(descriptor: &Descriptor) -> LayerFormat {
        if descriptor.media_type.is_foreign() || !descriptor.urls.is_empty() {
            return LayerFormat::Foreign {
                urls: descriptor.urls.clone(),
            };
        }
        let recipients: Vec<String> = descriptor
            .annotations
            .keys()
            .filter_map(|k| k.strip_prefix(ENCRYPTION_KEYS_PREFIX))
            .filter(|scheme| !scheme.is_empty())
            .map(str::to_owned)
            .collect();
        if descriptor.media_type.is_encrypted() || !recipients.is_empty() {
            return LayerFormat::Encrypted {
                recipients,
                cipher: descriptor
                    .annotation(ENCRYPTION_PUBOPTS)
                    .and_then(pubopts_cipher),
            };
        }
        if let Some(toc) = descriptor.annotation(ESTARGZ_TOC_DIGEST) {
            return LayerFormat::Estargz {
                toc_digest: toc.to_owned(),
            };
        }
        let chunked = descriptor
            .annotation(ZSTD_CHUNKED_MANIFEST_CHECKSUM)
            .or_else(|| descriptor.annotation(ZSTD_CHUNKED_MANIFEST_CHECKSUM_LEGACY));
        if let Some(checksum) = chunked {
            return LayerFormat::ZstdChunked {
                manifest_checksum: checksum.to_owned(),
            };
        }
        LayerFormat::Plain
    }

    /// Whether the page fetches the blob: foreign layers are not this registry's to
    /// serve, and encrypted ones could not be read.
    pub fn is_fetched(&self) -> bool {
        !matches!(
            self,
            LayerFormat::Foreign { .. } | LayerFormat::Encrypted { .. }
        )
    }

    /// The stable name of the format (`data-layer-format`); `None` for a plain layer.
    pub fn id(&self) -> Option<&'static str> {
        match self {
            LayerFormat::Plain => None,
            LayerFormat::Foreign { .. } => Some("foreign"),
            LayerFormat::Encrypted { .. } => Some("encrypted"),
            LayerFormat::Estargz { .. } => Some("estargz"),
            LayerFormat::ZstdChunked { .. } => Some("zstd-chunked"),
        }
    }

    /// A short label for the layer's row; `None` for a plain layer.
    pub fn label(&self) -> Option<&'static str> {
        match self {
            LayerFormat::Plain => None,
            LayerFormat::Foreign { .. } => Some("foreign"),
            LayerFormat::Encrypted { .. } => Some("encrypted"),
            LayerFormat::Estargz { .. } => Some("eStargz"),
            LayerFormat::ZstdChunked { .. } => Some("zstd:chunked"),
        }
    }

    /// Why the layer is not fetched, for its row; `None` when it is.
    pub fn not_fetched_reason(&self) -> Option<&'static str> {
        match self {
            LayerFormat::Foreign { .. } => Some("foreign layer: not distributed by this registry"),
            LayerFormat::Encrypted { .. } => {
                Some("encrypted: contents not readable, digest not checked")
            }
            _ => None,
        }
    }
}

/// The `cipher` of ocicrypt's public options (base64 of a JSON object).
fn pubopts_cipher(pubopts: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct PubOpts {
        cipher: String,
    }
    if pubopts.len() > MAX_PUBOPTS {
        return None;
    }
    let json = base64::engine::general_purpose::STANDARD
        .decode(pubopts.trim())
        .ok()?;
    let opts: PubOpts = serde_json::from_slice(&json).ok()?;
    Some(opts.cipher).filter(|c| !c.is_empty() && c.len() <= 64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MediaType;

    fn descriptor(media_type: &str, annotations: &[(&str, &str)], urls: &[&str]) -> Descriptor {
        Descriptor {
            media_type: MediaType::parse(media_type),
            digest: crate::Digest::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap(),
            size: 10,
            urls: urls.iter().map(|u| (*u).to_owned()).collect(),
            annotations: annotations
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            platform: None,
            artifact_type: None,
        }
    }

    const GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    const ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

    #[test]
    fn plain_layers_are_fetched_and_unlabelled() {
        let f = LayerFormat::of(&descriptor(GZIP, &[("org.example", "x")], &[]));
        assert_eq!(f, LayerFormat::Plain);
        assert!(f.is_fetched());
        assert_eq!(
            (f.id(), f.label(), f.not_fetched_reason()),
            (None, None, None)
        );
    }

    #[test]
    fn foreign_by_media_type_or_by_urls() {
        let windows = descriptor(
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            &[],
            &["https://example.invalid/base.tar.gz"],
        );
        let f = LayerFormat::of(&windows);
        assert_eq!(
            f,
            LayerFormat::Foreign {
                urls: vec!["https://example.invalid/base.tar.gz".into()]
            }
        );
        assert!(!f.is_fetched());
        assert_eq!(f.id(), Some("foreign"));
        assert!(f.not_fetched_reason().unwrap().contains("not distributed"));
        let urls_only = descriptor(GZIP, &[], &["http://127.0.0.1:9/x"]);
        assert_eq!(LayerFormat::of(&urls_only).id(), Some("foreign"));
        let nondistributable = descriptor(
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            &[],
            &[],
        );
        assert_eq!(
            LayerFormat::of(&nondistributable),
            LayerFormat::Foreign { urls: vec![] }
        );
    }

    #[test]
    fn encrypted_layers_name_their_recipients_key_types() {
        // {"cipher":"AES_256_CTR_HMAC_SHA256","hmac":"aGk=","cipheroptions":{}}
        let pubopts = base64::engine::general_purpose::STANDARD
            .encode(br#"{"cipher":"AES_256_CTR_HMAC_SHA256","hmac":"aGk=","cipheroptions":{}}"#);
        let d = descriptor(
            &format!("{GZIP}+encrypted"),
            &[
                ("org.opencontainers.image.enc.keys.pkcs7", "a"),
                ("org.opencontainers.image.enc.keys.jwe", "b"),
                ("org.opencontainers.image.enc.keys.provider.kms", "c"),
                (ENCRYPTION_PUBOPTS, &pubopts),
                // An eStargz label under the encryption does not make it readable.
                (ESTARGZ_TOC_DIGEST, "sha256:00"),
            ],
            &[],
        );
        let f = LayerFormat::of(&d);
        assert_eq!(
            f,
            LayerFormat::Encrypted {
                recipients: vec!["jwe".into(), "pkcs7".into(), "provider.kms".into()],
                cipher: Some("AES_256_CTR_HMAC_SHA256".into()),
            }
        );
        assert!(!f.is_fetched());
        assert_eq!(f.id(), Some("encrypted"));
        assert!(
            f.not_fetched_reason()
                .unwrap()
                .contains("digest not checked")
        );
    }

    #[test]
    fn encryption_is_seen_from_the_type_or_the_keys_alone() {
        let type_only = descriptor(&format!("{ZSTD}+encrypted"), &[], &[]);
        assert_eq!(
            LayerFormat::of(&type_only),
            LayerFormat::Encrypted {
                recipients: vec![],
                cipher: None
            }
        );
        let keys_only = descriptor(
            GZIP,
            &[
                ("org.opencontainers.image.enc.keys.pgp", "a"),
                ("org.opencontainers.image.enc.keys.", "no scheme"),
                (ENCRYPTION_PUBOPTS, "not base64 !"),
            ],
            &[],
        );
        assert_eq!(
            LayerFormat::of(&keys_only),
            LayerFormat::Encrypted {
                recipients: vec!["pgp".into()],
                cipher: None
            }
        );
    }

    #[test]
    fn lazy_pull_formats_are_labelled_and_still_fetched() {
        let estargz = LayerFormat::of(&descriptor(GZIP, &[(ESTARGZ_TOC_DIGEST, "sha256:11")], &[]));
        assert_eq!(
            estargz,
            LayerFormat::Estargz {
                toc_digest: "sha256:11".into()
            }
        );
        assert!(estargz.is_fetched());
        assert_eq!(
            (estargz.id(), estargz.label()),
            (Some("estargz"), Some("eStargz"))
        );
        for key in [
            ZSTD_CHUNKED_MANIFEST_CHECKSUM,
            ZSTD_CHUNKED_MANIFEST_CHECKSUM_LEGACY,
        ] {
            let f = LayerFormat::of(&descriptor(ZSTD, &[(key, "sha256:22")], &[]));
            assert_eq!(
                f,
                LayerFormat::ZstdChunked {
                    manifest_checksum: "sha256:22".into()
                },
                "{key}"
            );
            assert!(f.is_fetched());
            assert_eq!(
                (f.id(), f.label()),
                (Some("zstd-chunked"), Some("zstd:chunked"))
            );
        }
    }

    #[test]
    fn oversized_or_odd_pubopts_name_no_cipher() {
        assert_eq!(pubopts_cipher(&"A".repeat(MAX_PUBOPTS + 4)), None);
        let no_cipher = base64::engine::general_purpose::STANDARD.encode(br#"{"hmac":"x"}"#);
        assert_eq!(pubopts_cipher(&no_cipher), None);
        let empty = base64::engine::general_purpose::STANDARD.encode(br#"{"cipher":""}"#);
        assert_eq!(pubopts_cipher(&empty), None);
    }
}
