//! The table of contents of an archive file's outer tar, built by reading headers only:
//! the caller reads the ranges [`TarTable::next`] asks for (a `File.slice` in the page)
//! and feeds them back, so a 2 GB `docker save` tarball is indexed with a few reads of
//! 512 bytes per member and never held in memory. Sans-I/O, like the layer pipeline.

use std::collections::HashSet;

use super::{ArchiveError, safe_member_path};

const BLOCK: u64 = 512;
/// Longest GNU long name or PAX header read.
const MAX_EXTENDED_HEADER: u64 = 64 * 1024;
/// Most members an archive may have (a `docker save` of 100 images has about 1,000).
pub const MAX_MEMBERS: usize = 100_000;

/// One regular file of the archive: where its bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Path inside the archive, normalized by [`safe_member_path`].
    pub path: String,
    /// Offset of the first data byte in the archive file.
    pub offset: u64,
    /// Length of the data.
    pub size: u64,
}

/// What to read next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Read `len` bytes at `offset` and pass them to [`TarTable::feed`].
    Read {
        /// Start in the file.
        offset: u64,
        /// Bytes to read.
        len: u64,
    },
    /// The table is complete.
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Header,
    LongName { data_at: u64, len: u64 },
    Pax { data_at: u64, len: u64 },
    Done,
}

/// Builds the member table of an outer tar from header reads.
#[derive(Debug)]
pub struct TarTable {
    file_len: u64,
    at: u64,
    expect: Expect,
    long_name: Option<String>,
    pax_path: Option<String>,
    pax_size: Option<u64>,
    members: Vec<Member>,
    seen: HashSet<String>,
}

impl TarTable {
    /// A table for a file of `file_len` bytes.
    pub fn new(file_len: u64) -> TarTable {
        TarTable {
            file_len,
            at: 0,
            expect: Expect::Header,
            long_name: None,
            pax_path: None,
            pax_size: None,
            members: Vec::new(),
            seen: HashSet::new(),
        }
    }

    /// The next range to read.
    pub fn next(&self) -> Step {
        match self.expect {
            Expect::Header => Step::Read {
                offset: self.at,
                len: BLOCK,
            },
            Expect::LongName { data_at, len } | Expect::Pax { data_at, len } => Step::Read {
                offset: data_at,
                len,
            },
            Expect::Done => Step::Done,
        }
    }

