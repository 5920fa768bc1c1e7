//! Fuzz target `journal_stream`: its body and what it asserts are `tfeco_fuzz::journal::journal_stream`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tfeco_fuzz::journal::journal_stream(data);
});
