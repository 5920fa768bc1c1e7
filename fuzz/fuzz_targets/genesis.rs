//! Fuzz target `genesis`: its body and what it asserts are `tfeco_fuzz::journal::genesis`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tfeco_fuzz::journal::genesis(data);
});
