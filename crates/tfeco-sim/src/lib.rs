//! Seeded scenarios of the TFGrid economy, played through the real core or the real HTTP API.
//!
//! The crate is shaped as **scenario + agents + driver**, so that the economy simulator can grow from it:
//!
//! - a *scenario* fixes the world (the core's catalogue and default genesis, the latest gold price of
//!   [`data`], a seed, a length) and the order in which agents act ([`demo`]: one month of the grid;
//!   [`bench`]: the workloads of `tfeco bench`);
//! - *agents* (operator, guardians, farmers, nodes, users, traders) decide what to do from what they observe
//!   and produce [`tfeco_core::Command`]s; their keys come from fixed seeds ([`keys`]) and their choices from
//!   a seeded generator ([`rng`]), so the same seed gives the same run;
//! - a *driver* submits the commands: [`driver::HttpDriver`] signs them and posts them to a running node
//!   (the demo, the HTTP load); [`driver::CoreDriver`] applies them to an in-process [`tfeco_core::State`]
//!   (the core benchmarks).
//!
//! The crate never starts a node and does not depend on the server or the journal: the binary opens the data
//! directory, starts the server and hands this crate its URL, and measures the journal and replay itself with
//! the workloads built here (see `tfeco bench`). Libraries do not print: long runs report progress through a
//! callback and return their reports as values and text.

#![warn(missing_docs)]

pub mod bench;
pub mod data;
pub mod demo;
pub mod driver;
pub mod economy;
mod error;
pub mod keys;
pub mod rng;

pub use error::{Result, SimError};
