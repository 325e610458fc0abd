//! The `WWW-Authenticate` parser of the companion never panics, yields only well-formed
//! challenges, and reads back its own canonical rendering of them unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_companion::auth::challenge::{self, BearerChallenge, Challenge};

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// `Scheme token68, name="value", …` with `\` escapes: the form the parser documents.
fn render(challenges: &[Challenge]) -> String {
    let mut out = Vec::new();
    for c in challenges {
        let mut items = Vec::new();
        if let Some(t) = &c.token68 {
            items.push(t.clone());
        }
        for (name, value) in &c.params {
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
            items.push(format!("{name}=\"{escaped}\""));
        }
        if items.is_empty() {
            out.push(c.scheme.clone());
        } else {
            out.push(format!("{} {}", c.scheme, items.join(", ")));
        }
    }
    out.join(", ")
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = challenge::parse(input);
    for c in &parsed {
        assert!(
            !c.scheme.is_empty() && c.scheme.chars().all(is_tchar),
            "{c:?}"
        );
        for (name, _) in &c.params {
            assert!(!name.is_empty() && name.chars().all(is_tchar), "{c:?}");
            assert_eq!(name, &name.to_ascii_lowercase(), "{c:?}");
        }
    }
    if let Some(b) = BearerChallenge::find(&parsed) {
        assert!(!b.realm.is_empty());
        assert!(b.scope.as_ref().is_none_or(|s| !s.is_empty()));
    }
    let rendered = render(&parsed);
    assert_eq!(
        challenge::parse(&rendered),
        parsed,
        "{input:?} rendered as {rendered:?}"
    );
});
