//! The invariants of the whole state (spec `decisions.md` §1 and each slice's own): the ledger's conservation
//! per asset and non-negative balances, then the cross-slice equalities: `TFP supply == TFT in the vault`,
//! the global TFT supply under the cap, and every escrow account equal to what its slice says it holds.

use tfeco_money::Asset;

use super::State;
use crate::ids::{AccountRef, SystemAccount};

impl State {
    /// Checks every invariant; the first violation is described. Runs after every command in debug builds
    /// and tests, and after replay.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.ledger.check()?;
        let tfp_supply = self.ledger.supply(Asset::Tfp);
        let vault_tft = self.ledger.balance(AccountRef::System(SystemAccount::Vault), Asset::Tft);
        if tfp_supply != vault_tft {
            return Err(format!("TFP supply {tfp_supply} != TFT in the vault {vault_tft}"));
        }
        let global = self.global_tft_supply();
        if global > self.params().tft_supply_cap.units() {
            return Err(format!("global TFT supply {global} exceeds the cap"));
        }
        self.pool2.check()?;
        self.bridge.check(&self.ledger)?;
        self.capacity.check()?;
        self.capacity.check_meters(&self.farming_pools)?;
        let escrow = |system| self.ledger.balance(AccountRef::System(system), Asset::Cc);
        self.capacity.check_escrows(
            escrow(SystemAccount::EscrowStandingBids),
            escrow(SystemAccount::EscrowCapacityRequests),
        )?;
        self.exit_pool.check(&self.ledger)?;
        self.rewards.check(&self.ledger)?;
        self.exchange.check(self.params(), &self.ledger)
    }
}
