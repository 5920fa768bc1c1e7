//! The domain slices, in dependency order. Each owns a private sub-state, is changed only through its own
//! functions, and receives explicit borrows of the ledger and of the lower slices it reads (a slice reads
//! only slices above it in this list); `state.rs` and `tick.rs` are the only places that see every slice.
//!
//! 1. [`governance`]: the parameters and guardian-approved changes of them (§12).
//! 2. [`oracle`]: guardians' price submissions (§3).
//! 3. [`bridge`]: attested deposits and withdrawals (§1, §2, §12).
//! 4. [`entry`]: Pool 1 entry with TFT or fiat, lock and unlock, the vault (§4).
//! 5. [`pool2`]: CC<->TFP conversions, settlement preferences, the revenue burn (§5-7).
//! 6. [`farming_pool`]: farming pools, their members and rules (§10).
//! 7. [`capacity`]: the capacity market: farms, nodes, prices, leases and billing, standing bids, capacity
//!    requests (§7, §9).
//! 8. [`exit_pool`]: positions, sealed exit bids and the round auctions (§8).
//! 9. [`rewards`]: node keys, uptime, minting reports, vesting (§11).
//! 10. [`exchange`]: the in-wallet frequent batch auction exchange (§13).

pub mod bridge;
pub mod capacity;
pub mod entry;
pub mod exchange;
pub mod exit_pool;
pub mod farming_pool;
pub mod governance;
pub mod oracle;
pub mod pool2;
pub mod rewards;

use crate::ids::AccountKey;
use crate::params::Params;
use crate::rejection::{Rejection, TextField};
use crate::types::Role;

/// What every slice function may read besides its own state and its explicit borrows: the parameters (owned
/// by the governance slice), the state's time (the last `Tick`) and the command's journaled time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Env<'a> {
    /// The parameters in force.
    pub(crate) params: &'a Params,
    /// The state's time, unix seconds: the last `Tick`. Time-driven work (billing, rounds, batches,
    /// minting periods) is due relative to it.
    pub(crate) now: i64,
    /// The command's journaled timestamp, unix seconds, `>= now` (decisions §2): the moment the node
    /// accepted the command. Checks that depend on when a command arrives (lock windows, expiries) use it.
    /// Equal to `now` for a `Tick` and for commands replayed from journal format 1.
    pub(crate) at: i64,
}

impl Env<'_> {
    /// `Ok` when `signer` holds `role`, else [`Rejection::NotAuthorized`].
    pub(crate) fn require(&self, signer: AccountKey, role: Role) -> Result<(), Rejection> {
        if self.params.has_role(&signer, role) {
            Ok(())
        } else {
            Err(Rejection::NotAuthorized { role })
        }
    }

    /// Checks a text field: not blank, at most `max_text_len` bytes, no control characters.
    pub(crate) fn check_text(&self, text: &str, field: TextField) -> Result<(), Rejection> {
        let max_len = self.params.max_text_len;
        if text.trim().is_empty() || text.len() > max_len as usize || text.chars().any(char::is_control) {
            return Err(Rejection::TextInvalid { field, max_len });
        }
        Ok(())
    }
}

/// Converts an unsigned amount of base units from a rule into `i128`, or [`Rejection::Overflow`].
pub(crate) fn to_units(units: u128) -> Result<i128, Rejection> {
    i128::try_from(units).map_err(|_| Rejection::Overflow)
}
