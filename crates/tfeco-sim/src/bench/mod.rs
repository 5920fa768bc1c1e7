//! The benchmark workloads of `tfeco bench` and how they are measured (wall clock with `std::time::Instant`,
//! one run per figure, no criterion; see [`measure`]).
//!
//! - **foundation** ([`foundation`], [`workload`], [`http`]): `State::apply` of pre-built transfers on a
//!   state with 10,000 funded accounts; the signed journal corpus (registrations, deposits, transfers, each
//!   applied as it is built, so all valid on replay) that the binary appends to a journal and replays; the
//!   HTTP load against a node the binary started; ed25519 and JSON micro figures. The binary owns the journal
//!   and the server: it times the appends and the replay itself and hands the figures to
//!   [`foundation::FoundationRun::report`].
//! - **market** ([`market`]): the exit auction, capacity requests, minting and the exchange at scale, on
//!   in-process states.
//! - **sim** ([`sim`]): the economy simulator: one large run and 100 Monte Carlo runs, timed.
//!
//! Figures from a debug build are not meaningful (the core then checks every invariant after each command):
//! the reports say `"build": "debug"` and the workloads are shrunk.

pub mod foundation;
pub mod http;
pub mod market;
pub mod measure;
pub mod report;
pub mod scale;
pub mod sim;
pub mod workload;
