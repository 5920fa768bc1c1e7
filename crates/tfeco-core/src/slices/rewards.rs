//! Node rewards (spec `decisions.md` §11): node keys and uptime reports, minting periods closed by `Tick` into
//! reports (per-node receipts in canonical JSON and their hash), minting only after the guardian threshold
//! signed the hash and never above the 1,000,000,000 TFT cap, and vesting of minted rewards released on
//! `Tick` (with a farming pool's reward lock, §10). The rules themselves are the pure functions of
//! [`crate::rules::minting`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Asset, Tft};

use crate::catalogue::Resources;
use crate::event::Event;
use crate::ids::{AccountKey, AccountRef, FarmId, NodeId, SystemAccount};
use crate::ledger::{Inflow, Ledger, Posting, Slot};
use crate::params::{Params, RewardRules};
use crate::rejection::{Limit, Rejection, UptimeReportProblem};
use crate::rules::minting::{
    self, capacity_reward, period_end, period_of, v3_reward, CapacityResources, PeriodUptime, UptimeError,
    UptimeReport, UptimeTracker, VestingRecord, VestingRule,
};
use crate::slices::capacity::CapacityMarket;
use crate::slices::farming_pool::FarmingPools;
use crate::slices::Env;
use crate::types::{Node, Role, UptimeSample};

/// One node's line in a minting report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintReceipt {
    /// The node.
    pub node_id: NodeId,
    /// Its farm.
    pub farm_id: FarmId,
    /// The period.
    pub period: u32,
    /// Resources rewarded.
    pub resources: Resources,
    /// Certified hardware.
    pub certified: bool,
    /// Credited uptime, seconds.
    pub credited_s: u64,
    /// Uptime, permill of the period.
    pub uptime_permill: u32,
    /// Violations detected in the period.
    pub violations: u32,
    /// The first violation, by code.
    pub violation: Option<String>,
    /// Reward before any cap scaling.
    pub reward_unscaled: Amount<Tft>,
    /// Reward minted (after cap scaling).
    pub reward: Amount<Tft>,
}

/// A closed minting period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintReport {
    /// The period.
    pub period: u32,
    /// Rule set used (`v3` or `capacity`).
    pub rule_set: String,
    /// Receipts, by node id.
    pub receipts: Vec<MintReceipt>,
    /// Total to mint.
    pub total: Amount<Tft>,
    /// `true` when the rewards were scaled down to stay under the supply cap.
    pub scaled_to_cap: bool,
    /// The receipts' canonical JSON (what guardians re-compute and sign).
    pub canonical_json: String,
    /// blake3 of `canonical_json`, hex.
    pub hash: String,
    /// Guardians that signed the hash.
    pub signers: Vec<AccountKey>,
    /// When it was minted.
    pub minted_at: Option<i64>,
}

/// Vesting of one node's minted rewards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeVesting {
    /// The node.
    pub node_id: NodeId,
    /// The record (total, released, start, monthly utilization).
    pub record: VestingRecord,
}

/// Minting and vesting records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rewards {
    /// The node each registered report key reports for.
    node_keys: BTreeMap<AccountKey, NodeId>,
    /// The reverse of `node_keys`.
    key_of_node: BTreeMap<NodeId, AccountKey>,
    trackers: BTreeMap<NodeId, UptimeTracker>,
    /// Periods a tracker had to finalize early (kept until the period is closed).
    evicted: BTreeMap<(NodeId, u32), PeriodUptime>,
    next_period: Option<u32>,
    reports: BTreeMap<u32, MintReport>,
    vesting: BTreeMap<NodeId, NodeVesting>,
    /// Time-weighted utilization (bps) of every reporting node for each closed period, oldest first.
    utilization: BTreeMap<NodeId, Vec<u16>>,
    /// TFT minted as rewards since genesis (part of the global supply, spec §1).
    tft_minted: Amount<Tft>,
}

fn violation_code(period: &PeriodUptime) -> Option<String> {
    period.violation.map(|v| v.kind().code().to_owned())
}

/// The global TFT supply: `tft_supply_external + rewards minted here - TFT burned here` (spec §1).
pub(crate) fn global_tft_supply(params: &Params, ledger: &Ledger, minted: Amount<Tft>) -> i128 {
    params
        .tft_supply_external
        .units()
        .saturating_add(minted.units())
        .saturating_sub(ledger.totals(Asset::Tft).burned)
}

