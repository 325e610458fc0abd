//! Identity tokens (`identitytoken` in docker's config.json): the companion trades one for
//! a registry token with Docker's OAuth2 refresh-token `POST` to the realm, and pulls from
//! the real Distribution registry with token auth. The realm here refuses anonymous
//! requests, so only that grant works. A recording tap in front of the registry shows the
//! identity token never reaches the registry host itself.

use base64::Engine as _;
use strata_tests::companion::{Companion, start_companion};
use strata_tests::http::{get, get_manifest};
use strata_tests::image::sha256_digest;
use strata_tests::push;
use strata_tests::tap::TcpTap;
use strata_tests::token_server::{TokenServer, TokenServerConfig};
use tempfile::TempDir;

const IDENTITY_TOKEN: &str = "strata-identity-token-7f3a9c";
const IDENTITY_USER: &str = "strata-oauth-user";

/// A token server that accepts `IDENTITY_TOKEN` in the POST grant and refuses anonymous
/// GETs (the pusher's Basic credentials still work).
async fn oauth_token_server() -> TokenServer {
    TokenServer::start(TokenServerConfig {
        anonymous: false,
        identity_tokens: vec![(IDENTITY_TOKEN.into(), IDENTITY_USER.into())],
        ..TokenServerConfig::default()
    })
    .await
    .unwrap()
}

/// A companion whose docker config holds `identity_token` for `registry_host`.
async fn companion_with_identity_token(
    registry_host: &str,
    realm_host: &str,
    identity_token: &str,
) -> (Companion, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.json");
    let docker_config = serde_json::json!({
        "auths": { registry_host: { "identitytoken": identity_token } }
    });
    std::fs::write(&config_path, serde_json::to_vec(&docker_config).unwrap()).unwrap();
    let companion = start_companion(strata_companion::Config {
        insecure_registries: vec![registry_host.to_owned(), realm_host.to_owned()],
        credentials: strata_companion::CredentialsSource::File(config_path),
        ..strata_companion::Config::default()
    })
    .await
    .unwrap();
    (companion, dir)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[tokio::test]
async fn relay_pulls_with_an_identity_token() {
    let token_server = oauth_token_server().await;
    let registry = token_server.start_registry().await.unwrap();
    let pushed = push::push_three_layer_image(&registry, "team/app", "v1")
        .await
        .unwrap();
    let pushes = token_server.requests().len();
    let tap = TcpTap::start(registry.host().parse().unwrap())
        .await
        .unwrap();
    let host = tap.host();
    let realm_host = format!("localhost:{}", token_server.addr().port());
    let (companion, _dir) = companion_with_identity_token(&host, &realm_host, IDENTITY_TOKEN).await;

    let url = companion.registry_url(&host, "team/app/manifests/v1");
    let manifest = get_manifest(&url).await;
    assert_eq!(
        manifest.status,
        200,
        "{url}: {}\n{}",
        String::from_utf8_lossy(&manifest.body),
        registry.log()
    );
    assert_eq!(sha256_digest(&manifest.body), pushed.manifest_digest);
    assert_eq!(
        manifest.header("docker-content-digest"),
        pushed.manifest_digest.as_str()
    );
    let layer = &pushed.layers[0];
    let blob =
        get(&companion.registry_url(&host, &format!("team/app/blobs/{}", layer.digest))).await;
    assert_eq!(blob.status, 200);
    assert_eq!(sha256_digest(&blob.body), layer.digest);

    // The realm saw Docker's refresh-token grant, and nothing else from the companion.
    let asked = &token_server.requests()[pushes..];
    assert!(!asked.is_empty(), "the companion never asked the realm");
    for request in asked {
        assert_eq!(request.method, "POST", "{request:?}");
        assert_eq!(request.grant_type.as_deref(), Some("refresh_token"));
        assert_eq!(request.client_id.as_deref(), Some("strata"));
        assert_eq!(request.service.as_deref(), Some(token_server.service()));
        assert_eq!(request.scopes, ["repository:team/app:pull"]);
        assert!(!request.had_authorization, "the grant is in the body");
        assert_eq!(request.user.as_deref(), Some(IDENTITY_USER));
        assert_eq!(request.status, 200);
    }
    assert_eq!(asked.len(), 1, "one token serves both (cached): {asked:?}");

    // The registry host got Bearer tokens, never the identity token in any form.
    let sent = tap.sent();
    assert!(
        contains(&sent, "authorization: Bearer "),
        "the tap saw the registry traffic"
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    for form in [
        IDENTITY_TOKEN.to_owned(),
        b64.encode(format!("<token>:{IDENTITY_TOKEN}")),
        b64.encode(IDENTITY_TOKEN),
    ] {
        assert!(
            !contains(&sent, &form),
            "the registry host received the identity token ({form})"
        );
    }
}

#[tokio::test]
async fn wrong_identity_token_is_a_clear_401() {
    let token_server = oauth_token_server().await;
    let registry = token_server.start_registry().await.unwrap();
    push::push_three_layer_image(&registry, "team/app", "v1")
        .await
        .unwrap();
    let pushes = token_server.requests().len();
    let host = registry.host();
    let realm_host = format!("localhost:{}", token_server.addr().port());
    let (companion, _dir) =
        companion_with_identity_token(&host, &realm_host, "not-the-identity-token").await;

    let url = companion.registry_url(&host, "team/app/manifests/v1");
    let message = get_manifest(&url).await.error_message(401, "UNAUTHORIZED");
    assert!(
        message.contains("identity token") && message.contains(&host) && message.contains("401"),
        "names the registry, the identity token and the realm's answer: {message}"
    );
    assert!(!message.contains("not-the-identity-token"), "{message}");
    let asked = &token_server.requests()[pushes..];
    assert!(
        asked
            .iter()
            .any(|r| r.method == "POST" && r.grant_type.as_deref() == Some("refresh_token")),
        "{asked:?}"
    );
    assert!(asked.iter().all(|r| r.status == 401), "{asked:?}");
}
