//! One file a route.
mod home;
mod image;
mod not_found;

pub(crate) use home::HomePage;
pub(crate) use image::{ImagePage, read_file};
pub(crate) use not_found::NotFound;
