//! Benchmarks of local images (issue 11), run by `scripts/bench-local.sh`; they print
//! numbers and never fail on a timing:
//! - a Debian-sized `docker save` archive opened in the browser, against `tar -xf` followed
//!   by the one-pass CLI pipeline on the extracted layers;
//! - the same image opened from a real Docker Engine, against `docker save | tar -x` and the
//!   same pipeline;
//! - the peak memory of the browser while it opens a 2 GB archive, against its largest layer.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use strata_tests::browser::{
    Browser, attributes, open_file, start_app_for, start_app_with_daemon, wait_for_archive_page,
    wait_for_state,
};
use strata_tests::docker_daemon::DockerDaemon;
use strata_tests::real_files::{
    MemorySampler, chromium_memory, cli_pipeline_on_extracted, env_mb, real_files_tar,
    write_legacy_archive,
};

const TIMEOUT: Duration = Duration::from_secs(1800);
const NAME: &str = "bench/debian-sized:latest";

/// Two small layers, like a Dockerfile's `RUN` and `COPY` on top of a base.
fn small_layers(work: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for (i, (path, data)) in [
        ("etc/app.conf", b"mode=bench\n".to_vec()),
        ("usr/local/bin/app", vec![7u8; 2 << 20]),
    ]
    .into_iter()
    .enumerate()
    {
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o755);
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        tar.append_data(&mut header, path, data.as_slice())?;
        let file = work.join(format!("small{i}.tar"));
        std::fs::write(&file, tar.into_inner()?)?;
        out.push(file);
    }
    Ok(out)
}

fn run(cmd: &str, dir: &Path) -> anyhow::Result<()> {
    let status = Command::new("bash")
        .args(["-c", cmd])
        .current_dir(dir)
        .status()?;
    anyhow::ensure!(status.success(), "{cmd} failed");
    Ok(())
}

/// Reads the file once so that the CLI and the browser both start from the page cache.
fn warm(path: &Path) -> anyhow::Result<()> {
    run(
        &format!("cat '{}' > /dev/null", path.display()),
        Path::new("/"),
    )
}

