//! The distribution API's listing documents, and the repository a browse URL names.

use serde::Deserialize;

use crate::reference::{Reference, ReferenceError};

/// Why a listing could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid {what}: {source}")]
pub struct ListingError {
    /// `tag list` or `catalog`.
    pub what: &'static str,
    /// The JSON error.
    #[source]
    pub source: serde_json::Error,
}

/// `GET /v2/{name}/tags/list`: `{"name": …, "tags": […]}`. A repository without tags may
/// answer `"tags": null`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct TagList {
    /// The repository, as the registry names it.
    #[serde(default)]
    pub name: String,
    /// One page of tags, in the registry's order.
    #[serde(default, deserialize_with = "null_is_empty")]
    pub tags: Vec<String>,
}

impl TagList {
    /// Reads one page.
    pub fn parse(bytes: &[u8]) -> Result<TagList, ListingError> {
        serde_json::from_slice(bytes).map_err(|source| ListingError {
            what: "tag list",
            source,
        })
    }
}

/// `GET /v2/_catalog`: `{"repositories": […]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Catalog {
    /// One page of repository names.
    #[serde(default, deserialize_with = "null_is_empty")]
    pub repositories: Vec<String>,
}

impl Catalog {
    /// Reads one page.
    pub fn parse(bytes: &[u8]) -> Result<Catalog, ListingError> {
        serde_json::from_slice(bytes).map_err(|source| ListingError {
            what: "catalog",
            source,
        })
    }
}

fn null_is_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// The repository of a browse URL, `{registry}/{name}` (`docker.io/library/nginx`;
/// `docker.io/nginx` and a bare `nginx` read as `docker pull` reads them): a reference
/// without tag or digest.
pub fn parse_repository(path: &str) -> Result<Reference, ReferenceError> {
    let path = path.trim_matches('/');
    let last = path.rsplit('/').next().unwrap_or_default();
    if path.contains('@') || (path.contains('/') && last.contains(':')) {
        return Err(ReferenceError::InvalidFormat {
            input: path.to_owned(),
            reason: "a repository has no tag or digest",
        });
    }
    let mut reference = Reference::parse_normalized(path)?;
    if !path.contains('/') && path.contains(':') {
        return Err(ReferenceError::InvalidFormat {
            input: path.to_owned(),
            reason: "a repository has no tag or digest",
        });
    }
    reference.tag = None;
    Ok(reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_parse() {
        let page = TagList::parse(br#"{"name":"team/app","tags":["v1","a1"]}"#).unwrap();
        assert_eq!(page.tags, ["v1", "a1"]);
        assert!(
            TagList::parse(br#"{"name":"x","tags":null}"#)
                .unwrap()
                .tags
                .is_empty()
        );
        let catalog = Catalog::parse(br#"{"repositories":["c","team/app"]}"#).unwrap();
        assert_eq!(catalog.repositories, ["c", "team/app"]);
        let e = Catalog::parse(b"<html>").unwrap_err();
        assert!(e.to_string().starts_with("invalid catalog: "), "{e}");
    }

    #[test]
    fn repositories_of_urls() {
        let name = |p: &str| parse_repository(p).map(|r| (r.registry, r.repository, r.tag));
        assert_eq!(
            name("docker.io/library/nginx").unwrap(),
            ("docker.io".into(), "library/nginx".into(), None)
        );
        assert_eq!(name("docker.io/nginx").unwrap().1, "library/nginx");
        assert_eq!(name("nginx").unwrap().1, "library/nginx");
        assert_eq!(
            name("127.0.0.1:5000/team/app/").unwrap(),
            ("127.0.0.1:5000".into(), "team/app".into(), None)
        );
        for bad in [
            "",
            "docker.io/library/nginx:1.27",
            "nginx:1.27",
            "ghcr.io/a/b@sha256:abc",
            "ghcr.io/A/b",
            "ghcr.io/a//b",
        ] {
            assert!(parse_repository(bad).is_err(), "{bad}");
        }
    }
}
