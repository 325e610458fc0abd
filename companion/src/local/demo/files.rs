//! The demo's layers: small real-looking trees with every case the explorer shows (a
//! whiteout, an opaque directory, a symlink, a hard link, text, an image and binary
//! bytes), written as deterministic tars.

use std::io::Write;

/// Every demo file claims this modification time (2024-06-01T00:00:00Z).
pub(super) const MTIME: u64 = 1_717_200_000;

/// One tar entry of a demo layer.
pub(super) enum Entry {
    Dir(&'static str),
    File(&'static str, u32, Vec<u8>),
    Symlink(&'static str, &'static str),
    HardLink(&'static str, &'static str),
}

/// The three layers of one platform: base (gzip), configuration (zstd), app (gzip).
pub(super) fn layers(arch: &str) -> [Vec<Entry>; 3] {
    use Entry::*;
    let os_release =
        "PRETTY_NAME=\"Strata demo 1.0\"\nNAME=\"Strata demo\"\nID=strata-demo\nVERSION_ID=1.0\n";
    let readme = "# The Strata demo image\n\nBuilt by the companion, byte for byte the same on every machine.\n\
                  Each layer, manifest and config is verified in your browser.\n\n\
                  Layer 1 (gzip) is a small base system, layer 2 (zstd) changes its configuration\n\
                  (a whiteout deletes /etc/motd.old, an opaque directory replaces /var/lib/demo/cache),\n\
                  layer 3 (gzip) adds an application.\n";
    let base = vec![
        Dir("etc/"),
        File("etc/os-release", 0o644, os_release.into()),
        File("etc/hostname", 0o644, b"strata-demo\n".to_vec()),
        File(
            "etc/demo.conf",
            0o644,
            b"# demo configuration\nlevel = 1\ncolour = blue\n".to_vec(),
        ),
        HardLink("etc/demo.conf.hard", "etc/demo.conf"),
        File(
            "etc/motd.old",
            0o644,
            b"Welcome (this file is deleted by layer 2)\n".to_vec(),
        ),
        Dir("usr/"),
        Dir("usr/bin/"),
        File(
            "usr/bin/hello",
            0o755,
            format!("#!/bin/sh\necho \"hello from the {arch} demo\"\n").into_bytes(),
        ),
        Symlink("usr/bin/hi", "hello"),
        Symlink("bin", "usr/bin"),
        Dir("usr/share/"),
        Dir("usr/share/doc/"),
        Dir("usr/share/doc/strata-demo/"),
        File("usr/share/doc/strata-demo/README.md", 0o644, readme.into()),
        Dir("usr/share/strata/"),
        File("usr/share/strata/logo.png", 0o644, logo_png()),
        Dir("var/"),
        Dir("var/lib/"),
        Dir("var/lib/demo/"),
        Dir("var/lib/demo/cache/"),
        File("var/lib/demo/cache/a.dat", 0o644, pattern(3000, 7)),
        File("var/lib/demo/cache/b.dat", 0o644, pattern(64 * 1024, 11)),
    ];
    let config = vec![
        File(
            "etc/demo.conf",
            0o644,
            b"# demo configuration\nlevel = 2\ncolour = green\n".to_vec(),
        ),
        File("etc/.wh.motd.old", 0o644, Vec::new()),
        Dir("var/lib/demo/cache/"),
        File("var/lib/demo/cache/.wh..wh..opq", 0o644, Vec::new()),
        File("var/lib/demo/cache/c.dat", 0o644, pattern(1000, 13)),
    ];
    let app = vec![
        Dir("app/"),
        File(
            "app/server.py",
            0o755,
            b"import http.server\n\nhttp.server.test(port=8000)\n".to_vec(),
        ),
        Dir("app/static/"),
        File(
            "app/static/index.html",
            0o644,
            b"<!doctype html>\n<title>demo</title>\n<h1>Strata demo</h1>\n".to_vec(),
        ),
        File("app/data.bin", 0o644, pattern(4096, 17)),
        File("app/ARCH", 0o644, format!("{arch}\n").into_bytes()),
    ];
    [base, config, app]
}

/// A tar of `entries` with fixed owners and times, so the bytes never change.
pub(super) fn tar(entries: &[Entry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_ustar();
        header.set_mtime(MTIME);
        header.set_uid(0);
        header.set_gid(0);
        let result = match entry {
            Entry::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder.append_data(&mut header, path, &[][..])
            }
            Entry::File(path, mode, bytes) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(*mode);
                header.set_size(bytes.len() as u64);
                builder.append_data(&mut header, path, bytes.as_slice())
            }
            Entry::Symlink(path, target) | Entry::HardLink(path, target) => {
                let kind = if matches!(entry, Entry::Symlink(..)) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                };
                header.set_entry_type(kind);
                header.set_mode(0o777);
                header.set_size(0);
                builder.append_link(&mut header, path, target)
            }
        };
        result.expect("writing a tar to memory cannot fail");
    }
    builder
        .into_inner()
        .expect("writing a tar to memory cannot fail")
}

/// gzip with no name and a zero time in its header: deterministic.
pub(super) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory")
}

/// zstd at the fastest level (ruzstd, pure Rust).
pub(super) fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

/// Bytes that look like data, not zeros: a small linear congruential sequence.
fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (state >> 16) as u8
        })
        .collect()
}

/// A 32×32 PNG of Strata's layers (three bands), made here so nothing is fetched.
fn logo_png() -> Vec<u8> {
    const SIZE: u32 = 32;
    let bands: [[u8; 3]; 3] = [[0x2d, 0x6c, 0xdf], [0x3f, 0xa3, 0x6b], [0xe0, 0x8e, 0x2b]];
    let mut raw = Vec::new();
    for y in 0..SIZE {
        raw.push(0); // filter: none
        for _ in 0..SIZE {
            raw.extend_from_slice(&bands[(y * 3 / SIZE) as usize]);
        }
    }
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zlib.write_all(&raw).expect("in memory");
    let idat = zlib.finish().expect("in memory");
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&SIZE.to_be_bytes());
    ihdr.extend_from_slice(&SIZE.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(&b"IHDR"[..], ihdr), (b"IDAT", idat), (b"IEND", Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(&data);
        png.extend_from_slice(kind);
        png.extend_from_slice(&data);
        png.extend_from_slice(&crc.sum().to_be_bytes());
    }
    png
}
