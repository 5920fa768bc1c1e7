//! One module per command group: parse its arguments, make the call (a typed method of
//! `tfeco_wallet::Client`, which owns the routes), render the typed answer (through `crate::render`). Groups
//! never use each other, except `wallet`, which hosts `exchange`, `exit_pool` and `pool2`, and `demo`, which
//! opens its node like `serve`.

pub(crate) mod admin;
/// The guardians' signatures of `admin`'s attestations and prices (a helper of `admin` only).
pub(crate) mod admin_quorum;
pub(crate) mod archive;
pub(crate) mod auction;
pub(crate) mod bench;
pub(crate) mod calc;
pub(crate) mod capacity;
pub(crate) mod checkpoints;
pub(crate) mod completions;
pub(crate) mod config;
pub(crate) mod demo;
mod demo_scenario;
pub(crate) mod exchange;
pub(crate) mod exchange_clear;
pub(crate) mod exit_pool;
pub(crate) mod farming_pool;
pub(crate) mod follow;
pub(crate) mod guardian;
pub(crate) mod mint;
pub(crate) mod node;
pub(crate) mod node_agent;
pub(crate) mod pool2;
pub(crate) mod repair;
pub(crate) mod serve;
pub(crate) mod sim;
pub(crate) mod status;
pub(crate) mod treasury;
pub(crate) mod wallet;
