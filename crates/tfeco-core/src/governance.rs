//! Guardian governance (spec `decisions.md` §12): parameter changes proposed and signed by guardians,
//! effective `param_delay_s` after reaching the threshold (visible while pending), including changes of the
//! guardian set itself (which need the threshold of the current set).
//!
//! Guardian signatures on other subjects live with those subjects: external attestations in
//! [`crate::state`], oracle prices in [`crate::oracle`], minting reports in [`crate::rewards`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfeco_money::{Bps, Price, Ratio};

use crate::event::Event;
use crate::ids::AccountKey;
use crate::minting::VestingRule;
use crate::params::{Params, RevenueSplit, RewardRules};
use crate::rejection::Rejection;
use crate::state::State;

/// Longest duration a parameter change may set (10 years), so schedules never approach `i64` overflow.
pub const MAX_DURATION_S: i64 = 10 * 366 * 86_400;

/// A change of parameters. Each variant is validated when proposed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamUpdate {
    /// Replace the guardian set (threshold `None`: `ceil(2n/3)`).
    GuardianSet {
        /// New guardians, unique.
        guardians: Vec<AccountKey>,
        /// Signatures needed.
        threshold: Option<u32>,
    },
    /// A new revenue split (its version must be higher than the current one).
    RevenueSplit(RevenueSplit),
    /// The entry rate, TFT per CC.
    EntryTftPerCc(Ratio),
    /// Oracle freshness, seconds.
    OracleMaxAge(i64),
    /// Oracle TFT clamp.
    TftUsdClamp {
        /// Lower clamp.
        min: Price,
        /// Upper clamp.
        max: Price,
    },
    /// Lease grace, seconds.
    LeaseGrace(i64),
    /// Exit pool caps and discount.
    ExitRules {
        /// Cap A share of value contributed (`None`: off).
        cap_a_bps: Option<Bps>,
        /// Cap B share of the pool's USDC (`None`: off).
        cap_b_bps: Option<Bps>,
        /// Minimum discount.
        min_discount_bps: Bps,
    },
    /// The reward rule set.
    RewardRules(RewardRules),
    /// The vesting rule.
    VestingRule(VestingRule),
    /// Minting on or off.
    MintingEnabled(bool),
    /// The delay of later parameter changes, seconds.
    ParamDelay(i64),
    /// Registers a new exchange market (spec §13).
    RegisterMarket(crate::trading::MarketSpec),
}

