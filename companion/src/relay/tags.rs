//! `GET …/tags/list`: a [`PagedList`] of the repository's tags (`last` is a tag).

use axum::response::Response;

use super::paging::{PagedList, relay_page};
use crate::auth::Scope;
use crate::error::Error;
use crate::guard;
use crate::registry::Registry;
use crate::state::AppState;

/// The relay's largest `n`: registries cap it lower (Docker Hub at 1000; Distribution 3
/// at its `tags.maxpagesize`), and answer the rest.
const MAX_N: u32 = 10_000;

fn list(registry: &Registry, repository: &str) -> PagedList {
    PagedList {
        upstream: format!("/v2/{repository}/tags/list"),
        relay: format!("/api/registry/{}/v2/{repository}/tags/list", registry.name),
        max_n: MAX_N,
        check_last: guard::validate_tag,
    }
}

pub(super) async fn tags(
    state: &AppState,
    registry: &Registry,
    name: &str,
    query: Option<&str>,
) -> Result<Response, Error> {
    let repository = registry.repository(name);
    let list = list(registry, &repository);
    let query = list.query(query)?;
    relay_page(
        state,
        registry,
        &list,
        &query,
        Scope::Pull(&repository),
        "tag list",
    )
    .await
}
