//! Views of minting and vesting: minting reports, vesting records and a node's running uptime.

use tfeco_api::rewards::{
    AmountOrError, MintReceiptView, MintReportDetail, MintReportSummary, MintReportsView, MintStatus,
    UptimePeriodView, UptimeView, VestingRecordBrief, VestingRecordView, VestingTotals, VestingView,
};
use tfeco_core::rules::minting::{
    period_end, period_of, period_start, releasable, vested, MintingError, PeriodUptime, UptimeTracker,
    VestingRecord, VestingRule,
};
use tfeco_core::slices::rewards::MintReport;
use tfeco_core::{AccountKey, NodeId, Params, State};
use tfeco_money::{Amount, Tft};

fn report_summary(report: &MintReport, params: &Params) -> MintReportSummary {
    MintReportSummary {
        period: report.period,
        period_start: period_start(report.period),
        period_end: period_end(report.period),
        rule_set: report.rule_set.clone(),
        nodes: report.receipts.len(),
        total: report.total,
        hash: report.hash.clone(),
        // Signatures of current guardians: what counts toward the threshold.
        signatures: report.signers.iter().filter(|k| params.is_guardian(k)).count(),
        threshold: params.guardian_threshold(),
        signers: report.signers.clone(),
        status: if report.minted_at.is_some() { MintStatus::Minted } else { MintStatus::Pending },
        minted_at: report.minted_at,
        scaled_to_cap: report.scaled_to_cap,
    }
}

/// `GET /v1/mint/reports`.
pub fn mint_reports(state: &State) -> MintReportsView {
    let params = state.params();
    let rewards = state.rewards();
    MintReportsView {
        now: state.now(),
        minting_enabled: params.minting_enabled,
        rule_set: params.reward_rules.name().to_owned(),
        next_period: rewards.next_period(),
        next_close_at: rewards.next_period().map(|k| period_end(k) + params.mint_close_delay_s),
        threshold: params.guardian_threshold(),
        tft_global_supply: Amount::from_units(state.global_tft_supply()),
        tft_supply_cap: params.tft_supply_cap,
        reports: rewards.reports().values().map(|r| report_summary(r, params)).collect(),
    }
}

/// `GET /v1/mint/reports/{period}`; `None` when there is no report of this period.
pub fn mint_report(state: &State, period: u32) -> Option<MintReportDetail> {
    let report = state.rewards().reports().get(&period)?;
    let receipts = report
        .receipts
        .iter()
        .map(|r| MintReceiptView {
            node_id: r.node_id,
            farm_id: r.farm_id,
            period: r.period,
            resources: r.resources,
            certified: r.certified,
            credited_s: r.credited_s,
            uptime_permill: r.uptime_permill,
            violations: r.violations,
            violation: r.violation.clone(),
            reward_unscaled: r.reward_unscaled,
            reward: r.reward,
        })
        .collect();
    Some(MintReportDetail {
        summary: report_summary(report, state.params()),
        receipts,
        unscaled_total: Amount::from_units(report.receipts.iter().map(|r| r.reward_unscaled.units()).sum()),
        canonical_json: report.canonical_json.clone(),
    })
}

fn rule_name(rule: &VestingRule) -> &'static str {
    match rule {
        VestingRule::Seed(_) => "seed",
        VestingRule::Release36m(_) => "release_36m",
    }
}

/// When the record unlocks by time (seed rule), or when its last step vests (`release_36m`).
fn schedule_end(rule: &VestingRule, start: i64) -> i64 {
    match rule {
        VestingRule::Seed(seed) => {
            start.saturating_add(i64::from(seed.lock_months).saturating_mul(seed.month_s))
        }
        VestingRule::Release36m(r) => start.saturating_add(
            i64::from(r.locked_months.saturating_add(r.release_months)).saturating_mul(r.month_s),
        ),
    }
}

fn amount_or_error(result: &Result<Amount<Tft>, MintingError>) -> AmountOrError {
    match result {
        Ok(amount) => AmountOrError::Amount(*amount),
        Err(e) => AmountOrError::Error { error: e.to_string() },
    }
}

/// Adds each amount of `values` to `sums` (total, released, locked, vested, releasable).
fn add_to(sums: &mut [i128; 5], values: [i128; 5]) {
    for (slot, value) in sums.iter_mut().zip(values) {
        *slot = slot.saturating_add(value);
    }
}

