//! Stage 2: push-based decompression (gzip with several members, zstd, or none).
//!
//! Output is handed to a sink in pieces of at most a few hundred KiB, and the total is
//! checked against [`Limits::max_decompressed_bytes`] before each piece leaves, so a bomb
//! stops at the cap without the output ever being held in memory.

use std::io::Write;

use flate2::write::MultiGzDecoder;
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use super::{Compression, LayerError, Limits};

/// Where decompressed bytes go: the next stage, a buffer to post to another worker, ...
pub type Sink<'a> = dyn FnMut(&[u8]) -> Result<(), LayerError> + 'a;

/// Push-based decompressor for one layer blob.
///
/// Feed compressed chunks with [`Decompressor::push`]; decompressed bytes go to the
/// sink given with each call. [`Decompressor::finish`] flushes the tail and reports a
/// truncated or corrupt stream.
pub struct Decompressor {
    inner: Inner,
    compression: Compression,
    limit: u64,
    compressed_in: u64,
    decompressed_out: u64,
    failed: bool,
}

enum Inner {
    None,
    Gzip(Box<MultiGzDecoder<OutBuf>>),
    Zstd(Box<ZstdPush>),
}

/// The writer flate2 decodes into; drained to the sink after every `write` call, so it
/// never holds more than one inflate buffer (32 KiB).
#[derive(Default)]
struct OutBuf(Vec<u8>);

impl Write for OutBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Decompressor {
    /// A decompressor for `compression`, capped by `limits.max_decompressed_bytes` (and
    /// `limits.max_zstd_window` for zstd).
    pub fn new(compression: Compression, limits: &Limits) -> Self {
        let inner = match compression {
            Compression::None => Inner::None,
            Compression::Gzip => Inner::Gzip(Box::new(MultiGzDecoder::new(OutBuf::default()))),
            Compression::Zstd => Inner::Zstd(Box::new(ZstdPush::new(limits.max_zstd_window))),
        };
        Decompressor {
            inner,
            compression,
            limit: limits.max_decompressed_bytes,
            compressed_in: 0,
            decompressed_out: 0,
            failed: false,
        }
    }

    /// The compression this decompressor undoes.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Compressed bytes pushed so far.
    pub fn compressed_in(&self) -> u64 {
        self.compressed_in
    }

    /// Decompressed bytes handed to sinks so far.
    pub fn decompressed_out(&self) -> u64 {
        self.decompressed_out
    }

