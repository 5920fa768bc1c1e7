//! Repository automation. The tidy checks live in `tests/tidy.rs` and run with `cargo test`.
