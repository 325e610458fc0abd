//! How the relay got access to a registry, for the page's distribution facts: anonymous
//! or with this machine's credential (never the credential itself), and the scope the
//! token grants. Sent to the page as the `Strata-Access` header of relayed answers.

use axum::http::HeaderValue;
use base64::Engine as _;

/// Largest token whose claims are read (real ones are 1–4 KiB).
const MAX_TOKEN: usize = 16 * 1024;

/// How a request was authorized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// The registry asks for no authorization.
    Open,
    /// A token fetched without credentials.
    AnonymousToken {
        /// What the token grants, when it says (a JWT's `access` claim).
        granted: Option<String>,
        /// The challenge's `service` (Harbor's is `harbor-registry`).
        service: Option<String>,
    },
    /// A token fetched with this machine's credential for the registry.
    CredentialToken {
        /// What the token grants, when it says.
        granted: Option<String>,
        /// The challenge's `service`.
        service: Option<String>,
    },
    /// Basic auth with this machine's credential.
    CredentialBasic,
    /// The registry asks for Basic auth and this machine has no credential for it.
    NoCredential,
}

impl Access {
    /// A token's access, from whether a credential was sent, the token itself and the
    /// `service` its challenge named.
    pub(crate) fn of_token(with_credential: bool, token: &str, service: Option<&str>) -> Access {
        let granted = granted_scope(token);
        // Only shown: kept when short and plain, so it cannot break the header.
        let service = service
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .filter(|s| s.chars().all(|c| c.is_ascii_graphic() && c != '"'))
            .map(str::to_owned);
        if with_credential {
            Access::CredentialToken { granted, service }
        } else {
            Access::AnonymousToken { granted, service }
        }
    }

    /// The `Strata-Access` value: `anonymous`, `anonymous-token`, `credential-token`,
    /// `credential-basic` or `no-credential`, then `; granted="…"` and `; service="…"`
    /// when known.
    pub(crate) fn header(&self) -> HeaderValue {
        let (how, granted, service) = match self {
            Access::Open => ("anonymous", None, None),
            Access::AnonymousToken { granted, service } => {
                ("anonymous-token", granted.as_deref(), service.as_deref())
            }
            Access::CredentialToken { granted, service } => {
                ("credential-token", granted.as_deref(), service.as_deref())
            }
            Access::CredentialBasic => ("credential-basic", None, None),
            Access::NoCredential => ("no-credential", None, None),
        };
        let mut text = how.to_owned();
        if let Some(g) = granted {
            text.push_str(&format!("; granted=\"{g}\""));
        }
        if let Some(s) = service {
            text.push_str(&format!("; service=\"{s}\""));
        }
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
    }
}

/// The `access` claim of a JWT token, as `repository:NAME:ACTIONS` scopes separated by
/// spaces (`""` when it grants nothing); `None` when the token is not a JWT. The claims are
/// only read to be shown: the registry, not the relay, decides what the token allows.
fn granted_scope(token: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Claims {
        access: Option<Vec<Grant>>,
    }
    #[derive(serde::Deserialize)]
    struct Grant {
        #[serde(rename = "type")]
        kind: String,
        name: String,
        #[serde(default)]
        actions: Vec<String>,
    }
    if token.len() > MAX_TOKEN {
        return None;
    }
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Claims = serde_json::from_slice(&bytes).ok()?;
    let printable = |s: &str| s.chars().all(|c| c.is_ascii_graphic());
    Some(
        claims
            .access?
            .iter()
            .filter(|g| printable(&g.kind) && printable(&g.name))
            .map(|g| {
                let actions: Vec<&str> = g
                    .actions
                    .iter()
                    .map(String::as_str)
                    .filter(|a| printable(a))
                    .collect();
                format!("{}:{}:{}", g.kind, g.name, actions.join(","))
            })
            .collect::<Vec<_>>()
            .join(" "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", b64(r#"{"alg":"ES256"}"#), b64(claims))
    }

    #[test]
    fn a_jwts_access_claim_is_the_granted_scope() {
        let token =
            jwt(r#"{"access":[{"type":"repository","name":"team/app","actions":["pull"]}]}"#);
        assert_eq!(
            Access::of_token(false, &token, None).header(),
            r#"anonymous-token; granted="repository:team/app:pull""#
        );
        let nothing = jwt(r#"{"access":[]}"#);
        assert_eq!(
            Access::of_token(true, &nothing, None).header(),
            r#"credential-token; granted="""#
        );
    }

    #[test]
    fn the_challenges_service_is_said_when_plain() {
        let token =
            jwt(r#"{"access":[{"type":"repository","name":"lib/app","actions":["pull"]}]}"#);
        assert_eq!(
            Access::of_token(false, &token, Some("harbor-registry")).header(),
            r#"anonymous-token; granted="repository:lib/app:pull"; service="harbor-registry""#
        );
        assert_eq!(
            Access::of_token(true, "opaque", Some("a\"b")).header(),
            "credential-token"
        );
        assert_eq!(
            Access::of_token(true, "opaque", Some(&"x".repeat(200))).header(),
            "credential-token"
        );
    }

    #[test]
    fn an_opaque_token_grants_nothing_said() {
        assert_eq!(
            Access::of_token(false, "opaque", None).header(),
            "anonymous-token"
        );
        let hostile = jwt(r#"{"access":[{"type":"repository","name":"a\"b\nc","actions":[]}]}"#);
        assert_eq!(
            Access::of_token(false, &hostile, None).header(),
            r#"anonymous-token; granted="""#
        );
    }
}
