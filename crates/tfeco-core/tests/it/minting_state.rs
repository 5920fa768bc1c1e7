//! Minting through `State::apply` (spec `decisions.md` §11, §12, §1 supply cap): nodes report uptime with
//! their own key (`SetNodeKey`, `ReportUptime` in batches of at most 1,000 samples), `Tick` closes v3
//! period [`P`] at `period_end(P) + 2,460` into a report (receipts in canonical JSON and their blake3
//! hash), nine guardians sign the hash (threshold 6), and the rewards vest per node (seed rule or
//! `release_36m`), released by `Tick`.
//!
//! Genesis is at `period_start(P)` with nine guardians (see `governance.rs`). Expected rewards are computed
//! here with the pure `tfeco_core::minting::v3_reward` from the catalogue model's resources, and checked
//! against hand-computed literals (M1-style: 16 cores, 32 GB, 1,000 GB SSD at 100 % = 22,600 mUSD = 282.5
//! TFT at the 0.08 connection price).

use tfeco_core::rules::minting::{
    period_end, period_start, releasable, uptime_permill, v3_reward, vested, Certification, NodeResources,
    Release36mRule, V3NodeInput, V3Rules, VestingRule, PERIOD_S,
};
use tfeco_core::slices::rewards::MintReport;
use tfeco_core::{AccountKey, Billing, Command, Event, FarmId, NodeId, Receipt, SystemAccount, UptimeSample};
use tfeco_money::{Amount, Asset, Tft, Usdc};

use crate::governance::{guardian_harness, submit_prices, GENESIS_PERIOD};
use crate::harness::{model, tokens, Harness};

/// The minting period of these tests (genesis is at its first second).
const P: u32 = GENESIS_PERIOD;
/// `mint_close_delay_s`: a period closes at the first Tick at or after its end plus this.
const CLOSE_DELAY: i64 = 2_460;
/// Reports every 40 minutes.
const INTERVAL: i64 = 2_400;
/// 282.5 TFT: 3Node Home (16 cores, 32 GB, 1,000 GB SSD), DIY, 100 % uptime.
const HOME_FULL: i128 = 2_825_000_000;
/// 1,440.625 TFT: Nvidia 6000 (1x) (24 cores, 128 GB, 4,000 GB), certified (+25 % on policy 1), 100 %.
const NVIDIA_FULL: i128 = 14_406_250_000;

/// A node with its reporting key.
#[derive(Clone, Copy, Debug)]
struct TestNode {
    id: NodeId,
    key: AccountKey,
}

/// A farmer (seed `farmer_seed`) with one farm.
fn farmer(h: &mut Harness, farmer_seed: u8) -> (AccountKey, FarmId) {
    let farmer = h.register(farmer_seed);
    let farm = h.farm(farmer);
    (farmer, farm)
}

/// Registers a node of `model_name` (listed at its band minimum) and names its report key (seed `key_seed`).
fn add_node(h: &mut Harness, farmer: AccountKey, farm: FarmId, model_name: &str, key_seed: u8) -> TestNode {
    let price = model(model_name).slice_price_min_month.to_string();
    let id = h.node(farmer, farm, model_name, &price);
    let key = h.register(key_seed);
    let events = h.apply(farmer, Command::SetNodeKey { node_id: id, node_key: key });
    assert_eq!(events, vec![Event::NodeKeySet { node_id: id, key }]);
    TestNode { id, key }
}

fn sample(at: i64, uptime_s: u64) -> UptimeSample {
    UptimeSample { at, uptime_s }
}

/// A healthy node booted at `boot`, reporting every 40 minutes at `from, from + 2,400, ...` while `< until`.
fn clean_stream(boot: i64, from: i64, until: i64) -> Vec<UptimeSample> {
    (0..)
        .map(|i| from + i * INTERVAL)
        .take_while(|t| *t < until)
        .map(|t| sample(t, (t - boot) as u64))
        .collect()
}

/// A whole period `k` of healthy reports: from `period_start(k) + 5` (booted 1,000 s before the period) to
/// the first report of `k + 1`, which carries the tail of `k`.
fn clean_period(k: u32) -> Vec<UptimeSample> {
    clean_stream(period_start(k) - 1_000, period_start(k) + 5, period_end(k) + INTERVAL)
}

/// Reports `samples` for `node` in batches of at most 1,000, first ticking to the last sample's time if
/// needed. Returns the `UptimeReported` violation counts of the batches.
fn report_uptime(h: &mut Harness, node: TestNode, samples: &[UptimeSample]) -> Vec<u32> {
    let last = samples.last().expect("samples").at;
    if h.state.now() < last {
        h.tick_to(last);
    }
    samples
        .chunks(1_000)
        .map(|batch| {
            let events =
                h.apply(node.key, Command::ReportUptime { node_id: node.id, reports: batch.to_vec() });
            match events.as_slice() {
                [Event::UptimeReported { node_id, reports, violations }] => {
                    assert_eq!((*node_id, *reports as usize), (node.id, batch.len()));
                    *violations
                }
                other => panic!("unexpected events {other:?}"),
            }
        })
        .collect()
}

/// Ticks to one second before period `k` may close (no report yet), then to the close; returns the report.
fn close(h: &mut Harness, k: u32) -> MintReport {
    h.tick_to(period_end(k) + CLOSE_DELAY - 1);
    assert!(!h.state.rewards().reports().contains_key(&k), "period {k} closed too early");
    let events = h.tick_to(period_end(k) + CLOSE_DELAY);
    let report = h.state.rewards().reports()[&k].clone();
    assert!(events.contains(&Event::MintReportClosed {
        period: k,
        nodes: report.receipts.len() as u32,
        total: report.total,
        hash: report.hash.clone(),
        scaled_to_cap: report.scaled_to_cap,
    }));
    report
}

