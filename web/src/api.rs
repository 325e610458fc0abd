//! Every request the page makes goes through here: the companion's relay routes, and the
//! verification of each manifest and config against its digest before anything is shown.

use std::fmt;

use js_sys::Uint8Array;
use strata_shared::manifest::{ImageConfig, ImageIndex, ParsedDocument};
use strata_shared::media_type::MANIFEST_ACCEPT;
use strata_shared::{Digest, DigestVerifier};

use crate::early_documents;
use crate::endpoint::Endpoint;
use crate::relay_facts::{RelayFacts, quota, window_seconds};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

/// Bytes are never shown before this check: which digest they were checked against, and why
/// that digest is the right one.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Verification {
    /// What was checked (`index`, `manifest`, `config`).
    pub object: &'static str,
    /// The digest the bytes had to match.
    pub expected: Digest,
    /// Where that digest came from.
    pub source: &'static str,
    /// The outcome, with the reason when it failed.
    pub outcome: Result<(), String>,
}

/// What can go wrong fetching an image, said plainly.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ApiError {
    /// The companion did not answer.
    RelayDown(String),
    /// The registry does not know the image or tag.
    NotFound { what: String, detail: String },
    /// The registry wants credentials.
    AuthRequired { registry: String, detail: String },
    /// The registry's rate limit.
    RateLimited {
        limit: Option<String>,
        remaining: Option<String>,
        /// `Retry-After`, seconds (or an HTTP date), as the registry sent it.
        retry_after: Option<String>,
    },
    /// The relay could not reach the registry, or refused the request.
    Relay {
        status: u16,
        code: String,
        message: String,
    },
    /// Anything else the registry answered.
    Registry { status: u16, detail: String },
    /// Bytes that did not match their digest or size.
    Verification(String),
    /// A document that is not what it claims.
    Invalid(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::RelayDown(d) => write!(
                f,
                "The Strata companion is not answering ({d}). Start it with the README's first command."
            ),
            ApiError::NotFound { what, detail } => write!(f, "{what} not found: {detail}"),
            ApiError::AuthRequired { registry, detail } => write!(
                f,
                "{registry} requires authentication ({detail}). Add credentials to the companion's docker config."
            ),
            ApiError::RateLimited {
                limit,
                remaining,
                retry_after,
            } => {
                write!(f, "Registry rate limit reached")?;
                if let (Some(l), Some(r)) = (limit, remaining) {
                    write!(f, " ({} of {} left", quota(r), quota(l))?;
                    if let Some(window) = window_seconds(l) {
                        write!(f, " per {}", crate::format::duration_secs(window))?;
                    }
                    write!(f, ")")?;
                }
                match retry_after.as_deref().map(str::trim) {
                    Some(after) => match after.parse::<u64>() {
                        Ok(secs) => write!(f, ". Retry in {}", crate::format::duration_secs(secs))?,
                        Err(_) => write!(f, ". Retry after {after}")?,
                    },
                    None => write!(f, ". Wait")?,
                }
                write!(
                    f,
                    ", or sign in via the companion's docker config to lift it."
                )
            }
            ApiError::Relay {
                status,
                code,
                message,
            } => {
                write!(f, "Relay error {status} {code}: {message}")
            }
            ApiError::Registry { status, detail } => {
                write!(f, "Registry answered {status}: {detail}")
            }
            ApiError::Verification(d) => write!(f, "Verification failed: {d}"),
            ApiError::Invalid(d) => write!(f, "Invalid document: {d}"),
        }
    }
}

/// A response from the relay, with the headers the page needs.
struct Fetched {
    /// The relay's facts about how it was served.
    relay: RelayFacts,
    content_type: Option<String>,
    docker_digest: Option<String>,
    /// `Strata-Referrers-Fallback`: set when the companion read the `sha256-<hex>` tag.
    referrers_fallback: Option<String>,
    /// `Link`: the relay's own next page of a list.
    link: Option<String>,
    bytes: Vec<u8>,
}

/// The URL of an endpoint's route; a route an opened archive cannot answer is "not found".
fn route_url(
    endpoint: &Endpoint,
    route: &str,
    what: impl FnOnce() -> String,
) -> Result<String, ApiError> {
    endpoint.url(route).map_err(|e| ApiError::NotFound {
        what: what(),
        detail: e.to_string(),
    })
}

