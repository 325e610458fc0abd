//! The image overview's distribution facts (issue 16, item 3): one line a fact, each read
//! from something this page observed — the reference, the documents and their checks, the
//! layer descriptors, and the layers' live verification.
//!
//! Access, the mirror and the rate limit are what the relay said when it served the top
//! document (`Strata-Access`, `Strata-Served-By`, `RateLimit-*`), not verified content.
//!
//! A moved tag and the bytes shared with images seen before come from this browser's
//! memory of earlier visits ([`crate::seen_before`]).
//!
//! Facts the page cannot observe yet are left out rather than guessed:
//!
//! Signatures are looked for as the Provenance tab looks for them (cosign tags, OCI
//! referrers), and reported by what was checked: each signature's manifest and blobs
//! against their digests, and whether its payload names this image. Checking the
//! signature against a key is the Provenance tab's.

use leptos::prelude::*;
use strata_shared::manifest::LayerTally;
use strata_shared::reference::RegistryKind;
use strata_shared::{Digest, Reference};

use crate::browse_load::PlatformError;
use crate::format::{bytes, plural, short_digest};
use crate::image_load::ImageModel;
use crate::provenance_load::LoadedProvenance;
use crate::seen_before::TagSeen;
use crate::worker::protocol::Stage;
use strata_shared::attestation::artifact::ArtifactKind;

/// Where the image is published, from its name (or the local source it was read from).
fn registry_fact(model: &ImageModel) -> String {
    if let Some((store, daemon)) = model.endpoint.opened_archive() {
        return if daemon {
            format!("the local Docker daemon's export ({})", store.label)
        } else {
            format!("a local archive opened in this tab ({})", store.label)
        };
    }
    if model.endpoint.repository_page().is_none() {
        return format!("a local OCI layout ({})", model.endpoint.name);
    }
    match Reference::parse_normalized(&model.endpoint.name).map(|r| r.registry_kind()) {
        Ok(RegistryKind::DockerHubOfficial) => "Docker Hub, official image (library/)".into(),
        Ok(RegistryKind::DockerHubNamespace(ns)) => {
            format!("Docker Hub, user or organization namespace {ns}")
        }
        Ok(RegistryKind::Quay(org)) => format!("Quay, organization {org}"),
        Ok(RegistryKind::Ghcr(owner)) => format!("GitHub Container Registry, owner {owner}"),
        // A Harbor's host does not say what it is; its token service does.
        Ok(RegistryKind::Other(host)) if model.relay.token_service() == Some("harbor-registry") => {
            let project = model.endpoint.name.split('/').nth(1).unwrap_or_default();
            format!("{host}: Harbor, project {project} (its token service is harbor-registry)")
        }
        Ok(RegistryKind::Other(host)) => format!("{host}: a private or self-hosted registry"),
        Err(_) => model.endpoint.name.clone(),
    }
}

/// Tag or digest: whether the same link will show the same image tomorrow, and whether
/// the tag moved since this browser last saw it.
fn longevity_fact(model: &ImageModel) -> String {
    if Digest::parse(&model.opened_as).is_ok() {
        return "opened by digest: this content cannot change under the link".into();
    }
    let base = format!(
        "opened by tag {}: a tag can move; the pinned link keeps this digest",
        model.opened_as
    );
    match &model.tag_seen {
        TagSeen::Moved(before) => format!(
            "{base}. The tag moved since this browser last saw it: it was {}",
            short_digest(before)
        ),
        TagSeen::Same => format!("{base}. It points where it did on the last visit here"),
        TagSeen::First | TagSeen::NotATag => base,
    }
}

