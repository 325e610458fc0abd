//! Two images side by side, sans-I/O: pure functions over what a page already holds
//! (manifests, configs, merged trees, SBOMs), each cheap enough to call on every change
//! of a filter.
//!
//! - [`layers`]: which layer blobs the images share, and the pull cost of one given the
//!   other.
//! - [`config`]: env, entrypoint, cmd, user, workdir, ports, volumes, labels, and the
//!   history steps aligned by command.
//! - [`files`]: the merged trees diffed path by path, with filters; [`rollup`] sums the
//!   changes per directory.
//! - [`arch`]: executables whose ELF machine is not the platform's.
//! - [`contents`]: a modified file line by line, or as hex; [`align`] aligns sequences.
//! - [`packages`]: SBOM packages added, removed and changed in version.
//! - [`export`]: the whole comparison as JSON, the file list as CSV.

pub mod align;
pub mod arch;
pub mod config;
pub mod contents;
pub mod export;
pub mod files;
pub mod layers;
pub mod packages;
pub mod rollup;

/// How one keyed value (an env variable, a label, a package, …) differs from A to B.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only B has it.
    Added,
    /// Only A has it.
    Removed,
    /// Both have it, with different values.
    Changed,
    /// Both have it, equal.
    Same,
}

impl Change {
    /// The change from `a` to `b`, by equality.
    pub fn of<T: PartialEq + ?Sized>(a: Option<&T>, b: Option<&T>) -> Change {
        match (a, b) {
            (None, Some(_)) => Change::Added,
            (Some(_), None) => Change::Removed,
            (Some(a), Some(b)) if a != b => Change::Changed,
            _ => Change::Same,
        }
    }
}
