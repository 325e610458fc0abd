//! Every document in `tests/data/real/` (byte-exact captures from real registries and build
//! tools, see its README and SOURCES.tsv) parsed with the shared crate: each stated digest
//! checked against the bytes, and what a user would see asserted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use strata_shared::Digest;
use strata_shared::attestation::artifact::{self, ArtifactKind};
use strata_shared::attestation::cosign::{CosignSignature, SIMPLE_SIGNING, SimpleSigning};
use strata_shared::attestation::statement::{PredicateFamily, parse_statement};
use strata_shared::attestation::{MaterialKind, Predicate, SbomFormat, SlsaVersion};
use strata_shared::manifest::{Document, ImageConfig, ParsedDocument, layer_history};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/real")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// SOURCES.tsv rows: (category, file, stated digest if any).
fn sources() -> Vec<(String, String, Option<String>)> {
    let text = String::from_utf8(read("SOURCES.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert!(cols.len() >= 6, "SOURCES.tsv row: {l}");
            let digest = cols
                .get(6)
                .and_then(|c| c.split_whitespace().next())
                .filter(|d| d.starts_with("sha256:"))
                .map(str::to_owned);
            (cols[0].to_owned(), cols[1].to_owned(), digest)
        })
        .collect()
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(
                path.strip_prefix(root())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    out.sort();
    out
}

/// Schema1's digest is over the JWS payload: the first `formatLength` bytes and the
/// base64url `formatTail` from the protected header (signatures stripped).
fn schema1_payload_digest(bytes: &[u8]) -> Digest {
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let protected = v["signatures"][0]["protected"].as_str().unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: serde_json::Value =
        serde_json::from_slice(&b64.decode(protected).unwrap()).unwrap();
    let len = header["formatLength"].as_u64().unwrap() as usize;
    let tail = b64.decode(header["formatTail"].as_str().unwrap()).unwrap();
    let mut payload = bytes[..len].to_vec();
    payload.extend_from_slice(&tail);
    Digest::sha256_of(&payload)
}

#[test]
fn every_file_is_listed_and_every_stated_digest_matches() {
    let rows = sources();
    let listed: Vec<&str> = rows.iter().map(|(_, f, _)| f.as_str()).collect();
    for file in files_under(&root()) {
        // The README describes the challenge samples; SOURCES.tsv lists the rest.
        if [
            "SOURCES.tsv",
            "README.md",
            "6-auth/www-authenticate-samples.txt",
        ]
        .contains(&file.as_str())
        {
            continue;
        }
        assert!(listed.contains(&file.as_str()), "{file} not in SOURCES.tsv");
    }
    let mut checked = 0;
    for (_, file, stated) in &rows {
        let bytes = read(file);
        let Some(stated) = stated else { continue };
        let stated = Digest::parse(stated).unwrap();
        let actual = if file.contains("schema1") {
            schema1_payload_digest(&bytes)
        } else {
            Digest::sha256_of(&bytes)
        };
        assert_eq!(actual, stated, "{file}");
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} digests stated");
}

#[test]
fn every_document_parses_with_the_shared_crate() {
    for (category, file, _) in sources() {
        let bytes = read(&file);
        match category.as_str() {
            "1-index" | "2-manifest" => {
                let parsed =
                    ParsedDocument::parse(bytes, None).unwrap_or_else(|e| panic!("{file}: {e}"));
                let index = matches!(parsed.document, Document::Index(_));
                assert_eq!(index, category == "1-index", "{file}");
            }
            "3-config" => {
                ImageConfig::parse(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
            }
            "4-attestation" if file.contains("intoto") => {
                parse_statement(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
            }
            "4-attestation" if file.contains("config") => {
                ImageConfig::parse(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
            }
            "4-attestation" | "5-signing" if file.contains("payload") => {
                SimpleSigning::parse(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
            }
            "4-attestation" | "5-signing" => {
                ParsedDocument::parse(bytes, None).unwrap_or_else(|e| panic!("{file}: {e}"));
            }
            // Auth challenges and token responses are the companion's to parse.
            "6-auth" => {}
            other => panic!("unknown category {other} ({file})"),
        }
    }
}

fn index(file: &str) -> strata_shared::manifest::ImageIndex {
    match ParsedDocument::parse(read(file), None).unwrap().document {
        Document::Index(i) => *i,
        other => panic!("{file}: not an index: {other:?}"),
    }
}

fn manifest(file: &str) -> strata_shared::manifest::ImageManifest {
    match ParsedDocument::parse(read(file), None).unwrap().document {
        Document::Manifest(m) => *m,
        other => panic!("{file}: not a manifest: {other:?}"),
    }
}

#[test]
fn indexes_show_platforms_without_attestation_entries() {
    let ghcr = index("1-index/buildkit-oci-index-with-attestation.ghcr.json").entries();
    let platforms: Vec<String> = ghcr
        .platforms
        .iter()
        .map(|p| p.platform().to_string())
        .collect();
    assert_eq!(platforms, ["linux/amd64"]);
    let attached: Vec<String> = ghcr.platforms[0]
        .attestations
        .iter()
        .map(|d| d.digest.to_string())
        .collect();
    assert_eq!(
        attached,
        ["sha256:b276155e3c74e740a8bff1dd562f028dc0107551c97776c44246cb2dce55092c"]
    );

    // regctl's index has `vnd.docker.reference.type: builder` entries: not platforms either.
    let regctl = index("1-index/oci-index-buildx-with-reference-annotations.regctl.json").entries();
    let platforms: Vec<String> = regctl
        .platforms
        .iter()
        .map(|p| p.platform().to_string())
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    assert!(regctl.platforms.iter().all(|p| p.attestations.len() == 1));

    let list = index("1-index/docker-manifest-list-busybox-1.27.2.json").entries();
    assert_eq!(list.platforms.len(), 7);
    assert!(list.orphan_attestations.is_empty());
    assert_eq!(
        list.platforms[0].descriptor.digest.hex()[..8].to_owned(),
        "030fcb92"
    );
}

#[test]
fn schema1_is_read_layers_history_signatures_and_payload_digest() {
    let bytes = read("2-manifest/docker-schema1-signed-busybox.json");
    let parsed = ParsedDocument::parse(bytes.clone(), None).unwrap();
    let Document::Schema1(m) = &parsed.document else {
        panic!("{:?}", parsed.media_type)
    };
    assert_eq!(m.architecture, "amd64");
    // Three history steps over one repeated blob: one layer, two empty steps.
    assert_eq!(m.history.len(), 3);
    assert_eq!(m.layers.len(), 1);
    assert_eq!(m.layers[0].digest.hex()[..12], *"5f70bf18a086");
    assert_eq!(
        m.history.iter().map(|h| h.empty_layer).collect::<Vec<_>>(),
        [false, true, true]
    );
    assert_eq!(m.signatures.len(), 1);
    assert_eq!(m.signatures[0].algorithm, "ES256");
    assert_eq!(
        m.signatures[0].key_id.as_deref(),
        Some("OZ45:U3IG:TDOI:PMBD:NGP2:LDIW:II2U:PSBI:MMCZ:YZUP:TUUO:XPZT")
    );
    let payload = parsed.digested_bytes().unwrap();
    assert_eq!(Digest::sha256_of(&payload), schema1_payload_digest(&bytes));
    assert_ne!(Digest::sha256_of(&payload), Digest::sha256_of(&bytes));
}

#[test]
fn config_history_maps_to_layers() {
    let config =
        ImageConfig::parse(&read("3-config/buildkit-config-distroless.ghcr.json")).unwrap();
    let m = manifest("2-manifest/buildkit-oci-manifest-amd64.ghcr.json");
    assert_eq!(m.layers.len(), 10);
    assert_eq!(config.rootfs.diff_ids.len(), 10);
    let steps = layer_history(&config.history, m.layers.len());
    assert_eq!(steps, (0..10).map(Some).collect::<Vec<_>>());
    assert!(config.history[10].empty_layer);

    let httpd = ImageConfig::parse(&read("3-config/docker-config-httpd-2.4.23.json")).unwrap();
    let steps = layer_history(&httpd.history, httpd.rootfs.diff_ids.len());
    assert!(steps.iter().all(Option::is_some));
    let empty = httpd.history.iter().filter(|h| h.empty_layer).count();
    assert_eq!(httpd.history.len(), httpd.rootfs.diff_ids.len() + empty);

    let golden = ImageConfig::parse(&read("3-config/buildkit-compat-golden-config.json")).unwrap();
    assert_eq!(golden.rootfs.diff_ids.len(), 4);
    let steps = layer_history(&golden.history, 4);
    assert!(steps.iter().all(Option::is_some), "{steps:?}");
}

#[test]
fn provenance_labels_of_a_buildkit_config() {
    let config =
        ImageConfig::parse(&read("3-config/buildkit-config-distroless.ghcr.json")).unwrap();
    let labels = config.config.and_then(|c| c.labels).unwrap_or_default();
    let shown = strata_shared::attestation::provenance_labels(&labels, &BTreeMap::new());
    let keys: Vec<&str> = shown.iter().map(|l| l.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "org.opencontainers.image.source",
            "org.opencontainers.image.revision",
            "org.opencontainers.image.created",
            "org.opencontainers.image.version",
            "org.opencontainers.image.url",
        ]
    );
    assert_eq!(
        shown[1].link,
        strata_shared::attestation::LabelLink::Url(
            "https://github.com/slsa-framework/example-package/commit/d37a7f740ee7404914456f24dcd90e865a0509e8".into()
        )
    );
}

#[test]
fn attestation_manifest_holds_slsa_provenance_about_the_platform_manifest() {
    let m = manifest("4-attestation/buildkit-attestation-manifest.json");
    assert_eq!(
        artifact::classify(&m),
        ArtifactKind::Attestation(vec![PredicateFamily::SlsaV02])
    );
    let layer = &m.layers[0];
    let blob = read("4-attestation/buildkit-slsa-provenance-v0.2.intoto.json");
    assert_eq!(Digest::sha256_of(&blob), layer.digest);
    assert_eq!(blob.len() as u64, layer.size);
    let config =
        ImageConfig::parse(&read("4-attestation/buildkit-attestation-config.json")).unwrap();
    assert_eq!(config.os, "unknown");
    assert_eq!(config.rootfs.diff_ids, std::slice::from_ref(&layer.digest));

    let parsed = parse_statement(&blob).unwrap();
    let platform =
        Digest::parse("sha256:ae01bed04d3f41efa80182824a50345cd1430f4d1a9308eda4369122bd94c85e")
            .unwrap();
    assert!(parsed.statement.is_about(&platform));
    assert_eq!(parsed.statement.subject.len(), 2);
    let Predicate::Provenance(p) = parsed.predicate else {
        panic!("not provenance")
    };
    assert_eq!(p.version, SlsaVersion::V02);
    assert_eq!(p.builder_id, "");
    assert_eq!(p.build_type, "https://mobyproject.org/buildkit@v1");
    assert_eq!(p.frontend.as_deref(), Some("dockerfile.v0"));
    assert_eq!(p.dockerfile.as_deref(), Some("Dockerfile"));
    assert_eq!(
        p.started_on.as_deref(),
        Some("2024-03-21T10:32:59.326230397Z")
    );
    assert_eq!(
        p.finished_on.as_deref(),
        Some("2024-03-21T10:33:18.64977976Z")
    );
    let bases: Vec<String> = p
        .base_images()
        .map(|m| match &m.kind {
            MaterialKind::Image(i) => i.reference(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        bases,
        [
            "golang@sha256:c82d4ad02c062cf2b393bf0374df26638c6fed3dfe52cdbd3635d4a7befab86e",
            "gcr.io/distroless/static@sha256:072d78bc452a2998929a9579464e55067db4bf6d2c5f9cde582e33c10a415bd1",
        ]
    );
    let git: Vec<_> = p.git_sources().collect();
    let MaterialKind::Git {
        repository,
        commit,
        commit_url,
        ..
    } = &git[0].kind
    else {
        unreachable!()
    };
    assert_eq!(
        repository,
        "https://github.com/slsa-framework/example-package.git"
    );
    assert_eq!(
        commit.as_deref(),
        Some("d37a7f740ee7404914456f24dcd90e865a0509e8")
    );
    assert!(
        commit_url
            .as_deref()
            .unwrap()
            .ends_with("/commit/d37a7f740ee7404914456f24dcd90e865a0509e8")
    );
}

#[test]
fn spdx_sbom_lists_packages_with_purls_and_files() {
    // Trimmed by its author (not byte-exact): shape only, and one relationship names a
    // package that was removed — it must be ignored, not fail.
    let blob = read("4-attestation/buildkit-spdx-sbom.intoto.TRIMMED-NOT-BYTE-EXACT.json");
    let parsed = parse_statement(&blob).unwrap();
    assert_eq!(parsed.statement.predicate_type, "https://spdx.dev/Document");
    let Predicate::Sbom(sbom) = parsed.predicate else {
        panic!("not an SBOM")
    };
    assert_eq!(sbom.format, SbomFormat::Spdx("SPDX-2.3".into()));
    assert!(sbom.creators.iter().any(|c| c.contains("buildkit")));
    let names: Vec<(&str, Option<&str>, &str)> = sbom
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_deref(), p.kind.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            (
                "github.com/AlexGustafsson/cupdate",
                Some("v0.19.0-30-g509402d"),
                "golang"
            ),
            ("github.com/caarlos0/env/v11", Some("v11.3.1"), "golang"),
        ]
    );
    assert_eq!(
        sbom.packages[1].purl.as_deref(),
        Some("pkg:golang/github.com/caarlos0/env@v11.3.1#v11")
    );
    assert_eq!(sbom.packages[0].license, None, "NOASSERTION is no license");
    assert!(sbom.packages.iter().all(|p| p.files.is_empty()));
}

#[test]
fn cosign_signature_signs_the_alpine_manifest() {
    let sig_manifest = manifest("5-signing/cosign-sig-manifest.registry2.json");
    assert_eq!(
        artifact::classify(&sig_manifest),
        ArtifactKind::CosignSignature
    );
    let layer = &sig_manifest.layers[0];
    assert_eq!(layer.media_type.as_str(), SIMPLE_SIGNING);
    let sig = CosignSignature::from_layer(layer).unwrap();
    assert!(sig.signature.starts_with("MEUCIQDBRZD5"));
    assert!(sig.certificate.is_none() && !sig.has_bundle);

    let payload = read("5-signing/cosign-simplesigning-payload.alpine.json");
    assert_eq!(Digest::sha256_of(&payload), sig.payload_digest);
    let signed = SimpleSigning::parse(&payload).unwrap();
    assert_eq!(
        signed.docker_reference,
        "registry.127-0-10-80.nip.io/alpine"
    );
    assert_eq!(signed.kind, "cosign container image signature");
    let alpine = Digest::sha256_of(&read("2-manifest/docker-schema2-alpine-3.20.3-amd64.json"));
    assert!(
        signed.signs(&alpine),
        "the payload signs the alpine manifest's digest"
    );
    assert!(signed.names_repository("registry.127-0-10-80.nip.io/alpine"));
    // The signature is DER ECDSA; the key is not in the capture, so only its form is checked.
    let der = base64::engine::general_purpose::STANDARD
        .decode(sig.signature.replace('\n', ""))
        .unwrap();
    assert_eq!(der[0], 0x30);
}

#[test]
fn oci11_artifact_and_referrers_index() {
    let artifact = manifest("5-signing/oci11-artifact-manifest-subject.regctl.json");
    assert_eq!(
        artifact.artifact_type.as_deref(),
        Some("application/example.sbom")
    );
    assert_eq!(
        artifact::classify(&artifact),
        ArtifactKind::Other("application/example.sbom".into())
    );
    let subject = artifact.subject.as_ref().unwrap();
    assert_eq!(
        subject.digest.to_string(),
        "sha256:dfae8f425735a5e3a72e40d6609e03079995511d48157c74d54801ff4430491e"
    );
    let referrers = index("5-signing/referrers-index-fallback-tag.regctl.json");
    let types: Vec<Option<&str>> = referrers
        .manifests
        .iter()
        .map(|d| d.artifact_type.as_deref())
        .collect();
    assert_eq!(
        types,
        [
            Some("application/example.sbom"),
            Some("application/example.signature")
        ]
    );
    let artifact_bytes = read("5-signing/oci11-artifact-manifest-subject.regctl.json");
    assert_eq!(
        referrers.manifests[0].digest,
        Digest::sha256_of(&artifact_bytes)
    );
    assert_eq!(referrers.manifests[0].size, artifact_bytes.len() as u64);
}
