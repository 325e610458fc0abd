use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use strata_shared::attestation::labels::{LabelLink, provenance_labels};
use strata_shared::attestation::{Material, MaterialKind, Package, Provenance, PublicKey, Sbom};

use crate::format::{bytes, short_digest};
use crate::image_load::ImageModel;
use crate::merged_tree::MergedTreeState;
use crate::provenance_load::{
    Attachment, BlobState, LoadedProvenance, SignatureItem, cached, load_provenance,
};
use crate::url_state::{Key, Tab, ViewState, href_with};

/// Rows shown at most in the package table (search narrows the rest).
const PACKAGE_ROWS: usize = 500;

/// The Provenance tab: what is attached to the image (attestations, referrers, signatures),
/// who built it and from what (SLSA), what packages it holds and which files they own
/// (SBOM), whether its signature verifies against a key the user pastes, and the OCI
/// labels that carry provenance. Linkable: `attestation=sha256:…`, `package=NAME`.
#[component]
pub(crate) fn ProvenanceView(
    model: ImageModel,
    files: RwSignal<Option<MergedTreeState>>,
) -> impl IntoView {
    let key = model
        .manifest
        .as_ref()
        .map(|m| m.digest.clone())
        .unwrap_or_else(|| model.pinned.clone());
    let loaded = RwSignal::new(cached(&key));
    if loaded.get_untracked().is_none() {
        let m = model.clone();
        spawn_local(async move {
            let l = load_provenance(&m).await;
            let _ = loaded.try_set(Some(l));
        });
    }
    let labels = labels_panel(&model);
    let state = move || {
        if loaded.get().is_some() {
            "ready"
        } else {
            "loading"
        }
    };
    view! {
        <div class="provenance" data-provenance-state=state>
            {move || match loaded.get() {
                None => view! { <p class="loading">"Looking for attestations, referrers and signatures…"</p> }.into_any(),
                Some(l) => loaded_view(l, files).into_any(),
            }}
            {labels}
        </div>
    }
}

fn loaded_view(
    l: Arc<LoadedProvenance>,
    files: RwSignal<Option<MergedTreeState>>,
) -> impl IntoView {
    let provenance: Vec<Arc<Provenance>> = l.provenance().map(|(_, p)| p.clone()).collect();
    let sboms: Vec<Arc<Sbom>> = l.sboms().map(|(_, s)| s.clone()).collect();
    let signatures: Vec<(String, SignatureItem)> = l
        .signatures()
        .map(|(a, s)| (a.source.label(), s.clone()))
        .collect();
    let notation: Vec<Attachment> = l
        .attachments
        .iter()
        .filter(|a| a.notation.is_some())
        .cloned()
        .collect();
    view! {
        {attachments_panel(l.clone())}
        {provenance.into_iter().map(slsa_card).collect_view()}
        {sboms.into_iter().map(|s| view! { <SbomPanel sbom=s files/> }).collect_view()}
        {(!signatures.is_empty() || !notation.is_empty()).then(|| view! {
            <section class="panel signatures" data-section="signatures">
                <h2>"Signatures"</h2>
                {signatures.into_iter().map(|(source, s)| view! { <SignatureCard item=s source/> }).collect_view()}
                {notation.into_iter().map(notation_line).collect_view()}
            </section>
        })}
    }
}

