//! End-to-end and HTTP tests of the `tfeco` binary and node: crash durability under SIGKILL, replay
//! determinism against `tfeco verify`, refusals of bad input through the real HTTP API, journal failures,
//! the demo, the CLI wallet and operator commands, client profiles and completions, the API documentation's
//! examples and the Python client, Schemathesis against the API contract, and the
//! journal's resistance to damage (damaged copies, crashes at many points, a full disk, read-only verify), snapshots and archives.
//! The web app runs in a real browser (`browser`). Process tests run the real binary (`CARGO_BIN_EXE_tfeco`) on loopback.

mod admin_cli;
mod api_docs;
mod bench_compare;
mod bench_scale;
mod browser;
mod checkpoints;
mod config;
mod crash;
mod crash_points;
mod damage;
mod damage_kit;
mod demo;
mod disk_full;
mod events;
mod failover;
mod follow;
mod http_errors;
mod journal_faults;
mod metrics;
mod postgres;
mod python_client;
mod readme;
mod repair;
mod replay;
mod schemathesis;
mod sim;
mod sim_node;
mod snapshots;
mod support;
mod typed_client;
mod verify_readonly;
mod wallet_cli;

/// Regression tests of bugs found in the server and the binary, and fixed.
mod known_bugs;