/// Home page, choose the file, wait for every layer verified; seconds from the choice.
async fn open_in_browser(browser: &mut Browser, app: &str, archive: &Path) -> anyhow::Result<f64> {
    let client = browser.session().await?;
    client.goto(&format!("{app}/")).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let started = Instant::now();
    open_file(&client, "input[data-strata-open=archive]", archive).await?;
    wait_for_archive_page(&client, TIMEOUT).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let seconds = started.elapsed().as_secs_f64();
    let states = attributes(&client, "tr[data-layer-digest]", "data-layer-state").await?;
    anyhow::ensure!(states.iter().all(|s| s == "verified"), "{states:?}");
    client.close().await?;
    Ok(seconds)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run by scripts/bench-local.sh"]
async fn bench_archive_and_daemon() -> anyhow::Result<()> {
    let work = tempfile::tempdir()?;
    let big = work.path().join("base.tar");
    real_files_tar(
        &["/usr/share", "/usr/lib"],
        env_mb("STRATA_BENCH_E2E_MB", 280) << 20,
        &big,
    )?;
    let mut layers = vec![big];
    layers.extend(small_layers(work.path())?);
    let archive = work.path().join("image.tar");
    write_legacy_archive(&archive, NAME, &layers)?;
    let size = std::fs::metadata(&archive)?.len();
    let entries = Command::new("tar")
        .arg("-tf")
        .arg(&layers[0])
        .output()?
        .stdout;
    println!(
        "LOCAL image: legacy docker save archive, 3 layers, {:.1} MB ({} entries in the base layer)",
        size as f64 / 1e6,
        entries
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count()
    );

    // The archive, opened in the browser vs `tar -xf` and the pipeline.
    warm(&archive)?;
    let extracted = work.path().join("extracted");
    std::fs::create_dir(&extracted)?;
    let started = Instant::now();
    run(&format!("tar -xf '{}'", archive.display()), &extracted)?;
    cli_pipeline_on_extracted(&extracted)?;
    let cli_archive = started.elapsed().as_secs_f64();
    std::fs::remove_dir_all(&extracted)?;
    let app = start_app_for(&[]).await?;
    let mut browser = Browser::start().await?;
    let browser_archive = open_in_browser(&mut browser, &app.url(), &archive).await?;
    println!(
        "LOCAL archive: browser, file chosen to every layer verified {browser_archive:.2} s; native tar -xf + one-pass pipeline {cli_archive:.2} s; ratio {:.2}",
        browser_archive / cli_archive
    );
    drop(app);

    // The daemon: the same image loaded into a real Docker Engine.
    let daemon = DockerDaemon::start()?;
    daemon.load(&archive)?;
    let saved = work.path().join("saved");
    std::fs::create_dir(&saved)?;
    let host = format!("unix://{}", daemon.socket().display());
    let started = Instant::now();
    run(&format!("docker -H '{host}' save {NAME} | tar -x"), &saved)?;
    cli_pipeline_on_extracted(&saved)?;
    let cli_daemon = started.elapsed().as_secs_f64();
    std::fs::remove_dir_all(&saved)?;
    let app = start_app_with_daemon(daemon.socket()).await?;
    let client = browser.session().await?;
    let started = Instant::now();
    client
        .goto(&format!("{}/image/docker-daemon:{NAME}", app.url()))
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let browser_daemon = started.elapsed().as_secs_f64();
    client.close().await?;
    println!(
        "LOCAL daemon: browser, navigation to every layer verified {browser_daemon:.2} s; native docker save | tar -x + one-pass pipeline {cli_daemon:.2} s; ratio {:.2}",
        browser_daemon / cli_daemon
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run by scripts/bench-local.sh"]
async fn bench_archive_memory() -> anyhow::Result<()> {
    let total_mb = env_mb("STRATA_BENCH_ARCHIVE_MB", 2048);
    let work = tempfile::tempdir()?;
    // Two real-file layers: /usr/lib (the largest) and /usr/share, about 60/40.
    let lib = work.path().join("lib.tar");
    real_files_tar(
        &["/usr/lib", "/usr/libexec", "/usr/bin"],
        (total_mb * 6 / 10) << 20,
        &lib,
    )?;
    let share = work.path().join("share.tar");
    real_files_tar(
        &["/usr/share", "/usr/include"],
        (total_mb * 4 / 10) << 20,
        &share,
    )?;
    let archive = work.path().join("big.tar");
    write_legacy_archive(&archive, "bench/big:latest", &[share.clone(), lib.clone()])?;
    let largest = std::fs::metadata(&lib)?
        .len()
        .max(std::fs::metadata(&share)?.len());
    let size = std::fs::metadata(&archive)?.len();
    std::fs::remove_file(&lib)?;
    std::fs::remove_file(&share)?;
    warm(&archive)?;

    let app = start_app_for(&[]).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    client.goto(&format!("{}/", app.url())).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = chromium_memory();
    let sampler = MemorySampler::start();
    let started = Instant::now();
    open_file(&client, "input[data-strata-open=archive]", &archive).await?;
    wait_for_archive_page(&client, TIMEOUT).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let seconds = started.elapsed().as_secs_f64();
    let peak = sampler.peaks();
    drop(sampler);
    client.close().await?;
    let mib = |kib: u64| kib as f64 / 1024.0;
    let ratio = |kib: u64| kib as f64 * 1024.0 / largest as f64;
    let above = peak.pss_kib.saturating_sub(idle.pss_kib);
    let allocated = peak.allocated_kib.saturating_sub(idle.allocated_kib);
    println!(
        "LOCAL memory: {:.2} GB archive, largest layer {:.2} GB, verified in {seconds:.1} s ({:.0} MB/s)",
        size as f64 / 1e9,
        largest as f64 / 1e9,
        size as f64 / 1e6 / seconds,
    );
    println!(
        "LOCAL memory: browser PSS idle {:.0} MiB, peak {:.0} MiB, peak above idle {:.0} MiB = {:.2}x the largest layer (bound: 2x)",
        mib(idle.pss_kib),
        mib(peak.pss_kib),
        mib(above),
        ratio(above)
    );
    println!(
        "LOCAL memory: of which allocated (anonymous + shared memory, without mapped file pages): peak above idle {:.0} MiB = {:.2}x the largest layer",
        mib(allocated),
        ratio(allocated)
    );
    Ok(())
}
