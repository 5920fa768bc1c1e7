//! Repository automation. The tidy checks live in `tests/tidy.rs` and run with `cargo test`; the structural
//! ones (function length, module cycles) are built here and also printed by the `xtask` binary
//! (`cargo run -p xtask -- long-functions`, `cargo run -p xtask -- cycles`).

pub mod cycles;
pub mod long_functions;
pub mod source;
