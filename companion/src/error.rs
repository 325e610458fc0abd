//! The relay's own errors. Each variant maps to one status and one stable `code` in
//! [`Error::status`] / [`Error::code`]; the client gets `{"code","message"}` and internal
//! detail (upstream error text, addresses) goes to the log only. Transport errors are
//! classified here too ([`classify`]), so every error the client can see is made in this file.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Everything the relay itself can answer with (upstream statuses pass through instead).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `{host}` segment is not a registry host.
    #[error("invalid registry host {}: {reason}", Echo(.host))]
    InvalidHost {
        /// As given.
        host: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A registry host written otherwise than the one spelling it is looked up under.
    #[error("registry host {} is not written canonically: write {canonical}", Echo(.host))]
    NonCanonicalHost {
        /// As given.
        host: String,
        /// The spelling to use.
        canonical: String,
    },
    /// A repository name that fails the distribution grammar.
    #[error("invalid repository name {}: {reason}", Echo(.name))]
    InvalidName {
        /// As given.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A tag that fails the grammar.
    #[error("invalid reference {}: {reason}", Echo(.reference))]
    InvalidReference {
        /// As given.
        reference: String,
        /// What is wrong.
        reason: String,
    },
    /// A digest that fails validation (its message names the input: capped).
    #[error("{}", capped(&.0.to_string()))]
    InvalidDigest(#[from] strata_shared::DigestError),
    /// A path the routes cannot read (not UTF-8, a segment missing).
    #[error("invalid request path: {}", capped(.0))]
    InvalidPath(String),
    /// A query parameter out of range.
    #[error("invalid query parameter {name:?}: {}", capped(.reason))]
    InvalidQuery {
        /// Parameter.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// No such route.
    #[error("no such route")]
    NotFound,
    /// Only GET and HEAD are relayed.
    #[error("method {} not allowed: the relay only serves GET and HEAD", capped(.0))]
    MethodNotAllowed(String),
    /// A request with several `Host` headers (RFC 9112 §3.2: a 400).
    #[error("several Host headers: a request names exactly one host")]
    SeveralHosts,
    /// The request's `Host` is not one this server serves (DNS rebinding).
    #[error("requests for host {} are not served here", Echo(.0))]
    ForbiddenRequestHost(String),
    /// A cross-origin request from an origin not allowed by CORS.
    #[error("origin {} is not allowed", Echo(.0))]
    ForbiddenOrigin(String),
    /// A request the browser marks cross-site or same-site, from no allowed origin (an
    /// `<img>`, `<script>` or no-cors `fetch` on another site).
    #[error(
        "a {} request from a page that --allow-origin does not name is not served",
        capped(.0)
    )]
    CrossSite(String),
    /// An `/api/` request without `X-Strata-Client: 1`.
    #[error(
        "requests to /api/ must carry the header X-Strata-Client: 1 (the app sends it; a page of another site cannot)"
    )]
    ClientHeaderMissing,
    /// The upstream target (registry, realm, redirect) is refused by the egress policy.
    #[error("refused to contact {}: {reason}", capped(.host))]
    ForbiddenHost {
        /// host[:port] refused.
        host: String,
        /// Why.
        reason: String,
    },
    /// Too many requests from this client, or too many in flight.
    #[error("too many requests: {0}")]
    RateLimited(&'static str),
    /// The registry (or its realm, or a redirect target) cannot be reached.
    #[error("cannot reach {host}: {detail}")]
    UpstreamUnreachable {
        /// host[:port].
        host: String,
        /// Internal detail, logged only.
        detail: String,
    },
    /// The upstream's TLS certificate does not verify against the trusted roots (built-in,
    /// plus `--ca-cert`).
    #[error(
        "the TLS certificate of {host} is not trusted ({problem}); if it comes from a private CA, pass that CA with --ca-cert"
    )]
    UpstreamCertificate {
        /// host[:port].
        host: String,
        /// rustls' verdict, e.g. `UnknownIssuer`.
        problem: String,
    },
    /// The registry did not answer in time.
    #[error("timed out waiting for {host}: {detail}")]
    UpstreamTimeout {
        /// host[:port].
        host: String,
        /// Internal detail, logged only.
        detail: String,
    },
    /// A manifest larger than the cap.
    #[error("manifest larger than {limit} bytes")]
    ManifestTooLarge {
        /// The cap.
        limit: u64,
    },
    /// Another upstream body (token, error, tag list) larger than its cap.
    #[error("{what} larger than {limit} bytes")]
    BodyTooLarge {
        /// What was being read.
        what: &'static str,
        /// The cap.
        limit: u64,
    },
    /// More redirect hops than allowed.
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    /// The token realm refused to issue a token.
    #[error(
        "the token service of {registry} refused a token asked for with {with} (status {status})"
    )]
    TokenRefused {
        /// Registry.
        registry: String,
        /// Status from the realm.
        status: u16,
        /// What was offered: "no credentials", "a username and password", "an identity
        /// token" (never the secret itself).
        with: &'static str,
    },
    /// The upstream answered something the relay cannot use.
    #[error("bad answer from {host}: {detail}")]
    UpstreamProtocol {
        /// host[:port].
        host: String,
        /// Internal detail, logged only.
        detail: String,
    },
}

