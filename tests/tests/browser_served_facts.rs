//! Real-browser test of the distribution facts the relay observes (issue 16, item 3):
//! access (anonymous, with the token scope the registry's token server granted), the
//! answer's source (the registry itself, or a mirror given with `--mirror`), and Docker
//! Hub's rate-limit headers with their `w=` window. The registry is the real
//! Distribution behind a real token handshake (the test token server signs the JWTs the
//! registry checks); Docker Hub's `RateLimit-*` headers are emulated by a pass-through
//! that adds them to manifest answers, as no local registry sends them.

use std::time::Duration;

use fantoccini::Client;
use strata_tests::browser::{Browser, app_dist, visible_text, wait_for_state};
use strata_tests::companion::{Config, start_companion};
use strata_tests::fixtures::three_layer_image;
use strata_tests::image::Format;
use strata_tests::passthrough::{Options, Passthrough};
use strata_tests::push::Pusher;
use strata_tests::token_server::{TokenServer, TokenServerConfig};

const TIMEOUT: Duration = Duration::from_secs(60);

async fn fact(client: &Client, name: &str) -> anyhow::Result<String> {
    visible_text(client, &format!("[data-fact={name}]")).await
}

#[tokio::test]
async fn the_overview_says_how_the_image_was_served_pulls_left_and_a_mirror() -> anyhow::Result<()>
{
    let (tokens, registry) = TokenServer::start_with_registry().await?;
    // The token realm is plain http on loopback too.
    let realm = format!("localhost:{}", tokens.addr().port());
    let image = three_layer_image().build(Format::Oci)?;
    let pushed = Pusher::for_registry(&registry)?
        .push_image("team/app", Some("v1"), &image)
        .await?;
    let hub_headers = vec![
        ("RateLimit-Limit".to_owned(), "100;w=21600".to_owned()),
        ("RateLimit-Remaining".to_owned(), "76;w=21600".to_owned()),
        (
            "Docker-RateLimit-Source".to_owned(),
            "203.0.113.7".to_owned(),
        ),
    ];
    let upstream = Passthrough::start(
        &registry,
        Options {
            manifest_headers: hub_headers,
            ..Options::default()
        },
    )
    .await?;
    // A second way to the same registry, named as the first one's mirror.
    let mirror = Passthrough::start(&registry, Options::default()).await?;
    let app = start_companion(Config {
        insecure_registries: vec![
            upstream.host().to_owned(),
            mirror.host().to_owned(),
            realm.clone(),
        ],
        dist: Some(app_dist()?),
        credentials: strata_companion::CredentialsSource::None,
        docker_host: strata_companion::DockerHost::Off,
        ..Config::default()
    })
    .await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    let page = format!("{}/image/{}/team/app:v1", app.url(), upstream.host());
    client.goto(&page).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;

    let access = fact(&client, "access").await?;
    assert_eq!(
        access,
        "pulled anonymously, with an anonymous token; token scope granted: repository:team/app:pull"
    );
    let availability = fact(&client, "availability").await?;
    assert_eq!(
        availability,
        "served by the registry itself; rate limit: 76 of 100 pulls left per 6 h"
    );
    let longevity = fact(&client, "longevity").await?;
    assert!(longevity.contains("opened by tag v1"), "{longevity}");
    let kind = fact(&client, "registry").await?;
    assert_eq!(
        kind,
        format!("{}: a private or self-hosted registry", upstream.host())
    );
    client.close().await?;
    drop(app);

    let app = start_companion(Config {
        insecure_registries: vec![
            upstream.host().to_owned(),
            mirror.host().to_owned(),
            realm.clone(),
        ],
        mirrors: vec![(upstream.host().to_owned(), mirror.url())],
        dist: Some(app_dist()?),
        credentials: strata_companion::CredentialsSource::None,
        docker_host: strata_companion::DockerHost::Off,
        ..Config::default()
    })
    .await?;
    let client = browser.session().await?;
    client
        .goto(&format!(
            "{}/image/{}/team/app@{}",
            app.url(),
            upstream.host(),
            pushed.manifest_digest
        ))
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let availability = fact(&client, "availability").await?;
    assert_eq!(
        availability,
        format!(
            "served from the mirror {} (--mirror); no rate-limit headers",
            mirror.host()
        )
    );
    assert!(
        mirror
            .requests()
            .iter()
            .any(|r| r.contains(&format!("/manifests/{}", pushed.manifest_digest))),
        "{:?}",
        mirror.requests()
    );
    client.close().await?;
    Ok(())
}

/// The compressed sizes of a pushed manifest's layers, summed.
fn layer_bytes(manifest: &[u8]) -> anyhow::Result<u64> {
    let manifest: serde_json::Value = serde_json::from_slice(manifest)?;
    Ok(manifest["layers"]
        .as_array()
        .map(|layers| layers.iter().filter_map(|l| l["size"].as_u64()).sum())
        .unwrap_or(0))
}

