//! [`CoreDriver`]: applies commands straight to a [`State`] with per-signer nonces (the core does not check
//! signatures at this level, so synthetic account keys do).

use std::collections::HashMap;

use tfeco_core::{AccountKey, Command, Envelope, Event, Genesis, Rejection, State};

use crate::{Result, SimError};

/// An in-process economy and the next nonce of every signer that used it.
pub struct CoreDriver {
    state: State,
    nonces: HashMap<AccountKey, u64>,
}

impl CoreDriver {
    /// A fresh state from `genesis`.
    pub fn new(genesis: Genesis) -> Self {
        CoreDriver { state: State::new(genesis), nonces: HashMap::new() }
    }

    /// Applies `command` signed by `signer` with its next nonce; returns the events. Errors:
    /// [`SimError::Rejected`] when the core refuses it (the nonce is still consumed: workloads are built
    /// to be valid, so a refusal ends the run).
    pub fn apply(&mut self, signer: AccountKey, command: Command) -> Result<Vec<Event>> {
        let nonce = self.nonces.entry(signer).or_insert(0);
        *nonce += 1;
        let envelope = Envelope { signer, nonce: *nonce, command };
        self.state
            .apply(&envelope)
            .map_err(|rejection| SimError::Rejected { command: envelope.command.kind(), rejection })
    }

    /// Applies `command` signed by `signer` with its next nonce, returning the core's refusal as a value
    /// (the economy simulator counts refusals; the nonce is consumed either way, which the core accepts:
    /// nonces need only increase).
    pub fn try_apply(&mut self, signer: AccountKey, command: Command) -> Result<Vec<Event>, Rejection> {
        let nonce = self.nonces.entry(signer).or_insert(0);
        *nonce += 1;
        let envelope = Envelope { signer, nonce: *nonce, command };
        self.state.apply(&envelope)
    }

    /// The state, to read.
    pub fn state(&self) -> &State {
        &self.state
    }
}

#[cfg(test)]
mod tests {
    use tfeco_core::Rejection;

    use super::*;
    use crate::keys::synthetic_account;

    #[test]
    fn nonces_follow_each_signer_and_a_refusal_is_typed() {
        let operator = synthetic_account(0, 0);
        let mut driver = CoreDriver::new(tfeco_core::Genesis::tfgrid4_2025(operator, 1_761_955_200));
        let (alice, bob) = (synthetic_account(1, 0), synthetic_account(1, 1));
        driver.apply(alice, Command::RegisterAccount {}).unwrap();
        driver.apply(bob, Command::RegisterAccount {}).unwrap();
        let error = driver.apply(alice, Command::RegisterAccount {}).unwrap_err();
        match error {
            SimError::Rejected { command, rejection } => {
                assert_eq!(command, "register_account");
                assert_ne!(rejection, Rejection::Overflow);
            }
            other => panic!("not a rejection: {other}"),
        }
        assert_eq!(driver.state().commands_applied(), 2);
    }
}
