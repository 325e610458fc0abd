//! Registry authentication: the Docker token handshake, Basic auth, credentials.
//!
//! The handshake, per registry and repository scope:
//! 1. Ping `GET /v2/` without credentials (once per registry; the answer is remembered;
//!    a redirect to another origin is refused, never followed).
//! 2. `200` → anonymous. `401` → read `WWW-Authenticate`: a Bearer challenge gives the
//!    `realm`, `service` (and maybe `scope`); Basic means send the user's credentials.
//! 3. Bearer: `GET realm?service=…&scope=repository:NAME:pull` (Basic credentials to the
//!    realm if the user has some for this registry) — or, when the user has an identity
//!    token for it, `POST realm` with the OAuth2 refresh-token grant — → `token` or
//!    `access_token`, cached by (registry, realm, service, scope) until `expires_in`
//!    (60 s when absent). An identity token never goes to the registry itself.
//! 4. Send the request with `Authorization: Bearer …` — to the registry's own origin only.
//! 5. If the registry still answers `401`, refresh exactly once: drop the cached token,
//!    take the challenge of that 401 (its repository scopes listed first, reduced to
//!    `pull`: the relay never asks for `push`), fetch a new token, retry.
//!    A second 401 goes back to the client as it is.

mod access;
pub(crate) mod cache;
pub mod challenge;
pub mod credentials;
mod helper_cache;
pub(crate) mod token;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::header::{HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use url::Url;

pub(crate) use access::Access;
use cache::{TokenCache, TokenKey};
use challenge::BearerChallenge;
use credentials::CredentialStore;

use crate::clock::Clock;
use crate::error::Error;
use crate::host::authority;
use crate::redirect;
use crate::upstream::Upstream;

/// A secret string (password, token). `Debug` prints `<redacted>`; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for building a header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What a registry asked for when pinged.
#[derive(Clone, Debug)]
enum Scheme {
    Anonymous,
    Basic,
    Bearer(BearerChallenge),
}

/// What a token is asked for: pull of one repository, or — for the catalog route only —
/// the registry's catalog. Nothing else is ever asked (no push, no other resource).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope<'a> {
    /// `repository:NAME:pull`, NAME as the registry knows it (`library/nginx`).
    Pull(&'a str),
    /// `registry:catalog:*`.
    Catalog,
}

impl std::fmt::Display for Scope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Pull(repository) => write!(f, "repository:{repository}:pull"),
            Scope::Catalog => f.write_str("registry:catalog:*"),
        }
    }
}

/// Which registry endpoint and scope a request is for.
pub(crate) struct Target<'a> {
    /// Registry as users write it (`docker.io`), for credentials.
    pub(crate) registry: &'a str,
    /// API origin (`https://registry-1.docker.io`).
    pub(crate) origin: &'a Url,
    /// A [`Scope`], written out.
    pub(crate) scope: String,
}

/// Tokens, ping answers and credentials, shared by all requests.
pub(crate) struct Authenticator {
    tokens: TokenCache,
    /// One token request per key at a time: parallel layer downloads share one token.
    gates: Mutex<HashMap<TokenKey, Arc<tokio::sync::Mutex<()>>>>,
    schemes: Mutex<HashMap<String, Scheme>>,
    /// How each cached token was obtained, for [`Access`].
    access: Mutex<HashMap<TokenKey, Access>>,
    credentials: CredentialStore,
}

impl Authenticator {
    /// Token lifetimes are measured on `clock`.
    pub(crate) fn new(credentials: CredentialStore, clock: Arc<dyn Clock>) -> Self {
        Authenticator {
            tokens: TokenCache::new(clock),
            gates: Mutex::new(HashMap::new()),
            schemes: Mutex::new(HashMap::new()),
            access: Mutex::new(HashMap::new()),
            credentials,
        }
    }

