//! Arbitrary text as a topology file: a file is untrusted input like a
//! packet. Parsing either succeeds or names at least one place in the file,
//! always inside it (line 1 to the last line + 1), and never panics.
//!
//! `cargo fuzz run topology` (nightly and cargo-fuzz); `cargo check` works
//! on stable.

#![no_main]

use hybridlab_topology::TopologyError;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match hybridlab_topology::parse("fuzz.toml", text) {
        Ok(_) => {}
        Err(TopologyError::Invalid(diagnostics)) => {
            assert!(!diagnostics.is_empty(), "an error names what is wrong");
            let lines = text.lines().count() + 1;
            for d in &diagnostics {
                assert_eq!(d.file, "fuzz.toml");
                assert!(d.line >= 1 && d.line <= lines, "{d} is outside the file");
                assert!(d.column >= 1, "{d}");
            }
        }
        Err(TopologyError::Read { .. }) => unreachable!("parse reads no file"),
    }
});
