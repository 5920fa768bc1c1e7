//! What a guardian checks before signing a minting report (the `GET /v1/mint/reports/{period}` view):
//! blake3 over the canonical JSON re-computed locally, every receipt of the period, rewards within their
//! unscaled value, the total the sum of the receipts and, for the `v3` rule set, every reward re-computed
//! with the default v3 rules.

use serde_json::Value;
use tfeco_core::rules::minting::{v3_reward, V3Rules};
use tfeco_money::{Amount, Tft};

use crate::policy::v3_input_of_receipt;

/// What a guardian checks before signing a report (the `GET /v1/mint/reports/{period}` view): returns
/// the hash it computed itself, or why it refuses.
pub(crate) fn verify_report(report: &Value, check_rewards: bool) -> Result<String, String> {
    let canonical = report["canonical_json"].as_str().ok_or("the report has no canonical_json")?;
    let hash = blake3::hash(canonical.as_bytes()).to_hex().to_string();
    let published = report["hash"].as_str().unwrap_or("");
    if hash != published {
        return Err(format!("blake3 of the canonical JSON is {hash}, but the node publishes {published}"));
    }
    let receipts: Vec<Value> = serde_json::from_str(canonical)
        .map_err(|e| format!("the canonical JSON is not a receipts array: {e}"))?;
    let amount = |v: &Value, field: &str| -> Result<Amount<Tft>, String> {
        v[field]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("receipt without a valid {field}"))
    };
    let mut total: i128 = 0;
    let scaled = report["scaled_to_cap"].as_bool().unwrap_or(false);
    let period = report["period"].as_u64();
    for r in &receipts {
        let (reward, unscaled) = (amount(r, "reward")?, amount(r, "reward_unscaled")?);
        let node = &r["node_id"];
        if r["period"].as_u64() != period {
            return Err(format!("node {node}: receipt of period {} in report {period:?}", r["period"]));
        }
        if reward.units() < 0 || reward > unscaled || (!scaled && reward != unscaled) {
            return Err(format!("node {node}: reward {reward} does not match the unscaled {unscaled}"));
        }
        total = total.checked_add(reward.units()).ok_or("the receipts' rewards overflow")?;
        if check_rewards && report["rule_set"] == "v3" {
            let expected = v3_receipt_reward(r).map_err(|e| format!("node {node}: {e}"))?;
            if expected != unscaled {
                return Err(format!(
                    "node {node}: the v3 rules give {expected} TFT for these resources and uptime, the receipt says \
                     {unscaled} (use --skip-reward-check if the node runs other v3 rule parameters)"
                ));
            }
        }
    }
    let stated = amount(report, "total")?;
    if stated.units() != total {
        return Err(format!(
            "the total {stated} is not the sum of the receipts {}",
            Amount::<Tft>::from_units(total)
        ));
    }
    Ok(hash)
}

/// The reward of a v3 receipt re-computed with the default v3 rules, reading the node as the engine does
/// ([`v3_input_of_receipt`]).
fn v3_receipt_reward(receipt: &Value) -> Result<Amount<Tft>, String> {
    let r = &receipt["resources"];
    let field = |name: &str| r[name].as_u64().ok_or_else(|| format!("receipt without resources.{name}"));
    let cores = u32::try_from(field("cpu_cores")?).map_err(|_| "cpu_cores too large".to_owned())?;
    let certified = receipt["certified"].as_bool().unwrap_or(false);
    let uptime_permill = receipt["uptime_permill"].as_u64().and_then(|u| u32::try_from(u).ok()).unwrap_or(0);
    let violation = receipt["violations"].as_u64().unwrap_or(0) > 0;
    let input = v3_input_of_receipt(
        cores,
        (field("mem_gb")?, field("ssd_gb")?),
        certified,
        uptime_permill,
        violation,
    )?;
    v3_reward(&input, &V3Rules::default()).map(|r| r.payout_tft).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn report_view(receipts: Value, total: &str, scaled: bool) -> Value {
        let canonical = receipts.to_string();
        json!({
            "period": 91, "rule_set": "v3", "total": total, "scaled_to_cap": scaled,
            "hash": blake3::hash(canonical.as_bytes()).to_hex().to_string(), "canonical_json": canonical,
        })
    }

    fn receipt(reward: &str, unscaled: &str, uptime: u32, violations: u32) -> Value {
        json!({
            "node_id": 1, "farm_id": 1, "period": 91, "certified": false, "credited_s": 0,
            "resources": { "cpu_cores": 16, "passmark": 22000, "mem_gb": 32, "ssd_gb": 1000, "ai_mem_gb": 0, "ai_tps": 0 },
            "uptime_permill": uptime, "violations": violations, "violation": null,
            "reward_unscaled": unscaled, "reward": reward,
        })
    }

    #[test]
    fn a_guardian_verifies_hash_total_and_v3_rewards_before_signing() {
        // 16 cores, 32 GB, 1,000 GB at 100 %: 22,600 mUSD = 282.5 TFT.
        let good = report_view(json!([receipt("282.5", "282.5", 1_000, 0)]), "282.5", false);
        let hash = verify_report(&good, true).unwrap();
        assert_eq!(hash, good["hash"].as_str().unwrap());
        // The node publishes a hash that is not blake3 of its canonical JSON.
        let mut tampered = good.clone();
        tampered["canonical_json"] = json!(good["canonical_json"].as_str().unwrap().replace("282.5", "2825"));
        assert!(verify_report(&tampered, true).unwrap_err().contains("blake3"));
        // A consistent report whose reward is not what the v3 rules give.
        let inflated = report_view(json!([receipt("300", "300", 1_000, 0)]), "300", false);
        assert!(verify_report(&inflated, true).unwrap_err().contains("282.5"));
        assert!(verify_report(&inflated, false).is_ok(), "--skip-reward-check");
        // A violation zeroes the reward.
        let violated = report_view(json!([receipt("282.5", "282.5", 1_000, 1)]), "282.5", false);
        assert!(verify_report(&violated, true).is_err());
        // Totals must add up; a scaled reward must not exceed the unscaled one.
        let bad_total = report_view(json!([receipt("282.5", "282.5", 1_000, 0)]), "282.6", false);
        assert!(verify_report(&bad_total, true).unwrap_err().contains("sum"));
        let scaled = report_view(json!([receipt("100", "282.5", 1_000, 0)]), "100", true);
        assert!(verify_report(&scaled, true).is_ok());
        let unscaled_mismatch = report_view(json!([receipt("100", "282.5", 1_000, 0)]), "100", false);
        assert!(verify_report(&unscaled_mismatch, true).is_err());
    }
}