    /// Steps 1–3: the `Authorization` to send to `target.origin`, if any, and how it was
    /// obtained.
    pub(crate) async fn authorize(
        &self,
        upstream: &Upstream,
        target: &Target<'_>,
    ) -> Result<(Option<HeaderValue>, Access), Error> {
        let scheme = match self.scheme(target.origin) {
            Some(s) => s,
            None => self.ping(upstream, target.origin).await?,
        };
        match scheme {
            Scheme::Anonymous => Ok((None, Access::Open)),
            Scheme::Basic => {
                let basic = self
                    .credentials
                    .lookup(target.registry)
                    .await
                    .and_then(|c| c.basic_header());
                let access = if basic.is_some() {
                    Access::CredentialBasic
                } else {
                    Access::NoCredential
                };
                Ok((basic, access))
            }
            Scheme::Bearer(challenge) => {
                let key = key_for(target, &challenge);
                if let Some(cached) = self.cached(&key) {
                    return Ok(cached);
                }
                let gate = self.gate(&key);
                let turn = gate.lock().await;
                if let Some(cached) = self.cached(&key) {
                    return Ok(cached);
                }
                let scopes = vec![target.scope.clone()];
                let result = self
                    .fetch_token(upstream, target, &challenge, key.clone(), &scopes)
                    .await
                    .map(|(header, access)| (Some(header), access));
                drop(turn);
                self.release(&key, gate);
                result
            }
        }
    }

    /// A live cached token for `key`, with how it was obtained.
    fn cached(&self, key: &TokenKey) -> Option<(Option<HeaderValue>, Access)> {
        let secret = self.tokens.get(key)?;
        let access = self
            .access
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
            .unwrap_or_else(|| Access::of_token(false, secret.expose(), Some(&key.service)));
        Some((Some(bearer(&secret)), access))
    }

    /// Step 5: after the registry answered 401 to `sent`, one new `Authorization` to retry
    /// with, or `None` when retrying cannot help.
    pub(crate) async fn refresh(
        &self,
        upstream: &Upstream,
        target: &Target<'_>,
        unauthorized: &HeaderMap,
        sent: Option<&HeaderValue>,
    ) -> Result<Option<(HeaderValue, Access)>, Error> {
        let challenges: Vec<_> = unauthorized
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(challenge::parse)
            .collect();
        if let Some(challenge) = BearerChallenge::find(&challenges) {
            if let Some(Scheme::Bearer(old)) = self.scheme(target.origin) {
                self.tokens.remove(&key_for(target, &old));
            }
            self.set_scheme(target.origin, Scheme::Bearer(challenge.clone()));
            let key = key_for(target, &challenge);
            self.tokens.remove(&key);
            // The challenge's own scope first (Docker Hub lists the one it wants), then ours;
            // pull only, whatever the challenge asks for.
            let mut scopes = pull_scopes(challenge.scope.as_deref());
            if !scopes.contains(&target.scope) {
                scopes.push(target.scope.clone());
            }
            return self
                .fetch_token(upstream, target, &challenge, key, &scopes)
                .await
                .map(Some);
        }
        if challenges.iter().any(|c| c.is("basic")) {
            self.set_scheme(target.origin, Scheme::Basic);
            let basic = self
                .credentials
                .lookup(target.registry)
                .await
                .and_then(|c| c.basic_header());
            if let Some(basic) = basic.filter(|b| Some(b) != sent) {
                return Ok(Some((basic, Access::CredentialBasic)));
            }
        }
        Ok(None)
    }

    fn gate(&self, key: &TokenKey) -> Arc<tokio::sync::Mutex<()>> {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        if gates.len() > 4096 {
            gates.retain(|_, g| Arc::strong_count(g) > 1);
        }
        gates.entry(key.clone()).or_default().clone()
    }

    fn release(&self, key: &TokenKey, gate: Arc<tokio::sync::Mutex<()>>) {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        // Only the map and this caller hold it: nobody is waiting.
        if Arc::strong_count(&gate) <= 2 {
            gates.remove(key);
        }
    }

    fn scheme(&self, origin: &Url) -> Option<Scheme> {
        self.schemes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(origin.as_str())
            .cloned()
    }

    fn set_scheme(&self, origin: &Url, scheme: Scheme) {
        let mut schemes = self.schemes.lock().unwrap_or_else(|e| e.into_inner());
        if schemes.len() > 1024 {
            schemes.clear();
        }
        schemes.insert(origin.as_str().to_owned(), scheme);
    }

