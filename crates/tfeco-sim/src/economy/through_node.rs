//! A scenario played through a real node: the run is computed in process (the agents decide on the
//! in-process state), every command it applied is then signed with the agent's key and submitted, in the
//! same order and with the same nonce, to a node opened with the scenario's genesis on a manual clock; each
//! answer must be the in-process outcome (the same events, or a refusal with the same code), and the node's
//! final state hash must be the run's. So the node is driven by the simulator and checked against the core
//! at every command: a difference is a [`SimError::Check`] naming the command.
//!
//! The node must be fresh and opened with [`node_genesis`] (its operator and guardians are the scenario's
//! synthetic keys, whose seeds are public: [`crate::keys::synthetic_signing_key`]) and a manual clock (so
//! that commands are stamped with the node's time, as in process): `tfeco demo --scenario NAME` does both.

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use tfeco_core::{AccountKey, Genesis};
use tfeco_wallet::{CallError, Client};

use super::runner::{self, Progress, RunOutput};
use super::scenario::Scenario;
use crate::driver::Recorded;
use crate::keys::synthetic_signing_key;
use crate::{Result, SimError};

/// The roles of the synthetic keys (role byte 0..=7) searched for a recorded signer.
const ROLES: u8 = 8;

/// What a run through a node did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRun {
    /// The in-process run (its series and state hash).
    pub output: RunOutput,
    /// Commands the node accepted (each with the in-process events).
    pub accepted: u64,
    /// Commands the node refused (each with the in-process refusal's code).
    pub refused: u64,
    /// The node's state hash at the end: equal to `output.state_hash`.
    pub node_state_hash: String,
}

/// The genesis a node must be opened with to play `scenario` ([`play`]). Errors: the scenario's invalid
/// overrides ([`SimError::Scenario`]).
pub fn node_genesis(scenario: &Scenario) -> Result<Genesis> {
    super::agents::genesis_of(scenario)
}

/// The operator's signing key of `scenario`'s economy (it signs the `Tick`s; public seed).
pub fn operator_key() -> SigningKey {
    synthetic_signing_key(super::agents::role::OPERATOR, 0)
}

/// Runs `scenario` with `seed` in process, then plays its commands through the node at `url` and checks
/// every answer and the final state hash. `progress` gets the in-process months, then `played` counts.
/// Errors: [`SimError::Node`] (unreachable node), [`SimError::Check`] (a node not at the scenario's genesis,
/// or an answer that differs from the core's), the run's own errors.
pub async fn play(
    url: &str,
    scenario: &Scenario,
    seed: u64,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<NodeRun> {
    let (output, log) = runner::run_recorded(scenario, seed, progress)?;
    let client = Client::new(url);
    let status = client.status().await?;
    let operator = AccountKey(operator_key().verifying_key().to_bytes());
    crate::error::check!(
        status.seq == 0 && status.operator == operator,
        "the node at {url} is not a fresh node of this scenario (journal head {}, operator {}): open one with \
         `tfeco demo --scenario {} --no-play`",
        status.seq,
        status.operator,
        scenario.name
    );
    let keys = signing_keys(&log);
    let (mut accepted, mut refused) = (0, 0);
    for (index, recorded) in log.iter().enumerate() {
        if submit_and_compare(&client, &keys, index, recorded).await? {
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    let node_state_hash = client.status().await?.state_hash;
    crate::error::check!(
        node_state_hash == output.state_hash,
        "after {} commands the node's state hash {node_state_hash} differs from the core's {}",
        log.len(),
        output.state_hash
    );
    Ok(NodeRun { output, accepted, refused, node_state_hash })
}

/// Submits one recorded command with its nonce; `true` when accepted. Errors: the node's answer differs.
async fn submit_and_compare(
    client: &Client,
    keys: &BTreeMap<AccountKey, SigningKey>,
    index: usize,
    recorded: &Recorded,
) -> Result<bool> {
    let envelope = &recorded.envelope;
    let kind = envelope.command.kind();
    let key = keys.get(&envelope.signer).ok_or_else(|| {
        SimError::Check(format!(
            "command {index} ({kind}): its signer is not a synthetic key of the scenario"
        ))
    })?;
    let answer = client.submit_command(key, envelope.nonce, envelope.command.clone()).await;
    let differs = |got: String| {
        SimError::Check(format!(
            "command {index} ({kind}): the node answered {got}, the core {:?}",
            recorded.outcome
        ))
    };
    match (answer, &recorded.outcome) {
        (Ok(accepted), Ok(events)) if accepted.events == *events => Ok(true),
        (Ok(accepted), _) => Err(differs(format!("accepted with {:?}", accepted.events))),
        (Err(CallError::Refused { error, .. }), Err(code)) if error.code.as_str() == code => Ok(false),
        (Err(CallError::Refused { error, .. }), _) => {
            Err(differs(format!("refused {}", error.code.as_str())))
        }
        (Err(error), _) => Err(SimError::Node(error)),
    }
}

/// The signing key of every signer of `log`: synthetic keys are numbered from 0 per role, so a signer's
/// index is below the number of distinct signers (plus a margin for ids that start above 0).
fn signing_keys(log: &[Recorded]) -> BTreeMap<AccountKey, SigningKey> {
    let mut wanted: BTreeMap<AccountKey, Option<SigningKey>> =
        log.iter().map(|r| (r.envelope.signer, None)).collect();
    let bound = wanted.len() as u64 + 64;
    for role in 0..ROLES {
        for index in 0..bound {
            let key = synthetic_signing_key(role, index);
            if let Some(slot) = wanted.get_mut(&AccountKey(key.verifying_key().to_bytes())) {
                *slot = Some(key);
            }
        }
    }
    wanted.into_iter().filter_map(|(account, key)| Some((account, key?))).collect()
}
