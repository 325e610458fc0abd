//! Fetches everything attached to the image on screen and checks it like everything else:
//! BuildKit attestation manifests listed in the index for the selected platform, OCI
//! referrers of the platform manifest and of the index (the companion falls back to the
//! `sha256-<hex>` tag), and cosign's `sha256-<hex>.sig` / `.att` / `.sbom` tags. Every
//! manifest is verified against its digest and every blob against digest and size before
//! it is parsed.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use strata_shared::attestation::artifact::{self, ArtifactKind, is_sbom_media_type};
use strata_shared::attestation::certificate::CertificateInfo;
use strata_shared::attestation::cosign::{CosignSignature, CosignTag, SimpleSigning};
use strata_shared::attestation::cyclonedx::Bom;
use strata_shared::attestation::notation::NotationSignature;
use strata_shared::attestation::spdx::SpdxDocument;
use strata_shared::attestation::statement::{Envelope, PredicateFamily, parse_statement};
use strata_shared::attestation::{Predicate, Provenance, Sbom};
use strata_shared::manifest::{Descriptor, Document, ImageIndex, ImageManifest};
use strata_shared::{Digest, MediaType};

use crate::endpoint::Endpoint;

use crate::api::{self, ApiError};
use crate::image_load::ImageModel;

/// Largest attached blob read (SBOMs of big images are tens of MB).
const MAX_BLOB_BYTES: u64 = 128 * 1024 * 1024;

/// How an attachment was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// Listed in the index next to the platform (BuildKit).
    Index,
    /// The registry's referrers API.
    ReferrersApi,
    /// The OCI 1.1 `sha256-<hex>` tag (no referrers API).
    ReferrersTag,
    /// A cosign tag.
    CosignTag(String),
}

impl Source {
    /// Slug for `data-attachment-source`.
    pub(crate) fn slug(&self) -> &'static str {
        match self {
            Source::Index => "index",
            Source::ReferrersApi => "referrers",
            Source::ReferrersTag => "referrers-tag",
            Source::CosignTag(_) => "cosign-tag",
        }
    }

    /// What the user reads.
    pub(crate) fn label(&self) -> String {
        match self {
            Source::Index => "index (BuildKit)".into(),
            Source::ReferrersApi => "referrers API".into(),
            Source::ReferrersTag => "referrers tag fallback".into(),
            Source::CosignTag(t) => format!("tag {t}"),
        }
    }
}

/// What happened to one blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BlobState {
    /// Digest and size checked, and the content read.
    Verified,
    /// Not fetched (a media type Strata does not read, or over the size limit).
    Skipped(String),
    /// Fetch, verification or parsing failed.
    Failed(String),
}

/// One blob of an attachment.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BlobItem {
    /// Its descriptor.
    pub descriptor: Descriptor,
    /// The in-toto predicate type, when annotated or read.
    pub predicate_type: Option<String>,
    /// Verification and parse outcome.
    pub state: BlobState,
}

/// A signature Strata can verify with a pasted key.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SignatureItem {
    /// Cosign simple signing, or a DSSE envelope.
    pub kind: &'static str,
    /// The layer holding it.
    pub layer: Digest,
    /// The signed bytes (the payload, or the DSSE PAE encoding).
    pub message: Vec<u8>,
    /// The payload as text, for display.
    pub payload_text: String,
    /// The base64 signature.
    pub signature: String,
    /// The simple-signing payload, when it parsed.
    pub payload: Option<SimpleSigning>,
    /// Whether the payload signs this image (manifest or index digest).
    pub digest_matches: Option<bool>,
    /// Whether the payload's docker-reference names this repository.
    pub reference_matches: Option<bool>,
    /// The keyless certificate, when present.
    pub certificate: Option<CertificateInfo>,
    /// Why something could not be read.
    pub error: Option<String>,
}

/// One attached artifact.
#[derive(Clone, Debug)]
pub(crate) struct Attachment {
    /// How it was found.
    pub source: Source,
    /// The digest it is attached to.
    pub subject: Digest,
    /// Its manifest digest.
    pub digest: Digest,
    /// Its manifest size.
    pub size: u64,
    /// Its artifact type (or config media type).
    pub artifact_type: String,
    /// What it is.
    pub kind: ArtifactKind,
    /// The manifest's verification (and fetch) outcome.
    pub verified: Result<(), String>,
    /// Its blobs.
    pub blobs: Vec<BlobItem>,
    /// SLSA provenance statements found.
    pub provenance: Vec<Arc<Provenance>>,
    /// SBOMs found.
    pub sboms: Vec<Arc<Sbom>>,
    /// Signatures found.
    pub signatures: Vec<SignatureItem>,
    /// Notation signature details.
    pub notation: Option<NotationSignature>,
}

