//! Images opened from this machine without a registry: an archive file (`docker save`,
//! `podman save`, `skopeo … oci-archive:`/`docker-archive:`, gzip-compressed or not), an
//! OCI layout directory, or the daemon's export. Nothing is uploaded and nothing is read
//! whole: the outer tar is indexed from its headers (`shared::archive::TarTable` over
//! `Blob.slice`), and each blob is handed to the usual pipeline as a `blob:` URL of its
//! slice, where it is verified against its digest like any registry blob.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::Uint8Array;
use strata_shared::Digest;
use strata_shared::archive::{self, Member, Step, TarTable};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

/// Largest JSON member read into memory (index.json, manifest.json, a config, a manifest).
const MAX_JSON_MEMBER: u64 = 8 << 20;

/// Why an archive cannot be opened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OpenError {
    /// The archive's structure is wrong (a path, a truncation, bad JSON…).
    #[error("{0}")]
    Archive(#[from] archive::ArchiveError),
    /// The browser could not read the file.
    #[error("the file could not be read: {0}")]
    Read(String),
    /// Neither `index.json` nor `manifest.json` is there.
    #[error(
        "this is a tar, but not an image archive: it has neither index.json (OCI) nor manifest.json (docker save)"
    )]
    NotAnImage,
    /// A compression the browser cannot undo.
    #[error("{0}-compressed archives cannot be read in this browser; decompress it first")]
    Compression(&'static str),
}

/// One image an archive offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ArchiveImage {
    /// `repo:tag`, the layout's `ref.name`, or the short digest.
    pub(crate) name: String,
    /// The digest of its top document (index or manifest; written by Strata for legacy
    /// archives).
    pub(crate) digest: Digest,
    /// For legacy archives: the config's digest (the image ID), which also finds it.
    pub(crate) image_id: Option<Digest>,
}

/// How an archive stores its images, which decides what can be checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArchiveShape {
    /// `oci-layout` + `index.json` + `blobs/sha256/…`: an OCI layout directory, an
    /// `oci-archive`, or `docker save` from Docker 25 on.
    OciLayout,
    /// `manifest.json` + `<id>.json` + `<dir>/layer.tar`: `docker save` up to Docker 24,
    /// `podman save`, `skopeo … docker-archive:`.
    LegacyDockerSave,
}

impl ArchiveShape {
    /// The page's name for it.
    pub(crate) fn label(self) -> &'static str {
        match self {
            ArchiveShape::OciLayout => "OCI image layout",
            ArchiveShape::LegacyDockerSave => "docker save (legacy)",
        }
    }
}

/// An opened archive: its images and where each blob's bytes are.
pub(crate) struct ArchiveStore {
    /// The file's name, or the directory's, or the daemon reference.
    pub(crate) label: String,
    /// What kind of archive.
    pub(crate) shape: ArchiveShape,
    /// The images, in archive order.
    pub(crate) images: Vec<ArchiveImage>,
    blobs: HashMap<Digest, Blob>,
    urls: RefCell<HashMap<Digest, String>>,
}

impl std::fmt::Debug for ArchiveStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveStore")
            .field("label", &self.label)
            .field("images", &self.images)
            .finish()
    }
}

impl ArchiveStore {
    /// The image whose top digest or image ID is `digest`.
    pub(crate) fn image(&self, digest: &Digest) -> Option<&ArchiveImage> {
        self.images
            .iter()
            .find(|i| &i.digest == digest || i.image_id.as_ref() == Some(digest))
    }

    /// A `blob:` URL of the bytes stored under `digest` (not yet verified: the reader
    /// checks them), made once and kept for the page's life.
    pub(crate) fn url(&self, digest: &Digest) -> Option<String> {
        if let Some(url) = self.urls.borrow().get(digest) {
            return Some(url.clone());
        }
        let blob = self.blobs.get(digest)?;
        let url = web_sys::Url::create_object_url_with_blob(blob).ok()?;
        self.urls.borrow_mut().insert(digest.clone(), url.clone());
        Some(url)
    }
}

impl Drop for ArchiveStore {
    fn drop(&mut self) {
        for url in self.urls.borrow().values() {
            let _ = web_sys::Url::revoke_object_url(url);
        }
    }
}

thread_local! {
    /// Archives opened in this tab, newest first: `/archive/{digest}` looks here.
    static OPENED: RefCell<Vec<Rc<ArchiveStore>>> = const { RefCell::new(Vec::new()) };
}

thread_local! {
    /// Counts archives opened in this tab, so pages waiting for a file reload.
    /// Reference-counted, so no component or effect that first reads it owns it.
    static OPENED_COUNT: leptos::prelude::ArcRwSignal<u64> = leptos::prelude::ArcRwSignal::new(0);
}

/// A signal that changes whenever an archive is opened in this tab.
pub(crate) fn opened() -> leptos::prelude::ArcRwSignal<u64> {
    OPENED_COUNT.with(|c| c.clone())
}

