//! The state machine: [`State`] built from a [`Genesis`], changed only by [`State::apply`] of an
//! [`Envelope`], with invariant checks and a canonical state hash.
//!
//! Handlers follow one pattern: validate everything (in the precedence order of [`crate::rejection`]), plan
//! ledger postings, validate the plan, then commit, which cannot fail. A rejection leaves the state untouched.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, AnyAsset, Asset, Cc, Rounding, Tfp, Tft, Usdc};

use crate::catalogue::NodeModel;
use crate::command::{Command, Envelope, PriceFeed};
use crate::event::Event;
use crate::ids::{AccountKey, AccountRef, SystemAccount, WithdrawalId};
use crate::ledger::{Inflow, Ledger, Outflow, Posting, Slot};
use crate::market::{validate_text, Market};
use crate::oracle::{Oracle, Prices, Submission};
use crate::params::Params;
use crate::rejection::Rejection;

/// What a node starts from: parameters, the catalogue and the start time. Stored with the journal so a
/// replay starts from the same genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// Parameters.
    pub params: Params,
    /// Node models (from `data/node-catalogue`).
    pub catalogue: Vec<NodeModel>,
    /// Initial time, unix seconds.
    pub start_time: i64,
}

impl Genesis {
    /// Canonical binary encoding (postcard).
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("encoding into a Vec cannot fail")
    }

    /// Decodes [`Genesis::encode`] output.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        postcard::from_bytes(bytes).ok()
    }
}

/// An external attestation being collected (deposit or withdrawal), keyed by external transaction id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attestation {
    /// What is attested.
    pub fact: AttestedFact,
    /// Attestors that signed.
    pub signers: Vec<AccountKey>,
    /// Executed once the threshold was reached.
    pub executed: bool,
}

/// The facts an attestation confirms; every attestor must agree on them exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
}

/// A withdrawal request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

/// The whole economic state. Deterministic: ordered maps only, integers only.
#[derive(Clone, Debug, Serialize)]
pub struct State {
    pub(crate) params: Params,
    pub(crate) catalogue: Vec<NodeModel>,
    pub(crate) now: i64,
    pub(crate) ledger: Ledger,
    pub(crate) oracle: Oracle,
    pub(crate) market: Market,
    pub(crate) attestations: BTreeMap<String, Attestation>,
    pub(crate) payments: BTreeMap<String, (AccountKey, Amount<Usdc>)>,
    pub(crate) withdrawals: BTreeMap<WithdrawalId, Withdrawal>,
    pub(crate) burn_pending_cc: Amount<Cc>,
    pub(crate) burn_owed_tft: Amount<Tft>,
    pub(crate) tft_rewards_minted: Amount<Tft>,
    pub(crate) commands_applied: u64,
    pub(crate) settlement: BTreeMap<AccountKey, crate::command::Settlement>,
    pub(crate) exit: crate::exit::ExitPool,
    pub(crate) capacity: crate::capacity::CapacityBook,
    pub(crate) farming: crate::farming::FarmingPools,
    pub(crate) governance: crate::governance::Governance,
    pub(crate) rewards: crate::rewards::Rewards,
    pub(crate) exchange: crate::trading::Exchange,
}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.state_hash() == other.state_hash()
    }
}

/// Result of [`State::apply`]: the events of an applied command.
pub type Receipt = Vec<Event>;

impl State {
    /// A fresh state: the operator's account is registered at genesis.
    pub fn new(genesis: Genesis) -> Self {
        let mut ledger = Ledger::default();
        ledger.register(genesis.params.operator, genesis.start_time);
        let exit = crate::exit::ExitPool::new(genesis.start_time, genesis.params.exit_round_period_s);
        State {
            params: genesis.params,
            catalogue: genesis.catalogue,
            now: genesis.start_time,
            ledger,
            oracle: Oracle::default(),
            market: Market::default(),
            attestations: BTreeMap::new(),
            payments: BTreeMap::new(),
            withdrawals: BTreeMap::new(),
            burn_pending_cc: Amount::ZERO,
            burn_owed_tft: Amount::ZERO,
            tft_rewards_minted: Amount::ZERO,
            commands_applied: 0,
            settlement: BTreeMap::new(),
            exit,
            capacity: crate::capacity::CapacityBook::default(),
            farming: crate::farming::FarmingPools::default(),
            governance: crate::governance::Governance::default(),
            rewards: crate::rewards::Rewards::default(),
            exchange: crate::trading::Exchange::default(),
        }
    }

