//! The engine against real tools: GNU tar (gnu, pax, ustar), gzip, pigz, zstd and
//! sha256sum make the fixtures; the engine's index must equal `tar -tv`, entry for entry,
//! whatever chunking the bytes arrive in.

mod layer_support;

use std::path::Path;
use std::process::Command;

use layer_support::*;
use strata_shared::Digest;
use strata_shared::layer::{Compression, EntryFlags, EntryKind, LayerError, LayerIndex, Limits};
use strata_shared::tree::TreeBuilder;

const OCI_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
const OCI_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const OCI_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
const DOCKER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// Builds a directory with every kind of entry GNU tar can archive from a file system.
/// `long` adds names and link targets too long for plain ustar, and a sparse file.
fn fixture_dir(root: &Path, long: bool) {
    write(root, "etc/hello.txt", b"hello, layer\n");
    write(root, "etc/empty", b"");
    write(root, "bin/busybox", &noise(300_000, 1));
    write(root, "with space/caf\u{e9} na\u{ef}ve.txt", b"unicode\n");
    write(
        root,
        "usr/share/doc/a-file-exactly-at-a-block.bin",
        &noise(1024, 2),
    );
    write(root, "secret", b"s");
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    std::fs::hard_link(root.join("bin/busybox"), root.join("bin/ls")).unwrap();
    std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
    std::os::unix::fs::symlink("/usr/lib", root.join("lib64")).unwrap();
    run(Command::new("mkfifo").arg(root.join("etc/fifo")));
    // Splittable into ustar's prefix (155) + name (100): 190 bytes.
    let splittable = format!("deep/{}/{}/file.txt", "d".repeat(90), "e".repeat(80));
    write(root, &splittable, b"deep\n");
    if long {
        let long_name = format!("long/{}/{}.txt", "n".repeat(120), "m".repeat(150));
        write(root, &long_name, b"long\n");
        std::os::unix::fs::symlink(format!("/opt/{}", "t".repeat(140)), root.join("long/link"))
            .unwrap();
        let sparse = std::fs::File::create(root.join("sparse.img")).unwrap();
        sparse.set_len(4 << 20).unwrap();
        use std::os::unix::fs::FileExt;
        sparse.write_all_at(b"data in the middle", 2 << 20).unwrap();
    }
    // Modes tar must carry: setuid, sticky, private.
    use std::os::unix::fs::PermissionsExt;
    let set = |p: &str, m: u32| {
        std::fs::set_permissions(root.join(p), std::fs::Permissions::from_mode(m)).unwrap()
    };
    set("bin/busybox", 0o4755);
    set("tmp", 0o1777);
    set("secret", 0o600);
    // Fixed mtimes (symlinks too), one of them before 1970.
    run(Command::new("find").arg(root).args([
        "-exec",
        "touch",
        "-h",
        "-d",
        "@1700000000",
        "{}",
        "+",
    ]));
    run(Command::new("touch")
        .args(["-d", "@1234567890"])
        .arg(root.join("etc/hello.txt")));
}

