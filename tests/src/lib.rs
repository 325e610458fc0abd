//! Test support for Strata's integration tests: real servers and images built in code.
//!
//! - [`registry`] runs the real CNCF Distribution registry (Debian `docker-registry`) on a
//!   free loopback port, optionally behind [`token_server`]'s Docker token protocol.
//! - [`image`] builds layers, configs, manifests and indexes in code; [`push`] sends them
//!   over the distribution API; [`fixtures`] holds ready-made image specs.
//! - [`docker_daemon`] runs a real Docker Engine (`dockerd`, vfs, no network) for local images.
//! - [`tools`] finds external tools (skopeo) and cross-checks with them.
//! - [`companion`] starts the Strata companion in-process; [`http`] asks it one thing.
//! - [`pull_through`] runs the same registry as a pull-through cache (`proxy.remoteurl`).
//! - [`tap`] records what clients send to a real server, byte for byte.
//! - [`tls`] makes a private CA and server certificates at test time, and serves small
//!   routers over https.
//! - [`fake_registry`] is a small lying-by-design upstream for what Distribution 2.8
//!   cannot show: blob redirects to another host name, paginated tags.
//! - [`scripted_registry`] serves one image from memory and lies or stalls on cue.
//! - [`paging_proxy`] pages the real registry's tag lists as Distribution 3 does.
//! - [`passthrough`] holds back blob tails and adds manifest headers in front of the
//!   real registry.
//! - [`lazy_layers`] builds eStargz and zstd:chunked layers to their published formats.
//!
//! A missing tool is an error that says to run `scripts/setup.sh`: tests fail, never skip.

pub mod browser;
pub mod companion;
pub mod docker_daemon;
pub mod fake_registry;
pub mod fixtures;
pub mod http;
pub mod image;
pub mod lazy_layers;
pub mod local_images;
pub mod paging_proxy;
pub mod passthrough;
pub mod podman_service;
pub mod provenance_fixtures;
pub mod pull_through;
pub mod push;
pub mod real_files;
pub mod registry;
pub mod schema1;
pub mod scripted_registry;
pub mod tap;
pub mod tls;
pub mod token_server;
pub mod tools;