    /// Applies one command. On success the nonce is consumed and the events are returned; on rejection
    /// nothing changed. In debug builds and tests every invariant is asserted after each command.
    pub fn apply(&mut self, envelope: &Envelope) -> Result<Receipt, Rejection> {
        let signer = envelope.signer;
        let registered = self.ledger.account(&signer).is_some();
        match (&envelope.command, registered) {
            (Command::RegisterAccount {}, true) => return Err(Rejection::AccountExists),
            (Command::RegisterAccount {}, false) => {}
            (_, false) => return Err(Rejection::AccountNotFound { account: signer }),
            (_, true) => {}
        }
        let last = self.ledger.last_nonce(&signer);
        if envelope.nonce <= last {
            return Err(Rejection::NonceReused { last, got: envelope.nonce });
        }
        let events = self.dispatch(signer, &envelope.command)?;
        self.ledger.set_nonce(&signer, envelope.nonce);
        self.commands_applied += 1;
        #[cfg(debug_assertions)]
        if let Err(violation) = self.check_invariants() {
            panic!("invariant violated after {:?}: {violation}", envelope.command.kind());
        }
        Ok(events)
    }

    fn dispatch(&mut self, signer: AccountKey, command: &Command) -> Result<Receipt, Rejection> {
        match command {
            Command::RegisterAccount {} => {
                self.ledger.register(signer, self.now);
                Ok(vec![Event::AccountRegistered { account: signer }])
            }
            Command::Transfer { asset, to, amount } => self.apply_transfer(signer, *asset, *to, *amount),
            Command::AttestDeposit { asset, to, amount, external_tx_id } => {
                self.require(signer, &self.params.guardians, "guardian")?;
                self.apply_attest_deposit(signer, *asset, *to, *amount, external_tx_id)
            }
            Command::RequestWithdrawal { asset, amount, destination } => {
                self.apply_request_withdrawal(signer, *asset, *amount, destination)
            }
            Command::AttestWithdrawal { withdrawal_id, external_tx_id } => {
                self.require(signer, &self.params.guardians, "guardian")?;
                self.apply_attest_withdrawal(signer, *withdrawal_id, external_tx_id)
            }
            Command::SubmitPrice { feed, price, observed_at } => {
                self.require(signer, &self.params.guardians, "guardian")?;
                let submission = Submission { price: *price, observed_at: *observed_at };
                self.oracle.validate(*feed, signer, submission, self.now)?;
                self.oracle.store(*feed, signer, submission);
                let mut events =
                    vec![Event::PriceSubmitted { feed: *feed, price: *price, observed_at: *observed_at }];
                self.settle_pending_burn(&mut events);
                Ok(events)
            }
            Command::EnterWithTft { tft } => self.apply_enter_with_tft(signer, *tft),
            Command::EnterWithFiat { to, usd, payment_id } => {
                self.require(signer, &self.params.fiat_payment_keys, "payment_key")?;
                self.apply_enter_with_fiat(*to, *usd, payment_id)
            }
            Command::LockTft { tft } => self.apply_lock_tft(signer, *tft),
            Command::UnlockTfp { tfp } => self.apply_unlock_tfp(signer, *tfp),
            Command::RegisterFarm { name } => self.apply_register_farm(signer, name),
            Command::RegisterNode { farm_id, spec, offered_slices } => {
                self.apply_register_node(signer, *farm_id, spec, *offered_slices)
            }
            Command::SetSlicePrice { node_id, price } => self.apply_set_slice_price(signer, *node_id, *price),
            Command::OpenLease { node_id, n_slices, billing, periods } => {
                self.apply_open_lease(signer, *node_id, *n_slices, *billing, *periods)
            }
            Command::CancelLease { lease_id } => self.apply_cancel_lease(signer, *lease_id),
            Command::Tick { now } => {
                if signer != self.params.operator {
                    return Err(Rejection::NotAuthorized { role: "operator".to_owned() });
                }
                self.apply_tick(*now)
            }
            Command::ConvertCcToTfp { cc, allow_partial } => {
                self.apply_convert_cc_to_tfp(signer, *cc, *allow_partial)
            }
            Command::ConvertTfpToCc { tfp } => self.apply_convert_tfp_to_cc(signer, *tfp),
            Command::SetSettlement { settle_in } => Ok(self.apply_set_settlement(signer, *settle_in)),
            Command::FundExitPool { .. }
            | Command::OpenPosition { .. }
            | Command::ClosePosition { .. }
            | Command::SubmitExitBid { .. }
            | Command::AmendExitBid { .. }
            | Command::CancelExitBid { .. } => self.apply_exit(signer, command),
            Command::PostStandingBid { name, requirements, price_month, quantity, periods } => {
                self.apply_post_standing_bid(signer, name, requirements, *price_month, *quantity, *periods)
            }
            Command::FillStandingBid { bid_id, node_id, n_slices } => {
                self.apply_fill_standing_bid(signer, *bid_id, *node_id, *n_slices)
            }
            Command::CancelStandingBid { bid_id } => self.apply_cancel_standing_bid(signer, *bid_id),
            Command::PostCapacityRequest { requirements, n_slices, max_price_month, periods, window_s } => {
                self.apply_post_capacity_request(
                    signer,
                    requirements,
                    *n_slices,
                    *max_price_month,
                    *periods,
                    *window_s,
                )
            }
            Command::OfferCapacity { request_id, node_id, price_month } => {
                self.apply_offer_capacity(signer, *request_id, *node_id, *price_month)
            }
            Command::TakeCapacity { query, n_slices, periods } => {
                self.apply_take_capacity(signer, query, *n_slices, *periods)
            }
            Command::CreateFarmingPool { name, rules } => self.apply_create_pool(signer, name, *rules),
            Command::SignPoolMembership { pool_id, farm_id, change } => {
                self.apply_sign_membership(signer, *pool_id, *farm_id, *change)
            }
            Command::SetPoolPrice { node_id, price } => self.apply_set_pool_price(signer, *node_id, *price),
            Command::SetNodeKey { node_id, node_key } => self.apply_set_node_key(signer, *node_id, *node_key),
            Command::PlaceOrder { market_id, side, quantity, limit_price, expires_after_batches } => self
                .apply_place_order(
                    signer,
                    *market_id,
                    *side,
                    *quantity,
                    *limit_price,
                    *expires_after_batches,
                ),
            Command::CancelOrder { order_id } => self.apply_cancel_order(signer, *order_id),
            Command::AmendOrder { order_id, quantity, limit_price } => {
                self.apply_amend_order(signer, *order_id, *quantity, *limit_price)
            }
            Command::SetVerified { account, verified } => {
                self.apply_set_verified(signer, *account, *verified)
            }
            Command::ReportUptime { node_id, reports } => self.apply_report_uptime(signer, *node_id, reports),
            Command::SignMintReport { period, report_hash } => {
                self.apply_sign_mint_report(signer, *period, report_hash)
            }
            Command::ProposeParamChange { update } => self.apply_propose_param_change(signer, update),
            Command::SignParamChange { change_id } => self.apply_sign_param_change(signer, *change_id),
        }
    }