    /// Steps 1–2. A redirect of the ping to another origin is refused: that host's
    /// challenge would name the token service the user's credentials go to.
    async fn ping(&self, upstream: &Upstream, origin: &Url) -> Result<Scheme, Error> {
        let url = origin.join("/v2/").map_err(|e| Error::UpstreamProtocol {
            host: authority(origin),
            detail: e.to_string(),
        })?;
        let answer = redirect::send(
            upstream,
            redirect::Outgoing {
                method: Method::GET,
                url,
                headers: HeaderMap::new(),
                authorization: None,
                origin,
                timeout: Some(upstream.limits.request_timeout),
                // The challenge of the answer names the realm that gets the credentials.
                same_origin_only: true,
            },
        )
        .await?;
        let response = answer.response;
        let scheme = if response.status() == StatusCode::UNAUTHORIZED {
            let challenges: Vec<_> = response
                .headers()
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(challenge::parse)
                .collect();
            match BearerChallenge::find(&challenges) {
                Some(c) => Scheme::Bearer(c),
                None if challenges.iter().any(|c| c.is("basic")) => Scheme::Basic,
                None => Scheme::Anonymous,
            }
        } else {
            Scheme::Anonymous
        };
        tracing::debug!(registry = %origin, ?scheme, "pinged");
        self.set_scheme(origin, scheme.clone());
        Ok(scheme)
    }

    /// Step 3, then cache.
    async fn fetch_token(
        &self,
        upstream: &Upstream,
        target: &Target<'_>,
        challenge: &BearerChallenge,
        key: TokenKey,
        scopes: &[String],
    ) -> Result<(HeaderValue, Access), Error> {
        let credential = self.credentials.lookup(target.registry).await;
        let token = token::fetch(
            upstream,
            target.origin,
            challenge,
            scopes,
            credential.as_ref(),
        )
        .await?;
        let header = bearer(&token.secret);
        let access = Access::of_token(
            credential.is_some(),
            token.secret.expose(),
            challenge.service.as_deref(),
        );
        {
            let mut known = self.access.lock().unwrap_or_else(|e| e.into_inner());
            if known.len() > 4096 {
                known.clear();
            }
            known.insert(key.clone(), access.clone());
        }
        self.tokens.insert(key, token.secret, token.ttl);
        Ok((header, access))
    }
}

/// The repository scopes of a challenge's `scope` that allow reading
/// (`repository:NAME:pull,push` or `…:*`), each reduced to `repository:NAME:pull`: the
/// relay only reads, so it never asks the realm, with the user's credentials, for more.
/// Other resource types (`registry:catalog:*`) and scopes without pull are dropped: the
/// catalog scope is asked for only as the target's own [`Scope::Catalog`].
fn pull_scopes(challenge_scope: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for scope in challenge_scope.unwrap_or("").split(' ') {
        let Some((resource, actions)) = scope.rsplit_once(':') else {
            continue;
        };
        let Some(("repository", name)) = resource.split_once(':') else {
            continue;
        };
        let reads = actions.split(',').any(|a| a == "pull" || a == "*");
        let pull = format!("repository:{name}:pull");
        if reads && !name.is_empty() && !out.contains(&pull) {
            out.push(pull);
        }
    }
    out
}

fn key_for(target: &Target<'_>, challenge: &BearerChallenge) -> TokenKey {
    TokenKey {
        registry: target.origin.as_str().to_owned(),
        realm: challenge.realm.clone(),
        service: token::service_of(challenge),
        scope: target.scope.clone(),
    }
}

fn bearer(secret: &Secret) -> HeaderValue {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", secret.expose()))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid"));
    value.set_sensitive(true);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_reduced_to_pull() {
        assert_eq!(
            pull_scopes(Some(
                "repository:a/b:pull,push repository:c:push,delete registry:catalog:* \
                 repository:d:* repository:a/b:pull repository::pull junk"
            )),
            ["repository:a/b:pull", "repository:d:pull"]
        );
        assert!(pull_scopes(None).is_empty());
    }

    #[test]
    fn scopes_are_written_out() {
        assert_eq!(
            Scope::Pull("library/nginx").to_string(),
            "repository:library/nginx:pull"
        );
        assert_eq!(Scope::Catalog.to_string(), "registry:catalog:*");
    }

    #[test]
    fn real_token_answers_parse() {
        for body in [
            &include_bytes!("../../tests/data/dockerhub-token-response-2020.json")[..],
            &include_bytes!("../../tests/data/quay-token-response-2020.json")[..],
        ] {
            let t = token::parse_answer(body).unwrap();
            assert!(t.secret.expose().starts_with("eyJ"));
            assert_eq!(format!("{:?}", t.secret), "<redacted>");
        }
    }
}
