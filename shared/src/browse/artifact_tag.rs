//! Tags that are not images but describe one: cosign stores a signature of manifest
//! `sha256:<hex>` under the tag `sha256-<hex>.sig`, an attestation under `.att`, an SBOM
//! under `.sbom`; the OCI 1.1 referrers fallback stores the referrers index under
//! `sha256-<hex>` itself. The browse page folds them under the tag of their subject.

use std::fmt;

use crate::digest::Digest;

/// What an artifact tag holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArtifactKind {
    /// `.sig`: a cosign signature.
    Signature,
    /// `.att`: a cosign attestation.
    Attestation,
    /// `.sbom`: a cosign SBOM attachment.
    Sbom,
    /// No suffix: the OCI 1.1 referrers index of the tag schema.
    Referrers,
}

impl ArtifactKind {
    /// The suffix as written in the tag, which is also the label of its badge.
    pub fn label(self) -> &'static str {
        match self {
            ArtifactKind::Signature => "sig",
            ArtifactKind::Attestation => "att",
            ArtifactKind::Sbom => "sbom",
            ArtifactKind::Referrers => "referrers",
        }
    }
}

impl fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// An artifact tag read: the manifest it describes and what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactTag {
    /// The manifest described.
    pub subject: Digest,
    /// What the tag holds.
    pub kind: ArtifactKind,
}

impl ArtifactTag {
    /// Reads `<algorithm>-<hex>[.sig|.att|.sbom]`; any other tag (another suffix, a hex
    /// of the wrong length or case) is an image tag: `None`.
    pub fn parse(tag: &str) -> Option<ArtifactTag> {
        let (stem, kind) = match tag.rsplit_once('.') {
            Some((stem, "sig")) => (stem, ArtifactKind::Signature),
            Some((stem, "att")) => (stem, ArtifactKind::Attestation),
            Some((stem, "sbom")) => (stem, ArtifactKind::Sbom),
            Some(_) => return None,
            None => (tag, ArtifactKind::Referrers),
        };
        let (algorithm, hex) = stem.split_once('-')?;
        let subject = Digest::parse(&format!("{algorithm}:{hex}")).ok()?;
        Some(ArtifactTag { subject, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosign_and_referrers_tags() {
        let hex = "a".repeat(64);
        let subject = Digest::parse(&format!("sha256:{hex}")).unwrap();
        for (suffix, kind) in [
            (".sig", ArtifactKind::Signature),
            (".att", ArtifactKind::Attestation),
            (".sbom", ArtifactKind::Sbom),
            ("", ArtifactKind::Referrers),
        ] {
            assert_eq!(
                ArtifactTag::parse(&format!("sha256-{hex}{suffix}")),
                Some(ArtifactTag {
                    subject: subject.clone(),
                    kind
                }),
                "{suffix}"
            );
        }
    }

    #[test]
    fn image_tags_are_not_artifacts() {
        let hex = "a".repeat(64);
        for tag in [
            "latest".to_owned(),
            "1.27.0".to_owned(),
            format!("sha256-{hex}.tar"),
            format!("sha256-{}.sig", "a".repeat(63)),
            format!("sha256-{}.sig", "A".repeat(64)),
            format!("sha256_{hex}.sig"),
            format!("md5-{hex}.sig"),
            "sha256-.sig".to_owned(),
        ] {
            assert_eq!(ArtifactTag::parse(&tag), None, "{tag}");
        }
    }
}