    fn require(&self, signer: AccountKey, allowed: &[AccountKey], role: &str) -> Result<(), Rejection> {
        if allowed.contains(&signer) {
            Ok(())
        } else {
            Err(Rejection::NotAuthorized { role: role.to_owned() })
        }
    }

    fn user_slot(&self, key: &AccountKey) -> Result<Slot, Rejection> {
        self.ledger.slot_of(key).ok_or(Rejection::AccountNotFound { account: *key })
    }

    fn commit_postings(&mut self, plan: &[Posting]) -> Result<(), Rejection> {
        self.ledger.validate(plan)?;
        self.ledger.commit(plan);
        Ok(())
    }

    fn apply_transfer(
        &mut self,
        from_key: AccountKey,
        asset: Asset,
        to_key: AccountKey,
        amount: Amount<AnyAsset>,
    ) -> Result<Receipt, Rejection> {
        if asset == Asset::Cc {
            return Err(Rejection::CcNotTransferable);
        }
        if !amount.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        if from_key == to_key {
            return Err(Rejection::SelfTransfer);
        }
        let from = self.user_slot(&from_key)?;
        let to = self.user_slot(&to_key)?;
        let units = amount.units();
        self.commit_postings(&[Posting::Transfer { asset, from, to, units, revenue: false }])?;
        Ok(vec![Event::Transferred {
            from: AccountRef::User(from_key),
            to: AccountRef::User(to_key),
            amount: amount.with_asset(asset),
        }])
    }