fn js_detail(v: JsValue) -> String {
    v.as_string()
        .or_else(|| js_sys::JSON::stringify(&v).ok().and_then(|s| s.as_string()))
        .unwrap_or_else(|| "unknown error".into())
}

/// Sends the request [`send`] would make for a document now, and keeps its response for
/// it (a pinned revisit's documents, see [`early_documents`]).
pub(crate) fn request_early(document: early_documents::Document) {
    let accept = document.accept.as_deref().map(|a| ("Accept", a));
    if let (Ok(request), Some(window)) = (
        page_request("GET", &document.url, accept.as_slice()),
        web_sys::window(),
    ) {
        let pending = window.fetch_with_request(&request);
        early_documents::keep(document, pending);
    }
}

/// The header the companion requires on every `/api/` request. No page of another site
/// can send it without a CORS preflight, which the companion refuses, so an `<img>` or a
/// no-cors `fetch` elsewhere cannot use the relay (nor the user's credentials).
pub(crate) const CLIENT_HEADER: (&str, &str) = ("X-Strata-Client", "1");

/// A `GET` of `url` with `init` (its signal, say) and [`CLIENT_HEADER`]: every request to
/// the companion, from the page or a worker, is made with this.
pub(crate) fn companion_request(url: &str, init: &RequestInit) -> Result<Request, JsValue> {
    request_with_method("GET", url, init)
}

/// [`companion_request`] with another method (`HEAD`).
fn request_with_method(method: &str, url: &str, init: &RequestInit) -> Result<Request, JsValue> {
    init.set_method(method);
    let request = Request::new_with_str_and_init(url, init)?;
    request.headers().set(CLIENT_HEADER.0, CLIENT_HEADER.1)?;
    Ok(request)
}

/// A request of the page's current load (aborted with it) to the companion.
fn page_request(method: &str, url: &str, headers: &[(&str, &str)]) -> Result<Request, JsValue> {
    let init = RequestInit::new();
    if let Some(signal) = crate::page_fetches::signal() {
        init.set_signal(Some(&signal));
    }
    let request = request_with_method(method, url, &init)?;
    for (name, value) in headers {
        request.headers().set(name, value)?;
    }
    Ok(request)
}

async fn get(url: &str, accept: Option<&str>, what: &str) -> Result<Fetched, ApiError> {
    let headers: Vec<_> = accept.map(|a| ("Accept", a)).into_iter().collect();
    send("GET", url, &headers, what).await
}

/// `bytes` of the blob at `url` (a `Range` value, `bytes=START-END`). A source that
/// answers with the whole blob is refused before its body is read: a range request
/// must never download a layer.
pub(crate) async fn fetch_range(url: &str, bytes: &str, what: &str) -> Result<Vec<u8>, ApiError> {
    send("GET", url, &[("Range", bytes)], what)
        .await
        .map(|fetched| fetched.bytes)
}

async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    what: &str,
) -> Result<Fetched, ApiError> {
    let request =
        page_request(method, url, headers).map_err(|e| ApiError::Invalid(js_detail(e)))?;
    let window = web_sys::window().ok_or_else(|| ApiError::RelayDown("no window".into()))?;
    // A document a pinned revisit requested early (see crate::early_documents).
    let document = early_documents::Document::of(method, url, headers);
    let pending = document
        .as_ref()
        .and_then(early_documents::take)
        .unwrap_or_else(|| window.fetch_with_request(&request));
    let response: Response = JsFuture::from(pending)
        .await
        .map_err(|e| ApiError::RelayDown(js_detail(e)))?
        .unchecked_into();
    let header = |name: &str| response.headers().get(name).ok().flatten();
    let status = response.status();
    let ranged = headers.iter().any(|(name, _)| *name == "Range");
    if ranged && status == 200 {
        if let Some(body) = response.body() {
            let _ = body.cancel();
        }
        return Err(ApiError::Invalid(format!(
            "{what}: the source answered with the whole blob, not the byte range asked for"
        )));
    }
    let body = JsFuture::from(
        response
            .array_buffer()
            .map_err(|e| ApiError::RelayDown(js_detail(e)))?,
    )
    .await
    .map_err(|e| ApiError::RelayDown(js_detail(e)))?;
    let bytes = Uint8Array::new(&body).to_vec();
    if (200..300).contains(&status) {
        if let Some(document) = document {
            early_documents::record(document, bytes.len());
        }
        return Ok(Fetched {
            relay: RelayFacts {
                access: header("Strata-Access"),
                served_by: header("Strata-Served-By"),
                rate_limit: header("RateLimit-Limit"),
                rate_remaining: header("RateLimit-Remaining"),
            },
            content_type: header("Content-Type"),
            docker_digest: header("Docker-Content-Digest"),
            referrers_fallback: header("Strata-Referrers-Fallback"),
            link: header("Link"),
            bytes,
        });
    }
    Err(classify_error(
        status,
        &bytes,
        what,
        RateHeaders {
            limit: header("RateLimit-Limit"),
            remaining: header("RateLimit-Remaining"),
            retry_after: header("Retry-After"),
        },
    ))
}

