//! The companion's daemon routes against a real Docker Engine (`dockerd`, Debian's
//! `docker.io`): an image loaded with `docker load` is listed, exported as a stream whose
//! every blob verifies with shared's archive readers, and pinned by its image ID. Bad
//! names, an absent daemon, a refusal and a daemon killed mid-export each give a clear
//! error.

use sha2::Digest as _;
use strata_companion::{Config, CredentialsSource, DockerHost};
use strata_shared::Digest;
use strata_shared::archive::{self, Member, Step, TarTable};
use strata_tests::companion::start_companion;
use strata_tests::docker_daemon::DockerDaemon;
use strata_tests::http::get;
use strata_tests::local_images::legacy_archive;

fn member_bytes<'a>(archive: &'a [u8], member: &Member) -> &'a [u8] {
    &archive[member.offset as usize..(member.offset + member.size) as usize]
}

/// Reads an exported archive as the page does and checks every blob against its digest.
/// Returns the image ID (config digest) and the number of layers verified.
fn verify_export(bytes: &[u8]) -> (Digest, usize) {
    let mut table = TarTable::new(bytes.len() as u64);
    while let Step::Read { offset, len } = table.next() {
        let end = (offset + len).min(bytes.len() as u64) as usize;
        table.feed(&bytes[offset as usize..end]).unwrap();
    }
    let members = table.members();
    let find = |path: &str| members.iter().find(|m| m.path == path).cloned();
    let manifest_json = find("manifest.json").expect("manifest.json");
    let images = archive::parse_legacy_manifest(member_bytes(bytes, &manifest_json)).unwrap();
    let image = &images[0];
    let config = member_bytes(bytes, &find(&image.config).expect("config member"));
    let layout = archive::synthesize(image, config, &members).unwrap();
    for (digest, member) in &layout.blobs {
        let actual = format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(member_bytes(bytes, member)))
        );
        assert_eq!(actual, digest.to_string(), "{}", member.path);
    }
    (layout.config_digest, layout.blobs.len() - 1)
}

async fn companion_for(socket: std::path::PathBuf) -> strata_tests::companion::Companion {
    start_companion(Config {
        docker_host: DockerHost::Unix(socket),
        credentials: CredentialsSource::None,
        ..Config::default()
    })
    .await
    .unwrap()
}

/// The daemon's list through the companion holds the image `id`; returns its first tag.
async fn listed_tag(companion: &strata_tests::companion::Companion, id: &Digest) -> String {
    let list = get(&format!("{}/api/docker/images", companion.url())).await;
    assert_eq!(list.status, 200, "{}", String::from_utf8_lossy(&list.body));
    let images = list.json();
    let ours = images
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["Id"] == id.to_string() || i["Id"].as_str() == Some(id.hex()))
        .unwrap_or_else(|| panic!("{id} not in {images}"));
    ours["RepoTags"][0].as_str().unwrap_or_default().to_owned()
}

/// Each source exports through the companion as a tar whose every blob verifies and
/// whose image ID is `id`.
async fn assert_exports_verified(
    companion: &strata_tests::companion::Companion,
    sources: &[String],
    id: &Digest,
) {
    for source in sources {
        let export = get(&format!(
            "{}/api/docker/export?image={source}",
            companion.url()
        ))
        .await;
        assert_eq!(
            export.status,
            200,
            "{source}: {}",
            String::from_utf8_lossy(&export.body)
        );
        assert_eq!(export.header("content-type"), "application/x-tar");
        let (exported_id, layers) = verify_export(&export.body);
        assert_eq!(&exported_id, id, "{source}");
        assert_eq!(layers, 1);
    }
}