    fn external_asset(asset: Asset) -> Result<(), Rejection> {
        match asset {
            Asset::Tft | Asset::Usdc => Ok(()),
            Asset::Tfp | Asset::Cc => Err(Rejection::AssetNotAllowed { asset }),
        }
    }

    /// Records an attestation; returns `Some(events)` when the call is a no-op or below threshold, `None`
    /// when the threshold is reached now and the caller must execute.
    fn record_attestation(
        &mut self,
        signer: AccountKey,
        external_tx_id: &str,
        fact: AttestedFact,
    ) -> Result<Option<Receipt>, Rejection> {
        validate_text(external_tx_id, "external_tx_id", &self.params)?;
        let threshold = self.params.guardian_threshold();
        let conflict = || Rejection::AttestationConflict { id: external_tx_id.to_owned() };
        if let Some(existing) = self.attestations.get(external_tx_id) {
            if existing.fact != fact {
                return Err(conflict());
            }
            if existing.executed {
                return Ok(Some(vec![Event::AlreadyApplied { id: external_tx_id.to_owned() }]));
            }
            if existing.signers.contains(&signer) {
                return Err(Rejection::DuplicateSignature);
            }
        }
        let entry = self.attestations.entry(external_tx_id.to_owned()).or_insert(Attestation {
            fact,
            signers: Vec::new(),
            executed: false,
        });
        // Only current guardians count (a guardian removed since its signature no longer does).
        let guardians = &self.params.guardians;
        let count = entry.signers.iter().filter(|k| guardians.contains(k)).count() as u32 + 1;
        if count < threshold {
            entry.signers.push(signer);
            return Ok(Some(vec![Event::AttestationRecorded {
                external_tx_id: external_tx_id.to_owned(),
                count,
                threshold,
            }]));
        }
        Ok(None)
    }

    fn mark_executed(&mut self, signer: AccountKey, external_tx_id: &str) {
        let entry = self.attestations.get_mut(external_tx_id).expect("recorded before executing");
        entry.signers.push(signer);
        entry.executed = true;
    }

    fn apply_attest_deposit(
        &mut self,
        signer: AccountKey,
        asset: Asset,
        to: AccountKey,
        amount: Amount<AnyAsset>,
        external_tx_id: &str,
    ) -> Result<Receipt, Rejection> {
        Self::external_asset(asset)?;
        if !amount.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let slot = self.user_slot(&to)?;
        let plan = [Posting::Mint { asset, to: slot, units: amount.units(), inflow: Inflow::Deposit }];
        // Validate the postings before recording anything, so a rejection changes nothing.
        self.ledger.validate(&plan)?;
        let fact = AttestedFact::Deposit { to, asset, units: amount.units() };
        if let Some(events) = self.record_attestation(signer, external_tx_id, fact)? {
            return Ok(events);
        }
        self.mark_executed(signer, external_tx_id);
        self.ledger.commit(&plan);
        Ok(vec![Event::Deposited {
            to: AccountRef::User(to),
            amount: amount.with_asset(asset),
            external_tx_id: external_tx_id.to_owned(),
        }])
    }

