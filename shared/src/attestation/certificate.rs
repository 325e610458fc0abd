//! Just enough X.509 to show who a keyless (Fulcio) certificate names: the subject and
//! issuer names, the subject alternative names (an e-mail or a workflow URI), the OIDC
//! issuer extension, and the public key. A small DER walk; no chain validation.

use base64::Engine as _;

use super::AttestationError;

/// Fulcio's OIDC issuer extension (1.3.6.1.4.1.57264.1.1), a raw string.
const OID_FULCIO_ISSUER_V1: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x01];
/// Fulcio's OIDC issuer extension (1.3.6.1.4.1.57264.1.8), a DER UTF8String.
const OID_FULCIO_ISSUER_V2: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08];
/// subjectAltName (2.5.29.17).
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];

/// What a certificate says about its holder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The subject name (`CN=…, O=…`), empty for Fulcio certificates.
    pub subject: String,
    /// The issuer name (`CN=sigstore-intermediate, O=sigstore.dev`).
    pub issuer: String,
    /// Subject alternative names: e-mails, URIs, DNS names.
    pub san: Vec<String>,
    /// The OIDC issuer Fulcio recorded (`https://token.actions.githubusercontent.com`).
    pub oidc_issuer: Option<String>,
    /// The subject public key (DER SubjectPublicKeyInfo).
    pub spki_der: Vec<u8>,
}

impl CertificateInfo {
    /// The identity to show: the first SAN, else the subject.
    pub fn identity(&self) -> &str {
        self.san
            .first()
            .map(String::as_str)
            .unwrap_or(&self.subject)
    }

    /// Reads a PEM certificate (the first `CERTIFICATE` block).
    pub fn from_pem(pem: &str) -> Result<CertificateInfo, AttestationError> {
        let bad = |reason| AttestationError::Certificate {
            reason,
            input: pem.chars().take(60).collect(),
        };
        let start = pem
            .find("-----BEGIN CERTIFICATE-----")
            .ok_or_else(|| bad("no BEGIN CERTIFICATE line"))?;
        let body = &pem[start + "-----BEGIN CERTIFICATE-----".len()..];
        let end = body
            .find("-----END CERTIFICATE-----")
            .ok_or_else(|| bad("no END CERTIFICATE line"))?;
        let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|_| bad("body is not base64"))?;
        Self::from_der(&der).ok_or_else(|| bad("not a DER X.509 certificate"))
    }

    /// Reads a DER certificate; `None` when it is not one.
    pub fn from_der(der: &[u8]) -> Option<CertificateInfo> {
        let (cert, _) = expect(der, 0x30)?;
        let (tbs, _) = expect(cert, 0x30)?;
        let mut rest = tbs;
        let (tag, _, r) = tlv(rest)?;
        if tag == 0xa0 {
            rest = r; // explicit version
        }
        let (_, r) = expect(rest, 0x02)?; // serial
        let (_, r) = expect(r, 0x30)?; // signature algorithm
        let (issuer, r) = expect(r, 0x30)?;
        let (_, r) = expect(r, 0x30)?; // validity
        let (subject, r) = expect(r, 0x30)?;
        let spki_len = r.len();
        let (_, after_spki) = expect(r, 0x30)?;
        let spki_der = r[..spki_len - after_spki.len()].to_vec();
        let mut info = CertificateInfo {
            subject: name(subject),
            issuer: name(issuer),
            spki_der,
            ..CertificateInfo::default()
        };
        let mut rest = after_spki;
        while let Some((tag, content, r)) = tlv(rest) {
            rest = r;
            if tag == 0xa3 {
                extensions(content, &mut info);
            }
        }
        Some(info)
    }
}

fn extensions(wrapper: &[u8], info: &mut CertificateInfo) {
    let Some((mut list, _)) = expect(wrapper, 0x30) else {
        return;
    };
    while let Some((ext, r)) = expect(list, 0x30) {
        list = r;
        let Some((oid, mut fields)) = expect(ext, 0x06) else {
            continue;
        };
        if let Some((0x01, _, r)) = tlv(fields) {
            fields = r; // critical flag
        }
        let Some((value, _)) = expect(fields, 0x04) else {
            continue;
        };
        if oid == OID_SAN {
            if let Some((mut names, _)) = expect(value, 0x30) {
                while let Some((tag, content, r)) = tlv(names) {
                    names = r;
                    if matches!(tag, 0x81 | 0x82 | 0x86) {
                        info.san.push(String::from_utf8_lossy(content).into_owned());
                    }
                }
            }
        } else if oid == OID_FULCIO_ISSUER_V2 {
            if let Some((_, content, _)) = tlv(value) {
                info.oidc_issuer = Some(String::from_utf8_lossy(content).into_owned());
            }
        } else if oid == OID_FULCIO_ISSUER_V1 && info.oidc_issuer.is_none() {
            info.oidc_issuer = Some(String::from_utf8_lossy(value).into_owned());
        }
    }
}

/// `CN=…, O=…` from a Name (a SEQUENCE of SETs of attribute SEQUENCEs).
fn name(mut seq: &[u8]) -> String {
    let mut parts = Vec::new();
    while let Some((set, r)) = expect(seq, 0x31) {
        seq = r;
        let mut set = set;
        while let Some((attr, r)) = expect(set, 0x30) {
            set = r;
            let Some((oid, value)) = expect(attr, 0x06) else {
                continue;
            };
            let label = match oid {
                [0x55, 0x04, 0x03] => "CN",
                [0x55, 0x04, 0x0a] => "O",
                [0x55, 0x04, 0x0b] => "OU",
                [0x55, 0x04, 0x06] => "C",
                [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "E",
                _ => continue,
            };
            if let Some((_, content, _)) = tlv(value) {
                parts.push(format!("{label}={}", String::from_utf8_lossy(content)));
            }
        }
    }
    parts.join(", ")
}

/// One DER TLV: (tag, content, rest). Lengths up to 4 bytes; `None` when truncated.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// A TLV with `tag`: (content, rest).
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    match tlv(input)? {
        (t, content, rest) if t == tag => Some((content, rest)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(CertificateInfo::from_pem("hello").is_err());
        let err = CertificateInfo::from_pem(
            "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----",
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a DER"), "{err}");
        for der in [
            &[][..],
            &[0x30],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x02, 0x30, 0x05],
        ] {
            assert!(CertificateInfo::from_der(der).is_none());
        }
    }
}
