//! `GET …/tags/list`: `n` and `last` checked and passed on; of the `Link` header, parsed
//! whole, only the registry's own next page of this repository is kept, rewritten to the
//! relay's path (every other link is dropped).

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
use strata_shared::link::{Link, parse_links};

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
    let next = exchange
        .upstream
        .headers()
        .get_all(header::LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(parse_links)
        .find_map(|link| next_page(&link, &base, &repository, &registry.name));
    if let Some(v) = next.and_then(|n| HeaderValue::from_str(&n).ok()) {
        exchange.headers.insert(header::LINK, v);
    }
    exchange.list(state, "tag list").await
}

/// The registry's own next page of `repository` (`rel="next"`, relative or absolute on the
/// registry's origin, `/v2/{repository}/tags/list`), as the relay's path with only `n` and
/// `last` kept. Any other link is `None`.
fn next_page(link: &Link<'_>, base: &Url, repository: &str, host: &str) -> Option<String> {
    if !link.is_next() {
        return None;
    }
    let url = base.join(link.target).ok()?;
    if !same_origin(&url, base) {
        return None;
    }
    let name = url
        .path()
        .strip_prefix("/v2/")?
        .strip_suffix("/tags/list")?;
    if name != repository {
        return None;
    }
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
    Some(format!(r#"<{path}>; rel="next""#))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `next_page` of every link in `header`, as the relay's `tags` keeps the first.
    fn rewrite(header: &str, base: &Url, repository: &str, host: &str) -> Vec<String> {
        parse_links(header)
            .iter()
            .filter_map(|l| next_page(l, base, repository, host))
            .collect()
    }

    #[test]
    fn link_rewrite() {
        let base = Url::parse("https://r.example/v2/library/nginx/tags/list?n=2").unwrap();
        let hub = |h| rewrite(h, &base, "library/nginx", "docker.io");
        assert_eq!(
            hub(r#"</v2/library/nginx/tags/list?last=1.27&n=2>; rel="next""#),
            [r#"</api/registry/docker.io/v2/library/nginx/tags/list?n=2&last=1.27>; rel="next""#]
        );
        assert!(hub(r#"<https://evil.example/v2/library/nginx/tags/list>; rel="next""#).is_empty());
        assert!(hub(r#"</v2/_catalog?n=1>; rel="next""#).is_empty());
        assert!(hub(r#"</v2/library/other/tags/list?n=1>; rel="next""#).is_empty());
        assert!(hub(r#"</v2/library/nginx/tags/list?n=1>; rel="prev""#).is_empty());
        assert!(hub(r#"</v2/library/nginx/tags/list?n=1>"#).is_empty());
        // Extra links on the line are dropped, whatever their order; a comma in a quoted
        // parameter does not start a link.
        assert_eq!(
            hub(
                r#"<https://evil.example/>; rel="next", </v2/library/nginx/tags/list?n=1>; title="a, <https://evil.example/>"; rel=next"#
            ),
            [r#"</api/registry/docker.io/v2/library/nginx/tags/list?n=1>; rel="next""#]
        );
        assert_eq!(
            hub(r#"</v2/library/nginx/tags/list?n=1>; rel="prefetch next""#).len(),
            1
        );
        let r = Url::parse("https://r.example/v2/a/tags/list").unwrap();
        assert_eq!(
            rewrite(
                r#"<https://r.example/v2/a/tags/list?last=x&evil=1>; rel="next""#,
                &r,
                "a",
                "r.example"
            ),
            [r#"</api/registry/r.example/v2/a/tags/list?last=x>; rel="next""#]
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
