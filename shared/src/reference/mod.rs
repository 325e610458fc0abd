//! Image references: distribution/reference's grammar and the docker CLI's normalization.
//!
//! Two layers, as in distribution/reference:
//!
//! - [`parse_strict`] is the grammar alone (distribution's `Parse`): it splits what was
//!   written into domain, path, tag and digest, and adds nothing.
//! - [`Reference::parse_normalized`] is what `docker pull` does (`ParseNormalizedNamed`
//!   followed by `TagNameOnly`): `nginx` becomes `docker.io/library/nginx:latest`.
//!
//! # Grammar
//!
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := [ domain "/" ] remote-name
//! domain           := host [ ":" port-number ]
//! host             := domain-name | IPv4address | "[" IPv6address "]"
//! domain-name      := domain-component [ "." domain-component ]*
//! domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//! IPv6address      := /[a-fA-F0-9:]+/          ; no zone, no embedded IPv4
//! port-number      := /[0-9]+/
//! remote-name      := path-component [ "/" path-component ]*   ; at most 255 characters
//! path-component   := alpha-numeric [ separator alpha-numeric ]*
//! alpha-numeric    := /[a-z0-9]+/
//! separator        := /[_.]|__|[-]+/
//! tag              := /[\w][\w.-]{0,127}/
//! digest           := algorithm ":" hex
//! algorithm        := /[A-Za-z][A-Za-z0-9]*/ [ /[-_+.]/ /[A-Za-z][A-Za-z0-9]*/ ]*
//! hex              := /[0-9a-fA-F]{32,}/         ; then sha256/sha512 with exact length only
//! identifier       := /[a-f0-9]{64}/            ; refused as a name by normalization
//! ```
//!
//! The first path component is the domain when it is a valid `domain` and the rest is a
//! valid `remote-name`; otherwise the whole name is the remote name (so `foo/bar` has the
//! domain `foo` for the strict grammar, and normalization then decides what a domain is).
//! Digests that pass the syntax are then validated by [`Digest`], which is stricter than
//! go-digest: only `sha256` and `sha512` are accepted.

mod grammar;
mod normalize;
mod registry_kind;

pub use grammar::{ParsedReference, parse_strict};
pub use normalize::Reference;
pub use registry_kind::{GHCR_HOST, QUAY_HOST, RegistryKind};

use crate::digest::{Digest, DigestError};

/// Longest repository path (remote name, without the domain) the grammar accepts.
pub const REPOSITORY_NAME_MAX_LEN: usize = 255;

/// Why a string is not a reference. Each message names the input and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Nothing was given.
    #[error("invalid reference \"\": a reference needs at least a repository name")]
    Empty,
    /// The input does not match the grammar.
    #[error("invalid reference {input:?}: invalid reference format: {reason}")]
    InvalidFormat {
        /// The reference as given.
        input: String,
        /// Which part of the grammar failed.
        reason: &'static str,
    },
    /// The input would match the grammar if it were lowercase.
    #[error("invalid reference {0:?}: repository name must be lowercase")]
    Uppercase(String),
    /// The repository path is longer than [`REPOSITORY_NAME_MAX_LEN`].
    #[error(
        "invalid reference {input:?}: repository name must not be more than 255 characters, \
         got {length}"
    )]
    NameTooLong {
        /// The reference as given.
        input: String,
        /// Length of the repository path.
        length: usize,
    },
    /// The digest has the right shape but is not one Strata accepts.
    #[error("invalid reference {input:?}: {problem}")]
    Digest {
        /// The reference as given.
        input: String,
        /// What is wrong with the digest.
        problem: DigestError,
    },
    /// A bare 64-hex identifier, which docker refuses as a repository name.
    #[error("invalid reference {0:?}: cannot specify 64-byte hexadecimal strings")]
    HexIdentifier(String),
    /// The registry part is not a valid host, though the rest would parse as a Docker Hub
    /// path (`foo_bar.com/app`). docker accepts these with an empty domain and fails later.
    #[error("invalid reference {input:?}: registry {registry:?} is not a valid host name")]
    InvalidRegistry {
        /// The reference as given.
        input: String,
        /// The part taken for a registry.
        registry: String,
    },
}

/// Writes `[:tag][@digest]`, the part of a reference after its name.
fn write_suffix(
    f: &mut std::fmt::Formatter<'_>,
    tag: Option<&str>,
    digest: Option<&Digest>,
) -> std::fmt::Result {
    if let Some(tag) = tag {
        write!(f, ":{tag}")?;
    }
    if let Some(digest) = digest {
        write!(f, "@{digest}")?;
    }
    Ok(())
}