impl Error {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::InvalidHost { .. }
            | Error::NonCanonicalHost { .. }
            | Error::InvalidName { .. }
            | Error::InvalidReference { .. }
            | Error::InvalidDigest(_)
            | Error::InvalidPath(_)
            | Error::InvalidQuery { .. }
            | Error::SeveralHosts => StatusCode::BAD_REQUEST,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Error::ForbiddenRequestHost(_)
            | Error::ForbiddenOrigin(_)
            | Error::CrossSite(_)
            | Error::ClientHeaderMissing
            | Error::ForbiddenHost { .. } => StatusCode::FORBIDDEN,
            Error::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::TokenRefused { .. } => StatusCode::UNAUTHORIZED,
            Error::UpstreamTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Error::UpstreamUnreachable { .. }
            | Error::UpstreamCertificate { .. }
            | Error::ManifestTooLarge { .. }
            | Error::BodyTooLarge { .. }
            | Error::TooManyRedirects(_)
            | Error::UpstreamProtocol { .. } => StatusCode::BAD_GATEWAY,
        }
    }

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidHost { .. } | Error::NonCanonicalHost { .. } => "INVALID_HOST",
            Error::InvalidName { .. } => "INVALID_NAME",
            Error::InvalidReference { .. } => "INVALID_REFERENCE",
            Error::InvalidDigest(_) => "INVALID_DIGEST",
            Error::InvalidPath(_) => "INVALID_PATH",
            Error::InvalidQuery { .. } => "INVALID_QUERY",
            Error::NotFound => "NOT_FOUND",
            Error::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            Error::SeveralHosts => "INVALID_REQUEST_HOST",
            Error::ForbiddenRequestHost(_) => "FORBIDDEN_REQUEST_HOST",
            Error::ForbiddenOrigin(_) => "FORBIDDEN_ORIGIN",
            Error::CrossSite(_) => "FORBIDDEN_CROSS_SITE",
            Error::ClientHeaderMissing => "CLIENT_HEADER_REQUIRED",
            Error::ForbiddenHost { .. } => "FORBIDDEN_HOST",
            Error::RateLimited(_) => "RATE_LIMITED",
            Error::UpstreamUnreachable { .. } => "UPSTREAM_UNREACHABLE",
            Error::UpstreamTimeout { .. } => "UPSTREAM_TIMEOUT",
            Error::UpstreamCertificate { .. } => "UPSTREAM_CERTIFICATE",
            Error::ManifestTooLarge { .. } => "MANIFEST_TOO_LARGE",
            Error::BodyTooLarge { .. } => "UPSTREAM_TOO_LARGE",
            Error::TooManyRedirects(_) => "TOO_MANY_REDIRECTS",
            Error::TokenRefused { .. } => "UNAUTHORIZED",
            Error::UpstreamProtocol { .. } => "UPSTREAM_ERROR",
        }
    }

    /// The message for the client: names the input for request errors, hides internal
    /// detail for upstream errors. Every variant is listed, so a new one has to choose.
    pub fn public_message(&self) -> String {
        match self {
            Error::UpstreamUnreachable { host, .. } => format!("registry {host} cannot be reached"),
            Error::UpstreamTimeout { host, .. } => {
                format!("registry {host} did not answer in time")
            }
            Error::UpstreamProtocol { host, .. } => {
                format!("registry {host} sent an answer the relay cannot use")
            }
            Error::ManifestTooLarge { limit } => {
                format!(
                    "the registry sent a manifest larger than {} MiB",
                    limit / (1024 * 1024)
                )
            }
            // The message names only what the client sent or what the relay decided.
            Error::InvalidHost { .. }
            | Error::NonCanonicalHost { .. }
            | Error::InvalidName { .. }
            | Error::InvalidReference { .. }
            | Error::InvalidDigest(_)
            | Error::InvalidPath(_)
            | Error::InvalidQuery { .. }
            | Error::NotFound
            | Error::MethodNotAllowed(_)
            | Error::SeveralHosts
            | Error::ForbiddenRequestHost(_)
            | Error::ForbiddenOrigin(_)
            | Error::CrossSite(_)
            | Error::ClientHeaderMissing
            | Error::ForbiddenHost { .. }
            | Error::RateLimited(_)
            | Error::UpstreamCertificate { .. }
            | Error::BodyTooLarge { .. }
            | Error::TooManyRedirects(_)
            | Error::TokenRefused { .. } => self.to_string(),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(code = self.code(), "{self}");
        } else {
            tracing::debug!(code = self.code(), "{self}");
        }
        let body = serde_json::json!({ "code": self.code(), "message": self.public_message() });
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        headers.insert(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            axum::http::HeaderValue::from_static("nosniff"),
        );
        if let Error::RateLimited(_) = self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}

