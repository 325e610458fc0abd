//! The local-source routes: the built-in demo layout, a layout directory (as skopeo and
//! umoci write them, here written by the test), and the daemon routes when no daemon is
//! configured. The real Docker Engine is exercised in `tests/tests/local_daemon.rs`.

mod support;

use std::path::Path;

use sha2::Digest as _;
use strata_companion::{Config, DockerHost};
use support::{Relay, error_code};

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

async fn relay_with(layouts: &[(&str, &Path)]) -> Relay {
    Relay::start(Config {
        oci_layouts: layouts
            .iter()
            .map(|(n, d)| ((*n).to_owned(), d.to_path_buf()))
            .collect(),
        docker_host: DockerHost::Off,
        ..Config::default()
    })
    .await
}

#[tokio::test]
async fn the_demo_serves_a_verifiable_multi_platform_image() {
    let relay = relay_with(&[]).await;
    let overview: serde_json::Value = relay.get("/api/local").await.json().await.unwrap();
    assert_eq!(overview["daemon"], false);
    assert_eq!(overview["layouts"][0]["name"], "demo");

    let response = relay.get("/api/oci/demo/manifests/latest").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.oci.image.index.v1+json"
    );
    let digest = response.headers()["docker-content-digest"]
        .to_str()
        .unwrap()
        .to_owned();
    let index: serde_json::Value =
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(
        manifests.len(),
        4,
        "two platforms and two attestation manifests"
    );
    // Every manifest, config and layer the index names is served, and its bytes match.
    let mut layer_types = Vec::new();
    for entry in manifests {
        let m = entry["digest"].as_str().unwrap();
        let bytes = relay
            .get(&format!("/api/oci/demo/manifests/{m}"))
            .await
            .bytes()
            .await
            .unwrap();
        assert_eq!(sha256(&bytes), m);
        let manifest: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let config = manifest["config"]["digest"].as_str().unwrap();
        let blobs = manifest["layers"].as_array().unwrap().iter().map(|l| {
            layer_types.push(l["mediaType"].as_str().unwrap().to_owned());
            l["digest"].as_str().unwrap().to_owned()
        });
        for blob in blobs
            .collect::<Vec<_>>()
            .into_iter()
            .chain([config.to_owned()])
        {
            let response = relay.get(&format!("/api/oci/demo/blobs/{blob}")).await;
            assert_eq!(response.status(), 200, "{blob}");
            assert_eq!(sha256(&response.bytes().await.unwrap()), blob);
        }
    }
    assert!(layer_types.iter().any(|t| t.ends_with("tar+zstd")));
    assert!(layer_types.iter().any(|t| t.ends_with("tar+gzip")));
    assert!(
        layer_types
            .iter()
            .any(|t| t == "application/vnd.in-toto+json")
    );
    // The cosign signature tag of the index resolves.
    let sig_tag = digest.replacen(':', "-", 1) + ".sig";
    let response = relay
        .get(&format!("/api/oci/demo/manifests/{sig_tag}"))
        .await;
    assert_eq!(response.status(), 200);
    let tags: serde_json::Value = relay
        .get("/api/oci/demo/tags/list")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        tags["tags"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("1.0"))
    );
}

#[tokio::test]
async fn unknown_names_tags_and_blobs_are_named_errors() {
    let relay = relay_with(&[]).await;
    let cases = [
        ("/api/oci/nope/manifests/latest", 404, "LAYOUT_UNKNOWN"),
        ("/api/oci/demo/manifests/v9", 404, "MANIFEST_UNKNOWN"),
        (
            "/api/oci/demo/blobs/sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
            404,
            "BLOB_UNKNOWN",
        ),
        (
            "/api/oci/demo/blobs/sha256:..%2F..%2Fetc%2Fpasswd",
            400,
            "INVALID_REFERENCE",
        ),
        ("/api/oci/demo/manifests/.hidden", 400, "INVALID_REFERENCE"),
        ("/api/docker/images", 503, "NO_DAEMON"),
        (
            "/api/docker/export?image=docker-daemon:app",
            503,
            "NO_DAEMON",
        ),
    ];
    for (path, status, code) in cases {
        let response = relay.get(path).await;
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
        assert_eq!(error_code(response).await, code, "{path}");
    }
    let message: serde_json::Value = relay
        .get("/api/oci/demo/manifests/v9")
        .await
        .json()
        .await
        .unwrap();
    let text = message["message"].as_str().unwrap();
    assert!(
        text.starts_with("no image tagged \"v9\" here; tags: latest, 1.0, amd64, sha256-"),
        "{text}"
    );
}

/// Writes a one-blob OCI layout into `dir`, tagged `v1`, and returns the blob's digest.
fn write_layout(dir: &Path) -> String {
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
    let digest = sha256(manifest);
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(dir.join("blobs/sha256").join(&digest[7..]), &manifest[..]).unwrap();
    std::fs::write(
        dir.join("blobs/sha256/44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"),
        b"{}",
    )
    .unwrap();
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{digest}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"v1"}}}}]}}"#,
        manifest.len()
    );
    std::fs::write(dir.join("index.json"), index).unwrap();
    digest
}

#[tokio::test]
async fn a_layout_directory_is_served_and_cannot_be_left() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    let digest = write_layout(&layout);
    // A blob that is a symlink to a file outside the layout.
    std::fs::write(tmp.path().join("secret"), b"top-secret-bytes").unwrap();
    let secret_digest = sha256(b"top-secret-bytes");
    std::os::unix::fs::symlink(
        tmp.path().join("secret"),
        layout.join("blobs/sha256").join(&secret_digest[7..]),
    )
    .unwrap();
    let broken = tmp.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    std::fs::write(broken.join("index.json"), b"{not json").unwrap();
    let relay = relay_with(&[("ci", &layout), ("broken", &broken)]).await;

    let response = relay.get("/api/oci/ci/manifests/v1").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["docker-content-digest"], digest.as_str());
    assert_eq!(sha256(&response.bytes().await.unwrap()), digest);
    let head = relay.head(&format!("/api/oci/ci/blobs/{digest}")).await;
    assert_eq!(head.status(), 200);

    let escape = relay
        .get(&format!("/api/oci/ci/blobs/{secret_digest}"))
        .await;
    assert_eq!(escape.status(), 403);
    let body = escape.text().await.unwrap();
    assert!(body.contains("FORBIDDEN_PATH"), "{body}");
    assert!(!body.contains("secret-bytes"), "{body}");
    assert!(
        !body.contains(&*tmp.path().to_string_lossy()),
        "no path leaks: {body}"
    );

    let response = relay.get("/api/oci/broken/manifests/latest").await;
    assert_eq!(response.status(), 502);
    let body = response.text().await.unwrap();
    assert!(body.contains("LAYOUT_BROKEN"), "{body}");
    assert!(
        !body.contains(&*tmp.path().to_string_lossy()),
        "no path leaks: {body}"
    );
}

#[test]
fn docker_host_flag_forms() {
    assert_eq!(DockerHost::parse("none").unwrap(), DockerHost::Off);
    assert_eq!(
        DockerHost::parse("unix:///run/docker.sock").unwrap(),
        DockerHost::Unix("/run/docker.sock".into())
    );
    assert!(DockerHost::parse("tcp://10.0.0.1:2375").is_err());
    assert_eq!(DockerHost::Off.socket(), None);
}
