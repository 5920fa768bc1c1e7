//! Every conversion from the core's state to the API's types, in one place: the handlers call these
//! functions under the replica's read lock, and nothing else in the server reads core internals
//! (accessors such as `state.capacity().nodes()` or `state.exit_pool()`), so a change of the core's
//! accessors is fixed here only.

pub mod calc;
pub mod capacity;
pub mod exchange;
pub mod exit_pool;
pub mod farming_pool;
pub mod governance;
pub mod ledger;
pub mod pool2;
pub mod rewards;
pub mod treasury;
