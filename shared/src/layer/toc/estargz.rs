//! eStargz: an empty gzip member at the blob's end (the footer) whose extra field names
//! the offset of the TOC's gzip member, a tar holding `stargz.index.json`. The older
//! stargz footer (47 bytes, the payload without an RFC 1952 subfield header) is read too.

use super::{ByteRange, MAX_TOC_BYTES, TocError, TocStep, decompress, entries, verify};
use crate::digest::Digest;
use crate::layer::{Compression, Limits};

/// The TOC's name inside its tar.
pub(super) const TOC_NAME: &str = "stargz.index.json";
/// eStargz's footer: gzip header, XLEN 26, subfield `SG` of 22 bytes, empty stored block,
/// gzip trailer.
const FOOTER: usize = 51;
/// stargz's footer: XLEN 22, the payload without a subfield header.
const LEGACY_FOOTER: usize = 47;
/// `%016x` of the offset, then `STARGZ`.
const PAYLOAD: usize = 22;

/// The TOC's offset, and the footer's length, from the blob's last bytes.
fn footer(tail: &[u8]) -> Option<(u64, usize)> {
    let payload_at = |footer_len: usize, xlen: u16, payload_at: usize| -> Option<u64> {
        let f = tail.get(tail.len().checked_sub(footer_len)?..)?;
        let header_ok = f[0] == 0x1f && f[1] == 0x8b && f[2] == 8 && f[3] & 0x04 != 0;
        if !header_ok || u16::from_le_bytes([f[10], f[11]]) != xlen {
            return None;
        }
        let payload = f.get(payload_at..payload_at + PAYLOAD)?;
        if &payload[16..] != b"STARGZ" {
            return None;
        }
        u64::from_str_radix(std::str::from_utf8(&payload[..16]).ok()?, 16).ok()
    };
    let modern = || {
        let f = tail.get(tail.len().checked_sub(FOOTER)?..)?;
        (&f[12..14] == b"SG" && u16::from_le_bytes([f[14], f[15]]) == PAYLOAD as u16)
            .then_some(())?;
        payload_at(FOOTER, 26, 16)
    };
    modern()
        .map(|offset| (offset, FOOTER))
        .or_else(|| payload_at(LEGACY_FOOTER, PAYLOAD as u16, 12).map(|o| (o, LEGACY_FOOTER)))
}

/// Reads the TOC from `bytes`, the blob's `range` (which must reach the blob's end).
pub(super) fn read(
    blob_size: u64,
    toc_digest: &Digest,
    range: ByteRange,
    bytes: &[u8],
    limits: &Limits,
) -> Result<TocStep, TocError> {
    if range.end != blob_size {
        return Err(TocError::OutOfBlob {
            start: range.start,
            end: range.end,
            size: blob_size,
        });
    }
    let (offset, footer_len) = footer(bytes).ok_or(TocError::NoFooter)?;
    let toc_end = blob_size - footer_len as u64;
    if offset >= toc_end {
        return Err(TocError::BadOffset {
            offset,
            size: blob_size,
        });
    }
    if toc_end - offset > MAX_TOC_BYTES {
        return Err(TocError::TooLarge {
            bytes: toc_end - offset,
            max: MAX_TOC_BYTES,
        });
    }
    if offset < range.start {
        return Ok(TocStep::Fetch(ByteRange {
            start: offset,
            end: blob_size,
        }));
    }
    let member = &bytes[(offset - range.start) as usize..(toc_end - range.start) as usize];
    let tar = decompress(Compression::Gzip, member, limits)?;
    let json = toc_file(&tar)?;
    verify(toc_digest, json)?;
    entries::index_of(json, limits).map(TocStep::Listed)
}

/// The contents of `stargz.index.json`, the first entry of the TOC member's tar.
fn toc_file(tar: &[u8]) -> Result<&[u8], TocError> {
    let header = tar
        .get(..512)
        .ok_or_else(|| TocError::NotToc(format!("{} bytes", tar.len())))?;
    let name_end = header[..100].iter().position(|&b| b == 0).unwrap_or(100);
    let name = String::from_utf8_lossy(&header[..name_end]);
    if name != TOC_NAME {
        return Err(TocError::NotToc(name.into_owned()));
    }
    let size_field = std::str::from_utf8(&header[124..136])
        .ok()
        .map(|s| s.trim_matches(|c: char| c == '\0' || c == ' '))
        .and_then(|s| u64::from_str_radix(s, 8).ok())
        .ok_or_else(|| TocError::NotToc(format!("{name} with an unreadable size")))?;
    usize::try_from(size_field)
        .ok()
        .and_then(|size| tar.get(512..512usize.checked_add(size)?))
        .ok_or_else(|| TocError::NotToc(format!("{name} cut short")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A footer as the format describes it, for `offset`.
    fn modern_footer(offset: u64) -> Vec<u8> {
        let mut f = vec![
            0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 26, 0, b'S', b'G', 22, 0,
        ];
        f.extend_from_slice(format!("{offset:016x}STARGZ").as_bytes());
        f.extend_from_slice(&[1, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(f.len(), FOOTER);
        f
    }

    #[test]
    fn both_footers_are_read() {
        let mut blob = vec![7u8; 100];
        blob.extend(modern_footer(42));
        assert_eq!(footer(&blob), Some((42, FOOTER)));

        let mut legacy = vec![0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 22, 0];
        legacy.extend_from_slice(format!("{:016x}STARGZ", 9).as_bytes());
        legacy.extend_from_slice(&[1, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(legacy.len(), LEGACY_FOOTER);
        assert_eq!(footer(&legacy), Some((9, LEGACY_FOOTER)));
    }

    #[test]
    fn anything_else_has_no_footer() {
        assert_eq!(footer(&[]), None);
        assert_eq!(footer(&[0x1f; 51]), None);
        let mut wrong = modern_footer(1);
        wrong[16 + 16] = b'X';
        assert_eq!(footer(&wrong), None);
        let mut not_hex = modern_footer(1);
        not_hex[16] = b'g';
        assert_eq!(footer(&not_hex), None);
    }

    #[test]
    fn an_offset_before_the_tail_asks_for_more_and_one_past_the_end_fails() {
        let mut blob = vec![0u8; 1000];
        blob.extend(modern_footer(10));
        let size = blob.len() as u64;
        let digest = Digest::sha256_of(b"toc");
        let range = ByteRange {
            start: size - 200,
            end: size,
        };
        let step = read(
            size,
            &digest,
            range,
            &blob[size as usize - 200..],
            &Limits::default(),
        );
        assert!(
            matches!(step, Ok(TocStep::Fetch(r)) if r == ByteRange { start: 10, end: size }),
            "{step:?}"
        );
        let mut past = vec![0u8; 10];
        past.extend(modern_footer(10));
        let size = past.len() as u64;
        let all = ByteRange {
            start: 0,
            end: size,
        };
        assert!(matches!(
            read(size, &digest, all, &past, &Limits::default()),
            Err(TocError::BadOffset { offset: 10, .. })
        ));
    }
}
