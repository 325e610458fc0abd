//! What the relay accepts, checked before any upstream request: repository names, tags
//! and digests by distribution's grammar (the one in [`strata_shared::reference`]), the
//! `Host` header (against DNS rebinding) and the method (GET and HEAD only).

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use strata_shared::reference::{REPOSITORY_NAME_MAX_LEN, parse_strict};
use strata_shared::{Digest, ReferenceError};

use crate::error::Error;
use crate::host::hostname_of;
use crate::state::AppState;

/// A registry host that is always valid: the grammar reads `NAME` alone as
/// `HOST/NAME`'s repository path, so that its first component is never taken for a host.
const ANY_HOST: &str = "registry.invalid";

/// Checks a repository name (`library/nginx`) against the grammar's remote name.
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
    if name.len() > REPOSITORY_NAME_MAX_LEN {
        return bad("longer than 255 characters");
    }
    if name.contains([':', '@']) {
        return bad("a repository name has no tag or digest");
    }
    match parse_strict(&format!("{ANY_HOST}/{name}")) {
        Ok(parsed) if parsed.path == name && parsed.tag.is_none() => Ok(()),
        Ok(_) => bad("not a repository name"),
        Err(ReferenceError::Uppercase(_)) => bad("repository name must be lowercase"),
        Err(ReferenceError::InvalidFormat { reason, .. }) => bad(reason),
        Err(_) => bad("not a repository name"),
    }
}

/// Checks a tag against the grammar's `[\w][\w.-]{0,127}`.
pub(crate) fn validate_tag(tag: &str) -> Result<(), Error> {
    let bad = |reason: &str| {
        Err(Error::InvalidReference {
            reference: tag.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if tag.is_empty() {
        return bad("empty tag");
    }
    match parse_strict(&format!("{ANY_HOST}/x:{tag}")) {
        Ok(parsed) if parsed.tag.as_deref() == Some(tag) && parsed.digest.is_none() => Ok(()),
        Err(ReferenceError::InvalidFormat { reason, .. }) if !tag.contains(['/', '@', ':']) => {
            bad(reason)
        }
        _ => bad("a tag may contain only letters, digits, '_', '.' and '-'"),
    }
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

/// The authority a request is for, as [`host_allow_list`] read and accepted it: every
/// later check (the same-origin test of CORS) uses this one value.
#[derive(Clone, Debug)]
pub(crate) struct RequestAuthority(pub(crate) String);

/// Refuses requests whose host is not one this server answers to, so a page on another
/// site cannot reach the companion by rebinding its own name to 127.0.0.1. The host is
/// the target's authority when the request has one (absolute-form, HTTP/2 `:authority`;
/// RFC 9112 §3.2.2 puts it before `Host`), else `Host`; a request with neither (HTTP/1.0)
/// is refused too, and one with several `Host` headers is a 400 (RFC 9112 §3.2). The
/// accepted value goes on as [`RequestAuthority`].
pub(crate) async fn host_allow_list(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.headers().get_all(header::HOST).iter().count() > 1 {
        return Error::SeveralHosts.into_response();
    }
    let host = match request.uri().authority() {
        Some(authority) => authority.as_str().to_owned(),
        None => request
            .headers()
            .get(header::HOST)
            .map_or("", |h| h.to_str().unwrap_or(""))
            .to_owned(),
    };
    if !host_is_served(&host, &state) {
        return Error::ForbiddenRequestHost(host).into_response();
    }
    request.extensions_mut().insert(RequestAuthority(host));
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
            assert!(
                matches!(validate_name(bad), Err(Error::InvalidName { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            validate_name(&"a".repeat(256)),
            Err(Error::InvalidName { .. })
        ));
        assert!(validate_name(&"a".repeat(255)).is_ok());
    }

    #[test]
    fn tags_and_references() {
        for ok in ["latest", "1.27", "_x", "A-b.c_D", &"a".repeat(128)] {
            assert!(validate_tag(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".a", "-a", "a/b", "a:b", "a b", &"a".repeat(129)] {
            assert!(
                matches!(validate_tag(bad), Err(Error::InvalidReference { .. })),
                "{bad}"
            );
        }
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            parse_reference(&d).unwrap(),
            ManifestRef::Digest(Digest::parse(&d).unwrap())
        );
        assert!(matches!(
            parse_reference("sha256:abc"),
            Err(Error::InvalidReference { .. })
        ));
        assert!(matches!(
            parse_reference(&format!("sha256:{}", "A".repeat(64))),
            Err(Error::InvalidReference { .. })
        ));
    }
}
