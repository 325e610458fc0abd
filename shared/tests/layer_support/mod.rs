//! Helpers for the layer tests: real CLI tools, a seeded random-chunk feeder, and a
//! parser for `tar --list --verbose` so the engine can be compared with GNU tar.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use strata_shared::Digest;
use strata_shared::layer::{
    Compression, Decompressor, EntryKind, LayerError, LayerIndex, LayerPipeline, LayerSpec, Limits,
    TarWalker, VerifiedLayer,
};

/// Path of a CLI tool the layer tests need; fails (never skips) when it is missing.
pub fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "`{name}` is not installed: the layer tests build their fixtures with real tools \
         (GNU tar, gzip, pigz, zstd). Run scripts/setup.sh to install them."
    );
}

/// Runs a command, returns stdout; panics with stderr on failure.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs `tool args` with `input` on stdin, returns stdout.
pub fn pipe(tool_name: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("in");
    std::fs::write(&f, input).unwrap();
    run(Command::new(tool(tool_name))
        .args(args)
        .stdin(std::fs::File::open(&f).unwrap()))
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    pipe("gzip", &["-c", "-n"], bytes)
}

pub fn pigz(bytes: &[u8]) -> Vec<u8> {
    pipe("pigz", &["-c", "-n", "-b", "32"], bytes)
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    pipe("zstd", &["-q", "-c", "-3"], bytes)
}

/// Two gzip members (each made by the `gzip` CLI) back to back: a multi-member stream.
pub fn gzip_two_members(bytes: &[u8]) -> Vec<u8> {
    let mid = bytes.len() / 2;
    let mut out = gzip(&bytes[..mid]);
    out.extend(pigz(&bytes[mid..]));
    out
}

/// Two zstd frames back to back.
pub fn zstd_two_frames(bytes: &[u8]) -> Vec<u8> {
    let mid = bytes.len() / 3;
    let mut out = zstd(&bytes[..mid]);
    out.extend(pipe(
        "zstd",
        &["-q", "-c", "-19", "--no-check"],
        &bytes[mid..],
    ));
    out
}

/// xorshift64*: small, seeded, good enough to pick chunk sizes.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Splits `bytes` into random short chunks (mostly under 600 bytes, some up to 8 KiB,
/// a few up to 128 KiB) as fetch would deliver them, and hands each to `f`.
pub fn feed<E>(
    bytes: &[u8],
    seed: u64,
    mut f: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut rng = Rng::new(seed);
    let mut rest = bytes;
    while !rest.is_empty() {
        let roll = rng.below(100);
        let max = if roll < 70 {
            600
        } else if roll < 95 {
            8 << 10
        } else {
            128 << 10
        };
        let n = (1 + rng.below(max) as usize).min(rest.len());
        f(&rest[..n])?;
        rest = &rest[n..];
    }
    Ok(())
}

/// Runs a blob through the full pipeline, in random chunks.
pub fn pipeline(
    blob: &[u8],
    media_type: &str,
    diff_id: &Digest,
    limits: Limits,
    seed: u64,
) -> Result<VerifiedLayer, LayerError> {
    let spec = LayerSpec {
        media_type: media_type.to_owned(),
        digest: Digest::sha256_of(blob),
        size: Some(blob.len() as u64),
        diff_id: Some(diff_id.clone()),
    };
    let mut p = LayerPipeline::new(&spec, limits)?;
    feed(blob, seed, |c| p.push(c))?;
    p.finish()
}

/// Runs a tar stream through the walker only, in random chunks.
pub fn walk(tar: &[u8], limits: Limits, seed: u64) -> Result<LayerIndex, LayerError> {
    let mut w = TarWalker::new(limits);
    feed(tar, seed, |c| w.push(c))?;
    w.finish()
}

/// Decompresses with the engine's stage 2 alone, in random chunks.
pub fn decompress(
    blob: &[u8],
    c: Compression,
    limits: &Limits,
    seed: u64,
) -> Result<Vec<u8>, LayerError> {
    let mut d = Decompressor::new(c, limits);
    let mut out = Vec::new();
    feed(blob, seed, |chunk| d.push_to_vec(chunk, &mut out))?;
    d.finish(&mut |b: &[u8]| {
        out.extend_from_slice(b);
        Ok(())
    })?;
    Ok(out)
}

/// One line of `tar --list --verbose --numeric-owner --full-time`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub path: String,
    pub kind: char,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Size, or `major,minor` for devices.
    pub size: String,
    pub mtime: i64,
    pub link: Option<String>,
}

/// Lists a tar file with GNU tar, in UTC, names escaped, and parses every line.
pub fn tar_list(tar_file: &Path) -> Vec<Listed> {
    let out = run(Command::new(tool("tar"))
        .args([
            "--list",
            "--verbose",
            "--numeric-owner",
            "--full-time",
            "--quoting-style=escape",
            "-f",
        ])
        .arg(tar_file)
        .env("TZ", "UTC")
        .env("LC_ALL", "C"));
    if let Some(dump) = std::env::var_os("STRATA_DUMP_LISTING") {
        std::fs::write(dump, &out).unwrap();
    }
    String::from_utf8(out)
        .expect("escaped listing is ASCII")
        .lines()
        .map(|l| parse_line(l).unwrap_or_else(|| panic!("cannot parse tar listing line {l:?}")))
        .collect()
}

