//! Media types of the OCI and Docker image specs, with an `Other` arm so that unknown
//! artifacts survive parsing and can still be shown.

use std::fmt;

/// A media type as found in descriptors and `Content-Type` headers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// `application/vnd.oci.image.index.v1+json`
    OciIndex,
    /// `application/vnd.oci.image.manifest.v1+json`
    OciManifest,
    /// `application/vnd.oci.image.config.v1+json`
    OciConfig,
    /// `application/vnd.oci.image.layer.v1.tar`
    OciLayer,
    /// `application/vnd.oci.image.layer.v1.tar+gzip`
    OciLayerGzip,
    /// `application/vnd.oci.image.layer.v1.tar+zstd`
    OciLayerZstd,
    /// `application/vnd.oci.image.layer.nondistributable.v1.tar`: a foreign layer, never fetched.
    OciForeignLayer,
    /// `application/vnd.oci.image.layer.nondistributable.v1.tar+gzip`
    OciForeignLayerGzip,
    /// `application/vnd.oci.image.layer.nondistributable.v1.tar+zstd`
    OciForeignLayerZstd,
    /// `application/vnd.oci.empty.v1+json`
    OciEmpty,
    /// `application/vnd.docker.distribution.manifest.list.v2+json`
    DockerManifestList,
    /// `application/vnd.docker.distribution.manifest.v2+json`
    DockerManifest,
    /// `application/vnd.docker.distribution.manifest.v1+json` or `+prettyjws`: legacy, recognized only.
    DockerSchema1,
    /// `application/vnd.docker.container.image.v1+json`
    DockerConfig,
    /// `application/vnd.docker.image.rootfs.diff.tar.gzip`
    DockerLayerGzip,
    /// `application/vnd.docker.image.rootfs.diff.tar.zstd`
    DockerLayerZstd,
    /// `application/vnd.docker.image.rootfs.diff.tar`
    DockerLayer,
    /// `application/vnd.docker.image.rootfs.foreign.diff.tar.gzip`: never fetched.
    DockerForeignLayer,
    /// `application/vnd.in-toto+json`: attestation layers.
    InToto,
    /// A type ending `+encrypted` (ocicrypt), kept verbatim: the layer under it
    /// ([`MediaType::unencrypted`]) can only be read with a recipient's private key.
    Encrypted(String),
    /// Anything else, kept verbatim.
    Other(String),
}

/// The suffix ocicrypt appends to a layer's media type when it encrypts the layer.
pub const ENCRYPTED_SUFFIX: &str = "+encrypted";

/// The `Accept` header of every manifest request (page, relay and tests): indexes and
/// manifests, OCI and Docker, then schema1 at a lower weight, signed last, only so that
/// it can be recognized and explained.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.v1+json;q=0.5, \
application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.5";

const TABLE: &[(&str, MediaType)] = &[
    (
        "application/vnd.oci.image.index.v1+json",
        MediaType::OciIndex,
    ),
    (
        "application/vnd.oci.image.manifest.v1+json",
        MediaType::OciManifest,
    ),
    (
        "application/vnd.oci.image.config.v1+json",
        MediaType::OciConfig,
    ),
    (
        "application/vnd.oci.image.layer.v1.tar",
        MediaType::OciLayer,
    ),
    (
        "application/vnd.oci.image.layer.v1.tar+gzip",
        MediaType::OciLayerGzip,
    ),
    (
        "application/vnd.oci.image.layer.v1.tar+zstd",
        MediaType::OciLayerZstd,
    ),
    (
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        MediaType::OciForeignLayer,
    ),
    (
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        MediaType::OciForeignLayerGzip,
    ),
    (
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        MediaType::OciForeignLayerZstd,
    ),
    ("application/vnd.oci.empty.v1+json", MediaType::OciEmpty),
    (
        "application/vnd.docker.distribution.manifest.list.v2+json",
        MediaType::DockerManifestList,
    ),
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        MediaType::DockerManifest,
    ),
    (
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        MediaType::DockerSchema1,
    ),
    (
        "application/vnd.docker.container.image.v1+json",
        MediaType::DockerConfig,
    ),
    (
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        MediaType::DockerLayerGzip,
    ),
    (
        "application/vnd.docker.image.rootfs.diff.tar.zstd",
        MediaType::DockerLayerZstd,
    ),
    (
        "application/vnd.docker.image.rootfs.diff.tar",
        MediaType::DockerLayer,
    ),
    (
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        MediaType::DockerForeignLayer,
    ),
    ("application/vnd.in-toto+json", MediaType::InToto),
];

