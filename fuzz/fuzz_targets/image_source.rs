//! Any image source the parser accepts (`oci:`, `docker-daemon:` or a registry reference)
//! prints to a string that parses back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_shared::source::{DaemonImage, ImageSource};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(source) = ImageSource::parse(input) else {
        return;
    };
    let shown = source.to_string();
    let again = ImageSource::parse(&shown)
        .unwrap_or_else(|e| panic!("{shown:?} from {input:?} must re-parse: {e}"));
    assert_eq!(again, source, "{shown:?} from {input:?}");
    let _ = source.is_local();
    if let ImageSource::Daemon(image) = &source {
        let _ = image.engine_name();
        if let DaemonImage::Id(id) = image {
            assert_eq!(image.pinned_id(), Some(id));
        }
    }
});
