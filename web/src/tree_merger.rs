//! Merges an image's layers on the page without blocking it.
//!
//! A 100k-entry layer takes hundreds of milliseconds to apply, more than a frame and more
//! than the 50 ms the page allows any task. So layers are applied a slice of entries at a
//! time, yielding to the browser between slices, and incrementally: the layers settled
//! from the bottom up are applied once and kept, so a layer that settles later only
//! costs itself and the layers above it, never a merge from scratch. A layer still
//! pending is applied as empty (the page names it), and the layers above it are applied
//! to a copy until it settles.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, LazyLock};

use leptos::prelude::*;
use strata_shared::layer::LayerIndex;
use strata_shared::tree::TreeBuilder;

use crate::browser_turn::yield_to_browser;
use crate::merged_tree::{LayerSlot, MergedTreeState, now_ms, state_of};

/// Owns one image's layer slots and publishes their merged tree to `out`.
#[derive(Clone)]
pub(crate) struct TreeMerger(Rc<RefCell<Merger>>);

struct Merger {
    slots: Vec<LayerSlot>,
    history_steps: Vec<Option<usize>>,
    out: RwSignal<Option<MergedTreeState>>,
    /// The bottom layers that settled for good, applied; `None` once the whole image was
    /// merged (nothing can change any more).
    settled: Option<TreeBuilder>,
    /// Bumped by every change; a merge that sees it move merges again.
    generation: u64,
    running: bool,
}

impl TreeMerger {
    pub(crate) fn new(
        slots: Vec<LayerSlot>,
        history_steps: Vec<Option<usize>>,
        out: RwSignal<Option<MergedTreeState>>,
    ) -> TreeMerger {
        TreeMerger(Rc::new(RefCell::new(Merger {
            slots,
            history_steps,
            out,
            settled: Some(TreeBuilder::new()),
            generation: 0,
            running: false,
        })))
    }

    /// Reads or changes the slots; call [`TreeMerger::remerge`] after a change.
    pub(crate) fn with_slots<R>(&self, f: impl FnOnce(&mut Vec<LayerSlot>) -> R) -> R {
        f(&mut self.0.borrow_mut().slots)
    }

    /// Merges the slots as they are now, soon; a merge under way starts over from its
    /// settled layers.
    pub(crate) fn remerge(&self) {
        let mut merger = self.0.borrow_mut();
        merger.generation += 1;
        if !merger.running {
            merger.running = true;
            leptos::task::spawn_local(run(self.0.clone()));
        }
    }
}

/// Whether a slot can no longer change.
fn is_final(slot: &LayerSlot) -> bool {
    matches!(
        slot,
        LayerSlot::Indexed(_) | LayerSlot::Failed | LayerSlot::NotFetched
    )
}

async fn run(merger: Rc<RefCell<Merger>>) {
    // Not in the task of the report that asked for it: decoding a big layer's index
    // takes tens of milliseconds of that task already.
    yield_to_browser().await;
    let mut turn = Turn::start();
    loop {
        let (generation, slots, steps, settled) = {
            let mut m = merger.borrow_mut();
            let Some(settled) = m.settled.take() else {
                m.running = false;
                return;
            };
            (
                m.generation,
                m.slots.clone(),
                m.history_steps.clone(),
                settled,
            )
        };
        let mut settled = settled;
        while let Some(slot) = slots
            .get(settled.layers_applied())
            .filter(|slot| is_final(slot))
        {
            let step = steps.get(settled.layers_applied()).copied().flatten();
            let (index, step) = contribution(slot, step);
            apply(&mut settled, &index, step, &mut turn).await;
        }
        let whole = settled.layers_applied() == slots.len();
        let tree = if whole {
            let _finishing = crate::user_timing::span("strata:merge-finish");
            settled.finish()
        } else {
            // Copying is one step, but far cheaper than applying what it copies.
            let mut upper = settled.clone();
            merger.borrow_mut().settled = Some(settled);
            for (i, slot) in slots.iter().enumerate().skip(upper.layers_applied()) {
                let (index, step) = contribution(slot, steps.get(i).copied().flatten());
                apply(&mut upper, &index, step, &mut turn).await;
                if merger.borrow().generation != generation {
                    break;
                }
            }
            let _finishing = crate::user_timing::span("strata:merge-finish");
            upper.finish()
        };
        // What the page reads of the tree, then the page's render, each in a task of its
        // own: with the merge's last slice they would make one long task.
        let merge_ms = turn.busy_ms();
        yield_to_browser().await;
        let state = {
            let _tallying = crate::user_timing::span("strata:merge-tally");
            state_of(tree, &slots, merge_ms)
        };
        yield_to_browser().await;
        let mut m = merger.borrow_mut();
        let moved = m.generation != generation;
        if whole || !moved {
            // The page may be gone (a newer page disposed its signal): nothing to show then.
            let _publishing = crate::user_timing::span("strata:merge-publish");
            let _ = m.out.try_set(Some(state));
            m.running = false;
            return;
        }
    }
}

/// Entries applied between looks at the clock (about a millisecond's work).
const SLICE_ENTRIES: usize = 1024;
/// Main-thread milliseconds of merging before the browser gets a turn.
const TURN_MS: f64 = 12.0;

static EMPTY: LazyLock<Arc<LayerIndex>> = LazyLock::new(Arc::default);

/// What a slot contributes: its index (empty when unknown) and its history step (none
/// for a failed layer, whose step cannot be trusted to have run).
fn contribution(slot: &LayerSlot, step: Option<usize>) -> (Arc<LayerIndex>, Option<u32>) {
    let step = step.map(|s| s as u32);
    match slot {
        LayerSlot::Indexed(index) | LayerSlot::Listed(index) => (index.clone(), step),
        LayerSlot::Failed => (EMPTY.clone(), None),
        LayerSlot::Pending | LayerSlot::NotFetched => (EMPTY.clone(), step),
    }
}

/// Applies one layer a slice at a time, giving the browser its turns.
async fn apply(builder: &mut TreeBuilder, index: &LayerIndex, step: Option<u32>, turn: &mut Turn) {
    let mut application = builder.begin(step);
    while !builder.advance(&mut application, index, SLICE_ENTRIES) {
        turn.maybe_yield().await;
    }
    turn.maybe_yield().await;
}

/// The main thread's time spent merging, and when to let the browser run.
struct Turn {
    started: f64,
    busy: f64,
}

impl Turn {
    fn start() -> Turn {
        Turn {
            started: now_ms(),
            busy: 0.0,
        }
    }

    /// Milliseconds of main-thread work so far.
    fn busy_ms(&self) -> f64 {
        self.busy + (now_ms() - self.started)
    }

    async fn maybe_yield(&mut self) {
        let ran = now_ms() - self.started;
        if ran < TURN_MS {
            return;
        }
        self.busy += ran;
        yield_to_browser().await;
        self.started = now_ms();
    }
}
