//! A repository's tags and a registry's repositories as the browse pages show them, decided
//! here so that it runs (and is tested) natively; the page only fetches:
//!
//! - [`listing`]: the `tags/list` and `_catalog` documents, and the repository a page URL
//!   names;
//! - [`artifact_tag`]: tags that name a signature, attestation or SBOM of another manifest
//!   (cosign's `sha256-<hex>.sig`) rather than an image;
//! - [`rows`]: tags grouped by the digest they point at, those artifact tags folded under
//!   their subject, rows filtered and sorted, and the tags that moved since a remembered
//!   visit;
//! - [`time`]: the `created` time of a config, for sorting.

pub mod artifact_tag;
pub mod listing;
pub mod rows;
pub mod time;
