//! Native benchmark of the layer engine against the CLI pipeline on the same bytes.
//!
//! Run: `cargo run --release -p strata-shared --example layer_bench -- [PATH] [MB]`
//!
//! Builds a tar of real files under PATH (default /usr/share, else /usr/lib; up to MB
//! megabytes, default 300) with GNU tar, gzips it with `gzip`, then times in one run:
//! the engine's whole pipeline on one thread, each stage alone, the two-worker split a
//! page uses (hash + inflate | diff_id + tar walk), the one-pass CLI pipeline a user runs
//! (`cat | tee >(sha256sum) | gzip -dc | tee >(sha256sum) | tar -t`, the baseline of the
//! ratios) and each of its commands alone, and the pipeline and the walk with and without
//! the per-file content hash (XXH3-64). Prints numbers, no pass/fail.
//!
//! With `STRATA_BENCH_KEEP=DIR`, the blob and its digests are kept in DIR
//! (`layer.tar.gz`, `digest`, `diff_id`) for the wasm run of scripts/bench.sh.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use strata_shared::layer::{
    Compression, Decompressor, DiffIdVerifier, LayerPipeline, LayerSpec, Limits, TarWalker,
};
use strata_shared::{Digest, DigestVerifier};

const CHUNK: usize = 64 << 10;

