//! External tools the tests rely on, and cross-checks made with them.
//!
//! A missing tool is an error naming it and telling to run `scripts/setup.sh`: the
//! tests fail, they never skip.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use sha2::{Digest as _, Sha256};

/// How long one external tool may run before the test fails.
const TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// The path of `binary` (a bare name looked up on `PATH` and in `/usr/bin`, `/usr/sbin`,
/// or an absolute path), or an error telling to run `scripts/setup.sh`.
pub fn require(binary: &str) -> anyhow::Result<PathBuf> {
    let candidate = Path::new(binary);
    if candidate.is_absolute() {
        if is_executable(candidate) {
            return Ok(candidate.to_path_buf());
        }
    } else {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let dirs = std::env::split_paths(&path)
            .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")]);
        for dir in dirs {
            let full = dir.join(binary);
            if is_executable(&full) {
                return Ok(full);
            }
        }
    }
    bail!("`{binary}` is not installed: run scripts/setup.sh (the integration tests need it)")
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs `program args…` with a timeout; returns stdout, or an error with stderr.
pub async fn run(program: &Path, args: &[&str]) -> anyhow::Result<Vec<u8>> {
    let shown = format!("{} {}", program.display(), args.join(" "));
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(TOOL_TIMEOUT, child)
        .await
        .with_context(|| format!("`{shown}` did not finish in {TOOL_TIMEOUT:?}"))?
        .with_context(|| format!("could not run `{shown}`"))?;
    if !output.status.success() {
        bail!(
            "`{shown}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(output.stdout)
}

/// `skopeo inspect --raw`: the exact manifest bytes skopeo reads for `host/name:tag`
/// (plain http, as for the loopback test registry).
pub async fn skopeo_inspect_raw(host: &str, name: &str, tag: &str) -> anyhow::Result<Vec<u8>> {
    let skopeo = require("skopeo")?;
    let image = format!("docker://{host}/{name}:{tag}");
    run(&skopeo, &["inspect", "--tls-verify=false", "--raw", &image]).await
}

/// The manifest digest of `host/name:tag` as skopeo sees it, cross-checked two ways:
/// `skopeo inspect --format '{{.Digest}}'` must equal the sha256 of `skopeo inspect --raw`.
pub async fn skopeo_inspect_digest(host: &str, name: &str, tag: &str) -> anyhow::Result<String> {
    let skopeo = require("skopeo")?;
    let image = format!("docker://{host}/{name}:{tag}");
    let raw = skopeo_inspect_raw(host, name, tag).await?;
    let raw_digest = format!("sha256:{}", hex::encode(Sha256::digest(&raw)));
    // For an index, the formatted inspect resolves the platform of this machine; force
    // one that the test images carry so it works on any host.
    let out = run(
        &skopeo,
        &[
            "inspect",
            "--tls-verify=false",
            "--override-os=linux",
            "--override-arch=amd64",
            "--format",
            "{{.Digest}}",
            &image,
        ],
    )
    .await?;
    let reported = String::from_utf8(out)
        .context("skopeo printed non-UTF-8")?
        .trim()
        .to_owned();
    if reported != raw_digest {
        bail!("skopeo reports digest {reported} but its raw manifest hashes to {raw_digest}");
    }
    Ok(reported)
}

/// Stops a server the tests started: SIGTERM (so it can stop its own children), then,
/// after `grace`, SIGKILL; reaped either way. Only this child's process id is signalled.
pub fn stop_child(child: &mut std::process::Child, grace: std::time::Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = std::process::Command::new("kill")
        .arg(child.id().to_string())
        .status();
    let deadline = std::time::Instant::now() + grace;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tools_say_how_to_install_them() {
        let err = require("strata-no-such-tool").unwrap_err().to_string();
        assert!(
            err.contains("strata-no-such-tool") && err.contains("run scripts/setup.sh"),
            "{err}"
        );
        let err = require("/nonexistent/docker-registry")
            .unwrap_err()
            .to_string();
        assert!(err.contains("run scripts/setup.sh"), "{err}");
        assert!(require("sh").is_ok());
    }
}
