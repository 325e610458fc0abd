//! How a change is marked in listings and timelines.

use strata_shared::tree::ChangeKind;

/// The marker symbol and its CSS class.
pub(super) fn change_marker(kind: ChangeKind) -> (&'static str, &'static str) {
    match kind {
        ChangeKind::Added => ("+", "add"),
        ChangeKind::Modified(_) => ("~", "mod"),
        ChangeKind::Deleted => ("−", "del"),
        ChangeKind::HiddenByOpaque => ("−", "del"),
    }
}

/// What a change did, in words: `added`, `deleted`, `hidden`, `modified`, or `replaced
/// (opaque)` for a directory an opaque marker reset.
pub(super) fn change_word(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Modified(m) if m.opaque => "replaced (opaque)",
        kind => kind.word(),
    }
}

/// ` (content, mode)` for a modification, ` (mtime only)` when nothing else changed.
pub(super) fn modified_detail(kind: ChangeKind) -> String {
    let ChangeKind::Modified(m) = kind else {
        return String::new();
    };
    if m.opaque {
        return String::new();
    }
    let parts = m.parts();
    if parts.is_empty() {
        " (mtime only)".into()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// `L0 L2 ` for layer positions 0 and 2.
pub(super) fn layer_names(layers: &[usize]) -> String {
    layers.iter().map(|l| format!("L{l} ")).collect()
}
