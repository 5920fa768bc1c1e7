//! End-to-end and HTTP tests of the `tfeco` binary and node: crash durability under SIGKILL, replay
//! determinism against `tfeco verify`, refusals of bad input through the real HTTP API, journal failures,
//! the demo, the CLI wallet and operator commands, and Schemathesis against the API contract. Process tests run the real binary
//! (`CARGO_BIN_EXE_tfeco`) on loopback.

mod admin_cli;
mod checkpoints;
mod crash;
mod demo;
mod http_errors;
mod journal_faults;
mod readme;
mod replay;
mod schemathesis;
mod support;
mod typed_client;
mod wallet_cli;

/// Regression tests of bugs found in the server and the binary, and fixed.
mod known_bugs;
