//! OCI labels and annotations that say where an image came from
//! (`org.opencontainers.image.source`, `.revision`, `.created`, `.version`, `.base.name`,
//! `.base.digest`), gathered with links: the source repository, the commit on its forge,
//! the base image pinned by digest.

use std::collections::BTreeMap;

use crate::Digest;

const PREFIX: &str = "org.opencontainers.image.";
/// The provenance keys, after `org.opencontainers.image.`, in display order.
pub const KEYS: [&str; 8] = [
    "source",
    "revision",
    "created",
    "version",
    "url",
    "vendor",
    "base.name",
    "base.digest",
];

/// Where a provenance value links to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelLink {
    /// Nothing to link.
    None,
    /// A web page (the repository, the commit).
    Url(String),
    /// An image to inspect in Strata: `name`, pinned when the digest is known.
    Image {
        /// Repository as written (`docker.io/library/debian`).
        name: String,
        /// Its digest, from `base.digest`.
        digest: Option<Digest>,
    },
}

/// One provenance label or annotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenanceLabel {
    /// The full key.
    pub key: String,
    /// The value.
    pub value: String,
    /// `label` (image config) or `annotation` (manifest or index).
    pub origin: &'static str,
    /// Its link.
    pub link: LabelLink,
}

/// Provenance keys from the config's labels and the manifest's annotations (annotations
/// first when both state a key with different values).
pub fn provenance_labels(
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> Vec<ProvenanceLabel> {
    let pick = |k: &str| -> Vec<(&'static str, String)> {
        let full = format!("{PREFIX}{k}");
        let mut out = Vec::new();
        if let Some(v) = annotations.get(&full) {
            out.push(("annotation", v.clone()));
        }
        if let Some(v) = labels.get(&full)
            && annotations.get(&full) != Some(v)
        {
            out.push(("label", v.clone()));
        }
        out
    };
    let source = pick("source").into_iter().next().map(|(_, v)| v);
    let base_digest = pick("base.digest")
        .into_iter()
        .find_map(|(_, v)| Digest::parse(&v).ok());
    let mut out = Vec::new();
    for k in KEYS {
        for (origin, value) in pick(k) {
            let link = match k {
                "source" | "url" => web_url(&value).map_or(LabelLink::None, LabelLink::Url),
                "revision" => source
                    .as_deref()
                    .and_then(|s| commit_url(s, &value))
                    .map_or(LabelLink::None, LabelLink::Url),
                "base.name" => LabelLink::Image {
                    name: value.split('@').next().unwrap_or(&value).to_owned(),
                    digest: base_digest.clone(),
                },
                _ => LabelLink::None,
            };
            out.push(ProvenanceLabel {
                key: format!("{PREFIX}{k}"),
                value,
                origin,
                link,
            });
        }
    }
    out
}

/// An `https` page for a repository URL (`git@github.com:o/r.git`, `https://…/r.git`).
pub fn web_url(repo: &str) -> Option<String> {
    let repo = repo.trim();
    let https = if let Some(rest) = repo.strip_prefix("git@") {
        let (host, path) = rest.split_once(':')?;
        format!("https://{host}/{path}")
    } else if let Some(rest) = repo.strip_prefix("git://") {
        format!("https://{rest}")
    } else if repo.starts_with("https://") || repo.starts_with("http://") {
        repo.to_owned()
    } else {
        return None;
    };
    Some(
        https
            .trim_end_matches('/')
            .trim_end_matches(".git")
            .to_owned(),
    )
}

/// The commit's page on GitHub, GitLab, Codeberg or Bitbucket; `None` elsewhere (the
/// repository may be private or unknown, and a wrong link is worse than none).
pub fn commit_url(repo: &str, commit: &str) -> Option<String> {
    if commit.is_empty() || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let web = web_url(repo)?;
    let host = web.strip_prefix("https://")?.split('/').next()?;
    match host {
        "github.com" | "codeberg.org" => Some(format!("{web}/commit/{commit}")),
        "gitlab.com" => Some(format!("{web}/-/commit/{commit}")),
        "bitbucket.org" => Some(format!("{web}/commits/{commit}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_source_revision_and_base() {
        let labels = BTreeMap::from([
            (
                format!("{PREFIX}source"),
                "https://github.com/o/r".to_owned(),
            ),
            (
                format!("{PREFIX}revision"),
                "d37a7f740ee7404914456f24dcd90e865a0509e8".to_owned(),
            ),
            (format!("{PREFIX}title"), "x".to_owned()),
        ]);
        let annotations = BTreeMap::from([
            (
                format!("{PREFIX}base.name"),
                "docker.io/library/debian:bookworm".to_owned(),
            ),
            (
                format!("{PREFIX}base.digest"),
                "sha256:072d78bc452a2998929a9579464e55067db4bf6d2c5f9cde582e33c10a415bd1"
                    .to_owned(),
            ),
        ]);
        let got = provenance_labels(&labels, &annotations);
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[0].link, LabelLink::Url("https://github.com/o/r".into()));
        assert_eq!(
            got[1].link,
            LabelLink::Url(
                "https://github.com/o/r/commit/d37a7f740ee7404914456f24dcd90e865a0509e8".into()
            )
        );
        assert!(
            matches!(&got[2].link, LabelLink::Image { name, digest: Some(_) } if name == "docker.io/library/debian:bookworm")
        );
        assert_eq!(got[2].origin, "annotation");
    }

    #[test]
    fn web_urls() {
        assert_eq!(
            web_url("git@github.com:o/r.git").as_deref(),
            Some("https://github.com/o/r")
        );
        assert_eq!(commit_url("https://example.com/r.git", "abc"), None);
        assert_eq!(commit_url("https://github.com/o/r.git", "main"), None);
        assert_eq!(web_url("/local/path"), None);
    }
}
