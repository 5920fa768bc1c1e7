//! Data-driven spec vectors (`test_data/vectors.json`): Pool 1 entry (§4), the revenue split (§7), the
//! hourly price rule (§9) and the CC price from gold (§1). Where the spec gives a formula, the runner also
//! recomputes the expected value with its own exact integer arithmetic, so a wrong vector fails too.

use serde::Deserialize;
use tfeco_core::rules::oracle::CcPrice;
use tfeco_core::{parse_gold_csv, Command, Event, Params, RevenueSplit, SystemAccount};
use tfeco_money::{Amount, Asset, Cc, Tft};

use crate::harness::{catalogue, cc, hourly_charge, model, price, split_charge, Harness, GOLD_CSV};

const VECTORS_JSON: &str = include_str!("../../test_data/vectors.json");

/// 31.1034768 g per troy ounce, times 10^7.
const TROY_OZ_G_E7: u128 = 311_034_768;

#[derive(Deserialize)]
struct Vectors {
    entry: Vec<EntryVector>,
    split: Vec<SplitVector>,
    lease_split: Vec<LeaseSplitVector>,
    hourly: Vec<HourlyVector>,
    cc_price: Vec<CcPriceVector>,
}

#[derive(Deserialize)]
struct EntryVector {
    id: String,
    tft_usd: String,
    /// The TFT price after the oracle's clamp, when it differs from the submitted one.
    effective_tft_usd: Option<String>,
    gold_usd_per_oz: String,
    /// `fixed` (below parity, 2 TFT per CC) or `market` (at or above parity).
    rule: String,
    tft_in: String,
    cc_out: String,
}

#[derive(Deserialize)]
struct SplitVector {
    id: String,
    charge: String,
    farmer: String,
    burn: String,
    treasury: String,
}

#[derive(Deserialize)]
struct LeaseSplitVector {
    id: String,
    model: String,
    price: String,
    slices: u32,
    expect_rejection: Option<String>,
    tenant_cc_before: Option<String>,
    tenant_cc_after: Option<String>,
    farmer: Option<String>,
    treasury: Option<String>,
    burned: Option<String>,
}

#[derive(Deserialize)]
struct HourlyVector {
    model: String,
    price: String,
    slices: u32,
    hourly: String,
}

#[derive(Deserialize)]
struct CcPriceVector {
    month: String,
    gold_usd_per_oz: String,
    cc_usd_rounded_5: String,
}

fn vectors() -> Vectors {
    serde_json::from_str(VECTORS_JSON).expect("test_data/vectors.json parses")
}

fn units(text: &str) -> i128 {
    cc(text).units()
}

fn default_params() -> Params {
    Harness::new().state.params().clone()
}

/// Independent computation of an entry (spec §4): below parity `t / 2`, otherwise `t * tft_usd / cc_usd`,
/// both rounded down. Parity: `tft_usd < cc_usd / 2` ⇔ `tft_atto * 2 * 311,034,768 < gold_atto * 10^4`.
fn expected_entry_cc(tft_units: u128, tft_usd: &str, gold: &str) -> (&'static str, u128) {
    let tft_atto = price(tft_usd).atto();
    let gold_atto = price(gold).atto();
    let below_parity = tft_atto * 2 * TROY_OZ_G_E7 < gold_atto * 10_000;
    if below_parity {
        ("fixed", tft_units / 2)
    } else {
        let numerator = tft_units.checked_mul(tft_atto).and_then(|n| n.checked_mul(TROY_OZ_G_E7));
        let numerator = numerator.expect("vector amounts fit u128");
        ("market", numerator / (gold_atto * 10_000))
    }
}

