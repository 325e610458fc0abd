//! The detail pane: the selected path's facts, its origin (the timeline of layers that
//! touched it), a directory's changes per layer, and a file's contents.

use std::sync::Arc;

use leptos::prelude::*;
use strata_shared::layer::{EntryKind, LayerIndex};
use strata_shared::tree::explore::{mode_string, subtree_changes_by_layer};
use strata_shared::tree::{MergedTree, TreeNode, resolve_link};

use super::marks::{change_marker, change_word, modified_detail};
use crate::format::{bytes, utc_minutes};
use crate::image_load::LayerRow;
use crate::url_state::{Key, Tab, href_with};
use crate::worker::protocol::ReadFileRequest;

#[component]
pub(super) fn PathDetail(
    tree: Arc<MergedTree>,
    path: String,
    node: TreeNode,
    commands: Vec<String>,
    manifest: Option<strata_shared::Digest>,
) -> impl IntoView {
    let abs = format!("/{path}");
    let packages = manifest
        .map(|m| crate::provenance_load::packages_of_file(&m, &abs))
        .unwrap_or_default();
    let packages = (!packages.is_empty()).then(|| {
        let items = packages
            .into_iter()
            .map(|(name, version)| {
                let href = href_with(&[
                    (Key::Tab, Tab::Provenance.value()),
                    (Key::Package, Some(&name)),
                ]);
                let label = match version {
                    Some(v) => format!("{name} {v}"),
                    None => name,
                };
                view! { <a href=href data-file-package="">{label}</a> " " }
            })
            .collect_view();
        view! { <dt>"Package"</dt><dd>{items}</dd> }
    });
    let is_dir = node.kind == EntryKind::Dir;
    let timeline = node
        .changes
        .iter()
        .map(|c| {
            let (sym, class) = change_marker(c.kind);
            let cmd = commands.get(c.layer as usize).cloned().unwrap_or_default();
            view! {
                <li data-change-layer=c.layer.to_string() data-change-kind=c.kind.word()>
                    <span class=format!("marker {class}")>{sym}</span>
                    " L" {c.layer} " " {change_word(c.kind)} {modified_detail(c.kind)} " · " {bytes(c.size)}
                    <div class="mono cmd dim small">{cmd}</div>
                </li>
            }
        })
        .collect_view();
    let subtree = is_dir.then(|| {
        let per_layer = subtree_changes_by_layer(&tree, &path);
        view! {
            <h3>"Subtree by layer"</h3>
            <ul class="subtree-summary">
                {per_layer.into_iter().map(|(l, [a, m, d])| view! {
                    <li data-subtree-layer=l.to_string()>"L" {l} ": " <span class="add">"+" {a}</span> " " <span class="mod">"~" {m}</span> " " <span class="del">"−" {d}</span></li>
                }).collect_view()}
            </ul>
        }
    });
    let hard = node.kind == EntryKind::Hardlink;
    let link = node.link.clone().map(|target| {
        // A tar hard link names its target from the archive's root; a symlink's relative
        // target starts at the link's own directory.
        let resolved = if hard {
            target.trim_start_matches('/').to_owned()
        } else {
            resolve_link(&path, &target)
        };
        let href = href_with(&[(Key::Path, Some(&format!("/{resolved}")))]);
        let (label, shown) = if hard {
            ("Hard link to", format!("/{resolved}"))
        } else {
            ("Symlink to", target)
        };
        view! { <dt>{label}</dt><dd class="mono"><a href=href data-follow-link=if hard { "hard" } else { "symlink" }>{shown}</a></dd> }
    });
    let kind = if hard {
        format!("{} hard link", mode_string(EntryKind::File, node.mode))
    } else {
        mode_string(node.kind, node.mode)
    };
    view! {
        <div class="detail" data-detail-path=abs.clone()>
            <h2 class="mono">{abs.clone()}</h2>
            <dl>
                <dt>"Kind"</dt><dd class="mono">{kind} {(!node.present).then_some(" (deleted)")}</dd>
                <dt>"Size"</dt><dd title=format!("{} bytes", node.size)>{bytes(node.size)}</dd>
                <dt>"Owner"</dt><dd class="mono">{format!("{}:{}", node.uid, node.gid)}</dd>
                <dt>"Modified"</dt><dd class="mono">{if node.implied { "— (a folder no layer lists; implied by its contents)".to_owned() } else { format!("{} UTC", utc_minutes(node.mtime)) }}</dd>
                <dt>"From"</dt><dd>"layer L" {node.layer}</dd>
                {link}
                {packages}
            </dl>
            <h3>"Timeline"</h3>
            <ol class="timeline" data-timeline="">{timeline}</ol>
            {subtree}
        </div>
    }
}

/// Where a present regular file's bytes are: its layer's blob and the data offset in it.
/// A hard link reads the bytes of the entry it links to, as that layer had it.
pub(crate) fn file_source(
    node: &TreeNode,
    indexes: &[Option<Arc<LayerIndex>>],
    layers: &[LayerRow],
) -> Option<ReadFileRequest> {
    if !node.present || !matches!(node.kind, EntryKind::File | EntryKind::Hardlink) {
        return None;
    }
    let index = indexes.get(node.layer as usize)?.as_ref()?;
    let entry = match node.kind {
        EntryKind::Hardlink => index.link_source(node.entry? as usize)?,
        _ => index.get(node.entry? as usize)?,
    };
    let row = layers.get(node.layer as usize)?;
    Some(ReadFileRequest {
        url: row.blob_url.clone().ok()?,
        digest: row.descriptor.digest.clone(),
        size: row.size_known.then_some(row.descriptor.size),
        media_type: row.descriptor.media_type.clone(),
        data_offset: entry.data_offset(),
        len: entry.size(),
        max_bytes: entry.size(),
    })
}

/// The name a file is saved under: the path's last component.
pub(super) fn request_name(path: &str) -> String {
    path.rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("file")
        .to_owned()
}
