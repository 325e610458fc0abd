//! SBOM packages of two images compared: added, removed, changed in version.
//!
//! A package is matched by its purl without version, qualifiers or subpath
//! (`pkg:deb/debian/libc6`: the `arch` and `distro` qualifiers differ between platforms
//! and releases of the same package), else by type and name. A key listed at several
//! versions on a side (vendored copies) is matched version by version: common versions
//! are `same`, the rest paired by longest common version prefix as `changed`, the leftovers `added` or
//! `removed`.

use std::collections::BTreeMap;

use super::Change;
use crate::attestation::{Package, Purl, Sbom};

/// One package on both sides.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PackageRow {
    /// What changed.
    pub change: Change,
    /// The matching key (`pkg:TYPE/NAMESPACE/NAME` or `TYPE/NAME`).
    pub key: String,
    /// Package name.
    pub name: String,
    /// Package type (`deb`, `apk`, `npm`, …).
    pub kind: String,
    /// A's version (`None` when added, or when A states none).
    pub a_version: Option<String>,
    /// B's version.
    pub b_version: Option<String>,
}

/// Two SBOMs compared.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PackageDiff {
    /// Rows sorted by key, then versions.
    pub rows: Vec<PackageRow>,
    /// Packages only in B.
    pub added: u64,
    /// Packages only in A.
    pub removed: u64,
    /// Packages in both at another version.
    pub changed: u64,
    /// Packages in both at the same version.
    pub same: u64,
}

/// The key a package is matched by.
pub fn package_key(p: &Package) -> String {
    match p.purl.as_deref().and_then(Purl::parse) {
        Some(u) => match &u.namespace {
            Some(ns) => format!("pkg:{}/{}/{}", u.ty, ns, u.name),
            None => format!("pkg:{}/{}", u.ty, u.name),
        },
        None => format!("{}/{}", p.kind, p.name),
    }
}

/// Compares the packages of A's and B's SBOMs.
pub fn diff_packages(a: &Sbom, b: &Sbom) -> PackageDiff {
    diff_package_lists(&a.packages, &b.packages)
}

/// Compares two package lists (from any number of SBOMs per side).
pub fn diff_package_lists(a: &[Package], b: &[Package]) -> PackageDiff {
    type Group<'a> = (Vec<&'a Package>, Vec<&'a Package>);
    let mut groups: BTreeMap<String, Group<'_>> = BTreeMap::new();
    for p in a {
        groups.entry(package_key(p)).or_default().0.push(p);
    }
    for p in b {
        groups.entry(package_key(p)).or_default().1.push(p);
    }
    let mut out = PackageDiff::default();
    for (key, (mut pa, mut pb)) in groups {
        let version = |p: &&Package| p.version.clone();
        pa.sort_by_key(version);
        pb.sort_by_key(version);
        pa.dedup_by_key(|p| p.version.clone());
        pb.dedup_by_key(|p| p.version.clone());
        // Versions on both sides are the same package.
        let (only_a, only_b): (Vec<&Package>, Vec<&Package>) = (
            pa.iter()
                .filter(|x| !pb.iter().any(|y| y.version == x.version))
                .copied()
                .collect(),
            pb.iter()
                .filter(|y| !pa.iter().any(|x| x.version == y.version))
                .copied()
                .collect(),
        );
        let row = |change, p: &Package, va: Option<&Package>, vb: Option<&Package>| PackageRow {
            change,
            key: key.clone(),
            name: p.name.clone(),
            kind: p.kind.clone(),
            a_version: va.and_then(|x| x.version.clone()),
            b_version: vb.and_then(|x| x.version.clone()),
        };
        for x in pa
            .iter()
            .filter(|x| pb.iter().any(|y| y.version == x.version))
        {
            out.rows.push(row(Change::Same, x, Some(x), Some(x)));
            out.same += 1;
        }
        // Pair each old version with the new one sharing its longest prefix (4.17.20 goes
        // with 4.17.21, not 2.0).
        let mut used = vec![false; only_b.len()];
        for x in &only_a {
            let best = (0..only_b.len()).filter(|&j| !used[j]).max_by_key(|&j| {
                (
                    common_prefix(&x.version, &only_b[j].version),
                    usize::MAX - j,
                )
            });
            match best {
                Some(j) => {
                    used[j] = true;
                    out.rows
                        .push(row(Change::Changed, only_b[j], Some(x), Some(only_b[j])));
                    out.changed += 1;
                }
                None => {
                    out.rows.push(row(Change::Removed, x, Some(x), None));
                    out.removed += 1;
                }
            }
        }
        for y in only_b
            .iter()
            .zip(&used)
            .filter(|(_, u)| !**u)
            .map(|(y, _)| y)
        {
            out.rows.push(row(Change::Added, y, None, Some(y)));
            out.added += 1;
        }
    }
    out
}

