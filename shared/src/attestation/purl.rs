//! Package URLs (`pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS#SUBPATH`, package-url/purl-spec):
//! SBOMs name packages with them, and BuildKit names base images with `pkg:docker/...`.

use std::collections::BTreeMap;

use crate::Digest;

/// A parsed package URL, components percent-decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purl {
    /// The package type (`deb`, `apk`, `npm`, `golang`, `docker`, …), lowercased.
    pub ty: String,
    /// Namespace segments joined with `/` (`debian`, `ghcr.io/owner`), if any.
    pub namespace: Option<String>,
    /// The package name.
    pub name: String,
    /// The version, if any.
    pub version: Option<String>,
    /// Qualifiers (`arch`, `distro`, `digest`, `platform`, …).
    pub qualifiers: BTreeMap<String, String>,
    /// The subpath, if any.
    pub subpath: Option<String>,
}

/// An image named by a `pkg:docker/...` purl.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DockerImage {
    /// The repository as written (`golang`, `gcr.io/distroless/static`).
    pub name: String,
    /// A tag, when the purl's version is not a digest.
    pub tag: Option<String>,
    /// The digest, from the `digest` qualifier or a digest version.
    pub digest: Option<Digest>,
    /// The `platform` qualifier (`linux/amd64`).
    pub platform: Option<String>,
}

impl Purl {
    /// Parses a purl; `None` when it is not one.
    pub fn parse(input: &str) -> Option<Purl> {
        let rest = input.trim().strip_prefix("pkg:")?.trim_start_matches('/');
        let (rest, subpath) = match rest.split_once('#') {
            Some((r, s)) => (r, Some(decode(s.trim_matches('/')))),
            None => (rest, None),
        };
        let (rest, qualifiers) = match rest.split_once('?') {
            Some((r, q)) => (r, parse_qualifiers(q)),
            None => (rest, BTreeMap::new()),
        };
        let (ty, path) = rest.split_once('/')?;
        let path = path.trim_matches('/');
        let (path, version) = match path.rsplit_once('@') {
            Some((p, v)) if !v.is_empty() => (p, Some(decode(v))),
            _ => (path, None),
        };
        let (namespace, name) = match path.rsplit_once('/') {
            Some((ns, n)) => (
                Some(ns.split('/').map(decode).collect::<Vec<_>>().join("/")),
                n,
            ),
            None => (None, path),
        };
        if ty.is_empty() || name.is_empty() {
            return None;
        }
        Some(Purl {
            ty: ty.to_ascii_lowercase(),
            namespace,
            name: decode(name),
            version,
            qualifiers,
            subpath,
        })
    }

    /// The image a `pkg:docker/...` purl names.
    pub fn docker_image(&self) -> Option<DockerImage> {
        if self.ty != "docker" && self.ty != "oci" {
            return None;
        }
        let name = match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        };
        let version_digest = self.version.as_deref().and_then(|v| Digest::parse(v).ok());
        let digest = self
            .qualifiers
            .get("digest")
            .and_then(|d| Digest::parse(d).ok())
            .or(version_digest.clone());
        let tag = match version_digest {
            Some(_) => None,
            None => self.version.clone(),
        };
        Some(DockerImage {
            name,
            tag,
            digest,
            platform: self.qualifiers.get("platform").cloned(),
        })
    }
}

impl DockerImage {
    /// `name@digest` (else `name:tag`, else `name`): what to open in Strata.
    pub fn reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => format!("{}@{d}", self.name),
            (None, Some(t)) => format!("{}:{t}", self.name),
            (None, None) => self.name.clone(),
        }
    }
}

fn parse_qualifiers(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k).to_ascii_lowercase(), decode(v)))
        .collect()
}

/// Percent-decoding; malformed escapes are kept as written.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_package_purls() {
        let p = Purl::parse("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12")
            .unwrap();
        assert_eq!(p.ty, "deb");
        assert_eq!(p.namespace.as_deref(), Some("debian"));
        assert_eq!(p.name, "libc6");
        assert_eq!(p.version.as_deref(), Some("2.36-9+deb12u4"));
        assert_eq!(p.qualifiers["arch"], "amd64");
        let go = Purl::parse("pkg:golang/github.com/caarlos0/env@v11.3.1#v11").unwrap();
        assert_eq!(go.namespace.as_deref(), Some("github.com/caarlos0"));
        assert_eq!(go.subpath.as_deref(), Some("v11"));
        let npm = Purl::parse("pkg:npm/%40types/node@20.1.0").unwrap();
        assert_eq!(npm.namespace.as_deref(), Some("@types"));
        for bad in ["", "pkg:", "pkg:deb", "deb/debian/x", "pkg:/x"] {
            assert!(Purl::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn docker_purls_name_images() {
        let p = Purl::parse(
            "pkg:docker/gcr.io/distroless/static?digest=sha256:072d78bc452a2998929a9579464e55067db4bf6d2c5f9cde582e33c10a415bd1&platform=linux%2Famd64",
        )
        .unwrap();
        let img = p.docker_image().unwrap();
        assert_eq!(img.name, "gcr.io/distroless/static");
        assert_eq!(img.platform.as_deref(), Some("linux/amd64"));
        assert_eq!(
            img.reference(),
            "gcr.io/distroless/static@sha256:072d78bc452a2998929a9579464e55067db4bf6d2c5f9cde582e33c10a415bd1"
        );
        let tagged = Purl::parse("pkg:docker/golang@1.21")
            .unwrap()
            .docker_image()
            .unwrap();
        assert_eq!(
            (tagged.name.as_str(), tagged.tag.as_deref()),
            ("golang", Some("1.21"))
        );
        assert!(
            Purl::parse("pkg:deb/debian/x")
                .unwrap()
                .docker_image()
                .is_none()
        );
    }
}
