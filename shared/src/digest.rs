//! Content digests (`sha256:<64 hex>`, `sha512:<128 hex>`), validated on parse, and a
//! streaming verifier that checks size and digest of bytes as they arrive.

use sha2::{Digest as _, Sha256, Sha512};
use std::fmt;
use std::str::FromStr;

/// Hash algorithms an OCI digest may name that Strata can verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// `sha256`, 64 lowercase hex characters.
    Sha256,
    /// `sha512`, 128 lowercase hex characters.
    Sha512,
}

impl Algorithm {
    /// The algorithm's name as written in a digest.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Number of hex characters of an encoded digest of this algorithm.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// Why a string is not a digest Strata accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// No `algorithm:` prefix.
    #[error("invalid digest {0:?}: expected ALGORITHM:HEX")]
    MissingAlgorithm(String),
    /// An algorithm other than sha256 or sha512.
    #[error("invalid digest {0:?}: unsupported algorithm (sha256 and sha512 are supported)")]
    UnsupportedAlgorithm(String),
    /// Wrong number of hex characters for the algorithm.
    #[error("invalid digest {input:?}: {algorithm} needs {expected} hex characters, got {actual}")]
    BadLength {
        /// The digest as given.
        input: String,
        /// The algorithm named.
        algorithm: &'static str,
        /// Hex characters required.
        expected: usize,
        /// Hex characters found.
        actual: usize,
    },
    /// Characters other than lowercase hex.
    #[error("invalid digest {0:?}: encoded part must be lowercase hex")]
    NotHex(String),
}

/// A validated content digest.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Parses and validates `sha256:<hex>` or `sha512:<hex>`.
    pub fn parse(input: &str) -> Result<Self, DigestError> {
        let (alg, hex) = input
            .split_once(':')
            .ok_or_else(|| DigestError::MissingAlgorithm(input.to_owned()))?;
        let algorithm = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => return Err(DigestError::UnsupportedAlgorithm(input.to_owned())),
        };
        if hex.len() != algorithm.hex_len() {
            return Err(DigestError::BadLength {
                input: input.to_owned(),
                algorithm: algorithm.name(),
                expected: algorithm.hex_len(),
                actual: hex.len(),
            });
        }
        if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(DigestError::NotHex(input.to_owned()));
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_owned(),
        })
    }

    /// The sha256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        Self::of(Algorithm::Sha256, bytes)
    }

    /// The digest of `bytes` with `algorithm`.
    pub fn of(algorithm: Algorithm, bytes: &[u8]) -> Self {
        let mut h = Hasher::new(algorithm);
        h.update(bytes);
        h.finish()
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The lowercase hex part.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// `sha256:` and the first 12 hex characters, for lists.
    pub fn short(&self) -> String {
        format!("{}:{}", self.algorithm.name(), &self.hex[..12])
    }

    /// Whether `bytes` hash to this digest.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        Self::of(self.algorithm, bytes) == *self
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Digest::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An incremental hasher for either algorithm.
#[derive(Clone)]
pub enum Hasher {
    /// SHA-256 state.
    Sha256(Sha256),
    /// SHA-512 state.
    Sha512(Sha512),
}

impl Hasher {
    /// A fresh hasher.
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Digest {
        let (algorithm, hex) = match self {
            Hasher::Sha256(h) => (Algorithm::Sha256, hex::encode(h.finalize())),
            Hasher::Sha512(h) => (Algorithm::Sha512, hex::encode(h.finalize())),
        };
        Digest { algorithm, hex }
    }
}

/// Why bytes failed verification against a descriptor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// More bytes arrived than the descriptor's size.
    #[error("too many bytes: expected {expected}, got at least {actual}")]
    TooLong {
        /// Size from the descriptor.
        expected: u64,
        /// Bytes seen so far.
        actual: u64,
    },
    /// The stream ended early.
    #[error("truncated: expected {expected} bytes, got {actual}")]
    TooShort {
        /// Size from the descriptor.
        expected: u64,
        /// Bytes seen.
        actual: u64,
    },
    /// The bytes hash to another digest.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    Mismatch {
        /// The digest asked for.
        expected: Digest,
        /// The digest of the bytes.
        actual: Digest,
    },
}