/// Indexes `tar` through the pipeline for each compression and checks each result
/// against `tar -tv` of the same tar file.
fn check_against_tar(tar: &[u8], what: &str) -> LayerIndex {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), tar).unwrap();
    let listed = tar_list(file.path());
    assert!(!listed.is_empty(), "{what}: tar lists nothing");
    let diff_id = Digest::sha256_of(tar);

    let blobs: Vec<(&str, &str, Vec<u8>)> = vec![
        ("none", OCI_TAR, tar.to_vec()),
        ("gzip", OCI_GZIP, gzip(tar)),
        ("pigz", DOCKER_GZIP, pigz(tar)),
        ("gzip+pigz members", OCI_GZIP, gzip_two_members(tar)),
        ("zstd", OCI_ZSTD, zstd(tar)),
        ("zstd two frames", OCI_ZSTD, zstd_two_frames(tar)),
    ];
    let mut last = None;
    for (seed, (name, media_type, blob)) in blobs.into_iter().enumerate() {
        let layer = pipeline(
            &blob,
            media_type,
            &diff_id,
            Limits::default(),
            seed as u64 + 11,
        )
        .unwrap_or_else(|e| panic!("{what} / {name}: {e}"));
        assert_eq!(layer.diff_id, diff_id, "{what} / {name}");
        assert_eq!(layer.decompressed_size, tar.len() as u64, "{what} / {name}");
        assert_eq!(layer.compressed_size, blob.len() as u64, "{what} / {name}");
        assert_same_listing(
            &listed_from_index(&layer.index),
            &listed,
            &format!("{what} / {name}"),
        );
        last = Some(layer.index);
    }
    let index = last.unwrap();

    // The binary form the worker hands to the page keeps every field.
    let decoded = LayerIndex::decode(&index.encode()).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(
        serde_json::to_string(&decoded).unwrap(),
        serde_json::to_string(&index).unwrap(),
        "{what}: binary index round trip"
    );

    // The merged tree of this one layer is the listing, deduplicated (last entry wins).
    let mut tree = TreeBuilder::new();
    tree.apply(&index, Some(0));
    let tree = tree.finish();
    let mut want: std::collections::BTreeMap<String, &Listed> = Default::default();
    for l in &listed {
        want.insert(l.path.clone(), l);
    }
    let got: Vec<(&str, char, u32)> = tree
        .present()
        .filter(|(_, n)| !n.implied)
        .map(|(p, n)| (p, n.kind.ls_char(), n.mode))
        .collect();
    let want: Vec<(&str, char, u32)> = want
        .iter()
        .map(|(p, l)| (p.as_str(), l.kind, l.mode))
        .collect();
    assert_eq!(got, want, "{what}: merged tree differs from the listing");
    index
}

#[test]
fn gnu_format_matches_tar_listing() {
    let dir = tempfile::tempdir().unwrap();
    fixture_dir(dir.path(), true);
    let tar = gnu_tar(
        dir.path(),
        "gnu",
        &["--sparse", "--owner=alice:1234", "--group=staff:4321"],
    );
    let index = check_against_tar(&tar, "gnu");
    let long = index
        .iter()
        .find(|e| e.path().starts_with("long/n"))
        .unwrap();
    assert!(long.flags().contains(EntryFlags::GNU_LONG_NAME), "{long:?}");
    let sparse = index.find("sparse.img").unwrap();
    assert!(sparse.flags().contains(EntryFlags::SPARSE));
    assert_eq!(sparse.size(), 4 << 20);
    let hello = index.find("etc/hello.txt").unwrap();
    assert_eq!(
        (hello.uname(), hello.gname(), hello.uid(), hello.gid()),
        ("alice", "staff", 1234, 4321)
    );
    assert_eq!(hello.mtime(), 1_234_567_890);
}

#[test]
fn pax_format_matches_tar_listing() {
    let dir = tempfile::tempdir().unwrap();
    fixture_dir(dir.path(), true);
    // A newline in a name: PAX records must be split by length, not by line.
    write(dir.path(), "odd\nname.txt", b"x");
    let tar = gnu_tar(
        dir.path(),
        "pax",
        &["--sparse", "--owner=bob:99999999", "--group=g:7"],
    );
    let index = check_against_tar(&tar, "pax");
    assert!(
        index
            .find("odd\nname.txt")
            .unwrap()
            .flags()
            .contains(EntryFlags::PAX)
    );
    let sparse = index.find("sparse.img").unwrap();
    assert!(sparse.flags().contains(EntryFlags::SPARSE), "{sparse:?}");
    assert_eq!(sparse.size(), 4 << 20);
    // uid over the 8-character octal field: GNU tar puts it in a PAX record.
    assert_eq!(index.find("secret").unwrap().uid(), 99_999_999);
}

#[test]
fn ustar_format_matches_tar_listing() {
    let dir = tempfile::tempdir().unwrap();
    fixture_dir(dir.path(), false);
    let tar = gnu_tar(dir.path(), "ustar", &[]);
    let index = check_against_tar(&tar, "ustar");
    let deep = index
        .iter()
        .find(|e| e.path().starts_with("deep/"))
        .unwrap();
    assert!(deep.flags().is_empty(), "{deep:?}");
    // Entry data sits where the index says: the bytes of etc/hello.txt.
    let hello = index.find("etc/hello.txt").unwrap();
    let start = hello.data_offset() as usize;
    assert_eq!(
        &tar[start..start + hello.size() as usize],
        b"hello, layer\n"
    );
    assert_eq!(hello.crc32(), {
        let mut c = flate2::Crc::new();
        c.update(b"hello, layer\n");
        c.sum()
    });
}