    /// Takes the bytes of the range [`TarTable::next`] asked for (fewer at end of file).
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), ArchiveError> {
        match self.expect {
            Expect::Done => Ok(()),
            Expect::Header => self.header(bytes),
            Expect::LongName { len, .. } => {
                let data = self.extended(bytes, len)?;
                let name = String::from_utf8_lossy(until_nul(data)).into_owned();
                self.long_name = Some(name);
                self.expect = Expect::Header;
                Ok(())
            }
            Expect::Pax { len, .. } => {
                let data = self.extended(bytes, len)?.to_vec();
                self.pax(&data)?;
                self.expect = Expect::Header;
                Ok(())
            }
        }
    }

    /// The regular files, in archive order. Call after [`Step::Done`].
    pub fn members(self) -> Vec<Member> {
        self.members
    }

    fn header(&mut self, block: &[u8]) -> Result<(), ArchiveError> {
        if block.is_empty() && self.at >= self.file_len && self.members.is_empty() {
            return Err(ArchiveError::NotTar("the file is empty".into()));
        }
        if block.len() < BLOCK as usize {
            // Some writers end without the two zero blocks; an end exactly at a member
            // boundary is complete, anything shorter is cut.
            if block.is_empty() && !self.members.is_empty() && self.long_name.is_none() {
                self.expect = Expect::Done;
                return Ok(());
            }
            return Err(ArchiveError::Truncated { at: self.at });
        }
        if block.iter().all(|b| *b == 0) {
            self.expect = Expect::Done;
            return Ok(());
        }
        check_checksum(block, self.at)?;
        let size = match self.pax_size.take() {
            Some(size) => size,
            None => octal_or_binary(&block[124..136]).ok_or(ArchiveError::BadHeader {
                at: self.at,
                problem: "size field is not a number",
            })?,
        };
        let data_at = self.at + BLOCK;
        let padded = size
            .checked_add(BLOCK - 1)
            .map(|s| s / BLOCK * BLOCK)
            .ok_or(ArchiveError::Truncated { at: self.at })?;
        let next = data_at
            .checked_add(padded)
            .ok_or(ArchiveError::Truncated { at: self.at })?;
        if data_at.saturating_add(size) > self.file_len {
            return Err(ArchiveError::Truncated { at: self.at });
        }
        let typeflag = block[156];
        match typeflag {
            b'L' | b'x' => {
                if size > MAX_EXTENDED_HEADER {
                    return Err(ArchiveError::BadHeader {
                        at: self.at,
                        problem: "extended header larger than 64 KiB",
                    });
                }
                self.at = next;
                self.expect = if typeflag == b'L' {
                    Expect::LongName { data_at, len: size }
                } else {
                    Expect::Pax { data_at, len: size }
                };
                return Ok(());
            }
            _ => {}
        }
        let header_path = || {
            let name = String::from_utf8_lossy(until_nul(&block[0..100])).into_owned();
            let ustar = &block[257..262] == b"ustar";
            let prefix = until_nul(&block[345..500]);
            if ustar && !prefix.is_empty() {
                format!("{}/{name}", String::from_utf8_lossy(prefix))
            } else {
                name
            }
        };
        let raw_path = self
            .pax_path
            .take()
            .or_else(|| self.long_name.take())
            .unwrap_or_else(header_path);
        self.long_name = None;
        self.at = next;
        // Regular files only ('0' and the old NUL); directories and links carry no blob.
        if typeflag == b'0' || typeflag == 0 || typeflag == b'7' {
            let path = safe_member_path(raw_path.trim_end_matches('/'))?;
            if !self.seen.insert(path.clone()) {
                return Err(ArchiveError::Duplicate(path));
            }
            if self.members.len() >= MAX_MEMBERS {
                return Err(ArchiveError::TooManyMembers(MAX_MEMBERS));
            }
            self.members.push(Member {
                path,
                offset: data_at,
                size,
            });
        }
        Ok(())
    }

    fn extended<'a>(&self, bytes: &'a [u8], len: u64) -> Result<&'a [u8], ArchiveError> {
        if (bytes.len() as u64) < len {
            return Err(ArchiveError::Truncated { at: self.at });
        }
        Ok(&bytes[..len as usize])
    }

    /// PAX records: `LEN KEY=VALUE\n`; `path` and `size` are the ones that matter here.
    fn pax(&mut self, mut data: &[u8]) -> Result<(), ArchiveError> {
        let bad = |problem| ArchiveError::BadHeader {
            at: self.at,
            problem,
        };
        while !data.is_empty() && data[0] != 0 {
            let space = data
                .iter()
                .position(|b| *b == b' ')
                .ok_or(bad("PAX record without a length"))?;
            let len: usize = std::str::from_utf8(&data[..space])
                .ok()
                .and_then(|s| s.parse().ok())
                .filter(|l| *l > space + 1 && *l <= data.len())
                .ok_or(bad("PAX record length out of range"))?;
            let record = &data[space + 1..len];
            let record = record.strip_suffix(b"\n").unwrap_or(record);
            if let Some(eq) = record.iter().position(|b| *b == b'=') {
                let (key, value) = (&record[..eq], &record[eq + 1..]);
                match key {
                    b"path" => self.pax_path = Some(String::from_utf8_lossy(value).into_owned()),
                    b"size" => {
                        self.pax_size = Some(
                            std::str::from_utf8(value)
                                .ok()
                                .and_then(|s| s.parse().ok())
                                .ok_or(bad("PAX size is not a number"))?,
                        )
                    }
                    _ => {}
                }
            }
            data = &data[len..];
        }
        Ok(())
    }
}

