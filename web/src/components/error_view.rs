//! Why an image cannot be shown, said so that the user knows what to do next: a tag that
//! does not exist comes with the tags that do.

use leptos::prelude::*;
use strata_shared::Digest;

use crate::api::{self, ApiError};
use crate::endpoint::Endpoint;

/// Tags listed under a missing one.
const TAGS_SHOWN: usize = 20;
/// Tags asked of the registry (its first page).
const TAGS_ASKED: u32 = 1000;

/// A failure of the whole page.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PageFailure {
    /// What went wrong.
    pub message: String,
    /// Set when the reference's tag is not in the repository.
    pub missing_tag: Option<MissingTag>,
}

impl From<String> for PageFailure {
    fn from(message: String) -> Self {
        PageFailure {
            message,
            missing_tag: None,
        }
    }
}

/// A tag the repository lacks, and the tags it has.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MissingTag {
    /// The image's name (`registry/repository`, `oci:layout`).
    name: String,
    /// The tag asked for.
    tag: String,
    /// The nearest existing tags, at most [`TAGS_SHOWN`].
    tags: Vec<String>,
    /// How many more the repository has.
    more: usize,
}

/// The failure of loading `manifest_ref` from `endpoint`: when it is a tag the registry
/// does not know, the repository's tags are fetched to offer instead.
pub(crate) async fn explain(
    error: ApiError,
    endpoint: &Endpoint,
    manifest_ref: &str,
) -> PageFailure {
    let message = error.to_string();
    let by_tag = Digest::parse(manifest_ref).is_err();
    if !(by_tag && matches!(error, ApiError::NotFound { .. })) {
        return message.into();
    }
    // A repository that does not exist has no tags either: an empty list says so.
    let all = api::fetch_tags(endpoint, TAGS_ASKED)
        .await
        .unwrap_or_default();
    let more = all.len().saturating_sub(TAGS_SHOWN);
    PageFailure {
        message,
        missing_tag: Some(MissingTag {
            name: endpoint.name.clone(),
            tag: manifest_ref.to_owned(),
            tags: nearest_tags(manifest_ref, all, TAGS_SHOWN),
            more,
        }),
    }
}

/// The `n` tags nearest to `asked`: the longest shared beginning first (`1.27.9` → the
/// other `1.27.x`), the registry's order otherwise.
fn nearest_tags(asked: &str, mut tags: Vec<String>, n: usize) -> Vec<String> {
    let shared = |t: &str| {
        t.chars()
            .zip(asked.chars())
            .take_while(|(a, b)| a == b)
            .count()
    };
    tags.sort_by_key(|t| std::cmp::Reverse(shared(t)));
    tags.truncate(n);
    tags
}

/// A failure, said plainly, with what to try.
#[component]
pub(crate) fn ErrorView(failure: PageFailure) -> impl IntoView {
    let PageFailure {
        message,
        missing_tag,
    } = failure;
    view! {
        <section class="panel error-panel" role="alert">
            <h2>"Could not show this image"</h2>
            <p class="error" data-strata-error="page">{message}</p>
            {missing_tag.map(missing_tag_view)}
            <p class="hint">"Check the reference, or " <a href="/">"try another image"</a> "."</p>
        </section>
    }
}

fn missing_tag_view(missing: MissingTag) -> impl IntoView {
    let MissingTag {
        name,
        tag,
        tags,
        more,
    } = missing;
    let intro = format!("{name} has no tag {tag}. ");
    if tags.is_empty() {
        return view! {
            <div class="missing-tag" data-missing-tag=tag>
                <p>{intro} "It lists no tags at all: check the repository's name."</p>
            </div>
        }
        .into_any();
    }
    let links = tags
        .into_iter()
        .map(|t| {
            let href = format!("/image/{name}:{t}");
            let label = t.clone();
            view! { <li><a class="mono" href=href data-existing-tag=t>{label}</a></li> }
        })
        .collect_view();
    view! {
        <div class="missing-tag" data-missing-tag=tag>
            <p>{intro} "Tags that exist:"</p>
            <ul class="tag-list">{links}</ul>
            {(more > 0).then(|| view! { <p class="dim">"and " {more} " more"</p> })}
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn the_nearest_tags_come_first_and_only_n_of_them() {
        let tags = ["dev", "1.26.0", "1.27.0", "1.27.1", "latest"].map(String::from);
        assert_eq!(
            nearest_tags("1.27.9", tags.to_vec(), 3),
            ["1.27.0", "1.27.1", "1.26.0"]
        );
        assert_eq!(nearest_tags("x", tags.to_vec(), 20), tags);
    }
}
