use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use strata_shared::compare::arch::{ForeignBinary, foreign_binaries};
use strata_shared::compare::files::{FileChange, FileFilter, PathDiff};
use strata_shared::compare::rollup::directory_rollups;

use super::file_diff::FileDiff;
use crate::compare_load::{LoadedSide, SideName};
use crate::format::{bytes, plural};
use crate::pages::ComputedDiff;
use crate::url_state::{Key, UrlState, href_with};

/// Rows put in the page at once; "show more" adds as many again.
const ROWS_AT_ONCE: usize = 3000;
/// Directories listed in the roll-up.
const ROLLUPS_SHOWN: usize = 12;
/// The kinds of change the `kind=` key may list (unchanged paths have `unchanged=1`).
const CHANGED: [FileChange; 4] = [
    FileChange::Added,
    FileChange::Removed,
    FileChange::Modified,
    FileChange::Metadata,
];

/// What the URL asks the file list to show.
#[derive(Clone, Debug, PartialEq)]
struct FileQuery {
    kinds: Vec<FileChange>,
    unchanged: bool,
    search: String,
    path: String,
    semantic: bool,
}

impl FileQuery {
    fn read(get: impl Fn(Key) -> Option<String>) -> Self {
        let kinds = match get(Key::Kind) {
            Some(list) => CHANGED
                .into_iter()
                .filter(|k| list.split(',').any(|w| w == k.word()))
                .collect(),
            None => CHANGED.to_vec(),
        };
        FileQuery {
            kinds,
            unchanged: get(Key::Unchanged).as_deref() == Some("1"),
            search: get(Key::Search).unwrap_or_default(),
            path: get(Key::Path)
                .map(|p| p.trim_matches('/').to_owned())
                .unwrap_or_default(),
            semantic: get(Key::Semantic).as_deref() == Some("1"),
        }
    }

    fn filter(&self) -> FileFilter {
        let mut filter = FileFilter::all();
        for kind in CHANGED {
            filter = filter.with(kind, self.kinds.contains(&kind));
        }
        filter
            .with(FileChange::Unchanged, self.unchanged)
            .search(&self.search)
    }

    /// The `kind=` value with `kind` flipped (`None`: every changed kind, the default).
    fn toggled(&self, kind: FileChange) -> Option<String> {
        let kinds: Vec<&str> = CHANGED
            .into_iter()
            .filter(|k| (*k == kind) != self.kinds.contains(k))
            .map(FileChange::word)
            .collect();
        (kinds.len() != CHANGED.len()).then(|| kinds.join(","))
    }
}

/// The merged trees diffed: counts and filters, the directories that changed most, the
/// foreign binaries of each side, and every path that passes the filters.
#[component]
pub(crate) fn CompareFiles(
    a: LoadedSide,
    b: LoadedSide,
    diff: RwSignal<Option<ComputedDiff>>,
) -> impl IntoView {
    let query = use_query_map();
    let state = Memo::new(move |_| {
        let q = query.read();
        FileQuery::read(|key| q.get(key.as_str()))
    });
    let (a2, b2) = (a.clone(), b.clone());
    move || {
        let Some(computed) = diff.get() else {
            return view! { <p class="loading" data-diff-pending="">"Indexing both images' layers… the file diff appears once both trees are whole."</p> }.into_any();
        };
        let q = state.get();
        let d = computed.diff.clone();
        let counts = d.counts;
        let toggles = FileChange::ALL
            .into_iter()
            .map(|kind| {
                let on = if kind == FileChange::Unchanged {
                    q.unchanged
                } else {
                    q.kinds.contains(&kind)
                };
                let href = if kind == FileChange::Unchanged {
                    href_with(&[(Key::Unchanged, (!q.unchanged).then_some("1"))])
                } else {
                    let value = q.toggled(kind);
                    href_with(&[(Key::Kind, value.as_deref())])
                };
                view! {
                    <a href=href class=format!("kind-toggle diff-{}", kind.word()) class:on=on
                        data-kind-toggle=kind.word() aria-pressed=on.to_string()>
                        {kind.word()} " " <strong>{counts.get(kind)}</strong>
                    </a>
                }
            })
            .collect_view();
        let semantic_href = href_with(&[(Key::Semantic, (!q.semantic).then_some("1"))]);
        let filter = q.filter();
        let rows: Vec<PathDiff> = d.filtered(&filter).cloned().collect();
        let selected = (!q.path.is_empty())
            .then(|| d.get(&q.path).cloned())
            .flatten();
        let rollups = {
            let mut all = directory_rollups(&d);
            all.truncate(ROLLUPS_SHOWN);
            all
        };
        view! {
            <section class="panel diff-summary" data-diff-counts=format!("{},{},{},{},{}", counts.added, counts.removed, counts.modified, counts.metadata, counts.unchanged)>
                <div class="kind-toggles">{toggles}</div>
                <div class="diff-switches">
                    <a href=semantic_href data-semantic=q.semantic.then_some("") aria-pressed=q.semantic.to_string()
                        title="Ignore modification times and which layer provided a path (as diffoci --semantic)">
                        {if q.semantic { "☑ semantic" } else { "☐ semantic" }}
                    </a>
                    <SearchBox initial=q.search.clone()/>
                </div>
            </section>
            <ForeignPerSide a=a2.clone() b=b2.clone()/>
            <Rollups rollups open=q.path.is_empty()/>
            {selected.map(|row| view! { <FileDiff row a=a2.clone() b=b2.clone()/> })}
            <DiffRows rows/>
        }
        .into_any()
    }
}

