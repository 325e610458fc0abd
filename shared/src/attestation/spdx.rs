//! SPDX 2.x JSON as BuildKit's scanner (syft) writes it: `packages` (with `externalRefs`
//! purls), `files` (with `fileName`), and `relationships` that say which package contains
//! which file (`CONTAINS`, `CONTAINED_BY`, and syft's `OTHER` with `evident-by:`).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::null_default;
use super::sbom::{Package, Sbom, SbomFormat, meaningful_license, normalize_path};

/// An SPDX document, reduced to what Strata shows.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SpdxDocument {
    #[serde(default, deserialize_with = "null_default")]
    spdx_version: String,
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    creation_info: CreationInfo,
    #[serde(default, deserialize_with = "null_default")]
    packages: Vec<SpdxPackage>,
    #[serde(default, deserialize_with = "null_default")]
    files: Vec<SpdxFile>,
    #[serde(default, deserialize_with = "null_default")]
    relationships: Vec<Relationship>,
}

#[derive(Deserialize, Default)]
struct CreationInfo {
    #[serde(default, deserialize_with = "null_default")]
    creators: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    created: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(default, rename = "SPDXID", deserialize_with = "null_default")]
    spdx_id: String,
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    version_info: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    license_concluded: String,
    #[serde(default, deserialize_with = "null_default")]
    license_declared: String,
    #[serde(default, deserialize_with = "null_default")]
    external_refs: Vec<ExternalRef>,
    #[serde(default, deserialize_with = "null_default")]
    has_files: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    primary_package_purpose: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    #[serde(default, deserialize_with = "null_default")]
    reference_type: String,
    #[serde(default, deserialize_with = "null_default")]
    reference_locator: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SpdxFile {
    #[serde(default, rename = "SPDXID", deserialize_with = "null_default")]
    spdx_id: String,
    #[serde(default, deserialize_with = "null_default")]
    file_name: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    #[serde(default, deserialize_with = "null_default")]
    spdx_element_id: String,
    #[serde(default, deserialize_with = "null_default")]
    related_spdx_element: String,
    #[serde(default, deserialize_with = "null_default")]
    relationship_type: String,
    #[serde(default, deserialize_with = "null_default")]
    comment: String,
}

impl SpdxDocument {
    /// Parses SPDX JSON (a bare document, not an in-toto statement).
    pub fn parse(bytes: &[u8]) -> Result<SpdxDocument, super::AttestationError> {
        super::from_json(bytes, "SPDX document")
    }

    /// Packages with their files resolved through the relationships.
    pub fn into_sbom(self) -> Sbom {
        let files: HashMap<String, String> = self
            .files
            .into_iter()
            .filter(|f| !f.file_name.is_empty())
            .map(|f| (f.spdx_id, normalize_path(&f.file_name)))
            .collect();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut packages = Vec::with_capacity(self.packages.len());
        let mut has_files = Vec::with_capacity(self.packages.len());
        for p in self.packages {
            let purl = p
                .external_refs
                .iter()
                .find(|r| r.reference_type == "purl")
                .map(|r| r.reference_locator.clone());
            let license = meaningful_license(&p.license_concluded)
                .or_else(|| meaningful_license(&p.license_declared));
            index.insert(p.spdx_id.clone(), packages.len());
            has_files.push(p.has_files);
            packages.push(Package::new(
                p.spdx_id,
                p.name,
                p.version_info,
                p.primary_package_purpose.map(|s| s.to_ascii_lowercase()),
                license,
                purl,
            ));
        }
        let mut claimed: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for (i, ids) in has_files.into_iter().enumerate() {
            for id in ids {
                if let Some(path) = files.get(&id) {
                    claimed.entry(i).or_default().push(path.clone());
                }
            }
        }
        for r in self.relationships {
            let (package, file) = match r.relationship_type.as_str() {
                "CONTAINS" => (&r.spdx_element_id, &r.related_spdx_element),
                "CONTAINED_BY" => (&r.related_spdx_element, &r.spdx_element_id),
                "OTHER" if r.comment.starts_with("evident-by") => {
                    (&r.spdx_element_id, &r.related_spdx_element)
                }
                _ => continue,
            };
            if let (Some(&i), Some(path)) = (index.get(package), files.get(file)) {
                claimed.entry(i).or_default().push(path.clone());
            }
        }
        for (i, mut paths) in claimed {
            paths.sort();
            paths.dedup();
            packages[i].files = paths;
        }
        Sbom {
            format: SbomFormat::Spdx(self.spdx_version),
            name: self.name,
            creators: self.creation_info.creators,
            created: self.creation_info.created,
            packages,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_join_packages_through_relationships() {
        let doc = SpdxDocument::parse(
            br#"{"spdxVersion":"SPDX-2.3","name":"sbom","creationInfo":{"creators":["Tool: syft"]},
            "packages":[
              {"SPDXID":"SPDXRef-Package-deb-musl","name":"musl","versionInfo":"1.2.5","licenseConcluded":"NOASSERTION","licenseDeclared":"MIT",
               "externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:apk/alpine/musl@1.2.5"}]},
              {"SPDXID":"SPDXRef-Package-b","name":"busybox","versionInfo":"1.36","hasFiles":["SPDXRef-File-c"]}],
            "files":[{"SPDXID":"SPDXRef-File-a","fileName":"/lib/ld-musl-x86_64.so.1"},{"SPDXID":"SPDXRef-File-b","fileName":"lib/libc.musl-x86_64.so.1"},
                     {"SPDXID":"SPDXRef-File-c","fileName":"./bin/busybox"}],
            "relationships":[
              {"spdxElementId":"SPDXRef-Package-deb-musl","relatedSpdxElement":"SPDXRef-File-b","relationshipType":"CONTAINS"},
              {"spdxElementId":"SPDXRef-File-a","relatedSpdxElement":"SPDXRef-Package-deb-musl","relationshipType":"CONTAINED_BY"},
              {"spdxElementId":"SPDXRef-Package-b","relatedSpdxElement":"SPDXRef-File-c","relationshipType":"OTHER","comment":"evident-by: indicates the package's existence is evident by the given file"},
              {"spdxElementId":"SPDXRef-Package-gone","relatedSpdxElement":"SPDXRef-File-a","relationshipType":"CONTAINS"}]}"#,
        )
        .unwrap();
        let sbom = doc.into_sbom();
        let musl = &sbom.packages[0];
        assert_eq!(musl.kind, "apk");
        assert_eq!(musl.license.as_deref(), Some("MIT"));
        assert_eq!(
            musl.files,
            ["/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1"]
        );
        assert_eq!(sbom.packages[1].files, ["/bin/busybox"]);
        assert_eq!(sbom.packages_of_file("bin/busybox")[0].name, "busybox");
        assert_eq!(sbom.file_owners().len(), 3);
    }
}