#[test]
fn entry_vectors_p1_mint_the_exact_cc_and_lock_the_tft_in_the_vault() {
    let vectors = vectors().entry;
    assert!(vectors.iter().any(|v| v.id == "P1-1"), "the P1-1 vector is present");
    for v in vectors {
        let tft_in = units(&v.tft_in);
        let cc_out = units(&v.cc_out);
        let effective = v.effective_tft_usd.as_deref().unwrap_or(&v.tft_usd);
        let (rule, independent) = expected_entry_cc(tft_in as u128, effective, &v.gold_usd_per_oz);
        assert_eq!(rule, v.rule, "{}: the vector's rule", v.id);
        assert_eq!(independent as i128, cc_out, "{}: the vector's cc_out vs exact arithmetic", v.id);

        let mut h = Harness::new();
        h.set_prices(&v.tft_usd, &v.gold_usd_per_oz);
        assert_eq!(h.state.prices().expect("fresh prices").tft_usd, price(effective), "{}: clamp", v.id);
        let user = h.register(10);
        h.deposit(user, Asset::Tft, tft_in);
        let vault_before = h.system(SystemAccount::Vault, Asset::Tft);
        let reserve_before = h.system(SystemAccount::Pool2Reserve, Asset::Tfp);
        let events = h.apply(user, Command::EnterWithTft { tft: Amount::<Tft>::from_units(tft_in) });

        assert_eq!(h.balance(user, Asset::Cc), cc_out, "{}: CC to the user", v.id);
        assert_eq!(h.balance(user, Asset::Tft), 0, "{}: the user's TFT left", v.id);
        assert_eq!(h.system(SystemAccount::Vault, Asset::Tft) - vault_before, tft_in, "{}: vault TFT", v.id);
        assert_eq!(
            h.system(SystemAccount::Pool2Reserve, Asset::Tfp) - reserve_before,
            tft_in,
            "{}: pool2.reserve TFP",
            v.id
        );
        assert_eq!(h.state.ledger().totals(Asset::Cc).minted, cc_out, "{}: CC minted", v.id);
        assert!(
            events.contains(&Event::EnteredWithTft {
                account: user,
                tft_locked: Amount::from_units(tft_in),
                cc_minted: Amount::from_units(cc_out),
            }),
            "{}: receipt {events:?}",
            v.id
        );
    }
}

#[test]
fn split_vectors_rs1_shares_round_down_and_the_remainder_goes_to_the_farmer() {
    let split = RevenueSplit::tfgrid4_2025();
    let vectors = vectors().split;
    assert!(vectors.iter().any(|v| v.id == "RS-1"), "the RS-1 vector is present");
    for v in vectors {
        let charge = units(&v.charge);
        let (farmer, burn, treasury) = (units(&v.farmer), units(&v.burn), units(&v.treasury));
        assert_eq!(farmer + burn + treasury, charge, "{}: the vector sums to the charge", v.id);
        assert_eq!(burn, charge / 10, "{}: 10% rounded down", v.id);
        assert_eq!(treasury, charge / 10, "{}: 10% rounded down", v.id);
        assert_eq!(split_charge(charge, &split), (farmer, burn, treasury), "{}", v.id);
    }
}

#[test]
fn lease_split_vectors_a_monthly_lease_charge_is_split_end_to_end() {
    let vectors = vectors().lease_split;
    assert!(vectors.iter().any(|v| v.id == "RS-1-e2e"), "the RS-1 end-to-end vector is present");
    for v in vectors {
        let mut h = Harness::new();
        h.set_prices("0.01", "4228");
        let farmer = h.register(20);
        let farm = h.farm(farmer);
        let node_spec = tfeco_core::NodeSpec::Model { model: v.model.clone() };
        let events =
            h.apply(farmer, Command::RegisterNode { farm_id: farm, spec: node_spec, offered_slices: None });
        let Some(Event::NodeRegistered { node_id, .. }) = events.first() else {
            panic!("{}: {events:?}", v.id)
        };
        let node_id = *node_id;
        let set_price = Command::SetSlicePrice { node_id, price: cc(&v.price) };
        if let Some(code) = &v.expect_rejection {
            assert_eq!(h.reject(farmer, set_price).code().as_str(), code, "{}", v.id);
            continue;
        }
        h.apply(farmer, set_price);

        let tenant = h.register(30);
        let cc_before = units(v.tenant_cc_before.as_deref().expect("tenant_cc_before"));
        h.enter(tenant, 2 * cc_before); // below parity: 2 TFT per CC
        assert_eq!(h.balance(tenant, Asset::Cc), cc_before, "{}: tenant CC before", v.id);
        let cc_burned_before = h.burned(Asset::Cc);

        let open = Command::OpenLease {
            node_id,
            n_slices: v.slices,
            billing: tfeco_core::Billing::Monthly,
            periods: None,
        };
        let events = h.apply(tenant, open);

        let expect = |field: &Option<String>| units(field.as_deref().expect("field present"));
        let (farmer_cc, treasury_cc, burned_cc) = (expect(&v.farmer), expect(&v.treasury), expect(&v.burned));
        let charge = units(&v.price) * i128::from(v.slices);
        assert_eq!(farmer_cc + treasury_cc + burned_cc, charge, "{}: the vector sums to the charge", v.id);
        assert_eq!(h.balance(tenant, Asset::Cc), expect(&v.tenant_cc_after), "{}: tenant CC after", v.id);
        assert_eq!(h.balance(farmer, Asset::Cc), farmer_cc, "{}: farmer CC", v.id);
        let farmer_account = h.state.ledger().account(&farmer).expect("registered");
        assert_eq!(farmer_account.revenue_cc, farmer_cc, "{}: the farmer's share is revenue CC", v.id);
        assert_eq!(h.system(SystemAccount::Treasury, Asset::Cc), treasury_cc, "{}: treasury CC", v.id);
        assert_eq!(h.burned(Asset::Cc) - cc_burned_before, burned_cc, "{}: CC burned", v.id);
        let charged = events.iter().find_map(|e| match e {
            Event::LeaseCharged { charge, farmer, burned, treasury, .. } => {
                Some((charge.units(), farmer.units(), burned.units(), treasury.units()))
            }
            _ => None,
        });
        assert_eq!(charged, Some((charge, farmer_cc, burned_cc, treasury_cc)), "{}: LeaseCharged", v.id);
    }
}