fn common_prefix(a: &Option<String>, b: &Option<String>) -> usize {
    let (a, b) = (a.as_deref().unwrap_or(""), b.as_deref().unwrap_or(""));
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, version: &str, purl: Option<&str>) -> Package {
        Package {
            id: name.into(),
            name: name.into(),
            version: Some(version.into()),
            kind: purl.map_or("python", |_| "deb").into(),
            purl: purl.map(Into::into),
            ..Package::default()
        }
    }

    #[test]
    fn added_removed_changed_by_purl_then_name() {
        let a = [
            pkg(
                "libc6",
                "2.36-9",
                Some("pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12"),
            ),
            pkg("curl", "7.88", Some("pkg:deb/debian/curl@7.88?arch=amd64")),
            pkg("gone", "1", Some("pkg:deb/debian/gone@1")),
            pkg("requests", "2.31", None),
        ];
        let b = [
            pkg(
                "libc6",
                "2.36-9",
                Some("pkg:deb/debian/libc6@2.36-9?arch=arm64&distro=debian-12"),
            ),
            pkg("curl", "8.5", Some("pkg:deb/debian/curl@8.5?arch=arm64")),
            pkg("jq", "1.7", Some("pkg:deb/debian/jq@1.7")),
            pkg("requests", "2.32", None),
        ];
        let d = diff_package_lists(&a, &b);
        let rows: Vec<_> = d
            .rows
            .iter()
            .map(|r| {
                (
                    r.key.as_str(),
                    r.change,
                    r.a_version.as_deref(),
                    r.b_version.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "pkg:deb/debian/curl",
                    Change::Changed,
                    Some("7.88"),
                    Some("8.5")
                ),
                ("pkg:deb/debian/gone", Change::Removed, Some("1"), None),
                ("pkg:deb/debian/jq", Change::Added, None, Some("1.7")),
                (
                    "pkg:deb/debian/libc6",
                    Change::Same,
                    Some("2.36-9"),
                    Some("2.36-9")
                ),
                (
                    "python/requests",
                    Change::Changed,
                    Some("2.31"),
                    Some("2.32")
                ),
            ]
        );
        assert_eq!((d.added, d.removed, d.changed, d.same), (1, 1, 2, 1));
    }

    #[test]
    fn several_versions_of_one_key() {
        let a = [
            pkg("lodash", "4.17.20", None),
            pkg("lodash", "3.10.1", None),
        ];
        let b = [
            pkg("lodash", "4.17.21", None),
            pkg("lodash", "3.10.1", None),
            pkg("lodash", "2.0", None),
        ];
        let d = diff_package_lists(&a, &b);
        assert_eq!((d.same, d.changed, d.added, d.removed), (1, 1, 1, 0));
        let changed = d.rows.iter().find(|r| r.change == Change::Changed).unwrap();
        assert_eq!(changed.a_version.as_deref(), Some("4.17.20"));
        assert_eq!(changed.b_version.as_deref(), Some("4.17.21"));
        let added = d.rows.iter().find(|r| r.change == Change::Added).unwrap();
        assert_eq!(added.b_version.as_deref(), Some("2.0"));
    }
}
