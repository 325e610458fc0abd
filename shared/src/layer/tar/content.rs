//! What the walker learns from a file's data as it streams past: its CRC-32, a 64-bit
//! content hash, and its ELF header.
//!
//! Why a hash besides the CRC-32: CRC-32 + size tells a changed file from a rewritten
//! one only by luck of 1 in 2³² per pair, and CRC is linear, so a file can be forged to
//! keep both (4 chosen bytes suffice). XXH3-64 makes an accidental match between two
//! different files negligible (2⁻⁶⁴ per pair) at several GB/s. It is not a cryptographic
//! digest: an author who wants two different files to compare equal can still build
//! them; the layer's diff_id (sha256 of the whole tar) is what proves bytes. Measured cost:
//! `shared/examples/layer_bench.rs` prints the pipeline with and without it.

use std::hash::Hasher as _;

use twox_hash::XxHash3_64;

use crate::layer::elf::{ELF_HEAD_BYTES, ElfInfo};

/// Streams one file's data at a time: [`ContentProbe::start`], any number of
/// [`ContentProbe::update`]s, then [`ContentProbe::finish`].
pub(crate) struct ContentProbe {
    crc: flate2::Crc,
    hash_on: bool,
    /// Streaming state of a file that arrives in several pieces (allocated once).
    hasher: Option<XxHash3_64>,
    streaming: bool,
    oneshot: u64,
    /// Data bytes the entry has, and how many arrived.
    len: u64,
    seen: u64,
    head: [u8; ELF_HEAD_BYTES],
}

/// What the probe found in one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ContentFacts {
    pub(crate) crc32: u32,
    pub(crate) hash: u64,
    pub(crate) elf: Option<ElfInfo>,
}

impl ContentProbe {
    pub(crate) fn new() -> Self {
        ContentProbe {
            crc: flate2::Crc::new(),
            hash_on: true,
            hasher: None,
            streaming: false,
            oneshot: 0,
            len: 0,
            seen: 0,
            head: [0; ELF_HEAD_BYTES],
        }
    }

    /// Turns the 64-bit hash off (only to measure what it costs; entries then carry 0).
    pub(crate) fn set_hash(&mut self, on: bool) {
        self.hash_on = on;
    }

    /// A new file of `len` data bytes begins.
    pub(crate) fn start(&mut self, len: u64) {
        self.crc.reset();
        self.len = len;
        self.seen = 0;
        self.streaming = false;
        self.oneshot = 0;
    }

    /// The next piece of the file's data.
    pub(crate) fn update(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if self.seen < ELF_HEAD_BYTES as u64 {
            // The header may straddle chunks: keep its first bytes whatever the split.
            let at = self.seen as usize;
            let n = (ELF_HEAD_BYTES - at).min(data.len());
            self.head[at..at + n].copy_from_slice(&data[..n]);
        }
        self.crc.update(data);
        if self.hash_on {
            if self.seen == 0 && data.len() as u64 == self.len {
                // Whole file in one piece (most files): no streaming state at all.
                self.oneshot = XxHash3_64::oneshot(data);
            } else {
                if !self.streaming {
                    self.streaming = true;
                    // XxHash3_64 has no reset; a fresh one costs one small allocation,
                    // only for files that span chunks.
                    self.hasher = Some(XxHash3_64::new());
                }
                if let Some(h) = self.hasher.as_mut() {
                    h.write(data);
                }
            }
        }
        self.seen += data.len() as u64;
    }

    /// The file's facts, once all its data passed.
    pub(crate) fn finish(&mut self) -> ContentFacts {
        let hash = match (self.hash_on, self.streaming) {
            (false, _) => 0,
            (true, false) => self.oneshot,
            (true, true) => self.hasher.take().map_or(0, |h| h.finish()),
        };
        let head = &self.head[..(self.seen.min(ELF_HEAD_BYTES as u64) as usize)];
        ContentFacts {
            crc32: self.crc.sum(),
            hash,
            elf: ElfInfo::parse(head),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::elf::test_head;

    fn probe(data: &[u8], chunk: usize) -> ContentFacts {
        let mut p = ContentProbe::new();
        p.start(data.len() as u64);
        for c in data.chunks(chunk) {
            p.update(c);
        }
        p.finish()
    }

    #[test]
    fn same_facts_whatever_the_chunking() {
        let mut data = test_head(2, 1, 2, 183);
        data.extend((0..1200u32).map(|i| (i * 7) as u8));
        let whole = probe(&data, data.len());
        assert_eq!(whole.hash, XxHash3_64::oneshot(&data));
        assert_eq!(whole.elf.map(|e| e.machine), Some(183));
        for chunk in [1, 3, 19, 20, 21, 64, 1219] {
            assert_eq!(probe(&data, chunk), whole, "chunk {chunk}");
        }
    }

    /// Through the whole walker: the ELF header sits at tar offset 512..532, and every
    /// chunk size from 1 to 600 cuts it (or the data) somewhere else.
    #[test]
    fn walker_reads_an_elf_header_split_across_chunks() {
        let mut elf = test_head(2, 1, 3, 62);
        elf.extend((0..3000u32).map(|i| i as u8));
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o755);
        h.set_size(elf.len() as u64);
        b.append_data(&mut h, "usr/bin/x", &elf[..]).unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_size(5);
        b.append_data(&mut h, "etc/text", &b"\x7fELF"[..4].repeat(2)[..5])
            .unwrap();
        let tar = b.into_inner().unwrap();
        for chunk in 1..=600 {
            let mut w = crate::layer::TarWalker::new(crate::layer::Limits::default());
            tar.chunks(chunk).for_each(|c| w.push(c).unwrap());
            let index = w.finish().unwrap();
            let x = index.find("usr/bin/x").unwrap();
            assert_eq!(x.elf().map(|e| e.machine), Some(62), "chunk {chunk}");
            assert_eq!(x.content_hash(), XxHash3_64::oneshot(&elf), "chunk {chunk}");
            assert_eq!(index.find("etc/text").unwrap().elf(), None, "chunk {chunk}");
        }
    }

    #[test]
    fn hash_separates_files_crc32_and_size_cannot() {
        // Two names of equal length with the same CRC-32 (found by a birthday search over
        // `file-{i:08}`): CRC-32 + size would call them one content.
        let (a, b) = ("file-09685295", "file-12060020");
        let (fa, fb) = (probe(a.as_bytes(), 5), probe(b.as_bytes(), 5));
        assert_ne!(a, b);
        assert_eq!((fa.crc32, a.len()), (fb.crc32, b.len()));
        assert_ne!(fa.hash, fb.hash);
        let mut p = ContentProbe::new();
        p.set_hash(false);
        p.start(3);
        p.update(b"abc");
        assert_eq!(p.finish().hash, 0);
    }
}
