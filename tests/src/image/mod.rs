//! Container images built in code: layers (tar + gzip), configs, manifests and indexes,
//! in OCI or Docker schema2 media types.
//!
//! Builds are deterministic (fixed mtimes, owners and gzip header), so the same spec
//! always gives the same digests. A layer's `digest` is over the compressed blob; its
//! `diff_id` over the uncompressed tar — the two are never confused.
//! [`push`](crate::push) sends what is built here to a registry.
//!
//! [`media`]: media types and keys; [`layer`]: entries, tar and gzip; [`spec`]: what
//! defines an image and its config; [`built`]: manifests and attestations; [`index`]:
//! indexes.

mod built;
mod descriptor;
mod index;
mod layer;
mod media;
mod spec;

pub use built::*;
pub use descriptor::*;
pub use index::*;
pub use layer::*;
pub use media::*;
pub use spec::*;

/// Every manifest type, for `Accept` headers.
pub const ACCEPT_ALL_MANIFESTS: &str = strata_shared::media_type::MANIFEST_ACCEPT;
