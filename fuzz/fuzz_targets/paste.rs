//! Whatever is pasted into the reference box, the paste reader never panics and returns a
//! reference with nothing around it to trim, which it reads back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_shared::paste;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let pasted = paste::extract(text);
    assert_eq!(
        pasted.reference.trim(),
        pasted.reference,
        "{text:?} gave an untrimmed reference"
    );
    // Lines are split before anything is read; only a percent-decoded link could bring a
    // line break back.
    if !text.contains('%') {
        assert!(
            !pasted.reference.contains('\n'),
            "{text:?} gave a reference over several lines"
        );
    }
    // What the box then parses is total, whatever the text held.
    let _ = strata_shared::source::ImageSource::parse(&pasted.reference);
});
