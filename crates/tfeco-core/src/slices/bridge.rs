//! The bridge (spec `decisions.md` §1, §2, §12): external deposits and withdrawals of TFT and USDC, attested
//! by guardians. Attestations are collected per external transaction id and execute at the guardian
//! threshold; the same id with other facts is refused, the same facts again are idempotent. A withdrawal is
//! two steps: the user's request escrows the funds in `escrow.withdrawals`, the attestation takes them out.
//!
//! The exit pool's USDC is funded here too (spec §8): guardian-attested deposits whose destination is
//! `exit_pool.usdc` itself (same attestation, same external-id namespace), and guardian-approved transfers
//! of the treasury's USDC, collected per `transfer_ref` in a namespace of their own. Running totals of both
//! feed the treasury report.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, AnyAsset, Asset, Usdc};

use crate::event::Event;
use crate::ids::{AccountKey, AccountRef, SystemAccount, WithdrawalId};
use crate::ledger::{Inflow, Ledger, Outflow, Posting, Slot};
use crate::rejection::{Rejection, TextField};
use crate::slices::Env;
use crate::types::{Role, TreasuryDestination};

/// An external attestation being collected (deposit or withdrawal), keyed by external transaction id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// What is attested.
    pub fact: AttestedFact,
    /// Attestors that signed.
    pub signers: Vec<AccountKey>,
    /// Executed once the threshold was reached.
    pub executed: bool,
}

/// The facts an attestation confirms; every attestor must agree on them exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttestedFact {
    /// External funds arrived for `to`.
    Deposit {
        /// Credited account.
        to: AccountKey,
        /// Asset and amount.
        asset: Asset,
        /// Base units.
        units: i128,
    },
    /// A requested withdrawal was paid out.
    Withdrawal {
        /// The request.
        withdrawal_id: WithdrawalId,
    },
    /// External USDC arrived for the exit pool itself (spec §8).
    ExitPoolDeposit {
        /// USDC base units.
        units: i128,
    },
    /// Treasury USDC to move to a destination (spec §8, §12); collected per `transfer_ref`.
    TreasuryTransfer {
        /// The destination.
        to: TreasuryDestination,
        /// USDC base units.
        units: i128,
    },
}

/// A withdrawal request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    /// Id.
    pub id: WithdrawalId,
    /// Requesting account.
    pub owner: AccountKey,
    /// TFT or USDC.
    pub asset: Asset,
    /// Base units escrowed.
    pub units: i128,
    /// External address.
    pub destination: String,
    /// External transaction id once paid out.
    pub paid_by: Option<String>,
}

/// Attestations, withdrawal requests, treasury-transfer approvals and the exit pool's funding totals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bridge {
    attestations: BTreeMap<String, Attestation>,
    withdrawals: BTreeMap<WithdrawalId, Withdrawal>,
    treasury_transfers: BTreeMap<String, Attestation>,
    exit_pool_deposited: Amount<Usdc>,
    treasury_transferred: Amount<Usdc>,
}

/// What recording one attestation led to.
enum Recorded {
    /// Nothing more to do: these events are the answer (already applied, or below the threshold).
    Done(Vec<Event>),
    /// The threshold is reached with this signature: execute now.
    Execute,
}

/// Where one more signature of a subject (an attestation or an approval) stands. Computed without changing
/// anything, so that a rejection found while executing still changes nothing.
enum Tally {
    /// The subject already executed: the repeat is idempotent.
    Applied,
    /// Recorded, below the threshold: the count with this signature.
    Below(u32),
    /// The threshold is reached with this signature.
    Reached,
}

