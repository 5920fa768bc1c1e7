//! Tests of the scenario schema: defaults, the built-ins, validation errors, `params` overrides, and the
//! round trip through TOML that sweeps rely on.

use super::*;

#[test]
fn every_builtin_parses_validates_and_round_trips() {
    for name in Scenario::builtin_names() {
        let scenario = Scenario::builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(scenario.name, *name);
        let text = scenario.to_toml_string().unwrap();
        assert_eq!(Scenario::from_toml_str(&text).unwrap(), scenario, "{name} round-trips");
        assert!(!scenario.assumptions().is_empty());
    }
    let unknown = Scenario::builtin("nope").unwrap_err().to_string();
    assert!(unknown.contains("base") && unknown.contains("bench-mc"), "{unknown}");
}

#[test]
fn a_minimal_scenario_takes_every_default() {
    let scenario = Scenario::from_toml_str("months = 3").unwrap();
    assert_eq!(scenario, Scenario { months: 3, ..Scenario::default() });
    assert_eq!(scenario.start, DEFAULT_START);
    assert_eq!(scenario.gold, GoldPrice::Series);
    assert_eq!(scenario.users, Users::default());
    assert_eq!(scenario.minting, Minting::default());
    let params =
        scenario.params(crate::keys::synthetic_account(0, 0), &[crate::keys::synthetic_account(1, 0)]);
    assert_eq!(params.unwrap().revenue_split, RevenueSplit::tfgrid4_2025());
}

#[test]
fn errors_name_the_field() {
    let error = |text: &str| Scenario::from_toml_str(text).unwrap_err().to_string();
    assert!(error("months = 0").contains("months"));
    assert!(error("months = 2\nbogus = 1").contains("bogus"));
    assert!(error("months = 2\n[users]\nchurn_bps = 20000").contains("users.churn_bps"));
    assert!(error("months = 2\n[farmers]\nmodels = [{ name = \"Nope\", weight = 1 }]").contains("Nope"));
    assert!(error("months = 2\n[gold]\nkind = \"replay\"\nfrom = \"1500-01\"").contains("gold.from"));
    assert!(error("months = 2\n[tft_price]\nkind = \"constant\"\nusd = \"abc\"").contains("abc"));
    assert!(error("months = 2\n[tft_price]\nkind = \"constant\"\nusd = \"1\"\nvol = 3").contains("vol"));
    assert!(error("months = 2\n[params]\nno_such_param = 1").contains("params.no_such_param"));
    assert!(error("months = 2\n[params]\nguardians = []").contains("params.guardians"));
    assert!(error("months = 2\n[params.uptime_rules]\nbogus = 1").contains("params.uptime_rules.bogus"));
    assert!(error("months = 2\n[params]\nhour_s = 0").contains("params"));
    assert!(error("months = 2\n[exit]\ndiscount_bps = 1000").contains("exit.discount_bps"));
    assert!(error("months = 2\n[params.revenue_split]\nburn_bps = 9500").contains("10,000"));
}

#[test]
fn params_overrides_merge_by_name() {
    let text = r#"
months = 2
[minting]
rules = "capacity"
lockup = "release_36m"
[params]
exit_cap_b_bps = 1000
lease_grace_s = 3600
tft_usd_min = "0.002"
revenue_split = { burn_bps = 2000 }
"#;
    let scenario = Scenario::from_toml_str(text).unwrap();
    let operator = crate::keys::synthetic_account(0, 0);
    let params = scenario.params(operator, &[operator]).unwrap();
    assert_eq!(params.exit_cap_b_bps, Bps::new(1_000));
    assert_eq!(params.lease_grace_s, 3_600);
    assert_eq!(params.tft_usd_min, "0.002".parse().unwrap());
    assert_eq!(params.revenue_split.farmer_bps(), Bps::new(7_000).unwrap());
    assert_eq!(params.reward_rules.name(), "capacity");
    assert!(matches!(params.vesting_rule, VestingRule::Release36m(_)));
    assert_eq!(params.operator, operator);
}

#[test]
fn a_sweep_edits_the_toml_value_at_a_dotted_path() {
    let scenario = Scenario::builtin("base").unwrap();
    let mut value = toml::Value::try_from(&scenario).unwrap();
    let users = value.get_mut("users").unwrap().as_table_mut().unwrap();
    users.insert("arrivals_per_month".into(), toml::Value::Integer(99));
    let price = value.get_mut("tft_price").unwrap().as_table_mut().unwrap();
    price.insert("drift_bps".into(), toml::Value::Integer(-300));
    let edited: Scenario = value.try_into().unwrap();
    edited.validate().unwrap();
    assert_eq!(edited.users.arrivals_per_month, 99);
    assert!(matches!(edited.tft_price, TftPrice::RandomWalk { drift_bps: -300, .. }));
}

#[test]
fn amounts_and_prices_accept_strings_integers_and_floats() {
    let text =
        "months = 1\n[users]\nbudget_cc_per_month = 12.5\n[tft_price]\nkind = \"constant\"\nusd = 0.02";
    let scenario = Scenario::from_toml_str(text).unwrap();
    assert_eq!(scenario.users.budget_cc_per_month, TokenValue(125_000_000));
    assert_eq!(scenario.tft_price, TftPrice::Constant { usd: PriceValue("0.02".parse().unwrap()) });
}

#[test]
fn a_csv_path_is_read_relative_to_the_scenario_file() {
    let dir = std::env::temp_dir().join(format!("tfeco-sim-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tft.csv"), "month,usd\n1,0.01\n2,0.03\n").unwrap();
    let file = dir.join("my-run.toml");
    std::fs::write(&file, "months = 2\n[tft_price]\nkind = \"csv\"\npath = \"tft.csv\"\n").unwrap();
    let scenario = Scenario::from_file(&file).unwrap();
    assert_eq!(scenario.name, "my-run");
    assert!(matches!(&scenario.tft_price, TftPrice::Csv { data: Some(d), .. } if d.contains("0.03")));
    let unresolved = Scenario::from_toml_str("months = 2\n[tft_price]\nkind = \"csv\"\npath = \"tft.csv\"\n");
    assert!(unresolved.is_ok(), "a path is resolved by from_file; a run refuses it unresolved");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn params_are_checked_against_the_scenario_s_own_guardians() {
    let with = |guardians: u32, threshold: u32| {
        Scenario::from_toml_str(&format!(
            "months = 1\nguardians = {guardians}\n[params]\nguardian_threshold = {threshold}"
        ))
    };
    assert!(with(3, 3).is_ok());
    assert!(with(3, 4).unwrap_err().to_string().contains("guardian_threshold"));
    assert!(with(9, 4).is_ok());
}
