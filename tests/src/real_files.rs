//! Layers and archives of real files from this machine, for benchmarks: a Debian-sized
//! image is most honestly made of the machine's own `/usr`. Written to files, never held
//! whole in memory, so a 2 GB archive is as easy to make as a small one.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest as _, Sha256};
use strata_shared::Digest;

/// Files under `dir` (sorted, depth first) until `budget` bytes of file data.
fn collect(dir: &Path, budget: u64, total: &mut u64, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    out.push(dir.to_path_buf());
    for p in entries {
        if *total >= budget {
            return;
        }
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            collect(&p, budget, total, out);
        } else if meta.is_file() || meta.file_type().is_symlink() {
            *total += meta.len();
            out.push(p);
        }
    }
}

/// Writes `out`, a GNU tar of real files under `roots` (in order), about `budget` bytes
/// of file data; unreadable files are skipped, as `tar --ignore-failed-read` does.
pub fn real_files_tar(roots: &[&str], budget: u64, out: &Path) -> anyhow::Result<()> {
    let mut list = Vec::new();
    let mut total = 0;
    for root in roots {
        let left = budget.saturating_sub(total);
        if left > 0 {
            collect(Path::new(root), total + left, &mut total, &mut list);
        }
    }
    let mut names = Vec::new();
    for p in &list {
        names.extend_from_slice(p.as_os_str().as_encoded_bytes());
        names.push(0);
    }
    let list_path = out.with_extension("files");
    std::fs::write(&list_path, names)?;
    let status = Command::new("tar")
        .args([
            "--format=gnu",
            "--no-recursion",
            "--null",
            "--ignore-failed-read",
            "-cf",
        ])
        .arg(out)
        .arg("-T")
        .arg(&list_path)
        .stderr(Stdio::null())
        .status()?;
    anyhow::ensure!(status.code().is_some_and(|c| c <= 1), "tar: {status}");
    std::fs::remove_file(&list_path)?;
    Ok(())
}

/// A benchmark's size in MB from the environment variable `key`, else `default`.
pub fn env_mb(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A gzip layer of real files under `roots` (GNU tar, gzip -6 by pigz on both cores),
/// about `budget` bytes of files.
pub fn real_layer(roots: &[&str], budget: u64, work: &Path) -> anyhow::Result<crate::image::Layer> {
    use crate::image::{Format, sha256_digest};
    let tar_path = work.join("layer.tar");
    real_files_tar(roots, budget, &tar_path)?;
    let tar = std::fs::read(&tar_path)?;
    let gz = Command::new("pigz")
        .args(["-6", "-c"])
        .arg(&tar_path)
        .output()?;
    anyhow::ensure!(gz.status.success(), "pigz failed");
    Ok(crate::image::Layer {
        digest: sha256_digest(&gz.stdout),
        diff_id: sha256_digest(&tar),
        blob: gz.stdout,
        uncompressed: tar,
        media_type: Format::Oci.layer_type().to_owned(),
        annotations: std::collections::BTreeMap::new(),
    })
}

/// The sha256 of a file, read in 1 MiB pieces.
pub fn sha256_file(path: &Path) -> anyhow::Result<Digest> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(Digest::parse(&format!("sha256:{:x}", hasher.finalize()))?)
}

/// Writes a legacy `docker save` archive of one image tagged `name` whose layers are the
/// tar files `layers` (oldest first), as Docker up to 24 writes it; returns the image ID.
pub fn write_legacy_archive(out: &Path, name: &str, layers: &[PathBuf]) -> anyhow::Result<Digest> {
    let mut diff_ids = Vec::new();
    for layer in layers {
        diff_ids.push(sha256_file(layer)?);
    }
    let history: Vec<_> = (0..layers.len())
        .map(|i| serde_json::json!({"created": "2024-01-01T00:00:00Z", "created_by": format!("ADD layer{i}.tar /")}))
        .collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }))?;
    let id = Digest::sha256_of(&config);
    let layer_paths: Vec<String> = diff_ids
        .iter()
        .map(|d| format!("{}/layer.tar", d.hex()))
        .collect();
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": format!("{}.json", id.hex()), "RepoTags": [name], "Layers": layer_paths,
    }]))?;
    let mut outer = tar::Builder::new(std::io::BufWriter::new(std::fs::File::create(out)?));
    for (layer, path) in layers.iter().zip(&layer_paths) {
        outer.append_path_with_name(layer, path)?;
    }
    for (path, data) in [
        (format!("{}.json", id.hex()), config.as_slice()),
        ("manifest.json".to_owned(), manifest.as_slice()),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        outer.append_data(&mut header, path, data)?;
    }
    outer.into_inner()?.flush()?;
    Ok(id)
}

