//! Fuzz target `anchor_file`: its body and what it asserts are `tfeco_fuzz::snapshot::anchor_file`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tfeco_fuzz::snapshot::anchor_file(data);
});
