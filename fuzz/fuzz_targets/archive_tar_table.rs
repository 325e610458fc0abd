//! The outer-tar member table, driven over the input as the archive file (reads past the
//! end come back short, as `File.slice` does): it never panics, always ends, and every
//! member it lists lies inside the file under a safe, unique path.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use strata_shared::archive::{safe_member_path, Step, TarTable};

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    let mut table = TarTable::new(len);
    let mut steps = 0usize;
    loop {
        match table.next() {
            Step::Done => break,
            Step::Read { offset, len: want } => {
                steps += 1;
                assert!(steps <= data.len() / 512 + 4, "no progress at step {steps}");
                let start = offset.min(len) as usize;
                let end = offset.saturating_add(want).min(len) as usize;
                if table.feed(&data[start..end]).is_err() {
                    return;
                }
            }
        }
    }
    let members = table.members();
    let mut seen = HashSet::new();
    for m in &members {
        assert!(
            m.offset.checked_add(m.size).is_some_and(|end| end <= len),
            "{m:?} past the end"
        );
        assert_eq!(
            safe_member_path(&m.path).as_deref().ok(),
            Some(m.path.as_str())
        );
        assert!(seen.insert(m.path.as_str()), "duplicate {}", m.path);
    }
});