/// The one-pass CLI pipeline a user would run on an extracted archive: for the config and
/// each layer named by its `manifest.json`, `tee >(sha256sum) < FILE | tar -t` (legacy and
/// Docker 25+ layers are uncompressed tars; their sha256 is the diff_id).
pub fn cli_pipeline_on_extracted(dir: &Path) -> anyhow::Result<()> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json"))?)?;
    for image in manifest.as_array().into_iter().flatten() {
        let config = image["Config"].as_str().unwrap_or_default();
        let status = Command::new("sha256sum")
            .arg(dir.join(config))
            .stdout(Stdio::null())
            .status()?;
        anyhow::ensure!(status.success(), "sha256sum {config}");
        for layer in image["Layers"].as_array().into_iter().flatten() {
            let layer = dir.join(layer.as_str().unwrap_or_default());
            let status = Command::new("bash")
                .args([
                    "-c",
                    "tee >(sha256sum > /dev/null) < \"$L\" | tar -t > /dev/null",
                ])
                .env("L", &layer)
                .status()?;
            anyhow::ensure!(status.success(), "pipeline on {}", layer.display());
        }
    }
    Ok(())
}

/// What Chromium's processes hold, summed over all of them (KiB of proportional set size:
/// shared pages counted once).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChromiumMemory {
    /// All of it (`Pss`), file-backed pages included.
    pub pss_kib: u64,
    /// Anonymous and shared memory (`Pss_Anon` + `Pss_Shmem`): what the browser allocated,
    /// without the file pages it maps (a file it reads can be mapped, and those pages are
    /// the page cache's, reclaimable).
    pub allocated_kib: u64,
    /// `Pss` by kind of process (`browser`, `renderer`, `gpu-process`, and a utility
    /// process by its service, such as `network.mojom.NetworkService`): where it grows.
    pub pss_kib_by_kind: std::collections::BTreeMap<String, u64>,
}

impl ChromiumMemory {
    /// How much each kind of process grew from `idle` to these peaks, in MiB, largest
    /// first (`renderer +200, network.mojom.NetworkService +30, …`).
    pub fn growth_by_kind(&self, idle: &ChromiumMemory) -> String {
        let mut grown: Vec<(&String, i64)> = self
            .pss_kib_by_kind
            .iter()
            .map(|(kind, peak)| {
                let before = idle.pss_kib_by_kind.get(kind).copied().unwrap_or(0);
                (kind, *peak as i64 - before as i64)
            })
            .collect();
        grown.sort_by_key(|(_, kib)| -kib);
        grown
            .iter()
            .map(|(kind, kib)| format!("{kind} {:+.0}", *kib as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A Chromium process's kind, from its command line.
fn process_kind(cmdline: &[u8]) -> String {
    let text = String::from_utf8_lossy(cmdline).replace('\0', " ");
    let flag = |name: &str| {
        text.split_whitespace()
            .find_map(|arg| arg.strip_prefix(name))
            .map(str::to_owned)
    };
    match flag("--type=") {
        None => "browser".to_owned(),
        Some(kind) if kind == "utility" => flag("--utility-sub-type=").unwrap_or(kind),
        Some(kind) => kind,
    }
}

/// The memory of every Chromium process now.
pub fn chromium_memory() -> ChromiumMemory {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return ChromiumMemory::default();
    };
    let mut total = ChromiumMemory::default();
    for entry in procs.filter_map(Result::ok) {
        let path = entry.path();
        let Ok(cmdline) = std::fs::read(path.join("cmdline")) else {
            continue;
        };
        // Chromium rewrites its children's command lines into one space-separated
        // string, so the program is the first word of the first argument.
        let argv0 = cmdline
            .split(|b| *b == 0 || *b == b' ')
            .next()
            .unwrap_or_default();
        if !argv0.ends_with(b"chromium") && !argv0.ends_with(b"/chrome") {
            continue;
        }
        let Ok(rollup) = std::fs::read_to_string(path.join("smaps_rollup")) else {
            continue;
        };
        let field = |name: &str| {
            rollup
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        total.pss_kib += field("Pss:");
        total.allocated_kib += field("Pss_Anon:") + field("Pss_Shmem:");
        *total
            .pss_kib_by_kind
            .entry(process_kind(&cmdline))
            .or_default() += field("Pss:");
    }
    total
}

/// Samples [`chromium_memory`] every 100 ms on a thread until dropped; keeps the peaks.
pub struct MemorySampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    peaks: std::sync::Arc<std::sync::Mutex<ChromiumMemory>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MemorySampler {
    pub fn start() -> MemorySampler {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let peaks = std::sync::Arc::new(std::sync::Mutex::new(ChromiumMemory::default()));
        let (s, p) = (stop.clone(), peaks.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let now = chromium_memory();
                if let Ok(mut peak) = p.lock() {
                    peak.pss_kib = peak.pss_kib.max(now.pss_kib);
                    peak.allocated_kib = peak.allocated_kib.max(now.allocated_kib);
                    for (kind, kib) in now.pss_kib_by_kind {
                        let at = peak.pss_kib_by_kind.entry(kind).or_default();
                        *at = (*at).max(kib);
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        });
        MemorySampler {
            stop,
            peaks,
            thread: Some(thread),
        }
    }

    /// The highest sums seen so far (each its own peak).
    pub fn peaks(&self) -> ChromiumMemory {
        self.peaks.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

impl Drop for MemorySampler {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
