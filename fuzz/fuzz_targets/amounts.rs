//! Fuzz target `amounts`: its body and what it asserts are `tfeco_fuzz::money::amounts`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tfeco_fuzz::money::amounts(data);
});
