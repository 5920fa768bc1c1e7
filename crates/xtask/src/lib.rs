//! Repository automation. The tidy checks live in `tests/tidy.rs` and run with `cargo test`; the parsed view
//! of the production sources they share is built here.

pub mod source;
