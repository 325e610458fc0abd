//! Real-browser tests of the Provenance tab (issue 6): headless Chromium, the app built by
//! Trunk (`dist/`), images carrying attestations, referrers and signatures pushed to
//! loopback registries.
//!
//! The OCI referrers API is served by `provenance_fixtures::ReferrersRegistry`, a small
//! axum server in test support: Debian's Distribution 2.8 has no referrers API, so on the
//! real Distribution registry the companion falls back to the `sha256-<hex>` tag.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use strata_tests::browser::{Browser, attributes, start_app_for, visible_text, wait_for_state};
use strata_tests::fixtures::three_layer_image;
use strata_tests::image::{Format, OCI_MANIFEST};
use strata_tests::provenance_fixtures::{
    BUILDER_ID, ReferrersRegistry, SOURCE_COMMIT, buildkit_index, cosign_signature, digest_tag,
    referrer_artifact, referrers_index, signing_key,
};
use strata_tests::push::Pusher;
use strata_tests::registry::Registry;

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const BASE_DIGEST: &str = "sha256:072d78bc452a2998929a9579464e55067db4bf6d2c5f9cde582e33c10a415bd1";

/// Opens a Provenance tab URL and waits until the image and its attachments are loaded.
async fn open_provenance(client: &Client, url: &str) -> anyhow::Result<()> {
    client.goto(url).await?;
    wait_for_state(client, "ready", READY_TIMEOUT).await?;
    wait_for(client, "[data-provenance-state=ready]", 1).await
}

