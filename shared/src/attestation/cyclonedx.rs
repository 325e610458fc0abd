//! CycloneDX JSON BOMs: `components` (nested ones flattened) with purls and licenses, and
//! the files that show each one (`evidence.occurrences[].location`, or syft's
//! `syft:location:N:path` properties).

use serde::Deserialize;

use super::null_default;
use super::sbom::{Package, Sbom, SbomFormat, meaningful_license, normalize_path};

/// A CycloneDX BOM, reduced to what Strata shows.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Bom {
    #[serde(default, deserialize_with = "null_default")]
    spec_version: String,
    #[serde(default, deserialize_with = "null_default")]
    serial_number: String,
    #[serde(default, deserialize_with = "null_default")]
    metadata: Metadata,
    #[serde(default, deserialize_with = "null_default")]
    components: Vec<Component>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default, deserialize_with = "null_default")]
    timestamp: Option<String>,
}

#[derive(Deserialize, Default)]
struct Component {
    #[serde(default, rename = "bom-ref", deserialize_with = "null_default")]
    bom_ref: String,
    #[serde(default, rename = "type", deserialize_with = "null_default")]
    kind: String,
    #[serde(default, deserialize_with = "null_default")]
    group: String,
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    version: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    purl: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    licenses: Vec<LicenseChoice>,
    #[serde(default, deserialize_with = "null_default")]
    evidence: Evidence,
    #[serde(default, deserialize_with = "null_default")]
    properties: Vec<Property>,
    #[serde(default, deserialize_with = "null_default")]
    components: Vec<Component>,
}

#[derive(Deserialize, Default)]
struct LicenseChoice {
    #[serde(default, deserialize_with = "null_default")]
    license: License,
    #[serde(default, deserialize_with = "null_default")]
    expression: String,
}

#[derive(Deserialize, Default)]
struct License {
    #[serde(default, deserialize_with = "null_default")]
    id: String,
    #[serde(default, deserialize_with = "null_default")]
    name: String,
}

#[derive(Deserialize, Default)]
struct Evidence {
    #[serde(default, deserialize_with = "null_default")]
    occurrences: Vec<Occurrence>,
}

#[derive(Deserialize, Default)]
struct Occurrence {
    #[serde(default, deserialize_with = "null_default")]
    location: String,
}

#[derive(Deserialize, Default)]
struct Property {
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    value: String,
}

impl Bom {
    /// Parses CycloneDX JSON (a bare BOM, not an in-toto statement).
    pub fn parse(bytes: &[u8]) -> Result<Bom, super::AttestationError> {
        super::from_json(bytes, "CycloneDX BOM")
    }

    /// Components as packages, nested ones flattened in document order.
    pub fn into_sbom(self) -> Sbom {
        let mut packages = Vec::new();
        let mut stack: Vec<Component> = self.components.into_iter().rev().collect();
        while let Some(mut c) = stack.pop() {
            stack.extend(std::mem::take(&mut c.components).into_iter().rev());
            if c.kind == "file" || c.name.is_empty() {
                continue;
            }
            let license = c.licenses.iter().find_map(|l| {
                meaningful_license(&l.expression)
                    .or_else(|| meaningful_license(&l.license.id))
                    .or_else(|| meaningful_license(&l.license.name))
            });
            let name = if c.group.is_empty() {
                c.name
            } else {
                format!("{}/{}", c.group, c.name)
            };
            let mut files: Vec<String> = c
                .evidence
                .occurrences
                .iter()
                .map(|o| o.location.as_str())
                .chain(
                    c.properties
                        .iter()
                        .filter(|p| {
                            p.name.starts_with("syft:location:") && p.name.ends_with(":path")
                        })
                        .map(|p| p.value.as_str()),
                )
                .filter(|p| !p.is_empty())
                .map(normalize_path)
                .collect();
            files.sort();
            files.dedup();
            let mut package = Package::new(
                c.bom_ref,
                name,
                c.version,
                Some(c.kind).filter(|k| !k.is_empty()),
                license,
                c.purl,
            );
            package.files = files;
            packages.push(package);
        }
        Sbom {
            format: SbomFormat::CycloneDx(self.spec_version),
            name: self.serial_number,
            creators: Vec::new(),
            created: self.metadata.timestamp,
            packages,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_with_evidence_and_properties() {
        let sbom = Bom::parse(
            br#"{"bomFormat":"CycloneDX","specVersion":"1.5","metadata":{"timestamp":"2024-01-01T00:00:00Z","tools":{"components":[]}},
            "components":[
              {"bom-ref":"a","type":"library","name":"openssl","version":"3.0.13","purl":"pkg:deb/debian/openssl@3.0.13",
               "licenses":[{"license":{"id":"Apache-2.0"}}],
               "properties":[{"name":"syft:location:0:path","value":"/var/lib/dpkg/status"}],
               "components":[{"type":"library","group":"org.example","name":"inner","licenses":[{"expression":"MIT OR ISC"}],
                              "evidence":{"occurrences":[{"location":"app/lib/inner.jar"}]}}]},
              {"type":"file","name":"/etc/passwd"}]}"#,
        )
        .unwrap()
        .into_sbom();
        assert_eq!(sbom.format, SbomFormat::CycloneDx("1.5".into()));
        assert_eq!(sbom.packages.len(), 2);
        assert_eq!(sbom.packages[0].kind, "deb");
        assert_eq!(sbom.packages[0].files, ["/var/lib/dpkg/status"]);
        assert_eq!(sbom.packages[1].name, "org.example/inner");
        assert_eq!(sbom.packages[1].license.as_deref(), Some("MIT OR ISC"));
        assert_eq!(sbom.packages[1].kind, "library");
        assert_eq!(sbom.packages[1].files, ["/app/lib/inner.jar"]);
    }
}