/// A node's reward for one period under the active rule set (zero when the rule refuses the input).
fn node_reward(params: &Params, node: &Node, uptime: &PeriodUptime) -> Amount<Tft> {
    let r = &node.resources;
    let violation = uptime.violation.is_some();
    let result = match &params.reward_rules {
        RewardRules::V3(rules) => {
            let permill = minting::uptime_permill(uptime.credited_s, rules.period_s);
            minting::engine_input(r, node.certified, permill, violation)
                .and_then(|input| v3_reward(&input, rules))
                .map(|reward| reward.payout_tft)
        }
        RewardRules::Capacity(rules) => {
            let resources = CapacityResources {
                memory_gb: u64::from(r.mem_gb),
                ssd_gb: u64::from(r.ssd_gb),
                hdd_gb: 0,
                network_gb: 0,
                gpu_gb: u64::from(r.ai_mem_gb),
            };
            capacity_reward(&resources, rules, uptime.uptime_permill(), violation)
        }
    };
    result.unwrap_or(Amount::ZERO)
}

impl Rewards {
    /// Minting reports by period.
    pub fn reports(&self) -> &BTreeMap<u32, MintReport> {
        &self.reports
    }
    /// Vesting records by node.
    pub fn vesting(&self) -> &BTreeMap<NodeId, NodeVesting> {
        &self.vesting
    }
    /// The next period to close.
    pub fn next_period(&self) -> Option<u32> {
        self.next_period
    }
    /// The node a key reports for.
    pub fn node_of_key(&self, key: &AccountKey) -> Option<NodeId> {
        self.node_keys.get(key).copied()
    }
    /// The report key of a node (`None` until its farmer sets one with `SetNodeKey`).
    pub fn key_of_node(&self, node: NodeId) -> Option<AccountKey> {
        self.key_of_node.get(&node).copied()
    }
    /// The uptime tracker of a node: its open period(s), first and last report (`None` until the node's
    /// first accepted `ReportUptime`).
    pub fn tracker(&self, node: NodeId) -> Option<&UptimeTracker> {
        self.trackers.get(&node)
    }
    /// A node's uptime score for the reverse auction's tie-break (decisions §9): its uptime in permill of the
    /// last closed minting period (the latest report), 0 when the node is not in that report or the period
    /// had a violation (a violation zeroes the period, §11). O(log n): receipts are sorted by node id.
    pub fn uptime_score(&self, node: NodeId) -> u32 {
        let Some((_, report)) = self.reports.last_key_value() else { return 0 };
        match report.receipts.binary_search_by_key(&node, |r| r.node_id) {
            Ok(index) => {
                report.receipts.get(index).filter(|r| r.violations == 0).map_or(0, |r| r.uptime_permill)
            }
            Err(_) => 0,
        }
    }
    /// TFT minted as rewards since genesis.
    pub fn tft_minted(&self) -> Amount<Tft> {
        self.tft_minted
    }

    /// `SetNodeKey`: the farmer names the (registered) key its node signs uptime reports with.
    pub(crate) fn set_node_key(
        &mut self,
        ledger: &Ledger,
        capacity: &CapacityMarket,
        farmer: AccountKey,
        (node_id, key): (NodeId, AccountKey),
    ) -> Result<Vec<Event>, Rejection> {
        let owner = capacity.node_owner(node_id);
        if !capacity.nodes().contains_key(&node_id) {
            return Err(Rejection::NodeNotFound);
        }
        if owner != Some(farmer) {
            return Err(Rejection::NotOwner);
        }
        if ledger.account(&key).is_none() {
            return Err(Rejection::AccountNotFound { account: key });
        }
        if self.node_keys.get(&key).is_some_and(|n| *n != node_id) {
            return Err(Rejection::NodeKeyMismatch);
        }
        if let Some(previous) = self.key_of_node.insert(node_id, key) {
            self.node_keys.remove(&previous);
        }
        self.node_keys.insert(key, node_id);
        Ok(vec![Event::NodeKeySet { node_id, key }])
    }

