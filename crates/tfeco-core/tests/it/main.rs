//! Integration tests of `tfeco-core`: spec vectors, billing and leases, rejections, and a property test of
//! the whole state machine. Every command goes through [`harness::Harness`], which checks the invariants
//! after each command and that a rejection leaves the state hash unchanged.

mod billing;
mod harness;
mod properties;
mod rejections;
mod vectors;

/// Regression tests of bugs found and fixed in `src/`.
mod known_bugs;

/// Capacity requests, standing bids, farming pools and capacity search (issue 4).
mod capacity;
/// The in-wallet exchange through the state: batch settlement, anti-bot rules, expiry (issue 6).
mod exchange;
/// Guardian governance (attestations, oracle quorum, parameter and guardian-set changes).
mod governance;
/// Minting periods, uptime violations, guardian-signed reports, the supply cap and vesting.
mod minting_state;
/// Pool 2 conversions, farmer settlement in TFP, exit-pool positions, bids and rounds (issue 3).
mod pools_exit;
