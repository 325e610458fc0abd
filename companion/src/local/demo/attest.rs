//! The demo's supply-chain documents: an SPDX SBOM and a SLSA v1 provenance as BuildKit
//! writes them (in-toto statements in an attestation manifest), and a cosign signature
//! made with a demo key whose public half the page offers for verification.

use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use sha2::Digest as _;

/// in-toto predicate types.
pub(super) const SPDX_DOCUMENT: &str = "https://spdx.dev/Document";
pub(super) const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

/// Packages of the SBOM: name, version, purl, files they claim.
const PACKAGES: [(&str, &str, &str, &[&str]); 2] = [
    (
        "strata-demo-base",
        "1.0-1",
        "pkg:deb/strata/strata-demo-base@1.0-1",
        &["/etc/os-release", "/usr/bin/hello"],
    ),
    (
        "demo-app",
        "0.3.0",
        "pkg:pypi/demo-app@0.3.0",
        &["/app/server.py", "/app/static/index.html"],
    ),
];

/// An in-toto v1 statement about the manifest `subject_hex` (sha256).
pub(super) fn statement(
    subject_name: &str,
    subject_hex: &str,
    predicate_type: &str,
    predicate: Value,
) -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "predicateType": predicate_type,
        "subject": [{"name": subject_name, "digest": {"sha256": subject_hex}}],
        "predicate": predicate,
    })
}

/// An SPDX 2.3 document over [`PACKAGES`].
pub(super) fn spdx(arch: &str) -> Value {
    let mut packages = Vec::new();
    let mut files = Vec::new();
    let mut relationships = Vec::new();
    for (i, (name, version, purl, paths)) in PACKAGES.iter().enumerate() {
        let id = format!("SPDXRef-Package-{i}-{name}");
        packages.push(json!({
            "name": name, "SPDXID": id, "versionInfo": version, "supplier": "NOASSERTION",
            "downloadLocation": "NOASSERTION", "filesAnalyzed": false,
            "licenseConcluded": "Apache-2.0", "licenseDeclared": "Apache-2.0",
            "copyrightText": "NOASSERTION",
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                              "referenceLocator": format!("{purl}?arch={arch}")}],
        }));
        for (j, path) in paths.iter().enumerate() {
            let file_id = format!("SPDXRef-File-{i}-{j}");
            files.push(
                json!({"fileName": path, "SPDXID": file_id, "licenseConcluded": "NOASSERTION"}),
            );
            relationships.push(json!({"spdxElementId": id, "relatedSpdxElement": file_id,
                                      "relationshipType": "CONTAINS"}));
        }
    }
    json!({
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": "strata-demo", "documentNamespace": "https://strata.invalid/demo",
        "creationInfo": {"creators": ["Tool: strata-companion-demo"], "created": "2024-06-01T00:00:00Z"},
        "packages": packages, "files": files, "relationships": relationships,
    })
}

/// A SLSA v1 provenance as BuildKit writes it.
pub(super) fn slsa(arch: &str) -> Value {
    let repo = "https://strata.invalid/demo.git";
    let commit = "5d1e0c0ffee0ddba11f00d5ca1ab1e0123456789";
    json!({
        "buildDefinition": {
            "buildType": "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md",
            "externalParameters": {
                "configSource": {"uri": format!("{repo}#refs/tags/v1.0"), "digest": {"sha1": commit}, "path": "Dockerfile"},
                "request": {"frontend": "dockerfile.v0", "args": {"build-arg:DEMO_LEVEL": "2", "platform": format!("linux/{arch}")}},
            },
            "resolvedDependencies": [{"uri": format!("{repo}#refs/tags/v1.0"), "digest": {"sha1": commit}}],
        },
        "runDetails": {
            "builder": {"id": "https://strata.invalid/demo-builder@v1"},
            "metadata": {"invocationID": "strata-demo", "startedOn": "2024-06-01T00:00:00Z", "finishedOn": "2024-06-01T00:01:00Z"},
        },
    })
}

/// The demo's signing key: fixed, so the demo is the same everywhere. It is public on
/// purpose; it proves nothing about anyone, it only shows verification at work.
fn key() -> SigningKey {
    let seed = sha2::Sha256::digest(b"strata demo signing key, public on purpose");
    SigningKey::from_slice(&seed).expect("a sha256 output is a valid P-256 scalar")
}

/// The public half of the demo key, as PEM (what a user pastes to verify).
pub(super) fn public_key_pem() -> String {
    key()
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("PEM encoding of a valid key")
}

/// cosign's simple-signing payload for `digest` and its signature (DER, base64).
pub(super) fn cosign_signature(docker_reference: &str, digest: &str) -> (Vec<u8>, String) {
    let payload = serde_json::to_vec(&json!({
        "critical": {"identity": {"docker-reference": docker_reference},
                     "image": {"docker-manifest-digest": digest},
                     "type": "cosign container image signature"},
        "optional": {"source": "strata demo"},
    }))
    .expect("json");
    let signature: Signature = key().sign(&payload);
    let encoded = base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes());
    (payload, encoded)
}
