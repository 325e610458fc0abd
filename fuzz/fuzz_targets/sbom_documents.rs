//! Bare SPDX and CycloneDX documents (as attached by referrers, not wrapped in a
//! statement) and package URLs: parsing never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_shared::attestation::cyclonedx::Bom;
use strata_shared::attestation::spdx::SpdxDocument;
use strata_shared::attestation::Purl;

fuzz_target!(|data: &[u8]| {
    for sbom in [
        SpdxDocument::parse(data).ok().map(SpdxDocument::into_sbom),
        Bom::parse(data).ok().map(Bom::into_sbom),
    ]
    .into_iter()
    .flatten()
    {
        for package in &sbom.packages {
            assert!(
                package.files.windows(2).all(|w| w[0] < w[1]),
                "files sorted without duplicates"
            );
            if let Some(purl) = package.purl.as_deref().and_then(Purl::parse) {
                let _ = purl.docker_image().map(|image| image.reference());
            }
        }
        let _ = sbom.file_owners();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(purl) = Purl::parse(text) {
            let _ = purl.docker_image().map(|image| image.reference());
        }
    }
});