/// Counts `signer`'s signature of `fact` under `id` in `book`: the same id with other facts is a conflict, a
/// second signature of one guardian a duplicate. Only current guardians count (a guardian removed since its
/// signature no longer does).
fn tally(
    book: &BTreeMap<String, Attestation>,
    env: &Env<'_>,
    signer: AccountKey,
    id: &str,
    fact: &AttestedFact,
) -> Result<Tally, Rejection> {
    let counted = match book.get(id) {
        None => 0,
        Some(existing) => {
            if existing.fact != *fact {
                return Err(Rejection::AttestationConflict { id: id.to_owned() });
            }
            if existing.executed {
                return Ok(Tally::Applied);
            }
            if existing.signers.contains(&signer) {
                return Err(Rejection::DuplicateSignature);
            }
            existing.signers.iter().filter(|k| env.params.has_role(k, Role::Guardian)).count()
        }
    };
    let count = u32::try_from(counted).unwrap_or(u32::MAX).saturating_add(1);
    Ok(if count < env.params.guardian_threshold() { Tally::Below(count) } else { Tally::Reached })
}

/// Adds `signer`'s signature of `fact` under `id` to `book`, marking it executed when asked.
fn sign(
    book: &mut BTreeMap<String, Attestation>,
    signer: AccountKey,
    id: &str,
    fact: AttestedFact,
    executed: bool,
) {
    let entry =
        book.entry(id.to_owned()).or_insert(Attestation { fact, signers: Vec::new(), executed: false });
    entry.signers.push(signer);
    entry.executed |= executed;
}

/// Only TFT and USDC cross the bridge.
fn external_asset(asset: Asset) -> Result<(), Rejection> {
    match asset {
        Asset::Tft | Asset::Usdc => Ok(()),
        Asset::Tfp | Asset::Cc => Err(Rejection::AssetNotAllowed { asset }),
    }
}

impl Bridge {
    /// Withdrawal requests by id.
    pub fn withdrawals(&self) -> &BTreeMap<WithdrawalId, Withdrawal> {
        &self.withdrawals
    }

    /// Attestations by external transaction id.
    pub fn attestations(&self) -> &BTreeMap<String, Attestation> {
        &self.attestations
    }

    /// `AttestDeposit`: a guardian attests external funds for `to`; credits them at the threshold.
    pub(crate) fn attest_deposit(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        signer: AccountKey,
        deposit: (Asset, AccountKey, Amount<AnyAsset>),
        external_tx_id: &str,
    ) -> Result<Vec<Event>, Rejection> {
        let (asset, to, amount) = deposit;
        env.require(signer, Role::Guardian)?;
        external_asset(asset)?;
        if !amount.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let slot = ledger.user_slot(&to)?;
        let plan = [Posting::Mint { asset, to: slot, units: amount.units(), inflow: Inflow::Deposit }];
        // Validate the postings before recording anything, so a rejection changes nothing.
        ledger.validate(&plan)?;
        let fact = AttestedFact::Deposit { to, asset, units: amount.units() };
        if let Recorded::Done(events) = self.record(env, signer, external_tx_id, fact.clone())? {
            return Ok(events);
        }
        self.mark_executed(signer, external_tx_id, fact);
        ledger.commit(&plan);
        Ok(vec![Event::Deposited {
            to: AccountRef::User(to),
            amount: amount.with_asset(asset),
            external_tx_id: external_tx_id.to_owned(),
        }])
    }

    /// `RequestWithdrawal`: escrows the funds until a guardian attests the external payout.
    pub(crate) fn request_withdrawal(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        owner: AccountKey,
        (asset, amount): (Asset, Amount<AnyAsset>),
        destination: &str,
    ) -> Result<Vec<Event>, Rejection> {
        external_asset(asset)?;
        if !amount.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        env.check_text(destination, TextField::Destination)?;
        let from = ledger.user_slot(&owner)?;
        let to = Slot::System(SystemAccount::EscrowWithdrawals);
        ledger.apply(&[Posting::Transfer { asset, from, to, units: amount.units(), revenue: false }])?;
        let next = u64::try_from(self.withdrawals.len()).map_err(|_| Rejection::Overflow)?;
        let id = WithdrawalId(next.saturating_add(1));
        let withdrawal = Withdrawal {
            id,
            owner,
            asset,
            units: amount.units(),
            destination: destination.to_owned(),
            paid_by: None,
        };
        self.withdrawals.insert(id, withdrawal);
        Ok(vec![Event::WithdrawalRequested { withdrawal_id: id, amount: amount.with_asset(asset) }])
    }

