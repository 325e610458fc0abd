//! Fills the repository page's rows lazily: a row that scrolls into view (an
//! `IntersectionObserver` on the rows) asks for its tag, and at most [`RUNNING`] tags are
//! read at a time — a `HEAD` for the digest, then that digest's facts (once per digest,
//! whichever tags share it). A row that scrolls out of view before its turn leaves the
//! queue, so a fast scroll over thousands of tags costs nothing.
//!
//! The observer and its queue are not `Send`: they live in this module, for the one
//! repository page on screen ([`start`] replaces the previous one, [`stop`] ends it).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use strata_shared::Digest;
use strata_shared::browse::rows::Remembered;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{IntersectionObserver, IntersectionObserverEntry, IntersectionObserverInit};

use crate::browse_load::{DigestFacts, digest_facts, resolve_tag};
use crate::endpoint::Endpoint;

/// Tags read at the same time.
const RUNNING: usize = 4;

/// What is known of a tag's digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TagDigest {
    /// Asked for.
    Resolving,
    /// The registry's answer.
    Known(Digest),
    /// Why the tag could not be read.
    Failed(String),
}

impl TagDigest {
    /// The digest, once known.
    pub(crate) fn digest(&self) -> Option<&Digest> {
        match self {
            TagDigest::Known(d) => Some(d),
            _ => None,
        }
    }
}

/// What is known of a digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Facts {
    /// Being read.
    Loading,
    /// Read and verified.
    Ready(DigestFacts),
    /// Why it could not be read.
    Failed(String),
}

/// The page's view of its tags; the filler writes, the rows read.
#[derive(Clone, Copy)]
pub(crate) struct TagSignals {
    /// Every tag listed so far, in the registry's order.
    pub tags: RwSignal<Vec<String>>,
    /// Digests of the tags read so far.
    pub digests: RwSignal<HashMap<String, TagDigest>>,
    /// Facts of the digests read so far.
    pub facts: RwSignal<HashMap<Digest, Facts>>,
    /// Tags queued or being read.
    pub pending: RwSignal<usize>,
}

impl TagSignals {
    pub(crate) fn new() -> Self {
        TagSignals {
            tags: RwSignal::new(Vec::new()),
            digests: RwSignal::new(HashMap::new()),
            facts: RwSignal::new(HashMap::new()),
            pending: RwSignal::new(0),
        }
    }
}

/// What the observer calls with the rows whose visibility changed.
type ObserverCallback = Closure<dyn FnMut(js_sys::Array, IntersectionObserver)>;

struct Filler {
    /// Which page started it.
    id: u64,
    endpoint: Endpoint,
    signals: TagSignals,
    /// `registry/repository`, the key of what this browser remembers.
    repository: String,
    /// Remembered so far, this visit's answers included.
    remembered: RefCell<Remembered>,
    queue: RefCell<VecDeque<String>>,
    asked: RefCell<HashSet<String>>,
    running: Cell<usize>,
    alive: Cell<bool>,
    observer: RefCell<Option<IntersectionObserver>>,
    /// Kept alive as long as the observer may call it.
    callback: RefCell<Option<ObserverCallback>>,
}

thread_local! {
    static FILLER: RefCell<Option<Rc<Filler>>> = const { RefCell::new(None) };
    static STARTED: Cell<u64> = const { Cell::new(0) };
}

/// Starts filling the rows of `repository` (`registry/name`) read from `endpoint`; a
/// filler of an earlier page stops. Returns the id that [`stop`] takes.
pub(crate) fn start(endpoint: Endpoint, repository: String, signals: TagSignals) -> u64 {
    stop_current();
    let id = STARTED.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    let remembered = crate::tag_memory::load(&repository);
    let filler = Rc::new(Filler {
        id,
        endpoint,
        signals,
        repository,
        remembered: RefCell::new(remembered),
        queue: RefCell::new(VecDeque::new()),
        asked: RefCell::new(HashSet::new()),
        running: Cell::new(0),
        alive: Cell::new(true),
        observer: RefCell::new(None),
        callback: RefCell::new(None),
    });
    let weak = Rc::downgrade(&filler);
    let callback = ObserverCallback::new(
        move |entries: js_sys::Array, observer: IntersectionObserver| {
            let Some(filler) = weak.upgrade() else { return };
            for entry in entries.iter() {
                let entry: IntersectionObserverEntry = entry.unchecked_into();
                let target = entry.target();
                if !target.is_connected() {
                    observer.unobserve(&target);
                    continue;
                }
                let Some(tag) = target.get_attribute("data-tag") else {
                    continue;
                };
                if entry.is_intersecting() {
                    filler.want(tag);
                } else {
                    filler.unwant(&tag);
                }
            }
        },
    );
    let init = IntersectionObserverInit::new();
    // Rows just below the fold are read too, so a slow scroll finds them filled.
    init.set_root_margin("300px 0px");
    let observer =
        IntersectionObserver::new_with_options(callback.as_ref().unchecked_ref(), &init).ok();
    *filler.observer.borrow_mut() = observer;
    *filler.callback.borrow_mut() = Some(callback);
    FILLER.with(|f| *f.borrow_mut() = Some(filler));
    id
}

