//! The token request of the Docker token protocol:
//! `GET {realm}?service={service}&scope={scope}...`, with Basic credentials when the user
//! has them. The answer carries `token` or `access_token` (either may be present) and
//! `expires_in` (seconds; 60 when absent).

use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use url::Url;

use super::Secret;
use super::challenge::BearerChallenge;
use super::credentials::Credential;
use crate::error::Error;
use crate::upstream::{Upstream, authority, classify};

/// Lifetime assumed when the realm does not say (GHCR never does).
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(60);

/// A token and how long it lives.
pub(crate) struct Token {
    pub(crate) secret: Secret,
    pub(crate) ttl: Duration,
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Parses a token-service answer.
pub(crate) fn parse_answer(body: &[u8]) -> Result<Token, String> {
    let answer: TokenAnswer =
        serde_json::from_slice(body).map_err(|e| format!("token answer is not JSON: {e}"))?;
    let value = answer
        .token
        .filter(|t| !t.is_empty())
        .or(answer.access_token.filter(|t| !t.is_empty()))
        .ok_or("token answer has neither token nor access_token")?;
    if HeaderValue::from_str(&format!("Bearer {value}")).is_err() {
        return Err("token contains characters not allowed in a header".into());
    }
    let ttl = match answer.expires_in {
        Some(s) if s > 0 => Duration::from_secs(s),
        _ => DEFAULT_TTL,
    };
    Ok(Token {
        secret: Secret::new(value),
        ttl,
    })
}

/// The service to ask for: the challenge's, else the realm's host.
pub(crate) fn service_of(challenge: &BearerChallenge) -> String {
    challenge.service.clone().unwrap_or_else(|| {
        Url::parse(&challenge.realm)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default()
    })
}

/// Asks the realm for a token for `scopes`. The realm passes the egress policy like any
/// upstream (and may not downgrade from an https registry); credentials, when given, are
/// the registry's own and go to the realm that registry named.
pub(crate) async fn fetch(
    upstream: &Upstream,
    registry: &Url,
    challenge: &BearerChallenge,
    scopes: &[String],
    credential: Option<&Credential>,
) -> Result<Token, Error> {
    let mut realm = Url::parse(&challenge.realm).map_err(|e| Error::UpstreamProtocol {
        host: authority(registry),
        detail: format!("bad realm {:?}: {e}", challenge.realm),
    })?;
    upstream.egress.check(&realm, Some(registry))?;
    {
        let mut query = realm.query_pairs_mut();
        let service = service_of(challenge);
        if !service.is_empty() {
            query.append_pair("service", &service);
        }
        for scope in scopes {
            query.append_pair("scope", scope);
        }
    }
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    if let Some(c) = credential {
        headers.insert(AUTHORIZATION, c.basic_header());
    }
    let host = authority(&realm);
    let response = upstream
        .client
        .get(realm)
        .headers(headers)
        .timeout(upstream.limits.request_timeout)
        .send()
        .await
        .map_err(|e| classify(&e, &host))?;
    let status = response.status();
    if !status.is_success() {
        tracing::info!(realm = %host, %status, "token service refused");
        return Err(Error::TokenRefused {
            registry: authority(registry),
            status: status.as_u16(),
        });
    }
    let limit = upstream.limits.token_max_bytes;
    let body = crate::limits::read_capped(response, limit, || Error::BodyTooLarge {
        what: "token answer",
        limit,
    })
    .await?;
    parse_answer(&body).map_err(|detail| Error::UpstreamProtocol { host, detail })
}

/// `Basic base64(user:secret)`.
pub(crate) fn basic(username: &str, secret: &str) -> HeaderValue {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{secret}"));
    let mut value =
        HeaderValue::from_str(&format!("Basic {encoded}")).unwrap_or(HeaderValue::from_static(""));
    value.set_sensitive(true);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let t = parse_answer(br#"{"token":"a","expires_in":300}"#).unwrap();
        assert_eq!((t.secret.expose(), t.ttl), ("a", Duration::from_secs(300)));
        let t = parse_answer(br#"{"access_token":"b"}"#).unwrap();
        assert_eq!((t.secret.expose(), t.ttl), ("b", DEFAULT_TTL));
        let t = parse_answer(br#"{"token":"","access_token":"c","expires_in":0}"#).unwrap();
        assert_eq!((t.secret.expose(), t.ttl), ("c", DEFAULT_TTL));
        assert!(parse_answer(br#"{"expires_in":10}"#).is_err());
        assert!(parse_answer(b"<html>").is_err());
        assert!(parse_answer(br#"{"token":"a\nb"}"#).is_err());
    }

    #[test]
    fn service_defaults_to_realm_host() {
        let c = BearerChallenge {
            realm: "https://gcr.io/v2/token".into(),
            service: None,
            scope: None,
        };
        assert_eq!(service_of(&c), "gcr.io");
    }
}
