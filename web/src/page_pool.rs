//! The layer workers of the page on screen: one pool per page, started as soon as the
//! page knows it will read layers (its workers instantiate their wasm while the documents
//! are still being fetched), replaced — and the old workers terminated — on navigation.
//! The image page and the compare page both hand their layer jobs to it.

use std::cell::RefCell;
use std::rc::Rc;

use crate::worker::protocol::{LayerJob, ReadFileRequest, WorkerError, WorkerReport};
use crate::worker_pool::{WorkerPool, pool_size};

/// What the page does with one worker report.
type ReportHandler = Rc<dyn Fn(WorkerReport)>;

thread_local! {
    /// The workers of the page on screen.
    static POOL: RefCell<Option<WorkerPool>> = const { RefCell::new(None) };
    /// Where the pool's reports go once the page's layers are known.
    static ON_REPORT: RefCell<Option<ReportHandler>> = RefCell::new(None);
}

/// Replaces the pool with a fresh one whose reports wait for [`run`] to say where they go.
pub(crate) fn warm() {
    POOL.with(|p| p.borrow_mut().take());
    ON_REPORT.with(|h| h.borrow_mut().take());
    let pool = WorkerPool::new(pool_size(), |report| {
        let handler = ON_REPORT.with(|h| h.borrow().clone());
        if let Some(handler) = handler {
            handler(report);
        }
    });
    if let Ok(pool) = pool {
        POOL.with(|p| *p.borrow_mut() = Some(pool));
    }
}

/// The pool could not be started (no Web Workers here).
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("could not start a worker")]
pub(crate) struct NoPool;

/// Routes the pool's reports to `on_report` and submits `jobs` in order. Job ids are the
/// caller's: each report names the id of its job.
pub(crate) fn run(
    jobs: Vec<LayerJob>,
    on_report: impl Fn(WorkerReport) + 'static,
) -> Result<(), NoPool> {
    ON_REPORT.with(|h| *h.borrow_mut() = Some(Rc::new(on_report)));
    POOL.with(|p| {
        let pool = p.borrow();
        let pool = pool.as_ref().ok_or(NoPool)?;
        for job in jobs {
            pool.submit(job);
        }
        Ok(())
    })
}

/// Reads a file's bytes from its verified layer, in a worker.
pub(crate) fn read_file(
    request: ReadFileRequest,
    on_done: impl FnOnce(Result<Vec<u8>, WorkerError>) + 'static,
) {
    POOL.with(|p| match p.borrow().as_ref() {
        Some(pool) => pool.read_file(request, on_done),
        None => on_done(Err(WorkerError::NoWorkers)),
    });
}
