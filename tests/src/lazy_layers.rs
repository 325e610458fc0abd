//! eStargz and zstd:chunked layers built to their published formats, for the tests of
//! the TOC read by byte range.
//!
//! - eStargz (containerd/stargz-snapshotter `docs/estargz.md`): every tar header and
//!   every file's contents in gzip members of their own, then a member holding the tar
//!   entry `stargz.index.json` (the TOC) and the tar's end, then the 51-byte footer: an
//!   empty gzip member whose extra field `SG` names the TOC's offset. The descriptor's
//!   `containerd.io/snapshot/stargz/toc.digest` is the TOC's sha256.
//! - zstd:chunked (containers/storage `pkg/chunked`): zstd frames of the tar, then the
//!   manifest (the TOC) zstd-compressed in a skippable frame, then a skippable footer
//!   frame. The descriptor's annotations give the manifest's checksum (of its compressed
//!   bytes) and position `OFFSET:LENGTH:UNCOMPRESSED:1`.
//!
//! A TOC can be made to lie: its digest still names it, but it lists other files.

use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};

use anyhow::Context as _;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use crate::image::sha256_digest;

/// One regular file of a lazy layer.
#[derive(Clone, Debug)]
pub struct LazyFile {
    /// Its path in the tar, without a leading `/`.
    pub path: String,
    /// Its contents.
    pub contents: Vec<u8>,
}

impl LazyFile {
    /// A file at `path` holding `contents`.
    pub fn new(path: &str, contents: &[u8]) -> LazyFile {
        LazyFile {
            path: path.trim_start_matches('/').to_owned(),
            contents: contents.to_vec(),
        }
    }
}

/// A built layer: its blob, diff_id and descriptor annotations.
#[derive(Clone, Debug)]
pub struct LazyLayer {
    /// The OCI layer media type.
    pub media_type: &'static str,
    /// The compressed blob.
    pub blob: Vec<u8>,
    /// sha256 of the uncompressed tar.
    pub diff_id: String,
    /// The descriptor's annotations that make it lazily pullable.
    pub annotations: Value,
}

impl LazyLayer {
    /// The layer as [`crate::push::push_raw_image`] takes it.
    pub fn raw(&self) -> crate::push::RawLayer {
        crate::push::RawLayer {
            descriptor: self.descriptor(),
            diff_id: self.diff_id.clone(),
            blob: Some(self.blob.clone()),
        }
    }

    /// Its digest.
    pub fn digest(&self) -> String {
        sha256_digest(&self.blob)
    }

    /// Its descriptor in a manifest.
    pub fn descriptor(&self) -> Value {
        json!({
            "mediaType": self.media_type,
            "digest": sha256_digest(&self.blob),
            "size": self.blob.len(),
            "annotations": self.annotations,
        })
    }
}

/// What the TOC lists instead of the truth.
#[derive(Clone, Debug, Default)]
pub struct TocLie {
    /// Files the TOC lists that the tar does not hold.
    pub invented: Vec<LazyFile>,
    /// Paths of the tar the TOC leaves out.
    pub omitted: Vec<String>,
}

const MTIME: u64 = 1_700_000_000;

/// The tar header of a regular file or (with a trailing `/`) a directory.
fn tar_header(path: &str, size: u64) -> anyhow::Result<[u8; 512]> {
    let mut header = tar::Header::new_ustar();
    header.set_path(path)?;
    if path.ends_with('/') {
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o755);
        header.set_size(0);
    } else {
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_size(size);
    }
    header.set_mtime(MTIME);
    header.set_uid(0);
    header.set_gid(0);
    header.set_cksum();
    Ok(*header.as_bytes())
}

/// `bytes` padded to the tar's 512-byte blocks.
fn padded(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out.resize(bytes.len().div_ceil(512) * 512, 0);
    out
}

/// One TOC entry as both formats write it.
fn toc_entry(path: &str, contents: &[u8], offset: u64) -> Value {
    if path.ends_with('/') {
        json!({"name": path, "type": "dir", "mode": 0o40755, "modtime": "2023-11-14T22:13:20Z"})
    } else {
        json!({
            "name": path, "type": "reg", "size": contents.len(), "mode": 0o100644,
            "modtime": "2023-11-14T22:13:20Z", "offset": offset,
            "digest": sha256_digest(contents), "chunkDigest": sha256_digest(contents),
        })
    }
}

/// One tar entry: its path, its 512-byte header and its contents (not padded).
type Segment = (String, Vec<u8>, Vec<u8>);

/// The tar segments of `files`, with a directory per distinct parent, in order.
fn segments(files: &[LazyFile]) -> anyhow::Result<Vec<Segment>> {
    let mut out = Vec::new();
    let mut dirs = std::collections::BTreeSet::new();
    for file in files {
        let mut parent = String::new();
        for part in file
            .path
            .split('/')
            .collect::<Vec<_>>()
            .iter()
            .rev()
            .skip(1)
            .rev()
        {
            parent.push_str(part);
            parent.push('/');
            if dirs.insert(parent.clone()) {
                out.push((parent.clone(), tar_header(&parent, 0)?.to_vec(), Vec::new()));
            }
        }
        let header = tar_header(&file.path, file.contents.len() as u64)?;
        out.push((file.path.clone(), header.to_vec(), file.contents.clone()));
    }
    Ok(out)
}