#[test]
fn hardlink_and_kinds_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    fixture_dir(dir.path(), false);
    let tar = gnu_tar(dir.path(), "gnu", &[]);
    let index = walk(&tar, Limits::default(), 5).unwrap();
    let ls = index.find("bin/ls").unwrap();
    let busybox = index.find("bin/busybox").unwrap();
    // --sort=name archives bin/busybox first; bin/ls is the hard link to it.
    assert_eq!(
        (ls.kind(), ls.link_target()),
        (EntryKind::Hardlink, Some("bin/busybox"))
    );
    assert_eq!(busybox.mode(), 0o4755);
    assert_eq!(index.find("bin/sh").unwrap().link_target(), Some("busybox"));
    assert_eq!(index.find("lib64").unwrap().link_target(), Some("/usr/lib"));
    assert_eq!(index.find("etc/fifo").unwrap().kind(), EntryKind::Fifo);
    assert_eq!(index.find("tmp").unwrap().mode(), 0o1777);
    assert_eq!(
        index.find("").unwrap().kind(),
        EntryKind::Dir,
        "./ is the root"
    );
    // GNU tar pads to a 10 KiB record: those bytes are trailing, after the end marker.
    assert!(index.end_of_archive().is_some());
    assert_eq!(index.tar_bytes(), tar.len() as u64);
    assert!(index.trailing_bytes() >= 1024);
}

/// Devices need CAP_MKNOD to create on disk, so this archive is written with tar-rs's
/// Builder; GNU tar still is the reference for what it lists.
#[test]
fn devices_match_tar_listing() {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, major, minor) in [
        ("dev/null", tar::EntryType::Char, 1, 3),
        ("dev/sda", tar::EntryType::Block, 8, 0),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(0o660);
        h.set_size(0);
        h.set_mtime(1_700_000_000);
        h.set_device_major(major).unwrap();
        h.set_device_minor(minor).unwrap();
        b.append_data(&mut h, name, std::io::empty()).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let index = check_against_tar(&tar, "devices");
    assert_eq!(index.find("dev/sda").unwrap().device(), Some((8, 0)));
}

#[test]
fn pax_xattrs_are_kept() {
    let mut b = tar::Builder::new(Vec::new());
    b.append_pax_extensions([
        (
            "SCHILY.xattr.security.capability",
            &b"\x01\x00\x00\x02\x00\x20"[..],
        ),
        ("SCHILY.xattr.user.note", &b"hi"[..]),
    ])
    .unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_mode(0o755);
    h.set_size(3);
    b.append_data(&mut h, "usr/bin/ping", &b"elf"[..]).unwrap();
    let tar = b.into_inner().unwrap();
    let index = check_against_tar(&tar, "xattrs");
    let ping = index.find("usr/bin/ping").unwrap();
    let x: Vec<(String, Vec<u8>)> = ping.xattrs().map(|(k, v)| (k.to_owned(), v)).collect();
    assert_eq!(
        x,
        vec![
            (
                "security.capability".to_owned(),
                b"\x01\x00\x00\x02\x00\x20".to_vec()
            ),
            ("user.note".to_owned(), b"hi".to_vec())
        ]
    );
}

