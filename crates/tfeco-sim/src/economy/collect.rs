//! The monthly metrics of a run, read from the core's [`tfeco_core::State`] (ledger, Pool 2, exit pool,
//! rewards, capacity) and the month's flows the agents saw, and the simulator's own conservation checks at
//! every month's end (on top of [`tfeco_core::State::check_invariants`]).
//!
//! Columns (keys, in CSV order; amounts in base units of 7 decimals, prices of 18):
//!
//! - TFT supply ([`Chart::TftSupply`]): `tft_outside` (TFT outside the ledger: `external - deposited +
//!   withdrawn`), `tft_circulating` (in the ledger, neither in the vault nor vesting), `tft_vault`,
//!   `tft_vesting`, `tft_total` (the global supply), `tft_minted` and `tft_burned` (cumulative),
//!   `tft_external` (the genesis' external supply) and `tft_cap` (1 billion);
//! - CC ([`Chart::Cc`]): `cc_minted`, `cc_burned` (cumulative), `cc_outstanding`, `cc_burned_by_split`
//!   (the revenue split's burn, settled);
//! - Pool 2: `pool2_reserve_tfp`, `pool2_burn_owed_tft`, `pool2_burn_pending_cc`, `pool2_burned_tft`;
//! - exit pool: `exit_pool_usdc`, `exit_usdc_paid` (this month), `exit_usdc_paid_total`,
//!   `exit_clearing_price` (the month's last cleared round, 0 if none), `exit_rounds_cleared`,
//!   `exit_positions_tfp`, `exit_bids`;
//! - farmer income, per model of the scenario: `farmer_net_cc.<model>` (the month's revenue CC after the
//!   split and pool fees, all nodes of the model), `farmer_net_cc_per_node.<model>` (per node registered),
//!   `farmer_reward_tft.<model>` (TFT minted to those nodes this month), `nodes.<model>`;
//! - `utilization_bps` (leased / offered slices at the month's end);
//! - treasury: `treasury_cc`, `treasury_usdc`, `treasury_tfp`;
//! - prices played: `tft_usd`, `gold_usd_per_oz`, and `cc_usd` (the oracle's CC price at the month's last
//!   step, 0 when no price is valid then: it converts CC incomes to USD for break-even);
//! - population: `nodes`, `farms`, `users_active`, `leases_open`, `slices_offered`, `slices_leased`,
//!   `leases_opened` (this month), `demand_unmet_slices` (this month).

use tfeco_core::{AccountRef, SystemAccount};
use tfeco_money::Asset;

use super::agents::World;
use super::metrics::{Chart, Column, MonthValues, Series, Unit};
use crate::{Result, SimError};

/// Builds the series row by row and checks conservation.
pub(super) struct Collector {
    series: Series,
    models: Vec<String>,
    paid_total: i128,
}

fn column(key: &str, label: &str, unit: Unit, chart: Chart) -> Column {
    let decimals = match unit {
        Unit::Tft | Unit::Tfp | Unit::Cc | Unit::Usdc | Unit::Usd => 7,
        Unit::Price => 18,
        Unit::Bps | Unit::Count => 0,
    };
    Column { key: key.to_owned(), label: label.to_owned(), unit, decimals, chart }
}

