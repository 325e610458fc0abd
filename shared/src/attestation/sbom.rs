//! An SBOM as Strata shows it, whatever format it came in: packages (name, version, type,
//! license, purl) and the files each claims, as absolute paths in the image.

use std::collections::BTreeMap;

use super::purl::Purl;

/// The format an SBOM was written in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SbomFormat {
    /// SPDX JSON, with its version (`SPDX-2.3`).
    Spdx(String),
    /// CycloneDX JSON, with its spec version (`1.5`).
    CycloneDx(String),
}

/// A software bill of materials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sbom {
    /// Format and version.
    pub format: SbomFormat,
    /// The document's name.
    pub name: String,
    /// Tools and organizations that made it.
    pub creators: Vec<String>,
    /// When it was made.
    pub created: Option<String>,
    /// Packages, in document order.
    pub packages: Vec<Package>,
}

/// One package of an SBOM.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Package {
    /// The document's id for it (`SPDXRef-…` or CycloneDX `bom-ref`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its version, if stated.
    pub version: Option<String>,
    /// The package type, from the purl (`deb`, `apk`, `npm`, …), else the SBOM's own.
    pub kind: String,
    /// The license (concluded, else declared), if stated.
    pub license: Option<String>,
    /// The package URL.
    pub purl: Option<String>,
    /// Files it claims: absolute paths, sorted, without duplicates.
    pub files: Vec<String>,
}

impl Package {
    /// Builds a package, deriving its type from the purl.
    pub(crate) fn new(
        id: String,
        name: String,
        version: Option<String>,
        fallback_kind: Option<String>,
        license: Option<String>,
        purl: Option<String>,
    ) -> Package {
        let kind = purl
            .as_deref()
            .and_then(Purl::parse)
            .map(|p| p.ty)
            .or(fallback_kind)
            .unwrap_or_else(|| "unknown".into());
        Package {
            id,
            name,
            version: version.filter(|v| !v.is_empty()),
            kind,
            license,
            purl,
            files: Vec::new(),
        }
    }
}

impl Sbom {
    /// For every path some package claims, the indexes of those packages.
    pub fn file_owners(&self) -> BTreeMap<&str, Vec<usize>> {
        let mut out: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, p) in self.packages.iter().enumerate() {
            for f in &p.files {
                out.entry(f.as_str()).or_default().push(i);
            }
        }
        out
    }

    /// The packages that claim `path` (with or without its leading `/`).
    pub fn packages_of_file(&self, path: &str) -> Vec<&Package> {
        let path = normalize_path(path);
        self.packages
            .iter()
            .filter(|p| p.files.binary_search(&path).is_ok())
            .collect()
    }

    /// Packages named `name` (an SBOM may list one name at several versions).
    pub fn packages_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Package> + 'a {
        self.packages.iter().filter(move |p| p.name == name)
    }
}

/// `usr/bin/x`, `./usr/bin/x` and `/usr/bin/x` all become `/usr/bin/x`.
pub fn normalize_path(path: &str) -> String {
    let trimmed = path.trim().trim_start_matches("./").trim_start_matches('/');
    format!("/{trimmed}")
}

/// A license value, unless it says nothing (`NOASSERTION`, `NONE`, empty).
pub(crate) fn meaningful_license(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty() && s != "NOASSERTION" && s != "NONE").then(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_and_kind_comes_from_purl() {
        assert_eq!(normalize_path("./usr/bin/x"), "/usr/bin/x");
        assert_eq!(normalize_path("usr/bin/x"), "/usr/bin/x");
        assert_eq!(normalize_path("/usr/bin/x"), "/usr/bin/x");
        let p = Package::new(
            "a".into(),
            "musl".into(),
            Some(String::new()),
            None,
            None,
            Some("pkg:apk/alpine/musl@1.2".into()),
        );
        assert_eq!((p.kind.as_str(), p.version), ("apk", None));
        assert_eq!(meaningful_license("NOASSERTION"), None);
    }
}
