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
use strata_tests::token_server::TokenServer;

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