/// The fixed columns before the per-model ones.
fn fixed_columns() -> Vec<Column> {
    use Chart as C;
    use Unit as U;
    vec![
        column("tft_outside", "TFT outside the ledger", U::Tft, C::TftSupply),
        column("tft_circulating", "TFT circulating in the ledger", U::Tft, C::TftSupply),
        column("tft_vault", "TFT locked in the vault", U::Tft, C::TftSupply),
        column("tft_vesting", "TFT locked in vesting", U::Tft, C::TftSupply),
        column("tft_total", "TFT global supply", U::Tft, C::TftSupply),
        column("tft_minted", "TFT minted (cumulative)", U::Tft, C::TftSupply),
        column("tft_burned", "TFT burned (cumulative)", U::Tft, C::TftSupply),
        column("tft_external", "TFT external supply at genesis", U::Tft, C::None),
        column("tft_cap", "TFT cap", U::Tft, C::TftSupply),
        column("cc_minted", "CC minted (cumulative)", U::Cc, C::Cc),
        column("cc_burned", "CC burned (cumulative)", U::Cc, C::Cc),
        column("cc_outstanding", "CC outstanding", U::Cc, C::Cc),
        column("cc_burned_by_split", "CC burned by the revenue split (cumulative)", U::Cc, C::Cc),
        column("pool2_reserve_tfp", "Pool 2 reserve (TFP)", U::Tfp, C::Pool2),
        column("pool2_burn_owed_tft", "Pool 2 burn owed (TFT)", U::Tft, C::Pool2),
        column("pool2_burn_pending_cc", "Pool 2 burn pending (CC)", U::Cc, C::None),
        column("pool2_burned_tft", "TFT burned against the split's CC (cumulative)", U::Tft, C::Pool2),
        column("exit_pool_usdc", "Exit pool USDC", U::Usdc, C::ExitPool),
        column("exit_usdc_paid", "USDC paid out this month", U::Usdc, C::ExitPool),
        column("exit_usdc_paid_total", "USDC paid out (cumulative)", U::Usdc, C::ExitPool),
        column("exit_clearing_price", "Last clearing price of the month", U::Price, C::ExitPool),
        column("exit_rounds_cleared", "Exit rounds cleared this month", U::Count, C::None),
        column("exit_positions_tfp", "TFP in exit positions", U::Tfp, C::None),
        column("exit_bids", "Exit bids submitted this month", U::Count, C::None),
        column("utilization_bps", "Utilization of offered slices", U::Bps, C::Utilization),
        column("treasury_cc", "Treasury CC", U::Cc, C::Treasury),
        column("treasury_usdc", "Treasury USDC", U::Usdc, C::Treasury),
        column("treasury_tfp", "Treasury TFP", U::Tfp, C::Treasury),
        column("tft_usd", "TFT price (USD)", U::Price, C::Prices),
        column("gold_usd_per_oz", "Gold price (USD per troy ounce)", U::Price, C::Prices),
        column("cc_usd", "CC price (USD, the oracle's, from gold)", U::Price, C::None),
        column("nodes", "Nodes", U::Count, C::Population),
        column("farms", "Farms", U::Count, C::None),
        column("users_active", "Active users", U::Count, C::Population),
        column("leases_open", "Open leases", U::Count, C::Population),
        column("slices_offered", "Slices offered", U::Count, C::None),
        column("slices_leased", "Slices leased", U::Count, C::None),
        column("leases_opened", "Leases opened this month", U::Count, C::None),
        column("demand_unmet_slices", "Slices users could not lease this month", U::Count, C::None),
    ]
}

impl Collector {
    /// The columns for a scenario with these models (in its order).
    pub(crate) fn new(models: &[String]) -> Self {
        let mut columns = fixed_columns();
        for model in models {
            let per_model = [
                ("farmer_net_cc", "farmer net income (CC)", Unit::Cc, Chart::FarmerIncome),
                ("farmer_net_cc_per_node", "farmer net income per node (CC)", Unit::Cc, Chart::FarmerIncome),
                ("farmer_reward_tft", "TFT minted to its nodes", Unit::Tft, Chart::None),
                ("nodes", "nodes", Unit::Count, Chart::None),
            ];
            for (key, label, unit, chart) in per_model {
                columns.push(column(&format!("{key}.{model}"), &format!("{model}: {label}"), unit, chart));
            }
        }
        Collector { series: Series { columns, months: Vec::new() }, models: models.to_vec(), paid_total: 0 }
    }

    /// The series so far.
    pub(crate) fn into_series(self) -> Series {
        self.series
    }