/// Waits until `selector` matches at least `count` elements.
async fn wait_for(client: &Client, selector: &str, count: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let n = client.find_all(Locator::Css(selector)).await?.len();
        if n >= count {
            return Ok(());
        }
        if Instant::now() > deadline {
            let text = visible_text(client, "main").await.unwrap_or_default();
            anyhow::bail!("{selector}: {n} of {count} after {READY_TIMEOUT:?}; page says: {text}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn attribute_of(client: &Client, selector: &str, attribute: &str) -> anyhow::Result<String> {
    Ok(client
        .find(Locator::Css(selector))
        .await?
        .attr(attribute)
        .await?
        .unwrap_or_default())
}

/// Pastes `pem` into the signature card's key box, clicks Verify, returns the new state.
async fn verify_with(client: &Client, card: &str, pem: &str) -> anyhow::Result<(String, String)> {
    let area = client
        .find(Locator::Css(&format!("{card} [data-verify-key]")))
        .await?;
    area.send_keys(pem).await?;
    client
        .find(Locator::Css(&format!("{card} [data-verify-button]")))
        .await?
        .click()
        .await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = attribute_of(client, card, "data-signature-state").await?;
        if state != "unverified" || Instant::now() > deadline {
            let text = visible_text(client, &format!("{card} [data-verify-result]")).await?;
            return Ok((state, text));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn provenance_tab_on_distribution_attestations_sbom_links_signatures_and_tag_fallback()
-> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let host = registry.host();
    let name = "team/prov";
    let base_name = format!("{host}/base/runtime");
    let index = buildkit_index(
        &format!("{host}/{name}:v1"),
        &three_layer_image(),
        (&base_name, BASE_DIGEST),
    )?;
    let pusher = Pusher::for_registry(&registry)?;
    let pushed = pusher.push_index(name, "v1", &index).await?;
    let platform_digest = pushed.images[0].1.manifest_digest.clone();

    // cosign: the index digest signed with a key made here; a second payload tampered with.
    let (key, pem) = signing_key()?;
    let sig = cosign_signature(&format!("{host}/{name}"), &pushed.digest, &key, true)?;
    let sig_tag = format!("{}.sig", digest_tag(&pushed.digest));
    pusher.push_image(name, Some(&sig_tag), &sig).await?;

    // An OCI 1.1 artifact about the platform manifest; Distribution 2.8 has no referrers
    // API, so the referrers index is kept under the `sha256-<hex>` tag (tag schema).
    let subject = index.images[0].1.descriptor(None);
    let report = referrer_artifact(
        &subject,
        "application/vnd.strata.test.report",
        "application/json",
        br#"{"ok":true}"#.to_vec(),
    )?;
    for (digest, bytes) in &report.blobs {
        pusher.push_blob(name, digest, bytes).await?;
    }
    pusher
        .push_manifest(name, &report.digest, OCI_MANIFEST, &report.manifest)
        .await?;
    pusher
        .push_manifest(
            name,
            &digest_tag(&platform_digest),
            "application/vnd.oci.image.index.v1+json",
            &referrers_index(&[&report])?,
        )
        .await?;

    let app = start_app_for(std::slice::from_ref(&host)).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    open_provenance(
        &client,
        &format!(
            "{}/image/{host}/{name}@{}?tab=provenance",
            app.url(),
            pushed.digest
        ),
    )
    .await?;

    // 1. Everything attached, each verified.
    let digests = attributes(
        &client,
        "tr[data-attachment-digest]",
        "data-attachment-digest",
    )
    .await?;
    let kinds = attributes(
        &client,
        "tr[data-attachment-digest]",
        "data-attachment-kind",
    )
    .await?;
    let sources = attributes(
        &client,
        "tr[data-attachment-digest]",
        "data-attachment-source",
    )
    .await?;
    let verified = attributes(
        &client,
        "tr[data-attachment-digest]",
        "data-attachment-verified",
    )
    .await?;
    assert_eq!(
        digests,
        vec![
            pushed.attestation.manifest_digest.clone(),
            report.digest.clone(),
            sig.manifest_digest.clone()
        ],
        "attestation, referrer, signature: {kinds:?} {sources:?}"
    );
    assert_eq!(kinds, ["attestation", "other", "cosign-signature"]);
    assert_eq!(sources, ["index", "referrers-tag", "cosign-tag"]);
    assert!(verified.iter().all(|v| v == "verified"), "{verified:?}");

    // Selecting the attestation shows its two in-toto blobs, verified in the browser.
    client
        .find(Locator::Css(&format!(
            "tr[data-attachment-digest='{}'] a",
            pushed.attestation.manifest_digest
        )))
        .await?
        .click()
        .await?;
    wait_for(&client, "[data-blob-state=verified]", 2).await?;
    assert!(client.current_url().await?.as_str().contains(&format!(
        "attestation={}",
        pushed.attestation.manifest_digest.replace(':', "%3A")
    )));

    // 2. SLSA: builder, source commit, base image linked pinned by digest.
    assert_eq!(
        attribute_of(&client, "[data-slsa-builder]", "data-slsa-builder").await?,
        BUILDER_ID
    );
    let frontend = visible_text(&client, "[data-slsa-frontend]").await?;
    assert_eq!(frontend, "dockerfile.v0");
    let dockerfile = visible_text(&client, "[data-slsa-dockerfile]").await?;
    assert_eq!(dockerfile, "build/Dockerfile");
    let commits = attributes(&client, "[data-slsa-source] [data-commit]", "data-commit").await?;
    assert_eq!(commits, [SOURCE_COMMIT]);
    let bases = attributes(&client, "[data-base-image]", "data-base-image").await?;
    assert_eq!(bases, [format!("{base_name}@{BASE_DIGEST}")]);
    let base_href = attribute_of(&client, "[data-base-image]", "href").await?;
    assert_eq!(base_href, format!("/image/{base_name}@{BASE_DIGEST}"));
    let args = attributes(&client, "[data-build-arg]", "data-build-arg").await?;
    assert_eq!(args, ["APP_VERSION"]);

    // 3. SBOM: packages listed; search narrows; a package's file links to the Files tab.
    let packages = attributes(&client, "tr[data-sbom-package]", "data-sbom-package").await?;
    assert_eq!(packages, ["strata-app", "strata-base-files"]);
    client
        .find(Locator::Css("[data-sbom-search]"))
        .await?
        .send_keys("deb")
        .await?;
    wait_for(&client, "[data-sbom-matched='1']", 1).await?;
    let filtered = attributes(&client, "tr[data-sbom-package]", "data-sbom-package").await?;
    assert_eq!(filtered, ["strata-base-files"]);
    client
        .find(Locator::Css(
            "tr[data-sbom-package='strata-app'] a, tr[data-sbom-package='strata-base-files'] a",
        ))
        .await?
        .click()
        .await?;
    wait_for(&client, "[data-package-detail]", 1).await?;
    assert!(
        client
            .current_url()
            .await?
            .as_str()
            .contains("package=strata-base-files")
    );
    client
        .goto(&format!(
            "{}/image/{host}/{name}@{}?tab=provenance&package=strata-app",
            app.url(),
            pushed.digest
        ))
        .await?;
    wait_for_state(&client, "ready", READY_TIMEOUT).await?;
    wait_for(&client, "[data-package-file]", 2).await?;
    let files = attributes(&client, "[data-package-file]", "data-package-file").await?;
    assert_eq!(files, ["/bin/app", "/etc/app/config.toml"]);
    let where_ = visible_text(&client, "[data-package-file='/bin/app']").await?;
    assert!(where_.contains("layer 1"), "{where_}");
    client
        .find(Locator::Css("[data-package-file='/etc/app/config.toml'] a"))
        .await?
        .click()
        .await?;
    let deadline = Instant::now() + READY_TIMEOUT;
    while !client.current_url().await?.as_str().contains("tab=files") {
        anyhow::ensure!(Instant::now() < deadline, "no navigation to the Files tab");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = client.current_url().await?;
    let path = url
        .query_pairs()
        .find(|(k, _)| k == "path")
        .map(|(_, v)| v.into_owned());
    assert_eq!(path.as_deref(), Some("/etc/app/config.toml"));
    wait_for(&client, "[data-path]", 1).await?;

    // 4. Signatures: the payload signs this index; a pasted key verifies the honest one and
    // the tampered payload fails.
    client
        .goto(&format!(
            "{}/image/{host}/{name}@{}?tab=provenance",
            app.url(),
            pushed.digest
        ))
        .await?;
    wait_for_state(&client, "ready", READY_TIMEOUT).await?;
    wait_for(&client, "[data-signature-digest]", 2).await?;
    let layers = attributes(&client, "[data-signature-digest]", "data-signature-digest").await?;
    assert_eq!(
        layers,
        [sig.layers[0].digest.clone(), sig.layers[1].digest.clone()]
    );
    let checks = attributes(&client, "[data-signature-digest] [data-check]", "data-ok").await?;
    assert!(
        checks.iter().all(|c| c == "true"),
        "digest and reference match: {checks:?}"
    );
    let signed = visible_text(&client, "[data-signed-digest]").await?;
    assert!(signed.contains(&pushed.digest), "{signed}");
    let honest = format!("[data-signature-digest='{}']", sig.layers[0].digest);
    let (state, text) = verify_with(&client, &honest, &pem).await?;
    assert_eq!(state, "verified", "{text}");
    assert!(text.contains("✓ signature verifies"), "{text}");
    let tampered = format!("[data-signature-digest='{}']", sig.layers[1].digest);
    let (state, text) = verify_with(&client, &tampered, &pem).await?;
    assert_eq!(state, "failed", "{text}");
    assert!(text.contains("does not verify"), "{text}");
    // Another key fails the honest signature too.
    let (_, other_pem) = signing_key()?;
    client
        .goto(&format!(
            "{}/image/{host}/{name}@{}?tab=provenance",
            app.url(),
            pushed.digest
        ))
        .await?;
    wait_for(&client, "[data-signature-digest]", 2).await?;
    let (state, _) = verify_with(&client, &honest, &other_pem).await?;
    assert_eq!(state, "failed");

    // The overview's distribution facts say what was found and checked.
    client
        .goto(&format!(
            "{}/image/{host}/{name}@{}",
            app.url(),
            pushed.digest
        ))
        .await?;
    wait_for(&client, "[data-fact=signatures][data-loaded=true]", 1).await?;
    let said = visible_text(&client, "[data-fact=signatures]").await?;
    assert_eq!(
        said,
        "1 signature (cosign signature): 1 verified by digest, 2 of 2 cosign payloads name this \
         image; the Provenance tab checks them against a key"
    );
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn referrers_api_lists_an_sbom_artifact_about_the_image() -> anyhow::Result<()> {
    // The referrers API itself: Distribution 2.8 has none, so this small axum registry
    // (test support) serves the read paths and /v2/<name>/referrers/<digest>.
    let registry = ReferrersRegistry::start().await?;
    let host = registry.host();
    let image = three_layer_image().build(Format::Oci)?;
    let digest = registry.put_image(Some("v1"), &image);
    let sbom = serde_json::to_vec(&serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5",
        "components": [{"bom-ref": "a", "type": "library", "name": "strata-app", "version": "1.2.3",
                        "purl": "pkg:golang/example.com/strata/app@v1.2.3",
                        "licenses": [{"license": {"id": "Apache-2.0"}}],
                        "evidence": {"occurrences": [{"location": "/bin/app"}]}}],
    }))?;
    let artifact = referrer_artifact(
        &image.descriptor(None),
        "application/vnd.cyclonedx+json",
        "application/vnd.cyclonedx+json",
        sbom,
    )?;
    registry.put_artifact(&artifact);

    let app = start_app_for(std::slice::from_ref(&host)).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    open_provenance(
        &client,
        &format!(
            "{}/image/{host}/team/app@{digest}?tab=provenance",
            app.url()
        ),
    )
    .await?;
    let rows = attributes(
        &client,
        "tr[data-attachment-digest]",
        "data-attachment-digest",
    )
    .await?;
    assert_eq!(rows, std::slice::from_ref(&artifact.digest));
    assert_eq!(
        attribute_of(
            &client,
            "tr[data-attachment-digest]",
            "data-attachment-source"
        )
        .await?,
        "referrers"
    );
    assert_eq!(
        attribute_of(
            &client,
            "tr[data-attachment-digest]",
            "data-attachment-kind"
        )
        .await?,
        "sbom"
    );
    assert_eq!(
        attribute_of(
            &client,
            "tr[data-attachment-digest]",
            "data-attachment-verified"
        )
        .await?,
        "verified"
    );
    let packages = attributes(&client, "tr[data-sbom-package]", "data-sbom-package").await?;
    assert_eq!(packages, ["strata-app"]);
    client.close().await?;
    Ok(())
}
