//! Manifest documents of the OCI image spec and Docker's distribution formats, one file
//! per document. Strata only reads them: plain `pub` fields with serde. Parsing keeps the
//! raw bytes, because digests are over bytes, never over re-serialized JSON.

mod config;
mod descriptor;
mod document;
mod image_manifest;
mod index;
mod layer_format;
mod layer_tally;
mod platform;
mod schema1;

pub use config::{ContainerConfig, HistoryStep, ImageConfig, RootFs, layer_history};
pub use descriptor::Descriptor;
pub use document::{Document, MAX_MANIFEST_BYTES, ManifestError, ParsedDocument};
pub use image_manifest::ImageManifest;
pub use index::{ATTESTATION_MANIFEST, ImageIndex, IndexEntries, PlatformEntry};
pub use layer_format::{
    ENCRYPTION_KEYS_PREFIX, ENCRYPTION_PUBOPTS, ESTARGZ_TOC_DIGEST, LayerFormat,
    ZSTD_CHUNKED_MANIFEST_CHECKSUM, ZSTD_CHUNKED_MANIFEST_CHECKSUM_LEGACY,
};
pub use layer_tally::LayerTally;
pub use platform::Platform;
pub use schema1::{Schema1Error, Schema1Layer, Schema1Manifest, Schema1Signature};
