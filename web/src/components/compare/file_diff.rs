use leptos::prelude::*;
use strata_shared::compare::contents::{HEX_ROW, diff_lines, hex_rows, is_text};
use strata_shared::compare::files::{FileChange, PathDiff, Side};
use strata_shared::layer::EntryKind;

use super::change_word;
use crate::compare_load::LoadedSide;
use crate::components::files::file_source;
use crate::format::bytes;
use crate::worker::protocol::ReadFileRequest;

/// Most bytes of each version read for a line diff.
const MAX_TEXT: u64 = 1 << 20;
/// Largest binary shown as a hex diff.
const MAX_HEX: u64 = 64 << 10;

/// Where a side's version of `path` can be read, if it is a present regular file.
fn source(side: &LoadedSide, path: &str) -> Option<ReadFileRequest> {
    let files = side.files.get_untracked()?;
    let node = files.tree.get(path)?;
    file_source(node, &files.indexes, &side.model.layers)
}

fn read(
    request: Option<ReadFileRequest>,
    max: u64,
    into: RwSignal<Option<Result<Vec<u8>, String>>>,
) {
    let Some(request) = request else {
        into.set(Some(Ok(Vec::new())));
        return;
    };
    let request = ReadFileRequest {
        max_bytes: request.len.min(max),
        ..request
    };
    crate::page_pool::read_file(request, move |result| {
        into.set(Some(result.map_err(|e| e.to_string())));
    });
}

/// The facts of a version the detail lists, in the order of [`facts`].
const FACTS: [&str; 6] = ["kind", "size", "mode", "owner", "mtime", "layer"];

fn facts(side: Option<Side>) -> Vec<String> {
    let Some(s) = side else { return Vec::new() };
    vec![
        format!("{:?}", s.kind).to_lowercase(),
        bytes(s.size),
        format!("{:o}", s.mode & 0o7777),
        format!("{}:{}", s.uid, s.gid),
        crate::format::utc_minutes(s.mtime),
        format!("L{}", s.layer),
    ]
}

/// The selected path on both sides: what differs, and for a modified file its two
/// versions, read from their verified layers: a line diff for text, hex for small
/// binaries.
#[component]
pub(super) fn FileDiff(row: PathDiff, a: LoadedSide, b: LoadedSide) -> impl IntoView {
    let abs = format!("/{}", row.path);
    let (fa, fb) = (facts(row.a), facts(row.b));
    let facts_rows = FACTS
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            let (va, vb) = (fa.get(i).cloned(), fb.get(i).cloned());
            let differs = va != vb;
            view! {
                <tr class:differs=differs><th>{k}</th><td class="mono">{va.unwrap_or_else(|| "—".into())}</td><td class="mono">{vb.unwrap_or_else(|| "—".into())}</td></tr>
            }
        })
        .collect_view();
    let regular = |s: Option<Side>| {
        s.is_some_and(|s| matches!(s.kind, EntryKind::File | EntryKind::Hardlink))
    };
    let readable = row.change == FileChange::Modified && regular(row.a) && regular(row.b);
    let contents = readable.then(|| {
        let (ra, rb) = (RwSignal::new(None), RwSignal::new(None));
        read(source(&a, &row.path), MAX_TEXT, ra);
        read(source(&b, &row.path), MAX_TEXT, rb);
        let sizes = (row.a.map_or(0, |s| s.size), row.b.map_or(0, |s| s.size));
        move || match (ra.get(), rb.get()) {
            (Some(Ok(x)), Some(Ok(y))) => contents_view(&x, &y, sizes).into_any(),
            (Some(Err(e)), _) | (_, Some(Err(e))) => {
                view! { <p class="error" data-contents-error="">{e}</p> }.into_any()
            }
            _ => view! { <p class="dim">"Reading both versions from their verified layers…"</p> }
                .into_any(),
        }
    });
    view! {
        <section class="panel file-diff" data-file-diff=abs.clone() data-diff-kind=row.change.word()>
            <h2 class="mono">{abs.clone()} " " <span class=format!("badge diff-{}", row.change.word())>{row.change.word()}</span></h2>
            <table class="facts-diff"><thead><tr><th></th><th>"A"</th><th>"B"</th></tr></thead><tbody>{facts_rows}</tbody></table>
            {contents}
        </section>
    }
}

fn contents_view(x: &[u8], y: &[u8], sizes: (u64, u64)) -> impl IntoView + use<> {
    let cut = x.len() as u64 != sizes.0 || y.len() as u64 != sizes.1;
    let note = cut.then(
        || view! { <p class="dim">{format!("The first {} of each version.", bytes(MAX_TEXT))}</p> },
    );
    if is_text(x) && is_text(y) {
        let d = diff_lines(
            std::str::from_utf8(x).unwrap_or_default(),
            std::str::from_utf8(y).unwrap_or_default(),
        );
        let changed = d.changed_rows();
        let rows = d
            .rows
            .into_iter()
            .map(|r| {
                let word = change_word(r.change);
                let (na, ta) =
                    r.a.map_or((String::new(), String::new()), |(n, t)| (n.to_string(), t));
                let (nb, tb) =
                    r.b.map_or((String::new(), String::new()), |(n, t)| (n.to_string(), t));
                view! {
                    <tr data-line-change=word class=format!("change-{word}")>
                        <td class="num dim">{na}</td><td class="mono line">{ta}</td>
                        <td class="num dim">{nb}</td><td class="mono line">{tb}</td>
                    </tr>
                }
            })
            .collect_view();
        return view! {
            {note}
            <p class="dim">{crate::format::plural(changed as u64, "line differs", "lines differ")}</p>
            <table class="line-diff" data-line-diff=changed.to_string()><tbody>{rows}</tbody></table>
        }
        .into_any();
    }
    if sizes.0.max(sizes.1) > MAX_HEX {
        return view! { <p class="dim" data-binary-differs="">{format!("Binary files differ ({} → {}); a hex diff is shown up to {}.", bytes(sizes.0), bytes(sizes.1), bytes(MAX_HEX))}</p> }.into_any();
    }
    let hex = |s: &[u8]| {
        s.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let rows = hex_rows(x, y);
    let differing = rows.iter().filter(|r| r.differs()).count();
    let rows = rows
        .iter()
        .map(|r| {
            view! {
                <tr class:differs=r.differs() data-hex-differs=r.differs().then_some("")>
                    <td class="num dim mono">{format!("{:08x}", r.offset)}</td>
                    <td class="mono">{hex(r.a)}</td><td class="mono">{hex(r.b)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="dim">{crate::format::plural(differing as u64, "row differs", "rows differ")} {format!(" ({HEX_ROW} bytes a row)")}</p>
        <table class="hex-diff" data-hex-diff=differing.to_string()><tbody>{rows}</tbody></table>
    }
    .into_any()
}
