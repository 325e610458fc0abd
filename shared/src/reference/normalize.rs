//! The docker CLI's reading of a reference (distribution's `normalize.go`).

use super::grammar::{is_identifier, parse_as};
use super::{ReferenceError, write_suffix};
use crate::digest::Digest;
use std::fmt;
use std::str::FromStr;

/// Docker Hub as users write it.
pub(super) const DEFAULT_DOMAIN: &str = "docker.io";
/// Docker Hub's legacy name ("the Docker Index"), normalized to [`DEFAULT_DOMAIN`].
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// Where Docker Hub's registry API answers.
const DEFAULT_API_HOST: &str = "registry-1.docker.io";
/// Namespace of Docker Hub's official images.
pub(super) const OFFICIAL_REPO_PREFIX: &str = "library/";
/// Tag added when neither tag nor digest is given.
const DEFAULT_TAG: &str = "latest";

/// A normalized image reference: always a registry, a repository, and a tag or a digest
/// (or both).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// Registry as written by users (`docker.io`, `ghcr.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// Repository path (`library/nginx`).
    pub repository: String,
    /// Tag, if any.
    pub tag: Option<String>,
    /// Digest, if any.
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses a reference as `docker pull` does (`ParseNormalizedNamed` then
    /// `TagNameOnly`): `nginx` → `docker.io/library/nginx:latest`,
    /// `index.docker.io/x/y` → `docker.io/x/y:latest`. The tag `latest` is added only when
    /// neither tag nor digest is present. A bare 64-hex identifier is refused, as docker
    /// does ("cannot specify 64-byte hexadecimal strings").
    pub fn parse_normalized(s: &str) -> Result<Reference, ReferenceError> {
        // docker reports "invalid reference format" for ""; the specific error is kinder.
        if s.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if is_identifier(s) {
            return Err(ReferenceError::HexIdentifier(s.to_owned()));
        }
        let (domain, remainder) = split_docker_domain(s);
        // Like docker, check case on everything before the first ':' of the remainder.
        let remote = remainder.split(':').next().unwrap_or_default();
        if remote.to_lowercase() != remote {
            return Err(ReferenceError::Uppercase(s.to_owned()));
        }
        let parsed = parse_as(&format!("{domain}/{remainder}"), s)?;
        // The grammar drops a domain it cannot read as a host (`foo_bar.com/app` is a
        // valid path on its own); docker would go on with an empty registry.
        let Some(registry) = parsed.domain else {
            return Err(ReferenceError::InvalidRegistry {
                input: s.to_owned(),
                registry: domain.to_owned(),
            });
        };
        let tag = match (parsed.tag, &parsed.digest) {
            (None, None) => Some(DEFAULT_TAG.to_owned()),
            (tag, _) => tag,
        };
        Ok(Reference {
            registry,
            repository: parsed.path,
            tag,
            digest: parsed.digest,
        })
    }

    /// Registry and repository: `docker.io/library/nginx`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The host that serves the registry API: `registry-1.docker.io` for `docker.io`,
    /// the registry itself otherwise.
    pub fn api_host(&self) -> &str {
        if self.registry == DEFAULT_DOMAIN {
            DEFAULT_API_HOST
        } else {
            &self.registry
        }
    }

    /// The short form docker prints (`FamiliarString`): `nginx:1.27`, `user/app:tag`,
    /// `ghcr.io/org/app:tag`. Like docker's, it can be ambiguous: `docker.io/localhost/x`
    /// prints as `localhost/x`, which reads back as registry `localhost`.
    pub fn familiar(&self) -> String {
        let name = if self.registry == DEFAULT_DOMAIN {
            match self.repository.strip_prefix(OFFICIAL_REPO_PREFIX) {
                Some(official) if !official.contains('/') => official.to_owned(),
                _ => self.repository.clone(),
            }
        } else {
            self.name()
        };
        let mut out = name;
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(&digest.to_string());
        }
        out
    }

    /// The same repository pinned to `digest`, without a tag: `name@digest`.
    pub fn pinned(&self, digest: Digest) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: Some(digest),
        }
    }

    /// What to ask the registry for in `/v2/{name}/manifests/{reference}`: the digest if
    /// present, else the tag (else `latest`, for a hand-built value with neither).
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => digest.to_string(),
            (None, Some(tag)) => tag.clone(),
            (None, None) => DEFAULT_TAG.to_owned(),
        }
    }
}