    /// Decompresses `input`, sending output to `sink`. Errors from the sink stop the
    /// stage and are returned as is.
    pub fn push(&mut self, input: &[u8], sink: &mut Sink<'_>) -> Result<(), LayerError> {
        if self.failed {
            return Err(LayerError::Misuse("failed"));
        }
        let r = self.push_inner(input, sink);
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    /// Same as [`Decompressor::push`], appending output to `out` (for posting it to a
    /// worker that runs the later stages).
    pub fn push_to_vec(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), LayerError> {
        self.push(input, &mut |b: &[u8]| {
            out.extend_from_slice(b);
            Ok(())
        })
    }

    /// Ends the stream: flushes the remaining output to `sink` and fails if the last gzip
    /// member or zstd frame is incomplete or its checksum is wrong.
    pub fn finish(mut self, sink: &mut Sink<'_>) -> Result<(), LayerError> {
        if self.failed {
            return Err(LayerError::Misuse("failed"));
        }
        let offset = self.compressed_in;
        let (limit, out) = (self.limit, &mut self.decompressed_out);
        let mut capped = |bytes: &[u8]| emit(bytes, limit, offset, out, sink);
        match &mut self.inner {
            Inner::None => Ok(()),
            Inner::Gzip(dec) => {
                if offset == 0 {
                    return Err(truncated("gzip", 0, "empty stream"));
                }
                let r = dec.try_finish();
                let tail = std::mem::take(&mut dec.get_mut().0);
                capped(&tail)?;
                r.map_err(|e| gzip_error(offset, &e, true))
            }
            Inner::Zstd(z) => z.finish(offset, &mut capped),
        }
    }

    fn push_inner(&mut self, input: &[u8], sink: &mut Sink<'_>) -> Result<(), LayerError> {
        let (limit, out) = (self.limit, &mut self.decompressed_out);
        match &mut self.inner {
            Inner::None => {
                self.compressed_in += input.len() as u64;
                emit(input, limit, self.compressed_in, out, sink)
            }
            Inner::Gzip(dec) => {
                let mut rest = input;
                while !rest.is_empty() {
                    let at = self.compressed_in;
                    let n = dec.write(rest).map_err(|e| gzip_error(at, &e, false))?;
                    // Output of the previous inflate step lands in OutBuf on each write.
                    let buf = &mut dec.get_mut().0;
                    let r = emit(buf, limit, at, out, sink);
                    buf.clear();
                    r?;
                    if n == 0 {
                        return Err(LayerError::Gzip {
                            offset: at,
                            reason: "decoder made no progress".into(),
                        });
                    }
                    self.compressed_in += n as u64;
                    rest = rest.get(n..).unwrap_or_default();
                }
                Ok(())
            }
            Inner::Zstd(z) => {
                let start = self.compressed_in;
                self.compressed_in += input.len() as u64;
                z.push(input, start, &mut |b: &[u8]| {
                    emit(b, limit, start, out, sink)
                })
            }
        }
    }
}

/// Counts `bytes` against the cap, then hands them to the sink.
fn emit(
    bytes: &[u8],
    limit: u64,
    compressed: u64,
    out: &mut u64,
    sink: &mut Sink<'_>,
) -> Result<(), LayerError> {
    if bytes.is_empty() {
        return Ok(());
    }
    let total = out.checked_add(bytes.len() as u64).unwrap_or(u64::MAX);
    if total > limit {
        return Err(LayerError::OutputTooLarge { limit, compressed });
    }
    *out = total;
    sink(bytes)
}

fn truncated(format: &'static str, offset: u64, reason: &str) -> LayerError {
    LayerError::CompressedTruncated {
        format,
        offset,
        reason: reason.to_owned(),
    }
}

fn gzip_error(offset: u64, e: &std::io::Error, at_end: bool) -> LayerError {
    if at_end && e.kind() == std::io::ErrorKind::UnexpectedEof {
        return truncated("gzip", offset, &e.to_string());
    }
    let reason = e.to_string();
    if at_end && reason.contains("checksum") {
        // flate2 reports a missing trailer as a checksum error: say which it is.
        return LayerError::Gzip {
            offset,
            reason: format!("{reason} (or the last member is cut short)"),
        };
    }
    LayerError::Gzip { offset, reason }
}

// ---------------------------------------------------------------------------------------
// zstd

const ZSTD_MAGIC: u32 = 0xFD2F_B528;
const MAX_BLOCK: usize = 128 * 1024;

/// ruzstd's `FrameDecoder` pulls from a reader; this feeds it whole units (a frame
/// header, or one block) that are complete in the pushed bytes, keeping at most one
/// incomplete unit (≤ 128 KiB + 7 bytes) in `pending`.
struct ZstdPush {
    dec: FrameDecoder,
    state: ZState,
    pending: Vec<u8>,
    max_window: u64,
    frames: u64,
    checksum_flag: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ZState {
    FrameStart,
    Block,
    Skip(u64),
}

/// Length of the next unit, when the bytes seen so far tell it.
enum Need {
    /// At least this many bytes before the length is known.
    AtLeast(usize),
    /// The unit is exactly this long.
    Exactly(usize),
}

impl ZstdPush {
    fn new(max_window: u64) -> Self {
        ZstdPush {
            dec: FrameDecoder::new(),
            state: ZState::FrameStart,
            pending: Vec::new(),
            max_window,
            frames: 0,
            checksum_flag: false,
        }
    }

    fn push(
        &mut self,
        mut input: &[u8],
        start: u64,
        sink: &mut Sink<'_>,
    ) -> Result<(), LayerError> {
        let mut offset = start;
        loop {
            if let ZState::Skip(left) = self.state {
                let n = (input.len() as u64).min(left);
                input = &input[n as usize..];
                offset += n;
                self.state = if left == n {
                    ZState::FrameStart
                } else {
                    ZState::Skip(left - n)
                };
                if input.is_empty() {
                    return Ok(());
                }
                continue;
            }
            if self.pending.is_empty() {
                if input.is_empty() {
                    return Ok(());
                }
                match self.need(input, offset)? {
                    Need::Exactly(n) if input.len() >= n => {
                        let (unit, rest) = input.split_at(n);
                        self.unit(unit, offset, sink)?;
                        input = rest;
                        offset += n as u64;
                    }
                    _ => {
                        // The unit is longer than what is left: keep it for the next push.
                        self.pending.extend_from_slice(input);
                        return Ok(());
                    }
                }
            } else {
                let pending_start = offset - self.pending.len() as u64;
                let want = match self.need(&self.pending, pending_start)? {
                    Need::Exactly(n) if self.pending.len() >= n => {
                        let unit = std::mem::take(&mut self.pending);
                        let r = self.unit(&unit, pending_start, sink);
                        self.pending = unit;
                        self.pending.clear();
                        r?;
                        continue;
                    }
                    Need::Exactly(n) | Need::AtLeast(n) => n,
                };
                let take = want.saturating_sub(self.pending.len()).min(input.len());
                if take == 0 {
                    return Ok(());
                }
                self.pending.extend_from_slice(&input[..take]);
                input = &input[take..];
                offset += take as u64;
            }
        }
    }

