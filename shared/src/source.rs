//! Where an image lives, written the way people already type it: a registry reference
//! (`nginx:1.27`), or one of skopeo's transport names for local images
//! (`oci:NAME[:TAG|@DIGEST]`, `docker-daemon:NAME[:TAG]`, `docker-daemon:sha256:ID`).
//!
//! The transport prefixes win over the registry grammar: `oci:demo` is the OCI layout
//! named `demo`, never Docker Hub's `library/oci` at tag `demo` (which stays reachable as
//! `docker.io/library/oci:demo`).

use std::fmt;

use crate::digest::{Digest, DigestError};
use crate::reference::{Reference, ReferenceError};

/// skopeo's transport prefix for OCI image layouts.
pub const OCI_TRANSPORT: &str = "oci:";
/// skopeo's transport prefix for the Docker/Podman daemon's image store.
pub const DAEMON_TRANSPORT: &str = "docker-daemon:";
/// Longest layout name accepted (a flag value, not user data: short is plenty).
const LAYOUT_NAME_MAX_LEN: usize = 64;
/// Longest tag, as in the distribution grammar.
const TAG_MAX_LEN: usize = 128;

/// An image's source, parsed from what a user typed or from an app URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageSource {
    /// A registry reference, normalized as `docker pull` does.
    Registry(Reference),
    /// An OCI image layout the companion serves (`--oci-layout NAME=DIR`, or the demo).
    OciLayout {
        /// The layout's name.
        layout: String,
        /// Which image of the layout.
        selector: LayoutSelector,
    },
    /// An image of the local Docker/Podman daemon.
    Daemon(DaemonImage),
}

/// Which image of an OCI layout: by `org.opencontainers.image.ref.name`, or by digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayoutSelector {
    /// A tag from the layout's `index.json` annotations (default `latest`).
    Tag(String),
    /// A manifest or index digest.
    Digest(Digest),
}

/// An image of the daemon: by name (and tag), or pinned by its image ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DaemonImage {
    /// `docker-daemon:NAME[:TAG]`, optionally `@sha256:ID` to pin the image ID.
    Named {
        /// The normalized name and tag; its digest, when given, is the image ID.
        reference: Reference,
    },
    /// `docker-daemon:sha256:ID`: the image ID alone (the config's digest).
    Id(Digest),
}

impl DaemonImage {
    /// The image ID this reference pins, if any.
    pub fn pinned_id(&self) -> Option<&Digest> {
        match self {
            DaemonImage::Named { reference } => reference.digest.as_ref(),
            DaemonImage::Id(id) => Some(id),
        }
    }

    /// What the Engine API takes in `/images/{name}/…`: `name:tag`, or the bare ID.
    pub fn engine_name(&self) -> String {
        match self {
            DaemonImage::Named { reference } => {
                let tag = reference.tag.as_deref().unwrap_or("latest");
                format!("{}:{tag}", reference.name())
            }
            DaemonImage::Id(id) => id.to_string(),
        }
    }
}

/// Why a string is not an image source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The registry reference does not parse.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// `oci:` with a bad layout name.
    #[error(
        "invalid OCI layout reference {input:?}: the layout name must be 1 to 64 of a-z, 0-9, \
         '.', '_' or '-', starting with a letter or digit"
    )]
    LayoutName {
        /// The source as given.
        input: String,
    },
    /// A tag outside the distribution grammar.
    #[error(
        "invalid tag in {input:?}: a tag is 1 to 128 of A-Z a-z 0-9 _ . -, not starting with . or -"
    )]
    Tag {
        /// The source as given.
        input: String,
    },
    /// A digest that does not parse.
    #[error("invalid digest in {input:?}: {problem}")]
    Digest {
        /// The source as given.
        input: String,
        /// What is wrong with it.
        problem: DigestError,
    },
}

impl ImageSource {
    /// Parses `oci:…`, `docker-daemon:…` or a registry reference.
    pub fn parse(input: &str) -> Result<ImageSource, SourceError> {
        if let Some(rest) = input.strip_prefix(OCI_TRANSPORT) {
            return parse_layout(input, rest);
        }
        if let Some(rest) = input.strip_prefix(DAEMON_TRANSPORT) {
            return parse_daemon(input, rest).map(ImageSource::Daemon);
        }
        Ok(ImageSource::Registry(Reference::parse_normalized(input)?))
    }

    /// True for sources the companion reads from this machine, not from a registry.
    pub fn is_local(&self) -> bool {
        !matches!(self, ImageSource::Registry(_))
    }
}

fn parse_layout(input: &str, rest: &str) -> Result<ImageSource, SourceError> {
    let (name, selector) = if let Some((name, digest)) = rest.split_once('@') {
        let digest = Digest::parse(digest).map_err(|problem| SourceError::Digest {
            input: input.to_owned(),
            problem,
        })?;
        (name, LayoutSelector::Digest(digest))
    } else if let Some((name, tag)) = rest.split_once(':') {
        if !is_tag(tag) {
            return Err(SourceError::Tag {
                input: input.to_owned(),
            });
        }
        (name, LayoutSelector::Tag(tag.to_owned()))
    } else {
        (rest, LayoutSelector::Tag("latest".to_owned()))
    };
    if !is_layout_name(name) {
        return Err(SourceError::LayoutName {
            input: input.to_owned(),
        });
    }
    Ok(ImageSource::OciLayout {
        layout: name.to_owned(),
        selector,
    })
}

