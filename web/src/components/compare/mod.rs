//! The compare page's views: the two side cards, and one component a tab (layers and
//! pull cost, config and history, files, packages, export), plus the image page's
//! "Compare with…" entry point.

mod compare_with;
mod config;
mod export;
mod file_diff;
mod files;
mod layers;
mod packages;
mod side_card;

pub(crate) use compare_with::CompareWith;
pub(crate) use config::CompareConfig;
pub(crate) use export::CompareExport;
pub(crate) use files::CompareFiles;
pub(crate) use layers::CompareLayers;
pub(crate) use packages::ComparePackages;
pub(crate) use side_card::SideCard;

use crate::url_state::{Key, UrlState};

/// The compare page's tabs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum CompareTab {
    /// Shared and own layers, and the pull cost (no `tab` key).
    #[default]
    Layers,
    /// Container defaults and history.
    Config,
    /// The merged trees diffed.
    Files,
    /// SBOM packages.
    Packages,
    /// JSON and CSV.
    Export,
}

impl CompareTab {
    /// Every tab, in order.
    pub(crate) const ALL: [CompareTab; 5] = [
        CompareTab::Layers,
        CompareTab::Config,
        CompareTab::Files,
        CompareTab::Packages,
        CompareTab::Export,
    ];

    /// From the `tab` key; a `path=` alone names a file, so the Files tab.
    pub(crate) fn parse(value: Option<&str>) -> CompareTab {
        CompareTab::ALL
            .into_iter()
            .find(|t| t.value() == value && value.is_some())
            .unwrap_or_default()
    }

    /// The `tab` value (`None` for the default).
    pub(crate) fn value(self) -> Option<&'static str> {
        match self {
            CompareTab::Layers => None,
            CompareTab::Config => Some("config"),
            CompareTab::Files => Some("files"),
            CompareTab::Packages => Some("packages"),
            CompareTab::Export => Some("export"),
        }
    }

    /// `data-tab`.
    pub(crate) fn id(self) -> &'static str {
        self.value().unwrap_or("layers")
    }

    /// The tab's title.
    pub(crate) fn label(self) -> &'static str {
        match self {
            CompareTab::Layers => "Layers",
            CompareTab::Config => "Config & history",
            CompareTab::Files => "Files",
            CompareTab::Packages => "Packages",
            CompareTab::Export => "Export",
        }
    }
}

/// `/compare?a=…&b=…[&pa=…&pb=…]`.
pub(crate) fn compare_href(a: &str, b: &str, pa: Option<&str>, pb: Option<&str>) -> String {
    UrlState::from_parts("/compare", "").with(&[
        (Key::SideA, Some(a)),
        (Key::PlatformA, pa),
        (Key::SideB, Some(b)),
        (Key::PlatformB, pb),
    ])
}

/// The CSS class and word of a keyed change.
pub(super) fn change_word(change: strata_shared::compare::Change) -> &'static str {
    use strata_shared::compare::Change;
    match change {
        Change::Added => "added",
        Change::Removed => "removed",
        Change::Changed => "changed",
        Change::Same => "same",
    }
}