    /// How long the unit starting at `b` is.
    fn need(&self, b: &[u8], offset: u64) -> Result<Need, LayerError> {
        match self.state {
            ZState::FrameStart => {
                let Some(magic) = b.get(..4) else {
                    return Ok(Need::AtLeast(4));
                };
                let magic = u32::from_le_bytes([magic[0], magic[1], magic[2], magic[3]]);
                if (0x184D_2A50..=0x184D_2A5F).contains(&magic) {
                    return Ok(Need::Exactly(8));
                }
                if magic != ZSTD_MAGIC {
                    return Err(LayerError::Zstd {
                        offset,
                        reason: format!(
                            "bad frame magic number 0x{magic:08x} (expected 0x{ZSTD_MAGIC:08x})"
                        ),
                    });
                }
                let Some(&fhd) = b.get(4) else {
                    return Ok(Need::AtLeast(5));
                };
                Ok(Need::Exactly(frame_header_len(fhd)))
            }
            ZState::Block => {
                let Some(h) = b.get(..3) else {
                    return Ok(Need::AtLeast(3));
                };
                let header = u32::from(h[0]) | u32::from(h[1]) << 8 | u32::from(h[2]) << 16;
                let last = header & 1 == 1;
                let size = (header >> 3) as usize;
                let content = match (header >> 1) & 3 {
                    0 | 2 => size,
                    1 => 1,
                    _ => {
                        return Err(LayerError::Zstd {
                            offset,
                            reason: "reserved block type".into(),
                        });
                    }
                };
                if size > MAX_BLOCK {
                    return Err(LayerError::Zstd {
                        offset,
                        reason: format!("block of {size} bytes is over the 128 KiB maximum"),
                    });
                }
                let checksum = if last && self.checksum_flag { 4 } else { 0 };
                Ok(Need::Exactly(3 + content + checksum))
            }
            ZState::Skip(_) => Ok(Need::Exactly(0)),
        }
    }

    /// Processes one complete unit.
    fn unit(&mut self, unit: &[u8], offset: u64, sink: &mut Sink<'_>) -> Result<(), LayerError> {
        let zerr = |reason: String| LayerError::Zstd { offset, reason };
        match self.state {
            ZState::FrameStart => {
                let magic = u32::from_le_bytes([unit[0], unit[1], unit[2], unit[3]]);
                if magic != ZSTD_MAGIC {
                    let len = u32::from_le_bytes([unit[4], unit[5], unit[6], unit[7]]);
                    self.state = ZState::Skip(u64::from(len));
                    return Ok(());
                }
                let fhd = unit[4];
                if fhd & 0x08 != 0 {
                    return Err(zerr("reserved bit set in frame header".into()));
                }
                let window = frame_window(unit);
                if window > self.max_window {
                    return Err(LayerError::ZstdWindowTooLarge {
                        offset,
                        window,
                        limit: self.max_window,
                    });
                }
                self.checksum_flag = fhd & 0x04 != 0;
                let mut src = unit;
                self.dec
                    .init(&mut src)
                    .map_err(|e| zerr(format!("frame header: {e}")))?;
                if !src.is_empty() {
                    return Err(zerr(
                        "frame header length disagrees with the decoder".into(),
                    ));
                }
                self.frames += 1;
                self.state = ZState::Block;
                Ok(())
            }
            ZState::Block => {
                let mut src = unit;
                self.dec
                    .decode_blocks(&mut src, BlockDecodingStrategy::UptoBlocks(1))
                    .map_err(|e| zerr(format!("block: {e}")))?;
                if !src.is_empty() {
                    return Err(zerr("block length disagrees with the decoder".into()));
                }
                let finished = self.dec.is_finished();
                self.drain(sink, offset)?;
                if finished {
                    if let (Some(stored), Some(computed)) = (
                        self.dec.get_checksum_from_data(),
                        self.dec.get_calculated_checksum(),
                    ) && stored != computed
                    {
                        return Err(zerr(format!(
                            "content checksum mismatch: frame says {stored:08x}, data hashes to {computed:08x}"
                        )));
                    }
                    self.state = ZState::FrameStart;
                }
                Ok(())
            }
            ZState::Skip(_) => Ok(()),
        }
    }

    /// Moves decoded bytes (all but the window still needed for back-references) to the
    /// sink.
    fn drain(&mut self, sink: &mut Sink<'_>, offset: u64) -> Result<(), LayerError> {
        let mut w = SinkWriter { sink, err: None };
        let r = self.dec.collect_to_writer(&mut w);
        if let Some(e) = w.err {
            return Err(e);
        }
        r.map(|_| ()).map_err(|e| LayerError::Zstd {
            offset,
            reason: format!("drain: {e}"),
        })
    }

