//! The layer workers of the page on screen: one pool per page, started as soon as the
//! page knows it will read layers (its workers instantiate their wasm while the documents
//! are still being fetched), replaced — and the old workers terminated — on navigation.
//! The image page and the compare page both hand their layer jobs to it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::verified_cache;
use crate::worker::protocol::{LayerJob, ReadFileRequest, WorkerError, WorkerReport};
use crate::worker_pool::{WorkerPool, pool_size};

/// What the page does with one worker report.
type ReportHandler = Rc<dyn Fn(WorkerReport)>;

thread_local! {
    /// Counts pools: a run whose pool was replaced (the page was left) stops.
    static GENERATION: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// The workers of the page on screen.
    static POOL: RefCell<Option<WorkerPool>> = const { RefCell::new(None) };
    /// Where the pool's reports go once the page's layers are known.
    static ON_REPORT: RefCell<Option<ReportHandler>> = RefCell::new(None);
    /// The page's pool starts when a layer or a file first needs a worker.
    static ON_DEMAND: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Replaces the pool with a fresh one whose reports wait for [`run`] to say where they go.
pub(crate) fn warm() {
    replace(false);
}

/// Replaces the pool with one that starts only when a layer or a file needs a worker:
/// for a page whose layers this browser has likely verified before (a pinned revisit),
/// where booting workers would only compete with the page for the cores.
pub(crate) fn warm_on_demand() {
    replace(true);
}

fn replace(on_demand: bool) {
    GENERATION.with(|g| g.set(g.get() + 1));
    POOL.with(|p| p.borrow_mut().take());
    ON_REPORT.with(|h| h.borrow_mut().take());
    ON_DEMAND.with(|d| d.set(on_demand));
    if !on_demand {
        start_pool();
    }
}

fn start_pool() {
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

/// Starts the page's pool if it waited for a first job.
fn pool_needed() {
    if ON_DEMAND.with(|d| d.replace(false)) {
        start_pool();
    }
}

/// The pool could not be started (no Web Workers here).
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("could not start a worker")]
pub(crate) struct NoPool;

/// Routes the pool's reports to `on_report` and runs `jobs`: a layer this browser has
/// verified before is reported `Done` from the cache of verified layers (see
/// [`crate::verified_cache`]); the others go to the workers in order, and what they
/// verify is kept. Job ids are the caller's: each report names the id of its job.
pub(crate) fn run(
    jobs: Vec<LayerJob>,
    on_report: impl Fn(WorkerReport) + 'static,
) -> Result<(), NoPool> {
    if POOL.with(|p| p.borrow().is_none()) && !ON_DEMAND.with(std::cell::Cell::get) {
        return Err(NoPool);
    }
    let on_report: ReportHandler = Rc::new(on_report);
    let keyed: Vec<(LayerJob, Option<String>)> = jobs
        .into_iter()
        .map(|job| {
            let key = verified_cache::key_of(&job);
            (job, key)
        })
        .collect();
    let keys: HashMap<usize, String> = keyed
        .iter()
        .filter_map(|(job, key)| Some((job.id, key.clone()?)))
        .collect();
    let keep_then_report = {
        let on_report = on_report.clone();
        move |report: WorkerReport| {
            if let WorkerReport::Done {
                id,
                summary,
                message: Some(message),
                ..
            } = &report
                && let Some(key) = keys.get(id)
            {
                verified_cache::store(key.clone(), summary.clone(), message.clone());
            }
            on_report(report);
        }
    };
    ON_REPORT.with(|h| *h.borrow_mut() = Some(Rc::new(keep_then_report)));
    let generation = GENERATION.with(std::cell::Cell::get);
    wasm_bindgen_futures::spawn_local(async move {
        let loading = crate::user_timing::span("strata:verified-cache-load");
        let hits = futures::future::join_all(keyed.iter().map(|(_, key)| async move {
            match key {
                Some(key) => verified_cache::load_soon(key).await,
                None => None,
            }
        }))
        .await;
        drop(loading);
        if GENERATION.with(std::cell::Cell::get) != generation {
            return;
        }
        for ((job, _), hit) in keyed.into_iter().zip(hits) {
            match hit {
                Some(hit) => on_report(WorkerReport::Done {
                    id: job.id,
                    summary: hit.summary,
                    index: hit.index,
                    message: None,
                }),
                None => {
                    pool_needed();
                    POOL.with(|p| match p.borrow().as_ref() {
                        Some(pool) => pool.submit(job),
                        None => on_report(WorkerReport::Failed {
                            id: job.id,
                            error: WorkerError::NoWorkers,
                        }),
                    });
                }
            }
        }
    });
    Ok(())
}

/// Reads a file's bytes from its verified layer, in a worker.
pub(crate) fn read_file(
    request: ReadFileRequest,
    on_done: impl FnOnce(Result<Vec<u8>, WorkerError>) + 'static,
) {
    pool_needed();
    POOL.with(|p| match p.borrow().as_ref() {
        Some(pool) => pool.read_file(request, on_done),
        None => on_done(Err(WorkerError::NoWorkers)),
    });
}
