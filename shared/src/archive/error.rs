use crate::digest::DigestError;

/// Why an archive or layout cannot be read. Each message names the member or value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    /// A JSON member does not parse.
    #[error("{member} is not valid JSON for its format: {reason}")]
    Json {
        /// The member (`index.json`, `manifest.json`, `oci-layout`).
        member: &'static str,
        /// serde's message.
        reason: String,
    },
    /// A JSON member is larger than Strata reads.
    #[error("{member} is {size} bytes; more than the {limit} bytes Strata reads")]
    TooLarge {
        /// The member.
        member: &'static str,
        /// Its size.
        size: u64,
        /// The cap.
        limit: u64,
    },
    /// `oci-layout` names a version this reader does not know.
    #[error("oci-layout says imageLayoutVersion {0:?}; Strata reads 1.x layouts")]
    LayoutVersion(String),
    /// A member path leaves the archive or layout (`..`, absolute, backslash, NUL).
    #[error("unsafe path {0:?} in the archive: paths must stay inside it")]
    UnsafePath(String),
    /// A blob path that is not `blobs/ALG/HEX` with a valid digest.
    #[error("bad blob path {path:?}: {problem}")]
    BlobPath {
        /// The path.
        path: String,
        /// What is wrong with its digest.
        problem: DigestError,
    },
    /// No image of the layout carries this tag.
    #[error("no image tagged {tag:?} here; tags: {}", if available.is_empty() { "none".to_owned() } else { available.join(", ") })]
    TagNotFound {
        /// The tag asked for.
        tag: String,
        /// The tags there are.
        available: Vec<String>,
    },
    /// The archive or layout lists no image.
    #[error("{0} lists no image")]
    Empty(&'static str),
}