fn attachments_panel(l: Arc<LoadedProvenance>) -> impl IntoView {
    let query = use_query_map();
    let selected = move || ViewState::from_map(&query.read()).attestation;
    let rows = l
        .attachments
        .iter()
        .map(|a| {
            let digest = a.digest.to_string();
            let d = digest.clone();
            let target = digest.clone();
            let href =
                move || href_with(&[(Key::Attestation, Some(&target)), (Key::Package, None)]);
            let verified = if a.all_verified() {
                "verified"
            } else {
                "failed"
            };
            let badge = match (&a.verified, a.all_verified()) {
                (Ok(()), true) => view! { <span class="badge ok">"✓ verified"</span> }.into_any(),
                (Err(e), _) => {
                    view! { <span class="badge bad" title=e.clone()>"✗ " {e.clone()}</span> }
                        .into_any()
                }
                (Ok(()), false) => {
                    view! { <span class="badge bad">"✗ a blob failed"</span> }.into_any()
                }
            };
            view! {
                <tr
                    class:current=move || selected().as_deref() == Some(d.as_str())
                    data-attachment-digest=digest.clone()
                    data-attachment-kind=a.kind.slug()
                    data-attachment-source=a.source.slug()
                    data-attachment-verified=verified
                >
                    <td><a href=href>{a.kind.label()}</a></td>
                    <td class="mono small">{a.artifact_type.clone()}</td>
                    <td class="small">{a.source.label()}</td>
                    <td class="num">{bytes(a.size)}</td>
                    <td class="mono" title=digest.clone()>{short_digest(&digest)}</td>
                    <td>{badge}</td>
                </tr>
            }
        })
        .collect_view();
    let attachments = l.attachments.clone();
    let detail = move || {
        let wanted = selected()?;
        let a = attachments
            .iter()
            .find(|a| a.digest.to_string() == wanted)?
            .clone();
        Some(attachment_detail(a))
    };
    let empty = l.attachments.is_empty();
    let notes = l.notes.clone();
    view! {
        <section class="panel attachments" data-section="attachments">
            <h2>"Attached to this image"</h2>
            {empty.then(|| view! { <p class="dim" data-attachments-empty="">"Nothing attached: no attestations in the index, no referrers, no cosign tags."</p> })}
            {(!empty).then(|| view! {
                <table data-attachments="">
                    <thead><tr><th>"What"</th><th>"Artifact type"</th><th>"Found via"</th><th class="num">"Size"</th><th>"Digest"</th><th>"Checked"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            })}
            {detail}
            {(!notes.is_empty()).then(|| view! {
                <ul class="small dim notes">{notes.into_iter().map(|n| view! { <li data-provenance-note="">{n}</li> }).collect_view()}</ul>
            })}
        </section>
    }
}

