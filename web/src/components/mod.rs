//! One file a component.
mod config_view;
mod error_view;
mod file_contents;
mod files_view;
mod history_view;
mod layers_table;
mod platforms;
mod provenance_view;
mod reference_form;
mod top_bar;
mod verification_badge;

pub(crate) use config_view::ConfigView;
pub(crate) use error_view::ErrorView;
pub(crate) use file_contents::FileContents;
pub(crate) use files_view::FilesView;
pub(crate) use history_view::HistoryView;
pub(crate) use layers_table::LayersTable;
pub(crate) use platforms::Platforms;
pub(crate) use provenance_view::ProvenanceView;
pub(crate) use reference_form::ReferenceForm;
pub(crate) use top_bar::TopBar;
pub(crate) use verification_badge::VerificationBadge;
