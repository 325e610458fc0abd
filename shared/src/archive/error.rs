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
    /// The file is not a tar (a compressed archive is recognized before this).
    #[error("not a tar archive: {0}")]
    NotTar(String),
    /// The outer tar ends inside a member.
    #[error("the archive is truncated: it ends inside the member whose header is at byte {at}")]
    Truncated {
        /// Offset of the member's header.
        at: u64,
    },
    /// A header field that cannot be read.
    #[error("bad tar header at byte {at}: {problem}")]
    BadHeader {
        /// Offset of the header.
        at: u64,
        /// What is wrong.
        problem: &'static str,
    },
    /// The same path twice: which one is meant cannot be told.
    #[error("duplicate entry {0:?} in the archive")]
    Duplicate(String),
    /// More members than Strata reads.
    #[error("the archive has more than {0} members")]
    TooManyMembers(usize),
    /// A member that `manifest.json` or `index.json` names is not in the archive.
    #[error("the archive has no member {0:?}, which its manifest names")]
    MissingMember(String),
    /// A legacy config whose bytes do not hash to the image ID its name claims.
    #[error("config {path:?} does not match its name: its sha256 is {actual}")]
    ConfigMismatch {
        /// The config's path.
        path: String,
        /// What its bytes hash to.
        actual: String,
    },
    /// `manifest.json` lists another number of layers than the config's diff_ids.
    #[error("manifest.json lists {listed} layers but the config has {diff_ids} diff_ids")]
    LayerCount {
        /// Layers in manifest.json.
        listed: usize,
        /// diff_ids in the config.
        diff_ids: usize,
    },
    /// The archive or layout lists no image.
    #[error("{0} lists no image")]
    Empty(&'static str),
}
