//! Redirects, followed here rather than by the browser or by reqwest:
//! - at most `max_redirects` hops;
//! - every hop passes the egress policy (no private targets, no https→http downgrade);
//! - `Authorization` goes only to the registry's own origin: once a hop leaves it, the
//!   header is dropped for good (a CDN or signed storage URL never sees the token);
//! - nothing is cached (signed storage URLs expire, whatever their Cache-Control says);
//! - the `/v2/` ping never leaves the registry's origin (`same_origin_only`).

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, LOCATION};
use reqwest::{Method, StatusCode};
use url::Url;

use crate::error::{Error, classify};
use crate::host::{authority, same_origin};
use crate::upstream::Upstream;

/// One upstream request and the redirects after it.
pub(crate) struct Outgoing<'a> {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    /// Sent only to `origin` (scheme, host and port).
    pub(crate) authorization: Option<&'a HeaderValue>,
    pub(crate) origin: &'a Url,
    /// Whole-exchange timeout (small documents); `None` for streams.
    pub(crate) timeout: Option<std::time::Duration>,
    /// Refuse a redirect to another origin instead of following it (the `/v2/` ping,
    /// whose answer decides which token service gets the user's credentials).
    pub(crate) same_origin_only: bool,
}

/// The final answer and whether it came from the registry's own origin.
pub(crate) struct Answer {
    pub(crate) response: reqwest::Response,
    pub(crate) from_origin: bool,
}

/// Sends the request and follows redirects by the rules above.
pub(crate) async fn send(upstream: &Upstream, out: Outgoing<'_>) -> Result<Answer, Error> {
    let mut url = out.url;
    let mut method = out.method;
    let mut previous: Option<Url> = None;
    let mut authorization = out.authorization;
    for _hop in 0..=upstream.limits.max_redirects {
        upstream.egress.check(&url, previous.as_ref())?;
        let at_origin = same_origin(&url, out.origin);
        if !at_origin {
            // Sticky: a hop back to the registry after a foreign host goes without it too.
            authorization = None;
        }
        let mut request = upstream
            .client
            .request(method.clone(), url.clone())
            .headers(out.headers.clone());
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value.clone());
        }
        if let Some(t) = out.timeout {
            request = request.timeout(t);
        }
        let response = request
            .send()
            .await
            .map_err(|e| classify(&e, &authority(&url)))?;
        let status = response.status();
        if !is_followed_redirect(status) {
            return Ok(Answer {
                response,
                from_origin: at_origin,
            });
        }
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| Error::UpstreamProtocol {
                host: authority(&url),
                detail: format!("{status} without a usable Location"),
            })?;
        let next = url.join(location).map_err(|e| Error::UpstreamProtocol {
            host: authority(&url),
            detail: format!("bad Location {location:?}: {e}"),
        })?;
        if out.same_origin_only && !same_origin(&next, out.origin) {
            return Err(Error::ForbiddenHost {
                host: authority(&next),
                reason: format!(
                    "{} redirected its /v2/ check to another origin, which is not followed \
                     (that answer decides where credentials go)",
                    authority(out.origin)
                ),
            });
        }
        tracing::debug!(from = %authority(&url), to = %authority(&next), %status, "following redirect");
        if status == StatusCode::SEE_OTHER && method != Method::HEAD {
            method = Method::GET;
        }
        previous = Some(std::mem::replace(&mut url, next));
    }
    Err(Error::TooManyRedirects(upstream.limits.max_redirects))
}

fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}
