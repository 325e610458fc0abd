//! The local forms of an image, read without I/O: OCI image layouts (a directory, or the
//! tar of one that `docker save` writes since Docker 25 and `skopeo … oci-archive:`
//! writes) and the legacy `docker save` tar (`manifest.json`, `<id>.json`,
//! `<dir>/layer.tar`). The companion reads layout directories with these; the page reads
//! archive files with them. Every path an archive names is checked before it is used.

mod docker_archive;
mod error;
mod legacy;
mod oci_layout;
mod tar_table;

pub use docker_archive::{LegacyImage, parse_legacy_manifest, safe_member_path};
pub use error::ArchiveError;
pub use legacy::{LegacyLayout, SYNTHESIZED, UNCOMPRESSED_LAYER, synthesize};
pub use oci_layout::{
    INDEX_FILE, LAYOUT_FILE, MAX_INDEX_BYTES, REF_NAME, blob_path, check_layout_marker,
    digest_of_blob_path, parse_layout_index, resolve, tags,
};
pub use tar_table::{MAX_MEMBERS, Member, Step, TarTable};