/// The search box: a substring or glob, applied on Enter.
#[component]
fn SearchBox(initial: String) -> impl IntoView {
    let text = RwSignal::new(initial);
    let location = use_location();
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = text.get_untracked();
        let value = value.trim();
        let href = UrlState::untracked(&location)
            .with(&[(Key::Search, (!value.is_empty()).then_some(value))]);
        navigate(&href, Default::default());
    };
    view! {
        <form class="diff-search" on:submit=submit>
            <input type="search" data-diff-search="" placeholder="search paths: nginx, *.conf, /etc/**"
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
        </form>
    }
}

/// The changed paths' rows, a few thousand at a time.
#[component]
fn DiffRows(rows: Vec<PathDiff>) -> impl IntoView {
    let shown = RwSignal::new(ROWS_AT_ONCE);
    let total = rows.len();
    let rows = std::sync::Arc::new(rows);
    let body = {
        let rows = rows.clone();
        move || {
            rows.iter()
                .take(shown.get())
                .map(|row| {
                    let abs = format!("/{}", row.path);
                    let href = href_with(&[(Key::Path, Some(&abs)), (Key::Tab, Some("files"))]);
                    let size = |s: Option<strata_shared::compare::files::Side>| {
                        s.map(|s| match s.kind {
                            strata_shared::layer::EntryKind::Dir => "dir".to_owned(),
                            _ => bytes(s.size),
                        })
                        .unwrap_or_else(|| "—".into())
                    };
                    let delta = row.byte_delta();
                    let delta_text = match delta {
                        0 => String::new(),
                        d if d > 0 => format!("+{}", bytes(d as u64)),
                        d => format!("−{}", bytes(d.unsigned_abs())),
                    };
                    view! {
                        <tr data-diff-path=abs.clone() data-diff-kind=row.change.word() class=format!("diff-{}", row.change.word())>
                            <td class="mono"><a href=href>{abs.clone()}</a></td>
                            <td>{row.change.word()}</td>
                            <td class="dim">{row.differences.parts().join(", ")}</td>
                            <td class="num">{size(row.a)}</td>
                            <td class="num">{size(row.b)}</td>
                            <td class="num">{delta_text}</td>
                        </tr>
                    }
                })
                .collect_view()
        }
    };
    view! {
        <section class="panel">
            <h2>{plural(total as u64, "path", "paths")}</h2>
            <table class="diff-rows" data-diff-rows=total.to_string()>
                <thead><tr><th>"Path"</th><th>"Change"</th><th>"What differs"</th><th class="num">"A"</th><th class="num">"B"</th><th class="num">"Δ"</th></tr></thead>
                <tbody>{body}</tbody>
            </table>
            {move || (shown.get() < total).then(|| view! {
                <button data-diff-more="" on:click=move |_| shown.update(|n| *n += ROWS_AT_ONCE)>
                    {format!("Show {} more of {}", (total - shown.get()).min(ROWS_AT_ONCE), total - shown.get())}
                </button>
            })}
        </section>
    }
}