/// Each of `signers` signs period `k`'s report with its hash, as a guardian re-computes it: blake3 over the
/// canonical JSON.
fn sign(h: &mut Harness, signers: &[AccountKey], k: u32) -> Vec<Receipt> {
    let report = &h.state.rewards().reports()[&k];
    let hash = blake3::hash(report.canonical_json.as_bytes()).to_hex().to_string();
    assert_eq!(hash, report.hash, "the published hash is blake3 of the canonical JSON");
    signers
        .iter()
        .map(|g| h.apply(*g, Command::SignMintReport { period: k, report_hash: hash.clone() }))
        .collect()
}

/// The v3 reward of a catalogue model for one period, computed with the pure rules (DIY or certified
/// from the catalogue, farming policy 1, memory and SSD in GiB as the engine reads them).
fn expected_v3(model_name: &str, uptime_permill: u32) -> Amount<Tft> {
    let m = model(model_name);
    let r = m.resources;
    let input = V3NodeInput {
        resources: NodeResources::from_gib(r.cpu_cores, u64::from(r.mem_gb), u64::from(r.ssd_gb), 0)
            .expect("fits"),
        nru_bytes: 0,
        ipv4_seconds: 0,
        certification: if m.certified { Certification::Certified } else { Certification::Diy },
        farming_policy_id: 1,
        uptime_permill,
        violation: false,
        virtualized: false,
    };
    v3_reward(&input, &V3Rules::default()).expect("policy 1 exists").payout_tft
}

fn vesting_locked(h: &Harness) -> i128 {
    h.system(SystemAccount::VestingLocked, Asset::Tft)
}

