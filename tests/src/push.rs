//! Pushing built images over the distribution API, plain HTTP (or https trusting a test CA).
//!
//! Blobs: `POST /v2/NAME/blobs/uploads/` → `202` with `Location` → `PUT LOCATION?digest=…`
//! with the bytes → `201`. Manifests: `PUT /v2/NAME/manifests/REF` with their
//! `Content-Type` → `201` with `Docker-Content-Digest`, which must equal the digest
//! computed here.
//!
//! Against a token-auth registry the pusher answers the Bearer challenge:
//! 1. the request gets `401` with `WWW-Authenticate: Bearer realm=…,service=…,scope=…`;
//! 2. `GET realm?service=…&scope=repository:NAME:pull,push` with Basic credentials;
//! 3. the request is retried with `Authorization: Bearer TOKEN` (cached per repository).

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::{Context as _, bail, ensure};
use reqwest::header::{CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};

use crate::image::{ACCEPT_ALL_MANIFESTS, BuiltImage, BuiltIndex, Format, ImageSpec, Platform};
use crate::registry::Registry;
use crate::token_server::{PUSH_PASSWORD, PUSH_USER};

/// A layer as pushed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedLayer {
    /// Digest of the blob.
    pub digest: String,
    /// Digest of the uncompressed content.
    pub diff_id: String,
    /// Blob size in bytes.
    pub size: u64,
    /// The descriptor's media type.
    pub media_type: String,
}

/// An image manifest as pushed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedImage {
    /// Repository name (without host).
    pub name: String,
    /// The digest computed here and confirmed by the registry.
    pub manifest_digest: String,
    /// The manifest bytes.
    pub manifest_bytes: Vec<u8>,
    /// The manifest media type.
    pub manifest_media_type: String,
    /// The config digest.
    pub config_digest: String,
    /// The config bytes.
    pub config_bytes: Vec<u8>,
    /// The layers, in order.
    pub layers: Vec<PushedLayer>,
}

/// An index as pushed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedIndex {
    /// Repository name (without host).
    pub name: String,
    /// The index digest.
    pub digest: String,
    /// The index bytes.
    pub bytes: Vec<u8>,
    /// The index media type.
    pub media_type: String,
    /// The platform images, in index order.
    pub images: Vec<(Platform, PushedImage)>,
    /// The attestation manifest (about the first image).
    pub attestation: PushedImage,
}

/// A distribution API client for one registry, able to push.
#[derive(Debug)]
pub struct Pusher {
    client: reqwest::Client,
    base: Url,
    credentials: Option<(String, String)>,
    tokens: Mutex<HashMap<String, String>>,
}

