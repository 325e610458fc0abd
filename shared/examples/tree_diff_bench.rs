//! Native benchmark of the compare's tree diff on Debian-sized trees.
//!
//! Run: `cargo run --release -p strata-shared --example tree_diff_bench -- [FILES] [CHANGES]`
//!
//! Builds by code two images of about FILES paths (default 20 000) that share a base
//! layer and differ by about CHANGES files (default 2 000: a third modified with the same
//! size, a third added, a third whited out), indexes them with the real tar walker,
//! merges them, then times `diff_trees` (strict and semantic), `directory_rollups`, a
//! filtered search and the CSV export. Best of 10 runs each; prints numbers, no
//! pass/fail. Builds for wasm32 as well (the timing needs a native clock).

use std::time::{Duration, Instant};

use strata_shared::compare::files::{DiffOptions, FileFilter, diff_trees};
use strata_shared::compare::{export, rollup};
use strata_shared::layer::{LayerIndex, Limits, TarWalker};
use strata_shared::tree::{MergedTree, TreeBuilder};

fn main() {
    let mut args = std::env::args().skip(1);
    let files: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let changes: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let third = changes / 3;

    // Base: FILES paths in 40 × 25 directories; each image adds its own top layer.
    let path = |i: usize| {
        format!(
            "usr/lib/pkg{:02}/sub{:02}/file{i:06}.so",
            i % 40,
            (i / 40) % 25
        )
    };
    let base: Vec<(String, Vec<u8>)> = (0..files)
        .map(|i| (path(i), format!("content of {i}").into_bytes()))
        .collect();
    let a_top: Vec<(String, Vec<u8>)> = vec![("etc/a-only".into(), b"a".to_vec())];
    let mut b_top: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..third {
        // Modified: same size, other bytes.
        let mut data = format!("content of {i}").into_bytes();
        data[0] = b'C';
        b_top.push((path(i), data));
        b_top.push((
            format!("opt/new/dir{:02}/added{i:06}", i % 30),
            vec![7; 100 + i % 900],
        ));
    }
    let mut whiteouts = Vec::new();
    for i in third..2 * third {
        let p = path(i);
        let (dir, name) = p.rsplit_once('/').unwrap();
        whiteouts.push((format!("{dir}/.wh.{name}"), Vec::new()));
    }
    b_top.extend(whiteouts);

    let t = Instant::now();
    let base = index(&base);
    let a = tree(&[&base, &index(&a_top)]);
    let b = tree(&[&base, &index(&b_top)]);
    println!(
        "trees: A {} paths, B {} paths (built in {:.0} ms)",
        a.len(),
        b.len(),
        ms(t.elapsed())
    );

    let strict = diff_trees(&a, &b, DiffOptions::default());
    println!(
        "diff: {} rows, {} changed (added {}, removed {}, modified {}, metadata {})",
        strict.entries.len(),
        strict.counts.changed(),
        strict.counts.added,
        strict.counts.removed,
        strict.counts.modified,
        strict.counts.metadata
    );
    let semantic = DiffOptions {
        semantic: true,
        ..DiffOptions::default()
    };
    let t_strict = best(|| diff_trees(&a, &b, DiffOptions::default()).entries.len());
    let t_sem = best(|| diff_trees(&a, &b, semantic).entries.len());
    let t_roll = best(|| rollup::directory_rollups(&strict).len());
    let filter = FileFilter::changed().search("**/sub07/*.so");
    let t_filter = best(|| strict.filtered(&filter).count());
    let t_csv = best(|| export::files_csv(strict.filtered(&FileFilter::changed())).len());
    println!("tree diff (strict):     {:>8.2} ms", ms(t_strict));
    println!("tree diff (semantic):   {:>8.2} ms", ms(t_sem));
    println!("directory roll-ups:     {:>8.2} ms", ms(t_roll));
    println!("filter + glob search:   {:>8.2} ms", ms(t_filter));
    println!("CSV of changed rows:    {:>8.2} ms", ms(t_csv));
}

fn index(entries: &[(String, Vec<u8>)]) -> LayerIndex {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, path, &data[..]).unwrap();
    }
    let bytes = b.into_inner().unwrap();
    let mut w = TarWalker::new(Limits::default());
    bytes.chunks(64 << 10).for_each(|c| w.push(c).unwrap());
    w.finish().unwrap()
}

fn tree(layers: &[&LayerIndex]) -> MergedTree {
    let mut t = TreeBuilder::new();
    for l in layers {
        t.apply(l, None);
    }
    t.finish()
}

fn best<T>(mut f: impl FnMut() -> T) -> Duration {
    (0..10)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
