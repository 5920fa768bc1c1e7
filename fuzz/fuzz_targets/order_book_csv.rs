//! Fuzz target `order_book_csv`: its body and what it asserts are `tfeco_fuzz::books::order_book_csv`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tfeco_fuzz::books::order_book_csv(data);
});