fn released(events: &[Event]) -> Vec<(NodeId, AccountKey, i128)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::RewardsReleased { node_id, owner, tft } => Some((*node_id, *owner, tft.units())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_clean_period_pays_the_exact_v3_reward_after_it_closes_and_six_guardians_sign() {
    let (mut h, g) = guardian_harness(9, |_| {});
    let (farmer_key, farm) = farmer(&mut h, 20);
    let home = add_node(&mut h, farmer_key, farm, "3Node Home", 40);
    let nvidia = add_node(&mut h, farmer_key, farm, "Nvidia 6000 (1x)", 41);
    let samples = clean_period(P);
    assert!(samples.len() > 1_000, "two batches: {}", samples.len());
    assert!(samples.last().unwrap().at >= period_end(P));
    for node in [home, nvidia] {
        assert_eq!(report_uptime(&mut h, node, &samples), vec![0, 0], "no violation");
    }
    assert_eq!(h.state.rewards().next_period(), Some(P));

    let report = close(&mut h, P);
    assert_eq!(report.rule_set, "v3");
    assert!(!report.scaled_to_cap);
    assert_eq!(report.signers, vec![]);
    assert_eq!(report.minted_at, None);
    assert_eq!(h.state.rewards().next_period(), Some(P + 1));
    assert_eq!(report.receipts.len(), 2);
    for (receipt, (node, name, full)) in report
        .receipts
        .iter()
        .zip([(home, "3Node Home", HOME_FULL), (nvidia, "Nvidia 6000 (1x)", NVIDIA_FULL)])
    {
        assert_eq!((receipt.node_id, receipt.farm_id, receipt.period), (node.id, farm, P));
        assert_eq!(receipt.credited_s, PERIOD_S as u64, "{name}: the whole period is credited");
        assert_eq!(receipt.uptime_permill, 1_000);
        assert_eq!(uptime_permill(receipt.credited_s, PERIOD_S), 1_000);
        assert_eq!((receipt.violations, receipt.violation.clone()), (0, None));
        assert_eq!(receipt.reward, expected_v3(name, 1_000), "{name}");
        assert_eq!(receipt.reward.units(), full, "{name}");
        assert_eq!(receipt.reward_unscaled, receipt.reward);
        assert_eq!(receipt.certified, model(name).certified);
    }
    assert_eq!(report.total.units(), HOME_FULL + NVIDIA_FULL);
    // The canonical JSON is the receipts array.
    let json: serde_json::Value = serde_json::from_str(&report.canonical_json).expect("JSON");
    assert_eq!(json.as_array().map(Vec::len), Some(2));
    assert_eq!(json[0]["node_id"], serde_json::json!(home.id.0));

    // Nothing is minted before the threshold.
    sign(&mut h, &g[..5], P);
    assert_eq!(vesting_locked(&h), 0);
    let events = sign(&mut h, &g[5..6], P).remove(0);
    assert_eq!(events.last(), Some(&Event::RewardsMinted { period: P, total: report.total }));
    assert_eq!(vesting_locked(&h), HOME_FULL + NVIDIA_FULL);
    let external = h.state.params().tft_supply_external.units();
    assert_eq!(h.state.global_tft_supply(), external + HOME_FULL + NVIDIA_FULL);
    let vesting = h.state.rewards().vesting();
    assert_eq!(vesting[&home.id].record.total.units(), HOME_FULL);
    assert_eq!(vesting[&nvidia.id].record.total.units(), NVIDIA_FULL);
    assert_eq!(vesting[&home.id].record.start, samples[0].at, "seed rule: from the first report");
    // Locked: nothing reaches the farmer yet.
    assert_eq!(h.balance(farmer_key, Asset::Tft), 0);
    assert_eq!(h.replay_hash(), h.state.state_hash());
}

#[test]
fn five_of_nine_signatures_mint_nothing_and_the_sixth_mints() {
    let (mut h, g) = guardian_harness(9, |_| {});
    let (farmer_key, farm) = farmer(&mut h, 20);
    let node = add_node(&mut h, farmer_key, farm, "3Node Home", 40);
    report_uptime(&mut h, node, &clean_period(P));
    let report = close(&mut h, P);
    assert_eq!(report.total.units(), HOME_FULL);
    let hash = report.hash.clone();
    let sign_with = |hash: &str| Command::SignMintReport { period: P, report_hash: hash.to_owned() };

    for (i, guardian) in g[..5].iter().enumerate() {
        let events = h.apply(*guardian, sign_with(&hash));
        assert_eq!(
            events,
            vec![Event::MintReportSigned { period: P, signatures: i as u32 + 1, threshold: 6 }]
        );
    }
    let nothing_minted = |h: &Harness| {
        let report = &h.state.rewards().reports()[&P];
        report.minted_at.is_none()
            && h.state.rewards().vesting().is_empty()
            && vesting_locked(h) == 0
            && h.state.global_tft_supply() == h.state.params().tft_supply_external.units()
    };
    assert!(nothing_minted(&h));

    // A repeated signature is refused and does not count twice.
    assert_eq!(h.reject(g[0], sign_with(&hash)).code().as_str(), "duplicate_signature");
    assert_eq!(h.reject(g[4], sign_with(&hash)).code().as_str(), "duplicate_signature");
    assert_eq!(h.state.rewards().reports()[&P].signers, g[..5].to_vec());
    assert!(nothing_minted(&h));

    // A signature over an altered report (a reward raised in the canonical JSON, re-hashed) is refused.
    let altered_json = report.canonical_json.replacen("282.5", "2825", 1);
    assert_ne!(altered_json, report.canonical_json);
    let altered = blake3::hash(altered_json.as_bytes()).to_hex().to_string();
    let rejection = h.reject(g[5], sign_with(&altered));
    assert_eq!(rejection.code().as_str(), "report_hash_mismatch");
    assert_eq!(rejection, tfeco_core::Rejection::ReportHashMismatch { expected: hash.clone() });
    assert_eq!(h.reject(g[5], sign_with(&"0".repeat(64))).code().as_str(), "report_hash_mismatch");
    assert!(nothing_minted(&h));

    // Not a guardian: the operator, the farmer, the node's own key.
    for outsider in [h.operator, farmer_key, node.key] {
        assert_eq!(h.reject(outsider, sign_with(&hash)).code().as_str(), "not_authorized");
    }
    // Unknown period.
    assert_eq!(
        h.reject(g[5], Command::SignMintReport { period: P + 5, report_hash: hash.clone() }).code().as_str(),
        "report_not_found"
    );
    assert!(nothing_minted(&h));

    // The sixth distinct guardian mints, into the lock.
    let events = h.apply(g[5], sign_with(&hash));
    assert_eq!(
        events,
        vec![
            Event::MintReportSigned { period: P, signatures: 6, threshold: 6 },
            Event::RewardsMinted { period: P, total: Amount::from_units(HOME_FULL) },
        ]
    );
    let minted = &h.state.rewards().reports()[&P];
    assert_eq!(minted.minted_at, Some(h.state.now()));
    assert_eq!(minted.signers, g[..6].to_vec());
    assert_eq!(vesting_locked(&h), HOME_FULL);
    assert_eq!(h.state.ledger().totals(Asset::Tft).minted, HOME_FULL);
    assert_eq!(h.state.global_tft_supply(), h.state.params().tft_supply_external.units() + HOME_FULL);
    // After minting, further signatures are refused; nothing mints twice.
    assert_eq!(h.reject(g[6], sign_with(&hash)).code().as_str(), "report_already_minted");
    assert_eq!(h.reject(g[0], sign_with(&hash)).code().as_str(), "report_already_minted");
    assert_eq!(vesting_locked(&h), HOME_FULL);
    assert_eq!(h.replay_hash(), h.state.state_hash());
}

#[test]
fn each_violation_from_a_minimal_report_sequence_zeroes_the_receipt() {
    let (mut h, g) = guardian_harness(9, |_| {});
    let (farmer_key, farm) = farmer(&mut h, 20);
    let t0 = period_start(P) + 10_000;
    let cases: [(&str, Option<&str>, Vec<UptimeSample>); 5] = [
        // Uptime grew 2,521 s in 2,400 s: more than the 60 s grace.
        ("too high", Some("uptime_too_high"), vec![sample(t0, 5_000), sample(t0 + 2_400, 7_521)]),
        // Grew 2,339 s in 2,400 s (below 2,340), yet too much to be a reboot.
        ("too low", Some("uptime_too_low"), vec![sample(t0, 100_000), sample(t0 + 2_400, 102_339)]),
        // Went back (a reboot) but to 5,000 s: the implied boot is before the previous report.
        ("invalid reboot", Some("invalid_reboot"), vec![sample(t0, 100_000), sample(t0 + 2_400, 5_000)]),
        // +40 s per report, inside the grace each time; the boot time drifts 120 s by the fourth.
        (
            "clock skew",
            Some("clock_skew"),
            vec![
                sample(t0, 50_000),
                sample(t0 + 2_400, 52_440),
                sample(t0 + 4_800, 54_880),
                sample(t0 + 7_200, 57_320),
            ],
        ),
        // Control: a valid reboot (600 s of uptime 2,400 s after the previous report).
        ("valid reboot", None, vec![sample(t0, 100_000), sample(t0 + 2_400, 600)]),
    ];
    // Every node is registered before its first sample (samples before a node's registration are refused).
    let nodes: Vec<TestNode> =
        (0..cases.len()).map(|i| add_node(&mut h, farmer_key, farm, "3Node Home", 40 + i as u8)).collect();
    for ((name, code, samples), node) in cases.iter().zip(&nodes) {
        assert!(h.state.capacity().nodes()[&node.id].registered_at < samples[0].at, "{name}");
        let violations = report_uptime(&mut h, *node, samples);
        assert_eq!(violations, vec![u32::from(code.is_some())], "{name}");
    }
    let report = close(&mut h, P);
    assert_eq!(report.receipts.len(), cases.len());
    for ((name, code, _), (receipt, node)) in cases.iter().zip(report.receipts.iter().zip(&nodes)) {
        assert_eq!(receipt.node_id, node.id);
        assert_eq!(receipt.violation.as_deref(), *code, "{name}");
        assert_eq!(receipt.violations, u32::from(code.is_some()), "{name}");
        assert_eq!(receipt.reward, Amount::ZERO, "{name}");
        assert_eq!(receipt.reward_unscaled, Amount::ZERO, "{name}");
    }
    assert_eq!(report.total, Amount::ZERO);
    // Signing a zero report mints nothing (and moves nothing).
    sign(&mut h, &g[..6], P);
    assert!(h.state.rewards().reports()[&P].minted_at.is_some());
    assert_eq!(vesting_locked(&h), 0);
    assert!(h.state.rewards().vesting().is_empty());
}

#[test]
fn a_violation_zeroes_a_period_that_would_otherwise_be_paid() {
    let (mut h, g) = guardian_harness(9, |_| {});
    let (farmer_key, farm) = farmer(&mut h, 20);
    let clean = clean_period(P);
    let k = 500; // mid-period
    let shifted = |from: usize, by: u64| -> Vec<UptimeSample> {
        clean
            .iter()
            .enumerate()
            .map(|(i, s)| if i >= from { sample(s.at, s.uptime_s + by) } else { *s })
            .collect()
    };
    let mut too_high = shifted(k, 200); // a jump of 200 s, then the stream goes on from there
    too_high.truncate(clean.len());
    let mut too_low = clean.clone();
    too_low[k].uptime_s -= 100; // one report 100 s short, then normal again
    let mut invalid_reboot = clean.clone();
    invalid_reboot[k].uptime_s = 5_000; // one report of a "reboot" before the previous report
    let mut skew = shifted(k + 2, 120); // +40, +80, then +120 s for good
    skew[k].uptime_s += 40;
    skew[k + 1].uptime_s += 80;
    let cases = [
        ("clean", None, clean.clone()),
        ("too high", Some("uptime_too_high"), too_high),
        ("too low", Some("uptime_too_low"), too_low),
        ("invalid reboot", Some("invalid_reboot"), invalid_reboot),
        ("clock skew", Some("clock_skew"), skew),
    ];
    // Every node is registered before its first sample (samples before a node's registration are refused).
    let nodes: Vec<TestNode> =
        (0..cases.len()).map(|i| add_node(&mut h, farmer_key, farm, "3Node Home", 40 + i as u8)).collect();
    for ((name, _, samples), node) in cases.iter().zip(&nodes) {
        assert!(h.state.capacity().nodes()[&node.id].registered_at < samples[0].at, "{name}");
        report_uptime(&mut h, *node, samples);
    }
    let report = close(&mut h, P);
    for ((name, code, _), receipt) in cases.iter().zip(&report.receipts) {
        assert!(receipt.uptime_permill >= 990, "{name}: {} permill would be paid", receipt.uptime_permill);
        assert_eq!(receipt.violation.as_deref(), *code, "{name}");
        let expected = if code.is_some() { Amount::ZERO } else { Amount::from_units(HOME_FULL) };
        assert_eq!(receipt.reward, expected, "{name}");
        assert_eq!(code.is_some(), receipt.violations > 0, "{name}");
    }
    assert_eq!(report.total.units(), HOME_FULL);
    sign(&mut h, &g[..6], P);
    assert_eq!(h.state.rewards().vesting().keys().copied().collect::<Vec<_>>(), vec![nodes[0].id]);
}

/// Largest-remainder pro-rata scaling computed here (the spec's rule), independent of the core.
fn scale_exactly(rewards: &[i128], headroom: i128) -> Vec<i128> {
    let total: i128 = rewards.iter().sum();
    let mut out: Vec<i128> = rewards.iter().map(|r| r * headroom / total).collect();
    let mut order: Vec<usize> = (0..rewards.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(rewards[i] * headroom % total), i));
    let short = headroom - out.iter().sum::<i128>();
    for &i in order.iter().take(short as usize) {
        out[i] += 1;
    }
    out
}

