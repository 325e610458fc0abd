//! ECDSA P-256 (SHA-256) verification against a public key the user pastes, as cosign
//! signs: the signature is over the payload bytes, DER-encoded, base64 in an annotation.
//! Pure Rust (RustCrypto `p256`), so it runs in the browser.

use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey as _;
use sha2::Digest as _;

/// Why a key or signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The pasted text is not a P-256 public key.
    #[error("not an ECDSA P-256 public key ({reason}): {input:?}")]
    InvalidKey {
        /// The parser's reason.
        reason: String,
        /// The first characters pasted.
        input: String,
    },
    /// The signature is not DER or 64-byte ECDSA.
    #[error("not an ECDSA signature ({reason}): {input:?}")]
    InvalidSignature {
        /// The parser's reason.
        reason: String,
        /// The first characters of the signature.
        input: String,
    },
    /// Well-formed, but the signature does not match the payload and key.
    #[error("signature does not verify: the payload was changed, or it was signed by another key")]
    Mismatch,
}

/// A P-256 public key and its fingerprint.
#[derive(Clone, Debug)]
pub struct PublicKey {
    key: VerifyingKey,
    /// `sha256:` over the DER SubjectPublicKeyInfo, to name the key.
    pub fingerprint: String,
}

impl PublicKey {
    /// Reads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), as `cosign generate-key-pair` writes.
    pub fn from_pem(pem: &str) -> Result<PublicKey, SignatureError> {
        let key = VerifyingKey::from_public_key_pem(pem.trim()).map_err(|e| {
            SignatureError::InvalidKey {
                reason: e.to_string(),
                input: pem.trim().chars().take(60).collect(),
            }
        })?;
        Ok(Self::with_fingerprint(key))
    }

    /// Reads a DER SubjectPublicKeyInfo (from a certificate).
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, SignatureError> {
        let key =
            VerifyingKey::from_public_key_der(der).map_err(|e| SignatureError::InvalidKey {
                reason: e.to_string(),
                input: hex::encode(&der[..der.len().min(30)]),
            })?;
        Ok(Self::with_fingerprint(key))
    }

    fn with_fingerprint(key: VerifyingKey) -> PublicKey {
        use p256::pkcs8::EncodePublicKey as _;
        let der = key
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default();
        PublicKey {
            key,
            fingerprint: format!("sha256:{}", hex::encode(sha2::Sha256::digest(&der))),
        }
    }

    /// Checks `signature` (DER or 64-byte r‖s) over `message` (hashed with SHA-256).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        let sig = Signature::from_der(signature)
            .or_else(|_| Signature::from_slice(signature))
            .map_err(|e| SignatureError::InvalidSignature {
                reason: e.to_string(),
                input: hex::encode(&signature[..signature.len().min(16)]),
            })?;
        let sig = sig.normalize_s().unwrap_or(sig);
        self.key
            .verify(message, &sig)
            .map_err(|_| SignatureError::Mismatch)
    }

    /// Checks a base64 signature (cosign's annotation, newlines allowed).
    pub fn verify_base64(&self, message: &[u8], signature_b64: &str) -> Result<(), SignatureError> {
        let sig = super::statement::decode_base64(signature_b64, "signature").map_err(|_| {
            SignatureError::InvalidSignature {
                reason: "not base64".into(),
                input: signature_b64.chars().take(40).collect(),
            }
        })?;
        self.verify(message, &sig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_keys_and_signatures_are_named() {
        let err = PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
            .unwrap_err();
        assert!(matches!(err, SignatureError::InvalidKey { .. }), "{err}");
        assert!(PublicKey::from_pem("").is_err());
        assert!(PublicKey::from_spki_der(&[]).is_err());
    }
}
