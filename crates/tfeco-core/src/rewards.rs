//! Node rewards in the state machine (spec `decisions.md` §11): node keys and uptime reports, minting periods
//! closed by `Tick` into reports (per-node receipts in canonical JSON and their hash), minting only after the
//! guardian threshold signed the hash and never above the 1,000,000,000 TFT cap, and vesting of minted
//! rewards released on `Tick`. The rules themselves are the pure functions of [`crate::minting`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Asset, Tft};

use crate::catalogue::Resources;
use crate::event::Event;
use crate::ids::{AccountKey, FarmId, NodeId, SystemAccount};
use crate::ledger::{Inflow, Posting, Slot};
use crate::minting::{
    self, capacity_reward, period_end, period_of, v3_reward, CapacityResources, Certification, NodeResources,
    PeriodUptime, UptimeReport, UptimeTracker, V3NodeInput, VestingRecord,
};
use crate::params::RewardRules;
use crate::rejection::Rejection;
use crate::state::State;

/// One uptime sample of a node: at `at` (unix seconds) the node had been up `uptime_s` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UptimeSample {
    /// Report time, unix seconds (not after the state's time).
    pub at: i64,
    /// Seconds since boot.
    pub uptime_s: u64,
}

/// One node's line in a minting report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeVesting {
    /// The node.
    pub node_id: NodeId,
    /// The record (total, released, start, monthly utilization).
    pub record: VestingRecord,
}

/// Minting and vesting records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Rewards {
    pub(crate) node_keys: BTreeMap<AccountKey, NodeId>,
    /// The reverse of `node_keys`.
    pub(crate) key_of_node: BTreeMap<NodeId, AccountKey>,
    pub(crate) trackers: BTreeMap<NodeId, UptimeTracker>,
    /// Periods a tracker had to finalize early (kept until the period is closed).
    pub(crate) evicted: BTreeMap<(NodeId, u32), PeriodUptime>,
    pub(crate) next_period: Option<u32>,
    pub(crate) reports: BTreeMap<u32, MintReport>,
    pub(crate) vesting: BTreeMap<NodeId, NodeVesting>,
    /// Utilization (bps) of every reporting node at each period close, oldest first.
    pub(crate) utilization: BTreeMap<NodeId, Vec<u16>>,
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
}

fn violation_code(period: &PeriodUptime) -> Option<String> {
    period.violation.map(|v| v.kind().code().to_owned())
}

impl State {
    /// `SetNodeKey`: the farmer names the (registered) key its node signs uptime reports with.
    pub(crate) fn apply_set_node_key(
        &mut self,
        farmer: AccountKey,
        node_id: NodeId,
        key: AccountKey,
    ) -> Result<Vec<Event>, Rejection> {
        let node = self.market.nodes.get(&node_id).ok_or(Rejection::NodeNotFound)?;
        if self.market.farms[&node.farm_id].owner != farmer {
            return Err(Rejection::NotOwner);
        }
        if self.ledger.account(&key).is_none() {
            return Err(Rejection::AccountNotFound { account: key });
        }
        if self.rewards.node_keys.get(&key).is_some_and(|n| *n != node_id) {
            return Err(Rejection::NodeKeyMismatch);
        }
        if let Some(previous) = self.rewards.key_of_node.insert(node_id, key) {
            self.rewards.node_keys.remove(&previous);
        }
        self.rewards.node_keys.insert(key, node_id);
        Ok(vec![Event::NodeKeySet { node_id, key }])
    }

