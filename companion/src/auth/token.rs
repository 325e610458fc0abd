//! The token request of the Docker token protocol:
//! `GET {realm}?service={service}&scope={scope}...`, with Basic credentials when the user
//! has them. With an identity token instead, Docker's OAuth2 form:
//! `POST {realm}` with `grant_type=refresh_token&refresh_token=…&service=…&scope=…&client_id=strata`
//! (each scope its own field). Either answer carries `token` or `access_token` (either may
//! be present) and `expires_in` (seconds; 60 when absent).

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use url::Url;

use super::Secret;
use super::challenge::BearerChallenge;
use super::credentials::Credential;
use crate::body::read_capped;
use crate::error::{Error, classify};
use crate::host::authority;
use crate::upstream::Upstream;

/// The OAuth2 `client_id` the realm sees (Docker sends `docker`).
const CLIENT_ID: &str = "strata";

/// Lifetime assumed when the realm does not say (GHCR never does).
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(60);

/// A token and how long it lives.
pub(crate) struct Token {
    pub(crate) secret: Secret,
    pub(crate) ttl: Duration,
}

/// The realm's answer. Fields not listed are ignored — notably `refresh_token`: a realm may
/// answer the refresh-token grant with a new one, and the companion deliberately keeps
/// using the identity token from the user's docker config for every later grant. Docker
/// does the same (moby `registry/auth.go`: `staticCredentialStore.SetRefreshToken` is a
/// no-op), and the config file is the user's, not the companion's, to rewrite; a rotated
/// token kept only in memory would also be lost on restart while the old one still sits
/// in the config. If a realm ever revokes the configured token on use, the grant fails
/// with a clear 401 (`Error::TokenRefused`) and `docker login` renews it.
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
pub(crate) fn parse_answer(body: &[u8]) -> Result<Token, AnswerError> {
    let answer: TokenAnswer =
        serde_json::from_slice(body).map_err(|e| AnswerError::NotJson(e.to_string()))?;
    let value = answer
        .token
        .filter(|t| !t.is_empty())
        .or(answer.access_token.filter(|t| !t.is_empty()))
        .ok_or(AnswerError::NoToken)?;
    if HeaderValue::from_str(&format!("Bearer {value}")).is_err() {
        return Err(AnswerError::NotAHeader);
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

/// Why a token answer cannot be used (the token itself is never in the message).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AnswerError {
    /// The body is not the JSON object of the protocol.
    #[error("token answer is not JSON: {0}")]
    NotJson(String),
    /// Neither field holds a token.
    #[error("token answer has neither token nor access_token")]
    NoToken,
    /// The token would not fit in an `Authorization` header.
    #[error("token contains characters not allowed in a header")]
    NotAHeader,
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

/// The body of the OAuth2 refresh-token grant (form-encoded; secret inside).
fn refresh_grant_form(identity_token: &Secret, service: &str, scopes: &[String]) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "refresh_token")
        .append_pair("refresh_token", identity_token.expose());
    if !service.is_empty() {
        form.append_pair("service", service);
    }
    for scope in scopes {
        form.append_pair("scope", scope);
    }
    form.append_pair("client_id", CLIENT_ID);
    form.finish()
}

/// Asks the realm for a token for `scopes`. The realm passes the egress policy like any
/// upstream (and may not downgrade from an https registry); credentials, when given, are
/// the registry's own and go to the realm that registry named: a password as Basic on the
/// `GET`, an identity token in the body of the OAuth2 `POST`.
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
    let service = service_of(challenge);
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let host = authority(&realm);
    let (request, with) = match credential {
        Some(c) if c.is_identity_token() => {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
            let form = refresh_grant_form(&c.secret, &service, scopes);
            (
                upstream.client.post(realm).headers(headers).body(form),
                "an identity token",
            )
        }
        _ => {
            {
                let mut query = realm.query_pairs_mut();
                if !service.is_empty() {
                    query.append_pair("service", &service);
                }
                for scope in scopes {
                    query.append_pair("scope", scope);
                }
            }
            let basic = credential.and_then(|c| c.basic_header());
            let with = if basic.is_some() {
                "a username and password"
            } else {
                "no credentials"
            };
            if let Some(basic) = basic {
                headers.insert(AUTHORIZATION, basic);
            }
            (upstream.client.get(realm).headers(headers), with)
        }
    };
    let response = request
        .timeout(upstream.limits.request_timeout)
        .send()
        .await
        .map_err(|e| classify(&e, &host))?;
    let status = response.status();
    if !status.is_success() {
        tracing::info!(realm = %host, %status, with, "token service refused");
        return Err(Error::TokenRefused {
            registry: authority(registry),
            status: status.as_u16(),
            with,
        });
    }
    let limit = upstream.limits.token_max_bytes;
    let body = read_capped(response, limit, || Error::BodyTooLarge {
        what: "token answer",
        limit,
    })
    .await?;
    parse_answer(&body).map_err(|e| Error::UpstreamProtocol {
        host,
        detail: e.to_string(),
    })
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
        // A rotated `refresh_token` in the answer is ignored (see `TokenAnswer`).
        let t = parse_answer(br#"{"access_token":"d","refresh_token":"rotated"}"#).unwrap();
        assert_eq!(t.secret.expose(), "d");
        assert!(matches!(
            parse_answer(br#"{"expires_in":10}"#),
            Err(AnswerError::NoToken)
        ));
        assert!(matches!(
            parse_answer(b"<html>"),
            Err(AnswerError::NotJson(_))
        ));
        assert!(matches!(
            parse_answer(br#"{"token":"a\nb"}"#),
            Err(AnswerError::NotAHeader)
        ));
    }

    #[test]
    fn refresh_grant_form_has_every_scope() {
        let form = refresh_grant_form(
            &Secret::new("r&t=1"),
            "registry.example.org",
            &["repository:a:pull".into(), "repository:b/c:pull".into()],
        );
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
            .into_owned()
            .collect();
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("grant_type", "refresh_token"),
                ("refresh_token", "r&t=1"),
                ("service", "registry.example.org"),
                ("scope", "repository:a:pull"),
                ("scope", "repository:b/c:pull"),
                ("client_id", "strata"),
            ]
        );
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