fn attachment_detail(a: Attachment) -> impl IntoView {
    let blobs = a
        .blobs
        .into_iter()
        .map(|b| {
            let digest = b.descriptor.digest.to_string();
            let (state, text) = match &b.state {
                BlobState::Verified => ("verified", "✓ digest and size verified".to_owned()),
                BlobState::Skipped(why) => ("skipped", why.clone()),
                BlobState::Failed(e) => ("failed", format!("✗ {e}")),
            };
            view! {
                <tr data-blob-digest=digest.clone() data-blob-state=state>
                    <td class="mono small">{b.descriptor.media_type.as_str().to_owned()}</td>
                    <td class="mono small">{b.predicate_type.unwrap_or_default()}</td>
                    <td class="num">{bytes(b.descriptor.size)}</td>
                    <td class="mono" title=digest.clone()>{short_digest(&digest)}</td>
                    <td class="small">{text}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="attachment-detail" data-attachment-detail=a.digest.to_string()>
            <h3>{a.kind.label()} " " <span class="mono dim">{a.digest.to_string()}</span></h3>
            <p class="small">"Attached to " <span class="mono">{a.subject.to_string()}</span> " · found via " {a.source.label()}</p>
            <table>
                <thead><tr><th>"Media type"</th><th>"Predicate"</th><th class="num">"Size"</th><th>"Digest"</th><th>"Checked"</th></tr></thead>
                <tbody>{blobs}</tbody>
            </table>
        </div>
    }
}

fn slsa_card(p: Arc<Provenance>) -> impl IntoView {
    let version = match p.version {
        strata_shared::attestation::SlsaVersion::V02 => "v0.2",
        strata_shared::attestation::SlsaVersion::V1 => "v1",
    };
    let builder = if p.builder_id.is_empty() {
        "(not recorded by the builder)".to_owned()
    } else {
        p.builder_id.clone()
    };
    let build_args = p
        .build_args
        .iter()
        .map(|(k, v)| view! { <li data-build-arg=k.clone()>{k.clone()} "=" {v.clone()}</li> })
        .collect_view();
    let params = p
        .parameters
        .iter()
        .map(|(k, v)| view! { <li>{k.clone()} "=" {v.clone()}</li> })
        .collect_view();
    let source = p.config_source.clone().map(|m| material_view(&m));
    let materials = p
        .materials
        .iter()
        .map(|m| {
            let uri = m.uri.clone();
            view! { <li data-material-uri=uri>{material_view(m)}</li> }
        })
        .collect_view();
    view! {
        <section class="panel slsa" data-section="slsa" data-slsa-builder=p.builder_id.clone()>
            <h2>"Build provenance " <span class="dim">"SLSA " {version}</span></h2>
            <dl>
                <dt>"Builder"</dt><dd class="mono" data-slsa-builder-id="">{builder}</dd>
                <dt>"Build type"</dt><dd class="mono small">{p.build_type.clone()}</dd>
                {p.frontend.clone().map(|f| view! { <dt>"Frontend"</dt><dd class="mono" data-slsa-frontend="">{f}</dd> })}
                {p.dockerfile.clone().map(|f| view! { <dt>"Build file"</dt><dd class="mono" data-slsa-dockerfile="">{f}</dd> })}
                {source.map(|s| view! { <dt>"Source"</dt><dd data-slsa-source="">{s}</dd> })}
                {p.started_on.clone().map(|t| view! { <dt>"Started"</dt><dd>{t}</dd> })}
                {p.finished_on.clone().map(|t| view! { <dt>"Finished"</dt><dd>{t}</dd> })}
                {p.invocation_id.clone().map(|t| view! { <dt>"Invocation"</dt><dd class="mono small">{t}</dd> })}
            </dl>
            {(!p.build_args.is_empty()).then(|| view! { <h3>"Build arguments"</h3><ul class="mono kv">{build_args}</ul> })}
            {(!p.parameters.is_empty()).then(|| view! { <h3>"Frontend parameters"</h3><ul class="mono kv">{params}</ul> })}
            <h3>"Materials"</h3>
            <ul class="materials">{materials}</ul>
        </section>
    }
}

fn material_view(m: &Material) -> AnyView {
    match &m.kind {
        MaterialKind::Git {
            repository,
            commit,
            reference,
            commit_url,
        } => {
            let repo_link = strata_shared::attestation::labels::web_url(repository);
            view! {
                <span class="material git">"git "
                    {match repo_link {
                        Some(url) => view! { <a href=url rel="noopener noreferrer" class="mono">{repository.clone()}</a> }.into_any(),
                        None => view! { <span class="mono">{repository.clone()}</span> }.into_any(),
                    }}
                    {reference.clone().map(|r| view! { " " <span class="mono dim">{r}</span> })}
                    {commit.clone().map(|c| match commit_url.clone() {
                        Some(url) => view! { " @ " <a class="mono" href=url rel="noopener noreferrer" data-commit=c.clone()>{c.chars().take(12).collect::<String>()}</a> }.into_any(),
                        None => view! { " @ " <span class="mono" data-commit=c.clone()>{c.chars().take(12).collect::<String>()}</span> }.into_any(),
                    })}
                </span>
            }
            .into_any()
        }
        MaterialKind::Image(image) => {
            let reference = image.reference();
            let pinned = image.digest.is_some();
            view! {
                <span class="material image">"image "
                    <a class="mono" href=format!("/image/{reference}") data-base-image=reference.clone() title="Inspect this image in Strata">{reference.clone()}</a>
                    {image.tag.clone().map(|t| view! { " " <span class="dim">"(tag " {t} ")"</span> })}
                    {image.platform.clone().map(|p| view! { " " <span class="dim">{p}</span> })}
                    {(!pinned).then(|| view! { " " <span class="badge pending">"not pinned by digest"</span> })}
                </span>
            }
            .into_any()
        }
        MaterialKind::Other => {
            view! { <span class="material mono">{m.uri.clone()}</span> }.into_any()
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Name,
    Version,
    Kind,
    License,
    Files,
}

#[component]
fn SbomPanel(sbom: Arc<Sbom>, files: RwSignal<Option<MergedTreeState>>) -> impl IntoView {
    let query = use_query_map();
    let search = RwSignal::new(String::new());
    let sort = RwSignal::new((SortKey::Name, false));
    let format = match &sbom.format {
        strata_shared::attestation::SbomFormat::Spdx(v) => format!("SPDX {v}"),
        strata_shared::attestation::SbomFormat::CycloneDx(v) => format!("CycloneDX {v}"),
    };
    let total = sbom.packages.len();
    let with_files = sbom.packages.iter().filter(|p| !p.files.is_empty()).count();
    let table_sbom = sbom.clone();
    let rows = move || {
        query.track();
        let q = search.get().to_lowercase();
        let (key, desc) = sort.get();
        let mut shown: Vec<&Package> = table_sbom
            .packages
            .iter()
            .filter(|p| {
                q.is_empty()
                    || p.name.to_lowercase().contains(&q)
                    || p.purl
                        .as_deref()
                        .is_some_and(|u| u.to_lowercase().contains(&q))
                    || p.license
                        .as_deref()
                        .is_some_and(|l| l.to_lowercase().contains(&q))
            })
            .collect();
        shown.sort_by(|a, b| {
            let o = match key {
                SortKey::Name => a.name.cmp(&b.name),
                SortKey::Version => a.version.cmp(&b.version),
                SortKey::Kind => a.kind.cmp(&b.kind),
                SortKey::License => a.license.cmp(&b.license),
                SortKey::Files => a.files.len().cmp(&b.files.len()),
            };
            if desc { o.reverse() } else { o }
        });
        let matched = shown.len();
        let selected = ViewState::from_map(&query.read_untracked()).package;
        let body = shown
            .into_iter()
            .take(PACKAGE_ROWS)
            .map(|p| {
                let href = href_with(&[(Key::Package, Some(&p.name))]);
                let current = selected.as_deref() == Some(p.name.as_str());
                view! {
                    <tr data-sbom-package=p.name.clone() class:current=current>
                        <td><a href=href>{p.name.clone()}</a></td>
                        <td class="mono">{p.version.clone().unwrap_or_default()}</td>
                        <td>{p.kind.clone()}</td>
                        <td class="small">{p.license.clone().unwrap_or_default()}</td>
                        <td class="num">{p.files.len()}</td>
                        <td class="mono small dim">{p.purl.clone().unwrap_or_default()}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <p class="small dim" data-sbom-matched=matched>{matched} " of " {total} " packages"
                {(matched > PACKAGE_ROWS).then(|| format!(", first {PACKAGE_ROWS} shown"))}</p>
            <table class="packages" data-sbom-table="">
                <thead><tr>
                    {header("Name", SortKey::Name, sort)}
                    {header("Version", SortKey::Version, sort)}
                    {header("Type", SortKey::Kind, sort)}
                    {header("License", SortKey::License, sort)}
                    {header("Files", SortKey::Files, sort)}
                    <th>"purl"</th>
                </tr></thead>
                <tbody>{body}</tbody>
            </table>
        }
    };
    let detail_sbom = sbom.clone();
    let detail = move || {
        let name = ViewState::from_map(&query.read()).package?;
        let packages: Vec<Package> = detail_sbom.packages_named(&name).cloned().collect();
        Some(package_detail(name, packages, files))
    };
    view! {
        <section class="panel sbom" data-section="sbom">
            <h2>"Packages " <span class="dim">{format} " · " {total} " packages, " {with_files} " with files"</span></h2>
            {detail}
            <input
                type="search"
                class="search"
                placeholder="Filter by name, purl or license"
                data-sbom-search=""
                prop:value=move || search.get()
                on:input=move |ev| search.set(event_target_value(&ev))
            />
            {rows}
        </section>
    }
}

fn header(label: &'static str, key: SortKey, sort: RwSignal<(SortKey, bool)>) -> impl IntoView {
    let arrow = move || match sort.get() {
        (k, false) if k == key => " ▲",
        (k, true) if k == key => " ▼",
        _ => "",
    };
    view! {
        <th>
            <button class="link" data-sort=label on:click=move |_| sort.update(|(k, desc)| {
                if *k == key { *desc = !*desc } else { *k = key; *desc = false }
            })>{label}{arrow}</button>
        </th>
    }
}

fn package_detail(
    name: String,
    packages: Vec<Package>,
    files: RwSignal<Option<MergedTreeState>>,
) -> impl IntoView {
    let close = move || href_with(&[(Key::Package, None)]);
    let found = !packages.is_empty();
    let list = packages
        .into_iter()
        .map(|p| {
            let paths = p.files.clone();
            let file_rows = move || {
                let tree = files.get().map(|f| f.tree.clone());
                paths
                    .iter()
                    .map(|path| {
                        let href = href_with(&[
                            (Key::Tab, Tab::Files.value()),
                            (Key::Path, Some(path)),
                            (Key::Package, None),
                            (Key::Attestation, None),
                            (Key::Layer, None),
                            (Key::Search, None),
                        ]);
                        let where_ = match &tree {
                            None => "layers still indexing".to_owned(),
                            Some(t) => match t.get(path.trim_start_matches('/')) {
                                Some(n) if n.present => format!("layer {}", n.layer + 1),
                                Some(_) => "deleted in the final image".to_owned(),
                                None => "not in the image".to_owned(),
                            },
                        };
                        view! {
                            <li data-package-file=path.clone()>
                                <a class="mono" href=href>{path.clone()}</a> " " <span class="dim small">{where_}</span>
                            </li>
                        }
                    })
                    .collect_view()
            };
            view! {
                <div class="package" data-package-detail=p.name.clone()>
                    <h3>{p.name.clone()} " " <span class="mono dim">{p.version.clone().unwrap_or_default()}</span></h3>
                    <dl>
                        <dt>"Type"</dt><dd>{p.kind.clone()}</dd>
                        <dt>"License"</dt><dd>{p.license.clone().unwrap_or_else(|| "not stated".into())}</dd>
                        {p.purl.clone().map(|u| view! { <dt>"purl"</dt><dd class="mono small">{u}</dd> })}
                    </dl>
                    {if p.files.is_empty() {
                        view! { <p class="dim small">"The SBOM lists no files for this package."</p> }.into_any()
                    } else {
                        view! { <ul class="package-files">{file_rows}</ul> }.into_any()
                    }}
                </div>
            }
        })
        .collect_view();
    view! {
        <div class="package-detail">
            <a class="small" href=close>"× close"</a>
            {(!found).then(|| view! { <p class="error">"No package named " {name.clone()} " in this SBOM."</p> })}
            {list}
        </div>
    }
}

#[component]
fn SignatureCard(item: SignatureItem, source: String) -> impl IntoView {
    let key_text = RwSignal::new(String::new());
    let state = RwSignal::new(("unverified", String::new()));
    let message = item.message.clone();
    let signature = item.signature.clone();
    let verify = move |_| {
        let pem = key_text.get_untracked();
        let outcome = match PublicKey::from_pem(&pem) {
            Err(e) => ("key-error", format!("✗ {e}")),
            Ok(key) => match key.verify_base64(&message, &signature) {
                Ok(()) => (
                    "verified",
                    format!(
                        "✓ signature verifies with key {}",
                        short_digest(&key.fingerprint)
                    ),
                ),
                Err(e) => ("failed", format!("✗ {e}")),
            },
        };
        state.set(outcome);
    };
    let check = |label: &'static str, value: Option<bool>, attr: &'static str| {
        value.map(|ok| {
            let text = if ok {
                format!("✓ {label}")
            } else {
                format!("✗ {label}")
            };
            let class = if ok { "badge ok" } else { "badge bad" };
            view! { <span class=class data-check=attr data-ok=ok.to_string()>{text}</span> }
        })
    };
    let payload = item.payload.clone();
    let cert = item.certificate.clone();
    view! {
        <div class="signature" data-signature-digest=item.layer.to_string() data-signature-kind=item.kind data-signature-state=move || state.get().0>
            <h3>{if item.kind == "cosign" { "cosign signature" } else { "DSSE envelope signature" }}
                " " <span class="dim small">{source}</span></h3>
            <dl>
                {payload.map(|p| view! {
                    <dt>"Signs reference"</dt><dd class="mono" data-signed-reference="">{p.docker_reference.clone()}</dd>
                    <dt>"Signs digest"</dt><dd class="mono" data-signed-digest="">{p.manifest_digest.clone()}</dd>
                })}
                {cert.map(|c| view! {
                    <dt>"Certificate"</dt>
                    <dd data-cert-identity="">{c.identity().to_owned()}
                        {c.oidc_issuer.clone().map(|i| view! { " " <span class="dim">"via " {i}</span> })}
                        " " <span class="dim small">"issued by " {c.issuer.clone()}</span></dd>
                })}
                <dt>"Signature"</dt><dd class="mono small">{item.signature.chars().take(48).collect::<String>()} "…"</dd>
            </dl>
            <div class="checks">
                {check("signs this image's digest", item.digest_matches, "digest")}
                " "
                {check("names this repository", item.reference_matches, "reference")}
            </div>
            {item.error.clone().map(|e| view! { <p class="error small">{e}</p> })}
            <details><summary>"Payload"</summary><pre class="mono raw" data-signature-payload="">{item.payload_text.clone()}</pre></details>
            <div class="verify">
                <textarea
                    rows="4"
                    class="mono"
                    placeholder="Paste a PEM public key (-----BEGIN PUBLIC KEY-----) to verify this ECDSA P-256 signature here, in the browser"
                    data-verify-key=""
                    on:input=move |ev| key_text.set(event_target_value(&ev))
                ></textarea>
                <button data-verify-button="" on:click=verify>"Verify"</button>
                <span class="verify-result" data-verify-result="" class:ok=move || state.get().0 == "verified" class:bad=move || matches!(state.get().0, "failed" | "key-error")>{move || state.get().1}</span>
            </div>
        </div>
    }
}

fn notation_line(a: Attachment) -> AnyView {
    let Some(n) = a.notation.clone() else {
        return ().into_any();
    };
    view! {
        <div class="signature notation" data-signature-digest=a.digest.to_string() data-signature-kind="notation" data-signature-state="unverified">
            <h3>"Notation signature " <span class="dim small">{a.source.label()}</span></h3>
            <p class="small">"Envelope " <span class="mono">{n.envelope_media_type.clone()}</span>
                " · certificate thumbprints " <span class="mono">{n.thumbprints.join(", ")}</span></p>
            <p class="dim small">"Verify with " <span class="mono">"notation verify"</span> " and your trust policy."</p>
        </div>
    }
    .into_any()
}

fn labels_panel(model: &ImageModel) -> Option<AnyView> {
    let labels = model
        .config
        .as_ref()
        .and_then(|(c, _)| c.config.as_ref())
        .and_then(|c| c.labels.clone())
        .unwrap_or_default();
    let annotations = model
        .manifest
        .as_ref()
        .map(|m| m.manifest.annotations.clone())
        .unwrap_or_default();
    let rows = provenance_labels(&labels, &annotations);
    if rows.is_empty() {
        return None;
    }
    let items = rows
        .into_iter()
        .map(|l| {
            let value = match l.link {
                LabelLink::None => view! { <span class="mono">{l.value.clone()}</span> }.into_any(),
                LabelLink::Url(url) => view! { <a class="mono" href=url rel="noopener noreferrer">{l.value.clone()}</a> }.into_any(),
                LabelLink::Image { name, digest } => {
                    let target = match &digest {
                        Some(d) => format!("{name}@{d}"),
                        None => name.clone(),
                    };
                    view! { <a class="mono" href=format!("/image/{target}") data-base-image=target.clone()>{l.value.clone()}</a> }.into_any()
                }
            };
            view! {
                <tr data-provenance-label=l.key.clone()>
                    <td class="mono small">{l.key.clone()}</td>
                    <td>{value}</td>
                    <td class="dim small">{l.origin}</td>
                </tr>
            }
        })
        .collect_view();
    Some(
        view! {
            <section class="panel labels" data-section="provenance-labels">
                <h2>"Labels and annotations"</h2>
                <table><tbody>{items}</tbody></table>
            </section>
        }
        .into_any(),
    )
}