    fn apply_request_withdrawal(
        &mut self,
        owner: AccountKey,
        asset: Asset,
        amount: Amount<AnyAsset>,
        destination: &str,
    ) -> Result<Receipt, Rejection> {
        Self::external_asset(asset)?;
        if !amount.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        validate_text(destination, "destination", &self.params)?;
        let from = self.user_slot(&owner)?;
        let to = Slot::System(SystemAccount::EscrowWithdrawals);
        self.commit_postings(&[Posting::Transfer {
            asset,
            from,
            to,
            units: amount.units(),
            revenue: false,
        }])?;
        let id = WithdrawalId(self.withdrawals.len() as u64 + 1);
        self.withdrawals.insert(
            id,
            Withdrawal {
                id,
                owner,
                asset,
                units: amount.units(),
                destination: destination.to_owned(),
                paid_by: None,
            },
        );
        Ok(vec![Event::WithdrawalRequested { withdrawal_id: id, amount: amount.with_asset(asset) }])
    }

    fn apply_attest_withdrawal(
        &mut self,
        signer: AccountKey,
        withdrawal_id: WithdrawalId,
        external_tx_id: &str,
    ) -> Result<Receipt, Rejection> {
        let withdrawal = self.withdrawals.get(&withdrawal_id).ok_or(Rejection::WithdrawalNotFound)?;
        if let Some(paid_by) = &withdrawal.paid_by {
            if paid_by != external_tx_id {
                return Err(Rejection::AttestationConflict { id: external_tx_id.to_owned() });
            }
        }
        let (asset, units) = (withdrawal.asset, withdrawal.units);
        let from = Slot::System(SystemAccount::EscrowWithdrawals);
        let plan = [Posting::Burn { asset, from, units, outflow: Outflow::Withdrawal }];
        let fact = AttestedFact::Withdrawal { withdrawal_id };
        if let Some(events) = self.record_attestation(signer, external_tx_id, fact)? {
            return Ok(events);
        }
        self.ledger.validate(&plan).expect("the escrow holds every pending withdrawal");
        self.mark_executed(signer, external_tx_id);
        self.ledger.commit(&plan);
        self.withdrawals.get_mut(&withdrawal_id).expect("checked above").paid_by =
            Some(external_tx_id.to_owned());
        Ok(vec![Event::Withdrawn {
            withdrawal_id,
            amount: Amount::<AnyAsset>::from_units(units).with_asset(asset),
            external_tx_id: external_tx_id.to_owned(),
        }])
    }

    fn apply_enter_with_tft(&mut self, user: AccountKey, tft: Amount<Tft>) -> Result<Receipt, Rejection> {
        if !tft.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let prices = self.oracle.prices(&self.params, self.now)?;
        let units = tft.units().unsigned_abs();
        let rate = self.params.entry_tft_per_cc;
        // Fixed rate while TFT trades below parity, market rate above it; both rounded down (spec §4).
        let cc_units = if prices.below_entry_parity(rate) {
            tfeco_money::mul_div(units, rate.den(), rate.num(), Rounding::Down)
        } else {
            prices.cc_for_tft(units, Rounding::Down)
        };
        let cc_units = cc_units.and_then(|u| i128::try_from(u).ok()).ok_or(Rejection::Overflow)?;
        if cc_units == 0 {
            return Err(Rejection::AmountNotPositive);
        }
        let slot = self.user_slot(&user)?;
        self.commit_postings(&[
            Posting::Transfer {
                asset: Asset::Tft,
                from: slot,
                to: Slot::System(SystemAccount::Vault),
                units: tft.units(),
                revenue: false,
            },
            Posting::Mint {
                asset: Asset::Tfp,
                to: Slot::System(SystemAccount::Pool2Reserve),
                units: tft.units(),
                inflow: Inflow::Mint,
            },
            Posting::Mint { asset: Asset::Cc, to: slot, units: cc_units, inflow: Inflow::Mint },
        ])?;
        let mut events = vec![Event::EnteredWithTft {
            account: user,
            tft_locked: tft,
            cc_minted: Amount::from_units(cc_units),
        }];
        self.resume_after_top_up(user, &mut events);
        Ok(events)
    }