fn parse_line(line: &str) -> Option<Listed> {
    let mut rest = line;
    let mut fields = Vec::new();
    for _ in 0..5 {
        rest = rest.trim_start();
        let end = rest.find(' ')?;
        fields.push(&rest[..end]);
        rest = &rest[end..];
    }
    // GNU tar pads the time column when some entries have fractional seconds.
    let name = rest.trim_start_matches(' ');
    let perm = fields[0];
    let kind = perm.chars().next()?;
    let (uid, gid) = fields[1].split_once('/')?;
    let (name, link) = match kind {
        'l' => {
            let (n, l) = name.split_once(" -> ")?;
            (n, Some(l))
        }
        'h' => {
            let (n, l) = name.split_once(" link to ")?;
            (n, Some(l))
        }
        _ => (name, None),
    };
    let link = link.map(|l| String::from_utf8_lossy(&unescape(l)).into_owned());
    let link = if kind == 'h' {
        link.map(|l| normalize(l.as_bytes()))
    } else {
        link
    };
    Some(Listed {
        path: normalize(&unescape(name)),
        kind,
        mode: perm_bits(perm)?,
        uid: uid.parse().ok()?,
        gid: gid.parse().ok()?,
        size: fields[2].to_owned(),
        mtime: parse_time(fields[3], fields[4])?,
        link,
    })
}

fn normalize(raw: &[u8]) -> String {
    strata_shared::layer::normalize_path(raw).0
}

/// Undoes GNU tar's `escape` quoting: `\\`, `\n`, `\t`, ..., `\ooo`.
pub fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 == b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                let mut n = 1;
                while n < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                    v = v * 8 + u32::from(b[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push(v as u8);
            }
            other => out.push(other),
        }
    }
    out
}

fn perm_bits(perm: &str) -> Option<u32> {
    let p = perm.as_bytes();
    if p.len() < 10 {
        return None;
    }
    let mut mode = 0;
    let bit = |c: u8, v: u32| {
        if c == b'-' || c == b'S' || c == b'T' {
            0
        } else {
            v
        }
    };
    for (i, shift) in [(1, 6), (4, 3), (7, 0)] {
        mode |= bit(p[i], 4 << shift) | bit(p[i + 1], 2 << shift) | bit(p[i + 2], 1 << shift);
    }
    if matches!(p[3], b's' | b'S') {
        mode |= 0o4000;
    }
    if matches!(p[6], b's' | b'S') {
        mode |= 0o2000;
    }
    if matches!(p[9], b't' | b'T') {
        mode |= 0o1000;
    }
    Some(mode)
}

/// `YYYY-MM-DD` `HH:MM:SS[.frac]` in UTC to seconds since the epoch (floor).
fn parse_time(date: &str, time: &str) -> Option<i64> {
    let mut d = date.split('-').map(|x| x.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let time = time.split('.').next()?;
    let mut t = time.split(':').map(|x| x.parse::<i64>());
    let (hh, mm, ss) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// The engine's view of an entry in the same shape as a listing line.
pub fn listed_from_index(index: &LayerIndex) -> Vec<Listed> {
    index
        .iter()
        .map(|e| Listed {
            path: e.path().to_owned(),
            kind: e.kind().ls_char(),
            mode: e.mode(),
            uid: e.uid(),
            gid: e.gid(),
            size: match e.device() {
                Some((maj, min)) => format!("{maj},{min}"),
                None => e.size().to_string(),
            },
            mtime: e.mtime(),
            link: e.link_target().map(str::to_owned),
        })
        .collect()
}

/// Asserts two listings are equal, printing the first difference readably.
pub fn assert_same_listing(engine: &[Listed], tar: &[Listed], what: &str) {
    for (i, (a, b)) in engine.iter().zip(tar).enumerate() {
        assert_eq!(
            a, b,
            "{what}: entry {i} differs (left: engine, right: tar -tv)"
        );
    }
    assert_eq!(
        engine.len(),
        tar.len(),
        "{what}: engine has {} entries, tar -tv lists {}",
        engine.len(),
        tar.len()
    );
}

pub fn kind_char(k: EntryKind) -> char {
    k.ls_char()
}

/// Writes a file, creating parents.
pub fn write(root: &Path, rel: &str, data: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

/// Deterministic pseudo-random bytes (incompressible-ish content).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        v.extend_from_slice(&rng.next().to_le_bytes());
    }
    v.truncate(len);
    v
}

/// Creates a tar of `dir`'s contents with GNU tar in `format`, extra args appended.
pub fn gnu_tar(dir: &Path, format: &str, extra: &[&str]) -> Vec<u8> {
    let out = tempfile::NamedTempFile::new().unwrap();
    run(Command::new(tool("tar"))
        .arg(format!("--format={format}"))
        .args(["--sort=name", "-C"])
        .arg(dir)
        .args(extra)
        .arg("-cf")
        .arg(out.path())
        .arg("."));
    std::fs::read(out.path()).unwrap()
}