    /// Reads the month's row from `world` (the month ran from `from` to the state's time), checks the
    /// invariants and conservation, and appends it. Errors: [`SimError::Check`] naming the month.
    pub(crate) fn record(&mut self, world: &World<'_>, month: u32, from: i64) -> Result<()> {
        let state = world.state();
        let fail = |what: String| SimError::Check(format!("month {month}: {what}"));
        if let Some(reason) = state.halted() {
            return Err(fail(format!("the core halted: {reason}")));
        }
        state.check_invariants().map_err(&fail)?;
        let mut values = self.supply_values(world).map_err(&fail)?;
        values.extend(self.market_values(world, from));
        values.extend(self.model_values(world));
        self.check_monotonic(&values).map_err(&fail)?;
        debug_assert_eq!(values.len(), self.series.columns.len());
        self.series.months.push(MonthValues { month, at: state.now(), values });
        Ok(())
    }

    /// TFT, CC and Pool 2 values, with their conservation checks.
    fn supply_values(&self, world: &World<'_>) -> std::result::Result<Vec<i128>, String> {
        let state = world.state();
        let ledger = state.ledger();
        let params = state.params();
        let system = |s: SystemAccount, a: Asset| ledger.balance(AccountRef::System(s), a);
        let tft = ledger.totals(Asset::Tft);
        let (external, cap) = (params.tft_supply_external.units(), params.tft_supply_cap.units());
        let minted = state.rewards().tft_minted().units();
        let in_ledger = ledger.supply(Asset::Tft);
        let (vault, vesting) =
            (system(SystemAccount::Vault, Asset::Tft), system(SystemAccount::VestingLocked, Asset::Tft));
        let outside = external - tft.deposited + tft.withdrawn;
        let total = state.global_tft_supply();
        if outside + in_ledger != external + minted - tft.burned || total != external + minted - tft.burned {
            return Err(format!(
                "TFT supply split: outside {outside} + in the ledger {in_ledger} != external {external} + minted \
                 {minted} - burned {} (global {total})",
                tft.burned
            ));
        }
        if total > cap || minted != tft.minted {
            return Err(format!(
                "TFT: global supply {total} above the cap {cap}, or minted {minted} != {}",
                tft.minted
            ));
        }
        let cc = ledger.totals(Asset::Cc);
        let cc_outstanding = ledger.supply(Asset::Cc);
        if cc.deposited != 0 || cc.withdrawn != 0 || cc_outstanding != cc.minted - cc.burned {
            return Err(format!(
                "CC outstanding {cc_outstanding} != minted {} - burned {}",
                cc.minted, cc.burned
            ));
        }
        if ledger.supply(Asset::Tfp) != vault {
            return Err(format!("TFP supply {} != TFT in the vault {vault}", ledger.supply(Asset::Tfp)));
        }
        let pool2 = state.pool2();
        Ok(vec![
            outside,
            in_ledger - vault - vesting,
            vault,
            vesting,
            total,
            minted,
            tft.burned,
            external,
            cap,
            cc.minted,
            cc.burned,
            cc_outstanding,
            pool2.burned_cc().units(),
            system(SystemAccount::Pool2Reserve, Asset::Tfp),
            pool2.burn_owed_tft().units(),
            pool2.burn_pending_cc().units(),
            pool2.burned_tft().units(),
        ])
    }