    /// `ReportUptime`: a batch of the node's uptime samples, fed to its tracker in order. Violations are
    /// recorded (they zero the period's reward), not refused; a malformed report refuses the whole batch.
    pub(crate) fn report_uptime(
        &mut self,
        env: &Env<'_>,
        capacity: &CapacityMarket,
        signer: AccountKey,
        node_id: NodeId,
        samples: &[UptimeSample],
    ) -> Result<Vec<Event>, Rejection> {
        if self.node_keys.get(&signer) != Some(&node_id) {
            return Err(Rejection::NodeKeyMismatch);
        }
        let max = env.params.max_uptime_reports_per_command;
        let Some(first) = samples.first().filter(|_| samples.len() <= max as usize) else {
            return Err(Rejection::LimitExceeded {
                what: Limit::UptimeReportsPerCommand,
                limit: u64::from(max),
            });
        };
        let invalid = |index: usize, reason| Rejection::UptimeReportInvalid {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            reason,
        };
        let before_first =
            UptimeReportProblem::Tracker(UptimeError::BeforeFirstPeriod { timestamp: first.at });
        let first_period = period_of(first.at).ok_or_else(|| invalid(0, before_first))?;
        let mut tracker =
            self.trackers.get(&node_id).cloned().unwrap_or_else(|| UptimeTracker::new(first_period));
        let registered_at = capacity.nodes().get(&node_id).ok_or(Rejection::NodeNotFound)?.registered_at;
        let (mut evicted, mut violations) = (Vec::new(), 0u32);
        for (index, sample) in samples.iter().enumerate() {
            if sample.at <= registered_at {
                return Err(invalid(index, UptimeReportProblem::NotAfterRegistration { registered_at }));
            }
            if sample.at > env.now {
                return Err(invalid(index, UptimeReportProblem::InFuture { now: env.now }));
            }
            if self.next_period.is_some_and(|next| period_of(sample.at).is_some_and(|p| p < next)) {
                return Err(invalid(index, UptimeReportProblem::PeriodClosed));
            }
            let report = UptimeReport { timestamp: sample.at, uptime_s: sample.uptime_s };
            let observation = tracker
                .observe(report, &env.params.uptime_rules)
                .map_err(|e| invalid(index, UptimeReportProblem::Tracker(e)))?;
            if observation.violation.is_some() {
                violations = violations.saturating_add(1);
            }
            evicted.extend(observation.evicted);
        }
        self.trackers.insert(node_id, tracker);
        for period in evicted {
            self.evicted.insert((node_id, period.period), period);
        }
        self.next_period.get_or_insert(first_period);
        let reports = u32::try_from(samples.len()).unwrap_or(u32::MAX);
        Ok(vec![Event::UptimeReported { node_id, reports, violations }])
    }

    /// The `Tick` phase closing every minting period whose end (plus `mint_close_delay_s`) has passed.
    pub(crate) fn close_periods(
        &mut self,
        env: &Env<'_>,
        ledger: &Ledger,
        capacity: &CapacityMarket,
        events: &mut Vec<Event>,
    ) {
        if !env.params.minting_enabled {
            return;
        }
        while let Some(period) = self.next_period {
            if env.now < period_end(period).saturating_add(env.params.mint_close_delay_s) {
                return;
            }
            self.close_period(env, ledger, capacity, period, events);
            self.next_period = period.checked_add(1);
        }
    }

    /// The receipts of one period: every node that reported, with its reward before any cap scaling.
    fn receipts_of(&mut self, params: &Params, capacity: &CapacityMarket, period: u32) -> Vec<MintReceipt> {
        let node_ids: Vec<NodeId> = self.trackers.keys().copied().collect();
        let mut receipts = Vec::with_capacity(node_ids.len());
        for node_id in node_ids {
            let closed = match self.evicted.remove(&(node_id, period)) {
                Some(evicted) => Some(evicted),
                None => self.trackers.get_mut(&node_id).and_then(|t| t.close_period(period).ok()),
            };
            let Some(uptime) = closed.filter(|u| u.reports != 0 || u.credited_s != 0) else { continue };
            let Some(node) = capacity.nodes().get(&node_id) else { continue };
            let reward = node_reward(params, node, &uptime);
            receipts.push(MintReceipt {
                node_id,
                farm_id: node.farm_id,
                period,
                resources: node.resources,
                certified: node.certified,
                credited_s: uptime.credited_s,
                uptime_permill: uptime.uptime_permill(),
                violations: uptime.violations,
                violation: violation_code(&uptime),
                reward_unscaled: reward,
                reward,
            });
        }
        receipts
    }

