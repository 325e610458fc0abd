use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;
use web_sys::{Blob, File, FileList};

use crate::archive_store::{self, ArchiveImage, ArchiveStore};

/// What opening a file came to.
#[derive(Clone, Debug)]
enum Opened {
    Idle,
    Reading(String),
    Failed(String),
    /// An archive with several images: the user picks one.
    Choose(String, Vec<ArchiveImage>),
}

/// "Open an image file": a `docker save` / OCI archive (optionally gzip-compressed) or an
/// OCI layout directory, read in this browser and never uploaded. One image opens at once;
/// several are listed to pick from.
///
/// With `expect` (a digest from an `/archive/…` link), a file that does not hold that
/// image is refused by name.
#[component]
pub(crate) fn OpenImage(#[prop(optional, into)] expect: Option<String>) -> impl IntoView {
    let state = RwSignal::new(Opened::Idle);
    let navigate = use_navigate();
    let open = move |opening: Opening| {
        let navigate = navigate.clone();
        let expect = expect.clone();
        state.set(Opened::Reading(opening.label()));
        spawn_local(async move {
            let label = opening.label();
            let result = match opening {
                Opening::File(file) => {
                    archive_store::open_archive(file.name(), file.unchecked_ref::<Blob>()).await
                }
                Opening::Directory(files) => {
                    archive_store::open_directory(label.clone(), files).await
                }
            };
            match result {
                Err(e) => state.set(Opened::Failed(format!("{label}: {e}"))),
                Ok(store) => {
                    let store = Rc::new(store);
                    let wanted = expect
                        .as_deref()
                        .and_then(|d| strata_shared::Digest::parse(d).ok());
                    if let Some(wanted) = wanted {
                        if store.image(&wanted).is_none() {
                            state.set(Opened::Failed(format!(
                                "{label} does not contain the image {wanted} this link shows"
                            )));
                            return;
                        }
                        // Remembering it reloads the waiting page, which drops this
                        // component: everything else happens first.
                        state.set(Opened::Idle);
                        archive_store::remember(store);
                        return;
                    }
                    archive_store::remember(store.clone());
                    if let [only] = store.images.as_slice() {
                        state.set(Opened::Idle);
                        navigate(&format!("/archive/{}", only.digest), Default::default());
                    } else {
                        state.set(Opened::Choose(describe(&store), store.images.clone()));
                    }
                }
            }
        });
    };
    let open_file = open.clone();
    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            open_file(Opening::File(file));
        }
    };
    let open_dir = open.clone();
    let on_directory = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(files) = input.files() {
            open_dir(Opening::Directory(directory_files(&files)));
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        if let Some(file) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0))
        {
            open(Opening::File(file));
        }
    };
    view! {
        <section
            class="open-image"
            aria-label="Open an image file"
            on:dragover=|ev: leptos::ev::DragEvent| ev.prevent_default()
            on:drop=on_drop
        >
            <label class="button">
                "Open an image file"
                <input
                    type="file"
                    data-strata-open="archive"
                    accept=".tar,.tar.gz,.tgz,.oci,application/x-tar,application/gzip"
                    on:change=on_file
                />
            </label>
            <label class="button">
                "Open an OCI layout folder"
                <input type="file" data-strata-open="directory" prop:webkitdirectory=true on:change=on_directory/>
            </label>
            <span class="hint">
                "or drop a " <code>"docker save"</code> " / OCI archive here. It is read in this browser; nothing is uploaded."
            </span>
            {move || match state.get() {
                Opened::Idle => ().into_any(),
                Opened::Reading(label) => view! { <p class="loading">"Reading " {label} "…"</p> }.into_any(),
                Opened::Failed(message) => {
                    view! { <p class="error" data-strata-error="archive">{message}</p> }.into_any()
                }
                Opened::Choose(title, images) => {
                    view! {
                        <div class="archive-images">
                            <p>{title}</p>
                            <ul>
                                {images
                                    .into_iter()
                                    .map(|image| {
                                        view! {
                                            <li>
                                                <a class="mono" href=format!("/archive/{}", image.digest)>{image.name}</a>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </div>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

enum Opening {
    File(File),
    Directory(Vec<(String, Blob)>),
}

impl Opening {
    fn label(&self) -> String {
        match self {
            Opening::File(file) => file.name(),
            Opening::Directory(files) => files
                .first()
                .and_then(|(path, _)| path.split('/').next().map(str::to_owned))
                .unwrap_or_else(|| "folder".into()),
        }
    }
}

fn directory_files(list: &FileList) -> Vec<(String, Blob)> {
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(|file| {
            let path = js_sys::Reflect::get(&file, &"webkitRelativePath".into())
                .ok()
                .and_then(|p| p.as_string())
                .unwrap_or_else(|| file.name());
            (path, file.unchecked_into::<Blob>())
        })
        .collect()
}

fn describe(store: &ArchiveStore) -> String {
    format!(
        "{} ({}) holds {} images: pick one.",
        store.label,
        store.shape.label(),
        store.images.len()
    )
}
