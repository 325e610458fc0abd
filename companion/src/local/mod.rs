//! Local sources: OCI image layouts on this machine (`--oci-layout NAME=DIR`), the
//! built-in demo image (`oci:demo`), and the Docker/Podman daemon (`--docker-host`). The
//! companion only carries their bytes; the page verifies every digest as for a registry.

mod daemon;
mod demo;
mod error;
mod layout;
mod routes;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

pub use daemon::{Daemon, DaemonImageSummary};
pub use error::LocalError;
pub use layout::{Layout, MemoryLayout};
pub(crate) use routes::router;

/// The name the demo layout is served under.
pub const DEMO_LAYOUT: &str = "demo";

/// The layouts served and the daemon, if any.
#[derive(Clone, Debug)]
pub struct LocalSources {
    layouts: BTreeMap<String, Layout>,
    daemon: Option<Daemon>,
}

impl LocalSources {
    /// The demo, the given layout directories, and the daemon at `docker_socket`.
    pub fn new(layouts: &[(String, PathBuf)], docker_socket: Option<PathBuf>) -> LocalSources {
        let mut served = BTreeMap::new();
        served.insert(
            DEMO_LAYOUT.to_owned(),
            Layout::Memory(Arc::new(demo::build())),
        );
        for (name, dir) in layouts {
            served.insert(name.clone(), Layout::Dir(dir.clone()));
        }
        LocalSources {
            layouts: served,
            daemon: docker_socket.map(Daemon::new),
        }
    }

    /// Every layout by name.
    pub fn layouts(&self) -> impl Iterator<Item = (&String, &Layout)> {
        self.layouts.iter()
    }

    /// The layout called `name`.
    pub fn layout(&self, name: &str) -> Result<&Layout, LocalError> {
        self.layouts
            .get(name)
            .ok_or_else(|| LocalError::UnknownLayout(name.to_owned()))
    }

    /// The daemon, when one is configured.
    pub fn daemon(&self) -> Option<&Daemon> {
        self.daemon.as_ref()
    }
}