/// Bytes a pull transfers, and how each layer is compressed.
fn transport_fact(model: &ImageModel, tally: &LayerTally) -> String {
    let sizes_known = model.layers.iter().all(|l| l.size_known);
    let total = if sizes_known {
        format!("{} compressed", bytes(tally.compressed_bytes))
    } else {
        "compressed size unknown (schema1 gives none)".to_owned()
    };
    let mut parts: Vec<String> = tally
        .by_compression
        .iter()
        .map(|(name, (count, size))| {
            if sizes_known {
                format!("{name} × {count} ({})", bytes(*size))
            } else {
                format!("{name} × {count}")
            }
        })
        .collect();
    if tally.estargz > 0 {
        parts.push(format!("{} eStargz", tally.estargz));
    }
    if tally.zstd_chunked > 0 {
        parts.push(format!("{} zstd:chunked", tally.zstd_chunked));
    }
    if tally.foreign > 0 {
        parts.push(format!(
            "{} from other hosts (foreign)",
            plural(tally.foreign as u64, "layer", "layers")
        ));
    }
    let shared = &model.shared_before;
    if shared.layers > 0 {
        let images: Vec<&str> = shared.images.iter().take(3).map(String::as_str).collect();
        let more = shared.images.len().saturating_sub(images.len());
        parts.push(format!(
            "{} ({}) already in images seen here: {}{}",
            bytes(shared.bytes),
            plural(shared.layers as u64, "layer", "layers"),
            images.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    if parts.is_empty() {
        total
    } else {
        format!("{total} · {}", parts.join(", "))
    }
}

/// Who can read the layers.
fn confidentiality_fact(tally: &LayerTally) -> String {
    match tally.encrypted {
        0 => "no encrypted layers: whoever can pull the image can read it".into(),
        n => {
            let keys = if tally.recipients.is_empty() {
                "no recipient annotations".to_owned()
            } else {
                format!("recipients' keys: {}", tally.recipients.join(", "))
            };
            format!(
                "{} encrypted with ocicrypt ({keys})",
                plural(n as u64, "layer", "layers")
            )
        }
    }
}

/// The documents' checks, and the layers' as they settle.
fn integrity_fact(model: &ImageModel) -> String {
    let documents: Vec<&crate::api::Verification> = model
        .index
        .iter()
        .map(|i| &i.verification)
        .chain(model.manifest.iter().map(|m| &m.verification))
        .chain(model.config.iter().map(|(_, v)| v))
        .chain(model.schema1.iter().map(|s| &s.verification))
        .collect();
    let failed_documents =
        documents.iter().filter(|v| v.outcome.is_err()).count() + model.failures.len();
    let verified_documents =
        documents.len() - documents.iter().filter(|v| v.outcome.is_err()).count();
    let (mut verified, mut failed, mut unfetched, mut pending) = (0, 0, 0, 0);
    for layer in &model.layers {
        match layer.live.stage.get() {
            Stage::Verified => verified += 1,
            Stage::Failed => failed += 1,
            Stage::NotFetched => unfetched += 1,
            _ => pending += 1,
        }
    }
    let mut parts = vec![if model.layers.is_empty() {
        "no layers shown".to_owned()
    } else {
        format!(
            "{} of {} layers verified by digest",
            verified,
            model.layers.len()
        )
    }];
    if pending > 0 {
        parts.push(format!("{pending} verifying"));
    }
    if failed > 0 {
        parts.push(format!("{failed} failed"));
    }
    if unfetched > 0 {
        parts.push(format!("{unfetched} not fetched, so not checked"));
    }
    let documents = if failed_documents > 0 {
        format!("{verified_documents} documents verified, {failed_documents} failed")
    } else {
        format!(
            "{} verified",
            plural(verified_documents as u64, "document", "documents")
        )
    };
    format!("{documents}; {}", parts.join(", "))
}

/// Every platform's compressed bytes, read on request: each costs a manifest request,
/// which Docker Hub counts against the pull limit.
/// Each platform's bytes (or why they could not be read), and all platforms' distinct bytes.
type SizesRead = (Vec<(String, Result<u64, PlatformError>)>, u64);

#[component]
fn PlatformSizes(model: ImageModel) -> impl IntoView {
    let Some(index) = model.index.clone() else {
        return ().into_any();
    };
    let count = index.entries.platforms.len();
    let sizes = RwSignal::new(None::<SizesRead>);
    let asked = RwSignal::new(false);
    let endpoint = model.endpoint.clone();
    let ask = move |_| {
        asked.set(true);
        let (endpoint, entries) = (endpoint.clone(), index.entries.clone());
        leptos::task::spawn_local(async move {
            let read = crate::browse_load::platform_sizes(&endpoint, &entries).await;
            sizes.try_set(Some(read));
        });
    };
    view! {
        <dt>"Per platform"</dt>
        <dd data-fact="platform-sizes">
            {move || match sizes.get() {
                Some((rows, distinct)) => {
                    let items = rows
                        .into_iter()
                        .map(|(platform, size)| {
                            let text = match &size {
                                Ok(bytes_) => bytes(*bytes_),
                                Err(e) => format!("not read: {e}"),
                            };
                            let value = size.map(|b| b.to_string()).unwrap_or_default();
                            view! {
                                <li data-platform=platform.clone() data-platform-bytes=value>
                                    <span class="mono">{platform.clone()}</span> " " {text}
                                </li>
                            }
                        })
                        .collect_view();
                    view! {
                        <ul class="plain">{items}</ul>
                        <div data-index-bytes=distinct.to_string()>
                            {format!("all platforms: {} (each layer counted once)", bytes(distinct))}
                        </div>
                    }
                    .into_any()
                }
                None if asked.get() => view! { <span>"reading each platform's manifest…"</span> }.into_any(),
                None => view! {
                    <button type="button" data-read-platform-sizes="" on:click=ask.clone()>
                        {format!("Read the sizes of all {count} platforms")}
                    </button>
                    <span class="dim small">" (one manifest request each)"</span>
                }
                .into_any(),
            }}
        </dd>
    }
    .into_any()
}

/// Signatures found, and what of them was checked.
fn signatures_fact(loaded: &LoadedProvenance) -> String {
    let signatures: Vec<&crate::provenance_load::Attachment> = loaded
        .attachments
        .iter()
        .filter(|a| {
            matches!(
                a.kind,
                ArtifactKind::CosignSignature | ArtifactKind::NotationSignature
            )
        })
        .collect();
    if signatures.is_empty() {
        return match loaded.notes.first() {
            Some(note) => format!("none found, but not every place could be asked: {note}"),
            None => "no signatures found (cosign tags, OCI referrers)".into(),
        };
    }
    let verified = signatures.iter().filter(|a| a.all_verified()).count();
    let cosign: Vec<_> = loaded.signatures().collect();
    let naming = cosign
        .iter()
        .filter(|(_, s)| s.digest_matches == Some(true))
        .count();
    let kinds: Vec<String> = signatures.iter().map(|a| a.kind.label()).collect();
    let mut text = format!(
        "{} ({}): {verified} verified by digest",
        plural(signatures.len() as u64, "signature", "signatures"),
        kinds.join(", ")
    );
    if !cosign.is_empty() {
        text.push_str(&format!(
            ", {naming} of {} cosign payloads name this image",
            cosign.len()
        ));
    }
    text.push_str("; the Provenance tab checks them against a key");
    text
}

/// One card of facts about how the image is distributed.
#[component]
pub(crate) fn DistributionFacts(model: ImageModel) -> impl IntoView {
    let tally = LayerTally::of(model.layers.iter().map(|l| &l.descriptor));
    let registry = registry_fact(&model);
    let longevity = longevity_fact(&model);
    let transport = transport_fact(&model, &tally);
    let model_shared = model.shared_before.bytes;
    let sizes_model = model.clone();
    let confidentiality = confidentiality_fact(&tally);
    let access = model.relay.access_text();
    let signatures = RwSignal::new(None::<String>);
    {
        let model = model.clone();
        leptos::task::spawn_local(async move {
            let loaded = crate::provenance_load::load_provenance(&model).await;
            signatures.try_set(Some(signatures_fact(&loaded)));
        });
    }
    let availability = model.relay.availability_text();
    let integrity = move || integrity_fact(&model);
    view! {
        <section class="panel distribution-facts" data-distribution-facts="">
            <h2>"Distribution"</h2>
            <dl>
                <dt>"Registry"</dt><dd data-fact="registry">{registry}</dd>
                {access.map(|access| view! {
                    <dt>"Access"</dt><dd data-fact="access">{access}</dd>
                })}
                <dt>"Longevity"</dt><dd data-fact="longevity">{longevity}</dd>
                {availability.map(|availability| view! {
                    <dt>"Availability"</dt><dd data-fact="availability">{availability}</dd>
                })}
                <dt>"Transport"</dt>
                <dd data-fact="transport" data-shared-bytes=model_shared.to_string()>{transport}</dd>
                <PlatformSizes model=sizes_model/>
                <dt>"Confidentiality"</dt>
                <dd data-fact="confidentiality" data-encrypted-layers=tally.encrypted.to_string()>{confidentiality}</dd>
                <dt>"Integrity"</dt><dd data-fact="integrity">{integrity}</dd>
                <dt>"Signatures"</dt>
                <dd data-fact="signatures" data-loaded=move || signatures.get().is_some().to_string()>
                    {move || signatures.get().unwrap_or_else(|| "looking for signatures…".into())}
                </dd>
            </dl>
        </section>
    }
}
