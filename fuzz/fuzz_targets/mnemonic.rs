//! Fuzz target `mnemonic`: its body and what it asserts are `tfeco_fuzz::wallet::mnemonic`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tfeco_fuzz::wallet::mnemonic(data);
});