#[test]
fn a_report_crossing_one_billion_tft_is_scaled_exactly_to_the_cap() {
    let headroom = tokens(100);
    let (mut h, g) = guardian_harness(9, |p| {
        p.tft_supply_external = Amount::from_units(p.tft_supply_cap.units() - headroom);
    });
    let cap = h.state.params().tft_supply_cap.units();
    assert_eq!(cap, tokens(1_000_000_000));
    let (farmer_key, farm) = farmer(&mut h, 20);
    let home = add_node(&mut h, farmer_key, farm, "3Node Home", 40);
    let nvidia = add_node(&mut h, farmer_key, farm, "Nvidia 6000 (1x)", 41);
    for node in [home, nvidia] {
        report_uptime(&mut h, node, &clean_period(P));
    }
    let report = close(&mut h, P);
    assert!(report.scaled_to_cap);
    let unscaled: Vec<i128> = report.receipts.iter().map(|r| r.reward_unscaled.units()).collect();
    assert_eq!(unscaled, vec![HOME_FULL, NVIDIA_FULL]);
    let scaled: Vec<i128> = report.receipts.iter().map(|r| r.reward.units()).collect();
    assert_eq!(scaled, scale_exactly(&unscaled, headroom));
    assert_eq!(report.total.units(), headroom);
    assert!(report.receipts.iter().all(|r| r.reward <= r.reward_unscaled));
    sign(&mut h, &g[..6], P);
    assert_eq!(vesting_locked(&h), headroom);
    assert_eq!(h.state.global_tft_supply(), cap, "exactly the cap, not one unit more");

    // At the cap, the next period's report is scaled to nothing.
    let last = clean_period(P).last().expect("samples").at;
    let next_samples = clean_stream(period_start(P) - 1_000, last + INTERVAL, period_end(P + 1) + INTERVAL);
    for node in [home, nvidia] {
        report_uptime(&mut h, node, &next_samples);
    }
    let next = close(&mut h, P + 1);
    assert!(next.scaled_to_cap);
    assert!(next.receipts.iter().all(|r| r.reward.is_zero() && r.reward_unscaled.is_positive()));
    sign(&mut h, &g[..6], P + 1);
    assert_eq!(h.state.global_tft_supply(), cap);
}

