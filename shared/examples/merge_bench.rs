//! Times the merge of a 100k-entry layer (`TreeBuilder::apply` + `finish`) natively: the
//! baseline for the page's `data-merge-ms` that `tests/examples/explorer_bench.rs` prints
//! for the same layer shape. Also the other whole-layer steps the page runs: decoding the
//! index a worker sends, encoding it for the cache, and copying a builder (what the page
//! does to show layers above one still pending). `cargo run --release -p strata-shared --example merge_bench`.
use strata_shared::layer::{Limits, TarWalker};
use strata_shared::tree::TreeBuilder;

/// A layer of 100k empty files in 500 folders: the entries of one folder one after
/// another, as a directory walk writes them (`grouped`), or round robin across folders.
fn layer(grouped: bool) -> strata_shared::layer::LayerIndex {
    let mut b = tar::Builder::new(Vec::new());
    for i in 0..100_000u32 {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_size(0);
        let dir = if grouped { i / 200 } else { i % 500 };
        b.append_data(
            &mut h,
            format!("many/d{dir:03}/file-{i:06}.txt"),
            std::io::empty(),
        )
        .unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut w = TarWalker::new(Limits::default());
    w.push(&tar).unwrap();
    w.finish().unwrap()
}

fn main() {
    for (grouped, order) in [(true, "folder by folder"), (false, "round robin")] {
        let index = layer(grouped);
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let mut tb = TreeBuilder::new();
            tb.apply(&index, Some(0));
            let applied = t.elapsed();
            let tree = tb.finish();
            println!(
                "native merge of 100k entries ({order}): apply {applied:?}, with finish {:?}, {} paths",
                t.elapsed(),
                tree.all().count()
            );
        }
    }
    let index = layer(false);
    let mut tb = TreeBuilder::new();
    tb.apply(&index, Some(0));
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let bytes = index.encode();
        let encoded = t.elapsed();
        let t = std::time::Instant::now();
        let decoded = strata_shared::layer::LayerIndex::decode(&bytes).unwrap();
        let decoded_in = t.elapsed();
        let t = std::time::Instant::now();
        let copy = tb.clone();
        let cloned = t.elapsed();
        println!(
            "native, 100k entries: index encode {encoded:?} ({} bytes), decode {decoded_in:?} ({} entries), builder copy {cloned:?} ({} layers)",
            bytes.len(),
            decoded.len(),
            copy.layers_applied()
        );
    }
}