impl Attachment {
    /// Whether the manifest and every blob read verified.
    pub(crate) fn all_verified(&self) -> bool {
        self.verified.is_ok()
            && !self
                .blobs
                .iter()
                .any(|b| matches!(b.state, BlobState::Failed(_)))
    }
}

/// Everything attached to one image.
#[derive(Clone, Debug, Default)]
pub(crate) struct LoadedProvenance {
    /// Attachments in discovery order.
    pub attachments: Vec<Attachment>,
    /// Lookups that failed without stopping the rest.
    pub notes: Vec<String>,
}

impl LoadedProvenance {
    /// All SBOMs, with the attachment they came from.
    pub(crate) fn sboms(&self) -> impl Iterator<Item = (&Attachment, &Arc<Sbom>)> + '_ {
        self.attachments
            .iter()
            .flat_map(|a| a.sboms.iter().map(move |s| (a, s)))
    }

    /// All provenance statements, with the attachment they came from.
    pub(crate) fn provenance(&self) -> impl Iterator<Item = (&Attachment, &Arc<Provenance>)> + '_ {
        self.attachments
            .iter()
            .flat_map(|a| a.provenance.iter().map(move |p| (a, p)))
    }

    /// All signatures, with the attachment they came from.
    pub(crate) fn signatures(&self) -> impl Iterator<Item = (&Attachment, &SignatureItem)> + '_ {
        self.attachments
            .iter()
            .flat_map(|a| a.signatures.iter().map(move |s| (a, s)))
    }
}

thread_local! {
    /// Loaded provenance by platform manifest digest, for the tab and the files pane.
    static CACHE: RefCell<HashMap<Digest, Arc<LoadedProvenance>>> = RefCell::new(HashMap::new());
}

/// What was already loaded for a platform manifest.
pub(crate) fn cached(manifest: &Digest) -> Option<Arc<LoadedProvenance>> {
    CACHE.with(|c| c.borrow().get(manifest).cloned())
}

/// The SBOM packages (name, version) that claim `path` in the image whose platform
/// manifest is `manifest`; empty until the Provenance tab (or [`load_provenance`]) has
/// loaded its SBOMs. For the files detail pane.
pub(crate) fn packages_of_file(manifest: &Digest, path: &str) -> Vec<(String, Option<String>)> {
    let Some(loaded) = cached(manifest) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (_, sbom) in loaded.sboms() {
        for p in sbom.packages_of_file(path) {
            let entry = (p.name.clone(), p.version.clone());
            if !out.contains(&entry) {
                out.push(entry);
            }
        }
    }
    out
}

/// The digests this image is known by: the platform manifest, then the index.
fn subjects(model: &ImageModel) -> Vec<Digest> {
    let mut out = Vec::new();
    if let Some(m) = &model.manifest {
        out.push(m.digest.clone());
    }
    if !out.contains(&model.pinned) {
        out.push(model.pinned.clone());
    }
    out
}

/// Loads (once per platform manifest) everything attached to the image.
pub(crate) async fn load_provenance(model: &ImageModel) -> Arc<LoadedProvenance> {
    let key = model
        .manifest
        .as_ref()
        .map(|m| m.digest.clone())
        .unwrap_or_else(|| model.pinned.clone());
    if let Some(hit) = cached(&key) {
        return hit;
    }
    let loaded = Arc::new(load_uncached(model).await);
    CACHE.with(|c| c.borrow_mut().insert(key, loaded.clone()));
    loaded
}

struct Ctx<'a> {
    endpoint: &'a Endpoint,
    subjects: Vec<Digest>,
    seen: BTreeSet<Digest>,
    out: LoadedProvenance,
}

