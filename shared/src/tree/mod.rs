//! The merged image tree and the views over it, sans-I/O.
//!
//! [`TreeBuilder`] applies indexed layers in order (whiteouts, opaque dirs) into a
//! [`MergedTree`] that keeps each path's origin (every layer that added, modified or
//! removed it) and per-layer statistics. [`explore`] cuts it into the explorer's rows,
//! [`Pattern`] matches searches, [`resolve_link`] follows symlinks inside the image and
//! [`export`] writes rows as CSV or JSON,
//! and [`wasted_files`] lists the paths whose data never reaches the final image. The page only renders what these return.

pub mod explore;
pub mod export;
mod glob;
mod layer_apply;
mod link;
mod merge;
mod node;
#[cfg(test)]
pub(crate) mod test_tar;
mod wasted;

pub use glob::Pattern;
pub use layer_apply::LayerApplication;
pub use link::resolve_link;
pub use merge::{MergedTree, TreeBuilder};
pub use node::{Change, ChangeKind, CountBytes, LayerStats, Modified, TreeNode, Wasted};
pub use wasted::{WastedPath, wasted_files};
