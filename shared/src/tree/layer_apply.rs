//! Applying one layer to a [`TreeBuilder`], whole or a slice of entries at a time.
//!
//! A page merges on its main thread; a 100k-entry layer takes hundreds of milliseconds
//! there, so it applies the layer in slices and lets the browser paint between them.
//! Both ways run the same steps in the same order, so the tree is the same.

use super::merge::{Ctx, TreeBuilder};
use super::node::{ChangeKind, LayerStats};
use crate::layer::{LayerIndex, Whiteout};

/// Where a layer's application stands: whiteouts first (they act on the layers below,
/// wherever they sit in the tar), then the visible entries, then the opaque markers.
#[derive(Clone, Debug)]
pub struct LayerApplication {
    ctx: Ctx,
    phase: Phase,
    /// Next entry position in the current phase.
    next: usize,
    opaque_dirs: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Whiteouts,
    Entries,
    Done,
}

impl LayerApplication {
    /// Whether every entry has been applied.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }
}

impl TreeBuilder {
    /// Applies the next layer; `history_step` is the index of its step in the config's
    /// history. Returns that layer's statistics.
    pub fn apply(&mut self, index: &LayerIndex, history_step: Option<u32>) -> &LayerStats {
        let mut application = self.begin(history_step);
        self.advance(&mut application, index, usize::MAX);
        &self.layers[application.ctx.layer as usize]
    }

    /// Starts the next layer; feed it with [`TreeBuilder::advance`] until done, before
    /// beginning another. The layer counts as applied from here on.
    pub fn begin(&mut self, history_step: Option<u32>) -> LayerApplication {
        let layer = self.layers.len() as u32;
        self.layers.push(LayerStats {
            layer,
            history_step,
            ..LayerStats::default()
        });
        LayerApplication {
            ctx: Ctx {
                layer,
                history_step,
            },
            phase: Phase::Whiteouts,
            next: 0,
            opaque_dirs: Vec::new(),
        }
    }

    /// Applies up to `budget` more of `index`'s entries (each phase visits every entry
    /// once, so a layer costs two visits an entry); whether the layer is now done.
    /// `index` must be the same on every call for one application.
    pub fn advance(
        &mut self,
        application: &mut LayerApplication,
        index: &LayerIndex,
        budget: usize,
    ) -> bool {
        let ctx = application.ctx;
        let mut left = budget.max(1);
        while left > 0 && application.phase != Phase::Done {
            let Some(e) = index.get(application.next) else {
                match application.phase {
                    Phase::Whiteouts => {
                        application.phase = Phase::Entries;
                        application.next = 0;
                    }
                    _ => {
                        // A directory reset by an opaque marker was replaced, whatever
                        // its own entry says.
                        for dir in std::mem::take(&mut application.opaque_dirs) {
                            self.mark_opaque(&dir, ctx);
                        }
                        application.phase = Phase::Done;
                    }
                }
                continue;
            };
            application.next += 1;
            left -= 1;
            let stats = ctx.layer as usize;
            match application.phase {
                Phase::Whiteouts => {
                    let Some(whiteout) = e.whiteout() else {
                        continue;
                    };
                    self.layers[stats].whiteouts += 1;
                    match whiteout {
                        Whiteout::Delete(target) => {
                            self.remove(&target, true, ChangeKind::Deleted, ctx);
                        }
                        Whiteout::Opaque(dir) => {
                            self.remove(&dir, false, ChangeKind::HiddenByOpaque, ctx);
                            application.opaque_dirs.push(dir);
                        }
                        Whiteout::Meta => {}
                    }
                }
                Phase::Entries if e.is_visible() => {
                    self.layers[stats].entries += 1;
                    self.add(&e, ctx);
                }
                _ => {}
            }
        }
        application.phase == Phase::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::test_tar::{E, layer};

    /// A folder deleted by a whiteout is made again for the entries listed in it: the
    /// folder the last layer left known is forgotten when anything is removed.
    #[test]
    fn a_folder_whited_out_and_listed_again_is_present_again() {
        let base = layer(&[E::File("a/b/x", b"x")]);
        let upper = layer(&[E::File("a/b/y", b"y"), E::File("a/.wh.b", b"")]);
        let mut builder = TreeBuilder::new();
        builder.apply(&base, Some(0));
        builder.apply(&upper, Some(1));
        let tree = builder.finish();
        let dir = tree.get("a/b").expect("a/b is listed");
        assert!(
            dir.present && dir.kind == crate::layer::EntryKind::Dir,
            "{dir:?}"
        );
        assert!(tree.get("a/b/y").is_some_and(|n| n.present));
        assert!(!tree.get("a/b/x").is_some_and(|n| n.present));
    }

    /// Three layers with deletions, an opaque directory, a replaced directory and a hard
    /// link, applied whole and then a few entries at a time: the same tree.
    #[test]
    fn a_layer_applied_in_slices_gives_the_same_tree_as_applied_whole() {
        let base = layer(&[
            E::Dir("etc"),
            E::File("etc/a.conf", b"a"),
            E::File("etc/b.conf", b"bb"),
            E::Dir("opt/app"),
            E::File("opt/app/run", b"run"),
            E::File("opt/app/lib.so", b"lib"),
            E::File("usr/bin/tool", b"tool"),
        ]);
        let upper = layer(&[
            E::File("etc/.wh.a.conf", b""),
            E::File("opt/app/.wh..wh..opq", b""),
            E::File("opt/app/new", b"new"),
            E::File("usr/bin", b"not a dir any more"),
            E::Hardlink("etc/c.conf", "etc/b.conf"),
        ]);
        let top = layer(&[
            E::FileMode("etc/b.conf", b"changed", 0o600),
            E::File("etc/.wh.c.conf", b""),
        ]);
        let layers = [(&base, Some(0)), (&upper, Some(2)), (&top, None)];
        let mut whole = TreeBuilder::new();
        for (layer, step) in layers {
            whole.apply(layer, step);
        }
        for budget in [1, 2, 3, 7] {
            let mut sliced = TreeBuilder::new();
            let mut slices = 0;
            for (layer, step) in layers {
                let mut application = sliced.begin(step);
                while !sliced.advance(&mut application, layer, budget) {
                    slices += 1;
                }
                assert!(application.is_done());
            }
            assert!(slices >= 2, "budget {budget} took {slices} slices");
            assert_eq!(sliced.finish(), whole.clone().finish(), "budget {budget}");
        }
        let tree = whole.finish();
        assert!(!tree.get("etc/a.conf").is_some_and(|n| n.present));
        assert!(!tree.get("opt/app/run").is_some_and(|n| n.present));
        assert!(tree.get("opt/app/new").is_some_and(|n| n.present));
    }
}