/// The page that started filler `id` is left: nothing more is asked, and answers still
/// on their way are dropped (a newer page's filler is kept).
pub(crate) fn stop(id: u64) {
    if FILLER.with(|f| f.borrow().as_ref().is_some_and(|f| f.id == id)) {
        stop_current();
    }
}

fn stop_current() {
    if let Some(old) = FILLER.with(|f| f.borrow_mut().take()) {
        old.alive.set(false);
        if let Some(observer) = old.observer.borrow_mut().take() {
            observer.disconnect();
        }
        old.queue.borrow_mut().clear();
    }
}

/// Watches a row (carrying `data-tag`): it is read when it comes into view.
pub(crate) fn observe(row: &web_sys::Element) {
    FILLER.with(|f| {
        if let Some(observer) = f
            .borrow()
            .as_ref()
            .and_then(|f| f.observer.borrow().clone())
        {
            observer.observe(row);
        }
    });
}

/// Reads these tags now, in this order (the first rows, before any scrolling).
pub(crate) fn want_now(tags: impl IntoIterator<Item = String>) {
    if let Some(filler) = FILLER.with(|f| f.borrow().clone()) {
        for tag in tags {
            filler.want(tag);
        }
    }
}

impl Filler {
    fn want(self: &Rc<Self>, tag: String) {
        if !self.alive.get() || !self.asked.borrow_mut().insert(tag.clone()) {
            return;
        }
        self.queue.borrow_mut().push_back(tag);
        self.pump();
    }

    /// A row left the view before its turn: it leaves the queue (and may be asked again).
    fn unwant(&self, tag: &str) {
        let mut queue = self.queue.borrow_mut();
        if let Some(i) = queue.iter().position(|t| t == tag) {
            queue.remove(i);
            self.asked.borrow_mut().remove(tag);
            drop(queue);
            self.count();
        }
    }

    fn count(&self) {
        let pending = self.queue.borrow().len() + self.running.get();
        let _ = self.signals.pending.try_set(pending);
    }

    fn pump(self: &Rc<Self>) {
        while self.alive.get() && self.running.get() < RUNNING {
            let Some(tag) = self.queue.borrow_mut().pop_front() else {
                break;
            };
            self.running.set(self.running.get() + 1);
            let this = self.clone();
            spawn_local(async move {
                this.read(tag).await;
                this.running.set(this.running.get() - 1);
                this.pump();
            });
        }
        self.count();
    }

    /// One tag: its digest (unless known), then the digest's facts (unless asked).
    async fn read(self: &Rc<Self>, tag: String) {
        let signals = self.signals;
        let known = signals
            .digests
            .try_with_untracked(|d| d.get(&tag).and_then(TagDigest::digest).cloned())
            .flatten();
        let digest = match known {
            Some(d) => d,
            None => {
                let _ = signals
                    .digests
                    .try_update(|d| d.insert(tag.clone(), TagDigest::Resolving));
                let answer = resolve_tag(&self.endpoint, &tag).await;
                if !self.alive.get() {
                    return;
                }
                match answer {
                    Ok(d) => {
                        let _ = signals
                            .digests
                            .try_update(|m| m.insert(tag.clone(), TagDigest::Known(d.clone())));
                        self.remember(&tag, &d);
                        d
                    }
                    Err(e) => {
                        let _ = signals.digests.try_update(|m| {
                            m.insert(tag.clone(), TagDigest::Failed(e.to_string()))
                        });
                        return;
                    }
                }
            }
        };
        let asked = signals
            .facts
            .try_with_untracked(|f| f.contains_key(&digest))
            .unwrap_or(true);
        if asked {
            return;
        }
        let _ = signals
            .facts
            .try_update(|f| f.insert(digest.clone(), Facts::Loading));
        let facts = match digest_facts(&self.endpoint, &digest).await {
            Ok(facts) => Facts::Ready(facts),
            Err(e) => Facts::Failed(e.to_string()),
        };
        if self.alive.get() {
            let _ = signals.facts.try_update(|f| f.insert(digest, facts));
        }
    }

    fn remember(&self, tag: &str, digest: &Digest) {
        let mut remembered = self.remembered.borrow_mut();
        let digest = digest.to_string();
        if remembered.get(tag) != Some(&digest) {
            remembered.insert(tag.to_owned(), digest);
            crate::tag_memory::save(&self.repository, &remembered);
        }
    }
}