    /// `ReportUptime`: a batch of the node's uptime samples, fed to its tracker in order. Violations are
    /// recorded (they zero the period's reward), not refused; malformed reports refuse the whole batch.
    pub(crate) fn apply_report_uptime(
        &mut self,
        signer: AccountKey,
        node_id: NodeId,
        samples: &[UptimeSample],
    ) -> Result<Vec<Event>, Rejection> {
        if self.rewards.node_keys.get(&signer) != Some(&node_id) {
            return Err(Rejection::NodeKeyMismatch);
        }
        if samples.is_empty() || samples.len() > self.params.max_uptime_reports_per_command as usize {
            return Err(Rejection::LimitExceeded {
                what: "uptime reports per command".to_owned(),
                limit: u64::from(self.params.max_uptime_reports_per_command),
            });
        }
        let invalid =
            |index: usize, reason: String| Rejection::UptimeReportInvalid { index: index as u32, reason };
        let first_period = period_of(samples[0].at)
            .ok_or_else(|| invalid(0, "before the first minting period".to_owned()))?;
        let mut tracker =
            self.rewards.trackers.get(&node_id).cloned().unwrap_or_else(|| UptimeTracker::new(first_period));
        let mut evicted = Vec::new();
        let mut violations = 0u32;
        let registered_at = self.market.nodes.get(&node_id).ok_or(Rejection::NodeNotFound)?.registered_at;
        for (index, sample) in samples.iter().enumerate() {
            if sample.at <= registered_at {
                return Err(invalid(
                    index,
                    format!("report time {} is not after the node's registration {registered_at}", sample.at),
                ));
            }
            if sample.at > self.now {
                return Err(invalid(
                    index,
                    format!("report time {} is after the current time {}", sample.at, self.now),
                ));
            }
            if self.rewards.next_period.is_some_and(|next| period_of(sample.at).is_some_and(|p| p < next)) {
                return Err(invalid(index, "the report's minting period is already closed".to_owned()));
            }
            let observation = tracker
                .observe(
                    UptimeReport { timestamp: sample.at, uptime_s: sample.uptime_s },
                    &self.params.uptime_rules,
                )
                .map_err(|e| invalid(index, format!("{e:?}")))?;
            if observation.violation.is_some() {
                violations += 1;
            }
            if let Some(period) = observation.evicted {
                evicted.push(period);
            }
        }
        self.rewards.trackers.insert(node_id, tracker);
        for period in evicted {
            self.rewards.evicted.insert((node_id, period.period), period);
        }
        if self.rewards.next_period.is_none() {
            self.rewards.next_period = Some(first_period);
        }
        Ok(vec![Event::UptimeReported { node_id, reports: samples.len() as u32, violations }])
    }

    /// Closes every minting period whose end (plus `mint_close_delay_s`) has passed (called by `Tick`).
    pub(crate) fn close_minting_periods(&mut self, events: &mut Vec<Event>) {
        if !self.params.minting_enabled {
            return;
        }
        while let Some(period) = self.rewards.next_period {
            if self.now < period_end(period) + self.params.mint_close_delay_s {
                return;
            }
            self.close_minting_period(period, events);
            self.rewards.next_period = Some(period + 1);
        }
    }

