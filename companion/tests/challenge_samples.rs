//! Every real `WWW-Authenticate` value in tests/data parses to what the registry meant.

use strata_companion::auth::challenge::{self, BearerChallenge};

#[test]
fn real_samples_parse() {
    let text = include_str!("data/www-authenticate-samples.txt");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 7);
    // (scheme, realm, service, scope) per line, in file order.
    let want: [(&str, &str, Option<&str>, Option<&str>); 7] = [
        (
            "Bearer",
            "https://auth.docker.io/token",
            Some("registry.docker.io"),
            None,
        ),
        ("Bearer", "https://quay.io/v2/auth", Some("quay.io"), None),
        (
            "Bearer",
            "https://registry.suse.com/auth",
            Some("SUSE Linux Docker Registry"),
            Some("registry:catalog:*"),
        ),
        ("Basic", "GitHub Package Registry", None, None),
        (
            "Basic",
            "https://123456789.dkr.ecr.eu-central-1.amazonaws.com/",
            Some("ecr.amazonaws.com"),
            None,
        ),
        (
            "Bearer",
            "https://public.ecr.aws/token/",
            Some("public.ecr.aws"),
            Some("aws"),
        ),
        (
            "Bearer",
            "https://myregistry.azurecr.io/oauth2/token",
            Some("myregistry.azurecr.io"),
            Some("repository:library/hello-world:metadata_read"),
        ),
    ];
    for (line, (scheme, realm, service, scope)) in lines.iter().zip(want) {
        let parsed = challenge::parse(line);
        assert_eq!(parsed.len(), 1, "{line}");
        let c = &parsed[0];
        assert!(c.is(scheme), "{line}");
        assert_eq!(c.param("realm"), Some(realm), "{line}");
        assert_eq!(c.param("service"), service, "{line}");
        assert_eq!(c.param("scope"), scope, "{line}");
        if scheme == "Bearer" {
            let b = BearerChallenge::find(&parsed).unwrap();
            assert_eq!(
                (b.realm.as_str(), b.service.as_deref(), b.scope.as_deref()),
                (realm, service, scope)
            );
        } else {
            assert!(BearerChallenge::find(&parsed).is_none());
        }
    }
    // SUSE's line also carries error="insufficient_scope".
    assert_eq!(
        challenge::parse(lines[2])[0].param("error"),
        Some("insufficient_scope")
    );
}

#[test]
fn all_samples_in_one_header() {
    // Several challenges in one header value, joined by commas.
    let text = include_str!("data/www-authenticate-samples.txt");
    let joined = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let parsed = challenge::parse(&joined);
    assert_eq!(parsed.len(), 7, "{parsed:#?}");
    assert_eq!(
        BearerChallenge::find(&parsed).unwrap().realm,
        "https://auth.docker.io/token"
    );
}
