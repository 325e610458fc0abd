//! The entries both formats list (eStargz's TOCEntry and zstd:chunked's file metadata
//! share their JSON names), as a [`LayerIndex`] the tree merges like any layer's.
//! Extended attributes are left out: the TOC only previews names, kinds and sizes.

use serde::Deserialize;

use super::TocError;
use crate::browse::time::rfc3339_seconds;
use crate::layer::index::{IndexBuilder, NewEntry};
use crate::layer::{EntryKind, LayerIndex, Limits, Whiteout, normalize_path};

#[derive(Deserialize)]
struct Toc {
    entries: Vec<TocEntry>,
}

#[derive(Deserialize)]
struct TocEntry {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    modtime: Option<String>,
    #[serde(default, rename = "linkName")]
    link_name: String,
    #[serde(default)]
    mode: i64,
    #[serde(default)]
    uid: u64,
    #[serde(default)]
    gid: u64,
    #[serde(default, rename = "userName")]
    user_name: String,
    #[serde(default, rename = "groupName")]
    group_name: String,
    #[serde(default, rename = "devMajor")]
    dev_major: i64,
    #[serde(default, rename = "devMinor")]
    dev_minor: i64,
}

/// The entry kind of a TOC type; `None` for `chunk`, a file's later piece.
fn kind_of(entry: &TocEntry) -> Result<Option<EntryKind>, TocError> {
    Ok(Some(match entry.kind.as_str() {
        "reg" => EntryKind::File,
        "dir" => EntryKind::Dir,
        "symlink" => EntryKind::Symlink,
        "hardlink" => EntryKind::Hardlink,
        "char" => EntryKind::CharDevice,
        "block" => EntryKind::BlockDevice,
        "fifo" => EntryKind::Fifo,
        "chunk" => return Ok(None),
        _ => {
            return Err(TocError::UnknownType {
                name: entry.name.clone(),
                kind: entry.kind.clone(),
            });
        }
    }))
}

/// The index of what the TOC JSON lists.
pub(super) fn index_of(json: &[u8], limits: &Limits) -> Result<LayerIndex, TocError> {
    let toc: Toc = serde_json::from_slice(json).map_err(|e| TocError::Json(e.to_string()))?;
    if toc.entries.len() as u64 > limits.max_entries {
        return Err(TocError::TooManyEntries(limits.max_entries));
    }
    let mut builder = IndexBuilder::new(limits.max_index_bytes);
    for entry in &toc.entries {
        let Some(kind) = kind_of(entry)? else {
            continue;
        };
        let (path, mut flags) = normalize_path(entry.name.as_bytes());
        if let Some(w) = Whiteout::classify(&path) {
            flags |= w.flag();
        }
        let link = matches!(kind, EntryKind::Symlink | EntryKind::Hardlink).then(|| {
            let target = entry.link_name.as_str();
            // Tar stores a hard link's target as a name in the archive: normalized alike.
            if kind == EntryKind::Hardlink {
                normalize_path(target.as_bytes()).0
            } else {
                target.to_owned()
            }
        });
        let device = |n: i64| u32::try_from(n).unwrap_or(0);
        builder
            .push(NewEntry {
                path: &path,
                link: link.as_deref(),
                uname: &entry.user_name,
                gname: &entry.group_name,
                kind,
                flags,
                mode: (entry.mode & 0o7777) as u32,
                uid: entry.uid,
                gid: entry.gid,
                size: if kind == EntryKind::File {
                    entry.size
                } else {
                    0
                },
                mtime: entry
                    .modtime
                    .as_deref()
                    .and_then(rfc3339_seconds)
                    .unwrap_or(0),
                header_offset: 0,
                data_offset: 0,
                device: (device(entry.dev_major), device(entry.dev_minor)),
                xattrs: &[],
            })
            .map_err(TocError::Index)?;
    }
    Ok(builder.finish(0, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_become_an_index_and_chunks_are_folded() {
        let json = br#"{"version":1,"entries":[
            {"name":"bin/","type":"dir","modtime":"2019-08-20T10:30:43Z","mode":16877},
            {"name":"bin/busybox","type":"reg","size":833104,"mode":33261,"uid":0,"gid":0,"offset":126},
            {"name":"bin/busybox","type":"chunk","offset":9000,"chunkOffset":4194304,"chunkSize":1},
            {"name":"bin/sh","type":"symlink","linkName":"busybox","mode":511},
            {"name":"etc/.wh.motd","type":"reg","mode":420},
            {"name":"dev/null","type":"char","devMajor":1,"devMinor":3,"mode":438}
        ]}"#;
        let index = index_of(json, &Limits::default()).unwrap();
        let listed: Vec<_> = index
            .iter()
            .map(|e| (e.path().to_owned(), e.kind()))
            .collect();
        assert_eq!(
            listed,
            [
                ("bin".to_owned(), EntryKind::Dir),
                ("bin/busybox".to_owned(), EntryKind::File),
                ("bin/sh".to_owned(), EntryKind::Symlink),
                ("etc/.wh.motd".to_owned(), EntryKind::File),
                ("dev/null".to_owned(), EntryKind::CharDevice),
            ]
        );
        let busybox = index.find("bin/busybox").unwrap();
        assert_eq!((busybox.size(), busybox.mode()), (833104, 0o755));
        assert_eq!(index.find("bin").unwrap().mtime(), 1_566_297_043);
        assert_eq!(index.find("bin/sh").unwrap().link_target(), Some("busybox"));
        assert!(!index.find("etc/.wh.motd").unwrap().is_visible());
        assert_eq!(index.find("dev/null").unwrap().device(), Some((1, 3)));
    }

    #[test]
    fn bad_tocs_name_the_problem() {
        let limits = Limits::default();
        assert!(matches!(index_of(b"{", &limits), Err(TocError::Json(_))));
        assert!(matches!(
            index_of(br#"{"entries":[{"name":"x","type":"socket"}]}"#, &limits),
            Err(TocError::UnknownType { .. })
        ));
        let tight = Limits {
            max_entries: 1,
            ..Limits::default()
        };
        let two = br#"{"entries":[{"name":"a","type":"reg"},{"name":"b","type":"reg"}]}"#;
        assert_eq!(
            index_of(two, &tight).unwrap_err(),
            TocError::TooManyEntries(1)
        );
    }
}
