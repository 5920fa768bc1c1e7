//! What a guardian checks before signing a minting report (the `GET /v1/mint/reports/{period}` view):
//! blake3 over the canonical JSON re-computed locally, every receipt of the period, rewards within their
//! unscaled value, the total the sum of the receipts and, for the `v3` rule set, every reward re-computed
//! with the default v3 rules, reading each node as the engine does
//! ([`tfeco_core::rules::minting::engine_input`]).

use tfeco_core::rules::minting::{engine_input, v3_reward, V3Rules};
use tfeco_money::{Amount, Tft};
use tfeco_wallet::api::rewards::{MintReceiptView, MintReportDetail};

/// What a guardian checks before signing a report: returns the hash it computed itself, or why it
/// refuses.
pub(crate) fn verify_report(report: &MintReportDetail, check_rewards: bool) -> Result<String, String> {
    let summary = &report.summary;
    let hash = blake3::hash(report.canonical_json.as_bytes()).to_hex().to_string();
    if hash != summary.hash {
        return Err(format!(
            "blake3 of the canonical JSON is {hash}, but the node publishes {}",
            summary.hash
        ));
    }
    let receipts: Vec<MintReceiptView> = serde_json::from_str(&report.canonical_json)
        .map_err(|e| format!("the canonical JSON is not a receipts array: {e}"))?;
    let check_v3 = check_rewards && summary.rule_set == "v3";
    let mut total: i128 = 0;
    for r in &receipts {
        check_receipt(r, summary.period, summary.scaled_to_cap, check_v3)?;
        total = total.checked_add(r.reward.units()).ok_or("the receipts' rewards overflow")?;
    }
    if summary.total.units() != total {
        return Err(format!(
            "the total {} is not the sum of the receipts {}",
            summary.total,
            Amount::<Tft>::from_units(total)
        ));
    }
    Ok(hash)
}

/// One receipt: of the report's period, its reward within the unscaled one (equal unless scaled) and, with
/// `check_v3`, the unscaled reward the default v3 rules give.
fn check_receipt(r: &MintReceiptView, period: u32, scaled: bool, check_v3: bool) -> Result<(), String> {
    let (node, reward, unscaled) = (r.node_id, r.reward, r.reward_unscaled);
    if r.period != period {
        return Err(format!("node {node}: receipt of period {} in report {period}", r.period));
    }
    if reward.units() < 0 || reward > unscaled || (!scaled && reward != unscaled) {
        return Err(format!("node {node}: reward {reward} does not match the unscaled {unscaled}"));
    }
    if check_v3 {
        let expected = v3_receipt_reward(r).map_err(|e| format!("node {node}: {e}"))?;
        if expected != unscaled {
            return Err(format!(
                "node {node}: the v3 rules give {expected} TFT for these resources and uptime, the receipt says \
                 {unscaled} (use --skip-reward-check if the node runs other v3 rule parameters)"
            ));
        }
    }
    Ok(())
}

/// The reward of a v3 receipt re-computed with the default v3 rules.
fn v3_receipt_reward(receipt: &MintReceiptView) -> Result<Amount<Tft>, String> {
    let violation = receipt.violations > 0;
    let input = engine_input(&receipt.resources, receipt.certified, receipt.uptime_permill, violation)
        .map_err(|e| e.to_string())?;
    v3_reward(&input, &V3Rules::default()).map(|r| r.payout_tft).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use tfeco_core::{FarmId, NodeId, Resources};
    use tfeco_wallet::api::rewards::{MintReportSummary, MintStatus};

    use super::*;

    fn report_view(receipts: &[MintReceiptView], total: &str, scaled: bool) -> MintReportDetail {
        let canonical = serde_json::to_string(receipts).unwrap();
        MintReportDetail {
            summary: MintReportSummary {
                period: 91,
                period_start: 0,
                period_end: 0,
                rule_set: "v3".to_owned(),
                nodes: receipts.len(),
                total: total.parse().unwrap(),
                hash: blake3::hash(canonical.as_bytes()).to_hex().to_string(),
                signatures: 0,
                threshold: 6,
                signers: vec![],
                status: MintStatus::Pending,
                minted_at: None,
                scaled_to_cap: scaled,
            },
            receipts: receipts.to_vec(),
            unscaled_total: Amount::ZERO,
            canonical_json: canonical,
        }
    }

    fn receipt(reward: &str, unscaled: &str, uptime: u32, violations: u32) -> MintReceiptView {
        MintReceiptView {
            node_id: NodeId(1),
            farm_id: FarmId(1),
            period: 91,
            resources: Resources {
                cpu_cores: 16,
                passmark: 22_000,
                mem_gb: 32,
                ssd_gb: 1_000,
                ai_mem_gb: 0,
                ai_tps: 0,
            },
            certified: false,
            credited_s: 0,
            uptime_permill: uptime,
            violations,
            violation: None,
            reward_unscaled: unscaled.parse().unwrap(),
            reward: reward.parse().unwrap(),
        }
    }

    #[test]
    fn a_guardian_verifies_hash_total_and_v3_rewards_before_signing() {
        // 16 cores, 32 GB, 1,000 GB at 100 %: 22,600 mUSD = 282.5 TFT.
        let good = report_view(&[receipt("282.5", "282.5", 1_000, 0)], "282.5", false);
        let hash = verify_report(&good, true).unwrap();
        assert_eq!(hash, good.summary.hash);
        // The node publishes a hash that is not blake3 of its canonical JSON.
        let mut tampered = good.clone();
        tampered.canonical_json = good.canonical_json.replace("282.5", "2825");
        assert!(verify_report(&tampered, true).unwrap_err().contains("blake3"));
        // A consistent report whose reward is not what the v3 rules give.
        let inflated = report_view(&[receipt("300", "300", 1_000, 0)], "300", false);
        assert!(verify_report(&inflated, true).unwrap_err().contains("282.5"));
        assert!(verify_report(&inflated, false).is_ok(), "--skip-reward-check");
        // A violation zeroes the reward.
        let violated = report_view(&[receipt("282.5", "282.5", 1_000, 1)], "282.5", false);
        assert!(verify_report(&violated, true).is_err());
        // Totals must add up; a scaled reward must not exceed the unscaled one.
        let bad_total = report_view(&[receipt("282.5", "282.5", 1_000, 0)], "282.6", false);
        assert!(verify_report(&bad_total, true).unwrap_err().contains("sum"));
        let scaled = report_view(&[receipt("100", "282.5", 1_000, 0)], "100", true);
        assert!(verify_report(&scaled, true).is_ok());
        let unscaled_mismatch = report_view(&[receipt("100", "282.5", 1_000, 0)], "100", false);
        assert!(verify_report(&unscaled_mismatch, true).is_err());
        // A receipt of another period.
        let mut other = receipt("282.5", "282.5", 1_000, 0);
        other.period = 90;
        assert!(verify_report(&report_view(&[other], "282.5", false), true)
            .unwrap_err()
            .contains("period 90"));
    }
}