/// `GET /v1/vesting`: the vesting records of the nodes of `owner`'s farms (all nodes when `None`).
pub fn vesting(state: &State, owner: Option<AccountKey>) -> VestingView {
    let rule = state.params().vesting_rule;
    let now = state.now();
    let market = state.capacity();
    let mut sums = [0i128; 5];
    let records: Vec<VestingRecordView> = state
        .rewards()
        .vesting()
        .values()
        .filter_map(|v| {
            let node = market.nodes().get(&v.node_id)?;
            let farm_owner = market.farms().get(&node.farm_id)?.owner;
            if owner.is_some_and(|o| o != farm_owner) {
                return None;
            }
            let record = &v.record;
            let vested_now = vested(&rule, record, now);
            let releasable_now = releasable(&rule, record, now);
            let units = |r: &Result<Amount<Tft>, MintingError>| r.as_ref().map_or(0, |a| a.units());
            add_to(
                &mut sums,
                [
                    record.total.units(),
                    record.released.units(),
                    record.locked().units(),
                    units(&vested_now),
                    units(&releasable_now),
                ],
            );
            Some(VestingRecordView {
                node_id: v.node_id,
                farm_id: node.farm_id,
                owner: farm_owner,
                total: record.total,
                released: record.released,
                locked: record.locked(),
                start: record.start,
                vested: amount_or_error(&vested_now),
                releasable: amount_or_error(&releasable_now),
                unlocks_by_time_at: schedule_end(&rule, record.start),
                utilization_bps: record.utilization_bps.clone(),
            })
        })
        .collect();
    let [total, released, locked, vested, releasable] = sums.map(Amount::from_units);
    VestingView {
        now,
        owner,
        rule: rule_name(&rule).to_owned(),
        rule_params: rule,
        records,
        totals: VestingTotals { total, released, locked, vested, releasable },
    }
}

fn period_view(summary: &PeriodUptime) -> UptimePeriodView {
    UptimePeriodView {
        period: summary.period,
        period_start: period_start(summary.period),
        period_end: period_end(summary.period),
        status: "open".to_owned(),
        credited_s: summary.credited_s,
        uptime_permill: summary.uptime_permill(),
        reports: summary.reports,
        violations: summary.violations,
        violation: summary.violation.map(|v| v.kind().code().to_owned()),
        violation_detail: summary.violation,
    }
}

fn vesting_brief(record: &VestingRecord) -> VestingRecordBrief {
    VestingRecordBrief {
        total: record.total,
        released: record.released,
        start: record.start,
        utilization_bps: record.utilization_bps.clone(),
    }
}

