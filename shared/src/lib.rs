//! Strata's core: everything about container images that needs no network.
//!
//! Modules follow the specs they implement: [`reference`] (distribution's reference
//! grammar and docker's normalization), [`digest`], [`media_type`], [`manifest`] (one
//! file per spec document), [`layer`] (the sans-I/O layer pipeline) and [`tree`] (the
//! merged image tree and the explorer's views of it), [`source`] (where an image lives),
//! [`paste`] (the reference in a pasted text), [`archive`] (local archives and layouts),
//! [`link`] (`Link` headers, for paging), [`compare`] (two images side by side) and [`browse`] (a repository's tags and a
//! registry's catalog, as the browse pages list them). The same code runs natively and
//! in `wasm32-unknown-unknown` Web Workers.
#![deny(missing_docs)]

pub mod archive;
pub mod attestation;
pub mod browse;
pub mod compare;
pub mod digest;
pub mod layer;
pub mod link;
pub mod manifest;
pub mod media_type;
pub mod paste;
pub mod reference;
pub mod source;
pub mod tree;

pub use digest::{Algorithm, Digest, DigestError, DigestVerifier};
pub use media_type::MediaType;
pub use reference::{Reference, ReferenceError};
