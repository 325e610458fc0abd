//! OCI image layouts served read-only: a directory named by `--oci-layout NAME=DIR`, or
//! one held in memory (the demo). Blob paths come from validated digests only, and a
//! directory's blob must resolve inside the directory, so a symlink cannot lead out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use strata_shared::Digest;
use strata_shared::archive::{self, INDEX_FILE, LAYOUT_FILE, MAX_INDEX_BYTES};
use strata_shared::manifest::ImageIndex;

use super::LocalError;

/// A layout built in memory: its `index.json` and its blobs by digest.
#[derive(Debug, Default)]
pub struct MemoryLayout {
    /// The bytes of `index.json`.
    pub index: Vec<u8>,
    /// Every blob, by digest.
    pub blobs: BTreeMap<Digest, Bytes>,
}

impl MemoryLayout {
    /// Stores `bytes` under their sha256 digest and returns it.
    pub fn put(&mut self, bytes: impl Into<Bytes>) -> Digest {
        let bytes = bytes.into();
        let digest = Digest::sha256_of(&bytes);
        self.blobs.insert(digest.clone(), bytes);
        digest
    }
}

/// Where a layout's bytes are.
#[derive(Clone, Debug)]
pub enum Layout {
    /// A directory on this machine.
    Dir(PathBuf),
    /// Built in memory.
    Memory(Arc<MemoryLayout>),
}

/// A blob ready to stream.
pub struct Blob {
    /// Its length in bytes.
    pub len: u64,
    /// Its bytes.
    pub body: Body,
}

impl Layout {
    /// The layout's `index.json`, after checking its `oci-layout` marker.
    pub async fn index(&self, name: &str) -> Result<ImageIndex, LocalError> {
        let bytes = match self {
            Layout::Memory(memory) => memory.index.clone(),
            Layout::Dir(root) => {
                let marker = read_capped(&root.join(LAYOUT_FILE), 4096)
                    .await
                    .map_err(|detail| broken(name, detail))?;
                archive::check_layout_marker(&marker).map_err(|e| broken(name, e.to_string()))?;
                read_capped(&root.join(INDEX_FILE), MAX_INDEX_BYTES)
                    .await
                    .map_err(|detail| broken(name, detail))?
            }
        };
        archive::parse_layout_index(&bytes).map_err(|e| broken(name, e.to_string()))
    }

    /// A blob's bytes, streamed from disk or memory.
    pub async fn blob(&self, digest: &Digest) -> Result<Blob, LocalError> {
        match self {
            Layout::Memory(memory) => {
                let bytes = memory
                    .blobs
                    .get(digest)
                    .cloned()
                    .ok_or_else(|| LocalError::BlobUnknown(digest.to_string()))?;
                Ok(Blob {
                    len: bytes.len() as u64,
                    body: Body::from(bytes),
                })
            }
            Layout::Dir(root) => {
                let path = contained_blob_path(root, digest).await?;
                let file = tokio::fs::File::open(&path)
                    .await
                    .map_err(|_| LocalError::BlobUnknown(digest.to_string()))?;
                let len = file
                    .metadata()
                    .await
                    .map_err(|_| LocalError::BlobUnknown(digest.to_string()))?
                    .len();
                let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
                Ok(Blob {
                    len,
                    body: Body::from_stream(stream),
                })
            }
        }
    }

    /// A small blob (a manifest) read whole, at most `cap` bytes.
    pub async fn small_blob(&self, digest: &Digest, cap: u64) -> Result<Bytes, LocalError> {
        match self {
            Layout::Memory(memory) => memory
                .blobs
                .get(digest)
                .cloned()
                .ok_or_else(|| LocalError::BlobUnknown(digest.to_string())),
            Layout::Dir(root) => {
                let path = contained_blob_path(root, digest).await?;
                read_capped(&path, cap).await.map(Bytes::from).map_err(|_| {
                    LocalError::ManifestUnknown(format!("manifest {digest} is not in this layout"))
                })
            }
        }
    }
}

fn broken(name: &str, detail: String) -> LocalError {
    LocalError::BrokenLayout {
        layout: name.to_owned(),
        detail,
    }
}

/// `ROOT/blobs/ALG/HEX`, refused when it resolves (through symlinks) outside `ROOT`.
async fn contained_blob_path(root: &Path, digest: &Digest) -> Result<PathBuf, LocalError> {
    let path = root.join(archive::blob_path(digest));
    let (Ok(real_root), Ok(real_path)) = (
        tokio::fs::canonicalize(root).await,
        tokio::fs::canonicalize(&path).await,
    ) else {
        return Err(LocalError::BlobUnknown(digest.to_string()));
    };
    if !real_path.starts_with(&real_root) {
        return Err(LocalError::Escape(digest.to_string()));
    }
    Ok(real_path)
}

async fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() as u64 > cap {
        return Err(format!("{} is larger than {cap} bytes", path.display()));
    }
    Ok(bytes)
}
