//! Fuzz target `signed_request`: its body and what it asserts are `tfeco_fuzz::request::signed_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tfeco_fuzz::request::signed_request(data);
});