#[test]
fn seed_rule_releases_two_years_after_the_first_report_not_before() {
    // One tick of two years (above the default `max_tick_advance_s`): vesting is judged by time, not by
    // the number of ticks.
    let (mut h, g) = guardian_harness(9, |p| p.max_tick_advance_s = tfeco_core::params::MAX_DURATION_S);
    let (farmer_key, farm) = farmer(&mut h, 20);
    let node = add_node(&mut h, farmer_key, farm, "3Node Home", 40);
    let samples = clean_period(P);
    report_uptime(&mut h, node, &samples);
    close(&mut h, P);
    sign(&mut h, &g[..6], P);
    let start = samples[0].at;
    let unlock = start + 24 * PERIOD_S;
    let rule = h.state.params().vesting_rule;
    assert!(matches!(rule, VestingRule::Seed(_)));

    let events = h.tick_to(unlock - 1);
    assert!(released(&events).is_empty());
    let record = &h.state.rewards().vesting()[&node.id].record;
    assert_eq!(record.start, start);
    // One (idle) entry per period closed since the node's first: P ..= P+22 (P+23 closes 2,460 s after its end).
    assert_eq!(record.utilization_bps.len(), 23);
    assert_eq!(vested(&rule, record, unlock - 1), Ok(Amount::ZERO));
    assert_eq!(releasable(&rule, record, unlock), Ok(Amount::from_units(HOME_FULL)));
    assert_eq!((h.balance(farmer_key, Asset::Tft), vesting_locked(&h)), (0, HOME_FULL));

    let events = h.tick_to(unlock);
    assert_eq!(released(&events), vec![(node.id, farmer_key, HOME_FULL)]);
    assert_eq!((h.balance(farmer_key, Asset::Tft), vesting_locked(&h)), (HOME_FULL, 0));
    let record = &h.state.rewards().vesting()[&node.id].record;
    assert_eq!((record.total.units(), record.released.units()), (HOME_FULL, HOME_FULL));
    // Released once.
    assert!(released(&h.advance(PERIOD_S)).is_empty());
    assert_eq!(h.balance(farmer_key, Asset::Tft), HOME_FULL);
    assert_eq!(h.replay_hash(), h.state.state_hash());
}

#[test]
fn seed_rule_releases_early_after_three_period_closes_at_thirty_percent_utilization() {
    let (mut h, g) = guardian_harness(9, |_| {});
    // Gold from six guardians, for a fiat entry of the tenant.
    submit_prices(&mut h, &g[..6], tfeco_core::PriceFeed::GoldUsdPerOz, "4228");
    let tenant = h.register(30);
    let operator = h.operator;
    h.apply(
        operator,
        Command::EnterWithFiat {
            to: tenant,
            usd: Amount::<Usdc>::from_units(tokens(1_000)),
            payment_id: "p-1".to_owned(),
        },
    );
    let (farmer_key, farm) = farmer(&mut h, 20);
    // Two 20-slice nodes: 6 slices leased (3,000 bps) and 5 (2,500 bps), monthly until cancelled.
    let busy = add_node(&mut h, farmer_key, farm, "Large TFGrid Node 2", 40);
    let idle = add_node(&mut h, farmer_key, farm, "Large TFGrid Node 2", 41);
    assert_eq!(h.state.capacity().nodes()[&busy.id].offered_slices, 20);
    h.open_lease(tenant, busy.id, 6, Billing::Monthly, None);
    h.open_lease(tenant, idle.id, 5, Billing::Monthly, None);
    for node in [busy, idle] {
        report_uptime(&mut h, node, &clean_period(P));
    }
    let report = close(&mut h, P);
    let reward = expected_v3("Large TFGrid Node 2", 1_000).units();
    assert_eq!(report.total.units(), 2 * reward);
    sign(&mut h, &g[..6], P);

    // The history starts with the node's first period close (P), copied into the record at the mint.
    let vesting = h.state.rewards().vesting();
    assert_eq!(vesting[&busy.id].record.utilization_bps, vec![3_000]);
    assert_eq!(vesting[&idle.id].record.utilization_bps, vec![2_500]);

    // Close of P+1: two qualifying closes (P, P+1), still locked.
    let events = h.tick_to(period_end(P + 1) + CLOSE_DELAY);
    assert!(released(&events).is_empty(), "period {}", P + 1);
    h.tick_to(period_end(P + 2) + CLOSE_DELAY - 1);
    assert_eq!(vesting_locked(&h), 2 * reward);
    // The third close at >= 30 % (P+2): the busy node's rewards are released, the other node's stay locked.
    let events = h.tick_to(period_end(P + 2) + CLOSE_DELAY);
    assert_eq!(released(&events), vec![(busy.id, farmer_key, reward)]);
    let vesting = h.state.rewards().vesting();
    assert_eq!(vesting[&busy.id].record.utilization_bps, vec![3_000; 3]);
    assert_eq!(vesting[&idle.id].record.utilization_bps, vec![2_500; 3]);
    assert_eq!((h.balance(farmer_key, Asset::Tft), vesting_locked(&h)), (reward, reward));
    // At 25 % the other node stays locked at later closes too.
    let events = h.tick_to(period_end(P + 3) + CLOSE_DELAY);
    assert!(released(&events).is_empty(), "period {}", P + 3);
    let vesting = h.state.rewards().vesting();
    assert_eq!(vesting[&idle.id].record.utilization_bps, vec![2_500; 4]);
    assert_eq!((h.balance(farmer_key, Asset::Tft), vesting_locked(&h)), (reward, reward));
    assert_eq!(h.replay_hash(), h.state.state_hash());
}

