//! A real Podman API service (Debian's `podman`, `podman system service`), which serves
//! the Docker Engine API that the companion's daemon routes speak. Its storage (vfs), run
//! root and socket are in a temp directory of its own; it is stopped, by its own process
//! id, when dropped. Nothing of a Podman the user runs is touched.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tempfile::TempDir;

use crate::tools;

/// A running `podman system service`; stopped on drop.
pub struct PodmanService {
    child: Child,
    dir: TempDir,
}

impl PodmanService {
    /// Starts the service on a socket of its own and waits until it answers.
    pub fn start() -> anyhow::Result<PodmanService> {
        tools::require("podman")?;
        let dir = tempfile::Builder::new().prefix("sp").tempdir_in("/tmp")?;
        let log = std::fs::File::create(dir.path().join("podman.log"))?;
        let socket = dir.path().join("podman.sock");
        let child = Self::podman_command(dir.path())
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting podman system service")?;
        let service = PodmanService { child, dir };
        let started = Instant::now();
        while !socket.exists() {
            if started.elapsed() > Duration::from_secs(30) {
                bail!(
                    "podman did not open its socket within 30 s; its log:\n{}",
                    std::fs::read_to_string(service.dir.path().join("podman.log"))
                        .unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(service)
    }

    fn podman_command(dir: &Path) -> Command {
        let mut command = Command::new("podman");
        command
            .arg("--storage-driver=vfs")
            .arg("--root")
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("run"));
        command
    }

    /// The service's socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("podman.sock")
    }

    /// `podman load -i archive` into this service's storage; podman's output.
    pub fn load(&self, archive: &Path) -> anyhow::Result<String> {
        let output = Self::podman_command(self.dir.path())
            .arg("load")
            .arg("-i")
            .arg(archive)
            .stdin(Stdio::null())
            .output()
            .context("running podman load")?;
        if !output.status.success() {
            bail!(
                "podman load failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        tools::stop_child(&mut self.child, Duration::from_secs(10));
    }
}