/// The directories with the most change below them.
#[component]
fn Rollups(
    rollups: Vec<strata_shared::compare::rollup::DirRollup>,
    /// Open unless a path's diff is shown above the list.
    open: bool,
) -> impl IntoView {
    (!rollups.is_empty()).then(|| {
        let rows = rollups
            .into_iter()
            .map(|r| {
                let dir = format!("/{}", r.dir);
                let glob = if r.dir.is_empty() { "/**".to_owned() } else { format!("/{}/**", r.dir) };
                let href = href_with(&[(Key::Search, Some(&glob))]);
                let c = r.counts;
                let delta = match r.byte_delta {
                    0 => "0 B".to_owned(),
                    d if d > 0 => format!("+{}", bytes(d as u64)),
                    d => format!("−{}", bytes(d.unsigned_abs())),
                };
                view! {
                    <tr data-rollup-dir=dir.clone()>
                        <td class="mono"><a href=href>{dir.clone()}</a></td>
                        <td class="num">{c.added}</td><td class="num">{c.removed}</td>
                        <td class="num">{c.modified}</td><td class="num">{c.metadata}</td>
                        <td class="num">{delta}</td><td class="num">{bytes(r.churn_bytes)}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <details class="panel rollups" open=open>
                <summary>"Where the change is, by directory"</summary>
                <table>
                    <thead><tr><th>"Directory"</th><th class="num">"added"</th><th class="num">"removed"</th><th class="num">"modified"</th><th class="num">"metadata"</th><th class="num">"Δ bytes"</th><th class="num">"churn"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        }
    })
}

/// Each side's executables built for another CPU than its platform.
#[component]
fn ForeignPerSide(a: LoadedSide, b: LoadedSide) -> impl IntoView {
    // Per side: its architecture and the binaries foreign to it (compatibility code, such
    // as i386 on amd64, left out), or nothing when the side has no config or tree yet.
    let found = |side: &LoadedSide| {
        let arch = side
            .model
            .config
            .as_ref()
            .map(|(c, _)| c.architecture.clone())?;
        let files = side.files.get_untracked()?;
        let found = foreign_binaries(&files.tree, &arch).ok()?;
        Some((
            arch,
            found.into_iter().filter(|f| !f.compat).collect::<Vec<_>>(),
        ))
    };
    let (fa, fb) = (found(&a), found(&b));
    let warn = [&fa, &fb]
        .iter()
        .any(|f| f.as_ref().is_some_and(|(_, list)| !list.is_empty()));
    let one = |name: SideName, found: Option<(String, Vec<ForeignBinary>)>| {
        let (arch, foreign) = found?;
        let items = foreign
            .iter()
            .take(20)
            .map(|f| {
                let abs = format!("/{}", f.path);
                view! { <li class="mono" data-foreign-binary=abs.clone()>{abs.clone()} <span class="dim">" · " {f.elf.describe()}</span></li> }
            })
            .collect_view();
        Some(view! {
            <div data-foreign-side=name.word() data-foreign-count=foreign.len().to_string()>
                <h3>"Image " {name.label()} " (" <code>{arch.clone()}</code> ")"</h3>
                {if foreign.is_empty() {
                    view! { <p class="dim">"No executable built for another CPU."</p> }.into_any()
                } else {
                    view! { <ul>{items}</ul> }.into_any()
                }}
            </div>
        })
    };
    view! {
        <details class="panel foreign-per-side" class:error-panel=warn open=warn data-foreign-binaries="">
            <summary>"Architecture check: " {if warn { "an image holds executables for another CPU" } else { "every executable matches its image's CPU" }}</summary>
            <div class="compare-sides">{one(SideName::A, fa)}{one(SideName::B, fb)}</div>
        </details>
    }
}