    fn node_reward(&self, node_id: NodeId, uptime: &PeriodUptime) -> Amount<Tft> {
        let node = &self.market.nodes[&node_id];
        let r = &node.resources;
        let violation = uptime.violation.is_some();
        let result = match &self.params.reward_rules {
            RewardRules::V3(rules) => NodeResources::from_gib(
                r.cpu_cores,
                u64::from(r.mem_gb),
                u64::from(r.ssd_gb),
                0,
            )
            .and_then(|resources| {
                let input = V3NodeInput {
                    resources,
                    nru_bytes: 0,
                    ipv4_seconds: 0,
                    certification: if node.certified { Certification::Certified } else { Certification::Diy },
                    farming_policy_id: 1,
                    uptime_permill: minting::uptime_permill(uptime.credited_s, rules.period_s),
                    violation,
                    virtualized: false,
                };
                v3_reward(&input, rules).map(|reward| reward.payout_tft)
            }),
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

    fn close_minting_period(&mut self, period: u32, events: &mut Vec<Event>) {
        let node_ids: Vec<NodeId> = self.rewards.trackers.keys().copied().collect();
        let mut receipts = Vec::with_capacity(node_ids.len());
        for node_id in node_ids {
            let closed = match self.rewards.evicted.remove(&(node_id, period)) {
                Some(evicted) => Some(evicted),
                None => self.rewards.trackers.get_mut(&node_id).and_then(|t| t.close_period(period).ok()),
            };
            let Some(uptime) = closed else { continue };
            if uptime.reports == 0 && uptime.credited_s == 0 {
                continue;
            }
            let node = &self.market.nodes[&node_id];
            let reward = self.node_reward(node_id, &uptime);
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
        // Utilization snapshot for the vesting rule (leased / offered slices at the close, bps), kept for every
        // reporting node from its first period so a later vesting record sees its whole history.
        let tracked: Vec<NodeId> = self.rewards.trackers.keys().copied().collect();
        for node_id in tracked {
            let node = &self.market.nodes[&node_id];
            let bps = (u64::from(node.leased_slices) * 10_000 / u64::from(node.offered_slices.max(1))) as u16;
            self.rewards.utilization.entry(node_id).or_default().push(bps);
            if let Some(vesting) = self.rewards.vesting.get_mut(&node_id) {
                vesting.record.utilization_bps.push(bps);
            }
        }
        // Never cross the cap: scale against the headroom left after reports not yet minted.
        let pending: i128 =
            self.rewards.reports.values().filter(|r| r.minted_at.is_none()).map(|r| r.total.units()).sum();
        let headroom = (self.params.tft_supply_cap.units() - self.global_tft_supply() - pending).max(0);
        let rewards: Vec<(NodeId, Amount<Tft>)> = receipts.iter().map(|r| (r.node_id, r.reward)).collect();
        let (scaled, was_scaled) = minting::scale_to_cap(&rewards, Amount::from_units(headroom))
            .unwrap_or_else(|_| (rewards.iter().map(|(n, _)| (*n, Amount::ZERO)).collect(), true));
        for (receipt, (_, amount)) in receipts.iter_mut().zip(scaled) {
            receipt.reward = amount;
        }
        let total = Amount::from_units(receipts.iter().map(|r| r.reward.units()).sum());
        let canonical_json = serde_json::to_string(&receipts).expect("receipts serialize");
        let hash = blake3::hash(canonical_json.as_bytes()).to_hex().to_string();
        events.push(Event::MintReportClosed {
            period,
            nodes: receipts.len() as u32,
            total,
            hash: hash.clone(),
            scaled_to_cap: was_scaled,
        });
        self.rewards.reports.insert(
            period,
            MintReport {
                period,
                rule_set: self.params.reward_rules.name().to_owned(),
                receipts,
                total,
                scaled_to_cap: was_scaled,
                canonical_json,
                hash,
                signers: Vec::new(),
                minted_at: None,
            },
        );
    }

    /// `SignMintReport`: a guardian signs a report's hash; at the threshold the rewards are minted into
    /// per-node vesting records.
    pub(crate) fn apply_sign_mint_report(
        &mut self,
        signer: AccountKey,
        period: u32,
        report_hash: &str,
    ) -> Result<Vec<Event>, Rejection> {
        if !self.params.is_guardian(&signer) {
            return Err(Rejection::NotAuthorized { role: "guardian".to_owned() });
        }
        let report = self.rewards.reports.get(&period).ok_or(Rejection::ReportNotFound)?;
        if report.minted_at.is_some() {
            return Err(Rejection::ReportAlreadyMinted);
        }
        if report.hash != report_hash {
            return Err(Rejection::ReportHashMismatch { expected: report.hash.clone() });
        }
        if report.signers.contains(&signer) {
            return Err(Rejection::DuplicateSignature);
        }
        let valid = report.signers.iter().filter(|k| self.params.is_guardian(k)).count() + 1;
        let threshold = self.params.guardian_threshold() as usize;
        let mut events =
            vec![Event::MintReportSigned { period, signatures: valid as u32, threshold: threshold as u32 }];
        if valid < threshold {
            self.rewards.reports.get_mut(&period).expect("checked above").signers.push(signer);
            return Ok(events);
        }
        // Mint: the cap is checked again (burns may only have raised the headroom).
        let report = &self.rewards.reports[&period];
        let headroom = (self.params.tft_supply_cap.units() - self.global_tft_supply()).max(0);
        let mut amounts: Vec<(NodeId, Amount<Tft>)> =
            report.receipts.iter().map(|r| (r.node_id, r.reward)).collect();
        if report.total.units() > headroom {
            amounts = minting::scale_to_cap(&amounts, Amount::from_units(headroom))
                .map(|(a, _)| a)
                .unwrap_or_default();
        }
        let total: i128 = amounts.iter().map(|(_, a)| a.units()).sum();
        if total > 0 {
            let plan = [Posting::Mint {
                asset: Asset::Tft,
                to: Slot::System(SystemAccount::VestingLocked),
                units: total,
                inflow: Inflow::Mint,
            }];
            self.ledger.validate(&plan)?;
            self.ledger.commit(&plan);
            self.tft_rewards_minted = Amount::from_units(self.tft_rewards_minted.units() + total);
        }
        for (node_id, amount) in amounts {
            if !amount.is_positive() {
                continue;
            }
            let start = match self.params.vesting_rule {
                minting::VestingRule::Seed(_) => {
                    self.rewards.trackers.get(&node_id).and_then(|t| t.first_report_at())
                }
                minting::VestingRule::Release36m(_) => None,
            }
            .unwrap_or(self.market.nodes[&node_id].registered_at);
            let history = self.rewards.utilization.get(&node_id).cloned().unwrap_or_default();
            let vesting = self.rewards.vesting.entry(node_id).or_insert_with(|| {
                let mut record = VestingRecord::new(start);
                record.utilization_bps = history;
                NodeVesting { node_id, record }
            });
            vesting.record.deposit(amount).expect("positive amounts deposit");
        }
        let report = self.rewards.reports.get_mut(&period).expect("checked above");
        report.signers.push(signer);
        report.minted_at = Some(self.now);
        events.push(Event::RewardsMinted { period, total: Amount::from_units(total) });
        Ok(events)
    }

    /// Releases vested rewards to the farm owners (called by `Tick`).
    pub(crate) fn release_vesting(&mut self, events: &mut Vec<Event>) {
        let rule = self.params.vesting_rule;
        let node_ids: Vec<NodeId> = self.rewards.vesting.keys().copied().collect();
        for node_id in node_ids {
            let vesting = &self.rewards.vesting[&node_id];
            // A farming pool's reward lock (spec §10) keeps members' rewards locked at least that long.
            let farm_id = self.market.nodes[&node_id].farm_id;
            let pool_lock_months = self.farming.pool_of(farm_id).map_or(0, |p| p.rules.reward_lock_months);
            let month_s = match rule {
                minting::VestingRule::Seed(r) => r.month_s,
                minting::VestingRule::Release36m(r) => r.month_s,
            };
            if self.now
                < vesting.record.start.saturating_add(i64::from(pool_lock_months).saturating_mul(month_s))
            {
                continue;
            }
            let Ok(amount) = minting::releasable(&rule, &vesting.record, self.now) else { continue };
            if !amount.is_positive() {
                continue;
            }
            let owner = self.market.farms[&self.market.nodes[&node_id].farm_id].owner;
            let Some(to) = self.ledger.slot_of(&owner) else { continue };
            let plan = [Posting::Transfer {
                asset: Asset::Tft,
                from: Slot::System(SystemAccount::VestingLocked),
                to,
                units: amount.units(),
                revenue: false,
            }];
            if self.ledger.validate(&plan).is_err() {
                continue;
            }
            self.ledger.commit(&plan);
            let record = &mut self.rewards.vesting.get_mut(&node_id).expect("listed").record;
            record.released = Amount::from_units(record.released.units() + amount.units());
            events.push(Event::RewardsReleased { node_id, owner, tft: amount });
        }
    }

    /// Locked TFT equals what vesting records still hold.
    pub(crate) fn check_vesting(&self) -> Result<(), String> {
        let locked: i128 =
            self.rewards.vesting.values().map(|v| v.record.total.units() - v.record.released.units()).sum();
        let account =
            self.ledger.balance(crate::ids::AccountRef::System(SystemAccount::VestingLocked), Asset::Tft);
        if locked != account {
            return Err(format!("vesting records hold {locked} TFT but vesting.locked has {account}"));
        }
        Ok(())
    }
}