    /// Utilization of period `period` for the seed rule's early release (spec §11): time-weighted, counted
    /// leased slice-seconds over offered slice-seconds ([`CapacityMarket::leased_slice_seconds`]: self-leases
    /// and unpaid grace excluded), in bps. Kept for every reporting node from its first period so a later
    /// vesting record sees its whole history.
    fn record_utilization(&mut self, capacity: &CapacityMarket, period: u32) {
        for node_id in self.trackers.keys() {
            if !capacity.nodes().contains_key(node_id) {
                continue;
            }
            let leased = capacity.leased_slice_seconds(*node_id, period);
            let offered = capacity.offered_slice_seconds(*node_id, period);
            let bps = minting::utilization_bps(leased, offered);
            self.utilization.entry(*node_id).or_default().push(bps);
            if let Some(vesting) = self.vesting.get_mut(node_id) {
                vesting.record.utilization_bps.push(bps);
            }
        }
    }

    /// Closes one minting period into a report: receipts, utilization history, scaling to the cap headroom
    /// left after reports not yet minted, and the canonical JSON and hash guardians sign.
    fn close_period(
        &mut self,
        env: &Env<'_>,
        ledger: &Ledger,
        capacity: &CapacityMarket,
        period: u32,
        events: &mut Vec<Event>,
    ) {
        let mut receipts = self.receipts_of(env.params, capacity, period);
        self.record_utilization(capacity, period);
        let pending: i128 =
            self.reports.values().filter(|r| r.minted_at.is_none()).map(|r| r.total.units()).sum();
        let supply = global_tft_supply(env.params, ledger, self.tft_minted);
        let headroom =
            env.params.tft_supply_cap.units().saturating_sub(supply).saturating_sub(pending).max(0);
        let rewards: Vec<(NodeId, Amount<Tft>)> = receipts.iter().map(|r| (r.node_id, r.reward)).collect();
        let (scaled, was_scaled) = minting::scale_to_cap(&rewards, Amount::from_units(headroom))
            .unwrap_or_else(|_| (rewards.iter().map(|(n, _)| (*n, Amount::ZERO)).collect(), true));
        for (receipt, (_, amount)) in receipts.iter_mut().zip(scaled) {
            receipt.reward = amount;
        }
        let total = Amount::from_units(receipts.iter().map(|r| r.reward.units()).sum());
        let canonical_json = serde_json::to_string(&receipts).expect("receipts serialize");
        let hash = blake3::hash(canonical_json.as_bytes()).to_hex().to_string();
        let nodes = u32::try_from(receipts.len()).unwrap_or(u32::MAX);
        events.push(Event::MintReportClosed {
            period,
            nodes,
            total,
            hash: hash.clone(),
            scaled_to_cap: was_scaled,
        });
        let report = MintReport {
            period,
            rule_set: env.params.reward_rules.name().to_owned(),
            receipts,
            total,
            scaled_to_cap: was_scaled,
            canonical_json,
            hash,
            signers: Vec::new(),
            minted_at: None,
        };
        self.reports.insert(period, report);
    }

    /// `SignMintReport`: a guardian signs a report's hash; at the threshold the rewards are minted (the cap
    /// checked again) into per-node vesting records.
    pub(crate) fn sign_report(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        capacity: &CapacityMarket,
        signer: AccountKey,
        (period, report_hash): (u32, &str),
    ) -> Result<Vec<Event>, Rejection> {
        env.require(signer, Role::Guardian)?;
        let report = self.reports.get(&period).ok_or(Rejection::ReportNotFound)?;
        if report.minted_at.is_some() {
            return Err(Rejection::ReportAlreadyMinted);
        }
        if report.hash != report_hash {
            return Err(Rejection::ReportHashMismatch { expected: report.hash.clone() });
        }
        if report.signers.contains(&signer) {
            return Err(Rejection::DuplicateSignature);
        }
        let counted = report.signers.iter().filter(|k| env.params.has_role(k, Role::Guardian)).count();
        let signatures = u32::try_from(counted).unwrap_or(u32::MAX).saturating_add(1);
        let threshold = env.params.guardian_threshold();
        let mut events = vec![Event::MintReportSigned { period, signatures, threshold }];
        if signatures < threshold {
            self.reports.get_mut(&period).expect("checked above").signers.push(signer);
            return Ok(events);
        }
        let total = self.mint_report(env, ledger, capacity, period)?;
        let report = self.reports.get_mut(&period).expect("checked above");
        report.signers.push(signer);
        report.minted_at = Some(env.now);
        events.push(Event::RewardsMinted { period, total: Amount::from_units(total) });
        Ok(events)
    }

