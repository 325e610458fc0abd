//! in-toto statements (SLSA provenance, SPDX and CycloneDX predicates) and the DSSE
//! envelopes that carry them: parsing never panics, and what parses can be queried.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_shared::attestation::{parse_statement, Envelope, ParsedStatement, Predicate};
use strata_shared::Digest;

fn walk(parsed: &ParsedStatement) {
    let probe = Digest::sha256_of(b"probe");
    for subject in &parsed.statement.subject {
        let _ = subject.sha256();
    }
    let _ = parsed.statement.is_about(&probe);
    match &parsed.predicate {
        Predicate::Provenance(p) => {
            let _ = p.base_images().count();
            let _ = p.git_sources().count();
        }
        Predicate::Sbom(sbom) => {
            let owners = sbom.file_owners();
            for (path, packages) in &owners {
                assert!(packages.iter().all(|&i| i < sbom.packages.len()));
                let _ = sbom.packages_of_file(path);
            }
            if let Some(first) = sbom.packages.first() {
                let _ = sbom.packages_named(&first.name).count();
            }
        }
        Predicate::Other => {}
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = parse_statement(data) {
        walk(&parsed);
    }
    if let Ok(envelope) = Envelope::parse(data) {
        if let (Ok(body), Ok(pae)) = (envelope.payload_bytes(), envelope.pae()) {
            assert!(pae.ends_with(&body), "PAE ends with the payload");
            if let Ok(parsed) = parse_statement(&body) {
                walk(&parsed);
            }
        }
    }
});
