//! `GET …/_catalog`: a [`PagedList`] of the registry's repositories (`last` is a
//! repository name), asked with the token scope `registry:catalog:*` — the one route that
//! asks for more than `pull` of one repository, and only for this. Many registries refuse
//! (Docker Hub answers 401 `UNAUTHORIZED`, others 404 `UNSUPPORTED`): the answer passes
//! through as it is.

use axum::response::Response;

use super::paging::{PagedList, relay_page};
use crate::auth::Scope;
use crate::error::Error;
use crate::guard;
use crate::registry::Registry;
use crate::state::AppState;

/// The relay's largest `n` (Distribution's default `catalog.maxentries` is 1000).
const MAX_N: u32 = 1000;

fn list(registry: &Registry) -> PagedList {
    PagedList {
        upstream: "/v2/_catalog".to_owned(),
        relay: format!("/api/registry/{}/v2/_catalog", registry.name),
        max_n: MAX_N,
        check_last: guard::validate_name,
    }
}

pub(super) async fn catalog(
    state: &AppState,
    registry: &Registry,
    query: Option<&str>,
) -> Result<Response, Error> {
    let list = list(registry);
    let query = list.query(query)?;
    relay_page(state, registry, &list, &query, Scope::Catalog, "catalog").await
}
