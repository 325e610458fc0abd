//! The Files tab's keyboard, heard from the whole document while the tab is on screen (a
//! click or a re-rendered row leaves the focus on the body, and the keys must go on):
//! `/` search, ↑ ↓ move the selection (the detail pane follows), Enter opens, Backspace
//! goes up, `[` `]` step through the merged view and the layers. In the search box, ↓
//! enters the results; Esc clears the search. Keys typed into a field are the field's.

use std::rc::Rc;

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::location::Location;
use strata_shared::layer::EntryKind;
use wasm_bindgen::JsCast;

use super::listing::{Listing, up_href};
use crate::url_state::{Key, UrlState, ViewState};

/// The router's navigation, as `use_navigate` gives it.
pub(super) type Navigate = Rc<dyn Fn(&str, NavigateOptions)>;

/// What the keys read and move.
#[derive(Clone)]
pub(super) struct FilesKeys {
    pub listing: Memo<Listing>,
    /// The search box's text (not yet in the URL until submitted).
    pub search_text: RwSignal<String>,
    pub location: Location,
    pub navigate: Navigate,
    /// ↓ ran a new search: its first result is selected when the listing comes.
    pub pending_first: RwSignal<bool>,
}

/// The id of the search box.
pub(super) const SEARCH_BOX: &str = "file-search";

impl FilesKeys {
    /// Listens on the window until the tab is unmounted.
    pub(super) fn listen(self) {
        // The route's query (and so the listing) follows a navigation a moment later.
        let keys = self.clone();
        Effect::new(move |_| {
            keys.listing.track();
            if keys.pending_first.get_untracked() {
                keys.pending_first.set(false);
                keys.select(0);
            }
        });
        let handle = window_event_listener(leptos::ev::keydown, move |ev| self.keydown(&ev));
        on_cleanup(move || handle.remove());
    }