/// Tees bytes into a hasher and counts them; checks size (as soon as it is exceeded)
/// and digest at the end. Models go-containerregistry's `internal/verify`.
#[derive(Clone)]
pub struct DigestVerifier {
    expected: Digest,
    expected_size: Option<u64>,
    seen: u64,
    hasher: Hasher,
}

impl DigestVerifier {
    /// A verifier for `expected`, and `expected_size` when the descriptor gives one.
    pub fn new(expected: Digest, expected_size: Option<u64>) -> Self {
        let hasher = Hasher::new(expected.algorithm());
        DigestVerifier {
            expected,
            expected_size,
            seen: 0,
            hasher,
        }
    }

    /// Feeds bytes; fails as soon as the stream is longer than the descriptor says.
    pub fn update(&mut self, bytes: &[u8]) -> Result<(), VerifyError> {
        self.seen += bytes.len() as u64;
        if let Some(expected) = self.expected_size
            && self.seen > expected
        {
            return Err(VerifyError::TooLong {
                expected,
                actual: self.seen,
            });
        }
        self.hasher.update(bytes);
        Ok(())
    }

    /// Bytes fed so far.
    pub fn bytes_seen(&self) -> u64 {
        self.seen
    }

    /// Checks size and digest of everything fed.
    pub fn finish(self) -> Result<Digest, VerifyError> {
        if let Some(expected) = self.expected_size
            && self.seen != expected
        {
            return Err(VerifyError::TooShort {
                expected,
                actual: self.seen,
            });
        }
        let actual = self.hasher.finish();
        if actual != self.expected {
            return Err(VerifyError::Mismatch {
                expected: self.expected,
                actual,
            });
        }
        Ok(actual)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_and_displays() {
        let d = Digest::parse(EMPTY).unwrap();
        assert_eq!(d.to_string(), EMPTY);
        assert_eq!(d.short(), "sha256:e3b0c44298fc");
        assert_eq!(Digest::sha256_of(b""), d);
    }

    #[test]
    fn rejects_bad_digests_with_named_problem() {
        let short = Digest::parse("sha256:abc").unwrap_err();
        assert!(
            short.to_string().contains("needs 64 hex characters, got 3"),
            "{short}"
        );
        assert!(matches!(
            Digest::parse("md5:abc"),
            Err(DigestError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            Digest::parse("abc"),
            Err(DigestError::MissingAlgorithm(_))
        ));
        let upper = EMPTY.to_uppercase().replace("SHA256", "sha256");
        assert!(matches!(Digest::parse(&upper), Err(DigestError::NotHex(_))));
    }

    #[test]
    fn sha512_round_trip() {
        let d = Digest::of(Algorithm::Sha512, b"abc");
        assert_eq!(d.hex().len(), 128);
        assert_eq!(Digest::parse(&d.to_string()).unwrap(), d);
    }

    #[test]
    fn verifier_checks_size_and_digest() {
        let d = Digest::sha256_of(b"hello");
        let mut v = DigestVerifier::new(d.clone(), Some(5));
        v.update(b"hel").unwrap();
        v.update(b"lo").unwrap();
        assert_eq!(v.finish().unwrap(), d);

        let mut long = DigestVerifier::new(d.clone(), Some(5));
        assert!(matches!(
            long.update(b"hello!"),
            Err(VerifyError::TooLong { .. })
        ));

        let mut short = DigestVerifier::new(d.clone(), Some(5));
        short.update(b"hell").unwrap();
        assert!(matches!(short.finish(), Err(VerifyError::TooShort { .. })));

        let mut wrong = DigestVerifier::new(d, Some(5));
        wrong.update(b"jello").unwrap();
        assert!(matches!(wrong.finish(), Err(VerifyError::Mismatch { .. })));
    }
}
