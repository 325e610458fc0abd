//! Lists paged by `n` and `last` (`tags/list`, `_catalog`): the page's query checked and
//! passed on; of the upstream `Link` header, parsed whole, only the registry's own next
//! page of the same list is kept, rewritten to the relay's path with only `n` and `last`
//! (every other link is dropped, so the page never follows a link off the relay).

use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;
use strata_shared::link::{Link, parse_links};
use url::Url;

use super::fetch::{Fetch, exchange};
use super::headers::upstream_headers;
use crate::auth::Scope;
use crate::error::Error;
use crate::host::same_origin;
use crate::registry::Registry;
use crate::state::AppState;

/// One paged list: where it lives upstream and on the relay, and what its query accepts.
pub(super) struct PagedList {
    /// The list's path upstream, without query: `/v2/library/nginx/tags/list`, `/v2/_catalog`.
    pub(super) upstream: String,
    /// The same list on the relay: `/api/registry/docker.io/v2/library/nginx/tags/list`.
    pub(super) relay: String,
    /// The largest `n` passed on.
    pub(super) max_n: u32,
    /// Checks a `last` (a tag, a repository name).
    pub(super) check_last: fn(&str) -> Result<(), Error>,
}

/// A checked `n` and `last`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct PageQuery {
    pub(super) n: Option<u32>,
    pub(super) last: Option<String>,
}