/// A tenant holding the CC of a 1,000 USD fiat entry (gold from six guardians, observed now).
fn fiat_tenant(h: &mut Harness, g: &[AccountKey], seed: u8) -> AccountKey {
    submit_prices(h, &g[..6], tfeco_core::PriceFeed::GoldUsdPerOz, "4228");
    let tenant = h.register(seed);
    let operator = h.operator;
    let payment_id = h.external_id("payment");
    let usd = Amount::<Usdc>::from_units(tokens(1_000));
    h.apply(operator, Command::EnterWithFiat { to: tenant, usd, payment_id });
    tenant
}

/// Issue 10 item 8 (decisions §9: "ties: higher node uptime score, then lowest node id"): two equal offers
/// in a reverse auction go to the node with the higher uptime of the last closed minting period, even when
/// its id is higher. Before the fix the score was 0 for every node and the lower id (the half-period node)
/// won; now the full-period node (1,000 permill against 500) wins.
#[test]
fn equal_offers_go_to_the_node_with_the_higher_uptime_of_the_last_closed_period() {
    let (mut h, g) = guardian_harness(9, |_| {});
    let tenant = fiat_tenant(&mut h, &g, 30);
    let (farmer_a, farm_a) = farmer(&mut h, 20);
    let (farmer_b, farm_b) = farmer(&mut h, 21);
    let half = add_node(&mut h, farmer_a, farm_a, "3Node Home", 40);
    let full = add_node(&mut h, farmer_b, farm_b, "3Node Home", 41);
    assert!(half.id < full.id, "the better node has the higher id");
    report_uptime(&mut h, full, &clean_period(P));
    let mid = period_start(P) + PERIOD_S / 2;
    report_uptime(&mut h, half, &clean_stream(mid - 1_000, mid, period_end(P) + INTERVAL));
    let report = close(&mut h, P);
    let permill: Vec<(NodeId, u32)> = report.receipts.iter().map(|r| (r.node_id, r.uptime_permill)).collect();
    assert_eq!(permill, vec![(half.id, 500), (full.id, 1_000)]);
    let rewards = h.state.rewards();
    assert_eq!((rewards.uptime_score(half.id), rewards.uptime_score(full.id)), (500, 1_000));
    assert_eq!(rewards.uptime_score(NodeId(99)), 0, "a node outside the last report scores 0");

    let price = model("3Node Home").slice_price_min_month;
    let requirements = tfeco_core::Requirements { min_passmark: 2_000, min_mem_gb: 4, ..Default::default() };
    let post = Command::PostCapacityRequest {
        requirements,
        n_slices: 1,
        max_price_month: price,
        periods: Some(1),
        window_s: 86_400,
    };
    let request_id = match h.apply(tenant, post).as_slice() {
        [Event::CapacityRequestPosted { request_id, .. }] => *request_id,
        other => panic!("unexpected events {other:?}"),
    };
    // The lower id offers first: neither order nor id beats uptime.
    for (who, node) in [(farmer_a, half), (farmer_b, full)] {
        h.apply(who, Command::OfferCapacity { request_id, node_id: node.id, price_month: price });
    }
    h.advance(86_400);
    let leased: Vec<(NodeId, u32)> = h
        .state
        .capacity()
        .leases()
        .values()
        .filter(|l| l.tenant == tenant)
        .map(|l| (l.node_id, l.n_slices))
        .collect();
    assert_eq!(leased, vec![(full.id, 1)], "the higher uptime wins the price tie");
    assert_eq!(h.replay_hash(), h.state.state_hash());
}

/// Opens a lease that must be accepted; returns its id.
fn lease(
    h: &mut Harness,
    tenant: AccountKey,
    node: TestNode,
    n_slices: u32,
    billing: Billing,
) -> tfeco_core::LeaseId {
    h.open_lease(tenant, node.id, n_slices, billing, None)
}

