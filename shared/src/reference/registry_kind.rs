//! Which registry a reference points at, as far as its name tells: what the image page's
//! distribution facts say about where an image is published.

use super::Reference;
use super::normalize::{DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX};

/// Quay, as references (and its web pages) name it.
pub const QUAY_HOST: &str = "quay.io";
/// GitHub's container registry.
pub const GHCR_HOST: &str = "ghcr.io";

/// The kind of registry a reference names. A Harbor instance is not told apart from any
/// other self-hosted registry: its name does not say (its `/api/v2.0/systeminfo` would).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryKind {
    /// A Docker Hub official image (`library/…`).
    DockerHubOfficial,
    /// A Docker Hub user or organization namespace.
    DockerHubNamespace(String),
    /// Quay.io, with the organization.
    Quay(String),
    /// GHCR, with the owner.
    Ghcr(String),
    /// Any other registry: self-hosted, private, or one this list does not know.
    Other(String),
}

impl Reference {
    /// The kind of registry this reference names.
    pub fn registry_kind(&self) -> RegistryKind {
        let owner = || {
            self.repository
                .split('/')
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        match self.registry.as_str() {
            DEFAULT_DOMAIN if self.repository.starts_with(OFFICIAL_REPO_PREFIX) => {
                RegistryKind::DockerHubOfficial
            }
            DEFAULT_DOMAIN => RegistryKind::DockerHubNamespace(owner()),
            QUAY_HOST => RegistryKind::Quay(owner()),
            GHCR_HOST => RegistryKind::Ghcr(owner()),
            other => RegistryKind::Other(other.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(reference: &str) -> RegistryKind {
        Reference::parse_normalized(reference)
            .unwrap()
            .registry_kind()
    }

    #[test]
    fn kinds_follow_the_normalized_name() {
        assert_eq!(kind("nginx"), RegistryKind::DockerHubOfficial);
        assert_eq!(
            kind(&format!("{DEFAULT_DOMAIN}/library/nginx:1")),
            RegistryKind::DockerHubOfficial
        );
        assert_eq!(
            kind("bitnami/nginx"),
            RegistryKind::DockerHubNamespace("bitnami".into())
        );
        assert_eq!(
            kind(&format!("{QUAY_HOST}/org/app:v1")),
            RegistryKind::Quay("org".into())
        );
        assert_eq!(
            kind(&format!(
                "{GHCR_HOST}/owner/tool/sub@sha256:{}",
                "a".repeat(64)
            )),
            RegistryKind::Ghcr("owner".into())
        );
        assert_eq!(
            kind("127.0.0.1:5000/team/app"),
            RegistryKind::Other("127.0.0.1:5000".into())
        );
        // Only the host decides: a namespace that looks like another registry does not.
        assert_eq!(
            kind("localhost/library/x"),
            RegistryKind::Other("localhost".into())
        );
    }
}
