//! `tfeco-vopr`: a deterministic simulator of the node, after TigerBeetle's VOPR. The real core, the real
//! journal record and anchor code and the real apply/commit path of the server ([`tfeco_server::Replica`])
//! run in one thread on a simulated disk ([`disk`], [`journal`]) that crashes, loses power, tears writes,
//! flips bits and fails writes and syncs, driven by a seeded scheduler with simulated time and simulated
//! clients ([`clients`]), and checked after every batch against the invariants, the acknowledged history
//! and a reference model ([`model`]). A seed gives the same run, byte for byte ([`runner::run`]);
//! [`shrink`] finds a shorter reproduction of a failing seed. See `docs/testing.md`.

pub mod clients;
pub mod disk;
pub mod journal;
pub mod model;
pub mod rng;
pub mod runner;
pub mod script;
pub mod shrink;

pub use runner::{run, Config, Report};
