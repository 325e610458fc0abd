//! A real Docker Engine (Debian's `docker.io`) for the local-image tests: `dockerd` with
//! the vfs storage driver and no networking, which runs as root with no container runtime
//! and is enough to load, list and save images. Each [`DockerDaemon`] has its own data
//! and exec roots and socket in a temp directory; it is stopped, by its own process id,
//! when dropped. Nothing of a daemon the user runs is touched.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tempfile::TempDir;

use crate::tools;

/// How long `dockerd` may take to answer on its socket.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `dockerd`; stopped on drop.
pub struct DockerDaemon {
    child: Child,
    dir: TempDir,
}

impl DockerDaemon {
    /// Starts `dockerd` on a socket of its own and waits until it answers.
    pub fn start() -> anyhow::Result<DockerDaemon> {
        let dockerd = tools::require("dockerd")?;
        tools::require("docker")?;
        // Short paths: a Unix socket path is limited to about 100 bytes.
        let dir = tempfile::Builder::new().prefix("sd").tempdir_in("/tmp")?;
        let log = std::fs::File::create(dir.path().join("dockerd.log"))?;
        let socket = dir.path().join("docker.sock");
        let child = Command::new(dockerd)
            .args([
                "--storage-driver=vfs",
                "--iptables=false",
                "--ip-masq=false",
            ])
            .args(["--bridge=none", "--ip6tables=false"])
            .arg("--data-root")
            .arg(dir.path().join("data"))
            .arg("--exec-root")
            .arg(dir.path().join("exec"))
            .arg("--pidfile")
            .arg(dir.path().join("dockerd.pid"))
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting dockerd")?;
        let daemon = DockerDaemon { child, dir };
        let started = Instant::now();
        while daemon
            .docker(&["version", "--format", "{{.Server.Version}}"])
            .is_err()
        {
            if started.elapsed() > STARTUP_TIMEOUT {
                bail!(
                    "dockerd did not answer within {STARTUP_TIMEOUT:?}; its log:\n{}",
                    std::fs::read_to_string(daemon.dir.path().join("dockerd.log"))
                        .unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(daemon)
    }

    /// The daemon's socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    /// `docker -H unix://SOCKET args…`; stdout, or an error with stderr.
    pub fn docker(&self, args: &[&str]) -> anyhow::Result<String> {
        let host = format!("unix://{}", self.socket().display());
        let output = Command::new(tools::require("docker")?)
            .arg("-H")
            .arg(&host)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .context("running docker")?;
        if !output.status.success() {
            bail!(
                "`docker {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// `docker load -i archive`.
    pub fn load(&self, archive: &Path) -> anyhow::Result<String> {
        self.docker(&["load", "-i", &archive.to_string_lossy()])
    }
}

impl DockerDaemon {
    /// SIGKILL, as a crash would: streams in flight end mid-way.
    pub fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DockerDaemon {
    fn drop(&mut self) {
        // SIGTERM lets dockerd stop its containerd child; then reap ours.
        tools::stop_child(&mut self.child, Duration::from_secs(15));
    }
}
