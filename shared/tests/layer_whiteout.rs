//! Whiteout and opaque tables: layers written by GNU tar from real directories (whiteout
//! files are plain empty files named `.wh.*`), gzipped by `gzip`, fed in random chunks,
//! then merged in order.

mod layer_support;

use std::process::Command;

use layer_support::*;
use strata_shared::Digest;
use strata_shared::layer::{EntryKind, LayerIndex, Limits};
use strata_shared::tree::{ChangeKind, MergedTree, TreeBuilder};

enum E<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Hardlink(&'a str, &'a str),
}

/// Creates the entries on disk in order, archives exactly them in that order with GNU
/// tar, gzips with `gzip`, and indexes the blob through the full pipeline.
fn layer(entries: &[E<'_>], seed: u64) -> LayerIndex {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut names = Vec::new();
    for e in entries {
        match e {
            E::File(p, data) => {
                write(root, p, data);
                names.push(*p);
            }
            E::Dir(p) => {
                std::fs::create_dir_all(root.join(p)).unwrap();
                names.push(*p);
            }
            E::Hardlink(p, target) => {
                std::fs::hard_link(root.join(target), root.join(p)).unwrap();
                names.push(*p);
            }
        }
    }
    let out = tempfile::NamedTempFile::new().unwrap();
    run(Command::new(tool("tar"))
        .args(["--format=pax", "--no-recursion", "-C"])
        .arg(root)
        .arg("-cf")
        .arg(out.path())
        .args(&names));
    let tar = std::fs::read(out.path()).unwrap();
    let blob = gzip(&tar);
    let layer = pipeline(
        &blob,
        "application/vnd.oci.image.layer.v1.tar+gzip",
        &Digest::sha256_of(&tar),
        Limits::default(),
        seed,
    )
    .unwrap();
    assert_eq!(layer.index.len(), names.len());
    layer.index
}

fn merge(layers: &[LayerIndex]) -> MergedTree {
    let mut t = TreeBuilder::new();
    for (i, l) in layers.iter().enumerate() {
        t.apply(l, Some(i as u32 * 2));
    }
    t.finish()
}

fn kinds(tree: &MergedTree, path: &str) -> Vec<(u32, ChangeKind)> {
    tree.get(path)
        .unwrap_or_else(|| panic!("{path} not in tree"))
        .changes
        .iter()
        .map(|c| (c.layer, c.kind))
        .collect()
}

fn present(tree: &MergedTree) -> Vec<&str> {
    tree.present().map(|(p, _)| p).collect()
}

fn modified(kind: ChangeKind) -> strata_shared::tree::Modified {
    match kind {
        ChangeKind::Modified(m) => m,
        other => panic!("expected Modified, got {other:?}"),
    }
}

#[test]
fn whiteout_deletes_lower_file_and_is_not_a_file() {
    let l0 = layer(
        &[
            E::Dir("etc"),
            E::File("etc/a", &[1; 700]),
            E::File("etc/b", b"b"),
        ],
        1,
    );
    let l1 = layer(&[E::Dir("etc"), E::File("etc/.wh.a", b"")], 2);
    let tree = merge(&[l0, l1]);
    assert_eq!(present(&tree), ["etc", "etc/b"]);
    assert!(
        tree.get("etc/.wh.a").is_none(),
        "whiteouts are not files of the image"
    );
    assert_eq!(
        kinds(&tree, "etc/a"),
        [(0, ChangeKind::Added), (1, ChangeKind::Deleted)]
    );
    let stats = &tree.layers()[1];
    assert_eq!(
        (stats.whiteouts, stats.deleted.count, stats.deleted.bytes),
        (1, 1, 700)
    );
    assert_eq!(tree.layers()[0].wasted_bytes, 700);
    assert_eq!(tree.layers()[0].history_step, Some(0));
    assert_eq!(tree.get("etc/a").unwrap().changes[1].history_step, Some(2));
}

#[test]
fn opaque_marker_after_its_siblings_still_hides_lower_children() {
    let l0 = layer(
        &[
            E::Dir("d"),
            E::File("d/x", &[0; 10]),
            E::File("d/y", &[0; 20]),
        ],
        3,
    );
    // The marker comes last in the tar, after the layer's own child of d.
    let l1 = layer(
        &[
            E::Dir("d"),
            E::File("d/new", b"n"),
            E::File("d/.wh..wh..opq", b""),
        ],
        4,
    );
    let tree = merge(&[l0, l1]);
    assert_eq!(present(&tree), ["d", "d/new"]);
    assert_eq!(
        kinds(&tree, "d/x"),
        [(0, ChangeKind::Added), (1, ChangeKind::HiddenByOpaque)]
    );
    assert_eq!(kinds(&tree, "d/new"), [(1, ChangeKind::Added)]);
    assert_eq!(tree.layers()[0].wasted_bytes, 30);
    assert_eq!(tree.layers()[1].deleted.count, 2);
}

#[test]
fn delete_then_re_add() {
    let l0 = layer(&[E::File("f", &[7; 100])], 5);
    let l1 = layer(&[E::File(".wh.f", b"")], 6);
    let l2 = layer(&[E::File("f", &[8; 40])], 7);
    let tree = merge(&[l0, l1, l2]);
    assert_eq!(
        kinds(&tree, "f"),
        [
            (0, ChangeKind::Added),
            (1, ChangeKind::Deleted),
            (2, ChangeKind::Added)
        ]
    );
    let f = tree.get("f").unwrap();
    assert!(f.present);
    assert_eq!((f.size, f.layer), (40, 2));
    assert_eq!(tree.layers()[0].wasted_bytes, 100);
    assert_eq!(tree.layers()[2].added.bytes, 40);
    assert_eq!(tree.wasted_bytes(), 100);
}

#[test]
fn file_replaced_by_dir() {
    let l0 = layer(&[E::File("p", &[1; 100])], 8);
    let l1 = layer(&[E::Dir("p"), E::File("p/child", b"c")], 9);
    let tree = merge(&[l0, l1]);
    assert_eq!(present(&tree), ["p", "p/child"]);
    let p = tree.get("p").unwrap();
    assert_eq!(p.kind, EntryKind::Dir);
    let m = modified(p.changes[1].kind);
    assert!(m.kind && m.content, "{m:?}");
    assert_eq!(tree.layers()[0].wasted_bytes, 100);
}

#[test]
fn dir_replaced_by_file() {
    let l0 = layer(
        &[
            E::Dir("q"),
            E::File("q/c1", &[0; 10]),
            E::File("q/c2", &[0; 5]),
        ],
        10,
    );
    let l1 = layer(&[E::File("q", b"now a file")], 11);
    let tree = merge(&[l0, l1]);
    assert_eq!(present(&tree), ["q"]);
    assert_eq!(tree.get("q").unwrap().kind, EntryKind::File);
    assert!(modified(tree.get("q").unwrap().changes[1].kind).kind);
    assert_eq!(
        kinds(&tree, "q/c1"),
        [(0, ChangeKind::Added), (1, ChangeKind::Deleted)]
    );
    assert_eq!(tree.layers()[0].wasted_bytes, 15);
    assert_eq!(
        (
            tree.layers()[1].deleted.count,
            tree.layers()[1].deleted.bytes
        ),
        (2, 15)
    );
}

#[test]
fn hardlink_to_a_later_deleted_file_keeps_the_data() {
    let l0 = layer(
        &[
            E::Dir("h"),
            E::File("h/a", &[3; 50]),
            E::Hardlink("h/b", "h/a"),
        ],
        12,
    );
    let l1 = layer(&[E::File("h/.wh.a", b"")], 13);
    let tree = merge(&[l0.clone(), l1.clone()]);
    assert_eq!(present(&tree), ["h", "h/b"]);
    let b = tree.get("h/b").unwrap();
    assert_eq!(
        (b.kind, b.link.as_deref(), b.size),
        (EntryKind::Hardlink, Some("h/a"), 50)
    );
    assert_eq!(
        tree.layers()[0].wasted_bytes,
        0,
        "h/b still holds the bytes"
    );

    // Deleting the last name wastes them, once.
    let l2 = layer(&[E::File("h/.wh.b", b"")], 14);
    let tree = merge(&[l0, l1, l2]);
    assert_eq!(present(&tree), ["h"]);
    assert_eq!(tree.layers()[0].wasted_bytes, 50);
}

#[test]
fn whiteout_of_a_directory_removes_its_subtree() {
    let l0 = layer(
        &[
            E::Dir("dd"),
            E::Dir("dd/x"),
            E::File("dd/x/y", &[1; 9]),
            E::File("keep", b"k"),
        ],
        15,
    );
    let l1 = layer(&[E::File(".wh.dd", b"")], 16);
    let tree = merge(&[l0, l1]);
    assert_eq!(present(&tree), ["keep"]);
    for p in ["dd", "dd/x", "dd/x/y"] {
        assert_eq!(
            kinds(&tree, p).last(),
            Some(&(1, ChangeKind::Deleted)),
            "{p}"
        );
    }
    assert_eq!(tree.layers()[1].deleted.count, 3);
}

#[test]
fn whiteout_only_acts_on_lower_layers() {
    let l0 = layer(&[E::File("k", b"old")], 17);
    // Same layer whites out k and adds it: the whiteout hits the old k only.
    let l1 = layer(&[E::File("k", b"new!"), E::File(".wh.k", b"")], 18);
    let tree = merge(&[l0, l1]);
    let k = tree.get("k").unwrap();
    assert!(k.present);
    assert_eq!((k.size, k.layer), (4, 1));
    assert_eq!(
        kinds(&tree, "k"),
        [
            (0, ChangeKind::Added),
            (1, ChangeKind::Deleted),
            (1, ChangeKind::Added)
        ]
    );
}

#[test]
fn modified_flags_and_same_content_rewrite() {
    let l0 = layer(&[E::File("m", b"same"), E::File("n", b"before")], 19);
    let l1 = layer(&[E::File("m", b"same"), E::File("n", b"after!")], 20);
    let tree = merge(&[l0, l1]);
    let m = modified(tree.get("m").unwrap().changes[1].kind);
    assert!(
        !m.content && !m.mode && !m.owner,
        "identical bytes rewritten: {m:?}"
    );
    let n = modified(tree.get("n").unwrap().changes[1].kind);
    assert!(n.content, "{n:?}");
    assert_eq!(
        tree.layers()[0].wasted_bytes,
        10,
        "both old versions were replaced"
    );
    assert_eq!(tree.layers()[1].modified.count, 2);
}
