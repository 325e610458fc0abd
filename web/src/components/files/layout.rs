//! The Files tab's frame: it fills the window below the page header, so the listing is
//! the one thing that scrolls (not the page and the list both), and the details pane is
//! as wide as the user drags it (wide enough by default for 16 bytes of hex and their
//! text), remembered in this browser.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// `localStorage` key of the details pane's width, in CSS pixels.
const DETAIL_WIDTH_KEY: &str = "strata.detail-width.v1";
/// The details pane is never narrower than this.
const MIN_DETAIL: f64 = 260.0;
/// The listing keeps at least this much of the frame.
const MIN_LISTING: f64 = 420.0;
/// The frame is never shorter than this, however tall the header above it.
const MIN_HEIGHT: f64 = 420.0;
/// One arrow key press moves the splitter this far.
const KEY_STEP: f64 = 32.0;

/// Keeps the frame's `--files-height` at the window's height below its top, now and on
/// every resize, and restores the remembered details width.
pub(super) fn fit_to_window(frame: NodeRef<leptos::html::Div>) {
    let fit = move || {
        let (Some(el), Some(window)) = (frame.get_untracked(), web_sys::window()) else {
            return;
        };
        let inner = window
            .inner_height()
            .ok()
            .and_then(|h| h.as_f64())
            .unwrap_or(800.0);
        let scroll = window.scroll_y().unwrap_or(0.0);
        let top = el.get_bounding_client_rect().top() + scroll;
        let height = (inner - top - 8.0).max(MIN_HEIGHT);
        let _ = web_sys::HtmlElement::style(&el)
            .set_property("--files-height", &format!("{height:.0}px"));
    };
    Effect::new(move |_| {
        frame.track();
        if let Some(el) = frame.get_untracked()
            && let Some(width) = remembered_width()
        {
            set_detail_width(&el, width);
        }
        // In the next frame, where the browser lays the page out anyway (measuring now
        // would lay it out once more, in the task that just built it), and before the
        // listing scrolls a deep link's row into view in that frame: this callback was
        // asked for first, and a later change of height would push the row out of sight.
        request_animation_frame(fit);
    });
    let handle = window_event_listener(leptos::ev::resize, move |_| fit());
    on_cleanup(move || handle.remove());
}

/// The bar between the listing and the details pane: drag it, or focus it and use ←/→.
#[component]
pub(super) fn Splitter(frame: NodeRef<leptos::html::Div>) -> impl IntoView {
    let dragging = RwSignal::new(false);
    let resize_to = move |client_x: f64| {
        if let Some(el) = frame.get_untracked() {
            let rect = el.get_bounding_client_rect();
            set_detail_width(&el, clamp_width(rect.right() - client_x, rect.width()));
        }
    };
    let on_down = move |ev: leptos::ev::PointerEvent| {
        ev.prevent_default();
        if let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        {
            let _ = target.set_pointer_capture(ev.pointer_id());
        }
        dragging.set(true);
    };
    let on_move = move |ev: leptos::ev::PointerEvent| {
        if dragging.get_untracked() {
            resize_to(ev.client_x() as f64);
        }
    };
    let on_up = move |_: leptos::ev::PointerEvent| {
        if dragging.get_untracked() {
            dragging.set(false);
            remember_width(frame);
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let step = match ev.key().as_str() {
            "ArrowLeft" => KEY_STEP,
            "ArrowRight" => -KEY_STEP,
            _ => return,
        };
        // The arrows belong to the splitter here, not to the listing's selection.
        ev.prevent_default();
        ev.stop_propagation();
        if let Some(el) = frame.get_untracked() {
            let rect = el.get_bounding_client_rect();
            let now = detail_width(&el);
            set_detail_width(&el, clamp_width(now + step, rect.width()));
            remember_width(frame);
        }
    };
    view! {
        <div class="splitter" class:dragging=move || dragging.get() role="separator"
            aria-orientation="vertical" aria-label="Width of the details pane (← wider, → narrower)"
            tabindex="0" data-splitter=""
            on:pointerdown=on_down on:pointermove=on_move on:pointerup=on_up on:pointercancel=on_up
            on:keydown=on_key></div>
    }
}

/// A width that leaves the listing its minimum.
fn clamp_width(width: f64, frame_width: f64) -> f64 {
    width.min(frame_width - MIN_LISTING).max(MIN_DETAIL)
}

fn set_detail_width(el: &web_sys::HtmlDivElement, width: f64) {
    let _ =
        web_sys::HtmlElement::style(el).set_property("--detail-width", &format!("{width:.0}px"));
}

/// The details pane's width now, from its box.
fn detail_width(el: &web_sys::HtmlDivElement) -> f64 {
    el.query_selector(".detail-pane")
        .ok()
        .flatten()
        .map_or(MIN_DETAIL, |pane| pane.get_bounding_client_rect().width())
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn remembered_width() -> Option<f64> {
    storage()?
        .get_item(DETAIL_WIDTH_KEY)
        .ok()
        .flatten()?
        .parse::<f64>()
        .ok()
        .filter(|w| w.is_finite() && *w >= MIN_DETAIL)
}

fn remember_width(frame: NodeRef<leptos::html::Div>) {
    if let (Some(el), Some(storage)) = (frame.get_untracked(), storage()) {
        let _ = storage.set_item(DETAIL_WIDTH_KEY, &format!("{:.0}", detail_width(&el)));
    }
}
