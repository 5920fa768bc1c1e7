//! Fuzz target `journal_record`: its body and what it asserts are `tfeco_fuzz::journal::journal_record`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tfeco_fuzz::journal::journal_record(data);
});
