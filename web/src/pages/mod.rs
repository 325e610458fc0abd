//! One file a route.
// Leptos' `#[component]` makes a `pub` props struct for every component, whatever the
// function's visibility; the lint stays on for the rest of the crate.
#![allow(unreachable_pub)]
mod compare;
mod home;
mod image;
mod not_found;
mod registry;
mod repository;

pub(crate) use compare::{ComparePage, ComputedDiff};
pub(crate) use home::HomePage;
pub(crate) use image::ImagePage;
pub(crate) use not_found::NotFound;
pub(crate) use registry::RegistryPage;
pub(crate) use repository::RepositoryPage;