    /// Mints a signed report into `vesting.locked` and the nodes' vesting records; the cap is checked again
    /// (burns may only have raised the headroom). Returns the TFT minted.
    fn mint_report(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        capacity: &CapacityMarket,
        period: u32,
    ) -> Result<i128, Rejection> {
        let report = self.reports.get(&period).ok_or(Rejection::ReportNotFound)?;
        let supply = global_tft_supply(env.params, ledger, self.tft_minted);
        let headroom = env.params.tft_supply_cap.units().saturating_sub(supply).max(0);
        let mut amounts: Vec<(NodeId, Amount<Tft>)> =
            report.receipts.iter().map(|r| (r.node_id, r.reward)).collect();
        if report.total.units() > headroom {
            amounts = minting::scale_to_cap(&amounts, Amount::from_units(headroom))
                .map(|(a, _)| a)
                .unwrap_or_default();
        }
        let total: i128 = amounts.iter().map(|(_, a)| a.units()).sum();
        if total > 0 {
            let to = Slot::System(SystemAccount::VestingLocked);
            ledger.apply(&[Posting::Mint { asset: Asset::Tft, to, units: total, inflow: Inflow::Mint }])?;
            self.tft_minted = Amount::from_units(self.tft_minted.units().saturating_add(total));
        }
        for (node_id, amount) in amounts.into_iter().filter(|(_, a)| a.is_positive()) {
            let start = match env.params.vesting_rule {
                VestingRule::Seed(_) => self.trackers.get(&node_id).and_then(|t| t.first_report_at()),
                VestingRule::Release36m(_) => None,
            };
            let registered_at = capacity.nodes().get(&node_id).map_or(env.now, |n| n.registered_at);
            let start = start.unwrap_or(registered_at);
            let history = self.utilization.get(&node_id).cloned().unwrap_or_default();
            let vesting = self.vesting.entry(node_id).or_insert_with(|| {
                let mut record = VestingRecord::new(start);
                record.utilization_bps = history;
                NodeVesting { node_id, record }
            });
            vesting.record.deposit(amount).expect("positive amounts deposit");
        }
        Ok(total)
    }

    /// The `Tick` phase releasing vested rewards to the farm owners; a farming pool's reward lock (§10) keeps
    /// members' rewards locked at least that long.
    pub(crate) fn release_vesting(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        (capacity, farming): (&CapacityMarket, &FarmingPools),
        events: &mut Vec<Event>,
    ) {
        let rule = env.params.vesting_rule;
        let month_s = match rule {
            VestingRule::Seed(r) => r.month_s,
            VestingRule::Release36m(r) => r.month_s,
        };
        for (node_id, vesting) in &mut self.vesting {
            let Some(node) = capacity.nodes().get(node_id) else { continue };
            let lock_s = i64::from(farming.reward_lock_months(node.farm_id)).saturating_mul(month_s);
            if env.now < vesting.record.start.saturating_add(lock_s) {
                continue;
            }
            let Ok(amount) = minting::releasable(&rule, &vesting.record, env.now) else { continue };
            if !amount.is_positive() {
                continue;
            }
            let Some(owner) = capacity.farm_owner(node.farm_id) else { continue };
            let Ok(to) = ledger.user_slot(&owner) else { continue };
            let from = Slot::System(SystemAccount::VestingLocked);
            let plan =
                [Posting::Transfer { asset: Asset::Tft, from, to, units: amount.units(), revenue: false }];
            if ledger.apply(&plan).is_err() {
                continue;
            }
            vesting.record.released =
                Amount::from_units(vesting.record.released.units().saturating_add(amount.units()));
            events.push(Event::RewardsReleased { node_id: *node_id, owner, tft: amount });
        }
    }

    /// `vesting.locked` holds exactly what the vesting records still hold.
    pub(crate) fn check(&self, ledger: &Ledger) -> Result<(), String> {
        let locked: i128 = self
            .vesting
            .values()
            .map(|v| v.record.total.units().saturating_sub(v.record.released.units()))
            .sum();
        let account = ledger.balance(AccountRef::System(SystemAccount::VestingLocked), Asset::Tft);
        if locked != account {
            return Err(format!("vesting records hold {locked} TFT but vesting.locked has {account}"));
        }
        Ok(())
    }
}