impl Pusher {
    /// A pusher for `http://HOST` without credentials.
    pub fn new(host: &str) -> anyhow::Result<Pusher> {
        Ok(Pusher {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()?,
            base: Url::parse(&format!("http://{host}/"))?,
            credentials: None,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// A pusher for `https://HOST` that trusts the CA in `ca_pem` (a registry started with
    /// [`Registry::start_with_tls`]).
    pub fn new_https(host: &str, ca_pem: &str) -> anyhow::Result<Pusher> {
        Ok(Pusher {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes())?)
                .build()?,
            base: Url::parse(&format!("https://{host}/"))?,
            credentials: None,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// A pusher for `registry` (over https when it serves TLS); with token auth, it logs
    /// in as [`PUSH_USER`].
    pub fn for_registry(registry: &Registry) -> anyhow::Result<Pusher> {
        let pusher = match registry.ca_pem() {
            Some(ca_pem) => Pusher::new_https(&registry.host(), ca_pem)?,
            None => Pusher::new(&registry.host())?,
        };
        Ok(if registry.token_auth().is_some() {
            pusher.with_basic_auth(PUSH_USER, PUSH_PASSWORD)
        } else {
            pusher
        })
    }

    /// Credentials to send to the token realm.
    pub fn with_basic_auth(mut self, user: &str, password: &str) -> Pusher {
        self.credentials = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Sends a request built by `build`, answering one Bearer challenge for `name`.
    async fn send(
        &self,
        name: &str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> anyhow::Result<Response> {
        let cached = self.tokens.lock().expect("tokens lock").get(name).cloned();
        let with_token = |token: Option<&str>| {
            let req = build(&self.client);
            match token {
                Some(t) => req.bearer_auth(t),
                None => req,
            }
        };
        let resp = with_token(cached.as_deref()).send().await?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let Some(challenge) = resp
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
        else {
            return Ok(resp);
        };
        let params = parse_bearer_challenge(challenge)
            .with_context(|| format!("unexpected challenge {challenge:?}"))?;
        let token = self.fetch_token(&params, name).await?;
        self.tokens
            .lock()
            .expect("tokens lock")
            .insert(name.to_owned(), token.clone());
        Ok(with_token(Some(&token)).send().await?)
    }

    async fn fetch_token(
        &self,
        params: &HashMap<String, String>,
        name: &str,
    ) -> anyhow::Result<String> {
        let realm = params.get("realm").context("challenge without realm")?;
        let mut url = Url::parse(realm).with_context(|| format!("bad realm {realm:?}"))?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = params.get("service") {
                query.append_pair("service", service);
            }
            query.append_pair("scope", &format!("repository:{name}:pull,push"));
        }
        let mut req = self.client.get(url);
        if let Some((user, password)) = &self.credentials {
            req = req.basic_auth(user, Some(password));
        }
        let resp = req.send().await?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.context("token response is not JSON")?;
        ensure!(
            status.is_success(),
            "token server answered {status}: {body}"
        );
        body.get("token")
            .or_else(|| body.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_owned)
            .context("token response without token")
    }

    /// Uploads a blob (monolithic: POST, then PUT with the digest).
    pub async fn push_blob(&self, name: &str, digest: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let start = self.base.join(&format!("v2/{name}/blobs/uploads/"))?;
        let resp = self.send(name, |c| c.post(start.clone())).await?;
        let status = resp.status();
        if status != StatusCode::ACCEPTED {
            bail!(
                "POST {start} answered {status}: {}",
                resp.text().await.unwrap_or_default()
            );
        }
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .context("upload without Location")?;
        let mut put = self.base.join(location)?;
        put.query_pairs_mut().append_pair("digest", digest);
        let body = bytes.to_vec();
        let resp = self
            .send(name, |c| {
                c.put(put.clone())
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(body.clone())
            })
            .await?;
        let status = resp.status();
        if status != StatusCode::CREATED {
            bail!(
                "PUT blob {digest} answered {status}: {}",
                resp.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }

    /// Uploads a manifest under `reference` (tag or digest); returns the registry's
    /// `Docker-Content-Digest`, checked against the digest of `bytes`.
    pub async fn push_manifest(
        &self,
        name: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> anyhow::Result<String> {
        let digest = self
            .push_manifest_digested(name, reference, media_type, bytes)
            .await?;
        let computed = crate::image::sha256_digest(bytes);
        ensure!(
            digest == computed,
            "registry says {digest}, bytes hash to {computed}"
        );
        Ok(digest)
    }

    /// Uploads a manifest and returns the registry's `Docker-Content-Digest` unchecked: a
    /// signed schema1 manifest's digest is over its JWS payload, not its bytes.
    pub async fn push_manifest_digested(
        &self,
        name: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> anyhow::Result<String> {
        let url = self
            .base
            .join(&format!("v2/{name}/manifests/{reference}"))?;
        let body = bytes.to_vec();
        let resp = self
            .send(name, |c| {
                c.put(url.clone())
                    .header(CONTENT_TYPE, media_type)
                    .body(body.clone())
            })
            .await?;
        let status = resp.status();
        if status != StatusCode::CREATED {
            bail!(
                "PUT {url} answered {status}: {}",
                resp.text().await.unwrap_or_default()
            );
        }
        let digest = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .context("manifest PUT without Docker-Content-Digest")?
            .to_owned();
        Ok(digest)
    }

    /// Pushes the config, the layers and the manifest; tags it when `tag` is given,
    /// else pushes it by digest.
    pub async fn push_image(
        &self,
        name: &str,
        tag: Option<&str>,
        image: &BuiltImage,
    ) -> anyhow::Result<PushedImage> {
        self.push_blob(name, &image.config_digest, &image.config_bytes)
            .await?;
        for layer in &image.layers {
            self.push_blob(name, &layer.digest, &layer.blob).await?;
        }
        let reference = tag.unwrap_or(&image.manifest_digest);
        let manifest_digest = self
            .push_manifest(
                name,
                reference,
                &image.manifest_media_type,
                &image.manifest_bytes,
            )
            .await?;
        Ok(PushedImage {
            name: name.to_owned(),
            manifest_digest,
            manifest_bytes: image.manifest_bytes.clone(),
            manifest_media_type: image.manifest_media_type.clone(),
            config_digest: image.config_digest.clone(),
            config_bytes: image.config_bytes.clone(),
            layers: image
                .layers
                .iter()
                .map(|l| PushedLayer {
                    digest: l.digest.clone(),
                    diff_id: l.diff_id.clone(),
                    size: l.blob.len() as u64,
                    media_type: l.media_type.clone(),
                })
                .collect(),
        })
    }

    /// Pushes every manifest of `index` by digest, then the index under `tag`.
    pub async fn push_index(
        &self,
        name: &str,
        tag: &str,
        index: &BuiltIndex,
    ) -> anyhow::Result<PushedIndex> {
        let mut images = Vec::new();
        for (platform, image) in &index.images {
            images.push((platform.clone(), self.push_image(name, None, image).await?));
        }
        let attestation = self.push_image(name, None, &index.attestation).await?;
        let digest = self
            .push_manifest(name, tag, &index.media_type, &index.bytes)
            .await?;
        Ok(PushedIndex {
            name: name.to_owned(),
            digest,
            bytes: index.bytes.clone(),
            media_type: index.media_type.clone(),
            images,
            attestation,
        })
    }

    /// `GET /v2/NAME/manifests/REF` accepting every manifest type: (status, headers, body).
    pub async fn get_manifest(
        &self,
        name: &str,
        reference: &str,
    ) -> anyhow::Result<(StatusCode, reqwest::header::HeaderMap, Vec<u8>)> {
        let url = self
            .base
            .join(&format!("v2/{name}/manifests/{reference}"))?;
        let resp = self
            .send(name, |c| {
                c.request(Method::GET, url.clone())
                    .header("Accept", ACCEPT_ALL_MANIFESTS)
            })
            .await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        Ok((status, headers, resp.bytes().await?.to_vec()))
    }

    /// `DELETE /v2/NAME/{manifests|blobs}/DIGEST`, as a garbage collection or a partial
    /// mirror leaves a repository: the object is gone, what pointed at it stays.
    pub async fn delete(&self, name: &str, kind: &str, digest: &str) -> anyhow::Result<()> {
        let url = self.base.join(&format!("v2/{name}/{kind}/{digest}"))?;
        let resp = self
            .send(name, |c| c.request(Method::DELETE, url.clone()))
            .await?;
        anyhow::ensure!(
            resp.status() == StatusCode::ACCEPTED,
            "DELETE {kind}/{digest}: {}",
            resp.status()
        );
        Ok(())
    }

    /// `GET /v2/NAME/blobs/DIGEST`: (status, body).
    pub async fn get_blob(
        &self,
        name: &str,
        digest: &str,
    ) -> anyhow::Result<(StatusCode, Vec<u8>)> {
        let url = self.base.join(&format!("v2/{name}/blobs/{digest}"))?;
        let resp = self.send(name, |c| c.get(url.clone())).await?;
        let status = resp.status();
        Ok((status, resp.bytes().await?.to_vec()))
    }
}

/// Pushes [`fixtures::three_layer_image`](crate::fixtures::three_layer_image), as OCI,
/// to `registry` as `name:tag`.
pub async fn push_three_layer_image(
    registry: &Registry,
    name: &str,
    tag: &str,
) -> anyhow::Result<PushedImage> {
    let spec = crate::fixtures::three_layer_image();
    push_image(registry, name, tag, &spec, Format::Oci).await
}

/// Builds `spec` in `format` and pushes it to `registry` as `name:tag`.
pub async fn push_image(
    registry: &Registry,
    name: &str,
    tag: &str,
    spec: &ImageSpec,
    format: Format,
) -> anyhow::Result<PushedImage> {
    let image = spec.build(format)?;
    Pusher::for_registry(registry)?
        .push_image(name, Some(tag), &image)
        .await
}

/// Builds a two-platform index (linux/amd64, linux/arm64/v8 of the three-layer fixture)
/// with a BuildKit attestation manifest, and pushes it to `registry` as `name:tag`.
pub async fn push_index(
    registry: &Registry,
    name: &str,
    tag: &str,
    format: Format,
) -> anyhow::Result<PushedIndex> {
    let specs = crate::fixtures::two_platform_images();
    let index =
        crate::image::build_index(&format!("{}/{name}:{tag}", registry.host()), &specs, format)?;
    Pusher::for_registry(registry)?
        .push_index(name, tag, &index)
        .await
}

/// Parses `Bearer k="v",k2="v2"` into its parameters (keys lowercased).
pub fn parse_bearer_challenge(header: &str) -> Option<HashMap<String, String>> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        params.insert(key.trim().to_ascii_lowercase(), value);
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges_with_commas_in_scope() {
        let p = parse_bearer_challenge(
            r#"Bearer realm="http://localhost:1/token",service="svc",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(p["realm"], "http://localhost:1/token");
        assert_eq!(p["service"], "svc");
        assert_eq!(p["scope"], "repository:a/b:pull,push");
        assert!(parse_bearer_challenge(r#"Basic realm="x""#).is_none());
    }
}

/// One layer of a manifest written descriptor by descriptor.
#[derive(Clone, Debug)]
pub struct RawLayer {
    /// Its descriptor, as the manifest lists it.
    pub descriptor: serde_json::Value,
    /// `sha256:…` of its tar, for the config.
    pub diff_id: String,
    /// The blob to push; `None` for a foreign layer, which the registry never holds.
    pub blob: Option<Vec<u8>>,
}

/// Pushes the layers' blobs, a config listing their diff_ids (linux/amd64, one history
/// step per layer), and the manifest under `tag`; returns the manifest's digest.
pub async fn push_raw_image(
    registry: &Registry,
    name: &str,
    tag: &str,
    manifest_type: &str,
    config_type: &str,
    layers: &[RawLayer],
) -> anyhow::Result<String> {
    use serde_json::json;
    let pusher = Pusher::for_registry(registry)?;
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
        "history": layers.iter().enumerate().map(|(i, _)| json!({"created_by": format!("step {i}")})).collect::<Vec<_>>(),
    }))?;
    let config_digest = crate::image::sha256_digest(&config);
    pusher.push_blob(name, &config_digest, &config).await?;
    for layer in layers {
        if let Some(blob) = &layer.blob {
            let digest = layer.descriptor["digest"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("a layer descriptor without a digest"))?;
            pusher.push_blob(name, digest, blob).await?;
        }
    }
    let manifest = serde_json::to_vec_pretty(&json!({
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": {"mediaType": config_type, "digest": config_digest, "size": config.len()},
        "layers": layers.iter().map(|l| l.descriptor.clone()).collect::<Vec<_>>(),
    }))?;
    pusher
        .push_manifest(name, tag, manifest_type, &manifest)
        .await
}