impl PagedList {
    /// The page's query: `n` in `1..=max_n`, `last` as `check_last` allows; other
    /// parameters are ignored (never passed on).
    pub(super) fn query(&self, query: Option<&str>) -> Result<PageQuery, Error> {
        let mut out = PageQuery::default();
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match k.as_ref() {
                "n" => {
                    let n: u32 = v.parse().map_err(|_| Error::InvalidQuery {
                        name: "n",
                        reason: format!("{v:?} is not a number"),
                    })?;
                    if n == 0 || n > self.max_n {
                        return Err(Error::InvalidQuery {
                            name: "n",
                            reason: format!("{n} is not between 1 and {}", self.max_n),
                        });
                    }
                    out.n = Some(n);
                }
                "last" => {
                    (self.check_last)(&v)?;
                    out.last = Some(v.into_owned());
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The upstream path of one page.
    pub(super) fn upstream_path(&self, query: &PageQuery) -> String {
        with_query(&self.upstream, query)
    }

    /// The relay's `Link` for the registry's next page among `upstream` (the `Link` lines
    /// of the answer from `base`), if the registry gave one.
    pub(super) fn next_link(&self, upstream: &HeaderMap, base: &Url) -> Option<HeaderValue> {
        let next = upstream
            .get_all(header::LINK)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(parse_links)
            .find_map(|link| self.next_page(&link, base))?;
        HeaderValue::from_str(&next).ok()
    }

    /// The registry's own next page of this list (`rel="next"`, relative or absolute on
    /// the registry's origin, the same path), as the relay's path with only a valid `n`
    /// and `last` kept. Any other link is `None`.
    fn next_page(&self, link: &Link<'_>, base: &Url) -> Option<String> {
        if !link.is_next() {
            return None;
        }
        let url = base.join(link.target).ok()?;
        if !same_origin(&url, base) || url.path() != self.upstream {
            return None;
        }
        let mut query = PageQuery::default();
        for (k, v) in url.query_pairs() {
            match k.as_ref() {
                "n" => query.n = v.parse().ok().filter(|n| (1..=self.max_n).contains(n)),
                "last" if (self.check_last)(&v).is_ok() => query.last = Some(v.into_owned()),
                _ => {}
            }
        }
        Some(format!(
            r#"<{}>; rel="next""#,
            with_query(&self.relay, &query)
        ))
    }
}

/// One page of `list` from upstream (never a mirror: a cache's list may be partial), its
/// body capped as `what`, its `Link` rewritten to the relay.
pub(super) async fn relay_page(
    state: &AppState,
    registry: &Registry,
    list: &PagedList,
    query: &PageQuery,
    scope: Scope<'_>,
    what: &'static str,
) -> Result<Response, Error> {
    let fetch = Fetch {
        registry,
        scope,
        method: Method::GET,
        path: list.upstream_path(query),
        headers: upstream_headers(Some("application/json")),
        timeout: Some(state.upstream().limits.request_timeout),
        use_mirrors: false,
    };
    let mut exchange = exchange(state, &fetch, false).await?;
    let base = exchange.upstream.url().clone();
    if let Some(next) = list.next_link(exchange.upstream.headers(), &base) {
        exchange.headers.insert(header::LINK, next);
    }
    exchange.list(state, what).await
}

fn with_query(path: &str, query: &PageQuery) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    if let Some(n) = query.n {
        s.append_pair("n", &n.to_string());
    }
    if let Some(last) = &query.last {
        s.append_pair("last", last);
    }
    let qs = s.finish();
    if qs.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{qs}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard;

    fn tags(repository: &str, host: &str) -> PagedList {
        PagedList {
            upstream: format!("/v2/{repository}/tags/list"),
            relay: format!("/api/registry/{host}/v2/{repository}/tags/list"),
            max_n: 10_000,
            check_last: guard::validate_tag,
        }
    }

    fn catalog(host: &str) -> PagedList {
        PagedList {
            upstream: "/v2/_catalog".into(),
            relay: format!("/api/registry/{host}/v2/_catalog"),
            max_n: 1000,
            check_last: guard::validate_name,
        }
    }

    /// `next_page` of every link in `header`, as [`PagedList::next_link`] keeps the first.
    fn rewrite(list: &PagedList, header: &str, base: &Url) -> Vec<String> {
        parse_links(header)
            .iter()
            .filter_map(|l| list.next_page(l, base))
            .collect()
    }

    #[test]
    fn tag_links_are_rewritten() {
        let base = Url::parse("https://r.example/v2/library/nginx/tags/list?n=2").unwrap();
        let list = tags("library/nginx", "docker.io");
        let hub = |h| rewrite(&list, h, &base);
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
        // Unknown parameters, an `n` out of range and an invalid `last` are dropped.
        let r = Url::parse("https://r.example/v2/a/tags/list").unwrap();
        assert_eq!(
            rewrite(
                &tags("a", "r.example"),
                r#"<https://r.example/v2/a/tags/list?last=x&evil=1&n=99999>; rel="next""#,
                &r
            ),
            [r#"</api/registry/r.example/v2/a/tags/list?last=x>; rel="next""#]
        );
        assert_eq!(
            rewrite(
                &tags("a", "r.example"),
                r#"</v2/a/tags/list?last=..x&n=3>; rel="next""#,
                &r
            ),
            [r#"</api/registry/r.example/v2/a/tags/list?n=3>; rel="next""#]
        );
    }

    #[test]
    fn catalog_links_are_rewritten() {
        let base = Url::parse("http://127.0.0.1:5000/v2/_catalog?n=2").unwrap();
        let list = catalog("127.0.0.1:5000");
        // Distribution writes the repository name of `last` with its slash escaped.
        assert_eq!(
            rewrite(
                &list,
                r#"</v2/_catalog?last=team%2Fapp&n=2>; rel="next""#,
                &base
            ),
            [r#"</api/registry/127.0.0.1:5000/v2/_catalog?n=2&last=team%2Fapp>; rel="next""#]
        );
        assert!(rewrite(&list, r#"</v2/a/tags/list?n=2>; rel="next""#, &base).is_empty());
        assert!(
            rewrite(
                &list,
                r#"<http://127.0.0.1:5001/v2/_catalog?n=2>; rel="next""#,
                &base
            )
            .is_empty()
        );
        assert_eq!(
            rewrite(
                &list,
                r#"</v2/_catalog?last=Team&n=5000>; rel="next""#,
                &base
            ),
            [r#"</api/registry/127.0.0.1:5000/v2/_catalog>; rel="next""#]
        );
    }

    #[test]
    fn queries() {
        let list = tags("a", "r.example");
        let q = list.query(Some("n=5&last=v1&x=y")).unwrap();
        assert_eq!((q.n, q.last.as_deref()), (Some(5), Some("v1")));
        assert_eq!(list.upstream_path(&q), "/v2/a/tags/list?n=5&last=v1");
        assert_eq!(list.upstream_path(&PageQuery::default()), "/v2/a/tags/list");
        for bad in ["n=0", "n=10001", "n=x", "n=-1"] {
            assert!(
                matches!(
                    list.query(Some(bad)),
                    Err(Error::InvalidQuery { name: "n", .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            list.query(Some("last=.x")),
            Err(Error::InvalidReference { .. })
        ));

        let list = catalog("r.example");
        let q = list.query(Some("n=1000&last=team%2Fapp")).unwrap();
        assert_eq!(
            list.upstream_path(&q),
            "/v2/_catalog?n=1000&last=team%2Fapp"
        );
        assert!(matches!(
            list.query(Some("n=1001")),
            Err(Error::InvalidQuery { name: "n", .. })
        ));
        for bad in ["last=Team", "last=a/../b", "last=a:b", "last="] {
            assert!(
                matches!(list.query(Some(bad)), Err(Error::InvalidName { .. })),
                "{bad}"
            );
        }
    }
}
