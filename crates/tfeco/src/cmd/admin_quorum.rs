//! The guardians' part of `tfeco admin` (decisions §12): attested deposits and withdrawals need the guardian
//! threshold, oracle prices the oracle quorum. The operator signs when it is a guardian itself (a
//! single-key development node); a demo node keeps its guardians' keys in its data directory as a marked
//! development quorum (`dev-guardians.json`), and `admin` signs with each of them up to the number needed.
//! A production node has no such file: its guardians attest with `tfeco guardian ...`.

use std::path::Path;
use std::process::ExitCode;

use ed25519_dalek::SigningKey;
use tfeco_core::{Command, Params};
use tfeco_server::datadir::{load_dev_guardians, DEV_GUARDIANS_FILE};
use tfeco_wallet::api::tx::TxAccepted;
use tfeco_wallet::client::account_of;

use crate::connect::Session;
use crate::render;

/// The signatures a guardian command needs: the guardian threshold for attestations, the oracle quorum for
/// prices; `None` for a command the operator signs alone.
pub(crate) fn needed(params: &Params, command: &Command) -> Option<u32> {
    match command {
        Command::AttestDeposit { .. }
        | Command::AttestWithdrawal { .. }
        | Command::AttestExitPoolDeposit { .. }
        | Command::ApproveTreasuryTransfer { .. } => Some(params.guardian_threshold()),
        Command::SubmitPrice { .. } => Some(params.oracle_quorum()),
        _ => None,
    }
}

/// The keys this data directory holds that are guardians of the node: the operator first (when it is a
/// guardian), then the development guardians in their file's order; at most `needed`, each once.
pub(crate) fn signers(
    params: &Params,
    operator: &SigningKey,
    dev: Vec<SigningKey>,
    needed: u32,
) -> Vec<SigningKey> {
    let mut keys: Vec<SigningKey> = Vec::new();
    for key in std::iter::once(operator.clone()).chain(dev) {
        let account = account_of(&key);
        let known = keys.iter().any(|k| account_of(k) == account);
        if params.is_guardian(&account) && !known && keys.len() < needed as usize {
            keys.push(key);
        }
    }
    keys
}

/// Signs `command` with the guardians this data directory holds, up to the number `needed`, and submits it
/// once per signer; prints the last answer (the one that executes at the threshold). Without any guardian
/// key the command is refused before anything is signed (`not_authorized`, exit 3), saying who can sign.
pub(crate) async fn submit(
    session: &Session,
    data_dir: &Path,
    operator: &SigningKey,
    params: &Params,
    (command, needed): (Command, u32),
) -> anyhow::Result<ExitCode> {
    let dev = load_dev_guardians(data_dir)?;
    let keys = signers(params, operator, dev, needed);
    let total = params.guardians.len();
    if keys.is_empty() {
        let message = format!(
            "{} needs {needed} of the node's {total} guardians, and the operator is not one of them; {} holds no \
             development guardian keys ({DEV_GUARDIANS_FILE}, written by `tfeco demo`): ask the guardians to \
             sign it with `tfeco guardian ...`",
            command.kind(),
            data_dir.display()
        );
        return Ok(render::refuse(session.json, "not_authorized", &message));
    }
    let (last, rest) = keys.split_last().expect("at least one signer");
    for key in rest {
        if let Err(error) = session.client.submit_command_next(key, command.clone()).await {
            return Ok(render::call_error(session.json, &error));
        }
    }
    let signed = keys.len();
    let human = move |accepted: &TxAccepted| {
        let pending = if signed < needed as usize {
            format!(
                "; {} more guardian signatures needed (the other guardians sign with `tfeco guardian ...`)",
                needed as usize - signed
            )
        } else {
            String::new()
        };
        format!(
            "signed by {signed} of {total} guardians ({needed} needed){pending}\n{}",
            render::accepted(accepted)
        )
    };
    session.submit_as(last, command, human).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u8) -> SigningKey {
        SigningKey::from_bytes(&[i; 32])
    }

    #[test]
    fn the_operator_and_the_dev_guardians_sign_up_to_the_threshold() {
        let operator = key(1);
        let guardians: Vec<SigningKey> = (10..19).map(key).collect();
        let mut params = Params::tfgrid4_2025(account_of(&operator));
        params.guardians = guardians.iter().map(account_of).collect();
        let threshold = params.guardian_threshold();
        assert_eq!(threshold, 6, "ceil(2 x 9 / 3)");
        let chosen = signers(&params, &operator, guardians.clone(), threshold);
        assert_eq!(chosen.len(), 6, "the operator is no guardian here");
        assert!(chosen.iter().zip(&guardians).all(|(a, b)| a.to_bytes() == b.to_bytes()));
        assert!(signers(&params, &operator, Vec::new(), threshold).is_empty(), "no keys on disk");
        // A single-key development node: the operator is the only guardian.
        let single = Params::tfgrid4_2025(account_of(&operator));
        let chosen = signers(&single, &operator, guardians, single.guardian_threshold());
        assert_eq!(chosen.iter().map(account_of).collect::<Vec<_>>(), vec![account_of(&operator)]);
        let deposit = Command::Tick { now: 1 };
        assert_eq!(needed(&single, &deposit), None, "the operator ticks alone");
    }
}
