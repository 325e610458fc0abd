//! Symlink targets resolved inside the image, never outside it.

/// Resolves a symlink target against the link's directory, inside the image: `..` stops
/// at the root, and an absolute target starts from the image's root. Paths have no
/// leading `/`.
pub fn resolve_link(path: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        path.rsplit_once('/')
            .map(|(dir, _)| dir.split('/').collect())
            .unwrap_or_default()
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_targets_start_at_the_links_directory() {
        assert_eq!(
            resolve_link("usr/lib/libc.so", "libc.so.6"),
            "usr/lib/libc.so.6"
        );
        assert_eq!(resolve_link("usr/lib/x/a", "../b"), "usr/lib/b");
        assert_eq!(resolve_link("bin", "usr/bin"), "usr/bin");
        assert_eq!(resolve_link("a/b", "./c/./d/"), "a/c/d");
    }

    #[test]
    fn absolute_targets_start_at_the_root() {
        assert_eq!(
            resolve_link("etc/alternatives/vi", "/usr/bin/vim"),
            "usr/bin/vim"
        );
        assert_eq!(resolve_link("a/b", "/"), "");
    }

    #[test]
    fn dot_dot_never_leaves_the_image() {
        assert_eq!(resolve_link("a/b", "../../../../etc/passwd"), "etc/passwd");
        assert_eq!(resolve_link("x", ".."), "");
    }

    #[test]
    fn a_hard_link_reads_its_targets_bytes_as_its_layer_had_them() {
        use crate::tree::test_tar::{E, layer};
        let l = layer(&[
            E::File("etc/conf", b"v1"),
            E::Hardlink("etc/conf.hard", "etc/conf"),
            E::Hardlink("usr/bin/perl", "etc/conf.hard"),
            E::File("etc/conf", b"rewritten later"),
            E::Hardlink("etc/missing.hard", "nowhere"),
            E::Dir("srv"),
            E::Hardlink("srv.hard", "srv"),
        ]);
        // From the archive's root, not from the link's folder (no `etc/etc/conf`).
        let source = l.link_source(1).unwrap();
        assert_eq!(
            (source.path(), source.position(), source.size()),
            ("etc/conf", 0, 2)
        );
        // Through a chain of links, still the first version.
        assert_eq!(l.link_source(2).unwrap().position(), 0);
        assert!(l.link_source(0).is_none(), "a file is no link");
        assert!(l.link_source(4).is_none(), "a target the layer lacks");
        assert!(l.link_source(6).is_none(), "a directory has no data");
    }
}
