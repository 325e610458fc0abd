//! in-toto attestation statements (`https://in-toto.io/Statement/v0.1` and `/v1`): a
//! subject (what the statement is about, by digest), a predicate type and a predicate;
//! and DSSE envelopes, which wrap a statement with signatures (cosign `.att` layers).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;

use super::{AttestationError, Provenance, Sbom, from_json, null_default};
use crate::Digest;

/// in-toto Statement v0.1 (BuildKit writes it).
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// in-toto Statement v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// DSSE payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// Predicate type of SLSA provenance v0.2.
pub const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
/// Predicate type of SLSA provenance v1.
pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
/// Predicate type of an SPDX document (BuildKit's SBOM).
pub const SPDX_DOCUMENT: &str = "https://spdx.dev/Document";
/// Predicate type of a CycloneDX BOM.
pub const CYCLONEDX_BOM: &str = "https://cyclonedx.org/bom";

/// One artifact a statement is about: a name and its digests by algorithm.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Subject {
    /// Name (BuildKit: a `pkg:docker/...` purl).
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Digests by algorithm name (`sha256` → hex).
    #[serde(default, deserialize_with = "null_default")]
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    /// The sha256 digest, when present and well formed.
    pub fn sha256(&self) -> Option<Digest> {
        let hex = self.digest.get("sha256")?;
        Digest::parse(&format!("sha256:{hex}")).ok()
    }
}

/// A statement without its predicate: what it is and what it is about.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    /// `_type`: the statement version.
    #[serde(default, rename = "_type", deserialize_with = "null_default")]
    pub statement_type: String,
    /// The predicate's type URI.
    #[serde(default, deserialize_with = "null_default")]
    pub predicate_type: String,
    /// What the statement is about.
    #[serde(default, deserialize_with = "null_default")]
    pub subject: Vec<Subject>,
}

impl Statement {
    /// Whether a subject names `digest`.
    pub fn is_about(&self, digest: &Digest) -> bool {
        self.subject.iter().any(|s| {
            s.digest.get(digest.algorithm().name()).map(String::as_str) == Some(digest.hex())
        })
    }
}

/// A predicate Strata reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Predicate {
    /// SLSA provenance (v0.2 or v1).
    Provenance(Box<Provenance>),
    /// An SBOM (SPDX or CycloneDX).
    Sbom(Box<Sbom>),
    /// Another predicate type: listed, not interpreted.
    Other,
}

/// A statement and its interpreted predicate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedStatement {
    /// Type and subjects.
    pub statement: Statement,
    /// The predicate.
    pub predicate: Predicate,
}

#[derive(Deserialize)]
struct WithPredicate<P> {
    predicate: P,
}

/// Which family a predicate type belongs to (versions and suffixes vary by tool).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PredicateFamily {
    /// `https://slsa.dev/provenance/v0.1` or `/v0.2`.
    SlsaV02,
    /// `https://slsa.dev/provenance/v1` (and its release candidates).
    SlsaV1,
    /// `https://spdx.dev/Document` (optionally with a version suffix).
    Spdx,
    /// `https://cyclonedx.org/bom` (optionally with a version suffix).
    CycloneDx,
    /// Anything else.
    Other,
}

impl PredicateFamily {
    /// Classifies a predicate type URI.
    pub fn of(predicate_type: &str) -> PredicateFamily {
        let p = predicate_type.trim_end_matches('/');
        if p.starts_with("https://slsa.dev/provenance/v0.") {
            PredicateFamily::SlsaV02
        } else if p.starts_with(SLSA_V1) {
            PredicateFamily::SlsaV1
        } else if p.starts_with(SPDX_DOCUMENT) {
            PredicateFamily::Spdx
        } else if p.starts_with(CYCLONEDX_BOM) {
            PredicateFamily::CycloneDx
        } else {
            PredicateFamily::Other
        }
    }

    /// A short label for lists.
    pub fn label(self) -> &'static str {
        match self {
            PredicateFamily::SlsaV02 => "SLSA provenance v0.2",
            PredicateFamily::SlsaV1 => "SLSA provenance v1",
            PredicateFamily::Spdx => "SPDX SBOM",
            PredicateFamily::CycloneDx => "CycloneDX SBOM",
            PredicateFamily::Other => "in-toto statement",
        }
    }
}