/// `GET /v1/nodes/{id}/uptime`; `None` when the node does not exist.
pub fn uptime(state: &State, node_id: NodeId) -> Option<UptimeView> {
    let node = state.capacity().nodes().get(&node_id)?;
    let rewards = state.rewards();
    let params = state.params();
    let tracker = rewards.tracker(node_id);
    let mut periods = Vec::new();
    if let Some(tracker) = tracker {
        let open = tracker.open_period();
        if let Some(previous) = open.checked_sub(1).and_then(|p| tracker.peek(p)) {
            periods.push(period_view(&previous));
        }
        if let Some(current) = tracker.peek(open) {
            periods.push(period_view(&current));
        }
    }
    Some(UptimeView {
        node_id,
        farm_id: node.farm_id,
        registered_at: node.registered_at,
        report_key: rewards.key_of_node(node_id),
        reporting: tracker.is_some_and(|t| t.first_report_at().is_some()),
        first_report_at: tracker.and_then(UptimeTracker::first_report_at),
        last_report: tracker.and_then(UptimeTracker::last_report),
        open_period: tracker.map(UptimeTracker::open_period),
        periods,
        now: state.now(),
        current_period: period_of(state.now()),
        next_period_to_close: rewards.next_period(),
        close_delay_s: params.mint_close_delay_s,
        rules: params.uptime_rules,
        vesting: rewards.vesting().get(&node_id).map(|v| vesting_brief(&v.record)),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn uptime_view(state: &State, node: NodeId) -> Option<Value> {
        uptime(state, node).map(|v| serde_json::to_value(v).unwrap())
    }

    fn vesting_view(state: &State, owner: Option<AccountKey>) -> Value {
        serde_json::to_value(vesting(state, owner)).unwrap()
    }

    /// One node reports a whole period 91 (the operator is the only guardian, threshold 1); built with
    /// envelopes applied directly (no signatures are needed at this level). Returns the state before the
    /// period closes, and the same state after it closed and the operator signed it.
    fn reporting_then_minted() -> (State, State, NodeId, AccountKey) {
        use tfeco_core::UptimeSample;
        use tfeco_core::{Command, Envelope, Genesis, NodeSpec};
        const CATALOGUE_CSV: &str = tfeco_core::CATALOGUE_Q4_2025_CSV;
        let operator = AccountKey([1; 32]);
        // Real public keys: a key that is not a canonical, large-order point cannot register.
        let key =
            |n: u8| AccountKey(ed25519_dalek::SigningKey::from_bytes(&[n; 32]).verifying_key().to_bytes());
        let (farmer, node_key) = (key(2), key(3));
        let start = period_start(91);
        let genesis = Genesis {
            params: Params::tfgrid4_2025(operator),
            catalogue: tfeco_core::parse_catalogue_csv(CATALOGUE_CSV).unwrap(),
            start_time: start,
        };
        let mut state = State::new(genesis);
        let mut nonce = 0;
        let mut apply = |state: &mut State, signer, command| {
            nonce += 1;
            state.apply(&Envelope { signer, nonce, command }).unwrap()
        };
        apply(&mut state, farmer, Command::RegisterAccount {});
        apply(&mut state, node_key, Command::RegisterAccount {});
        apply(&mut state, farmer, Command::RegisterFarm { name: "f".to_owned() });
        let spec = NodeSpec::Model { model: "3Node Home".to_owned() };
        apply(
            &mut state,
            farmer,
            Command::RegisterNode { farm_id: tfeco_core::FarmId(1), spec, offered_slices: None },
        );
        let node = NodeId(1);
        apply(&mut state, farmer, Command::SetNodeKey { node_id: node, node_key });
        let samples: Vec<UptimeSample> = (0..)
            .map(|i| start + 5 + i * 2_400)
            .take_while(|t| *t < period_end(91) + 2_400)
            .map(|t| UptimeSample { at: t, uptime_s: (t - start + 1_000) as u64 })
            .collect();
        apply(&mut state, operator, Command::Tick { now: period_end(91) + 2_405 });
        for batch in samples.chunks(1_000) {
            apply(&mut state, node_key, Command::ReportUptime { node_id: node, reports: batch.to_vec() });
        }
        let reporting = state.clone();
        apply(&mut state, operator, Command::Tick { now: period_end(91) + 2_460 });
        let hash = state.rewards().reports()[&91].hash.clone();
        apply(&mut state, operator, Command::SignMintReport { period: 91, report_hash: hash });
        (reporting, state, node, node_key)
    }

    #[test]
    fn uptime_and_vesting_views_read_the_trackers_and_records() {
        let (reporting, minted, node, node_key) = reporting_then_minted();
        let view = uptime_view(&reporting, node).unwrap();
        assert_eq!(view["report_key"], json!(node_key));
        assert_eq!(view["first_report_at"], json!(period_start(91) + 5));
        assert_eq!(view["open_period"], json!(92));
        assert_eq!(view["periods"][0]["period"], json!(91));
        assert_eq!(view["periods"][0]["credited_s"], json!(2_630_880));
        assert_eq!(view["periods"][0]["uptime_permill"], json!(1_000));
        assert_eq!(view["periods"][0]["violation"], Value::Null);
        assert_eq!(view["periods"][1]["period"], json!(92));
        assert_eq!(view["periods"][1]["reports"], json!(1));
        assert!(uptime_view(&reporting, NodeId(2)).is_none());

        let view = uptime_view(&minted, node).unwrap();
        assert_eq!(view["periods"].as_array().map(Vec::len), Some(1), "period 91 is closed");
        assert_eq!(view["vesting"]["total"], json!("282.5"));
        let farmer = AccountKey(ed25519_dalek::SigningKey::from_bytes(&[2; 32]).verifying_key().to_bytes());
        let vesting = vesting_view(&minted, Some(farmer));
        assert_eq!(vesting["rule"], "seed");
        let record = &vesting["records"][0];
        assert_eq!((record["total"].clone(), record["locked"].clone()), (json!("282.5"), json!("282.5")));
        assert_eq!((record["vested"].clone(), record["releasable"].clone()), (json!("0"), json!("0")));
        assert_eq!(record["unlocks_by_time_at"], json!(period_start(91) + 5 + 24 * 2_630_880));
        assert_eq!(vesting["totals"]["locked"], json!("282.5"));
        assert_eq!(vesting_view(&minted, Some(AccountKey([9; 32])))["records"], json!([]));
    }
}