fn gzip_member(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// The TOC JSON: the true entries, edited by `lie`.
fn toc_json(entries: Vec<(String, Value)>, lie: &TocLie) -> anyhow::Result<Vec<u8>> {
    let mut listed: Vec<Value> = entries
        .into_iter()
        .filter(|(path, _)| {
            !lie.omitted
                .iter()
                .any(|o| o.trim_start_matches('/') == path)
        })
        .map(|(_, entry)| entry)
        .collect();
    listed.extend(
        lie.invented
            .iter()
            .map(|f| toc_entry(&f.path, &f.contents, 0)),
    );
    Ok(serde_json::to_vec_pretty(
        &json!({"version": 1, "entries": listed}),
    )?)
}

/// An eStargz layer of `files` (with the no-prefetch landmark eStargz requires).
pub fn estargz(files: &[LazyFile], lie: &TocLie) -> anyhow::Result<LazyLayer> {
    let mut all = files.to_vec();
    all.push(LazyFile::new(".no.prefetch.landmark", &[0xf]));
    let mut blob = Vec::new();
    let mut tar = Vec::new();
    let mut entries = Vec::new();
    for (path, header, contents) in segments(&all)? {
        blob.extend(gzip_member(&header)?);
        tar.extend(&header);
        let offset = blob.len() as u64;
        if !contents.is_empty() {
            let data = padded(&contents);
            blob.extend(gzip_member(&data)?);
            tar.extend(&data);
        }
        entries.push((path.clone(), toc_entry(&path, &contents, offset)));
    }
    let json = toc_json(entries, lie)?;
    let toc_offset = blob.len() as u64;
    let mut toc_tar = tar_header("stargz.index.json", json.len() as u64)?.to_vec();
    toc_tar.extend(padded(&json));
    toc_tar.extend([0u8; 1024]);
    blob.extend(gzip_member(&toc_tar)?);
    tar.extend(&toc_tar);
    blob.extend(estargz_footer(toc_offset));
    Ok(LazyLayer {
        media_type: "application/vnd.oci.image.layer.v1.tar+gzip",
        diff_id: sha256_digest(&tar),
        annotations: json!({
            "containerd.io/snapshot/stargz/toc.digest": sha256_digest(&json),
            "io.containers.estargz.uncompressed-size": tar.len().to_string(),
        }),
        blob,
    })
}

/// The 51-byte footer: an empty, uncompressed gzip member whose extra field holds the
/// subfield `SG` = `%016x` of the TOC's offset, then `STARGZ`.
fn estargz_footer(toc_offset: u64) -> Vec<u8> {
    let payload = format!("{toc_offset:016x}STARGZ");
    let mut footer = vec![0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 0xff];
    footer.extend((4 + payload.len() as u16).to_le_bytes());
    footer.extend(b"SG");
    footer.extend((payload.len() as u16).to_le_bytes());
    footer.extend(payload.as_bytes());
    // An empty stored block, final: BFINAL=1 BTYPE=00, LEN=0, NLEN=0xffff.
    footer.extend([0x01, 0x00, 0x00, 0xff, 0xff]);
    // CRC32 and ISIZE of nothing.
    footer.extend([0u8; 8]);
    assert_eq!(footer.len(), 51);
    footer
}

/// zstd by the `zstd` tool, one frame.
pub fn zstd(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let tool = crate::tools::require("zstd")?;
    let mut child = Command::new(tool)
        .args(["-q", "-c", "-3"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().context("stdin")?;
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let mut out = Vec::new();
    child
        .stdout
        .take()
        .context("stdout")?
        .read_to_end(&mut out)?;
    writer.join().map_err(|_| anyhow::anyhow!("zstd stdin"))??;
    anyhow::ensure!(child.wait()?.success(), "zstd failed");
    Ok(out)
}

/// A zstd skippable frame holding `data`.
fn skippable(data: &[u8]) -> Vec<u8> {
    let mut frame = 0x184D_2A50u32.to_le_bytes().to_vec();
    frame.extend((data.len() as u32).to_le_bytes());
    frame.extend(data);
    frame
}

/// A zstd:chunked layer of `files`.
pub fn zstd_chunked(files: &[LazyFile], lie: &TocLie) -> anyhow::Result<LazyLayer> {
    let mut blob = Vec::new();
    let mut tar = Vec::new();
    let mut entries = Vec::new();
    for (path, header, contents) in segments(files)? {
        blob.extend(zstd(&header)?);
        tar.extend(&header);
        let offset = blob.len() as u64;
        if !contents.is_empty() {
            let data = padded(&contents);
            blob.extend(zstd(&data)?);
            tar.extend(&data);
        }
        let mut entry = toc_entry(&path, &contents, offset);
        entry["endOffset"] = json!(blob.len());
        entries.push((path, entry));
    }
    blob.extend(zstd(&[0u8; 1024])?);
    tar.extend([0u8; 1024]);
    let manifest = toc_json(entries, lie)?;
    let compressed = zstd(&manifest)?;
    let offset = blob.len() as u64 + 8;
    blob.extend(skippable(&compressed));
    let mut footer = Vec::new();
    for field in [
        offset,
        compressed.len() as u64,
        manifest.len() as u64,
        1,
        0,
        0,
        0,
    ] {
        footer.extend(field.to_le_bytes());
    }
    footer.extend(b"GNUlInUx");
    blob.extend(skippable(&footer));
    Ok(LazyLayer {
        media_type: "application/vnd.oci.image.layer.v1.tar+zstd",
        diff_id: sha256_digest(&tar),
        annotations: json!({
            "io.github.containers.zstd-chunked.manifest-checksum": sha256_digest(&compressed),
            "io.github.containers.zstd-chunked.manifest-position":
                format!("{offset}:{}:{}:1", compressed.len(), manifest.len()),
        }),
        blob,
    })
}
