//! Small in-memory layers for the tree's unit tests.

use crate::layer::{LayerIndex, Limits, TarWalker};

/// One tar entry: a file (a whiteout is a file named `.wh.NAME`), a directory or a
/// symlink.
pub(crate) enum E<'a> {
    File(&'a str, &'a [u8]),
    /// A file with other permission bits.
    FileMode(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    /// A hard link (path, target from the archive's root).
    Hardlink(&'a str, &'a str),
}

/// A layer holding `entries` in order, indexed by the real tar walker.
pub(crate) fn layer(entries: &[E<'_>]) -> LayerIndex {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_ustar();
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        match e {
            E::File(path, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, path, *data).unwrap();
            }
            E::FileMode(path, data, mode) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, path, *data).unwrap();
            }
            E::Dir(path) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                b.append_data(&mut h, path, &[][..]).unwrap();
            }
            E::Symlink(path, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                b.append_link(&mut h, path, target).unwrap();
            }
            E::Hardlink(path, target) => {
                h.set_entry_type(tar::EntryType::Link);
                h.set_mode(0o644);
                h.set_size(0);
                b.append_link(&mut h, path, target).unwrap();
            }
        }
    }
    let bytes = b.into_inner().unwrap();
    let mut walker = TarWalker::new(Limits::default());
    walker.push(&bytes).unwrap();
    walker.finish().unwrap()
}

/// The layers merged in order.
pub(crate) fn merged(layers: &[LayerIndex]) -> super::MergedTree {
    let mut builder = super::TreeBuilder::new();
    for l in layers {
        builder.apply(l, None);
    }
    builder.finish()
}
