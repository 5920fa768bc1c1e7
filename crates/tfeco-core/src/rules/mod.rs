//! Pure rules: functions of their inputs only, with no state, no I/O and no `Params` (callers pass the
//! numbers they need). The slices call them; analysts' tools (offline auction and batch clears, the income
//! calculator) call them directly.
//!
//! - [`oracle`]: submission checks, the effective price (median, quorum, clamp), exact TFT/CC/USD conversions.
//! - [`billing`]: the revenue split, hourly and period charges, custom-node bands, minimum specs.
//! - [`search`]: capacity search over nodes and the reasons a quantity cannot be had.
//! - [`exit_auction`]: the exit pool's uniform-price (Dutch) auction, position weights, margin redistribution.
//! - [`batch_auction`]: the exchange's frequent batch auction and order escrow.
//! - [`minting`]: v3 and capacity reward rules, uptime tracking, vesting, the supply cap.
//! - [`income`]: the farmer income and ROI calculator.

pub mod batch_auction;
pub mod billing;
pub mod exit_auction;
pub mod income;
pub mod minting;
pub mod oracle;
pub mod search;
