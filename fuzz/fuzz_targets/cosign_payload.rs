//! cosign's simple-signing payloads and the keyless certificates beside them: parsing
//! never panics, and the repository check is total.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_shared::attestation::certificate::CertificateInfo;
use strata_shared::attestation::SimpleSigning;

fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = SimpleSigning::parse(data) {
        if let Some(digest) = payload.signed_digest() {
            assert!(payload.signs(&digest));
        }
        for name in ["alpine", "docker.io/library/alpine", "ghcr.io/o/r", ""] {
            let _ = payload.names_repository(name);
        }
    }
    if let Some(info) = CertificateInfo::from_der(data) {
        let _ = info.identity();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(info) = CertificateInfo::from_pem(text) {
            let _ = info.identity();
        }
    }
});
