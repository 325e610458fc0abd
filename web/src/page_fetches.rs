//! Which page load owns the document fetches under way: a new load aborts the last one's,
//! and leaving a page aborts its own (unless a newer load already took over).

use std::cell::RefCell;

thread_local! {
    /// The document fetches of the page being shown, and which page load owns them.
    static PAGE_FETCHES: RefCell<Option<(u64, web_sys::AbortController)>> =
        const { RefCell::new(None) };
}

/// A page load (`owner`) starts: the fetches of any earlier load are aborted, and its
/// early documents are forgotten.
pub(crate) fn begin(owner: u64) {
    PAGE_FETCHES.with(|c| {
        if let Some((_, old)) = c.borrow_mut().take() {
            old.abort();
        }
        *c.borrow_mut() = web_sys::AbortController::new().ok().map(|a| (owner, a));
    });
    crate::early_documents::reset();
}

/// The page of load `owner` is left: its fetches are aborted, unless a newer load
/// already took over.
pub(crate) fn end(owner: u64) {
    PAGE_FETCHES.with(|c| {
        let mut current = c.borrow_mut();
        if current.as_ref().is_some_and(|(o, _)| *o == owner)
            && let Some((_, old)) = current.take()
        {
            old.abort();
        }
    });
}

/// The signal that aborts the current load's fetches.
pub(crate) fn signal() -> Option<web_sys::AbortSignal> {
    PAGE_FETCHES.with(|c| c.borrow().as_ref().map(|(_, a)| a.signal()))
}
