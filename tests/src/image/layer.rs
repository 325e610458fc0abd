//! Layers: entries written as a deterministic tar, then gzipped.

use std::collections::{BTreeMap, HashSet};
use std::io::Write as _;

use anyhow::Context as _;

use super::descriptor::Descriptor;
use super::media::*;

/// One entry of a layer. Paths are absolute in the image (`/etc/os-release`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A regular file.
    File {
        /// Absolute path.
        path: String,
        /// Its bytes.
        contents: Vec<u8>,
        /// Permission bits, e.g. `0o644`.
        mode: u32,
    },
    /// A directory.
    Dir {
        /// Absolute path.
        path: String,
        /// Permission bits.
        mode: u32,
    },
    /// A symbolic link.
    Symlink {
        /// Absolute path of the link.
        path: String,
        /// What it points to, as written.
        target: String,
    },
    /// A hard link to a file earlier in the same layer.
    Hardlink {
        /// Absolute path of the link.
        path: String,
        /// Absolute path of the file it links to.
        target: String,
    },
    /// Deletes `path` from lower layers: written as `DIR/.wh.NAME`.
    Whiteout {
        /// Absolute path deleted.
        path: String,
    },
    /// Hides everything lower layers put in `dir`: written as `DIR/.wh..wh..opq`.
    Opaque {
        /// Absolute path of the directory.
        dir: String,
    },
}

impl Entry {
    /// A regular file.
    pub fn file(path: &str, contents: impl Into<Vec<u8>>, mode: u32) -> Entry {
        Entry::File {
            path: path.to_owned(),
            contents: contents.into(),
            mode,
        }
    }

    /// A directory with mode 0755.
    pub fn dir(path: &str) -> Entry {
        Entry::Dir {
            path: path.to_owned(),
            mode: 0o755,
        }
    }

    /// A symlink at `path` pointing to `target`.
    pub fn symlink(path: &str, target: &str) -> Entry {
        Entry::Symlink {
            path: path.to_owned(),
            target: target.to_owned(),
        }
    }

    /// A hard link at `path` to `target`.
    pub fn hardlink(path: &str, target: &str) -> Entry {
        Entry::Hardlink {
            path: path.to_owned(),
            target: target.to_owned(),
        }
    }

    /// A whiteout deleting `path`.
    pub fn whiteout(path: &str) -> Entry {
        Entry::Whiteout {
            path: path.to_owned(),
        }
    }

    /// An opaque marker for `dir`.
    pub fn opaque(dir: &str) -> Entry {
        Entry::Opaque {
            dir: dir.to_owned(),
        }
    }

    /// The path this entry has inside the tar (relative, whiteouts spelled out).
    pub fn tar_path(&self) -> String {
        match self {
            Entry::File { path, .. }
            | Entry::Symlink { path, .. }
            | Entry::Hardlink { path, .. } => relative(path),
            Entry::Dir { path, .. } => format!("{}/", relative(path)),
            Entry::Whiteout { path } => {
                let rel = relative(path);
                match rel.rsplit_once('/') {
                    Some((dir, name)) => format!("{dir}/.wh.{name}"),
                    None => format!(".wh.{rel}"),
                }
            }
            Entry::Opaque { dir } => format!("{}/.wh..wh..opq", relative(dir)),
        }
    }
}

fn relative(path: &str) -> String {
    path.trim_matches('/').to_owned()
}

/// A layer: its entries and the history step that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSpec {
    /// The history step's `created_by`.
    pub created_by: String,
    /// Entries in tar order.
    pub entries: Vec<Entry>,
    /// Write missing parent directories (mode 0755) before each entry, as image builders do.
    pub implicit_parents: bool,
}

impl LayerSpec {
    /// A layer with implicit parent directories.
    pub fn new(created_by: &str, entries: Vec<Entry>) -> LayerSpec {
        LayerSpec {
            created_by: created_by.to_owned(),
            entries,
            implicit_parents: true,
        }
    }

    /// The uncompressed tar stream of this layer.
    pub fn tar(&self) -> anyhow::Result<Vec<u8>> {
        let mut builder = tar::Builder::new(Vec::new());
        let explicit_dirs: BTreeMap<String, &Entry> = self
            .entries
            .iter()
            .filter_map(|e| match e {
                Entry::Dir { path, .. } => Some((relative(path), e)),
                _ => None,
            })
            .collect();
        let mut written: HashSet<String> = HashSet::new();
        for entry in &self.entries {
            let tar_path = entry.tar_path();
            if self.implicit_parents {
                let trimmed = tar_path.trim_end_matches('/');
                let mut prefix = String::new();
                let parts: Vec<&str> = trimmed.split('/').collect();
                for part in &parts[..parts.len().saturating_sub(1)] {
                    if !prefix.is_empty() {
                        prefix.push('/');
                    }
                    prefix.push_str(part);
                    if written.insert(prefix.clone()) {
                        match explicit_dirs.get(&prefix) {
                            Some(dir) => append(&mut builder, dir)?,
                            None => append(&mut builder, &Entry::dir(&prefix))?,
                        }
                    }
                }
            }
            if let Entry::Dir { path, .. } = entry
                && !written.insert(relative(path))
            {
                continue;
            }
            append(&mut builder, entry)?;
        }
        Ok(builder.into_inner()?)
    }
}