/// Parses an in-toto statement and, for the predicate types Strata knows, its predicate.
pub fn parse_statement(bytes: &[u8]) -> Result<ParsedStatement, AttestationError> {
    let statement: Statement = from_json(bytes, "in-toto statement")?;
    let predicate = match PredicateFamily::of(&statement.predicate_type) {
        PredicateFamily::SlsaV02 => {
            let p: WithPredicate<super::slsa::V02> = from_json(bytes, "SLSA v0.2 provenance")?;
            Predicate::Provenance(Box::new(p.predicate.into()))
        }
        PredicateFamily::SlsaV1 => {
            let p: WithPredicate<super::slsa::V1> = from_json(bytes, "SLSA v1 provenance")?;
            Predicate::Provenance(Box::new(p.predicate.into()))
        }
        PredicateFamily::Spdx => {
            let p: WithPredicate<super::spdx::SpdxDocument> = from_json(bytes, "SPDX document")?;
            Predicate::Sbom(Box::new(p.predicate.into_sbom()))
        }
        PredicateFamily::CycloneDx => {
            let p: WithPredicate<super::cyclonedx::Bom> = from_json(bytes, "CycloneDX BOM")?;
            Predicate::Sbom(Box::new(p.predicate.into_sbom()))
        }
        PredicateFamily::Other => Predicate::Other,
    };
    Ok(ParsedStatement {
        statement,
        predicate,
    })
}

/// A DSSE envelope: a base64 payload of `payload_type`, signed over its PAE encoding.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// The payload's media type.
    #[serde(default, deserialize_with = "null_default")]
    pub payload_type: String,
    /// The payload, base64.
    #[serde(default, deserialize_with = "null_default")]
    pub payload: String,
    /// Signatures over the PAE encoding.
    #[serde(default, deserialize_with = "null_default")]
    pub signatures: Vec<EnvelopeSignature>,
}

/// One DSSE signature.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct EnvelopeSignature {
    /// The signer's key id, if given.
    #[serde(default, deserialize_with = "null_default")]
    pub keyid: String,
    /// The signature, base64.
    #[serde(default, deserialize_with = "null_default")]
    pub sig: String,
}

impl Envelope {
    /// Parses an envelope.
    pub fn parse(bytes: &[u8]) -> Result<Envelope, AttestationError> {
        from_json(bytes, "DSSE envelope")
    }

    /// The decoded payload.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, AttestationError> {
        decode_base64(&self.payload, "DSSE payload")
    }

    /// What is signed: `DSSEv1 SP len(type) SP type SP len(body) SP body`.
    pub fn pae(&self) -> Result<Vec<u8>, AttestationError> {
        let body = self.payload_bytes()?;
        let mut out = format!(
            "DSSEv1 {} {} {} ",
            self.payload_type.len(),
            self.payload_type,
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(&body);
        Ok(out)
    }
}

/// Decodes standard base64, ignoring whitespace and line breaks.
pub(crate) fn decode_base64(input: &str, what: &'static str) -> Result<Vec<u8>, AttestationError> {
    let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(compact.as_bytes()))
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact.as_bytes()))
        .map_err(|_| AttestationError::Base64 {
            what,
            input: input.chars().take(40).collect(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_tolerate_versions_and_suffixes() {
        assert_eq!(PredicateFamily::of(SLSA_V02), PredicateFamily::SlsaV02);
        assert_eq!(
            PredicateFamily::of("https://slsa.dev/provenance/v1"),
            PredicateFamily::SlsaV1
        );
        assert_eq!(
            PredicateFamily::of("https://spdx.dev/Document/v2.3"),
            PredicateFamily::Spdx
        );
        assert_eq!(
            PredicateFamily::of("https://cyclonedx.org/bom/v1.5"),
            PredicateFamily::CycloneDx
        );
        assert_eq!(
            PredicateFamily::of("https://example.com/x"),
            PredicateFamily::Other
        );
    }

    #[test]
    fn hostile_statements_are_errors_not_panics() {
        for input in [
            &b""[..],
            b"null",
            b"{\"predicateType\": 5}",
            b"{\"predicateType\":\"https://slsa.dev/provenance/v1\",\"predicate\":\"x\"}",
            b"{\"predicateType\":\"https://spdx.dev/Document\",\"predicate\":{\"packages\":7}}",
        ] {
            assert!(parse_statement(input).is_err(), "{input:?}");
        }
        let other =
            parse_statement(br#"{"predicateType":"x","subject":null,"predicate":1}"#).unwrap();
        assert_eq!(other.predicate, Predicate::Other);
    }

    #[test]
    fn dsse_pae_and_payload() {
        let env = Envelope::parse(
            br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"AA=="}]}"#,
        )
        .unwrap();
        assert_eq!(env.payload_bytes().unwrap(), b"{}");
        assert_eq!(
            env.pae().unwrap(),
            b"DSSEv1 28 application/vnd.in-toto+json 2 {}"
        );
        let bad = Envelope {
            payload: "!!".into(),
            ..Envelope::default()
        };
        assert!(bad.payload_bytes().unwrap_err().to_string().contains("!!"));
    }
}
