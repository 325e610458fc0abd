//! The real Distribution registry in pull-through-cache mode (`proxy.remoteurl`), as a
//! team would run it in front of Docker Hub, here in front of another registry on
//! loopback. Killed on drop, like [`Registry`](crate::registry::Registry).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::registry::{Process, base_config_yaml, yaml_str};

/// A running pull-through cache; killed on drop.
#[derive(Debug)]
pub struct PullThroughCache {
    process: Process,
}

impl PullThroughCache {
    /// Starts a cache of `remote_url` (e.g. `http://127.0.0.1:PORT`).
    pub async fn start(remote_url: &str) -> anyhow::Result<PullThroughCache> {
        let process = Process::start(
            "docker-registry (proxy mode)",
            "strata-pull-through-",
            &[200],
            None,
            |port, storage| config_yaml(port, storage, remote_url),
        )
        .await?;
        Ok(PullThroughCache { process })
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        self.process.host()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.process.url()
    }

    /// Whether the cache holds blob `digest` (`sha256:…`) in its own storage.
    pub fn has_blob(&self, digest: &str) -> bool {
        let hex = digest.trim_start_matches("sha256:");
        self.process
            .storage_dir()
            .join("docker/registry/v2/blobs/sha256")
            .join(hex.get(..2).unwrap_or_default())
            .join(hex)
            .join("data")
            .is_file()
    }

    /// Waits until the cache has stored every one of `digests` (it stores blobs in the
    /// background while serving them).
    pub async fn wait_for_blobs(&self, digests: &[String]) -> anyhow::Result<()> {
        let started = Instant::now();
        while !digests.iter().all(|d| self.has_blob(d)) {
            if started.elapsed() > Duration::from_secs(20) {
                let missing: Vec<_> = digests.iter().filter(|d| !self.has_blob(d)).collect();
                bail!(
                    "pull-through cache never stored {missing:?}:\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// What the cache logged so far, its access log included.
    pub fn log(&self) -> String {
        self.process.log()
    }
}

/// The shared registry config with the access log on, plus `proxy.remoteurl`.
fn config_yaml(port: u16, storage: &Path, remote_url: &str) -> String {
    let mut yaml = base_config_yaml(port, storage, true);
    yaml.push_str("proxy:\n  remoteurl: ");
    yaml.push_str(&yaml_str(remote_url));
    yaml.push('\n');
    yaml
}
