//! The paths whose shipped data never reaches the final image, largest first: dive's
//! "potential wasted space" list, beside the image's wasted total.

use super::MergedTree;

/// One path's wasted data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WastedPath {
    /// Normalized path (no leading `/`).
    pub path: String,
    /// Versions of the path whose data was wasted.
    pub copies: u32,
    /// Their bytes.
    pub bytes: u64,
}

/// Every path with wasted bytes, the most bytes first (then by path). Their bytes add up
/// to [`MergedTree::wasted_bytes`].
pub fn wasted_files(tree: &MergedTree) -> Vec<WastedPath> {
    let mut paths: Vec<WastedPath> = tree
        .all()
        .filter(|(_, n)| n.wasted.bytes > 0)
        .map(|(p, n)| WastedPath {
            path: p.to_owned(),
            copies: n.wasted.copies,
            bytes: n.wasted.bytes,
        })
        .collect();
    paths.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::test_tar::{E, layer, merged};

    #[test]
    fn overwritten_and_deleted_data_is_listed_by_path_largest_first() {
        let tree = merged(&[
            layer(&[
                E::File("etc/conf", b"first version"),
                E::File("big.bin", &[7u8; 3000]),
                E::File("kept", b"kept all along"),
            ]),
            layer(&[E::File("etc/conf", b"second"), E::File(".wh.big.bin", b"")]),
            layer(&[E::File("etc/conf", b"third, final")]),
        ]);
        let wasted = wasted_files(&tree);
        assert_eq!(
            wasted,
            vec![
                WastedPath {
                    path: "big.bin".into(),
                    copies: 1,
                    bytes: 3000
                },
                WastedPath {
                    path: "etc/conf".into(),
                    copies: 2,
                    bytes: ("first version".len() + "second".len()) as u64
                },
            ]
        );
        let sum: u64 = wasted.iter().map(|w| w.bytes).sum();
        assert_eq!(sum, tree.wasted_bytes());
    }

    #[test]
    fn data_kept_by_a_hard_link_is_not_wasted() {
        let tree = merged(&[
            layer(&[
                E::File("usr/bin/perl", b"interpreter"),
                E::Hardlink("usr/bin/perl5", "usr/bin/perl"),
            ]),
            layer(&[E::File("usr/bin/.wh.perl", b"")]),
        ]);
        assert!(wasted_files(&tree).is_empty());
        assert_eq!(tree.wasted_bytes(), 0);
    }

    #[test]
    fn a_file_replaced_by_a_directory_keeps_its_waste() {
        let tree = merged(&[
            layer(&[E::File("opt/app", b"a file first")]),
            layer(&[E::File("opt/app/inside", b"x")]),
        ]);
        assert_eq!(
            wasted_files(&tree),
            vec![WastedPath {
                path: "opt/app".into(),
                copies: 1,
                bytes: 12
            }]
        );
    }
}
