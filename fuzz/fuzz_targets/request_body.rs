//! Fuzz target `request_body`: its body and what it asserts are `tfeco_fuzz::request::request_body`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tfeco_fuzz::request::request_body(data);
});