/// The full normalized form: `docker.io/library/nginx:1.27`, `…@sha256:…`,
/// `…:tag@sha256:…`.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        write_suffix(f, self.tag.as_deref(), self.digest.as_ref())
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    /// Same as [`Reference::parse_normalized`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse_normalized(s)
    }
}

/// Splits a reference as written into registry and the rest (distribution's
/// `splitDockerDomain`). The first component is a registry only if it is `localhost`,
/// contains `.` or `:`, or has uppercase letters (namespaces cannot); otherwise the image
/// is on Docker Hub, where one-component names live under `library/`.
fn split_docker_domain(name: &str) -> (&str, String) {
    let Some((first, rest)) = name.split_once('/') else {
        return (DEFAULT_DOMAIN, format!("{OFFICIAL_REPO_PREFIX}{name}"));
    };
    let (domain, remote) = if first == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN, rest)
    } else if first == "localhost" || first.contains(['.', ':']) || first.to_lowercase() != first {
        (first, rest)
    } else {
        (DEFAULT_DOMAIN, name)
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        (domain, format!("{OFFICIAL_REPO_PREFIX}{remote}"))
    } else {
        (domain, remote.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::DigestError;

    const DBCC: &str = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";
    const HEX64: &str = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";

    fn parse(s: &str) -> Reference {
        Reference::parse_normalized(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn reference_normalizes_like_docker() {
        // (input, Display of the normalized reference); from normalize_test.go's
        // TestValidateReferenceName, TestParseAnyReference and TestNormalizedSplitHostname.
        let song = "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev";
        let cases: Vec<(String, String)> = [
            ("ubuntu", "docker.io/library/ubuntu:latest"),
            ("nginx:1.27", "docker.io/library/nginx:1.27"),
            ("redis:latest", "docker.io/library/redis:latest"),
            ("docker.io/ubuntu", "docker.io/library/ubuntu:latest"),
            (
                "docker.io/library/ubuntu",
                "docker.io/library/ubuntu:latest",
            ),
            ("index.docker.io/ubuntu", "docker.io/library/ubuntu:latest"),
            (
                "index.docker.io/library/debian",
                "docker.io/library/debian:latest",
            ),
            (
                "index.docker.io/docker/docker",
                "docker.io/docker/docker:latest",
            ),
            ("library/debian", "docker.io/library/debian:latest"),
            ("docker/docker", "docker.io/docker/docker:latest"),
            ("test_com/foo", "docker.io/test_com/foo:latest"),
            ("dmcgowan/myapp:1", "docker.io/dmcgowan/myapp:1"),
            (
                "docker.io/mcgowan/myapp:latest",
                "docker.io/mcgowan/myapp:latest",
            ),
            ("localhost/x", "localhost/x:latest"),
            ("localhost:5000/x", "localhost:5000/x:latest"),
            ("test.com:8080/foo", "test.com:8080/foo:latest"),
            ("test-com:8080/foo", "test-com:8080/foo:latest"),
            ("xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo:latest"),
            (
                "127.0.0.1:5000/library/debian",
                "127.0.0.1:5000/library/debian:latest",
            ),
            ("127.0.0.1:5000/debian", "127.0.0.1:5000/debian:latest"),
            ("192.168.0.1", "docker.io/library/192.168.0.1:latest"),
            ("192.168.0.1:80", "docker.io/library/192.168.0.1:80"),
            ("192.168.0.1:8/debian", "192.168.0.1:8/debian:latest"),
            ("[fc00::1]:5000/docker", "[fc00::1]:5000/docker:latest"),
            (
                "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
                "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest",
            ),
            ("ghcr.io/org/app:tag", "ghcr.io/org/app:tag"),
            ("Docker/docker", "Docker/docker:latest"),
            ("DOCKER/docker", "DOCKER/docker:latest"),
            (
                "docker.io/library/foo/bar",
                "docker.io/library/foo/bar:latest",
            ),
            (
                "docker---rules/docker",
                "docker.io/docker---rules/docker:latest",
            ),
            ("dock__er/docker", "docker.io/dock__er/docker:latest"),
            ("d/docker", "docker.io/d/docker:latest"),
            ("dbcc1", "docker.io/library/dbcc1:latest"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .chain([
            // A 64-hex name is fine once a registry makes it unambiguous.
            (
                format!("docker.io/{HEX64}"),
                format!("docker.io/library/{HEX64}:latest"),
            ),
            // 64 characters, but not hex: allowed.
            (song.to_owned(), format!("docker.io/library/{song}:latest")),
            // 63 hex characters are not an identifier.
            (
                HEX64[1..].to_owned(),
                format!("docker.io/library/{}:latest", &HEX64[1..]),
            ),
            // A digest suppresses the default tag; tag and digest together are kept.
            (
                format!("redis@{DBCC}"),
                format!("docker.io/library/redis@{DBCC}"),
            ),
            (
                format!("dmcgowan/myapp@{DBCC}"),
                format!("docker.io/dmcgowan/myapp@{DBCC}"),
            ),
            (
                format!("busybox:latest@{DBCC}"),
                format!("docker.io/library/busybox:latest@{DBCC}"),
            ),
        ])
        .collect();
        for (input, full) in cases {
            let r = parse(&input);
            assert_eq!(r.to_string(), full, "{input:?}");
            assert_eq!(parse(&full), r, "{full:?} re-parses to the same reference");
            assert_eq!(input.parse::<Reference>().unwrap(), r);
        }
    }

    #[test]
    fn reference_repository_info() {
        // normalize_test.go TestParseRepositoryInfo:
        // (remote name, familiar name, full name, ambiguous name, domain)
        for (remote, familiar, full, ambiguous, domain) in [
            (
                "fooo/bar",
                "fooo/bar",
                "docker.io/fooo/bar",
                "index.docker.io/fooo/bar",
                "docker.io",
            ),
            (
                "library/ubuntu",
                "ubuntu",
                "docker.io/library/ubuntu",
                "library/ubuntu",
                "docker.io",
            ),
            (
                "nonlibrary/ubuntu",
                "nonlibrary/ubuntu",
                "docker.io/nonlibrary/ubuntu",
                "",
                "docker.io",
            ),
            (
                "other/library",
                "other/library",
                "docker.io/other/library",
                "",
                "docker.io",
            ),
            (
                "private/moonbase",
                "127.0.0.1:8000/private/moonbase",
                "127.0.0.1:8000/private/moonbase",
                "",
                "127.0.0.1:8000",
            ),
            (
                "privatebase",
                "127.0.0.1:8000/privatebase",
                "127.0.0.1:8000/privatebase",
                "",
                "127.0.0.1:8000",
            ),
            (
                "private/moonbase",
                "example.com/private/moonbase",
                "example.com/private/moonbase",
                "",
                "example.com",
            ),
            (
                "privatebase",
                "example.com/privatebase",
                "example.com/privatebase",
                "",
                "example.com",
            ),
            (
                "private/moonbase",
                "example.com:8000/private/moonbase",
                "example.com:8000/private/moonbase",
                "",
                "example.com:8000",
            ),
            (
                "privatebasee",
                "example.com:8000/privatebasee",
                "example.com:8000/privatebasee",
                "",
                "example.com:8000",
            ),
            (
                "library/ubuntu-12.04-base",
                "ubuntu-12.04-base",
                "docker.io/library/ubuntu-12.04-base",
                "index.docker.io/library/ubuntu-12.04-base",
                "docker.io",
            ),
            (
                "library/foo",
                "foo",
                "docker.io/library/foo",
                "docker.io/foo",
                "docker.io",
            ),
            (
                "library/foo/bar",
                "library/foo/bar",
                "docker.io/library/foo/bar",
                "",
                "docker.io",
            ),
            (
                "store/foo/bar",
                "store/foo/bar",
                "docker.io/store/foo/bar",
                "",
                "docker.io",
            ),
            ("bar", "Foo/bar", "Foo/bar", "", "Foo"),
            ("bar", "FOO/bar", "FOO/bar", "", "FOO"),
        ] {
            for input in [familiar, full, ambiguous]
                .into_iter()
                .filter(|s| !s.is_empty())
            {
                let r = parse(input);
                assert_eq!(r.repository, remote, "{input}");
                assert_eq!(r.registry, domain, "{input}");
                assert_eq!(r.name(), full, "{input}");
                assert_eq!(r.familiar(), format!("{familiar}:latest"), "{input}");
            }
        }
    }

    #[test]
    fn reference_rejects_what_docker_rejects() {
        let long_namespace = format!("{}/docker", "this_is_not_a_valid_namespace".repeat(9));
        for input in [
            "https://github.com/docker/docker",
            "docker/Docker",
            "-docker",
            "-docker/docker",
            "-docker.io/docker/docker",
            "docker///docker",
            "docker.io/docker/Docker",
            "docker.io/docker///docker",
            "[fc00::1]",
            "[fc00::1]:5000",
            "fc00::1:5000/debian",
            "[fe80::1%eth0]:5000/debian",
            "[2001:db8:3:4::192.0.2.33]:5000/debian",
            HEX64,
            "docker-/docker",
            "-docker-/docker",
            "____/____",
            "_docker/_docker",
            "dock..er/docker",
            "dock_.er/docker",
            "dock-.er/docker",
            "docker/",
            "-foo",
            "",
            ":tag",
            "nginx:",
            "nginx@",
            &long_namespace,
        ] {
            assert!(
                Reference::parse_normalized(input).is_err(),
                "{input:?} must be refused"
            );
        }
    }

    #[test]
    fn reference_error_variants_and_messages() {
        let err = |s: &str| Reference::parse_normalized(s).unwrap_err();

        let e = err("Nginx:latest");
        assert_eq!(e, ReferenceError::Uppercase("Nginx:latest".into()));
        assert_eq!(
            e.to_string(),
            r#"invalid reference "Nginx:latest": repository name must be lowercase"#
        );
        assert!(
            matches!(err("ghcr.io/Org/app"), ReferenceError::Uppercase(s) if s == "ghcr.io/Org/app")
        );

        let e = err(HEX64);
        assert_eq!(e, ReferenceError::HexIdentifier(HEX64.into()));
        assert!(
            e.to_string()
                .contains("cannot specify 64-byte hexadecimal strings"),
            "{e}"
        );

        let short = format!("nginx@sha256:{}", "f".repeat(40));
        let e = err(&short);
        let ReferenceError::Digest { input, problem } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(input, &short);
        assert!(
            matches!(
                problem,
                DigestError::BadLength {
                    expected: 64,
                    actual: 40,
                    ..
                }
            ),
            "{problem:?}"
        );
        assert!(
            e.to_string()
                .contains("sha256 needs 64 hex characters, got 40"),
            "{e}"
        );
        assert!(
            e.to_string()
                .starts_with(&format!("invalid reference {short:?}")),
            "{e}"
        );

        let e = err(&format!("nginx@sha512:{}", "f".repeat(64)));
        assert!(
            e.to_string()
                .contains("sha512 needs 128 hex characters, got 64"),
            "{e}"
        );

        // Shorter than the grammar's 32 hex digits: a format error, as in docker.
        assert!(matches!(
            err("nginx@sha256:abc"),
            ReferenceError::InvalidFormat { .. }
        ));

        // "library/" counts towards the 255 characters.
        let e = err(&"a".repeat(250));
        assert!(
            matches!(e, ReferenceError::NameTooLong { length: 258, .. }),
            "{e:?}"
        );
        assert_eq!(parse(&"a".repeat(247)).repository.len(), 255);

        assert_eq!(err(""), ReferenceError::Empty);

        // docker accepts this with an empty domain and fails later; we say why now.
        let e = err("foo_bar.com/app");
        assert_eq!(
            e,
            ReferenceError::InvalidRegistry {
                input: "foo_bar.com/app".into(),
                registry: "foo_bar.com".into()
            }
        );

        // Errors name what the user typed, not the normalized string.
        let e = err("ubuntu:-bad");
        assert!(
            e.to_string()
                .starts_with(r#"invalid reference "ubuntu:-bad""#),
            "{e}"
        );
    }

    #[test]
    fn reference_accessors() {
        let r = parse("nginx:1.27");
        assert_eq!(r.registry, "docker.io");
        assert_eq!(r.repository, "library/nginx");
        assert_eq!(r.name(), "docker.io/library/nginx");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(r.familiar(), "nginx:1.27");
        assert_eq!(r.manifest_reference(), "1.27");

        let digest = Digest::parse(DBCC).unwrap();
        let pinned = r.pinned(digest.clone());
        assert_eq!(
            pinned.to_string(),
            format!("docker.io/library/nginx@{DBCC}")
        );
        assert_eq!(pinned.tag, None);
        assert_eq!(pinned.manifest_reference(), DBCC);
        assert_eq!(pinned.familiar(), format!("nginx@{DBCC}"));
        assert_eq!(parse(&pinned.to_string()), pinned);

        let both = parse(&format!("busybox:1@{DBCC}"));
        assert_eq!(both.manifest_reference(), DBCC, "the digest wins");
        assert_eq!(both.familiar(), format!("busybox:1@{DBCC}"));

        let ghcr = parse("ghcr.io/org/app:tag");
        assert_eq!(ghcr.api_host(), "ghcr.io");
        assert_eq!(ghcr.familiar(), "ghcr.io/org/app:tag");
        assert_eq!(parse("127.0.0.1:5000/x").api_host(), "127.0.0.1:5000");
        assert_eq!(parse("user/app").familiar(), "user/app:latest");
        assert_eq!(
            parse("docker.io/library/a/b").familiar(),
            "library/a/b:latest"
        );

        let bare = Reference {
            tag: None,
            digest: None,
            ..r
        };
        assert_eq!(bare.manifest_reference(), "latest");
    }

    /// The fuzz target's property over a deterministic stream of small strings built from
    /// the characters that matter to the grammar.
    #[test]
    fn reference_round_trip_property() {
        const ALPHABET: &[u8] = b"ab09Z.:_-/@[]%sha256f";
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut accepted = 0;
        for _ in 0..200_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let len = (state >> 59) as usize; // 0..=31
            let mut s = String::with_capacity(len);
            let mut x = state;
            for _ in 0..len {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                s.push(ALPHABET[(x >> 33) as usize % ALPHABET.len()] as char);
            }
            if let Ok(p) = super::super::parse_strict(&s) {
                accepted += 1;
                assert_eq!(p.to_string(), s);
            }
            if let Ok(r) = Reference::parse_normalized(&s) {
                assert_eq!(parse(&r.to_string()), r, "{s:?}");
            }
        }
        assert!(accepted > 100, "only {accepted} accepted");
    }
}