/// Issue 10 item 1 (decisions §11: the early release needs >= 30 % **time-weighted** utilization for 3
/// consecutive minting periods, self-leases excluded). Five Mini 1 nodes (7 slices each) of farmer `F`,
/// whose farm is in `O`'s farming pool with `M`'s farm; all report period P and are minted:
/// - `self_node`: `F` leases 3 of its own 7 slices (hourly) half an hour before each of three closes and
///   cancels after (the issue's attack). Before: snapshots of 4,285 bps at each close, released ~23 months
///   early. After: excluded, `[0, 0, 0]`, locked;
/// - `around`: a third party does the same: time-weighted it is `[2, 11, 11]` bps, locked;
/// - `real`: a third party leases 3 slices all the time: `[4285; 3]`, released at the third close;
/// - `pooled`: the pool's owner leases 3 slices all the time: excluded, locked;
/// - `member` (on `M`'s farm): `F`, a fellow member, leases 3 slices all the time; `M`'s farm leaves the
///   pool half-way through P+1, so `F`'s lease counts from then: `[0, 2142, 4285]`, locked.
#[test]
fn early_release_needs_time_weighted_utilization_without_self_leases() {
    let (mut h, g) = guardian_harness(9, |_| {});
    let (farmer_f, farm_f) = farmer(&mut h, 20);
    let (farmer_m, farm_m) = farmer(&mut h, 21);
    let owner = h.register(22);
    let tenant = h.register(30);
    submit_prices(&mut h, &g[..6], tfeco_core::PriceFeed::GoldUsdPerOz, "4228");
    for who in [farmer_f, farmer_m, owner, tenant] {
        let payment_id = h.external_id("payment");
        let usd = Amount::<Usdc>::from_units(tokens(1_000));
        h.apply(h.operator, Command::EnterWithFiat { to: who, usd, payment_id });
    }
    let rules: tfeco_core::PoolRules = serde_json::from_str(
        r#"{"fee_bps": 0, "price_policy": "free", "reward_lock_months": 0, "exit_quota_bps": 10000}"#,
    )
    .expect("pool rules");
    h.apply(owner, Command::CreateFarmingPool { name: "pool".to_owned(), rules });
    let pool_id = tfeco_core::FarmingPoolId(1);
    let membership = |farm_id, change| Command::SignPoolMembership { pool_id, farm_id, change };
    for (farmer_key, farm) in [(farmer_f, farm_f), (farmer_m, farm_m)] {
        h.apply(owner, membership(farm, tfeco_core::MembershipChange::Join));
        h.apply(farmer_key, membership(farm, tfeco_core::MembershipChange::Join));
    }
    let self_node = add_node(&mut h, farmer_f, farm_f, "Mini 1", 40);
    let around = add_node(&mut h, farmer_f, farm_f, "Mini 1", 41);
    let real = add_node(&mut h, farmer_f, farm_f, "Mini 1", 42);
    let pooled = add_node(&mut h, farmer_f, farm_f, "Mini 1", 43);
    let member = add_node(&mut h, farmer_m, farm_m, "Mini 1", 44);
    let nodes = [self_node, around, real, pooled, member];
    assert_eq!(h.state.capacity().nodes()[&self_node.id].offered_slices, 7);
    lease(&mut h, tenant, real, 3, Billing::Monthly);
    lease(&mut h, owner, pooled, 3, Billing::Monthly);
    lease(&mut h, farmer_f, member, 3, Billing::Monthly);

    let mut released_at_closes = Vec::new();
    for k in [P, P + 1, P + 2] {
        if k == P + 1 {
            // `M`'s farm leaves the pool half-way through P+1 (both signatures).
            h.tick_to(period_start(k) + PERIOD_S / 2);
            h.apply(owner, membership(farm_m, tfeco_core::MembershipChange::Leave));
            h.apply(farmer_m, membership(farm_m, tfeco_core::MembershipChange::Leave));
        }
        // Half an hour before the period ends: 3 of 7 slices, hourly, by the farmer and by a third party.
        h.tick_to(period_end(k) - 1_800);
        let attack = lease(&mut h, farmer_f, self_node, 3, Billing::Hourly);
        let nearby = lease(&mut h, tenant, around, 3, Billing::Hourly);
        if k == P {
            for node in nodes {
                report_uptime(&mut h, node, &clean_period(P));
            }
        }
        let events = h.tick_to(period_end(k) + CLOSE_DELAY);
        released_at_closes.push(released(&events));
        for id in [attack, nearby] {
            h.apply(h.lease(id).tenant, Command::CancelLease { lease_id: id });
        }
        if k == P {
            sign(&mut h, &g[..6], P);
        }
    }
    let history = |node: TestNode| h.state.rewards().vesting()[&node.id].record.utilization_bps.clone();
    let bps = |slice_s: u64| tfeco_core::rules::minting::utilization_bps(slice_s, 7 * PERIOD_S as u64);
    assert_eq!(history(self_node), vec![0, 0, 0], "the farmer's own lease does not count");
    assert_eq!(history(around), vec![bps(3 * 1_800), bps(3 * 7_200), bps(3 * 7_200)]);
    assert_eq!(history(around), vec![2, 11, 11], "three hours of three slices are not 30 %");
    assert_eq!(history(real), vec![4_285; 3], "3 of 7 slices all the time");
    assert_eq!(history(pooled), vec![0, 0, 0], "the pool owner's lease does not count");
    assert_eq!(history(member), vec![0, bps(3 * (PERIOD_S as u64 / 2)), 4_285]);
    assert_eq!(history(member)[1], 2_142);
    let reward = h.state.rewards().vesting()[&real.id].record.total.units();
    assert!(reward > 0);
    assert_eq!(released_at_closes, vec![vec![], vec![], vec![(real.id, farmer_f, reward)]]);
    assert_eq!(vesting_locked(&h), 4 * reward, "the other four nodes stay locked");
    assert_eq!(h.replay_hash(), h.state.state_hash());
}

#[test]
fn release_36m_pays_nothing_for_eleven_months_then_four_percent_a_month_totalling_exactly_the_reward() {
    // The cap leaves room for an odd total (1,234,567,891 units), so the monthly 4 % is not a whole unit.
    let total: i128 = 1_234_567_891;
    let (mut h, g) = guardian_harness(9, |p| {
        p.vesting_rule = VestingRule::Release36m(Release36mRule::default());
        p.tft_supply_external = Amount::from_units(p.tft_supply_cap.units() - total);
    });
    let (farmer_key, farm) = farmer(&mut h, 20);
    let node = add_node(&mut h, farmer_key, farm, "3Node Home", 40);
    let start = h.state.capacity().nodes()[&node.id].registered_at;
    assert_eq!(start, period_start(P));
    report_uptime(&mut h, node, &clean_period(P));
    close(&mut h, P);
    sign(&mut h, &g[..6], P);
    let rule = h.state.params().vesting_rule;
    let record = &h.state.rewards().vesting()[&node.id].record;
    assert_eq!((record.total.units(), record.start), (total, start), "release_36m counts from registration");

    let mut per_month = vec![0i128; 41]; // index = month (1-based)
    for month in 2..=40i64 {
        let events = h.tick_to(start + month * PERIOD_S - 1);
        assert!(released(&events).is_empty(), "nothing in the middle of month {month}");
        let events = h.tick_to(start + month * PERIOD_S);
        per_month[month as usize] = released(&events).iter().map(|(_, _, units)| units).sum();
        let record = &h.state.rewards().vesting()[&node.id].record;
        assert_eq!(vested(&rule, record, h.state.now()), Ok(record.released), "month {month}");
    }
    assert!(per_month[1..=11].iter().all(|&x| x == 0), "months 1-11 pay nothing: {per_month:?}");
    assert!(per_month[37..].iter().all(|&x| x == 0), "nothing after month 36");
    let mut cumulative = 0;
    for (j, month) in (12..=36).enumerate() {
        let j = j as i128 + 1;
        let amount = per_month[month];
        assert!(amount == total / 25 || amount == total / 25 + 1, "month {month}: {amount}");
        cumulative += amount;
        assert_eq!(cumulative, total * j / 25, "month {month}: floor(total * {j} / 25) vested");
    }
    assert_eq!(cumulative, total, "exactly 100 %");
    assert_eq!((h.balance(farmer_key, Asset::Tft), vesting_locked(&h)), (total, 0));
}