    /// `AttestWithdrawal`: a guardian attests that a requested withdrawal was paid out; at the threshold the
    /// escrowed funds leave the system.
    pub(crate) fn attest_withdrawal(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        signer: AccountKey,
        withdrawal_id: WithdrawalId,
        external_tx_id: &str,
    ) -> Result<Vec<Event>, Rejection> {
        env.require(signer, Role::Guardian)?;
        let withdrawal = self.withdrawals.get(&withdrawal_id).ok_or(Rejection::WithdrawalNotFound)?;
        if withdrawal.paid_by.as_deref().is_some_and(|paid_by| paid_by != external_tx_id) {
            return Err(Rejection::AttestationConflict { id: external_tx_id.to_owned() });
        }
        let (asset, units) = (withdrawal.asset, withdrawal.units);
        let from = Slot::System(SystemAccount::EscrowWithdrawals);
        let plan = [Posting::Burn { asset, from, units, outflow: Outflow::Withdrawal }];
        let fact = AttestedFact::Withdrawal { withdrawal_id };
        if let Recorded::Done(events) = self.record(env, signer, external_tx_id, fact.clone())? {
            return Ok(events);
        }
        ledger.validate(&plan).expect("the escrow holds every pending withdrawal");
        self.mark_executed(signer, external_tx_id, fact);
        ledger.commit(&plan);
        if let Some(withdrawal) = self.withdrawals.get_mut(&withdrawal_id) {
            withdrawal.paid_by = Some(external_tx_id.to_owned());
        }
        Ok(vec![Event::Withdrawn {
            withdrawal_id,
            amount: Amount::<AnyAsset>::from_units(units).with_asset(asset),
            external_tx_id: external_tx_id.to_owned(),
        }])
    }

    /// USDC that entered the exit pool by attested deposits (spec §8), all time.
    pub fn exit_pool_deposited(&self) -> Amount<Usdc> {
        self.exit_pool_deposited
    }

    /// USDC moved from the treasury to the exit pool by guardian-approved transfers (spec §8), all time.
    pub fn treasury_transferred(&self) -> Amount<Usdc> {
        self.treasury_transferred
    }

    /// Treasury-transfer approvals by `transfer_ref` (executed ones included).
    pub fn treasury_transfers(&self) -> &BTreeMap<String, Attestation> {
        &self.treasury_transfers
    }

    /// `AttestExitPoolDeposit`: a guardian attests external USDC for the exit pool itself (spec §8); at the
    /// threshold the USDC enters the system into `exit_pool.usdc`. Same rules as [`Bridge::attest_deposit`].
    pub(crate) fn attest_exit_pool_deposit(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        signer: AccountKey,
        usdc: Amount<Usdc>,
        external_tx_id: &str,
    ) -> Result<Vec<Event>, Rejection> {
        env.require(signer, Role::Guardian)?;
        if !usdc.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let to = Slot::System(SystemAccount::ExitPoolUsdc);
        let plan = [Posting::Mint { asset: Asset::Usdc, to, units: usdc.units(), inflow: Inflow::Deposit }];
        ledger.validate(&plan)?;
        let total = self.exit_pool_deposited.checked_add(usdc).ok_or(Rejection::Overflow)?;
        let fact = AttestedFact::ExitPoolDeposit { units: usdc.units() };
        if let Recorded::Done(events) = self.record(env, signer, external_tx_id, fact.clone())? {
            return Ok(events);
        }
        self.mark_executed(signer, external_tx_id, fact);
        ledger.commit(&plan);
        self.exit_pool_deposited = total;
        Ok(vec![Event::Deposited {
            to: AccountRef::System(SystemAccount::ExitPoolUsdc),
            amount: usdc.erase(),
            external_tx_id: external_tx_id.to_owned(),
        }])
    }