/// The rate-limit headers of an error response.
struct RateHeaders {
    limit: Option<String>,
    remaining: Option<String>,
    retry_after: Option<String>,
}

/// Maps an error response (the registry's passed through, or the relay's own) to what the
/// user needs to read.
fn classify_error(status: u16, body: &[u8], what: &str, rate: RateHeaders) -> ApiError {
    #[derive(serde::Deserialize)]
    struct RelayError {
        code: String,
        message: String,
    }
    #[derive(serde::Deserialize)]
    struct RegistryErrors {
        errors: Vec<RegistryError>,
    }
    #[derive(serde::Deserialize)]
    struct RegistryError {
        code: String,
        #[serde(default)]
        message: String,
    }
    let registry = serde_json::from_slice::<RegistryErrors>(body).ok();
    let detail = registry
        .as_ref()
        .map(|r| {
            r.errors
                .iter()
                .map(|e| format!("{} {}", e.code, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned());
    if status == 429 {
        return ApiError::RateLimited {
            limit: rate.limit,
            remaining: rate.remaining,
            retry_after: rate.retry_after,
        };
    }
    if registry.is_none() {
        if let Ok(relay) = serde_json::from_slice::<RelayError>(body) {
            return ApiError::Relay {
                status,
                code: relay.code,
                message: relay.message,
            };
        }
        if status == 502 || status == 503 || status == 504 {
            return ApiError::RelayDown(format!("HTTP {status}"));
        }
    }
    match status {
        404 => ApiError::NotFound {
            what: what.to_owned(),
            detail,
        },
        401 | 403 => ApiError::AuthRequired {
            registry: what.to_owned(),
            detail,
        },
        _ => ApiError::Registry { status, detail },
    }
}

/// A manifest or index and how it was verified.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct VerifiedDocument {
    /// The parsed document and its raw bytes.
    pub parsed: ParsedDocument,
    /// The digest of the bytes (equal to the expected one when verification passed).
    pub digest: Digest,
    /// The check that was made.
    pub verification: Verification,
    /// How the relay served it (not verified: what the relay says).
    pub relay: RelayFacts,
}

/// Fetches a manifest by tag or digest and checks its bytes: against the digest asked for,
/// else against the registry's `Docker-Content-Digest`, and against `size` when a
/// descriptor gave one.
pub(crate) async fn fetch_manifest(
    endpoint: &Endpoint,
    manifest_ref: &str,
    object: &'static str,
    expected_from_descriptor: Option<(&Digest, u64)>,
) -> Result<VerifiedDocument, ApiError> {
    let what = manifest_label(&endpoint.name, manifest_ref);
    let url = route_url(endpoint, &format!("manifests/{manifest_ref}"), || {
        what.clone()
    })?;
    let fetched = get(&url, Some(MANIFEST_ACCEPT), &what).await?;
    // Parsed first only to learn which bytes the digest names (a signed schema1's is over
    // its JWS payload); nothing parsed is used unless the digest matches.
    let parsed = ParsedDocument::parse(fetched.bytes.clone(), fetched.content_type.as_deref());
    let digested = match parsed.as_ref().map(|p| p.digested_bytes()) {
        Ok(Ok(bytes)) => bytes.into_owned(),
        _ => fetched.bytes.clone(),
    };
    let actual = Digest::sha256_of(&digested);
    let requested = Digest::parse(manifest_ref).ok();
    let (expected, source) = match (expected_from_descriptor, requested) {
        (Some((d, _)), _) => (d.clone(), "descriptor in the index"),
        (None, Some(d)) => (d, "the digest requested"),
        (None, None) => match fetched.docker_digest.as_deref().map(Digest::parse) {
            Some(Ok(d)) => (d, "the registry's Docker-Content-Digest"),
            Some(Err(e)) => return Err(ApiError::Invalid(format!("Docker-Content-Digest: {e}"))),
            None => (
                actual.clone(),
                "computed (the registry sent no Docker-Content-Digest)",
            ),
        },
    };
    let mut outcome = if Digest::of(expected.algorithm(), &digested) == expected {
        Ok(())
    } else {
        Err(format!(
            "expected {expected}, got {actual} ({} bytes)",
            fetched.bytes.len()
        ))
    };
    if let (Ok(()), Some((_, size))) = (&outcome, expected_from_descriptor)
        && fetched.bytes.len() as u64 != size
    {
        outcome = Err(format!(
            "size {} differs from the descriptor's {size}",
            fetched.bytes.len()
        ));
    }
    let verification = Verification {
        object,
        expected: expected.clone(),
        source,
        outcome,
    };
    if let Err(e) = &verification.outcome {
        return Err(ApiError::Verification(format!("{object} {e}")));
    }
    let parsed = parsed.map_err(|e| ApiError::Invalid(e.to_string()))?;
    Ok(VerifiedDocument {
        parsed,
        digest: expected,
        verification,
        relay: fetched.relay,
    })
}

/// How a manifest is named in messages: `name:tag`, or `name@sha256:…` by digest.
fn manifest_label(name: &str, manifest_ref: &str) -> String {
    if Digest::parse(manifest_ref).is_ok() {
        format!("{name}@{manifest_ref}")
    } else {
        format!("{name}:{manifest_ref}")
    }
}

/// The tags of the repository (the first page the registry gives, up to `limit`). Not
/// content-addressed: only shown as choices, each verified when opened.
pub(crate) async fn fetch_tags(endpoint: &Endpoint, limit: u32) -> Result<Vec<String>, ApiError> {
    #[derive(serde::Deserialize)]
    struct TagList {
        #[serde(default)]
        tags: Option<Vec<String>>,
    }
    let what = format!("tags of {}", endpoint.name);
    let url = route_url(endpoint, &format!("tags/list?n={limit}"), || what.clone())?;
    let fetched = get(&url, Some("application/json"), &what).await?;
    let list: TagList = serde_json::from_slice(&fetched.bytes)
        .map_err(|e| ApiError::Invalid(format!("{what}: {e}")))?;
    Ok(list.tags.unwrap_or_default())
}

/// Fetches the config blob and checks size and digest before parsing it.
pub(crate) async fn fetch_config(
    endpoint: &Endpoint,
    digest: &Digest,
    size: u64,
) -> Result<(ImageConfig, Verification), ApiError> {
    fetch_config_with_raw(endpoint, digest, size)
        .await
        .map(|(config, verification, _)| (config, verification))
}

/// [`fetch_config`], with the config's JSON as served (for the page's raw view).
pub(crate) async fn fetch_config_with_raw(
    endpoint: &Endpoint,
    digest: &Digest,
    size: u64,
) -> Result<(ImageConfig, Verification, String), ApiError> {
    let url = route_url(endpoint, &format!("blobs/{digest}"), || {
        format!("blob {digest}")
    })?;
    let fetched = get(&url, None, &format!("config {digest}")).await?;
    let mut verifier = DigestVerifier::new(digest.clone(), Some(size));
    let outcome = verifier
        .update(&fetched.bytes)
        .and_then(|()| verifier.finish().map(|_| ()))
        .map_err(|e| e.to_string());
    let verification = Verification {
        object: "config",
        expected: digest.clone(),
        source: "descriptor in the manifest",
        outcome,
    };
    if let Err(e) = &verification.outcome {
        return Err(ApiError::Verification(format!("config {e}")));
    }
    let config = ImageConfig::parse(&fetched.bytes)
        .map_err(|e| ApiError::Invalid(format!("config: {e}")))?;
    Ok((
        config,
        verification,
        String::from_utf8_lossy(&fetched.bytes).into_owned(),
    ))
}

/// Fetches a blob and checks its size and digest before returning the bytes.
pub(crate) async fn fetch_blob_verified(
    endpoint: &Endpoint,
    digest: &Digest,
    size: u64,
) -> Result<Vec<u8>, ApiError> {
    let url = route_url(endpoint, &format!("blobs/{digest}"), || {
        format!("blob {digest}")
    })?;
    let fetched = get(&url, None, &format!("blob {digest}")).await?;
    let mut verifier = DigestVerifier::new(digest.clone(), Some(size));
    verifier
        .update(&fetched.bytes)
        .and_then(|()| verifier.finish().map(|_| ()))
        .map_err(|e| ApiError::Verification(format!("blob {e}")))?;
    Ok(fetched.bytes)
}

/// The referrers of a manifest (OCI 1.1), and whether the companion fell back to the
/// `sha256-<hex>` tag because the registry has no referrers API. The list itself is not
/// content-addressed; each manifest it names is verified when fetched.
pub(crate) async fn fetch_referrers(
    endpoint: &Endpoint,
    subject: &Digest,
) -> Result<(ImageIndex, bool), ApiError> {
    let url = route_url(endpoint, &format!("referrers/{subject}"), || {
        format!("referrers of {subject}")
    })?;
    let fetched = get(
        &url,
        Some("application/vnd.oci.image.index.v1+json"),
        &format!("referrers of {subject}"),
    )
    .await?;
    let index: ImageIndex = serde_json::from_slice(&fetched.bytes)
        .map_err(|e| ApiError::Invalid(format!("referrers index of {subject}: {e}")))?;
    Ok((index, fetched.referrers_fallback.as_deref() == Some("tag")))
}

/// `HEAD` of a manifest by tag: the digest the registry says the tag points at
/// (`Docker-Content-Digest`; `None` when it sends none). Nothing is shown from a HEAD
/// alone: the manifest is then fetched by that digest and verified against it. A HEAD is
/// free on Docker Hub, where manifest GETs count against the pull limit.
pub(crate) async fn head_manifest(
    endpoint: &Endpoint,
    tag: &str,
) -> Result<Option<Digest>, ApiError> {
    let what = format!("{}:{tag}", endpoint.name);
    let url = route_url(endpoint, &format!("manifests/{tag}"), || what.clone())?;
    let fetched = send("HEAD", &url, &[("Accept", MANIFEST_ACCEPT)], &what).await?;
    fetched
        .docker_digest
        .as_deref()
        .map(|d| {
            Digest::parse(d).map_err(|e| ApiError::Invalid(format!("Docker-Content-Digest: {e}")))
        })
        .transpose()
}

/// One page of a relay list (`tags/list`, `_catalog`) at `url`, and the relay's next page
/// (from `Link`), if any. Lists are not content-addressed: they only name what is fetched
/// and verified next.
pub(crate) async fn fetch_list_page(
    url: &str,
    what: &str,
) -> Result<(Vec<u8>, Option<String>), ApiError> {
    let fetched = get(url, Some("application/json"), what).await?;
    let next = fetched
        .link
        .as_deref()
        .and_then(strata_shared::link::next_target)
        .map(str::to_owned);
    Ok((fetched.bytes, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn a_manifest_by_digest_is_named_with_an_at() {
        let digest = format!("sha256:{}", "0".repeat(64));
        assert_eq!(
            manifest_label("r.example/team/app", &digest),
            format!("r.example/team/app@{digest}")
        );
        assert_eq!(
            manifest_label("r.example/team/app", "v1"),
            "r.example/team/app:v1"
        );
    }

    #[wasm_bindgen_test]
    fn a_rate_limit_says_how_long_to_wait_with_docker_hubs_windows() {
        let error = classify_error(
            429,
            br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}"#,
            "blob sha256:ab",
            RateHeaders {
                limit: Some("100;w=21600".into()),
                remaining: Some("0;w=21600".into()),
                retry_after: Some("3600".into()),
            },
        );
        assert_eq!(
            error.to_string(),
            "Registry rate limit reached (0 of 100 left per 6 h). Retry in 1 h, or sign in via the companion's docker config to lift it."
        );
        let bare = classify_error(
            429,
            b"",
            "x",
            RateHeaders {
                limit: None,
                remaining: None,
                retry_after: Some("Wed, 02 Dec 2026 10:00:00 GMT".into()),
            },
        );
        assert!(
            bare.to_string()
                .contains("Retry after Wed, 02 Dec 2026 10:00:00 GMT")
        );
    }
}
