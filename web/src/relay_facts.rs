//! What the relay's answer to the top document said about how it was served: access
//! (anonymous or this machine's credential, and the token's granted scope), whether a
//! mirror answered, and the registry's rate-limit headers. Read by the distribution facts
//! on the overview; none of it is verified content, and the page says where it came from.

/// The relay's headers of one answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RelayFacts {
    /// `Strata-Access`: `anonymous`, `anonymous-token; granted="…"; service="…"`,
    /// `credential-token…`, `credential-basic`, `no-credential`.
    pub access: Option<String>,
    /// `Strata-Served-By`: `registry` or `mirror HOST`.
    pub served_by: Option<String>,
    /// `RateLimit-Limit` (Docker Hub: `100;w=21600`).
    pub rate_limit: Option<String>,
    /// `RateLimit-Remaining`.
    pub rate_remaining: Option<String>,
}

/// The count of a `RateLimit-*` value: Docker Hub sends `100;w=21600`.
pub(crate) fn quota(value: &str) -> &str {
    value.split(';').next().unwrap_or(value).trim()
}

/// The `w=` window of a `RateLimit-*` value, in seconds.
pub(crate) fn window_seconds(value: &str) -> Option<u64> {
    value
        .split(';')
        .skip(1)
        .find_map(|p| p.trim().strip_prefix("w="))
        .and_then(|w| w.trim().parse().ok())
}

/// A `; NAME="value"` parameter of a `Strata-Access` value (values hold no quotes).
fn access_param<'a>(access: &'a str, name: &str) -> Option<&'a str> {
    let (_, rest) = access.split_once(&format!("; {name}=\""))?;
    rest.split('"').next()
}

impl RelayFacts {
    /// The token service the registry's challenge named (Harbor's is `harbor-registry`).
    pub(crate) fn token_service(&self) -> Option<&str> {
        access_param(self.access.as_deref()?, "service")
    }

    /// Visibility and access control, or `None` when the relay did not say (an archive).
    pub(crate) fn access_text(&self) -> Option<String> {
        let access = self.access.as_deref()?;
        let how = access.split(';').next().unwrap_or(access).trim();
        let granted = access_param(access, "granted");
        let mut text = match how {
            "anonymous" => "pulled anonymously: the registry asks for no login".to_owned(),
            "anonymous-token" => "pulled anonymously, with an anonymous token".to_owned(),
            "credential-token" => {
                "pulled with this machine's credential for the registry (never shown), for a token"
                    .to_owned()
            }
            "credential-basic" => {
                "pulled with this machine's credential for the registry (never shown)".to_owned()
            }
            "no-credential" => {
                "the registry asks for a login and this machine has no credential for it".to_owned()
            }
            other => format!("access: {other}"),
        };
        match granted {
            Some("") => text.push_str("; the token grants no scope"),
            Some(scope) => text.push_str(&format!("; token scope granted: {scope}")),
            None if how.ends_with("-token") => text.push_str("; the token does not say its scope"),
            None => {}
        }
        Some(text)
    }

    /// Availability: who served, and the rate limit left.
    pub(crate) fn availability_text(&self) -> Option<String> {
        let served = match self.served_by.as_deref()? {
            "registry" => "served by the registry itself".to_owned(),
            mirror => match mirror.strip_prefix("mirror ") {
                Some(host) => format!("served from the mirror {host} (--mirror)"),
                None => format!("served by {mirror}"),
            },
        };
        let limit = match (self.rate_limit.as_deref(), self.rate_remaining.as_deref()) {
            (Some(limit), Some(remaining)) => {
                let window = window_seconds(limit)
                    .or_else(|| window_seconds(remaining))
                    .map(|w| format!(" per {}", crate::format::duration_secs(w)))
                    .unwrap_or_default();
                format!(
                    "rate limit: {} of {} pulls left{window}",
                    quota(remaining),
                    quota(limit)
                )
            }
            (Some(limit), None) => format!("rate limit: {} pulls", quota(limit)),
            _ => "no rate-limit headers".to_owned(),
        };
        Some(format!("{served}; {limit}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn docker_hubs_headers_give_the_pulls_left_and_the_window() {
        let facts = RelayFacts {
            access: Some(r#"anonymous-token; granted="repository:library/nginx:pull""#.into()),
            served_by: Some("registry".into()),
            rate_limit: Some("100;w=21600".into()),
            rate_remaining: Some("76;w=21600".into()),
        };
        assert_eq!(
            facts.availability_text().unwrap(),
            "served by the registry itself; rate limit: 76 of 100 pulls left per 6 h"
        );
        assert_eq!(
            facts.access_text().unwrap(),
            "pulled anonymously, with an anonymous token; token scope granted: repository:library/nginx:pull"
        );
        let mirror = RelayFacts {
            served_by: Some("mirror 127.0.0.1:5001".into()),
            ..RelayFacts::default()
        };
        assert_eq!(
            mirror.availability_text().unwrap(),
            "served from the mirror 127.0.0.1:5001 (--mirror); no rate-limit headers"
        );
        assert_eq!(RelayFacts::default().access_text(), None);
    }

    #[wasm_bindgen_test]
    fn a_harbor_token_service_is_read_beside_the_granted_scope() {
        let facts = RelayFacts {
            access: Some(
                r#"anonymous-token; granted="repository:lib/app:pull"; service="harbor-registry""#
                    .into(),
            ),
            ..RelayFacts::default()
        };
        assert_eq!(facts.token_service(), Some("harbor-registry"));
        assert_eq!(
            facts.access_text().unwrap(),
            "pulled anonymously, with an anonymous token; token scope granted: repository:lib/app:pull"
        );
        let open = RelayFacts {
            access: Some("anonymous".into()),
            ..RelayFacts::default()
        };
        assert_eq!(open.token_service(), None);
    }
}