impl MediaType {
    /// Parses a media type; parameters after `;` are ignored, a type ending `+encrypted`
    /// is [`MediaType::Encrypted`], other unknown types are kept as `Other`.
    pub fn parse(s: &str) -> Self {
        let bare = s.split(';').next().unwrap_or("").trim();
        if bare == "application/vnd.docker.distribution.manifest.v1+json" {
            return MediaType::DockerSchema1;
        }
        if bare.len() > ENCRYPTED_SUFFIX.len() && bare.ends_with(ENCRYPTED_SUFFIX) {
            return MediaType::Encrypted(bare.to_owned());
        }
        TABLE
            .iter()
            .find(|(name, _)| *name == bare)
            .map(|(_, mt)| mt.clone())
            .unwrap_or_else(|| MediaType::Other(bare.to_owned()))
    }

    /// The media type string.
    pub fn as_str(&self) -> &str {
        match self {
            MediaType::Other(s) | MediaType::Encrypted(s) => s,
            known => TABLE
                .iter()
                .find(|(_, mt)| mt == known)
                .map(|(name, _)| *name)
                .unwrap_or_default(),
        }
    }

    /// An index or a Docker manifest list.
    pub fn is_index(&self) -> bool {
        matches!(self, MediaType::OciIndex | MediaType::DockerManifestList)
    }

    /// An image manifest (OCI or Docker schema2).
    pub fn is_manifest(&self) -> bool {
        matches!(self, MediaType::OciManifest | MediaType::DockerManifest)
    }

    /// A layer that is not distributed by the registry that serves its manifest (Docker's
    /// foreign layers, OCI's non-distributable ones): its blob lives at the descriptor's
    /// `urls`, if anywhere.
    pub fn is_foreign(&self) -> bool {
        matches!(
            self,
            MediaType::DockerForeignLayer
                | MediaType::OciForeignLayer
                | MediaType::OciForeignLayerGzip
                | MediaType::OciForeignLayerZstd
        )
    }

    /// An ocicrypt-encrypted layer.
    pub fn is_encrypted(&self) -> bool {
        matches!(self, MediaType::Encrypted(_))
    }

    /// The media type under the encryption (`…tar+gzip+encrypted` → `…tar+gzip`), which
    /// says how the decrypted layer is compressed; `None` when not encrypted.
    pub fn unencrypted(&self) -> Option<MediaType> {
        match self {
            MediaType::Encrypted(s) => s.strip_suffix(ENCRYPTED_SUFFIX).map(MediaType::parse),
            _ => None,
        }
    }

