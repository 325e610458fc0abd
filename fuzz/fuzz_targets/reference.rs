//! Any reference the parsers accept prints to a string that parses back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_shared::reference::{self, Reference};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };

    // The grammar alone: Display gives back exactly the input, which re-parses.
    if let Ok(parsed) = reference::parse_strict(input) {
        let shown = parsed.to_string();
        assert_eq!(shown, input, "strict Display must reproduce the input");
        let again = reference::parse_strict(&shown).expect("strict Display must re-parse");
        assert_eq!(again, parsed);
    }

    // docker's normalization: the full form is stable under re-parsing, and the grammar
    // alone accepts it with the registry as its domain.
    if let Ok(normalized) = Reference::parse_normalized(input) {
        let shown = normalized.to_string();
        let again = Reference::parse_normalized(&shown)
            .unwrap_or_else(|e| panic!("{shown:?} from {input:?} must re-parse: {e}"));
        assert_eq!(again, normalized);
        let strict =
            reference::parse_strict(&shown).expect("normalized Display must match the grammar");
        assert_eq!(strict.domain.as_deref(), Some(normalized.registry.as_str()));
        assert_eq!(strict.path, normalized.repository);
        assert!(normalized.tag.is_some() || normalized.digest.is_some());
        // The familiar form may be ambiguous (docker's too), so only check it is total.
        let _ = normalized.familiar();
        let _ = normalized.manifest_reference();
        let _ = normalized.api_host();
    }
});