    /// Exit pool, utilization, treasury, prices and population.
    fn market_values(&mut self, world: &World<'_>, from: i64) -> Vec<i128> {
        let state = world.state();
        let ledger = state.ledger();
        let system = |s: SystemAccount, a: Asset| ledger.balance(AccountRef::System(s), a);
        let exit = state.exit_pool();
        let paid_total = exit.total_usdc_paid().units();
        let paid = paid_total - self.paid_total;
        self.paid_total = paid_total;
        let rounds: Vec<_> =
            exit.history().iter().filter(|r| r.closed_at >= from && r.clearing_price.is_some()).collect();
        let clearing = rounds.last().and_then(|r| r.clearing_price).map_or(0, |p| p.atto() as i128);
        let (mut offered, mut leased) = (0i128, 0i128);
        for node in state.capacity().nodes().values() {
            offered += i128::from(node.offered_slices);
            leased += i128::from(node.leased_slices);
        }
        let utilization = if offered > 0 { leased * 10_000 / offered } else { 0 };
        let (gold, tft) = world.month_prices();
        let open_leases = state.capacity().leases().values().filter(|l| l.is_open()).count();
        let active = world.users.iter().filter(|u| u.active).count();
        let f = &world.flows;
        vec![
            system(SystemAccount::ExitPoolUsdc, Asset::Usdc),
            paid,
            paid_total,
            clearing,
            rounds.len() as i128,
            system(SystemAccount::ExitPoolTfp, Asset::Tfp),
            i128::from(f.exit_bids as u32),
            utilization,
            system(SystemAccount::Treasury, Asset::Cc),
            system(SystemAccount::Treasury, Asset::Usdc),
            system(SystemAccount::Treasury, Asset::Tfp),
            tft.atto() as i128,
            gold.atto() as i128,
            state.prices().map_or(0, |p| p.cc.usd().atto() as i128),
            state.capacity().nodes().len() as i128,
            state.capacity().farms().len() as i128,
            active as i128,
            open_leases as i128,
            offered,
            leased,
            i128::from(f.leases_opened as u32),
            i128::from(f.unmet_slices as u32),
        ]
    }

    /// Per model: net CC, per node, TFT minted, nodes.
    fn model_values(&self, world: &World<'_>) -> Vec<i128> {
        let mut values = Vec::with_capacity(self.models.len() * 4);
        for m in 0..self.models.len() {
            let nodes = world.nodes.iter().filter(|n| n.model == m).count() as i128;
            let net = world.flows.farmer_cc.get(m).copied().unwrap_or(0);
            values.push(net);
            values.push(if nodes > 0 { net / nodes } else { 0 });
            values.push(world.flows.reward_tft.get(m).copied().unwrap_or(0));
            values.push(nodes);
        }
        values
    }

    /// Cumulative columns never go down.
    fn check_monotonic(&self, values: &[i128]) -> std::result::Result<(), String> {
        let Some(previous) = self.series.months.last() else { return Ok(()) };
        let cumulative = [
            "tft_minted",
            "tft_burned",
            "cc_minted",
            "cc_burned",
            "cc_burned_by_split",
            "pool2_burned_tft",
            "exit_usdc_paid_total",
        ];
        for key in cumulative {
            let i = self.series.column(key).ok_or_else(|| format!("no column {key}"))?;
            if values[i] < previous.values[i] {
                return Err(format!("{key} went down: {} -> {}", previous.values[i], values[i]));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_unique_snake_case_keys_with_their_decimals() {
        let collector = Collector::new(&["Mini 3".to_owned(), "3Node Home".to_owned()]);
        let columns = &collector.series.columns;
        let mut keys: Vec<&str> = columns.iter().map(|c| c.key.as_str()).collect();
        assert!(
            keys.contains(&"farmer_net_cc.Mini 3") && keys.contains(&"farmer_net_cc_per_node.3Node Home")
        );
        let before = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), before, "keys are unique");
        for c in columns {
            let stem = c.key.split('.').next().unwrap();
            assert!(
                stem.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_'),
                "{}",
                c.key
            );
            let expected = match c.unit {
                Unit::Price => 18,
                Unit::Bps | Unit::Count => 0,
                _ => 7,
            };
            assert_eq!(c.decimals, expected, "{}", c.key);
        }
    }

    #[test]
    fn a_cumulative_column_that_goes_down_fails_the_check() {
        let mut collector = Collector::new(&[]);
        let width = collector.series.columns.len();
        collector.series.months.push(MonthValues { month: 1, at: 0, values: vec![5; width] });
        assert!(collector.check_monotonic(&vec![5; width]).is_ok());
        let mut lower = vec![5; width];
        lower[collector.series.column("tft_burned").unwrap()] = 4;
        let error = collector.check_monotonic(&lower).unwrap_err();
        assert!(error.contains("tft_burned"), "{error}");
    }
}