#[tokio::test]
async fn the_overview_remembers_layers_seen_in_other_images_and_a_tag_that_moved()
-> anyhow::Result<()> {
    use strata_tests::image::{Entry, LayerSpec, Step};
    let registry = strata_tests::registry::Registry::start().await?;
    let pusher = Pusher::for_registry(&registry)?;
    let base = three_layer_image();
    let a = pusher
        .push_image("team/app", Some("v1"), &base.build(Format::Oci)?)
        .await?;
    let mut grown = base.clone();
    grown.steps.push(Step::Layer(LayerSpec::new(
        "COPY extra /",
        vec![Entry::file(
            "/extra.txt",
            b"one more layer\n".to_vec(),
            0o644,
        )],
    )));
    let b_image = grown.build(Format::Oci)?;
    let app = strata_tests::browser::start_app(&registry).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    let open = |name: &str| format!("{}/image/{}/{name}", app.url(), registry.host());

    client.goto(&open("team/app:v1")).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let first = fact(&client, "longevity").await?;
    assert!(!first.contains("moved"), "{first}");
    let nothing_shared = client
        .find(fantoccini::Locator::Css("[data-fact=transport]"))
        .await?
        .attr("data-shared-bytes")
        .await?;
    assert_eq!(nothing_shared.as_deref(), Some("0"));

    // The same base layers in another repository: their bytes are already here.
    pusher
        .push_image("team/other", Some("v1"), &b_image)
        .await?;
    client.goto(&open("team/other:v1")).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let transport = client
        .find(fantoccini::Locator::Css("[data-fact=transport]"))
        .await?;
    assert_eq!(
        transport.attr("data-shared-bytes").await?,
        Some(layer_bytes(&a.manifest_bytes)?.to_string())
    );
    let text = transport.text().await?;
    let holder = format!("{}/team/app@{}", registry.host(), a.manifest_digest);
    assert!(
        text.contains("(3 layers) already in images seen here") && text.contains(&holder),
        "{text}"
    );

    // The tag moves to the grown image: the next visit says so, and what it was.
    pusher.push_image("team/app", Some("v1"), &b_image).await?;
    client.goto(&open("team/app:v1")).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let moved = fact(&client, "longevity").await?;
    let was = &a.manifest_digest["sha256:".len().."sha256:".len() + 12];
    assert!(
        moved.contains("The tag moved since this browser last saw it") && moved.contains(was),
        "{moved}"
    );
    client.goto(&open("team/app:v1")).await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let same = fact(&client, "longevity").await?;
    assert!(
        same.contains("points where it did on the last visit"),
        "{same}"
    );
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn every_platforms_size_is_read_on_request_with_shared_layers_counted_once()
-> anyhow::Result<()> {
    let registry = strata_tests::registry::Registry::start().await?;
    let index = strata_tests::image::build_index(
        "team/multi",
        &strata_tests::fixtures::two_platform_images(),
        Format::Oci,
    )?;
    let pushed = Pusher::for_registry(&registry)?
        .push_index("team/multi", "v1", &index)
        .await?;
    let mut distinct = std::collections::BTreeMap::new();
    let mut expected = Vec::new();
    for (platform, image) in &index.images {
        let manifest: serde_json::Value = serde_json::from_slice(&image.manifest_bytes)?;
        for layer in manifest["layers"].as_array().into_iter().flatten() {
            distinct.insert(
                layer["digest"].to_string(),
                layer["size"].as_u64().unwrap_or(0),
            );
        }
        expected.push((platform.to_string(), layer_bytes(&image.manifest_bytes)?));
    }
    let app = strata_tests::browser::start_app(&registry).await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    client
        .goto(&format!(
            "{}/image/{}/team/multi@{}",
            app.url(),
            registry.host(),
            pushed.digest
        ))
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let requests_before = registry.log().matches("/manifests/").count();
    client
        .find(fantoccini::Locator::Css("[data-read-platform-sizes]"))
        .await?
        .click()
        .await?;
    let total = client
        .wait()
        .at_most(TIMEOUT)
        .for_element(fantoccini::Locator::Css("[data-index-bytes]"))
        .await?;
    assert_eq!(
        total.attr("data-index-bytes").await?,
        Some(distinct.values().sum::<u64>().to_string())
    );
    for (platform, bytes) in expected {
        let row = client
            .find(fantoccini::Locator::Css(&format!(
                "[data-fact=platform-sizes] [data-platform='{platform}']"
            )))
            .await?;
        assert_eq!(
            row.attr("data-platform-bytes").await?,
            Some(bytes.to_string()),
            "{platform}"
        );
    }
    assert!(
        registry.log().matches("/manifests/").count() > requests_before,
        "the sizes come from the platform manifests"
    );
    client.close().await?;
    Ok(())
}

/// Harbor runs Distribution behind a token service it names `harbor-registry`; its host
/// says nothing. The same real token handshake with that service name makes the page say
/// Harbor and the project (the first part of the name), from the relay's `Strata-Access`.
#[tokio::test]
async fn a_registry_whose_token_service_is_harbors_is_named_harbor_with_its_project()
-> anyhow::Result<()> {
    let tokens = TokenServer::start(TokenServerConfig {
        service: "harbor-registry".into(),
        ..TokenServerConfig::default()
    })
    .await?;
    let registry = tokens.start_registry().await?;
    let realm = format!("localhost:{}", tokens.addr().port());
    let pushed = Pusher::for_registry(&registry)?
        .push_image(
            "library/app",
            Some("v1"),
            &three_layer_image().build(Format::Oci)?,
        )
        .await?;
    let app = start_companion(Config {
        insecure_registries: vec![registry.host().to_owned(), realm],
        dist: Some(app_dist()?),
        credentials: strata_companion::CredentialsSource::None,
        docker_host: strata_companion::DockerHost::Off,
        ..Config::default()
    })
    .await?;
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    client
        .goto(&format!(
            "{}/image/{}/library/app@{}",
            app.url(),
            registry.host(),
            pushed.manifest_digest
        ))
        .await?;
    wait_for_state(&client, "ready", TIMEOUT).await?;
    let kind = fact(&client, "registry").await?;
    assert_eq!(
        kind,
        format!(
            "{}: Harbor, project library (its token service is harbor-registry)",
            registry.host()
        )
    );
    let access = fact(&client, "access").await?;
    assert!(
        access.starts_with("pulled anonymously, with an anonymous token"),
        "{access}"
    );
    client.close().await?;
    Ok(())
}
