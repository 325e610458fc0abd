//! Which decompressor a layer needs, from its descriptor's media type.

use super::LayerError;

/// How a layer blob is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Compression {
    /// gzip, possibly several members back to back (eStargz, pigz).
    Gzip,
    /// zstd, one or more frames.
    Zstd,
    /// A plain tar.
    None,
}

impl Compression {
    /// The compression a layer media type implies.
    ///
    /// Accepts the OCI layer types (`application/vnd.oci.image.layer.v1.tar`, `+gzip`,
    /// `+zstd`, and their `nondistributable` forms) and Docker's
    /// (`application/vnd.docker.image.rootfs.diff.tar.gzip`, `...foreign.diff.tar.gzip`,
    /// `...diff.tar`, `...diff.tar.zstd`). Parameters after `;` are ignored. Anything else
    /// (including `+encrypted` layers) is [`LayerError::UnsupportedMediaType`].
    pub fn from_media_type(media_type: &str) -> Result<Self, LayerError> {
        let base = media_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let unsupported = || LayerError::UnsupportedMediaType(media_type.to_owned());
        let oci = [
            "application/vnd.oci.image.layer.v1.tar",
            "application/vnd.oci.image.layer.nondistributable.v1.tar",
        ];
        for prefix in oci {
            if let Some(rest) = base.strip_prefix(prefix) {
                return match rest {
                    "" => Ok(Compression::None),
                    "+gzip" => Ok(Compression::Gzip),
                    "+zstd" => Ok(Compression::Zstd),
                    _ => Err(unsupported()),
                };
            }
        }
        let docker = [
            "application/vnd.docker.image.rootfs.diff.tar",
            "application/vnd.docker.image.rootfs.foreign.diff.tar",
        ];
        for prefix in docker {
            if let Some(rest) = base.strip_prefix(prefix) {
                return match rest {
                    "" => Ok(Compression::None),
                    ".gzip" | "+gzip" => Ok(Compression::Gzip),
                    ".zstd" | "+zstd" => Ok(Compression::Zstd),
                    _ => Err(unsupported()),
                };
            }
        }
        Err(unsupported())
    }

    /// Guesses the compression from the first bytes of a blob (gzip and zstd magic
    /// numbers), for blobs that come without a trustworthy media type.
    pub fn sniff(prefix: &[u8]) -> Option<Self> {
        match prefix {
            [0x1f, 0x8b, ..] => Some(Compression::Gzip),
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Compression::Zstd),
            p if p.len() >= 262 && &p[257..262] == b"ustar" => Some(Compression::None),
            _ => None,
        }
    }

    /// Lowercase name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::None => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_map_to_compression() {
        let table = [
            ("application/vnd.oci.image.layer.v1.tar", Compression::None),
            (
                "application/vnd.oci.image.layer.v1.tar+gzip",
                Compression::Gzip,
            ),
            (
                "application/vnd.oci.image.layer.v1.tar+zstd",
                Compression::Zstd,
            ),
            (
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                Compression::Gzip,
            ),
            (
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
                Compression::Gzip,
            ),
            (
                "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                Compression::Gzip,
            ),
            (
                "application/vnd.docker.image.rootfs.diff.tar",
                Compression::None,
            ),
            (
                "application/vnd.docker.image.rootfs.diff.tar.zstd",
                Compression::Zstd,
            ),
            (
                "Application/VND.OCI.image.layer.v1.tar+gzip; foo=bar",
                Compression::Gzip,
            ),
        ];
        for (mt, want) in table {
            assert_eq!(Compression::from_media_type(mt).unwrap(), want, "{mt}");
        }
    }

    #[test]
    fn unknown_media_types_name_the_type() {
        for mt in [
            "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
            "application/vnd.oci.image.config.v1+json",
            "application/octet-stream",
            "",
        ] {
            let err = Compression::from_media_type(mt).unwrap_err();
            assert_eq!(err, LayerError::UnsupportedMediaType(mt.to_owned()));
            assert!(err.to_string().contains(&format!("{mt:?}")), "{err}");
        }
    }

    #[test]
    fn sniffs_magic_numbers() {
        assert_eq!(
            Compression::sniff(&[0x1f, 0x8b, 8]),
            Some(Compression::Gzip)
        );
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            Some(Compression::Zstd)
        );
        assert_eq!(Compression::sniff(b"hello"), None);
    }
}