/// Keeps `store` for this tab's `/archive/…` and daemon pages.
pub(crate) fn remember(store: Rc<ArchiveStore>) {
    use leptos::prelude::Update;
    opened().update(|n| *n += 1);
    OPENED.with(|o| {
        let mut opened = o.borrow_mut();
        opened.retain(|s| s.label != store.label);
        opened.insert(0, store);
        opened.truncate(8);
    });
}

/// The opened archive that holds `digest`, if any.
pub(crate) fn find(digest: &Digest) -> Option<Rc<ArchiveStore>> {
    OPENED.with(|o| {
        o.borrow()
            .iter()
            .find(|s| s.image(digest).is_some())
            .cloned()
    })
}

fn js_error(e: JsValue) -> OpenError {
    OpenError::Read(
        e.as_string()
            .or_else(|| js_sys::JSON::stringify(&e).ok().and_then(|s| s.as_string()))
            .unwrap_or_else(|| "unknown error".into()),
    )
}

async fn read_range(blob: &Blob, offset: u64, len: u64) -> Result<Vec<u8>, OpenError> {
    let end = offset.saturating_add(len).min(blob.size() as u64);
    let start = offset.min(end);
    let slice = blob
        .slice_with_f64_and_f64(start as f64, end as f64)
        .map_err(js_error)?;
    let buffer = JsFuture::from(slice.array_buffer())
        .await
        .map_err(js_error)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

fn slice(blob: &Blob, member: &Member) -> Result<Blob, OpenError> {
    blob.slice_with_f64_and_f64(member.offset as f64, (member.offset + member.size) as f64)
        .map_err(js_error)
}

async fn read_whole(blob: &Blob) -> Result<Vec<u8>, OpenError> {
    let size = blob.size() as u64;
    if size > MAX_JSON_MEMBER {
        return Err(OpenError::Archive(archive::ArchiveError::TooLarge {
            member: "a JSON member",
            size,
            limit: MAX_JSON_MEMBER,
        }));
    }
    read_range(blob, 0, size).await
}

/// Undoes gzip (and zstd, where the browser can) with `DecompressionStream`, into a Blob
/// the browser keeps on disk when large: the compressed file is read once, in order.
async fn decompressed(blob: &Blob) -> Result<Blob, OpenError> {
    let magic = read_range(blob, 0, 4).await?;
    let format = match magic.as_slice() {
        [0x1f, 0x8b, ..] => "gzip",
        [0x28, 0xb5, 0x2f, 0xfd] => "zstd",
        _ => return Ok(blob.clone()),
    };
    let global = js_sys::global();
    let constructor: js_sys::Function =
        js_sys::Reflect::get(&global, &"DecompressionStream".into())
            .map_err(js_error)?
            .dyn_into()
            .map_err(|_| OpenError::Compression(format))?;
    let args = js_sys::Array::of1(&JsValue::from_str(format));
    let stream = match js_sys::Reflect::construct(&constructor, &args) {
        Ok(stream) => stream,
        // Browsers without zstd in DecompressionStream: the engine's own decoder.
        Err(_) if format == "zstd" => return zstd_in_wasm(blob).await,
        Err(_) => return Err(OpenError::Compression(format)),
    };
    let source = blob.stream();
    let pipe: js_sys::Function = js_sys::Reflect::get(&source, &"pipeThrough".into())
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| OpenError::Read("no ReadableStream.pipeThrough".into()))?;
    let piped: web_sys::ReadableStream = pipe
        .call1(&source, &stream)
        .map_err(js_error)?
        .unchecked_into();
    let response =
        web_sys::Response::new_with_opt_readable_stream(Some(&piped)).map_err(js_error)?;
    let out = JsFuture::from(response.blob().map_err(js_error)?)
        .await
        .map_err(|e| {
            OpenError::Read(format!("{format} data is corrupt or cut: {}", js_error(e)))
        })?;
    Ok(out.unchecked_into())
}

/// Decompresses a zstd file with the engine's push decoder, read in order in 1 MiB slices;
/// the output goes to the browser's blob storage in 8 MiB parts (kept on disk when large),
/// so neither side is held whole here.
async fn zstd_in_wasm(blob: &Blob) -> Result<Blob, OpenError> {
    use strata_shared::layer::{Compression, Decompressor, Limits};
    const READ: u64 = 1 << 20;
    const PART: usize = 8 << 20;
    let corrupt = |e: strata_shared::layer::LayerError| {
        OpenError::Read(format!("zstd data is corrupt or cut: {e}"))
    };
    let mut decoder = Decompressor::new(Compression::Zstd, &Limits::default());
    let parts = js_sys::Array::new();
    let mut pending = Vec::with_capacity(PART);
    let flush = |pending: &mut Vec<u8>, parts: &js_sys::Array| -> Result<(), OpenError> {
        let bytes = Uint8Array::from(pending.as_slice());
        let part =
            Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&bytes)).map_err(js_error)?;
        parts.push(&part);
        pending.clear();
        Ok(())
    };
    let size = blob.size() as u64;
    let mut offset = 0;
    while offset < size {
        let input = read_range(blob, offset, READ).await?;
        offset += input.len() as u64;
        decoder.push_to_vec(&input, &mut pending).map_err(corrupt)?;
        if pending.len() >= PART {
            flush(&mut pending, &parts)?;
        }
    }
    decoder
        .finish(&mut |b: &[u8]| {
            pending.extend_from_slice(b);
            Ok(())
        })
        .map_err(corrupt)?;
    flush(&mut pending, &parts)?;
    Blob::new_with_blob_sequence(&parts).map_err(js_error)
}

