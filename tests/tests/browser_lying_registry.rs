//! The browser trusts only digests (issue 2 and 3): a registry that lies is caught in the
//! page, and the user sees which object failed. The liar is a small axum server in the
//! test (a real registry cannot be made to serve wrong bytes); the companion relays it as
//! it would any registry, and the real app in headless Chromium does the checking.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use strata_tests::browser::{Browser, attributes, visible_text, wait_for_state};
use strata_tests::companion::{Config, start_companion};
use strata_tests::fixtures::three_layer_image;
use strata_tests::image::{BuiltImage, Format, sha256_digest};

const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone)]
struct Liar {
    image: Arc<BuiltImage>,
    blobs: Arc<HashMap<String, Vec<u8>>>,
}

async fn manifest(
    State(liar): State<Liar>,
    Path((_, reference)): Path<(String, String)>,
) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        HeaderValue::from_str(&liar.image.manifest_media_type).unwrap(),
    );
    let claimed = match reference.as_str() {
        // Claims the digest of other bytes than it serves.
        "lying-header" => sha256_digest(b"something else"),
        _ => liar.image.manifest_digest.clone(),
    };
    headers.insert(
        "docker-content-digest",
        HeaderValue::from_str(&claimed).unwrap(),
    );
    (StatusCode::OK, headers, liar.image.manifest_bytes.clone()).into_response()
}

async fn blob(State(liar): State<Liar>, Path((_, digest)): Path<(String, String)>) -> Response {
    match liar.blobs.get(&digest) {
        Some(bytes) => (StatusCode::OK, bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn start_liar() -> anyhow::Result<(String, Arc<BuiltImage>)> {
    let image = Arc::new(three_layer_image().build(Format::Oci)?);
    let mut blobs = HashMap::new();
    blobs.insert(image.config_digest.clone(), image.config_bytes.clone());
    for (i, layer) in image.layers.iter().enumerate() {
        let mut bytes = layer.blob.clone();
        if i == 1 {
            // Same length, one byte flipped in the middle: only the digest can tell.
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0xff;
        }
        blobs.insert(layer.digest.clone(), bytes);
    }
    let liar = Liar {
        image: Arc::clone(&image),
        blobs: Arc::new(blobs),
    };
    let app = Router::new()
        .route("/v2/", get(|| async { "{}" }))
        .route("/v2/{ns}/liar/manifests/{reference}", get(manifest))
        .route("/v2/{ns}/liar/blobs/{digest}", get(blob))
        .with_state(liar);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let host = listener.local_addr()?.to_string();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((host, image))
}

#[tokio::test]
async fn lying_manifest_digest_and_tampered_layer_are_caught_in_the_browser() -> anyhow::Result<()>
{
    let (host, image) = start_liar().await?;
    let app = start_companion(Config {
        insecure_registries: vec![host.clone()],
        dist: Some(strata_tests::browser::app_dist()?),
        credentials: strata_companion::CredentialsSource::None,
        ..Config::default()
    })
    .await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;

    // The registry's Docker-Content-Digest does not match the bytes: nothing is shown.
    client
        .goto(&format!(
            "{}/image/{host}/team/liar:lying-header",
            app.url()
        ))
        .await?;
    wait_for_state(&client, "error", TIMEOUT).await?;
    let text = visible_text(&client, "[data-strata-error=page]").await?;
    assert!(text.contains("Verification failed"), "{text}");
    assert!(
        text.contains(&image.manifest_digest),
        "names the actual digest: {text}"
    );

    // An honest manifest with one tampered layer: that layer fails, naming both digests;
    // the others verify and the page still shows them.
    client
        .goto(&format!("{}/image/{host}/team/liar:honest", app.url()))
        .await?;
    let deadline = Instant::now() + TIMEOUT;
    let states = loop {
        let states = attributes(&client, "tr[data-layer-digest]", "data-layer-state").await?;
        if states.len() == 3 && states.iter().all(|s| s == "verified" || s == "failed") {
            break states;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "layers never settled: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(states, vec!["verified", "failed", "verified"]);
    let message = visible_text(&client, "[data-layer-error]").await?;
    assert!(
        message.contains("digest mismatch") && message.contains(&image.layers[1].digest),
        "{message}"
    );
    wait_for_state(&client, "error", TIMEOUT).await?;
    let manifest = attributes(&client, "[data-manifest-digest]", "data-manifest-digest").await?;
    assert_eq!(
        manifest,
        vec![image.manifest_digest.clone()],
        "the rest of the page still shows"
    );
    client.close().await?;
    Ok(())
}