fn parse_daemon(input: &str, rest: &str) -> Result<DaemonImage, SourceError> {
    if rest.starts_with("sha256:") || rest.starts_with("sha512:") {
        return Digest::parse(rest)
            .map(DaemonImage::Id)
            .map_err(|problem| SourceError::Digest {
                input: input.to_owned(),
                problem,
            });
    }
    let reference = Reference::parse_normalized(rest)?;
    Ok(DaemonImage::Named { reference })
}

/// A layout name: a flag's `NAME`, so the same small alphabet as a path component.
pub fn is_layout_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= LAYOUT_NAME_MAX_LEN
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(b))
}

/// A tag of the distribution grammar: `[\w][\w.-]{0,127}`.
pub fn is_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    !bytes.is_empty()
        && bytes.len() <= TAG_MAX_LEN
        && word(&bytes[0])
        && bytes.iter().all(|b| word(b) || *b == b'.' || *b == b'-')
}

impl fmt::Display for LayoutSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutSelector::Tag(tag) => write!(f, ":{tag}"),
            LayoutSelector::Digest(digest) => write!(f, "@{digest}"),
        }
    }
}

/// The form [`ImageSource::parse`] reads back.
impl fmt::Display for ImageSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageSource::Registry(reference) => write!(f, "{reference}"),
            ImageSource::OciLayout { layout, selector } => {
                write!(f, "{OCI_TRANSPORT}{layout}{selector}")
            }
            ImageSource::Daemon(DaemonImage::Id(id)) => write!(f, "{DAEMON_TRANSPORT}{id}"),
            ImageSource::Daemon(DaemonImage::Named { reference }) => {
                write!(f, "{DAEMON_TRANSPORT}{reference}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn layouts_by_tag_digest_and_default() {
        let demo = ImageSource::parse("oci:demo").unwrap();
        assert_eq!(
            demo,
            ImageSource::OciLayout {
                layout: "demo".into(),
                selector: LayoutSelector::Tag("latest".into())
            }
        );
        let tagged = ImageSource::parse("oci:ci-out:v1.2").unwrap();
        assert!(
            matches!(&tagged, ImageSource::OciLayout { selector: LayoutSelector::Tag(t), .. } if t == "v1.2")
        );
        let pinned = ImageSource::parse(&format!("oci:demo@sha256:{HEX}")).unwrap();
        assert!(matches!(
            &pinned,
            ImageSource::OciLayout {
                selector: LayoutSelector::Digest(_),
                ..
            }
        ));
        for source in [demo, tagged, pinned] {
            assert_eq!(ImageSource::parse(&source.to_string()).unwrap(), source);
            assert!(source.is_local());
        }
    }

    #[test]
    fn bad_layouts_name_the_problem() {
        for bad in [
            "oci:",
            "oci:../etc",
            "oci:Demo",
            "oci:a/b",
            "oci:-x",
            "oci:x\u{0}",
        ] {
            let err = ImageSource::parse(bad).unwrap_err();
            assert!(
                matches!(err, SourceError::LayoutName { ref input } if input == bad),
                "{bad}: {err}"
            );
        }
        assert!(matches!(
            ImageSource::parse("oci:demo:.hidden").unwrap_err(),
            SourceError::Tag { .. }
        ));
        assert!(matches!(
            ImageSource::parse("oci:demo@sha256:abc").unwrap_err(),
            SourceError::Digest { .. }
        ));
    }

    #[test]
    fn daemon_names_ids_and_pins() {
        let named = ImageSource::parse("docker-daemon:app:dev").unwrap();
        let ImageSource::Daemon(image) = &named else {
            panic!("{named:?}")
        };
        assert_eq!(image.engine_name(), "docker.io/library/app:dev");
        assert_eq!(image.pinned_id(), None);

        let by_id = ImageSource::parse(&format!("docker-daemon:sha256:{HEX}")).unwrap();
        let ImageSource::Daemon(DaemonImage::Id(id)) = &by_id else {
            panic!("{by_id:?}")
        };
        assert_eq!(id.hex(), HEX);

        let pinned =
            ImageSource::parse(&format!("docker-daemon:127.0.0.1:5000/x/y@sha256:{HEX}")).unwrap();
        let ImageSource::Daemon(image) = &pinned else {
            panic!("{pinned:?}")
        };
        assert_eq!(image.pinned_id().map(Digest::hex), Some(HEX));
        for source in [named, by_id, pinned] {
            assert_eq!(ImageSource::parse(&source.to_string()).unwrap(), source);
        }
    }

    #[test]
    fn daemon_names_with_metacharacters_are_refused() {
        for bad in [
            "docker-daemon:app;rm -rf /",
            "docker-daemon:../../etc/passwd",
            "docker-daemon:app$(id)",
            "docker-daemon:app/../x",
            "docker-daemon:sha256:zz",
        ] {
            assert!(ImageSource::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn registry_references_pass_through() {
        let source = ImageSource::parse("nginx:1.27").unwrap();
        assert_eq!(source.to_string(), "docker.io/library/nginx:1.27");
        assert!(!source.is_local());
    }
}
