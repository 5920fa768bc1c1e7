//! Farmers and their nodes: farms of `nodes_per_farmer` nodes, each node a catalogue model drawn by weight,
//! registered with its own report key; slice prices set by the scenario's strategy inside the model's band
//! (at registration and every month); uptime reports every 2,460 s (the report interval plus its grace: the
//! coarsest cadence the v3 rules credit in full, `UptimeRules::max_credit_s`), sent in batches; revenue CC
//! converted to TFP through Pool 2 every month, and part of that TFP opened as exit positions.

use rand::Rng;
use tfeco_core::{Command, Event, NodeId, NodeSpec, UptimeSample};
use tfeco_money::{Amount, Asset, Cc, Tfp};

use super::{role, FarmerAgent, NodeAgent, World};
use crate::economy::scenario::PriceStrategy;

/// The two cheapest listed `(price, node)` of one model, cheapest first.
type Cheapest = [Option<(Amount<Cc>, NodeId)>; 2];

impl World<'_> {
    /// Seconds between a node's uptime samples: the report interval plus the grace (full credit).
    pub(crate) fn report_every_s(&self) -> i64 {
        self.state().params().uptime_rules.max_credit_s().max(1)
    }

    /// Adds `count` nodes (models drawn by weight), registering farmers and farms as needed.
    pub(crate) fn add_nodes(&mut self, count: u32) {
        let total_weight: u32 = self.scenario.farmers.models.iter().map(|m| m.weight).sum();
        for _ in 0..count {
            let mut pick = self.rng.gen_range(0..total_weight.max(1));
            let mut model = 0;
            for (i, m) in self.scenario.farmers.models.iter().enumerate() {
                if pick < m.weight {
                    model = i;
                    break;
                }
                pick -= m.weight;
            }
            self.add_node(model);
        }
    }

    /// The farmer that takes the next node (a new one when the last is full).
    fn farmer_for_next_node(&mut self) -> Option<usize> {
        let per_farmer = self.scenario.farmers.nodes_per_farmer as usize;
        if self.nodes.len() < self.farmers.len() * per_farmer {
            return Some(self.farmers.len() - 1);
        }
        let index = self.farmers.len();
        let key = super::key(role::FARMER, index as u64);
        self.submit(key, Command::RegisterAccount {})?;
        let events = self.submit(key, Command::RegisterFarm { name: format!("sim-farm-{index}") })?;
        let farm = World::find(&events, |e| match e {
            Event::FarmRegistered { farm_id, .. } => Some(*farm_id),
            _ => None,
        })?;
        self.farmers.push(FarmerAgent { key, farm });
        Some(index)
    }

    /// Registers one node of model `model`, prices it and names its report key.
    fn add_node(&mut self, model: usize) {
        let Some(farmer) = self.farmer_for_next_node() else { return };
        let (farm_id, owner) = (self.farmers[farmer].farm, self.farmers[farmer].key);
        let spec = NodeSpec::Model { model: self.models[model].name.clone() };
        let Some(events) = self.submit(owner, Command::RegisterNode { farm_id, spec, offered_slices: None })
        else {
            return;
        };
        let Some(node_id) = World::find(&events, |e| match e {
            Event::NodeRegistered { node_id, .. } => Some(*node_id),
            _ => None,
        }) else {
            return;
        };
        let price = self.initial_price(model);
        self.submit(owner, Command::SetSlicePrice { node_id, price });
        let key = super::key(role::NODE, u64::from(node_id.0));
        self.submit(key, Command::RegisterAccount {});
        self.submit(owner, Command::SetNodeKey { node_id, node_key: key });
        let now = self.now();
        self.node_index.insert(node_id, self.nodes.len());
        self.nodes.push(NodeAgent { id: node_id, key, farmer, model, boot: now, last_report: now });
    }

    /// `min + (max - min) * bps / 10,000` of model `model`'s band.
    fn band_position(&self, model: usize, bps: u32) -> Amount<Cc> {
        let m = &self.models[model];
        let (lo, hi) = (m.slice_price_min_month.units(), m.slice_price_max_month.units());
        Amount::from_units(lo + (hi - lo) * i128::from(bps) / 10_000)
    }

    /// The price of a new node of model `model` under the strategy.
    fn initial_price(&self, model: usize) -> Amount<Cc> {
        let f = &self.scenario.farmers;
        match f.price_strategy {
            PriceStrategy::Min => self.models[model].slice_price_min_month,
            PriceStrategy::Max => self.models[model].slice_price_max_month,
            PriceStrategy::FollowDemand => self.band_position(model, f.start_position_bps),
            PriceStrategy::Undercut => match self.cheapest_of_model(model, None) {
                Some(cheapest) => self.undercut(model, cheapest),
                None => self.band_position(model, 5_000),
            },
        }
    }

    /// The cheapest listed price among the nodes of `model` (but `except`).
    fn cheapest_of_model(&self, model: usize, except: Option<NodeId>) -> Option<Amount<Cc>> {
        let nodes = self.state().capacity().nodes();
        self.nodes
            .iter()
            .filter(|n| n.model == model && Some(n.id) != except)
            .filter_map(|n| nodes.get(&n.id)?.price)
            .min()
    }

    /// `undercut_bps` below `price`, not below the band's minimum.
    fn undercut(&self, model: usize, price: Amount<Cc>) -> Amount<Cc> {
        let bps = i128::from(self.scenario.farmers.undercut_bps);
        let next = price.units() * (10_000 - bps) / 10_000;
        Amount::from_units(next.max(self.models[model].slice_price_min_month.units()))
    }

    /// The two cheapest listed `(price, node)` of each model (one pass over the nodes).
    fn cheapest_two(&self) -> Vec<Cheapest> {
        let mut cheapest = vec![[None, None]; self.models.len()];
        let nodes = self.state().capacity().nodes();
        for n in &self.nodes {
            let Some(price) = nodes.get(&n.id).and_then(|node| node.price) else { continue };
            let slot: &mut Cheapest = &mut cheapest[n.model];
            let entry = Some((price, n.id));
            if slot[0].is_none_or(|first| (price, n.id) < first) {
                slot[1] = slot[0];
                slot[0] = entry;
            } else if slot[1].is_none_or(|second| (price, n.id) < second) {
                slot[1] = entry;
            }
        }
        cheapest
    }

    /// Node `n`'s next price under the strategy, from its utilization and the cheapest prices of its model.
    fn next_price(
        &self,
        n: &NodeAgent,
        node: &tfeco_core::Node,
        cheapest: &[Option<(Amount<Cc>, NodeId)>; 2],
    ) -> Option<i128> {
        let f = &self.scenario.farmers;
        let (step, high, low) = (i128::from(f.step_bps), f.high_utilization_bps, f.low_utilization_bps);
        let price = node.price?.units();
        let utilization = node.leased_slices * 10_000 / node.offered_slices.max(1);
        let other = cheapest.iter().flatten().find(|(_, id)| *id != n.id).map(|(p, _)| *p);
        let next = match f.price_strategy {
            PriceStrategy::FollowDemand if utilization >= high => price * (10_000 + step) / 10_000,
            PriceStrategy::FollowDemand if utilization <= low => price * (10_000 - step) / 10_000,
            PriceStrategy::Undercut if utilization < high => match other {
                Some(cheapest) if cheapest.units() <= price => self.undercut(n.model, cheapest).units(),
                _ => price,
            },
            _ => price,
        };
        Some(next.clamp(node.band_min.units(), node.band_max.units()))
    }

    /// Every node re-prices by the strategy (`undercut` and `follow_demand` move; `min` and `max` stay).
    pub(crate) fn reprice_nodes(&mut self) {
        if matches!(self.scenario.farmers.price_strategy, PriceStrategy::Min | PriceStrategy::Max) {
            return;
        }
        let cheapest = self.cheapest_two();
        let mut changes = Vec::new();
        for n in &self.nodes {
            let Some(node) = self.state().capacity().nodes().get(&n.id) else { continue };
            let Some(next) = self.next_price(n, node, &cheapest[n.model]) else { continue };
            if Some(next) != node.price.map(|p| p.units()) {
                changes.push((self.farmers[n.farmer].key, n.id, Amount::from_units(next)));
            }
        }
        for (owner, node_id, price) in changes {
            self.submit(owner, Command::SetSlicePrice { node_id, price });
        }
    }

    /// Every node reports its uptime samples since its last report up to `until` (each sample
    /// [`World::report_every_s`] after the previous, uptime counted from the node's boot), in commands of at
    /// most `max_uptime_reports_per_command` samples.
    pub(crate) fn report_uptime(&mut self, until: i64) {
        let every = self.report_every_s();
        let max = self.state().params().max_uptime_reports_per_command.max(1) as usize;
        for i in 0..self.nodes.len() {
            loop {
                let (id, key, boot, last) = {
                    let n = &self.nodes[i];
                    (n.id, n.key, n.boot, n.last_report)
                };
                let count = ((until - last) / every).clamp(0, max as i64) as usize;
                if count == 0 {
                    break;
                }
                let reports: Vec<UptimeSample> = (1..=count as i64)
                    .map(|k| {
                        let at = last + k * every;
                        UptimeSample { at, uptime_s: (at - boot) as u64 }
                    })
                    .collect();
                self.nodes[i].last_report = last + count as i64 * every;
                if self.submit(key, Command::ReportUptime { node_id: id, reports }).is_none() || count < max {
                    break;
                }
            }
        }
    }

    /// Each farmer converts `convert_revenue_bps` of its revenue CC to TFP (partial fills allowed), then opens
    /// `exit.farmer_position_bps` of its TFP as a new exit position.
    pub(crate) fn farmers_convert_and_hold(&mut self) {
        let convert_bps = i128::from(self.scenario.farmers.convert_revenue_bps);
        let position_bps = i128::from(self.scenario.exit.farmer_position_bps);
        for f in 0..self.farmers.len() {
            let key = self.farmers[f].key;
            let revenue = self.state().ledger().account(&key).map_or(0, |a| a.revenue_cc);
            let cc = revenue * convert_bps / 10_000;
            let reserve =
                self.state().ledger().system_balance::<Tfp>(tfeco_core::SystemAccount::Pool2Reserve);
            // A reserve under one TFP converts nothing: the farmer waits for the next month.
            if cc > 0 && reserve.units() >= Amount::<Tfp>::tokens(1).units() {
                self.submit(key, Command::ConvertCcToTfp { cc: Amount::from_units(cc), allow_partial: true });
            }
            let tfp = self.state().ledger().account(&key).map_or(0, |a| a.balances[Asset::Tfp.index()]);
            let open = tfp * position_bps / 10_000;
            if open <= 0 {
                continue;
            }
            self.open_position(key, open);
        }
    }
}
