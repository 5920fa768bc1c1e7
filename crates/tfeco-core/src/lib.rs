//! The deterministic economic core of TFGrid Economy: one state machine made of domain slices (governance,
//! oracle, bridge, entry and vault, Pool 2, farming pools, the capacity market, the exit pool, rewards, the
//! exchange) over one ledger, with the pure rules they apply kept apart.
//!
//! The core does no I/O, reads no clock and uses no randomness: time arrives as `Tick { now }`, prices as
//! oracle submissions, identities as signed envelopes. The same command log always gives the same
//! [`State::state_hash`]. Start reading at [`State::apply`] (`state/mod.rs`), then `state/tick.rs`.
//!
//! Layers, each importing only the ones above it: [`ids`], [`catalogue`] and [`types`] (vocabulary) →
//! [`rules`] (pure functions) → [`params`] → [`command`], [`event`], [`rejection`], [`genesis`],
//! [`request`] → [`ledger`] → [`slices`] (in their own order) → [`state`].
//!
//! Spec: `decisions.md` (copied rules are cited on each item).
//!
//! Lints: every public item is documented, and production code does no unchecked arithmetic (checked,
//! saturating or explicitly wrapping operations only; a money overflow is a typed `Overflow` rejection).

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

pub mod catalogue;
pub mod command;
pub mod event;
pub mod genesis;
pub mod ids;
pub mod ledger;
pub mod params;
pub mod rejection;
pub mod request;
pub mod rules;
pub mod slices;
pub mod state;
pub mod types;

pub use catalogue::{
    catalogue_q4_2025, parse_catalogue_csv, parse_gold_csv, NodeModel, Resources, CATALOGUE_Q4_2025_CSV,
    GOLD_MONTHLY_CSV,
};
pub use command::{Command, Envelope, COMMAND_INDEX, RETIRED_COMMANDS};
pub use event::{Event, Touches};
pub use genesis::{FormatError, Genesis, GENESIS_FORMAT};
pub use ids::{
    AccountKey, AccountRef, CapacityRequestId, ExitBidId, FarmId, FarmingPoolId, LeaseId, MarketId, NodeId,
    OrderId, ParamChangeId, PositionId, RoundId, StandingBidId, SystemAccount, WithdrawalId,
};
pub use params::{ParamUpdate, Params, RevenueSplit, SplitRecipient};
pub use rejection::{Rejection, RejectionCode};
pub use request::{RequestBody, SignedBody, PAYLOAD_FORMAT};
pub use state::{Receipt, SnapshotError, State, MAX_TIME, STATE_ENCODING_VERSION};
pub use types::{
    BidTier, Billing, CloseReason, MarketSpec, MembershipChange, Node, NodeSpec, PoolRules, PriceFeed,
    PricePolicy, Requirements, Role, SearchQuery, Settlement, Shortfall, Side, TreasuryDestination, Unmet,
    UptimeSample,
};
