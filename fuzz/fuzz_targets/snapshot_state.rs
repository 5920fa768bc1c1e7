//! Fuzz target `snapshot_state`: its body and what it asserts are `tfeco_fuzz::snapshot::snapshot_state`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tfeco_fuzz::snapshot::snapshot_state(data);
});