fn main() {
    let mut args = std::env::args().skip(1);
    let root = args.next().map(PathBuf::from).unwrap_or_else(|| {
        ["/usr/share", "/usr/lib"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_dir())
            .expect("no /usr/share")
    });
    let budget: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(300) << 20;
    let work = std::env::temp_dir().join(format!("strata-layer-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let tar_path = work.join("layer.tar");
    let gz_path = work.join("layer.tar.gz");

    eprintln!(
        "collecting up to {} MB of files under {}",
        budget >> 20,
        root.display()
    );
    let mut list = Vec::new();
    let mut total = 0u64;
    collect(&root, budget, &mut total, &mut list);
    let list_path = work.join("files");
    let mut bytes = Vec::new();
    for p in &list {
        bytes.extend_from_slice(p.as_os_str().as_encoded_bytes());
        bytes.push(0);
    }
    std::fs::write(&list_path, bytes).unwrap();
    let status = Command::new("tar")
        .args([
            "--format=gnu",
            "--no-recursion",
            "--null",
            "--ignore-failed-read",
            "-cf",
        ])
        .arg(&tar_path)
        .arg("-T")
        .arg(&list_path)
        .stderr(Stdio::null())
        .status()
        .expect("GNU tar (run scripts/setup.sh)");
    assert!(
        status.code().is_some_and(|c| c <= 1),
        "tar failed: {status}"
    );
    let gz = Command::new("gzip")
        .arg("-c")
        .arg(&tar_path)
        .output()
        .expect("gzip");
    std::fs::write(&gz_path, &gz.stdout).unwrap();
    let tar = std::fs::read(&tar_path).unwrap();
    let blob = gz.stdout;
    let (tar_mb, gz_mb) = (mb(tar.len()), mb(blob.len()));
    println!(
        "layer: {} entries listed, tar {tar_mb:.1} MB, gzip {gz_mb:.1} MB",
        list.len()
    );

    // CLI baseline (each command on the same files; page cache warm).
    let sh = |cmd: &str| {
        let t = Instant::now();
        let out = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .env("GZ", &gz_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (t.elapsed(), out.stdout)
    };
    let _ = sh("cat \"$GZ\" > /dev/null");
    // What a user runs: one pass, both digests beside the decompression and the listing.
    let one_pass = "set -o pipefail; W=$(mktemp -d); \
        cat \"$GZ\" | tee >(sha256sum > \"$W/c\") | gzip -dc | tee >(sha256sum > \"$W/d\") \
        | tar -t > /dev/null; wait; cat \"$W/c\" \"$W/d\"; rm -rf \"$W\"";
    let (cli, out) = sh_bash(one_pass, &gz_path);
    let text = String::from_utf8_lossy(&out).into_owned();
    let mut sums = text
        .lines()
        .map(|l| l.get(..64).unwrap_or_default().to_owned());
    let digest = Digest::parse(&format!("sha256:{}", sums.next().unwrap_or_default())).unwrap();
    let diff_id = Digest::parse(&format!("sha256:{}", sums.next().unwrap_or_default())).unwrap();
    let (t_sum, _) = sh("sha256sum \"$GZ\"");
    let (t_dsum, _) = sh("gzip -dc \"$GZ\" | sha256sum");
    let (t_list, _) = sh("gzip -dc \"$GZ\" | tar -t > /dev/null");
    if let Some(keep) = std::env::var_os("STRATA_BENCH_KEEP").map(PathBuf::from) {
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(&gz_path, keep.join("layer.tar.gz")).unwrap();
        std::fs::write(keep.join("digest"), digest.to_string()).unwrap();
        std::fs::write(keep.join("diff_id"), diff_id.to_string()).unwrap();
    }

    // Engine, one thread, all stages.
    let spec = LayerSpec {
        media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
        digest: digest.clone(),
        size: Some(blob.len() as u64),
        diff_id: Some(diff_id.clone()),
    };
    let t = Instant::now();
    let mut p = LayerPipeline::new(&spec, Limits::default()).unwrap();
    for c in blob.chunks(CHUNK) {
        p.push(c).unwrap();
    }
    let layer = p.finish().expect("engine verifies the layer");
    let t_engine = t.elapsed();
    assert_eq!(layer.decompressed_size, tar.len() as u64);

    // Stages alone.
    let t_hash = time(|| {
        let mut v = DigestVerifier::new(digest.clone(), Some(blob.len() as u64));
        blob.chunks(CHUNK).for_each(|c| v.update(c).unwrap());
        v.finish().unwrap();
    });
    let t_inflate = time(|| {
        let mut d = Decompressor::new(Compression::Gzip, &Limits::default());
        let mut sink = |_: &[u8]| Ok(());
        blob.chunks(CHUNK)
            .for_each(|c| d.push(c, &mut sink).unwrap());
        d.finish(&mut sink).unwrap();
    });
    let t_diff = time(|| {
        let mut v = DiffIdVerifier::new(diff_id.clone()).unwrap();
        tar.chunks(CHUNK).for_each(|c| v.push(c));
        v.finish().unwrap();
    });
    let t_walk = time(|| {
        let mut w = TarWalker::new(Limits::default());
        tar.chunks(CHUNK).for_each(|c| w.push(c).unwrap());
        w.finish().unwrap();
    });

    // The per-file content hash (XXH3-64): all four stages on one thread, and the walk
    // alone, with and without it; best of 3 alternating runs each.
    let stages = |hash: bool| {
        let mut v = DigestVerifier::new(digest.clone(), Some(blob.len() as u64));
        let mut d = Decompressor::new(Compression::Gzip, &Limits::default());
        let mut diff = DiffIdVerifier::new(diff_id.clone()).unwrap();
        let mut w = TarWalker::new(Limits::default());
        w.set_content_hash(hash);
        let mut sink = |b: &[u8]| {
            diff.push(b);
            w.push(b)
        };
        for c in blob.chunks(CHUNK) {
            v.update(c).unwrap();
            d.push(c, &mut sink).unwrap();
        }
        d.finish(&mut sink).unwrap();
        v.finish().unwrap();
        diff.finish().unwrap();
        w.finish().unwrap().len()
    };
    let walk = |hash: bool| {
        let mut w = TarWalker::new(Limits::default());
        w.set_content_hash(hash);
        tar.chunks(CHUNK).for_each(|c| w.push(c).unwrap());
        w.finish().unwrap().len()
    };
    let (mut t_with, mut t_without) = (Duration::MAX, Duration::MAX);
    let (mut w_with, mut w_without) = (Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        t_without = t_without.min(time(|| stages(false)));
        t_with = t_with.min(time(|| stages(true)));
        w_without = w_without.min(time(|| walk(false)));
        w_with = w_with.min(time(|| walk(true)));
    }

    // The two-worker split: thread A hashes and inflates, thread B hashes and walks.
    let t_split = time(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(16);
        let walker = std::thread::spawn({
            let diff_id = diff_id.clone();
            move || {
                let mut v = DiffIdVerifier::new(diff_id).unwrap();
                let mut w = TarWalker::new(Limits::default());
                for c in rx {
                    v.push(&c);
                    w.push(&c).unwrap();
                }
                v.finish().unwrap();
                w.finish().unwrap().len()
            }
        });
        let mut v = DigestVerifier::new(digest.clone(), Some(blob.len() as u64));
        let mut d = Decompressor::new(Compression::Gzip, &Limits::default());
        for c in blob.chunks(CHUNK) {
            v.update(c).unwrap();
            let mut out = Vec::with_capacity(4 * CHUNK);
            d.push_to_vec(c, &mut out).unwrap();
            tx.send(out).unwrap();
        }
        let mut out = Vec::new();
        d.finish(&mut |b: &[u8]| {
            out.extend_from_slice(b);
            Ok(())
        })
        .unwrap();
        tx.send(out).unwrap();
        drop(tx);
        v.finish().unwrap();
        walker.join().unwrap()
    });

    let rate = |d: Duration, mbytes: f64| mbytes / d.as_secs_f64();
    println!(
        "entries indexed: {}, index heap {:.1} MB",
        layer.index.len(),
        mb(layer.index.heap_bytes())
    );
    println!();
    println!(
        "engine, one thread, all stages: {:>8.3} s  {:>7.1} MB/s compressed  {:>7.1} MB/s uncompressed",
        t_engine.as_secs_f64(),
        rate(t_engine, gz_mb),
        rate(t_engine, tar_mb)
    );
    println!(
        "engine, two threads (page split): {:>6.3} s  {:>7.1} MB/s compressed  {:>7.1} MB/s uncompressed",
        t_split.as_secs_f64(),
        rate(t_split, gz_mb),
        rate(t_split, tar_mb)
    );
    println!(
        "  stage 1 sha256 of blob:      {:>8.3} s  {:>7.1} MB/s",
        t_hash.as_secs_f64(),
        rate(t_hash, gz_mb)
    );
    println!(
        "  stage 2 gunzip:              {:>8.3} s  {:>7.1} MB/s of output",
        t_inflate.as_secs_f64(),
        rate(t_inflate, tar_mb)
    );
    println!(
        "  stage 3 diff_id sha256:      {:>8.3} s  {:>7.1} MB/s",
        t_diff.as_secs_f64(),
        rate(t_diff, tar_mb)
    );
    println!(
        "  stage 4 tar walk:            {:>8.3} s  {:>7.1} MB/s",
        t_walk.as_secs_f64(),
        rate(t_walk, tar_mb)
    );
    println!();
    println!(
        "content hash, one thread all stages: without {:.3} s ({:.1} MB/s)  with {:.3} s ({:.1} MB/s)  cost {:+.1}%",
        t_without.as_secs_f64(),
        rate(t_without, tar_mb),
        t_with.as_secs_f64(),
        rate(t_with, tar_mb),
        (t_with.as_secs_f64() / t_without.as_secs_f64() - 1.0) * 100.0
    );
    println!(
        "content hash, tar walk alone:        without {:.3} s ({:.1} MB/s)  with {:.3} s ({:.1} MB/s)  cost {:+.1}%",
        w_without.as_secs_f64(),
        rate(w_without, tar_mb),
        w_with.as_secs_f64(),
        rate(w_with, tar_mb),
        (w_with.as_secs_f64() / w_without.as_secs_f64() - 1.0) * 100.0
    );
    println!();
    println!(
        "CLI sha256sum blob:            {:>8.3} s",
        t_sum.as_secs_f64()
    );
    println!(
        "CLI gzip -dc | sha256sum:      {:>8.3} s",
        t_dsum.as_secs_f64()
    );
    println!(
        "CLI gzip -dc | tar -t:         {:>8.3} s",
        t_list.as_secs_f64()
    );
    println!(
        "CLI pipeline total:            {:>8.3} s  {:>7.1} MB/s compressed  (one pass: cat | tee >(sha256sum) | gzip -dc | tee >(sha256sum) | tar -t)",
        cli.as_secs_f64(),
        rate(cli, gz_mb)
    );
    println!();
    println!(
        "ratio engine one thread / CLI total:  {:.2}",
        t_engine.as_secs_f64() / cli.as_secs_f64()
    );
    println!(
        "ratio engine two threads / CLI total: {:.2}",
        t_split.as_secs_f64() / cli.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&work);
}

/// Runs `cmd` in bash (process substitution) with `GZ` set; its time and stdout.
fn sh_bash(cmd: &str, gz: &Path) -> (Duration, Vec<u8>) {
    let t = Instant::now();
    let out = Command::new("bash")
        .arg("-c")
        .arg(cmd)
        .env("GZ", gz)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (t.elapsed(), out.stdout)
}

fn time<T>(f: impl FnOnce() -> T) -> Duration {
    let t = Instant::now();
    std::hint::black_box(f());
    t.elapsed()
}

fn mb(n: usize) -> f64 {
    n as f64 / 1e6
}

/// Depth-first, sorted: directories, files and symlinks until `budget` bytes of files.
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
