//! The strict grammar (distribution's `Parse`), matched by hand: each production of the
//! module doc is one small function over bytes.

use super::{REPOSITORY_NAME_MAX_LEN, ReferenceError, write_suffix};
use crate::digest::Digest;
use std::fmt;
use std::str::FromStr;

const MISSING_NAME: &str = "a repository name must come before the tag or digest";
const BAD_PATH: &str = "repository path components must be lowercase letters and digits, \
     joined by '.', '_', '__' or dashes";
const BAD_HOST: &str = "registry must be a host name, IPv4 address or [IPv6] address, \
     with an optional numeric port";
const BAD_TAG: &str = "tag must be 1 to 128 letters, digits, '_', '.' or '-', \
     and must not start with '.' or '-'";
const BAD_DIGEST: &str = "digest must be ALGORITHM:HEX with at least 32 hex digits";

/// A reference split by the grammar exactly as written: no default registry, no
/// `library/` prefix, no default tag. `Display` gives back the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedReference {
    /// The first component when it is a registry host (`test:5000`, `[::1]:5000`, `foo`).
    pub domain: Option<String>,
    /// The repository path after the domain (`library/ubuntu`).
    pub path: String,
    /// The tag, if any.
    pub tag: Option<String>,
    /// The digest, if any.
    pub digest: Option<Digest>,
}

impl ParsedReference {
    /// `domain/path`, or the path alone without a domain (distribution's `Name()`).
    pub fn name(&self) -> String {
        match &self.domain {
            Some(domain) => format!("{domain}/{}", self.path),
            None => self.path.clone(),
        }
    }
}

impl fmt::Display for ParsedReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(domain) = &self.domain {
            write!(f, "{domain}/")?;
        }
        f.write_str(&self.path)?;
        write_suffix(f, self.tag.as_deref(), self.digest.as_ref())
    }
}

impl FromStr for ParsedReference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_strict(s)
    }
}

/// Parses `s` with the grammar alone, like distribution's `Parse`: `ubuntu` stays
/// `ubuntu` (no domain, no tag). See [`super::Reference::parse_normalized`] for docker's
/// reading.
pub fn parse_strict(s: &str) -> Result<ParsedReference, ReferenceError> {
    parse_as(s, s)
}

/// [`parse_strict`] of `s`, with errors naming `shown` (what the user typed).
pub(super) fn parse_as(s: &str, shown: &str) -> Result<ParsedReference, ReferenceError> {
    if s.is_empty() {
        return Err(ReferenceError::Empty);
    }
    let parts = match split(s) {
        Ok(parts) => parts,
        Err(reason) => {
            // Like distribution: if only case is wrong, say so.
            let lower = s.to_lowercase();
            if lower != s && split(&lower).is_ok() {
                return Err(ReferenceError::Uppercase(shown.to_owned()));
            }
            return Err(ReferenceError::InvalidFormat {
                input: shown.to_owned(),
                reason,
            });
        }
    };
    if parts.path.len() > REPOSITORY_NAME_MAX_LEN {
        return Err(ReferenceError::NameTooLong {
            input: shown.to_owned(),
            length: parts.path.len(),
        });
    }
    let digest = parts
        .digest
        .map(Digest::parse)
        .transpose()
        .map_err(|problem| ReferenceError::Digest {
            input: shown.to_owned(),
            problem,
        })?;
    Ok(ParsedReference {
        domain: parts.domain.map(str::to_owned),
        path: parts.path.to_owned(),
        tag: parts.tag.map(str::to_owned),
        digest,
    })
}

/// The four captures of distribution's anchored reference regexp.
struct Parts<'a> {
    domain: Option<&'a str>,
    path: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

/// Splits `s` into its parts, or says which part breaks the grammar. The split is
/// unambiguous: only the digest may follow `@` (nothing else contains one), and the tag
/// is after the last `:` unless a `/` follows it (then that `:` belongs to the domain).
fn split(s: &str) -> Result<Parts<'_>, &'static str> {
    let (rest, digest) = match s.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (s, None),
    };
    let (name, tag) = match rest.rfind(':') {
        Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    if name.is_empty() {
        return Err(MISSING_NAME);
    }
    let (domain, path) = split_name(name)?;
    if tag.is_some_and(|t| !is_tag(t)) {
        return Err(BAD_TAG);
    }
    if digest.is_some_and(|d| !is_digest(d)) {
        return Err(BAD_DIGEST);
    }
    Ok(Parts {
        domain,
        path,
        tag,
        digest,
    })
}

/// `[domain "/"] remote-name`, preferring a domain when the first component is one.
fn split_name(name: &str) -> Result<(Option<&str>, &str), &'static str> {
    if let Some((first, rest)) = name.split_once('/') {
        if is_domain_and_port(first) && is_remote_name(rest) {
            return Ok((Some(first), rest));
        }
        if !is_remote_name(name) && first.contains([':', '[', ']']) && !is_domain_and_port(first) {
            return Err(BAD_HOST);
        }
    }
    if is_remote_name(name) {
        Ok((None, name))
    } else {
        Err(BAD_PATH)
    }
}

/// `host [":" port-number]`.
fn is_domain_and_port(s: &str) -> bool {
    let (host_ok, port) = if let Some(bracketed) = s.strip_prefix('[') {
        let Some((address, after)) = bracketed.split_once(']') else {
            return false;
        };
        let ipv6 =
            !address.is_empty() && address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
        (ipv6, after)
    } else {
        let end = s.find(':').unwrap_or(s.len());
        (is_domain_name(&s[..end]), &s[end..])
    };
    host_ok
        && (port.is_empty()
            || port
                .strip_prefix(':')
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
}

/// `domain-component ["." domain-component]*`; this covers IPv4 addresses too.
fn is_domain_name(s: &str) -> bool {
    s.split('.').all(|c| {
        let b = c.as_bytes();
        !b.is_empty()
            && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    })
}

/// `path-component ["/" path-component]*` (length is checked separately).
fn is_remote_name(s: &str) -> bool {
    s.split('/').all(is_path_component)
}

/// `[a-z0-9]+` runs joined by exactly one of `.`, `_`, `__` or one or more `-`.
fn is_path_component(s: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = s.as_bytes();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while !alnum(b[i]) {
            i += 1; // ends before the last byte, which is alphanumeric
        }
        let sep = &s[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

/// `[\w][\w.-]{0,127}` with ASCII `\w`.
fn is_tag(s: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b[1..].iter().all(|&x| word(x) || x == b'.' || x == b'-')
}

/// The digest syntax of the grammar: `algorithm ":" [0-9a-fA-F]{32,}`, where the
/// algorithm is `[A-Za-z][A-Za-z0-9]*` components joined by one of `-_+.`.
fn is_digest(s: &str) -> bool {
    let Some((algorithm, hex)) = s.split_once(':') else {
        return false;
    };
    let component_ok = |c: &str| {
        let b = c.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
    };
    algorithm.split(['-', '_', '+', '.']).all(component_ok)
        && hex.len() >= 32
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `[a-f0-9]{64}`: an image ID, which docker refuses as a repository name.
pub(super) fn is_identifier(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests;