impl ParamUpdate {
    /// Checks the update against the current parameters.
    fn validate(&self, params: &Params) -> Result<(), Rejection> {
        let invalid = |reason: &str| Err(Rejection::ParamChangeInvalid { reason: reason.to_owned() });
        match self {
            ParamUpdate::GuardianSet { guardians, threshold } => {
                let mut sorted = guardians.clone();
                sorted.sort();
                sorted.dedup();
                if guardians.is_empty() || sorted.len() != guardians.len() {
                    return invalid("the guardian set must be non-empty and without duplicates");
                }
                if threshold.is_some_and(|t| t == 0 || t as usize > guardians.len()) {
                    return invalid("the threshold must be between 1 and the number of guardians");
                }
                Ok(())
            }
            ParamUpdate::RevenueSplit(split) => {
                if !split.is_valid() {
                    return invalid("the split must sum to 10,000 bps with exactly one farmer entry");
                }
                if split.version <= params.revenue_split.version {
                    return invalid("the split's version must be higher than the current one");
                }
                Ok(())
            }
            ParamUpdate::EntryTftPerCc(ratio) if ratio.num() == 0 => {
                invalid("the entry rate must be positive")
            }
            ParamUpdate::OracleMaxAge(s) | ParamUpdate::LeaseGrace(s) | ParamUpdate::ParamDelay(s)
                if *s <= 0 || *s > MAX_DURATION_S =>
            {
                invalid("durations must be positive and at most 10 years")
            }
            ParamUpdate::VestingRule(rule) => match rule {
                VestingRule::Seed(seed) if seed.month_s <= 0 || seed.lock_months == 0 => {
                    invalid("the seed rule needs a positive month and lock")
                }
                VestingRule::Release36m(r) if r.month_s <= 0 || r.release_months == 0 => {
                    invalid("release_36m needs a positive month and at least one release month")
                }
                _ => Ok(()),
            },
            ParamUpdate::RewardRules(RewardRules::V3(rules))
                if rules.connection_price_musd == 0 || rules.period_s <= 0 =>
            {
                invalid("v3 rules need a positive connection price and period")
            }
            ParamUpdate::TftUsdClamp { min, max } if min.is_zero() || min > max => {
                invalid("the clamp needs 0 < min <= max")
            }
            ParamUpdate::RegisterMarket(spec) => {
                if !spec.is_valid() {
                    return invalid("the market needs two distinct transferable assets and sane batch rules");
                }
                if params
                    .markets
                    .iter()
                    .any(|m| m.id == spec.id || (m.base == spec.base && m.quote == spec.quote))
                {
                    return invalid("a market with this id or these assets exists");
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn apply(&self, params: &mut Params) {
        match self {
            ParamUpdate::GuardianSet { guardians, threshold } => {
                params.guardians = guardians.clone();
                params.guardian_threshold = *threshold;
            }
            ParamUpdate::RevenueSplit(split) => params.revenue_split = split.clone(),
            ParamUpdate::EntryTftPerCc(ratio) => params.entry_tft_per_cc = *ratio,
            ParamUpdate::OracleMaxAge(s) => params.oracle_max_age_s = *s,
            ParamUpdate::TftUsdClamp { min, max } => {
                params.tft_usd_min = *min;
                params.tft_usd_max = *max;
            }
            ParamUpdate::LeaseGrace(s) => params.lease_grace_s = *s,
            ParamUpdate::ExitRules { cap_a_bps, cap_b_bps, min_discount_bps } => {
                params.exit_cap_a_bps = *cap_a_bps;
                params.exit_cap_b_bps = *cap_b_bps;
                params.exit_min_discount_bps = *min_discount_bps;
            }
            ParamUpdate::RewardRules(rules) => params.reward_rules = rules.clone(),
            ParamUpdate::VestingRule(rule) => params.vesting_rule = *rule,
            ParamUpdate::MintingEnabled(on) => params.minting_enabled = *on,
            ParamUpdate::ParamDelay(s) => params.param_delay_s = *s,
            ParamUpdate::RegisterMarket(spec) => params.markets.push(spec.clone()),
        }
    }
}

/// A proposed parameter change and its signatures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParamChange {
    /// Id.
    pub id: u64,
    /// The change.
    pub update: ParamUpdate,
    /// Proposing guardian (its proposal counts as its signature).
    pub proposed_by: AccountKey,
    /// When proposed.
    pub proposed_at: i64,
    /// Guardians that signed.
    pub signers: Vec<AccountKey>,
    /// When the threshold was reached.
    pub approved_at: Option<i64>,
    /// When it takes effect (`approved_at + param_delay_s`).
    pub effective_at: Option<i64>,
    /// When it was applied.
    pub applied_at: Option<i64>,
}

/// Parameter changes, pending and applied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Governance {
    pub(crate) changes: BTreeMap<u64, ParamChange>,
}

impl Governance {
    /// All changes by id.
    pub fn changes(&self) -> &BTreeMap<u64, ParamChange> {
        &self.changes
    }
}

impl State {
    fn require_guardian(&self, signer: AccountKey) -> Result<(), Rejection> {
        if self.params.is_guardian(&signer) {
            Ok(())
        } else {
            Err(Rejection::NotAuthorized { role: "guardian".to_owned() })
        }
    }

    pub(crate) fn apply_propose_param_change(
        &mut self,
        signer: AccountKey,
        update: &ParamUpdate,
    ) -> Result<Vec<Event>, Rejection> {
        self.require_guardian(signer)?;
        update.validate(&self.params)?;
        let id = self.governance.changes.len() as u64 + 1;
        self.governance.changes.insert(
            id,
            ParamChange {
                id,
                update: update.clone(),
                proposed_by: signer,
                proposed_at: self.now,
                signers: vec![signer],
                approved_at: None,
                effective_at: None,
                applied_at: None,
            },
        );
        let mut events = vec![Event::ParamChangeProposed { change_id: id }];
        self.maybe_approve(id, &mut events);
        Ok(events)
    }

    pub(crate) fn apply_sign_param_change(
        &mut self,
        signer: AccountKey,
        change_id: u64,
    ) -> Result<Vec<Event>, Rejection> {
        self.require_guardian(signer)?;
        let change = self.governance.changes.get(&change_id).ok_or(Rejection::ParamChangeNotFound)?;
        if change.approved_at.is_some() {
            return Err(Rejection::ParamChangeNotFound);
        }
        if change.signers.contains(&signer) {
            return Err(Rejection::DuplicateSignature);
        }
        self.governance.changes.get_mut(&change_id).expect("checked above").signers.push(signer);
        let mut events = vec![Event::ParamChangeSigned { change_id }];
        self.maybe_approve(change_id, &mut events);
        Ok(events)
    }

    /// Counts only signatures of current guardians (a guardian removed meanwhile no longer counts).
    fn maybe_approve(&mut self, change_id: u64, events: &mut Vec<Event>) {
        let threshold = self.params.guardian_threshold() as usize;
        let delay = self.params.param_delay_s;
        let now = self.now;
        let valid = {
            let change = &self.governance.changes[&change_id];
            change.signers.iter().filter(|k| self.params.is_guardian(k)).count()
        };
        if valid >= threshold {
            let change = self.governance.changes.get_mut(&change_id).expect("known");
            change.approved_at = Some(now);
            change.effective_at = Some(now + delay);
            events.push(Event::ParamChangeApproved { change_id, effective_at: now + delay });
        }
    }

    /// Applies approved changes whose time has come, in id order (called by `Tick`).
    pub(crate) fn apply_due_param_changes(&mut self, events: &mut Vec<Event>) {
        let due: Vec<u64> = self
            .governance
            .changes
            .values()
            .filter(|c| c.applied_at.is_none() && c.effective_at.is_some_and(|t| t <= self.now))
            .map(|c| c.id)
            .collect();
        for change_id in due {
            let update = self.governance.changes[&change_id].update.clone();
            // Re-validate against the parameters as they are now (an earlier change may conflict).
            if update.validate(&self.params).is_ok() {
                update.apply(&mut self.params);
                events.push(Event::ParamChangeApplied { change_id });
            } else {
                events.push(Event::ParamChangeDropped { change_id });
            }
            self.governance.changes.get_mut(&change_id).expect("known").applied_at = Some(self.now);
        }
    }
}