    fn finish(&mut self, offset: u64, sink: &mut Sink<'_>) -> Result<(), LayerError> {
        let cut = |reason: &str| truncated("zstd", offset, reason);
        match self.state {
            ZState::Skip(left) => return Err(cut(&format!("skippable frame misses {left} bytes"))),
            ZState::Block => return Err(cut("last frame has no last block")),
            ZState::FrameStart if !self.pending.is_empty() => {
                return Err(cut("incomplete frame header"));
            }
            ZState::FrameStart if self.frames == 0 => return Err(cut("no zstd frame")),
            ZState::FrameStart => {}
        }
        self.drain(sink, offset)
    }
}

/// Frame header length (magic included) from the frame header descriptor byte.
fn frame_header_len(fhd: u8) -> usize {
    let single_segment = fhd & 0x20 != 0;
    let dict = [0, 1, 2, 4][usize::from(fhd & 3)];
    let fcs = match fhd >> 6 {
        0 => usize::from(single_segment),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    4 + 1 + usize::from(!single_segment) + dict + fcs
}

/// Window size a complete frame header declares (the content size for single-segment
/// frames, which decoders allocate as the window).
fn frame_window(header: &[u8]) -> u64 {
    let fhd = header.get(4).copied().unwrap_or(0);
    let single_segment = fhd & 0x20 != 0;
    if !single_segment {
        let wd = header.get(5).copied().unwrap_or(0);
        let exp = u64::from(wd >> 3);
        let base = 1u64 << (10 + exp);
        return base + (base / 8) * u64::from(wd & 7);
    }
    let dict = [0, 1, 2, 4][usize::from(fhd & 3)];
    let start = 5 + dict;
    let fcs = header.get(start..).unwrap_or_default();
    let mut v = 0u64;
    for (i, b) in fcs.iter().enumerate().take(8) {
        v |= u64::from(*b) << (8 * i);
    }
    if fhd >> 6 == 1 { v + 256 } else { v }
}

struct SinkWriter<'s, 'a> {
    sink: &'s mut Sink<'a>,
    err: Option<LayerError>,
}

impl Write for SinkWriter<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Err(e) = (self.sink)(buf) {
            self.err = Some(e);
            return Err(std::io::Error::other("sink failed"));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn run(
        c: Compression,
        input: &[u8],
        chunk: usize,
        limits: &Limits,
    ) -> Result<Vec<u8>, LayerError> {
        let mut d = Decompressor::new(c, limits);
        let mut out = Vec::new();
        for piece in input.chunks(chunk.max(1)) {
            d.push_to_vec(piece, &mut out)?;
        }
        d.finish(&mut |b: &[u8]| {
            out.extend_from_slice(b);
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn gzip_multi_member_any_chunking() {
        let a: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut both = gzip(&a);
        both.extend(gzip(b"second member"));
        let mut want = a.clone();
        want.extend_from_slice(b"second member");
        for chunk in [1, 7, 512, 100_000, 1 << 20] {
            assert_eq!(
                run(Compression::Gzip, &both, chunk, &Limits::default()).unwrap(),
                want
            );
        }
    }

    #[test]
    fn gzip_truncated_and_empty_fail() {
        let g = gzip(&[7u8; 5000]);
        let err = run(Compression::Gzip, &g[..g.len() - 3], 64, &Limits::default()).unwrap_err();
        assert!(
            matches!(
                err,
                LayerError::Gzip { .. } | LayerError::CompressedTruncated { .. }
            ),
            "{err}"
        );
        let err = run(Compression::Gzip, b"", 64, &Limits::default()).unwrap_err();
        assert!(
            matches!(err, LayerError::CompressedTruncated { .. }),
            "{err}"
        );
    }

    #[test]
    fn output_cap_stops_early() {
        let g = gzip(&vec![0u8; 4 << 20]);
        let limits = Limits {
            max_decompressed_bytes: 1 << 20,
            ..Limits::default()
        };
        let err = run(Compression::Gzip, &g, 1 << 20, &limits).unwrap_err();
        assert!(
            matches!(err, LayerError::OutputTooLarge { limit: 1048576, .. }),
            "{err}"
        );
    }

    #[test]
    fn zstd_header_lengths() {
        // single segment, 1-byte FCS: magic + fhd + fcs
        assert_eq!(frame_header_len(0x20), 6);
        // window descriptor, no FCS
        assert_eq!(frame_header_len(0x00), 6);
        // window, 4-byte dict, 8-byte FCS
        assert_eq!(frame_header_len(0xC3), 18);
    }
}