fn append(builder: &mut tar::Builder<Vec<u8>>, entry: &Entry) -> anyhow::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_mtime(MTIME);
    header.set_uid(0);
    header.set_gid(0);
    header.set_username("root")?;
    header.set_groupname("root")?;
    header.set_size(0);
    let path = entry.tar_path();
    let context = || format!("writing tar entry {path}");
    match entry {
        Entry::File { contents, mode, .. } => {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(*mode);
            header.set_size(contents.len() as u64);
            builder
                .append_data(&mut header, &path, contents.as_slice())
                .with_context(context)?;
        }
        Entry::Dir { mode, .. } => {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(*mode);
            builder
                .append_data(&mut header, &path, std::io::empty())
                .with_context(context)?;
        }
        Entry::Symlink { target, .. } => {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_mode(0o777);
            builder
                .append_link(&mut header, &path, target)
                .with_context(context)?;
        }
        Entry::Hardlink { target, .. } => {
            header.set_entry_type(tar::EntryType::Link);
            header.set_mode(0o644);
            builder
                .append_link(&mut header, &path, relative(target))
                .with_context(context)?;
        }
        Entry::Whiteout { .. } | Entry::Opaque { .. } => {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(0o644);
            builder
                .append_data(&mut header, &path, std::io::empty())
                .with_context(context)?;
        }
    }
    Ok(())
}

/// Gzips `bytes` deterministically (mtime 0, no file name).
pub fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = flate2::GzBuilder::new().write(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// A built layer (or any blob a manifest lists in `layers`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    /// The blob as stored in the registry (gzip for image layers).
    pub blob: Vec<u8>,
    /// Digest of `blob`.
    pub digest: String,
    /// Digest of the uncompressed content (the config's `rootfs.diff_ids`).
    pub diff_id: String,
    /// The uncompressed content (the tar stream for image layers).
    pub uncompressed: Vec<u8>,
    /// The descriptor's media type.
    pub media_type: String,
    /// The descriptor's annotations.
    pub annotations: BTreeMap<String, String>,
}

impl Layer {
    /// Builds the tar of `spec` and gzips it.
    pub fn build(spec: &LayerSpec, format: Format) -> anyhow::Result<Layer> {
        let tar = spec.tar()?;
        let blob = gzip(&tar)?;
        Ok(Layer {
            digest: sha256_digest(&blob),
            diff_id: sha256_digest(&tar),
            blob,
            uncompressed: tar,
            media_type: format.layer_type().to_owned(),
            annotations: BTreeMap::new(),
        })
    }

    /// An uncompressed blob layer (digest == diff_id), e.g. an in-toto statement.
    pub fn raw(bytes: Vec<u8>, media_type: &str) -> Layer {
        let digest = sha256_digest(&bytes);
        Layer {
            blob: bytes.clone(),
            diff_id: digest.clone(),
            digest,
            uncompressed: bytes,
            media_type: media_type.to_owned(),
            annotations: BTreeMap::new(),
        }
    }

    /// Its descriptor.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.blob.len() as u64,
            platform: None,
            annotations: self.annotations.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn entries_of(tar_bytes: &[u8]) -> Vec<(String, tar::EntryType, Vec<u8>)> {
        let mut archive = tar::Archive::new(tar_bytes);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let path = e.path().unwrap().to_string_lossy().into_owned();
                let kind = e.header().entry_type();
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                (path, kind, data)
            })
            .collect()
    }

    #[test]
    fn tar_has_parents_whiteouts_and_links() {
        let spec = LayerSpec::new(
            "RUN x",
            vec![
                Entry::file("/usr/share/doc/a.txt", "hi", 0o644),
                Entry::Dir {
                    path: "/usr/share/doc".into(),
                    mode: 0o700,
                },
                Entry::whiteout("/usr/share/doc/b.txt"),
                Entry::opaque("/var/cache"),
                Entry::symlink("/bin/sh", "busybox"),
                Entry::hardlink("/usr/share/doc/c.txt", "/usr/share/doc/a.txt"),
            ],
        );
        let got = entries_of(&spec.tar().unwrap());
        let paths: Vec<&str> = got.iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "usr/",
                "usr/share/",
                "usr/share/doc/",
                "usr/share/doc/a.txt",
                "usr/share/doc/.wh.b.txt",
                "var/",
                "var/cache/",
                "var/cache/.wh..wh..opq",
                "bin/",
                "bin/sh",
                "usr/share/doc/c.txt",
            ]
        );
        assert_eq!(got[3].2, b"hi");
        assert_eq!(got[9].1, tar::EntryType::Symlink);
        assert_eq!(got[10].1, tar::EntryType::Link);
        // The explicit mode of /usr/share/doc wins over the implicit parent.
        let tar_bytes = spec.tar().unwrap();
        let mut archive = tar::Archive::new(&tar_bytes[..]);
        let doc = archive.entries().unwrap().nth(2).unwrap().unwrap();
        assert_eq!(doc.header().mode().unwrap(), 0o700);
    }
}
