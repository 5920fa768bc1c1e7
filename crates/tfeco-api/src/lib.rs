//! The HTTP contract of TFGrid Economy, shared by the node (`tfeco-server`) and every client
//! (`tfeco-wallet`, the CLI, tests): the request and response types of every route (serde), the query
//! parameters, one [`ErrorCode`] enum with the HTTP status of each code, the error body, and the OpenAPI
//! document generated from these types ([`openapi::document`], served at `/openapi.json`).
//!
//! One module per domain, named as the routes: [`ledger`] (status, supply, prices, catalogue, accounts),
//! [`capacity`] (farms, nodes, leases, search, standing bids, capacity requests), [`farming_pool`],
//! [`pool2`], [`treasury`], [`exit_pool`], [`governance`], [`rewards`] (minting, vesting, uptime), [`exchange`],
//! [`calc`], [`checkpoints`] (guardian checkpoints, the journal read), [`tx`] (signed requests) and [`signed_read`]. Paths are in [`paths`].
//!
//! JSON conventions: amounts are decimal strings with at most 7 decimals (`"12.5"`), prices decimal
//! strings (USD or quote per whole token), account keys 64 hex characters, times unix seconds.

pub mod calc;
pub mod capacity;
pub mod checkpoints;
pub mod error;
pub mod events;
pub mod exchange;
pub mod exit_pool;
pub mod farming_pool;
pub mod governance;
pub mod ledger;
pub mod openapi;
pub mod paths;
pub mod pool2;
pub mod rewards;
mod schema;
pub mod signed_read;
pub mod treasury;
pub mod tx;

pub use error::{ErrorBody, ErrorCode};
