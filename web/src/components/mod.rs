//! One file a component.
// Leptos' `#[component]` makes a `pub` props struct for every component, whatever the
// function's visibility; the lint stays on for the rest of the crate.
#![allow(unreachable_pub)]
mod archive_checks;
pub(crate) mod compare;
mod config_view;
mod distribution_facts;
mod error_view;
mod file_contents;
mod files;
mod history_view;
mod json_view;
mod layers_table;
mod open_image;
mod platforms;
mod provenance_view;
mod reference_form;
mod share_view;
mod top_bar;
mod verification_badge;

pub(crate) use archive_checks::ArchiveChecks;
pub(crate) use compare::CompareWith;
pub(crate) use config_view::ConfigView;
pub(crate) use distribution_facts::DistributionFacts;
pub(crate) use error_view::{ErrorView, PageFailure, explain as explain_failure};
pub(crate) use file_contents::FileContents;
pub(crate) use files::FilesView;
pub(crate) use history_view::HistoryView;
pub(crate) use json_view::{DigestLinks, JsonDocument};
pub(crate) use layers_table::LayersTable;
pub(crate) use open_image::OpenImage;
pub(crate) use platforms::{PlatformSwitch, Platforms};
pub(crate) use provenance_view::ProvenanceView;
pub(crate) use reference_form::ReferenceForm;
pub(crate) use share_view::{CopyButton, ShareView};
pub(crate) use top_bar::TopBar;
pub(crate) use verification_badge::VerificationBadge;
