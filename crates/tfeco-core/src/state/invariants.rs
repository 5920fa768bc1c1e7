//! The invariants of the whole state (spec `decisions.md` §1 and each slice's own): the ledger's conservation
//! per asset and non-negative balances, then the cross-slice equalities: `TFP supply == TFT in the vault`,
//! the global TFT supply under the cap, and every escrow account equal to what its slice says it holds.
//!
//! When they run (issue 10, item 9):
//! - after **every** command, in every build: the ledger's per-asset conservation in O(1)
//!   ([`crate::ledger::Ledger::check_conservation`], running totals);
//! - after every command that closes a minting report, in every build: the full [`State::check_invariants`];
//! - after every command in debug builds and tests: the full check (a violation panics there);
//! - at the end of a replay (`tfeco-server`'s replica refuses to serve) and on `GET /v1/status` and
//!   `GET /v1/supply` (the server's views): the full check.
//!
//! A violation in any build is **fail-stop**, never a panic on a user's path: the command is answered with
//! [`Rejection::Halted`] (so the server does not journal it), the state remembers the reason
//! ([`State::halted`]), and every later command is refused with the same rejection. The command's effects
//! stay in memory; restarting the node replays the journal, which never recorded the violating command.

use tfeco_money::Asset;

use super::State;
use crate::command::Command;
use crate::event::Event;
use crate::ids::{AccountRef, SystemAccount};
use crate::rejection::Rejection;

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

impl State {
    /// Why the state stopped accepting commands (an invariant failed after a command), or `None`.
    pub fn halted(&self) -> Option<&str> {
        self.halted.as_deref()
    }

    /// The fail-stop checks after every command, in every build (module doc): conservation in O(1), and the
    /// full check when the command closed a minting report. On a violation the state halts and the command
    /// is answered with [`Rejection::Halted`].
    pub(super) fn fail_stop_checks(
        &mut self,
        command: &Command,
        receipt: Option<&[Event]>,
    ) -> Result<(), Rejection> {
        let mut violation = self.ledger.check_conservation().err().map(|e| e.to_string());
        let reported =
            receipt.is_some_and(|events| events.iter().any(|e| matches!(e, Event::MintReportClosed { .. })));
        if violation.is_none() && reported {
            violation = self.check_invariants().err();
        }
        let Some(violation) = violation else { return Ok(()) };
        let reason = format!("invariant violated after {}: {violation}", command.kind());
        self.halted = Some(reason.clone());
        Err(Rejection::Halted { reason })
    }
}

#[cfg(test)]
mod tests {
    use tfeco_money::Asset;

    use crate::command::{Command, Envelope};
    use crate::genesis::Genesis;
    use crate::ids::AccountKey;
    use crate::rejection::Rejection;
    use crate::state::State;

    fn register(state: &mut State, key: AccountKey) -> Result<crate::state::Receipt, Rejection> {
        state.apply(&Envelope { signer: key, nonce: 1, command: Command::RegisterAccount {} })
    }

    /// Issue 10 item 9: a conservation violation halts the state in every build (cfg-independent path):
    /// the command that revealed it is refused with `halted`, and so is every later one.
    #[test]
    fn a_broken_total_halts_the_state_and_refuses_every_later_command() {
        let strong =
            |n: u8| AccountKey(ed25519_dalek::SigningKey::from_bytes(&[n; 32]).verifying_key().to_bytes());
        let operator = strong(7);
        let mut state = State::new(Genesis::tfgrid4_2025(operator, 1_761_955_200));
        register(&mut state, strong(1)).expect("registered");
        assert_eq!(state.halted(), None);
        // A flow recorded with no balance behind it (the test-only corruption hook).
        state.ledger.corrupt_flows_for_test(Asset::Usdc, 3);
        let refused = register(&mut state, strong(2)).unwrap_err();
        let Rejection::Halted { reason } = &refused else { panic!("{refused:?}") };
        assert!(reason.contains("register_account") && reason.contains("USDC"), "{reason}");
        assert_eq!(state.halted(), Some(reason.as_str()));
        let again = register(&mut state, strong(3)).unwrap_err();
        assert_eq!(again, refused, "halted: every later command is refused");
        assert!(state.ledger.account(&strong(3)).is_none());
    }
}
