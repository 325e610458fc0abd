//! Runs inside a Web Worker: takes layer jobs (whole, or one half of a split layer) and
//! file reads from the page and hands each to its module. The page side is
//! `crate::worker_pool`; the messages are in [`protocol`].
//!
//! ```text
//! mod ─▶ whole, split, read ─▶ blob ─▶ cache_feed ─▶ js ─▶ protocol
//! ```

mod blob;
mod cache_feed;
pub mod index_message;
mod js;
pub mod protocol;
mod read;
mod split;
mod whole;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::MessageEvent;

use js::{post, post_with, scope};
use protocol::{Unreadable, WorkerError, WorkerReport, WorkerRequest, decode_request};

/// Installs the message handler and tells the page this worker is ready.
pub fn start() {
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        dispatch(&event.data());
    });
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    post(&WorkerReport::Ready, None);
}

fn dispatch(data: &JsValue) {
    match decode_request(data) {
        Ok((WorkerRequest::Layer(job), _)) => wasm_bindgen_futures::spawn_local(whole::run(job)),
        Ok((WorkerRequest::SplitFront(job), Some(port))) => {
            wasm_bindgen_futures::spawn_local(split::front(job, port))
        }
        Ok((WorkerRequest::SplitBack(job), Some(port))) => split::back(job, port),
        Ok((WorkerRequest::ReadFile { id, request }, _)) => {
            wasm_bindgen_futures::spawn_local(read::run(id, request))
        }
        Ok((WorkerRequest::SplitFront(job) | WorkerRequest::SplitBack(job), None)) => post(
            &WorkerReport::Failed {
                id: job.id,
                error: WorkerError::NoPort,
            },
            None,
        ),
        // A request that does not parse is answered, so nobody waits for it forever.
        Err(Unreadable::Layer(id, error)) => post(&WorkerReport::Failed { id, error }, None),
        Err(Unreadable::Read(id, error)) => {
            let (msg, transfer) = protocol::read_message(id, &Err(error));
            post_with(&msg, &transfer);
        }
        Err(Unreadable::Unknown(error)) => post(&WorkerReport::Rejected { error }, None),
    }
}