    fn apply_enter_with_fiat(
        &mut self,
        to: AccountKey,
        usd: Amount<Usdc>,
        payment_id: &str,
    ) -> Result<Receipt, Rejection> {
        validate_text(payment_id, "payment_id", &self.params)?;
        if !usd.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let slot = self.user_slot(&to)?;
        if let Some(existing) = self.payments.get(payment_id) {
            if *existing != (to, usd) {
                return Err(Rejection::AttestationConflict { id: payment_id.to_owned() });
            }
            return Ok(vec![Event::AlreadyApplied { id: payment_id.to_owned() }]);
        }
        let gold = self.oracle.effective(PriceFeed::GoldUsdPerOz, &self.params, self.now)?;
        let prices = Prices { tft_usd: self.params.tft_usd_min, cc: crate::oracle::CcPrice::from_gold(gold) };
        let cc_units = prices
            .cc_for_usd(usd.units().unsigned_abs(), Rounding::Down)
            .and_then(|u| i128::try_from(u).ok())
            .ok_or(Rejection::Overflow)?;
        if cc_units == 0 {
            return Err(Rejection::AmountNotPositive);
        }
        self.commit_postings(&[
            Posting::Mint { asset: Asset::Cc, to: slot, units: cc_units, inflow: Inflow::Mint },
            Posting::Mint {
                asset: Asset::Usdc,
                to: Slot::System(SystemAccount::Treasury),
                units: usd.units(),
                inflow: Inflow::Deposit,
            },
        ])?;
        self.payments.insert(payment_id.to_owned(), (to, usd));
        let mut events = vec![Event::EnteredWithFiat {
            account: to,
            usd,
            cc_minted: Amount::from_units(cc_units),
            payment_id: payment_id.to_owned(),
        }];
        self.resume_after_top_up(to, &mut events);
        Ok(events)
    }

    fn apply_lock_tft(&mut self, user: AccountKey, tft: Amount<Tft>) -> Result<Receipt, Rejection> {
        if !tft.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let slot = self.user_slot(&user)?;
        self.commit_postings(&[
            Posting::Transfer {
                asset: Asset::Tft,
                from: slot,
                to: Slot::System(SystemAccount::Vault),
                units: tft.units(),
                revenue: false,
            },
            Posting::Mint { asset: Asset::Tfp, to: slot, units: tft.units(), inflow: Inflow::Mint },
        ])?;
        Ok(vec![Event::TftLocked { account: user, tft }])
    }

    fn apply_unlock_tfp(&mut self, user: AccountKey, tfp: Amount<Tfp>) -> Result<Receipt, Rejection> {
        if !tfp.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let prices = self.oracle.prices(&self.params, self.now)?;
        if prices.below_entry_parity(self.params.entry_tft_per_cc) {
            return Err(Rejection::UnlockClosed);
        }
        let slot = self.user_slot(&user)?;
        self.commit_postings(&[
            Posting::Burn { asset: Asset::Tfp, from: slot, units: tfp.units(), outflow: Outflow::Burn },
            Posting::Transfer {
                asset: Asset::Tft,
                from: Slot::System(SystemAccount::Vault),
                to: slot,
                units: tfp.units(),
                revenue: false,
            },
        ])?;
        Ok(vec![Event::TfpUnlocked { account: user, tfp }])
    }

