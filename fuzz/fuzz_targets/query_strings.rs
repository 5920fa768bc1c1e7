//! Fuzz target `query_strings`: its body and what it asserts are `tfeco_fuzz::query::query_strings`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tfeco_fuzz::query::query_strings(data);
});