    fn keydown(&self, ev: &web_sys::KeyboardEvent) {
        if ev.default_prevented() || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        self.pending_first.set(false);
        let target = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        let in_search = target.as_ref().is_some_and(|t| t.id() == SEARCH_BOX);
        let typing = target.as_ref().is_some_and(|t| {
            matches!(t.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || t.has_attribute("contenteditable")
        });
        // Enter on a focused link or button is that control's own.
        let control = target
            .as_ref()
            .is_some_and(|t| matches!(t.tag_name().as_str(), "A" | "BUTTON"));
        let handled = match ev.key().as_str() {
            "Escape" if in_search || !typing => self.clear_search(),
            "ArrowDown" if in_search => self.enter_results(),
            _ if typing => false,
            "Enter" if control => false,
            "/" => focus(SEARCH_BOX),
            "ArrowDown" => self.step(1),
            "ArrowUp" => self.step(-1),
            "Enter" => self.open(),
            "Backspace" => self.up(),
            "[" => step_layer(-1),
            "]" => step_layer(1),
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
    }

    /// The URL now (the router's location follows a navigation at once; the route's
    /// query, which the memos read, a moment later).
    fn url(&self) -> UrlState {
        UrlState::untracked(&self.location)
    }

    fn state(&self) -> ViewState {
        let url = self.url();
        ViewState::read(|key| url.get(key))
    }

    fn go(&self, href: &str, replace: bool) {
        (self.navigate)(
            href,
            NavigateOptions {
                replace,
                scroll: false,
                ..Default::default()
            },
        );
    }

    /// The selected row's position in the listing.
    fn position(&self) -> Option<usize> {
        let selected = self.state().path;
        self.listing
            .with_untracked(|l| l.rows.iter().position(|r| r.path == selected))
    }

    /// Moves the selection by `by` rows (from none: to the first).
    fn step(&self, by: isize) -> bool {
        let len = self.listing.with_untracked(|l| l.rows.len());
        if len == 0 {
            return true;
        }
        let next = match self.position() {
            Some(i) => i.saturating_add_signed(by).min(len - 1),
            None => 0,
        };
        self.select(next);
        true
    }

    /// Selects row `position`: the detail pane shows it, the listing stays (a folder
    /// selected in a folder's view keeps its parent listed with `dir=`). The history entry
    /// is replaced: Back does not walk the rows.
    fn select(&self, position: usize) {
        let Some((path, is_dir, listed)) = self.listing.with_untracked(|l| {
            l.rows
                .get(position)
                .map(|r| (r.path.clone(), r.node.kind == EntryKind::Dir, l.dir.clone()))
        }) else {
            return;
        };
        let dir = listed.filter(|_| is_dir).map(|d| format!("/{d}"));
        let href = self.url().with(&[
            (Key::Path, Some(&format!("/{path}"))),
            (Key::Dir, dir.as_deref()),
        ]);
        self.go(&href, true);
    }

    /// Enter: opens the selected row as a click would; a folder is listed.
    fn open(&self) -> bool {
        let Some(position) = self.position() else {
            return false;
        };
        let Some((path, is_dir)) = self.listing.with_untracked(|l| {
            l.rows
                .get(position)
                .map(|r| (format!("/{}", r.path), r.node.kind == EntryKind::Dir))
        }) else {
            return false;
        };
        let mut updates = vec![
            (Key::Path, Some(path.as_str())),
            (Key::Search, None),
            (Key::Dir, None),
        ];
        if is_dir {
            updates.extend([(Key::Layer, None), (Key::View, None)]);
        }
        let href = self.url().with(&updates);
        self.go(&href, false);
        true
    }

    /// Backspace: the parent folder, the folder left selected.
    fn up(&self) -> bool {
        let Some(dir) = self.listing.with_untracked(|l| l.dir.clone()) else {
            return false;
        };
        if dir.is_empty() {
            return true;
        }
        let href = up_href(&self.url(), &dir);
        self.go(&href, false);
        true
    }

    /// ↓ in the search box: the search typed is run (if it is not the one listed) and its
    /// first result selected; the keys then move in the results.
    fn enter_results(&self) -> bool {
        blur_active();
        let typed = self.search_text.get_untracked();
        let typed = typed.trim();
        let url = self.url();
        if url.get(Key::Search).as_deref().unwrap_or_default() == typed {
            self.select(0);
            return true;
        }
        let href = url.with(&[
            (Key::Search, (!typed.is_empty()).then_some(typed)),
            (Key::Dir, None),
        ]);
        self.go(&href, false);
        self.pending_first.set(true);
        true
    }

    /// Esc: the search box is emptied and the search leaves the URL.
    fn clear_search(&self) -> bool {
        let had_text = !self.search_text.get_untracked().is_empty();
        self.search_text.set(String::new());
        blur_active();
        if self.state().search.is_some() {
            let href = self.url().with(&[(Key::Search, None)]);
            self.go(&href, false);
            return true;
        }
        had_text
    }
}

fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

/// Focuses the element with `id`.
fn focus(id: &str) -> bool {
    if let Some(el) = document().and_then(|d| d.get_element_by_id(id))
        && let Ok(el) = el.dyn_into::<web_sys::HtmlElement>()
    {
        let _ = el.focus();
    }
    true
}

/// Takes the focus out of a field, so the document's keys apply again.
fn blur_active() {
    if let Some(el) = document().and_then(|d| d.active_element())
        && let Ok(el) = el.dyn_into::<web_sys::HtmlElement>()
    {
        let _ = el.blur();
    }
}

/// `[` and `]`: the layer link before or after the current one (the merged view first).
fn step_layer(by: i32) -> bool {
    let Some(document) = document() else {
        return false;
    };
    let Ok(links) = document.query_selector_all(".layer-list li > a") else {
        return false;
    };
    let count = links.length();
    let current = (0..count).find(|&i| {
        links
            .item(i)
            .and_then(|a| a.parent_element())
            .is_some_and(|li| li.class_list().contains("current"))
    });
    let next = match current {
        Some(i) => i.saturating_add_signed(by).min(count.saturating_sub(1)),
        None => 0,
    };
    if let Some(a) = links
        .item(next)
        .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
    {
        a.click();
    }
    true
}
