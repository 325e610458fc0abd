//! `GET …/tags/list`: `n` and `last` checked and passed on; the `Link` to the next page
//! rewritten to the relay's own path (anything else is dropped).

use axum::http::{HeaderValue, Method, header};
use axum::response::Response;
use url::Url;

use super::fetch::{Fetch, exchange};
use super::headers::upstream_headers;
use crate::error::Error;
use crate::guard;
use crate::host::same_origin;
use crate::registry::Registry;
use crate::state::AppState;

#[derive(Debug, Default)]
pub(super) struct TagsQuery {
    n: Option<u32>,
    last: Option<String>,
}

pub(super) fn tags_query(query: Option<&str>) -> Result<TagsQuery, Error> {
    let mut out = TagsQuery::default();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "n" => {
                let n: u32 = v.parse().map_err(|_| Error::InvalidQuery {
                    name: "n",
                    reason: format!("{v:?} is not a number"),
                })?;
                if n == 0 || n > 10_000 {
                    return Err(Error::InvalidQuery {
                        name: "n",
                        reason: "must be between 1 and 10000".into(),
                    });
                }
                out.n = Some(n);
            }
            "last" => {
                guard::validate_tag(&v)?;
                out.last = Some(v.into_owned());
            }
            _ => {}
        }
    }
    Ok(out)
}

fn tags_query_string(n: Option<&str>, last: Option<&str>) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    if let Some(n) = n {
        s.append_pair("n", n);
    }
    if let Some(last) = last {
        s.append_pair("last", last);
    }
    s.finish()
}

pub(super) async fn tags(
    state: &AppState,
    registry: &Registry,
    name: &str,
    query: &TagsQuery,
) -> Result<Response, Error> {
    let repository = registry.repository(name);
    let n = query.n.map(|n| n.to_string());
    let qs = tags_query_string(n.as_deref(), query.last.as_deref());
    let path = if qs.is_empty() {
        format!("/v2/{repository}/tags/list")
    } else {
        format!("/v2/{repository}/tags/list?{qs}")
    };
    let fetch = Fetch {
        registry,
        repository: &repository,
        method: Method::GET,
        path,
        headers: upstream_headers(Some("application/json")),
        timeout: Some(state.upstream().limits.request_timeout),
        use_mirrors: false,
    };
    let mut exchange = exchange(state, &fetch, false).await?;
    let base = exchange.upstream.url().clone();
    for link in exchange.upstream.headers().get_all(header::LINK) {
        if let Some(rewritten) = link
            .to_str()
            .ok()
            .and_then(|l| rewrite_link(l, &base, &registry.name))
            && let Ok(v) = HeaderValue::from_str(&rewritten)
        {
            exchange.headers.append(header::LINK, v);
        }
    }
    exchange.list(state, "tag list").await
}

/// Rewrites `</v2/NAME/tags/list?n=..&last=..>; rel="next"` (relative, or absolute on the
/// same origin) to the relay's path. Anything else is dropped.
fn rewrite_link(link: &str, base: &Url, host: &str) -> Option<String> {
    let link = link.trim();
    let rest = link.strip_prefix('<')?;
    let (target, params) = rest.split_once('>')?;
    let url = base.join(target).ok()?;
    if !same_origin(&url, base) {
        return None;
    }
    let name = url
        .path()
        .strip_prefix("/v2/")?
        .strip_suffix("/tags/list")?;
    guard::validate_name(name).ok()?;
    let (mut n, mut last) = (None, None);
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "n" if v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty() && v.len() <= 6 => {
                n = Some(v.into_owned())
            }
            "last" if guard::validate_tag(&v).is_ok() => last = Some(v.into_owned()),
            _ => {}
        }
    }
    let qs = tags_query_string(n.as_deref(), last.as_deref());
    let mut path = format!("/api/registry/{host}/v2/{name}/tags/list");
    if !qs.is_empty() {
        path.push('?');
        path.push_str(&qs);
    }
    Some(format!("<{path}>{params}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_rewrite() {
        let base = Url::parse("https://r.example/v2/library/nginx/tags/list?n=2").unwrap();
        assert_eq!(
            rewrite_link(
                r#"</v2/library/nginx/tags/list?last=1.27&n=2>; rel="next""#,
                &base,
                "docker.io"
            )
            .as_deref(),
            Some(
                r#"</api/registry/docker.io/v2/library/nginx/tags/list?n=2&last=1.27>; rel="next""#
            )
        );
        assert!(
            rewrite_link(
                r#"<https://evil.example/v2/a/tags/list>; rel="next""#,
                &base,
                "docker.io"
            )
            .is_none()
        );
        assert!(rewrite_link(r#"</v2/_catalog?n=1>; rel="next""#, &base, "docker.io").is_none());
        assert_eq!(
            rewrite_link(
                r#"<https://r.example/v2/a/tags/list?last=x&evil=1>; rel="next""#,
                &base,
                "r.example"
            )
            .as_deref(),
            Some(r#"</api/registry/r.example/v2/a/tags/list?last=x>; rel="next""#)
        );
    }

    #[test]
    fn queries() {
        let q = tags_query(Some("n=5&last=v1&x=y")).unwrap();
        assert_eq!((q.n, q.last.as_deref()), (Some(5), Some("v1")));
        for bad in ["n=0", "n=10001", "n=x"] {
            assert!(
                matches!(
                    tags_query(Some(bad)),
                    Err(Error::InvalidQuery { name: "n", .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            tags_query(Some("last=.x")),
            Err(Error::InvalidReference { .. })
        ));
    }
}