    /// `ApproveTreasuryTransfer`: a guardian approves moving `usdc` of the treasury's USDC to `to` (spec §8,
    /// §12). Every guardian approves the identical facts under `transfer_ref`; the approval that reaches the
    /// threshold moves the USDC, or is refused with [`Rejection::BalanceLow`] (nothing recorded) while the
    /// treasury lacks it. Idempotent by `transfer_ref`; other facts under a used reference are a conflict.
    pub(crate) fn approve_treasury_transfer(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        signer: AccountKey,
        (usdc, to): (Amount<Usdc>, TreasuryDestination),
        transfer_ref: &str,
    ) -> Result<Vec<Event>, Rejection> {
        env.require(signer, Role::Guardian)?;
        if !usdc.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        env.check_text(transfer_ref, TextField::TransferRef)?;
        let fact = AttestedFact::TreasuryTransfer { to, units: usdc.units() };
        match tally(&self.treasury_transfers, env, signer, transfer_ref, &fact)? {
            Tally::Applied => return Ok(vec![Event::AlreadyApplied { id: transfer_ref.to_owned() }]),
            Tally::Below(count) => {
                sign(&mut self.treasury_transfers, signer, transfer_ref, fact, false);
                let threshold = env.params.guardian_threshold();
                let transfer_ref = transfer_ref.to_owned();
                return Ok(vec![Event::TreasuryTransferApproved { transfer_ref, usdc, count, threshold }]);
            }
            Tally::Reached => {}
        }
        let destination = match to {
            TreasuryDestination::ExitPool => SystemAccount::ExitPoolUsdc,
        };
        let plan = [Posting::Transfer {
            asset: Asset::Usdc,
            from: Slot::System(SystemAccount::Treasury),
            to: Slot::System(destination),
            units: usdc.units(),
            revenue: false,
        }];
        ledger.validate(&plan)?;
        let total = self.treasury_transferred.checked_add(usdc).ok_or(Rejection::Overflow)?;
        ledger.commit(&plan);
        sign(&mut self.treasury_transfers, signer, transfer_ref, fact, true);
        self.treasury_transferred = total;
        Ok(vec![Event::ExitPoolFunded { usdc, transfer_ref: transfer_ref.to_owned() }])
    }

    /// Records an attestation of `fact` under `external_tx_id` (deposits and withdrawals).
    fn record(
        &mut self,
        env: &Env<'_>,
        signer: AccountKey,
        external_tx_id: &str,
        fact: AttestedFact,
    ) -> Result<Recorded, Rejection> {
        env.check_text(external_tx_id, TextField::ExternalTxId)?;
        match tally(&self.attestations, env, signer, external_tx_id, &fact)? {
            Tally::Applied => {
                Ok(Recorded::Done(vec![Event::AlreadyApplied { id: external_tx_id.to_owned() }]))
            }
            Tally::Below(count) => {
                sign(&mut self.attestations, signer, external_tx_id, fact, false);
                Ok(Recorded::Done(vec![Event::AttestationRecorded {
                    external_tx_id: external_tx_id.to_owned(),
                    count,
                    threshold: env.params.guardian_threshold(),
                }]))
            }
            Tally::Reached => Ok(Recorded::Execute),
        }
    }

    /// Records the executing signature of `fact` (the one that reached the threshold).
    fn mark_executed(&mut self, signer: AccountKey, external_tx_id: &str, fact: AttestedFact) {
        sign(&mut self.attestations, signer, external_tx_id, fact, true);
    }

    /// `escrow.withdrawals` holds exactly the pending (unpaid) requests, summed over assets.
    pub(crate) fn check(&self, ledger: &Ledger) -> Result<(), String> {
        let pending: i128 = self.withdrawals.values().filter(|w| w.paid_by.is_none()).map(|w| w.units).sum();
        let escrow: i128 = Asset::ALL
            .iter()
            .map(|a| ledger.balance(AccountRef::System(SystemAccount::EscrowWithdrawals), *a))
            .sum();
        if pending != escrow {
            return Err(format!("withdrawal escrow holds {escrow} but pending requests total {pending}"));
        }
        Ok(())
    }
}
