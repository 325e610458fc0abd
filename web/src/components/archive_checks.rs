use leptos::prelude::*;

use crate::archive_store::ArchiveShape;
use crate::format::short_digest;

/// Which checks applied to an image read from a file, a folder or the daemon's export:
/// the shapes differ in what they name by digest, and a legacy `docker save` has neither a
/// manifest nor compressed blobs to check.
#[component]
pub(crate) fn ArchiveChecks(
    /// The file's or folder's name, or the daemon reference.
    label: String,
    shape: ArchiveShape,
    /// Read from the daemon's export (relayed by the companion, not trusted).
    daemon: bool,
    /// The config's digest, the image ID.
    config: Option<String>,
    /// How many layers.
    layers: usize,
) -> impl IntoView {
    let origin = if daemon {
        format!(
            "{label}: the Docker Engine's export, streamed by the companion and read here; the companion is not trusted"
        )
    } else {
        format!("{label}: read in this browser, never uploaded")
    };
    let id = config.as_deref().map(short_digest).unwrap_or_default();
    let (applied, not_applicable): (Vec<String>, Vec<&str>) = match shape {
        ArchiveShape::OciLayout => (
            vec![
                "The index or manifest against the digest index.json gives for it".into(),
                format!("The config against its digest {id}"),
                format!(
                    "Each of the {layers} layer blobs against the digest that names it (blobs/sha256/…)"
                ),
                "Each layer's uncompressed tar against the config's diff_id".into(),
            ],
            vec![],
        ),
        ArchiveShape::LegacyDockerSave => (
            vec![
                format!("The config against the image ID {id} that names its file"),
                format!(
                    "Each of the {layers} layers, stored uncompressed and named by path, against the config's diff_id"
                ),
            ],
            vec![
                "No manifest: a legacy archive has none. Strata writes one from manifest.json to pin this view; its digest proves nothing about where the image came from.",
                "No compressed digests: the layers a registry would serve compressed are not in the archive, so their registry digests cannot be checked.",
            ],
        ),
    };
    view! {
        <section class="panel archive-checks" data-archive-checks=match shape {
            ArchiveShape::OciLayout => "oci-layout",
            ArchiveShape::LegacyDockerSave => "legacy",
        }>
            <h2>"Checks for this " {shape.label()}</h2>
            <p class="dim">{origin}</p>
            <ul class="checks">
                {applied.into_iter().map(|c| view! { <li class="applied">"✓ " {c}</li> }).collect_view()}
                {not_applicable.into_iter().map(|c| view! { <li class="not-applicable">"– " {c}</li> }).collect_view()}
            </ul>
        </section>
    }
}