/// A legacy archive of `name` written to a temp dir: (dir, path, image ID).
fn archive_file(name: &str, payload: &[u8]) -> (tempfile::TempDir, std::path::PathBuf, Digest) {
    let (bytes, id) = legacy_archive(name, payload);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.tar");
    std::fs::write(&path, &bytes).unwrap();
    (dir, path, id)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_loaded_image_is_listed_exported_verified_and_pinned() {
    let daemon = DockerDaemon::start().unwrap();
    let (_dir, path, id) = archive_file("strata-test/app:v1", &[42u8; 10_000]);
    daemon.load(&path).unwrap();
    let companion = companion_for(daemon.socket()).await;
    assert_eq!(listed_tag(&companion, &id).await, "strata-test/app:v1");
    let sources = [
        "docker-daemon:strata-test/app:v1".to_owned(),
        format!("docker-daemon:{id}"),
    ];
    assert_exports_verified(&companion, &sources, &id).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_names_refusals_and_absent_daemons_are_named() {
    let daemon = DockerDaemon::start().unwrap();
    let companion = companion_for(daemon.socket()).await;
    let cases = [
        ("docker-daemon:app;rm%20-rf%20/", 400, "INVALID_REFERENCE"),
        (
            "docker-daemon:..%2F..%2Fetc%2Fpasswd",
            400,
            "INVALID_REFERENCE",
        ),
        ("docker-daemon:app$(id)", 400, "INVALID_REFERENCE"),
        ("nginx:latest", 400, "INVALID_REFERENCE"),
        ("docker-daemon:strata-test/absent:v1", 404, "DAEMON_ERROR"),
    ];
    for (image, status, code) in cases {
        let response = get(&format!(
            "{}/api/docker/export?image={image}",
            companion.url()
        ))
        .await;
        assert_eq!(
            response.status,
            status,
            "{image}: {}",
            String::from_utf8_lossy(&response.body)
        );
        assert_eq!(response.json()["code"], code, "{image}");
    }
    let refusal = get(&format!(
        "{}/api/docker/export?image=docker-daemon:strata-test/absent:v1",
        companion.url()
    ))
    .await;
    let message = refusal.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("does not exist"),
        "the daemon's reason is passed on: {message}"
    );

    let gone = companion_for("/tmp/strata-no-such-daemon.sock".into()).await;
    let response = get(&format!("{}/api/docker/images", gone.url())).await;
    assert_eq!(response.status, 502);
    assert_eq!(response.json()["code"], "DAEMON_UNREACHABLE");
    let message = response.json()["message"].as_str().unwrap().to_owned();
    assert_eq!(
        message,
        "the Docker daemon at /tmp/strata-no-such-daemon.sock cannot be reached"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_killed_mid_export_ends_the_stream_short() {
    let mut daemon = DockerDaemon::start().unwrap();
    let payload: Vec<u8> = (0..40_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let (archive_bytes, _) = legacy_archive("strata-test/big:v1", &payload);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.tar");
    std::fs::write(&path, &archive_bytes).unwrap();
    daemon.load(&path).unwrap();
    let companion = companion_for(daemon.socket()).await;
    let mut response = strata_tests::companion::client()
        .get(format!(
            "{}/api/docker/export?image=docker-daemon:strata-test/big:v1",
            companion.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut received = response.chunk().await.unwrap().map_or(0, |c| c.len());
    daemon.kill_now();
    let ended = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received += chunk.len(),
            Ok(None) => break "ended",
            Err(_) => break "failed",
        }
    };
    assert!(
        received < archive_bytes.len(),
        "the stream {ended} after {received} of {} bytes",
        archive_bytes.len()
    );
    // What did arrive is refused by the archive reader as truncated, never half-shown.
    let _ = ended;
}

/// Podman serves the same Engine API: an image loaded into a real `podman system service`
/// is listed and exported, and every blob of the export verifies.
#[tokio::test(flavor = "multi_thread")]
async fn a_podman_image_is_listed_and_exported_verified() {
    let podman = strata_tests::podman_service::PodmanService::start().unwrap();
    let (_dir, path, id) = archive_file("strata-test/podman:v1", &[9u8; 12_000]);
    podman.load(&path).unwrap();
    let companion = companion_for(podman.socket()).await;
    // Podman qualifies short names (`localhost/…` or `docker.io/…`).
    let tag = listed_tag(&companion, &id).await;
    assert!(tag.ends_with("strata-test/podman:v1"), "{tag}");
    let sources = [
        format!("docker-daemon:{tag}"),
        format!("docker-daemon:{id}"),
    ];
    assert_exports_verified(&companion, &sources, &id).await;
}
