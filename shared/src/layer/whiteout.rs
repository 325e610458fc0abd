//! OCI/AUFS whiteouts: `.wh.NAME` deletes NAME from lower layers, `.wh..wh..opq` makes
//! its directory opaque. Whiteout entries are instructions, not files of the image.

use super::EntryFlags;

/// Prefix of a whiteout file's name.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// Name of the opaque-directory marker.
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// What a whiteout entry does to the layers below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Whiteout {
    /// Delete this path (and everything under it) from lower layers.
    Delete(String),
    /// Hide every lower-layer child of this directory (`""` is the root).
    Opaque(String),
    /// AUFS bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`, or a bare `.wh.`): ignored.
    Meta,
}

impl Whiteout {
    /// Classifies a normalized path; `None` when it is an ordinary entry.
    pub fn classify(path: &str) -> Option<Whiteout> {
        let (dir, name) = match path.rfind('/') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => ("", path),
        };
        let target = name.strip_prefix(WHITEOUT_PREFIX)?;
        if name == OPAQUE_MARKER {
            return Some(Whiteout::Opaque(dir.to_owned()));
        }
        if target.starts_with(WHITEOUT_PREFIX)
            || target.is_empty()
            || target == "."
            || target == ".."
        {
            return Some(Whiteout::Meta);
        }
        Some(Whiteout::Delete(if dir.is_empty() {
            target.to_owned()
        } else {
            format!("{dir}/{target}")
        }))
    }

    /// The entry flag that marks this kind of whiteout.
    pub fn flag(&self) -> EntryFlags {
        match self {
            Whiteout::Delete(_) => EntryFlags::WHITEOUT,
            Whiteout::Opaque(_) => EntryFlags::OPAQUE,
            Whiteout::Meta => EntryFlags::WHITEOUT_META,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        assert_eq!(
            Whiteout::classify("etc/.wh.passwd"),
            Some(Whiteout::Delete("etc/passwd".into()))
        );
        assert_eq!(
            Whiteout::classify(".wh.tmp"),
            Some(Whiteout::Delete("tmp".into()))
        );
        assert_eq!(
            Whiteout::classify("var/.wh..wh..opq"),
            Some(Whiteout::Opaque("var".into()))
        );
        assert_eq!(
            Whiteout::classify(".wh..wh..opq"),
            Some(Whiteout::Opaque(String::new()))
        );
        assert_eq!(Whiteout::classify(".wh..wh.plnk"), Some(Whiteout::Meta));
        assert_eq!(Whiteout::classify("a/.wh."), Some(Whiteout::Meta));
        assert_eq!(Whiteout::classify("etc/passwd"), None);
        assert_eq!(Whiteout::classify("etc/x.wh.y"), None);
    }
}
