//! Users (tenants): they arrive (register, draw a monthly budget and whether they pay by fiat or TFT), top up
//! `topup_months` of budget when their CC runs below one month's budget (fiat: `EnterWithFiat` by the
//! payment key at the CC price; TFT: a guardian-attested deposit of the TFT it takes, then `EnterWithTft`),
//! open monthly-billed leases on the cheapest nodes with free slices while their leases cost less than the
//! budget and the grid is below the demand's utilization ceiling, and leave (cancelling their leases) at the
//! churn rate.

use std::collections::BTreeSet;

use rand::Rng;
use tfeco_core::{Billing, Command, Event, LeaseId, NodeId};
use tfeco_money::{mul_div, Amount, Asset, Rounding, Usdc};

use super::{role, UserAgent, World};

/// Nodes with free slices, cheapest first: `(price units, node)`, with the grid's slice counts.
pub(in crate::economy) struct Market {
    free: BTreeSet<(i128, NodeId)>,
    offered: u64,
    leased: u64,
}

impl World<'_> {
    /// The market as the state shows it now.
    pub(crate) fn market(&self) -> Market {
        let slices = u64::from(self.scenario.demand.slices_per_lease);
        let mut market = Market { free: BTreeSet::new(), offered: 0, leased: 0 };
        for node in self.state().capacity().nodes().values() {
            market.offered += u64::from(node.offered_slices);
            market.leased += u64::from(node.leased_slices);
            if let Some(price) = node.price.filter(|_| u64::from(node.free_slices()) >= slices) {
                market.free.insert((price.units(), node.id));
            }
        }
        market
    }

    /// `count` new users arrive.
    pub(crate) fn add_users(&mut self, count: u32) {
        let u = &self.scenario.users;
        let (average, spread) = (u.budget_cc_per_month.0, i128::from(u.budget_spread_bps));
        super::prewarm_keys(role::USER, (self.users.len() + count as usize) as u64);
        for _ in 0..count {
            let key = super::key(role::USER, self.users.len() as u64);
            let fiat = self.rng.gen_range(0..10_000) < self.scenario.users.fiat_share_bps;
            let deviation = if spread > 0 { self.rng.gen_range(-spread..=spread) } else { 0 };
            let budget = average * (10_000 + deviation) / 10_000;
            if self.submit(key, Command::RegisterAccount {}).is_some() {
                self.users.push(UserAgent { key, fiat, budget, active: true, leases: Vec::new(), topups: 0 });
            }
        }
    }

    /// Active users leave with probability `churn_bps`: each cancels its leases.
    pub(crate) fn churn_users(&mut self) {
        let churn = self.scenario.users.churn_bps;
        for u in 0..self.users.len() {
            if !self.users[u].active || self.rng.gen_range(0..10_000) >= churn {
                continue;
            }
            self.users[u].active = false;
            let (key, leases) = (self.users[u].key, std::mem::take(&mut self.users[u].leases));
            for (lease_id, _) in leases {
                self.submit(key, Command::CancelLease { lease_id });
            }
        }
    }

    /// Every active user forgets its closed leases, tops up when short and leases within its budget.
    pub(crate) fn users_spend(&mut self) {
        let mut market = self.market();
        for u in 0..self.users.len() {
            if !self.users[u].active {
                continue;
            }
            self.forget_closed_leases(u);
            self.top_up(u);
            self.open_leases(u, &mut market);
        }
    }

    fn forget_closed_leases(&mut self, u: usize) {
        let leases = self.driver.state().capacity().leases();
        self.users[u].leases.retain(|(id, _)| leases.get(id).is_some_and(|l| l.is_open()));
    }

    /// Tops up `topup_months` budgets when the CC balance is below one month's budget.
    fn top_up(&mut self, u: usize) {
        let (key, fiat, budget) = (self.users[u].key, self.users[u].fiat, self.users[u].budget);
        if self.cc_balance(&key).units() >= budget || budget <= 0 {
            return;
        }
        let Ok(prices) = self.state().prices() else { return };
        let cc = budget * i128::from(self.scenario.users.topup_months);
        self.users[u].topups += 1;
        if fiat {
            // CC per whole USD, then the USD (7 decimals) that buys `cc`, rounded up.
            let Some(cc_per_usd) = prices.cc_for_usd(10_000_000, Rounding::Down).filter(|v| *v > 0) else {
                return;
            };
            let Some(usd) = mul_div(cc.unsigned_abs(), 10_000_000, cc_per_usd, Rounding::Up) else { return };
            let payment_id = self.external_id("fiat");
            let usd = Amount::<Usdc>::from_units(usd as i128);
            self.submit(self.operator, Command::EnterWithFiat { to: key, usd, payment_id });
            return;
        }
        let rate = self.state().params().entry_tft_per_cc;
        let tft = if prices.below_entry_parity(rate) {
            mul_div(cc.unsigned_abs(), rate.num(), rate.den(), Rounding::Up)
        } else {
            prices.tft_for_cc(cc.unsigned_abs(), Rounding::Up)
        };
        let Some(tft) = tft.and_then(|t| i128::try_from(t).ok()) else { return };
        self.attest_deposit(Asset::Tft, key, tft);
        self.submit(key, Command::EnterWithTft { tft: Amount::from_units(tft) });
    }

    /// Opens leases on the cheapest nodes while the user's leases cost less than its budget, it can pay the
    /// first period, and the grid is below the utilization ceiling.
    fn open_leases(&mut self, u: usize, market: &mut Market) {
        let slices = self.scenario.demand.slices_per_lease;
        let (width, ceiling) =
            (self.scenario.demand.choice_width as usize, self.scenario.demand.max_utilization_bps);
        let max_leases = self.scenario.users.max_leases as usize;
        loop {
            let user = &self.users[u];
            let committed: i128 = user.leases.iter().map(|(_, cost)| cost).sum();
            if user.leases.len() >= max_leases || committed >= user.budget {
                return;
            }
            if market.leased * 10_000 >= market.offered * u64::from(ceiling) {
                self.flows.unmet_slices += u64::from(slices);
                return;
            }
            let options = market.free.len().min(width);
            if options == 0 {
                self.flows.unmet_slices += u64::from(slices);
                return;
            }
            let pick = self.rng.gen_range(0..options);
            let Some(&(price, node_id)) = market.free.iter().nth(pick) else { return };
            let cost = price * i128::from(slices);
            if committed + cost > user.budget || self.cc_balance(&user.key).units() < cost {
                return;
            }
            let key = user.key;
            let command =
                Command::OpenLease { node_id, n_slices: slices, billing: Billing::Monthly, periods: None };
            let opened = self.submit(key, command).and_then(|events| {
                World::find(&events, |e| match e {
                    Event::LeaseOpened { lease_id, .. } => Some(*lease_id),
                    _ => None,
                })
            });
            self.after_lease(u, market, (price, node_id), opened.map(|id| (id, cost)));
            if opened.is_none() {
                return;
            }
        }
    }

    /// Keeps the market in step after an attempt to lease on `node`.
    fn after_lease(
        &mut self,
        u: usize,
        market: &mut Market,
        entry: (i128, NodeId),
        lease: Option<(LeaseId, i128)>,
    ) {
        let slices = self.scenario.demand.slices_per_lease;
        let free = self.state().capacity().nodes().get(&entry.1).map_or(0, |n| n.free_slices());
        if free < slices {
            market.free.remove(&entry);
        }
        if let Some(lease) = lease {
            market.leased += u64::from(slices);
            self.flows.leases_opened += 1;
            self.users[u].leases.push(lease);
        }
    }
}
