//! Header blocks: numeric fields, name fields, checksums and padding.

use crate::layer::LayerError;

pub(super) const BLOCK: usize = 512;

/// The size field of a header block.
pub(super) const SIZE: std::ops::Range<usize> = 124..136;

/// A numeric header field: octal text (spaces and NULs around it ignored, empty is 0) or
/// GNU base-256 (high bit set; two's complement when negative), as GNU tar and Go's
/// archive/tar read them.
pub(super) fn numeric(field: &[u8]) -> Result<i64, String> {
    if let Some(&first) = field.first()
        && first & 0x80 != 0
    {
        let inv = if first & 0x40 != 0 { 0xff } else { 0 };
        let mut x: u64 = 0;
        for (i, &c) in field.iter().enumerate() {
            let mut c = c ^ inv;
            if i == 0 {
                c &= 0x7f;
            }
            if x >> 56 != 0 {
                return Err("base-256 value overflows 64 bits".into());
            }
            x = x << 8 | u64::from(c);
        }
        if x >> 63 != 0 {
            return Err("base-256 value overflows 64 bits".into());
        }
        let x = x as i64;
        return Ok(if inv == 0xff { !x } else { x });
    }
    let text = field.iter().map(|&b| b as char).collect::<String>();
    let text = text.trim_matches(|c| c == ' ' || c == '\0');
    if text.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(text, 8)
        .ok()
        .and_then(|v| i64::try_from(v).ok())
        .ok_or_else(|| format!("{text:?} is not an octal number"))
}

pub(super) fn padding(len: u64) -> u64 {
    (BLOCK as u64 - len % BLOCK as u64) % BLOCK as u64
}

pub(super) fn lossy(bytes: Option<&[u8]>) -> String {
    String::from_utf8_lossy(bytes.map(c_string).unwrap_or_default()).into_owned()
}

/// The bytes before the first NUL (how C tar implementations read name fields).
pub(super) fn c_string(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// Checks the header checksum: the sum of all bytes with the checksum field read as
/// spaces, unsigned (POSIX) or signed (some historic tars).
pub(super) fn check_checksum(blk: &[u8; BLOCK], at: u64) -> Result<(), LayerError> {
    let mut unsigned: u32 = 0;
    let mut signed: i32 = 0;
    for (i, &b) in blk.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u32::from(b);
        signed += i32::from(b as i8);
    }
    let field = &blk[148..156];
    let text: String = field
        .iter()
        .map(|&b| b as char)
        .collect::<String>()
        .trim_matches(|c: char| c == '\0' || c == ' ')
        .to_owned();
    let stored = u32::from_str_radix(&text, 8).ok();
    match stored {
        Some(s) if s == unsigned || s as i64 == i64::from(signed) => Ok(()),
        _ => Err(LayerError::BadHeaderChecksum {
            offset: at,
            stored: String::from_utf8_lossy(field).into_owned(),
            computed: unsigned,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_fields() {
        assert_eq!(numeric(b"0000644\0"), Ok(0o644));
        assert_eq!(numeric(b"\0\0\0\0\0\0\0\0"), Ok(0));
        assert_eq!(numeric(b"  17 \0"), Ok(0o17));
        assert_eq!(numeric(&[0x80, 0, 0, 0, 0, 0, 0x01, 0x00]), Ok(256));
        assert_eq!(numeric(&[0xff; 12]), Ok(-1));
        assert!(numeric(&[0x80, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(numeric(b"12x\0").is_err());
    }
}