    /// A short human label for tables.
    pub fn label(&self) -> &str {
        match self {
            MediaType::OciIndex => "OCI index",
            MediaType::OciManifest => "OCI manifest",
            MediaType::OciConfig => "OCI config",
            MediaType::OciLayer => "OCI layer (tar)",
            MediaType::OciLayerGzip => "OCI layer (tar+gzip)",
            MediaType::OciLayerZstd => "OCI layer (tar+zstd)",
            MediaType::OciForeignLayer => "OCI non-distributable layer (tar)",
            MediaType::OciForeignLayerGzip => "OCI non-distributable layer (tar+gzip)",
            MediaType::OciForeignLayerZstd => "OCI non-distributable layer (tar+zstd)",
            MediaType::OciEmpty => "OCI empty",
            MediaType::DockerManifestList => "Docker manifest list",
            MediaType::DockerManifest => "Docker manifest v2",
            MediaType::DockerSchema1 => "Docker schema1 (legacy)",
            MediaType::DockerConfig => "Docker config",
            MediaType::DockerLayerGzip => "Docker layer (tar+gzip)",
            MediaType::DockerLayerZstd => "Docker layer (tar+zstd)",
            MediaType::DockerLayer => "Docker layer (tar)",
            MediaType::DockerForeignLayer => "Docker foreign layer",
            MediaType::InToto => "in-toto attestation",
            MediaType::Encrypted(_) => "encrypted layer (ocicrypt)",
            MediaType::Other(s) => s,
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for MediaType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for MediaType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(MediaType::parse(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_accept_names_every_index_and_manifest_type() {
        let accepted: Vec<MediaType> = MANIFEST_ACCEPT.split(", ").map(MediaType::parse).collect();
        for (_, mt) in TABLE {
            let wanted = mt.is_index() || mt.is_manifest() || *mt == MediaType::DockerSchema1;
            assert_eq!(accepted.contains(mt), wanted, "{mt}");
        }
        assert_eq!(accepted.last(), Some(&MediaType::DockerSchema1));
        assert!(MANIFEST_ACCEPT.contains("manifest.v1+json;q=0.5"));
    }

    #[test]
    fn round_trips_every_known_type() {
        for (name, mt) in TABLE {
            assert_eq!(&MediaType::parse(name), mt);
            assert_eq!(mt.as_str(), *name);
        }
    }

    #[test]
    fn keeps_unknown_and_strips_parameters() {
        let mt = MediaType::parse("application/vnd.example+json; charset=utf-8");
        assert_eq!(mt, MediaType::Other("application/vnd.example+json".into()));
        assert_eq!(mt.as_str(), "application/vnd.example+json");
        assert_eq!(
            MediaType::parse("application/vnd.docker.distribution.manifest.v1+json"),
            MediaType::DockerSchema1
        );
    }

    #[test]
    fn encrypted_types_are_recognized_and_keep_what_they_wrap() {
        for (written, inner) in [
            (
                "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
                MediaType::OciLayerGzip,
            ),
            (
                "application/vnd.oci.image.layer.v1.tar+zstd+encrypted; x=y",
                MediaType::OciLayerZstd,
            ),
            (
                "application/vnd.oci.image.layer.v1.tar+encrypted",
                MediaType::OciLayer,
            ),
            (
                "application/vnd.docker.image.rootfs.diff.tar.gzip+encrypted",
                MediaType::DockerLayerGzip,
            ),
        ] {
            let mt = MediaType::parse(written);
            assert!(mt.is_encrypted(), "{written}");
            assert_eq!(mt.unencrypted(), Some(inner), "{written}");
            let bare = written.split(';').next().unwrap().trim();
            assert_eq!(mt.as_str(), bare);
            assert_eq!(mt.label(), "encrypted layer (ocicrypt)");
            let json = serde_json::to_string(&mt).unwrap();
            assert_eq!(serde_json::from_str::<MediaType>(&json).unwrap(), mt);
        }
        // An unknown type under the encryption stays unknown, and the suffix alone is not
        // a type.
        assert_eq!(
            MediaType::parse("application/x-thing+encrypted").unencrypted(),
            Some(MediaType::Other("application/x-thing".into()))
        );
        assert_eq!(
            MediaType::parse("+encrypted"),
            MediaType::Other("+encrypted".into())
        );
        assert_eq!(MediaType::OciLayerGzip.unencrypted(), None);
    }

    #[test]
    fn foreign_layer_types() {
        for mt in [
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            "application/vnd.oci.image.layer.nondistributable.v1.tar",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        ] {
            assert!(MediaType::parse(mt).is_foreign(), "{mt}");
        }
        for mt in [
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
        ] {
            assert!(!MediaType::parse(mt).is_foreign(), "{mt}");
        }
    }

    #[test]
    fn predicates() {
        assert!(MediaType::DockerManifestList.is_index());
        assert!(MediaType::OciManifest.is_manifest());
        assert!(!MediaType::InToto.is_manifest());
    }
}