#[test]
fn diff_id_covers_trailing_bytes_and_digest_matches_sha256sum() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a", b"a");
    let mut tar = gnu_tar(dir.path(), "gnu", &[]);
    tar.extend_from_slice(b"junk after the end of the archive");
    let blob = gzip(&tar);
    let blob_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(blob_file.path(), &blob).unwrap();
    let sum = run(Command::new(tool("sha256sum")).arg(blob_file.path()));
    let cli = format!("sha256:{}", String::from_utf8_lossy(&sum[..64]));

    let diff_id = Digest::sha256_of(&tar);
    let layer = pipeline(&blob, OCI_GZIP, &diff_id, Limits::default(), 3).unwrap();
    assert_eq!(layer.digest.to_string(), cli);
    assert_eq!(
        layer.index.trailing_bytes(),
        layer.index.tar_bytes() - layer.index.end_of_archive().unwrap()
    );
    assert!(layer.index.trailing_bytes() > 33);

    // Without the trailing junk the diff_id differs: the whole stream counts.
    let err = pipeline(
        &blob,
        OCI_GZIP,
        &Digest::sha256_of(&tar[..tar.len() - 33]),
        Limits::default(),
        3,
    )
    .unwrap_err();
    assert!(matches!(err, LayerError::DiffIdMismatch { .. }), "{err}");
}

#[test]
fn stages_run_apart_give_the_same_result() {
    // The split a page uses across two workers: (1)+(2) on one, (3)+(4) on the other.
    let dir = tempfile::tempdir().unwrap();
    fixture_dir(dir.path(), true);
    let tar = gnu_tar(dir.path(), "pax", &[]);
    let blob = zstd(&tar);
    let mut verifier =
        strata_shared::DigestVerifier::new(Digest::sha256_of(&blob), Some(blob.len() as u64));
    let mut dec = strata_shared::layer::Decompressor::new(Compression::Zstd, &Limits::default());
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    feed(&blob, 9, |c| {
        verifier.update(c).unwrap();
        let mut out = Vec::new();
        dec.push_to_vec(c, &mut out)?;
        chunks.push(out);
        Ok::<(), LayerError>(())
    })
    .unwrap();
    let mut tail = Vec::new();
    dec.finish(&mut |b: &[u8]| {
        tail.extend_from_slice(b);
        Ok(())
    })
    .unwrap();
    chunks.push(tail);
    verifier.finish().unwrap();

    let mut diff = strata_shared::layer::DiffIdVerifier::new(Digest::sha256_of(&tar)).unwrap();
    let mut walker = strata_shared::layer::TarWalker::new(Limits::default());
    for c in &chunks {
        diff.push(c);
        walker.push(c).unwrap();
    }
    diff.finish().unwrap();
    let index = walker.finish().unwrap();
    let whole = walk(&tar, Limits::default(), 1).unwrap();
    assert_eq!(listed_from_index(&index), listed_from_index(&whole));
}

#[test]
fn index_round_trips_through_serde() {
    let dir = tempfile::tempdir().unwrap();
    fixture_dir(dir.path(), true);
    let tar = gnu_tar(dir.path(), "pax", &[]);
    let index = walk(&tar, Limits::default(), 2).unwrap();
    let json = serde_json::to_string(&index).unwrap();
    let back: LayerIndex = serde_json::from_str(&json).unwrap();
    assert_eq!(listed_from_index(&back), listed_from_index(&index));
    let mut tree = TreeBuilder::new();
    tree.apply(&index, None);
    let tree = tree.finish();
    let tree_json = serde_json::to_string(&tree).unwrap();
    let tree_back: strata_shared::tree::MergedTree = serde_json::from_str(&tree_json).unwrap();
    assert_eq!(tree_back.present().count(), tree.present().count());
}

#[test]
fn index_of_100k_files_stays_compact() {
    // 100k entries made with tar-rs (fast), walked in random chunks.
    let mut b = tar::Builder::new(Vec::new());
    for i in 0..100_000u32 {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_size(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_username("root").unwrap();
        h.set_groupname("root").unwrap();
        let name = format!("usr/lib/python3/dist-packages/pkg{}/module_{i}.py", i / 100);
        b.append_data(&mut h, name, std::io::empty()).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let started = std::time::Instant::now();
    let index = walk(&tar, Limits::default(), 4).unwrap();
    assert_eq!(index.len(), 100_000);
    let heap = index.heap_bytes();
    // About 100 bytes an entry plus the path text: well under 20 MB.
    assert!(heap < 20 << 20, "index of 100k entries uses {heap} bytes");
    eprintln!(
        "100k entries: {heap} heap bytes, walked in {:?}",
        started.elapsed()
    );
}