/// Opens an archive file (or the daemon's export, as a Blob).
pub(crate) async fn open_archive(label: String, file: &Blob) -> Result<ArchiveStore, OpenError> {
    let tar = decompressed(file).await?;
    let mut table = TarTable::new(tar.size() as u64);
    while let Step::Read { offset, len } = table.next() {
        let bytes = read_range(&tar, offset, len).await?;
        table.feed(&bytes)?;
    }
    let mut members = HashMap::new();
    for member in table.members() {
        members.insert(member.path.clone(), slice(&tar, &member)?);
    }
    from_members(label, members).await
}

/// Opens an OCI layout directory chosen with `webkitdirectory`: (relative path, file).
pub(crate) async fn open_directory(
    label: String,
    files: Vec<(String, Blob)>,
) -> Result<ArchiveStore, OpenError> {
    // The browser prefixes each path with the chosen directory's name.
    let members = files
        .into_iter()
        .map(|(path, blob)| {
            let inner = path.split_once('/').map_or(path.as_str(), |(_, rest)| rest);
            archive::safe_member_path(inner).map(|p| (p, blob))
        })
        .collect::<Result<HashMap<_, _>, _>>()?;
    from_members(label, members).await
}

async fn from_members(
    label: String,
    members: HashMap<String, Blob>,
) -> Result<ArchiveStore, OpenError> {
    let mut blobs = HashMap::new();
    for (path, blob) in &members {
        if let Some(digest) = archive::digest_of_blob_path(path)? {
            blobs.insert(digest, blob.clone());
        }
    }
    if let Some(index) = members.get(archive::INDEX_FILE) {
        if let Some(marker) = members.get(archive::LAYOUT_FILE) {
            archive::check_layout_marker(&read_whole(marker).await?)?;
        }
        let index = archive::parse_layout_index(&read_whole(index).await?)?;
        let images = index
            .manifests
            .iter()
            .map(|d| ArchiveImage {
                name: d
                    .annotation(archive::REF_NAME)
                    .or_else(|| d.annotation("io.containerd.image.name"))
                    .map_or_else(|| d.digest.short(), str::to_owned),
                digest: d.digest.clone(),
                image_id: None,
            })
            .collect::<Vec<_>>();
        if images.is_empty() {
            return Err(archive::ArchiveError::Empty(archive::INDEX_FILE).into());
        }
        return Ok(ArchiveStore {
            label,
            shape: ArchiveShape::OciLayout,
            images,
            blobs,
            urls: RefCell::default(),
        });
    }
    let Some(manifest_json) = members.get("manifest.json") else {
        return Err(OpenError::NotAnImage);
    };
    let legacy = archive::parse_legacy_manifest(&read_whole(manifest_json).await?)?;
    let table: Vec<Member> = members
        .iter()
        .map(|(path, blob)| Member {
            path: path.clone(),
            offset: 0,
            size: blob.size() as u64,
        })
        .collect();
    let mut images = Vec::new();
    for image in &legacy {
        let config_blob = members
            .get(&image.config)
            .ok_or_else(|| archive::ArchiveError::MissingMember(image.config.clone()))?;
        let config = read_whole(config_blob).await?;
        let layout = archive::synthesize(image, &config, &table)?;
        for (digest, member) in &layout.blobs {
            if let Some(blob) = members.get(&member.path) {
                blobs.insert(digest.clone(), blob.clone());
            }
        }
        let manifest_digest = Digest::sha256_of(&layout.manifest);
        let bytes = Uint8Array::from(layout.manifest.as_slice());
        let parts = js_sys::Array::of1(&bytes);
        blobs.insert(
            manifest_digest.clone(),
            Blob::new_with_u8_array_sequence(&parts).map_err(js_error)?,
        );
        images.push(ArchiveImage {
            name: image
                .repo_tags
                .as_ref()
                .and_then(|t| t.first().cloned())
                .unwrap_or_else(|| layout.config_digest.short()),
            digest: manifest_digest,
            image_id: Some(layout.config_digest),
        });
    }
    Ok(ArchiveStore {
        label,
        shape: ArchiveShape::LegacyDockerSave,
        images,
        blobs,
        urls: RefCell::default(),
    })
}
