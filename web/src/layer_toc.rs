//! The TOC of eStargz and zstd:chunked layers, read by byte range while the layer itself
//! streams, so their files are listed before the layer has downloaded. The TOC is checked
//! against the digest the verified manifest names; once the layer verifies, its true
//! files replace the TOC's, and the row says whether the TOC told the truth.

use leptos::prelude::*;
use strata_shared::layer::toc::{TocCheck, TocPlan, TocStep};
use strata_shared::layer::{LayerIndex, Limits};

/// Where a layer's TOC stands (`data-layer-toc`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TocState {
    /// No TOC, or none read (the source serves no byte ranges).
    Absent,
    /// Its range is being fetched.
    Reading,
    /// Files listed from the TOC; the layer is still streaming.
    Listed {
        /// Entries the TOC listed.
        entries: usize,
    },
    /// The layer verified and holds what the TOC listed.
    Confirmed {
        /// Entries the TOC listed.
        entries: usize,
    },
    /// The layer verified and its files differ from the TOC's.
    Wrong(TocCheck),
    /// The TOC could not be used; the layer streams and verifies as any other.
    Unusable(String),
}

impl TocState {
    /// The stable name (`data-layer-toc`); `None` when absent.
    pub(crate) fn id(&self) -> Option<&'static str> {
        match self {
            TocState::Absent => None,
            TocState::Reading => Some("reading"),
            TocState::Listed { .. } => Some("verifying"),
            TocState::Confirmed { .. } => Some("confirmed"),
            TocState::Wrong(_) => Some("wrong"),
            TocState::Unusable(_) => Some("unusable"),
        }
    }

    /// What the layer's row says; `None` when absent.
    pub(crate) fn text(&self) -> Option<String> {
        Some(match self {
            TocState::Absent => return None,
            TocState::Reading => "reading the TOC…".to_owned(),
            TocState::Listed { entries } => {
                format!("{entries} entries from the TOC; verifying")
            }
            TocState::Confirmed { entries } => {
                format!("TOC confirmed: the layer holds the {entries} entries it listed")
            }
            TocState::Wrong(check) => format!(
                "the TOC was wrong: {}; the files shown are the layer's own",
                check.summary()
            ),
            TocState::Unusable(reason) => format!("TOC not used: {reason}"),
        })
    }
}

/// One layer's TOC to read by `Range`.
pub(crate) struct TocRead {
    /// Where it is and what pins it.
    pub plan: TocPlan,
    /// The blob's URL.
    pub url: String,
    /// What errors name.
    pub what: String,
    /// The row's TOC state.
    pub state: RwSignal<TocState>,
}

impl TocRead {
    /// Reads it. `on_listed` gets the listed entries and says whether the layer was still
    /// pending (else the TOC came too late to be shown).
    pub(crate) fn start(self, on_listed: impl FnOnce(LayerIndex) -> bool + 'static) {
        let TocRead {
            plan,
            url,
            what,
            state,
        } = self;
        state.set(TocState::Reading);
        leptos::task::spawn_local(async move {
            match listed(&plan, &url, &what).await {
                Ok(index) => {
                    let entries = index.len();
                    if on_listed(index) {
                        state.set(TocState::Listed { entries });
                    } else {
                        state.set(TocState::Absent);
                    }
                }
                Err(reason) => state.set(TocState::Unusable(reason)),
            }
        });
    }
}

/// At most two ranges: eStargz's tail, then the TOC's start if it lies before.
async fn listed(plan: &TocPlan, url: &str, what: &str) -> Result<LayerIndex, String> {
    let mut range = plan.first_range();
    for _ in 0..2 {
        let bytes = crate::api::fetch_range(url, &range.header(), what)
            .await
            .map_err(|e| e.to_string())?;
        match plan
            .read(range, &bytes, &Limits::default())
            .map_err(|e| e.to_string())?
        {
            TocStep::Listed(index) => return Ok(index),
            TocStep::Fetch(next) => range = next,
        }
    }
    Err("the TOC was not where its footer said".to_owned())
}

/// The verdict once the layer verified: its own index against the TOC's.
pub(crate) fn verdict(plan: &TocPlan, toc: &LayerIndex, layer: &LayerIndex) -> TocState {
    let check = plan.check(toc, layer);
    if check.is_true() {
        TocState::Confirmed {
            entries: check.listed,
        }
    } else {
        TocState::Wrong(check)
    }
}