fn until_nul(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

/// A numeric header field: octal text, or GNU's base-256 when the high bit is set.
fn octal_or_binary(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(*b))?;
        }
        return Some(value);
    }
    let text = std::str::from_utf8(until_nul(field)).ok()?.trim();
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

fn check_checksum(block: &[u8], at: u64) -> Result<(), ArchiveError> {
    let stated = octal_or_binary(&block[148..156]).ok_or(ArchiveError::NotTar(format!(
        "no tar header at byte {at} (is this an image archive?)"
    )))?;
    let unsigned: u64 = block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(*b)
            }
        })
        .sum();
    let signed: i64 = block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                i64::from(*b as i8)
            }
        })
        .sum();
    if stated != unsigned && stated as i64 != signed {
        return Err(ArchiveError::NotTar(format!(
            "no tar header at byte {at} (checksum mismatch; is this an image archive?)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn table(bytes: &[u8]) -> Result<Vec<Member>, ArchiveError> {
        let mut table = TarTable::new(bytes.len() as u64);
        let mut reads = 0;
        while let Step::Read { offset, len } = table.next() {
            reads += 1;
            assert!(reads < 10_000, "loops");
            let start = (offset as usize).min(bytes.len());
            let end = (offset.saturating_add(len) as usize).min(bytes.len());
            table.feed(&bytes[start..end])?;
        }
        Ok(table.members())
    }

    #[test]
    fn members_and_their_offsets() {
        let long = format!("blobs/sha256/{}", "a".repeat(120));
        let archive = tar_of(&[
            ("manifest.json", b"[]"),
            ("l1/layer.tar", &[7u8; 1000]),
            (&long, b"x"),
        ]);
        let members = table(&archive).unwrap();
        assert_eq!(members.len(), 3);
        assert_eq!(members[2].path, long);
        for (m, expected) in members.iter().zip([&b"[]"[..], &[7u8; 1000], b"x"]) {
            assert_eq!(
                &archive[m.offset as usize..(m.offset + m.size) as usize],
                expected
            );
        }
    }

    #[test]
    fn a_truncated_archive_is_named() {
        let archive = tar_of(&[("a", &[1u8; 5000]), ("b", b"bb")]);
        for cut in [100, 700, 3000, 5700] {
            let err = table(&archive[..cut]).unwrap_err();
            assert!(
                matches!(err, ArchiveError::Truncated { .. }),
                "{cut}: {err}"
            );
        }
    }

    #[test]
    fn duplicates_and_escapes_are_refused() {
        let archive = tar_of(&[("a.json", b"1"), ("a.json", b"2")]);
        assert_eq!(
            table(&archive),
            Err(ArchiveError::Duplicate("a.json".into()))
        );
        let mut evil = tar_of(&[("xx/passwd", b"root")]);
        evil[..9].copy_from_slice(b"../passwd");
        // Re-checksum the edited header.
        evil[148..156].copy_from_slice(b"        ");
        let sum: u32 = evil[..512].iter().map(|b| u32::from(*b)).sum();
        evil[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        assert_eq!(
            table(&evil),
            Err(ArchiveError::UnsafePath("../passwd".into()))
        );
    }

    #[test]
    fn not_a_tar_at_all() {
        let err = table(&[0x1f, 0x8b, 8, 0].repeat(200)).unwrap_err();
        assert!(matches!(err, ArchiveError::NotTar(_)), "{err}");
        assert!(matches!(table(&[]), Err(ArchiveError::NotTar(_))));
    }

    #[test]
    fn every_prefix_and_every_byte_flip_ends_cleanly() {
        let archive = tar_of(&[("manifest.json", b"[{}]"), ("blobs/sha256/ab", &[9u8; 700])]);
        for cut in 0..archive.len() {
            let _ = table(&archive[..cut]);
        }
        for i in 0..1536 {
            let mut flipped = archive.clone();
            flipped[i] ^= 0xff;
            let _ = table(&flipped);
        }
    }
}
