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
    },
    /// A token fetched with this machine's credential for the registry.
    CredentialToken {
        /// What the token grants, when it says.
        granted: Option<String>,
    },
    /// Basic auth with this machine's credential.
    CredentialBasic,
    /// The registry asks for Basic auth and this machine has no credential for it.
    NoCredential,
}

impl Access {
    /// A token's access, from whether a credential was sent and the token itself.
    pub(crate) fn of_token(with_credential: bool, token: &str) -> Access {
        let granted = granted_scope(token);
        if with_credential {
            Access::CredentialToken { granted }
        } else {
            Access::AnonymousToken { granted }
        }
    }

    /// The `Strata-Access` value: `anonymous`, `anonymous-token`, `credential-token`,
    /// `credential-basic` or `no-credential`, then `; granted="…"` when known.
    pub(crate) fn header(&self) -> HeaderValue {
        let (how, granted) = match self {
            Access::Open => ("anonymous", None),
            Access::AnonymousToken { granted } => ("anonymous-token", granted.as_deref()),
            Access::CredentialToken { granted } => ("credential-token", granted.as_deref()),
            Access::CredentialBasic => ("credential-basic", None),
            Access::NoCredential => ("no-credential", None),
        };
        let text = match granted {
            Some(g) => format!("{how}; granted=\"{g}\""),
            None => how.to_owned(),
        };
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
            Access::of_token(false, &token).header(),
            r#"anonymous-token; granted="repository:team/app:pull""#
        );
        let nothing = jwt(r#"{"access":[]}"#);
        assert_eq!(
            Access::of_token(true, &nothing).header(),
            r#"credential-token; granted="""#
        );
    }

    #[test]
    fn an_opaque_token_grants_nothing_said() {
        assert_eq!(
            Access::of_token(false, "opaque").header(),
            "anonymous-token"
        );
        let hostile = jwt(r#"{"access":[{"type":"repository","name":"a\"b\nc","actions":[]}]}"#);
        assert_eq!(
            Access::of_token(false, &hostile).header(),
            r#"anonymous-token; granted="""#
        );
    }
}