/// How many characters of a client's input an error message repeats.
const ECHO_MAX_CHARS: usize = 200;

/// `s` cut to [`ECHO_MAX_CHARS`] characters, with `…` and the full length when cut: a
/// message names what the client sent without carrying all of it back.
pub(crate) fn capped(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(ECHO_MAX_CHARS) {
        None => std::borrow::Cow::Borrowed(s),
        Some((cut, _)) => {
            std::borrow::Cow::Owned(format!("{}… ({} characters)", &s[..cut], s.chars().count()))
        }
    }
}

/// An input quoted in a message (`"…"`, escaped), capped like [`capped`].
struct Echo<'a>(&'a str);

impl std::fmt::Display for Echo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.char_indices().nth(ECHO_MAX_CHARS) {
            None => write!(f, "{:?}", self.0),
            Some((cut, _)) => write!(
                f,
                "{:?}… ({} characters)",
                &self.0[..cut],
                self.0.chars().count()
            ),
        }
    }
}

/// The address of a host name is not allowed; raised inside the resolver so that the
/// connection is never attempted.
#[derive(Debug, thiserror::Error)]
#[error("{name} resolves to non-public addresses only (name it with --insecure-registry to allow)")]
pub(crate) struct NonPublicAddress {
    pub(crate) name: String,
}

/// Maps a transport error to the relay's error, recognizing refusals by the resolver and
/// certificates that do not verify.
pub(crate) fn classify(error: &reqwest::Error, host: &str) -> Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<NonPublicAddress>() {
            return Error::ForbiddenHost {
                host: host.to_owned(),
                reason: refused.to_string(),
            };
        }
        if let Some(problem) = certificate_problem(e) {
            return Error::UpstreamCertificate {
                host: host.to_owned(),
                problem: format!("{problem:?}"),
            };
        }
        source = e.source();
    }
    let detail = error_chain(error);
    if error.is_timeout() {
        Error::UpstreamTimeout {
            host: host.to_owned(),
            detail,
        }
    } else if error.is_connect() {
        Error::UpstreamUnreachable {
            host: host.to_owned(),
            detail,
        }
    } else {
        Error::UpstreamProtocol {
            host: host.to_owned(),
            detail,
        }
    }
}

/// rustls' verdict on the peer certificate, when `error` is (or wraps) one. Looks inside
/// `io::Error`s explicitly, since their `source` skips the error they wrap (and the TLS
/// connector nests them).
fn certificate_problem<'a>(
    mut error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::CertificateError> {
    loop {
        if let Some(rustls::Error::InvalidCertificate(problem)) =
            error.downcast_ref::<rustls::Error>()
        {
            return Some(problem);
        }
        error = error.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

/// The error and all its sources, for the log.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}
