use leptos::prelude::*;

use crate::api::Verification;
use crate::format::short_digest;

/// Which digest an object was checked against, and the outcome.
#[component]
pub(crate) fn VerificationBadge(verification: Verification) -> impl IntoView {
    let expected = verification.expected.to_string();
    let title = format!(
        "{} checked against {} ({})",
        verification.object, expected, verification.source
    );
    match verification.outcome {
        Ok(()) => view! {
            <span class="badge ok" title=title data-verified=verification.object>
                "✓ " {verification.object} " verified · " <span class="mono">{short_digest(&expected)}</span>
            </span>
        }
        .into_any(),
        Err(e) => view! {
            <span class="badge bad" title=title data-verified-failed=verification.object>
                "✗ " {verification.object} ": " {e}
            </span>
        }
        .into_any(),
    }
}
