//! Fuzz target `keystore`: its body and what it asserts are `tfeco_fuzz::wallet::keystore`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tfeco_fuzz::wallet::keystore(data);
});
