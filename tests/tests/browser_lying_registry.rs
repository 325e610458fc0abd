//! The browser trusts only digests (issue 2 and 3): a registry that lies is caught in the
//! page, and the user sees which object failed. The liar is the scripted in-memory
//! registry of test support (a real registry cannot be made to serve wrong bytes); the companion relays it as
//! it would any registry, and the real app in headless Chromium does the checking.

use std::sync::Arc;
use std::time::{Duration, Instant};

use strata_tests::browser::{Browser, attributes, start_app_for, visible_text, wait_for_state};
use strata_tests::fixtures::three_layer_image;
use strata_tests::image::{BuiltImage, Format, sha256_digest};
use strata_tests::scripted_registry::{BlobScript, Script, ScriptedRegistry};

const TIMEOUT: Duration = Duration::from_secs(60);

async fn start_liar() -> anyhow::Result<(ScriptedRegistry, Arc<BuiltImage>)> {
    let mut script = Script::honest(three_layer_image().build(Format::Oci)?);
    // Claims the digest of other bytes than it serves.
    script
        .lying_tags
        .insert("lying-header".into(), sha256_digest(b"something else"));
    // Same length, one byte flipped in the middle of layer 2: only the digest can tell.
    let layer = &script.image.layers[1];
    let mut tampered = layer.blob.clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0xff;
    script
        .blobs
        .insert(layer.digest.clone(), BlobScript::Bytes(tampered));
    let image = Arc::clone(&script.image);
    Ok((ScriptedRegistry::start(script).await?, image))
}

#[tokio::test]
async fn lying_manifest_digest_and_tampered_layer_are_caught_in_the_browser() -> anyhow::Result<()>
{
    let (liar, image) = start_liar().await?;
    let host = liar.host().to_owned();
    let app = start_app_for(std::slice::from_ref(&host)).await?;
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
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let failed = attributes(&client, "[data-failed-object=layer]", "data-failed-digest").await?;
    assert_eq!(failed, std::slice::from_ref(&image.layers[1].digest));
    let manifest = attributes(&client, "[data-manifest-digest]", "data-manifest-digest").await?;
    assert_eq!(
        manifest,
        vec![image.manifest_digest.clone()],
        "the rest of the page still shows"
    );
    client.close().await?;
    Ok(())
}