async fn load_uncached(model: &ImageModel) -> LoadedProvenance {
    let mut ctx = Ctx {
        endpoint: &model.endpoint,
        subjects: subjects(model),
        seen: BTreeSet::new(),
        out: LoadedProvenance::default(),
    };
    // 1. BuildKit attestation manifests listed next to the selected platform.
    if let (Some(index), Some(manifest)) = (&model.index, &model.manifest) {
        let listed: Vec<Descriptor> = index
            .entries
            .platforms
            .iter()
            .filter(|p| p.descriptor.digest == manifest.digest)
            .flat_map(|p| p.attestations.iter().cloned())
            .collect();
        for d in listed {
            attach(
                &mut ctx,
                Source::Index,
                manifest.digest.clone(),
                &d.digest.to_string(),
                Some(&d),
            )
            .await;
        }
    }
    // 2. OCI referrers of each subject.
    for subject in ctx.subjects.clone() {
        match api::fetch_referrers(ctx.endpoint, &subject).await {
            Ok((index, via_tag)) => {
                let source = if via_tag {
                    Source::ReferrersTag
                } else {
                    Source::ReferrersApi
                };
                for d in index.manifests {
                    attach(
                        &mut ctx,
                        source.clone(),
                        subject.clone(),
                        &d.digest.to_string(),
                        Some(&d),
                    )
                    .await;
                }
            }
            Err(e) => ctx
                .out
                .notes
                .push(format!("referrers of {}: {e}", subject.short())),
        }
    }
    // 3. cosign tags of each subject.
    for subject in ctx.subjects.clone() {
        for tag in CosignTag::ALL {
            let name = tag.tag_for(&subject);
            attach(
                &mut ctx,
                Source::CosignTag(name.clone()),
                subject.clone(),
                &name,
                None,
            )
            .await;
        }
    }
    ctx.out
}

/// Fetches one attached manifest (by digest with its descriptor, or by tag) and reads it.
async fn attach(
    ctx: &mut Ctx<'_>,
    source: Source,
    subject: Digest,
    manifest_ref: &str,
    descriptor: Option<&Descriptor>,
) {
    if let Some(d) = descriptor
        && !ctx.seen.insert(d.digest.clone())
    {
        return;
    }
    let expected = descriptor.map(|d| (&d.digest, d.size));
    let fetched = api::fetch_manifest(ctx.endpoint, manifest_ref, "attachment", expected).await;
    let doc = match fetched {
        Ok(doc) => doc,
        Err(ApiError::NotFound { .. }) if descriptor.is_none() => return,
        Err(e) => {
            let Some(d) = descriptor else {
                ctx.out.notes.push(format!("{manifest_ref}: {e}"));
                return;
            };
            ctx.out.attachments.push(Attachment {
                source,
                subject,
                digest: d.digest.clone(),
                size: d.size,
                artifact_type: d
                    .artifact_type
                    .clone()
                    .unwrap_or_else(|| d.media_type.as_str().to_owned()),
                kind: ArtifactKind::Other(d.media_type.as_str().to_owned()),
                verified: Err(e.to_string()),
                blobs: Vec::new(),
                provenance: Vec::new(),
                sboms: Vec::new(),
                signatures: Vec::new(),
                notation: None,
            });
            return;
        }
    };
    if descriptor.is_none() && !ctx.seen.insert(doc.digest.clone()) {
        return;
    }
    let size = doc.parsed.raw.len() as u64;
    let manifest = match doc.parsed.document {
        Document::Manifest(m) => *m,
        Document::Index(i) => {
            ctx.out
                .attachments
                .push(index_attachment(source, subject, doc.digest, size, &i));
            return;
        }
        Document::Schema1(_) => {
            ctx.out
                .notes
                .push(format!("{manifest_ref}: legacy schema1, not read"));
            return;
        }
    };
    let mut a = Attachment {
        source,
        subject,
        digest: doc.digest,
        size,
        artifact_type: artifact::artifact_type(&manifest),
        kind: artifact::classify(&manifest),
        verified: Ok(()),
        blobs: Vec::new(),
        provenance: Vec::new(),
        sboms: Vec::new(),
        signatures: Vec::new(),
        notation: NotationSignature::from_manifest(&manifest),
    };
    read_layers(ctx, &manifest, &mut a).await;
    ctx.out.attachments.push(a);
}

fn index_attachment(
    source: Source,
    subject: Digest,
    digest: Digest,
    size: u64,
    i: &ImageIndex,
) -> Attachment {
    let ty = i
        .artifact_type
        .clone()
        .unwrap_or_else(|| MediaType::OciIndex.as_str().to_owned());
    Attachment {
        source,
        subject,
        digest,
        size,
        artifact_type: ty.clone(),
        kind: ArtifactKind::Other(ty),
        verified: Ok(()),
        blobs: Vec::new(),
        provenance: Vec::new(),
        sboms: Vec::new(),
        signatures: Vec::new(),
        notation: None,
    }
}

