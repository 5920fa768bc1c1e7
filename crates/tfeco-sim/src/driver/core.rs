//! [`CoreDriver`]: applies commands straight to a [`State`] with per-signer nonces (the core does not check
//! signatures at this level, so synthetic account keys do).

use std::collections::HashMap;

use tfeco_core::{AccountKey, Command, Envelope, Event, Genesis, Rejection, State};

use crate::{Result, SimError};

/// An in-process economy and the next nonce of every signer that used it.
pub struct CoreDriver {
    state: State,
    nonces: HashMap<AccountKey, u64>,
    /// Every envelope applied and its outcome, when recording ([`CoreDriver::start_recording`]).
    log: Option<Vec<Recorded>>,
}

/// One command as the in-process core applied it: the envelope (signer, nonce, command) and the outcome,
/// so that the same commands can be played through a node and its answers compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The signer, the nonce used and the command.
    pub envelope: Envelope,
    /// The events, or the refusal's stable code (e.g. `cc_balance_low`).
    pub outcome: std::result::Result<Vec<Event>, String>,
}

impl CoreDriver {
    /// A fresh state from `genesis`.
    pub fn new(genesis: Genesis) -> Self {
        CoreDriver { state: State::new(genesis), nonces: HashMap::new(), log: None }
    }

    /// Keeps every envelope applied from now on, with its outcome ([`CoreDriver::take_log`]).
    pub fn start_recording(&mut self) {
        self.log.get_or_insert_with(Vec::new);
    }

    /// The envelopes recorded so far (empty when not recording); recording goes on.
    pub fn take_log(&mut self) -> Vec<Recorded> {
        self.log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Takes `signer`'s next nonce.
    fn next_nonce(&mut self, signer: AccountKey) -> u64 {
        let nonce = self.nonces.entry(signer).or_insert(0);
        *nonce += 1;
        *nonce
    }

    /// Applies `envelope` and records it when recording.
    fn apply_envelope(&mut self, envelope: Envelope) -> Result<Vec<Event>, Rejection> {
        let outcome = self.state.apply(&envelope);
        if let Some(log) = &mut self.log {
            let recorded = outcome.clone().map_err(|rejection| rejection.code().as_str().to_owned());
            log.push(Recorded { envelope, outcome: recorded });
        }
        outcome
    }

    /// Applies `command` signed by `signer` with its next nonce; returns the events. Errors:
    /// [`SimError::Rejected`] when the core refuses it (the nonce is still consumed: workloads are built
    /// to be valid, so a refusal ends the run).
    pub fn apply(&mut self, signer: AccountKey, command: Command) -> Result<Vec<Event>> {
        let (nonce, kind) = (self.next_nonce(signer), command.kind());
        let envelope = Envelope { signer, nonce, command };
        self.apply_envelope(envelope).map_err(|rejection| SimError::Rejected { command: kind, rejection })
    }

    /// Applies `command` signed by `signer` with its next nonce, returning the core's refusal as a value
    /// (the economy simulator counts refusals; the nonce is consumed either way, which the core accepts:
    /// nonces need only increase).
    pub fn try_apply(&mut self, signer: AccountKey, command: Command) -> Result<Vec<Event>, Rejection> {
        let nonce = self.next_nonce(signer);
        self.apply_envelope(Envelope { signer, nonce, command })
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