    /// Checks every invariant of spec `decisions.md` §1 plus the marketplace's own: conservation per asset,
    /// no negative balance, `TFP supply == vault TFT`, the global TFT cap, slice accounting.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.ledger.check()?;
        let tfp_supply = self.ledger.supply(Asset::Tfp);
        let vault_tft = self.ledger.balance(AccountRef::System(SystemAccount::Vault), Asset::Tft);
        if tfp_supply != vault_tft {
            return Err(format!("TFP supply {tfp_supply} != TFT in the vault {vault_tft}"));
        }
        let global = self.global_tft_supply();
        if global > self.params.tft_supply_cap.units() {
            return Err(format!("global TFT supply {global} exceeds the cap"));
        }
        if self.burn_pending_cc.units() < 0 || self.burn_owed_tft.units() < 0 {
            return Err("negative burn counters".to_owned());
        }
        let escrowed: i128 =
            self.withdrawals.values().filter(|w| w.paid_by.is_none()).map(|w| w.units).sum::<i128>();
        let escrow: i128 = Asset::ALL
            .iter()
            .map(|a| self.ledger.balance(AccountRef::System(SystemAccount::EscrowWithdrawals), *a))
            .sum();
        if escrowed != escrow {
            return Err(format!("withdrawal escrow holds {escrow} but pending requests total {escrowed}"));
        }
        self.market.check()?;
        let pool_tfp = self.ledger.balance(AccountRef::System(SystemAccount::ExitPoolTfp), Asset::Tfp);
        self.exit.check(pool_tfp)?;
        let bids = self.ledger.balance(AccountRef::System(SystemAccount::EscrowStandingBids), Asset::Cc);
        let requests =
            self.ledger.balance(AccountRef::System(SystemAccount::EscrowCapacityRequests), Asset::Cc);
        self.capacity.check(bids, requests)?;
        self.check_vesting()?;
        self.check_orders()
    }

    /// Global TFT supply: `tft_supply_external + rewards minted here - TFT burned here` (spec §1).
    pub fn global_tft_supply(&self) -> i128 {
        self.params.tft_supply_external.units() + self.tft_rewards_minted.units()
            - self.ledger.totals(Asset::Tft).burned
    }

    /// blake3 of the canonical (postcard) encoding of the whole state, as 64 hex characters.
    pub fn state_hash(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        let bytes = postcard::to_allocvec(self).expect("encoding the state into a Vec cannot fail");
        hasher.update(&bytes);
        hasher.finalize().to_hex().to_string()
    }

    /// Parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }
    /// Node catalogue.
    pub fn catalogue(&self) -> &[NodeModel] {
        &self.catalogue
    }
    /// Current time, unix seconds.
    pub fn now(&self) -> i64 {
        self.now
    }
    /// The ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }
    /// The oracle.
    pub fn oracle(&self) -> &Oracle {
        &self.oracle
    }
    /// The marketplace.
    pub fn market(&self) -> &Market {
        &self.market
    }
    /// Withdrawal requests.
    pub fn withdrawals(&self) -> &BTreeMap<WithdrawalId, Withdrawal> {
        &self.withdrawals
    }
    /// CC burned whose TFT counterpart waits for valid prices.
    pub fn burn_pending_cc(&self) -> Amount<Cc> {
        self.burn_pending_cc
    }
    /// TFT the reserve could not cover when burning (a reported figure, spec §7).
    pub fn burn_owed_tft(&self) -> Amount<Tft> {
        self.burn_owed_tft
    }
    /// Commands applied since genesis.
    pub fn commands_applied(&self) -> u64 {
        self.commands_applied
    }
    /// The exchange's books.
    pub fn exchange(&self) -> &crate::trading::Exchange {
        &self.exchange
    }
    /// Parameter changes.
    pub fn governance(&self) -> &crate::governance::Governance {
        &self.governance
    }
    /// Minting reports and vesting.
    pub fn rewards(&self) -> &crate::rewards::Rewards {
        &self.rewards
    }
    /// Farming pools.
    pub fn farming(&self) -> &crate::farming::FarmingPools {
        &self.farming
    }
    /// Standing bids and capacity requests.
    pub fn capacity(&self) -> &crate::capacity::CapacityBook {
        &self.capacity
    }
    /// The exit pool.
    pub fn exit_pool(&self) -> &crate::exit::ExitPool {
        &self.exit
    }
    /// Valid prices at the current time, if any.
    pub fn prices(&self) -> Result<Prices, Rejection> {
        self.oracle.prices(&self.params, self.now)
    }
}