/// Reads the layers Strata understands: in-toto statements, simple-signing payloads, DSSE
/// envelopes and SBOM documents. Others are listed, not fetched.
async fn read_layers(ctx: &mut Ctx<'_>, manifest: &ImageManifest, a: &mut Attachment) {
    for layer in &manifest.layers {
        let mt = layer.media_type.as_str();
        let readable = mt == MediaType::InToto.as_str()
            || mt == strata_shared::attestation::cosign::SIMPLE_SIGNING
            || mt == strata_shared::attestation::cosign::DSSE_ENVELOPE
            || is_sbom_media_type(mt);
        let mut item = BlobItem {
            descriptor: layer.clone(),
            predicate_type: layer
                .annotation(artifact::PREDICATE_TYPE_ANNOTATION)
                .map(str::to_owned),
            state: BlobState::Verified,
        };
        if !readable {
            item.state =
                BlobState::Skipped("not read (a media type Strata does not interpret)".into());
            a.blobs.push(item);
            continue;
        }
        if layer.size > MAX_BLOB_BYTES {
            item.state =
                BlobState::Skipped(format!("not read: {} bytes is over the limit", layer.size));
            a.blobs.push(item);
            continue;
        }
        let bytes = match api::fetch_blob_verified(ctx.endpoint, &layer.digest, layer.size).await {
            Ok(b) => b,
            Err(e) => {
                item.state = BlobState::Failed(e.to_string());
                a.blobs.push(item);
                continue;
            }
        };
        item.state = match read_blob(ctx, layer, &bytes, a, &mut item.predicate_type) {
            Ok(()) => BlobState::Verified,
            Err(e) => BlobState::Failed(format!("verified, but unreadable: {e}")),
        };
        a.blobs.push(item);
    }
}

fn read_blob(
    ctx: &Ctx<'_>,
    layer: &Descriptor,
    bytes: &[u8],
    a: &mut Attachment,
    predicate_type: &mut Option<String>,
) -> Result<(), String> {
    let mt = layer.media_type.as_str();
    if mt == strata_shared::attestation::cosign::SIMPLE_SIGNING {
        let sig = CosignSignature::from_layer(layer).ok_or("not a simple-signing layer")?;
        let payload = SimpleSigning::parse(bytes);
        let item = SignatureItem {
            kind: "cosign",
            layer: layer.digest.clone(),
            message: bytes.to_vec(),
            payload_text: String::from_utf8_lossy(bytes).into_owned(),
            signature: sig.signature.clone(),
            digest_matches: payload
                .as_ref()
                .ok()
                .map(|p| ctx.subjects.iter().any(|s| p.signs(s))),
            reference_matches: payload
                .as_ref()
                .ok()
                .map(|p| p.names_repository(&ctx.endpoint.name)),
            error: payload
                .as_ref()
                .err()
                .map(ToString::to_string)
                .or(sig.certificate_error.clone()),
            payload: payload.ok(),
            certificate: sig.certificate,
        };
        a.signatures.push(item);
        return Ok(());
    }
    if mt == strata_shared::attestation::cosign::DSSE_ENVELOPE {
        let env = Envelope::parse(bytes).map_err(|e| e.to_string())?;
        let payload = env.payload_bytes().map_err(|e| e.to_string())?;
        let pae = env.pae().map_err(|e| e.to_string())?;
        let cert = layer
            .annotation(strata_shared::attestation::cosign::CERTIFICATE_ANNOTATION)
            .and_then(|pem| CertificateInfo::from_pem(pem).ok());
        for s in &env.signatures {
            a.signatures.push(SignatureItem {
                kind: "dsse",
                layer: layer.digest.clone(),
                message: pae.clone(),
                payload_text: String::from_utf8_lossy(&payload[..payload.len().min(4096)])
                    .into_owned(),
                signature: s.sig.clone(),
                payload: None,
                digest_matches: None,
                reference_matches: None,
                certificate: cert.clone(),
                error: None,
            });
        }
        return read_statement(&payload, a, predicate_type);
    }
    if mt == MediaType::InToto.as_str() {
        return read_statement(bytes, a, predicate_type);
    }
    // A bare SBOM document.
    let sbom = if mt.contains("cyclonedx") {
        Bom::parse(bytes).map(Bom::into_sbom)
    } else {
        SpdxDocument::parse(bytes).map(SpdxDocument::into_sbom)
    }
    .map_err(|e| e.to_string())?;
    a.sboms.push(Arc::new(sbom));
    Ok(())
}

fn read_statement(
    bytes: &[u8],
    a: &mut Attachment,
    predicate_type: &mut Option<String>,
) -> Result<(), String> {
    let parsed = parse_statement(bytes).map_err(|e| e.to_string())?;
    *predicate_type = Some(parsed.statement.predicate_type.clone());
    if let ArtifactKind::Attestation(families) = &mut a.kind {
        let f = PredicateFamily::of(&parsed.statement.predicate_type);
        if !families.contains(&f) {
            families.push(f);
        }
    }
    match parsed.predicate {
        Predicate::Provenance(p) => a.provenance.push(Arc::from(p)),
        Predicate::Sbom(s) => a.sboms.push(Arc::from(s)),
        Predicate::Other => {}
    }
    Ok(())
}