/// `ceil(a / b)` for positive integers.
fn ceil_div(a: u128, b: u128) -> u128 {
    a.div_ceil(b)
}

/// Independent hourly price (spec §9): `p / 720 * premium`, premium linear from 2.0 at `min` to 1.5 at
/// `max`, i.e. `n * p * (4 (max - min) - (p - min)) / (1440 (max - min))`, rounded up once.
fn expected_hourly(p: u128, min: u128, max: u128, n: u128) -> u128 {
    let width = max - min;
    ceil_div(n * p * (4 * width - (p - min)), 1440 * width)
}

#[test]
fn hourly_vectors_match_the_table() {
    let params = default_params();
    for v in vectors().hourly {
        let m = model(&v.model);
        let (min, max) = (m.slice_price_min_month, m.slice_price_max_month);
        let got = hourly_charge(cc(&v.price), min, max, v.slices, &params).expect("no overflow");
        assert_eq!(got, cc(&v.hourly), "{} at {} x{}", v.model, v.price, v.slices);
        let independent = expected_hourly(
            units(&v.price) as u128,
            min.units() as u128,
            max.units() as u128,
            v.slices.into(),
        );
        assert_eq!(got.units() as u128, independent, "{} at {}: independent formula", v.model, v.price);
    }
}

#[test]
fn hourly_price_of_every_catalogue_model_is_min_over_360_to_max_over_480() {
    let params = default_params();
    let models = catalogue();
    assert_eq!(models.len(), 10, "the Q4 2025 catalogue has ten models");
    for m in models {
        let (min, max) = (m.slice_price_min_month, m.slice_price_max_month);
        let (lo, hi) = (min.units() as u128, max.units() as u128);
        let hourly = |p: u128, n: u32| -> u128 {
            let charge = hourly_charge(Amount::<Cc>::from_units(p as i128), min, max, n, &params);
            charge.expect("no overflow").units() as u128
        };
        assert_eq!(hourly(lo, 1), ceil_div(lo, 360), "{}: at the band minimum", m.name);
        assert_eq!(hourly(hi, 1), ceil_div(hi, 480), "{}: at the band maximum", m.name);
        let probes = [lo + 1, (lo + hi) / 2, lo + (hi - lo) / 3, hi - 1];
        for p in probes {
            assert_eq!(hourly(p, 1), expected_hourly(p, lo, hi, 1), "{}: mid band at {p} units", m.name);
            let n = m.typical_slices;
            assert_eq!(hourly(p, n), expected_hourly(p, lo, hi, n.into()), "{}: {n} slices at {p}", m.name);
        }
    }
}

#[test]
fn cc_price_vectors_from_the_gold_series() {
    let series = parse_gold_csv(GOLD_CSV).expect("the gold series parses");
    let (latest_month, latest) = series.last().expect("non-empty").clone();
    assert_eq!((latest_month.as_str(), latest), ("2026-06", price("4228")), "P1-1 uses the latest row");
    for v in vectors().cc_price {
        let (_, gold) =
            series.iter().find(|(m, _)| *m == v.month).unwrap_or_else(|| panic!("no row {}", v.month));
        assert_eq!(*gold, price(&v.gold_usd_per_oz), "{}: the gold row", v.month);
        let usd = CcPrice::from_gold(*gold).usd();
        assert_eq!(usd.to_string_rounded(5), v.cc_usd_rounded_5, "{}: cc_usd", v.month);
        // Independent: cc_usd = gold / 31.1034768 / 1000, in atto-USD, rounded down.
        assert_eq!(usd.atto(), gold.atto() * 10_000 / TROY_OZ_G_E7, "{}: exact atto value", v.month);
    }
}
