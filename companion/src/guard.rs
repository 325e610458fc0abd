//! What the relay accepts, checked before any upstream request: repository names, tags
//! and digests by distribution's grammar, the `Host` header (against DNS rebinding) and
//! the method (GET and HEAD only).
//!
//! Grammar (distribution/reference):
//! ```text
//! name            := path-component ['/' path-component]*     (at most 255 characters)
//! path-component  := alpha-numeric [separator alpha-numeric]*
//! alpha-numeric   := /[a-z0-9]+/
//! separator       := /[_.]|__|[-]+/
//! tag             := /[\w][\w.-]{0,127}/
//! ```

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use strata_shared::Digest;

use crate::AppState;
use crate::error::Error;

/// Longest repository name distribution accepts.
const NAME_MAX: usize = 255;

/// Checks a repository name (`library/nginx`) against the path-component grammar.
pub(crate) fn validate_name(name: &str) -> Result<(), Error> {
    let bad = |reason| {
        Err(Error::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("empty");
    }
    if name.len() > NAME_MAX {
        return bad("longer than 255 characters");
    }
    for component in name.split('/') {
        if component.is_empty() {
            return bad("empty path component");
        }
        if !is_path_component(component) {
            if component.bytes().any(|b| b.is_ascii_uppercase()) {
                return bad("repository name must be lowercase");
            }
            return bad(
                "each path component must be lowercase letters and digits, separated by '.', '_', '__' or '-'",
            );
        }
    }
    Ok(())
}

fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: '.', '_', '__' or one or more '-'.
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// Checks a tag against `[\w][\w.-]{0,127}`.
pub(crate) fn validate_tag(tag: &str) -> Result<(), Error> {
    let bad = |reason: &str| {
        Err(Error::InvalidReference {
            reference: tag.to_owned(),
            reason: reason.to_owned(),
        })
    };
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    if bytes.is_empty() {
        return bad("empty tag");
    }
    if bytes.len() > 128 {
        return bad("tag longer than 128 characters");
    }
    if !word(bytes[0]) {
        return bad("a tag must start with a letter, digit or '_'");
    }
    if !bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-') {
        return bad("a tag may contain only letters, digits, '_', '.' and '-'");
    }
    Ok(())
}

/// What a `/manifests/{reference}` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ManifestRef {
    Tag(String),
    Digest(Digest),
}

impl ManifestRef {
    pub(crate) fn as_path(&self) -> String {
        match self {
            ManifestRef::Tag(t) => t.clone(),
            ManifestRef::Digest(d) => d.to_string(),
        }
    }
}

/// A tag, or a digest if it contains `:`.
pub(crate) fn parse_reference(reference: &str) -> Result<ManifestRef, Error> {
    if reference.contains(':') {
        let digest = Digest::parse(reference).map_err(|e| Error::InvalidReference {
            reference: reference.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(ManifestRef::Digest(digest))
    } else {
        validate_tag(reference)?;
        Ok(ManifestRef::Tag(reference.to_owned()))
    }
}

/// A validated digest.
pub(crate) fn parse_digest(digest: &str) -> Result<Digest, Error> {
    Ok(Digest::parse(digest)?)
}

/// Only GET and HEAD are served (OPTIONS preflights are answered by the CORS layer
/// before this one).
pub(crate) async fn only_get_and_head(request: Request, next: Next) -> Response {
    if request.method() == Method::GET || request.method() == Method::HEAD {
        next.run(request).await
    } else {
        Error::MethodNotAllowed(request.method().to_string()).into_response()
    }
}

/// Refuses requests whose host is not one this server answers to, so a page on another
/// site cannot reach the companion by rebinding its own name to 127.0.0.1. The host is
/// the target's authority when the request has one (absolute-form, HTTP/2 `:authority`;
/// RFC 9112 §3.2.2 puts it before `Host`), else `Host`; a request with neither (HTTP/1.0)
/// is refused too.
pub(crate) async fn host_allow_list(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let host = match request.uri().authority() {
        Some(authority) => authority.as_str(),
        None => request
            .headers()
            .get(header::HOST)
            .map_or("", |h| h.to_str().unwrap_or("")),
    };
    if !host_is_served(host, &state) {
        return Error::ForbiddenRequestHost(host.to_owned()).into_response();
    }
    next.run(request).await
}

/// IP literals, `localhost` (and `*.localhost`), the hosts of allowed origins, and the
/// configured extra names are served.
fn host_is_served(host_header: &str, state: &AppState) -> bool {
    let Some(hostname) = hostname_of(host_header) else {
        return false;
    };
    let hostname = hostname.to_ascii_lowercase();
    if hostname.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    if hostname == "localhost" || hostname.ends_with(".localhost") {
        return true;
    }
    let config = state.config();
    config
        .allowed_hosts
        .iter()
        .any(|h| hostname_of(h).is_some_and(|h| h.eq_ignore_ascii_case(&hostname)))
        || config.allow_origins.iter().any(|o| {
            url::Url::parse(o)
                .ok()
                .and_then(|u| u.host_str().map(|h| h.eq_ignore_ascii_case(&hostname)))
                .unwrap_or(false)
        })
}

/// The host part of `host[:port]` or `[v6]:port`, without brackets.
pub(crate) fn hostname_of(authority: &str) -> Option<&str> {
    if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']')?;
        let after = &rest[end + 1..];
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        return Some(&rest[..end]);
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if is_port(p) && !h.contains(':') => Some(h),
        Some(_) => None,
        None => Some(authority),
    }
    .filter(|h| !h.is_empty())
}

fn is_port(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 5
        && p.bytes().all(|b| b.is_ascii_digit())
        && p.parse::<u32>().is_ok_and(|n| n <= 65535)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in [
            "a",
            "library/nginx",
            "a/b/c",
            "a.b_c__d-e---f",
            "0",
            "team/app-1",
            "foo/manifests/bar",
        ] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "A",
            "Library/nginx",
            "a//b",
            "/a",
            "a/",
            "-a",
            "a-",
            "a..b",
            "a___b",
            "a._b",
            "a b",
            "a/../b",
            "..",
            "a%2fb",
            "a:b",
            "a@b",
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
        assert!(validate_name(&"a".repeat(256)).is_err());
        assert!(validate_name(&"a".repeat(255)).is_ok());
    }

    #[test]
    fn tags_and_references() {
        for ok in ["latest", "1.27", "_x", "A-b.c_D", &"a".repeat(128)] {
            assert!(validate_tag(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".a", "-a", "a/b", "a:b", "a b", &"a".repeat(129)] {
            assert!(validate_tag(bad).is_err(), "{bad}");
        }
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            parse_reference(&d).unwrap(),
            ManifestRef::Digest(Digest::parse(&d).unwrap())
        );
        assert!(parse_reference("sha256:abc").is_err());
        assert!(parse_reference(&format!("sha256:{}", "A".repeat(64))).is_err());
    }

    #[test]
    fn hostnames() {
        assert_eq!(hostname_of("localhost:8787"), Some("localhost"));
        assert_eq!(hostname_of("[::1]:8787"), Some("::1"));
        assert_eq!(hostname_of("example.org"), Some("example.org"));
        assert_eq!(hostname_of("a:b"), None);
        assert_eq!(hostname_of(":80"), None);
    }
}
