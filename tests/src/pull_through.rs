//! The real Distribution registry in pull-through-cache mode (`proxy.remoteurl`), as a
//! team would run it in front of Docker Hub, here in front of another registry on
//! loopback. Killed on drop, like [`Registry`](crate::registry::Registry).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tempfile::TempDir;

use crate::registry::REGISTRY_BINARY;
use crate::tools;

/// A running pull-through cache; killed on drop.
#[derive(Debug)]
pub struct PullThroughCache {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl PullThroughCache {
    /// Starts a cache of `remote_url` (e.g. `http://127.0.0.1:PORT`).
    pub async fn start(remote_url: &str) -> anyhow::Result<PullThroughCache> {
        let binary = tools::require(REGISTRY_BINARY)?;
        let mut last_err = None;
        for _ in 0..3 {
            match Self::launch(&binary, remote_url).await {
                Ok(cache) => return Ok(cache),
                Err(err) => last_err = Some(err),
            }
        }
        Err(last_err.expect("at least one attempt"))
    }

    async fn launch(binary: &Path, remote_url: &str) -> anyhow::Result<PullThroughCache> {
        let dir = tempfile::Builder::new()
            .prefix("strata-pull-through-")
            .tempdir()?;
        let port = TcpListener::bind("127.0.0.1:0")
            .context("no free loopback port")?
            .local_addr()?
            .port();
        let storage = dir.path().join("storage");
        std::fs::create_dir(&storage)?;
        let config = dir.path().join("config.yml");
        std::fs::write(&config, config_yaml(port, &storage, remote_url))?;
        let log = std::fs::File::create(dir.path().join("registry.log"))?;
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("could not start {}", binary.display()))?;
        let mut cache = PullThroughCache { child, port, dir };
        cache.wait_ready().await?;
        Ok(cache)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()?;
        let url = format!("{}/v2/", self.url());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "docker-registry (proxy mode) exited ({status}) while starting:\n{}",
                    self.log()
                );
            }
            if client
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(20) {
                bail!("pull-through cache did not answer {url}:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// Whether the cache holds blob `digest` (`sha256:…`) in its own storage.
    pub fn has_blob(&self, digest: &str) -> bool {
        let hex = digest.trim_start_matches("sha256:");
        self.storage_dir()
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

    fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// What the cache logged so far, its access log included.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for PullThroughCache {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config_yaml(port: u16, storage: &Path, remote_url: &str) -> String {
    let q = |s: &str| serde_json::to_string(s).expect("string serializes");
    format!(
        "version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: {addr}
  secret: strata-pull-through-secret
proxy:
  remoteurl: {remote}
",
        storage = q(&storage.to_string_lossy()),
        addr = q(&format!("127.0.0.1:{port}")),
        remote = q(remote_url),
    )
}