/// Tests that show bugs in `src/` found while writing this file. They fail today; enable the module
/// (remove the `cfg`) together with the fix.
mod known_bugs_lead {
    use super::*;

    /// BUG (src/rewards.rs, `apply_report_uptime`): samples are accepted with any time not after `now`
    /// and not in a closed period, including times **before the node was registered**. A node registered
    /// 20 days into period P reports a full period of samples from the period's start, back-filled in
    /// batches, and is paid for 100 % uptime. (The first node to report in a fresh system can even date
    /// samples back to period 0 of 2018: `next_period` is then set to that period, every later Tick closes
    /// the periods in between, and the seed lock-up start, `first_report_at`, lies years in the past.)
    ///
    /// Expected: a sample before the node's `registered_at` is refused (`uptime_report_invalid`).
    /// Actual: accepted.
    #[test]
    fn uptime_samples_before_the_node_existed_are_refused() {
        let (mut h, _) = guardian_harness(9, |_| {});
        h.tick_to(period_start(P) + 20 * 86_400);
        let (farmer_key, farm) = farmer(&mut h, 20);
        let node = add_node(&mut h, farmer_key, farm, "3Node Home", 40);
        let registered_at = h.state.capacity().nodes()[&node.id].registered_at;
        // The first sample of a full period, 20 days before the node existed.
        let first = clean_period(P)[0];
        assert!(first.at < registered_at);
        let backdated = Command::ReportUptime { node_id: node.id, reports: vec![first] };
        assert_eq!(h.reject(node.key, backdated).code().as_str(), "uptime_report_invalid");
    }

    /// BUG (src/rewards.rs, `close_minting_period`): the utilization history of a vesting record starts at
    /// the first period close *after the first mint*, so the node's first month (the period whose report
    /// created the record) is never recorded. A node leased at 30 % from its registration through periods
    /// P, P+1 and P+2 has had 3 consecutive months at >= 30 % when P+2 closes, but is released only when
    /// P+3 closes. (The other weakness found then, each entry being a snapshot at the close Tick, is fixed
    /// by the time-weighted utilization: `early_release_needs_time_weighted_utilization_without_self_leases`.)
    ///
    /// Expected: released at the close of P+2. Actual: at the close of P+3.
    #[test]
    fn the_first_month_of_utilization_counts_for_the_early_release() {
        let (mut h, g) = guardian_harness(9, |_| {});
        submit_prices(&mut h, &g[..6], tfeco_core::PriceFeed::GoldUsdPerOz, "4228");
        let tenant = h.register(30);
        let operator = h.operator;
        h.apply(
            operator,
            Command::EnterWithFiat {
                to: tenant,
                usd: Amount::<Usdc>::from_units(tokens(1_000)),
                payment_id: "p-1".to_owned(),
            },
        );
        let (farmer_key, farm) = farmer(&mut h, 20);
        let busy = add_node(&mut h, farmer_key, farm, "Large TFGrid Node 2", 40);
        h.open_lease(tenant, busy.id, 6, Billing::Monthly, None);
        report_uptime(&mut h, busy, &clean_period(P));
        close(&mut h, P);
        sign(&mut h, &g[..6], P);
        h.tick_to(period_end(P + 1) + CLOSE_DELAY);
        let events = h.tick_to(period_end(P + 2) + CLOSE_DELAY);
        assert_eq!(released(&events).len(), 1, "months P, P+1, P+2 were all at 30 %");
    }

    /// BUG (gap): `PoolRules::reward_lock_months` is documented "Months the members' minted rewards stay
    /// locked (applied by vesting)" (src/farming.rs, spec `decisions.md` §10 `reward_lock`), but nothing
    /// reads it: a member node of a pool with a 36-month reward lock is released by the seed rule after 24.
    ///
    /// Expected: still locked 24 months after the first report. Actual: released.
    #[test]
    fn a_farming_pools_reward_lock_keeps_member_rewards_locked() {
        let (mut h, g) = guardian_harness(9, |p| p.max_tick_advance_s = tfeco_core::params::MAX_DURATION_S);
        let (farmer_key, farm) = farmer(&mut h, 20);
        let rules: tfeco_core::PoolRules = serde_json::from_str(
            r#"{"fee_bps": 0, "price_policy": "free", "reward_lock_months": 36, "exit_quota_bps": 10000}"#,
        )
        .expect("pool rules");
        h.apply(farmer_key, Command::CreateFarmingPool { name: "locked".to_owned(), rules });
        let join = tfeco_core::MembershipChange::Join;
        h.apply(
            farmer_key,
            Command::SignPoolMembership {
                pool_id: tfeco_core::FarmingPoolId(1),
                farm_id: farm,
                change: join,
            },
        );
        let node = add_node(&mut h, farmer_key, farm, "3Node Home", 40);
        let samples = clean_period(P);
        report_uptime(&mut h, node, &samples);
        close(&mut h, P);
        sign(&mut h, &g[..6], P);
        let events = h.tick_to(samples[0].at + 24 * PERIOD_S);
        assert!(released(&events).is_empty(), "the pool locks member rewards for 36 months");
    }
}
