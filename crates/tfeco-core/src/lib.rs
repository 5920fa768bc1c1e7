//! The deterministic economic core of TFGrid Economy: the ledger, oracle, entry pool and vault,
//! marketplace and billing, as one state machine.
//!
//! The core does no I/O, reads no clock and uses no randomness: time arrives as `Tick { now }`, prices as
//! oracle submissions, identities as signed envelopes. The same command log always gives the same
//! [`State::state_hash`]. Start reading at [`State::apply`].
//!
//! Spec: `decisions.md` §1-4, §7, §9, §14, §15 (copied rules are cited on each item).

pub mod auction;
pub mod billing;
pub mod capacity;
pub mod catalogue;
pub mod command;
pub mod event;
pub mod exchange;
pub mod exit;
pub mod farming;
pub mod governance;
pub mod ids;
pub mod ledger;
pub mod market;
pub mod minting;
pub mod oracle;
pub mod params;
pub mod pools;
pub mod rejection;
pub mod rewards;
pub mod roi;
pub mod state;
pub mod trading;

pub use catalogue::{parse_catalogue_csv, parse_gold_csv, NodeModel, Resources};
pub use command::{Billing, Command, Envelope, NodeSpec, PriceFeed, RequestBody};
pub use event::{CloseReason, Event};
pub use ids::{AccountKey, AccountRef, FarmId, LeaseId, NodeId, SystemAccount, WithdrawalId};
pub use params::{Params, RevenueSplit, SplitRecipient};
pub use rejection::Rejection;
pub use state::{Genesis, Receipt, State};
