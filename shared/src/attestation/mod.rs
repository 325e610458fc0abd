//! What is attached to an image and says where it came from: in-toto statements
//! ([`statement`]) carrying SLSA provenance ([`slsa`]) or SBOMs ([`spdx`], [`cyclonedx`],
//! normalized in [`sbom`]), cosign signatures ([`cosign`], with keyless certificates read
//! by [`certificate`]), Notation signatures ([`notation`]), what kind of artifact a
//! manifest is ([`artifact`]), provenance labels ([`labels`]), package URLs ([`purl`]), and
//! ECDSA P-256 verification against a key the user holds ([`verify`]).
//!
//! Every input here is untrusted JSON from a registry: parsing never panics, errors name
//! the input, and large SBOMs are read straight into compact structs.

pub mod artifact;
pub mod certificate;
pub mod cosign;
pub mod cyclonedx;
pub mod labels;
pub mod notation;
pub mod purl;
pub mod sbom;
pub mod slsa;
pub mod spdx;
pub mod statement;
pub mod verify;

pub use artifact::ArtifactKind;
pub use cosign::{CosignSignature, SimpleSigning};
pub use labels::{LabelLink, ProvenanceLabel, provenance_labels};
pub use purl::Purl;
pub use sbom::{Package, Sbom, SbomFormat};
pub use slsa::{Material, MaterialKind, Provenance, SlsaVersion};
pub use statement::{Envelope, ParsedStatement, Predicate, Statement, Subject, parse_statement};
pub use verify::{PublicKey, SignatureError};

/// Why an attached document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AttestationError {
    /// Not JSON of the expected shape.
    #[error("invalid {what}: {source} (document starts {preview:?})")]
    Json {
        /// What it was parsed as.
        what: &'static str,
        /// The first bytes of the document.
        preview: String,
        /// The parser's complaint, with line and column.
        source: serde_json::Error,
    },
    /// A base64 field that does not decode.
    #[error("invalid base64 in {what}: {input:?}")]
    Base64 {
        /// The field.
        what: &'static str,
        /// Its first characters.
        input: String,
    },
    /// A certificate that is not PEM-wrapped DER X.509.
    #[error("invalid certificate ({reason}): {input:?}")]
    Certificate {
        /// What is wrong.
        reason: &'static str,
        /// Its first characters.
        input: String,
    },
}

/// The first characters of an input, for error messages (never the whole of an SBOM).
pub(crate) fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(80)]);
    text.into_owned()
}

/// Parses `bytes` as `T`, naming `what` on failure.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, AttestationError> {
    serde_json::from_slice(bytes).map_err(|source| AttestationError::Json {
        what,
        preview: preview(bytes),
        source,
    })
}

/// Deserializes `null` as the type's default (registries and tools write `null` freely).
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    use serde::Deserialize as _;
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
