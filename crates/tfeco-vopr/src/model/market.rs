//! The reference model's capacity market: farms, nodes and their slice prices, leases and their billing,
//! written from the spec's rules (`decisions.md` §7 revenue split, §9 leases, §14 `Tick`), with its own data
//! structures (vectors indexed by id, one open-lease set) and its own arithmetic for the hourly premium and
//! the split. It shares no code with the core: the rule numbers (periods, grace, limits, premiums, split,
//! catalogue bands) are read once from the genesis, as data.
//!
//! What a lease charge does to balances (the model's [`Books`]): the tenant pays the period's charge in CC;
//! the farmer is credited the charge less the burn and treasury shares (each rounded down), the treasury
//! its share, and the burn share leaves the CC supply. A farmer leasing its own node pays only the burn
//! and treasury shares. The burned CC's TFT counterpart (spec §7) is burned right after each charge when
//! the oracle has valid prices: `cc × cc_usd / tft_usd` TFT units (rounded down), at most what
//! `pool2.reserve` holds, as TFP from the reserve and TFT from the vault; without valid prices the CC waits
//! for a later charge or `Tick` that has them.

use std::collections::BTreeSet;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;
use tfeco_core::slices::capacity::LeaseStatus;
use tfeco_core::{Billing, Genesis, NodeSpec, SplitRecipient, State};
use tfeco_money::Asset;

use super::oracle::{Oracle, Prices};
use super::{id_key, Books, Holder};

/// The latest time a `Tick` may set: 9999-12-31T23:59:59Z.
const LAST_TIME: i64 = 253_402_300_799;

/// The market's rule numbers, read from the genesis.
#[derive(Debug)]
pub(super) struct Rules {
    hour_s: i64,
    month_s: i64,
    grace_s: i64,
    max_periods: u32,
    max_open_leases: u32,
    max_nodes_per_farm: usize,
    max_tick_advance_s: i64,
    max_text_len: usize,
    premium_at_min_bps: u128,
    premium_at_max_bps: u128,
    burn_bps: i128,
    treasury_bps: i128,
    /// Catalogue models: name, typical slices, band minimum and maximum (CC units per slice-month).
    models: Vec<(String, u32, i128, i128)>,
}

impl Rules {
    /// The numbers of `genesis`. Panics on a genesis the model does not cover (minimum specs applied to
    /// catalogue models): a simulator set-up error, not a finding.
    pub(super) fn from_genesis(genesis: &Genesis) -> Rules {
        let p = &genesis.params;
        assert!(!p.min_spec_applies_to_catalogue, "the model takes catalogue models as published");
        let share = |who| {
            p.revenue_split.shares.iter().filter(|(r, _)| *r == who).map(|(_, b)| i128::from(b.get())).sum()
        };
        Rules {
            hour_s: p.hour_s,
            month_s: p.month_s,
            grace_s: p.lease_grace_s,
            max_periods: p.max_lease_periods,
            max_open_leases: p.max_open_leases_per_account,
            max_nodes_per_farm: p.max_nodes_per_farm as usize,
            max_tick_advance_s: p.max_tick_advance_s,
            max_text_len: p.max_text_len as usize,
            premium_at_min_bps: u128::from(p.hourly_premium_at_min_bps),
            premium_at_max_bps: u128::from(p.hourly_premium_at_max_bps),
            burn_bps: share(SplitRecipient::Burn),
            treasury_bps: share(SplitRecipient::Treasury),
            models: genesis
                .catalogue
                .iter()
                .map(|m| {
                    let band = (m.slice_price_min_month.units(), m.slice_price_max_month.units());
                    (m.name.clone(), m.typical_slices, band.0, band.1)
                })
                .collect(),
        }
    }

    /// The CC charged per period for `slices` slices at `price` per slice-month (`None` on overflow):
    /// monthly `price × slices`; hourly `price × slices / hours-per-month × premium`, the premium falling
    /// linearly from its band-minimum value to its band-maximum value, rounded up once.
    fn charge(&self, price: i128, band: (i128, i128), slices: u32, billing: Billing) -> Option<i128> {
        if billing == Billing::Monthly {
            return price.checked_mul(i128::from(slices));
        }
        let (p, lo, hi) = (u128::try_from(price).ok()?, band.0 as u128, band.1 as u128);
        let width = hi.checked_sub(lo)?;
        let hours = u128::try_from(self.month_s.checked_div(self.hour_s)?).ok()?;
        // premium = at_min - (at_min - at_max) × (p - lo) / width, as (numerator / width) bps.
        let (premium, over) = if width == 0 {
            (self.premium_at_min_bps, 1)
        } else {
            let fall = (self.premium_at_min_bps - self.premium_at_max_bps).checked_mul(p.checked_sub(lo)?)?;
            (self.premium_at_min_bps.checked_mul(width)?.checked_sub(fall)?, width)
        };
        let numerator = p.checked_mul(u128::from(slices))?.checked_mul(premium)?;
        let denominator = hours.checked_mul(10_000)?.checked_mul(over)?;
        i128::try_from(numerator.div_ceil(denominator)).ok()
    }
}

/// A node: its farm's owner, offered and leased slices, band and listed price (CC units per slice-month).
#[derive(Clone, Debug)]
struct Node {
    owner: [u8; 32],
    offered: u32,
    leased: u32,
    band: (i128, i128),
    price: Option<i128>,
}

/// Where a lease is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Active,
    Grace { since: i64 },
    Cancelling,
    Closed,
}

/// A lease: tenant, node (index), slices, period, charge per period, next charge due, expiry, phase.
#[derive(Clone, Debug)]
struct Lease {
    tenant: [u8; 32],
    node: usize,
    slices: u32,
    period_s: i64,
    charge: i128,
    due: i64,
    ends_at: Option<i64>,
    phase: Phase,
}

/// The model's market. Ids are positions: farm, node and lease `k` is entry `k - 1`.
#[derive(Clone, Debug)]
pub(super) struct Market {
    rules: Arc<Rules>,
    /// The state's time: the last accepted `Tick`'s `now` (the genesis start before any).
    now: i64,
    /// Farms: owner, name key, number of nodes.
    farms: Vec<([u8; 32], u64, usize)>,
    nodes: Vec<Node>,
    leases: Vec<Lease>,
    open: BTreeSet<usize>,
    open_per_tenant: HashMap<[u8; 32], u32>,
    /// CC units burned by charges whose TFT counterpart is not burned yet (no valid prices then).
    pending_burn: u128,
    /// The prices of the command being executed (read once per command, as the node does).
    prices: Option<Prices>,
    /// Test hook: one unit of the farmer's share goes to the treasury.
    pub(super) mutate_split: bool,
    /// Leases opened, periods charged, graces started, leases resumed, leases closed.
    counts: [u64; 5],
}

impl Market {
    /// The market at genesis.
    pub(super) fn new(genesis: &Genesis) -> Market {
        Market {
            rules: Arc::new(Rules::from_genesis(genesis)),
            now: genesis.start_time,
            farms: Vec::new(),
            nodes: Vec::new(),
            leases: Vec::new(),
            open: BTreeSet::new(),
            open_per_tenant: HashMap::default(),
            pending_burn: 0,
            prices: None,
            mutate_split: false,
            counts: [0; 5],
        }
    }

    /// The state's time (the last accepted `Tick`'s).
    pub(super) fn now(&self) -> i64 {
        self.now
    }

    /// `RegisterFarm`: a valid name (not blank, not too long, no control characters) not taken.
    pub(super) fn register_farm(&mut self, owner: [u8; 32], name: &str) -> bool {
        let valid = !name.trim().is_empty()
            && name.len() <= self.rules.max_text_len
            && !name.chars().any(char::is_control);
        let key = id_key(name);
        if !valid || self.farms.iter().any(|f| f.1 == key) {
            return false;
        }
        self.farms.push((owner, key, 0));
        true
    }

    /// `RegisterNode` of a catalogue model in one of the owner's farms (custom hardware is not generated,
    /// so the model refuses it and a node that accepted one would show as a difference).
    pub(super) fn register_node(
        &mut self,
        owner: [u8; 32],
        farm_id: u32,
        spec: &NodeSpec,
        offered: Option<u32>,
    ) -> bool {
        let Some(farm) = (farm_id as usize).checked_sub(1).filter(|i| *i < self.farms.len()) else {
            return false;
        };
        let NodeSpec::Model { model } = spec else { return false };
        let found = self.rules.models.iter().find(|m| m.0 == *model);
        let Some((_, slices, lo, hi)) = found.cloned() else { return false };
        let offered = offered.unwrap_or(slices);
        let (farm_owner, _, count) = self.farms[farm];
        if farm_owner != owner || count >= self.rules.max_nodes_per_farm || offered == 0 || offered > slices {
            return false;
        }
        self.farms[farm].2 += 1;
        self.nodes.push(Node { owner, offered, leased: 0, band: (lo, hi), price: None });
        true
    }

    /// `SetSlicePrice`: the owner prices a node inside its band (bounds included).
    pub(super) fn set_slice_price(&mut self, owner: [u8; 32], node_id: u32, price: i128) -> bool {
        match self.node_mut(node_id) {
            Some(node) if node.owner == owner && node.band.0 <= price && price <= node.band.1 => {
                node.price = Some(price);
                true
            }
            _ => false,
        }
    }

    fn node_mut(&mut self, node_id: u32) -> Option<&mut Node> {
        (node_id as usize).checked_sub(1).and_then(|i| self.nodes.get_mut(i))
    }

    /// `OpenLease`: `slices` free slices of a listed node, a period count within the limit, fewer open
    /// leases than the limit, and the first period paid at once from the tenant's CC.
    pub(super) fn open_lease(
        &mut self,
        books: &mut Books,
        oracle: &Oracle,
        tenant: [u8; 32],
        (node_id, slices, billing): (u32, u32, Billing),
        periods: Option<u32>,
    ) -> bool {
        let Some(index) = (node_id as usize).checked_sub(1).filter(|i| *i < self.nodes.len()) else {
            return false;
        };
        let node = &self.nodes[index];
        let rules = &self.rules;
        let period_s = if billing == Billing::Hourly { rules.hour_s } else { rules.month_s };
        let open = self.open_per_tenant.get(&tenant).copied().unwrap_or(0);
        let charge = node.price.and_then(|price| rules.charge(price, node.band, slices, billing));
        let refused = periods.is_some_and(|n| n == 0 || n > rules.max_periods)
            || slices == 0
            || slices > node.offered - node.leased
            || open >= rules.max_open_leases;
        let Some(charge) = charge.filter(|_| !refused) else { return false };
        let ends_at = periods.map(|n| self.now + period_s * i64::from(n));
        let lease = Lease {
            tenant,
            node: index,
            slices,
            period_s,
            charge,
            due: self.now,
            ends_at,
            phase: Phase::Active,
        };
        self.leases.push(lease);
        let id = self.leases.len() - 1;
        self.prices = oracle.prices(self.now);
        if !self.charge(books, id) {
            self.leases.pop();
            return false;
        }
        self.open.insert(id);
        self.counts[0] += 1;
        *self.open_per_tenant.entry(tenant).or_insert(0) += 1;
        self.nodes[index].leased += slices;
        true
    }

    /// `CancelLease` by its tenant: an active lease ends at its paid period's end, one in grace closes now.
    pub(super) fn cancel_lease(&mut self, tenant: [u8; 32], lease_id: u64) -> bool {
        let Some(id) = (lease_id as usize).checked_sub(1).filter(|i| *i < self.leases.len()) else {
            return false;
        };
        let lease = &mut self.leases[id];
        match lease.phase {
            _ if lease.tenant != tenant => false,
            Phase::Active => {
                lease.phase = Phase::Cancelling;
                true
            }
            Phase::Grace { .. } => {
                self.close(id);
                true
            }
            Phase::Cancelling | Phase::Closed => false,
        }
    }

    /// `Tick { now }` by the operator: time moves forward (at most the largest advance, never past the last
    /// time), then every open lease is billed up to `now`, in lease id order.
    pub(super) fn tick(&mut self, books: &mut Books, oracle: &Oracle, by_operator: bool, now: i64) -> bool {
        let advance = now.checked_sub(self.now);
        if !by_operator
            || now > LAST_TIME
            || advance.is_none_or(|a| a < 0 || a > self.rules.max_tick_advance_s)
        {
            return false;
        }
        self.now = now;
        self.prices = oracle.prices(now);
        let open: Vec<usize> = self.open.iter().copied().collect();
        for id in open {
            self.bill(books, id);
        }
        self.settle_burn(books);
        true
    }

    /// Runs one lease's schedule up to now: a lease in grace closes when grace has run out, else resumes if
    /// the tenant can pay; a cancelled one closes at its paid period's end, an expired one at its end; an
    /// active one pays each due period, or enters grace from the unpaid period's start.
    fn bill(&mut self, books: &mut Books, id: usize) {
        loop {
            let Lease { due, ends_at, phase, .. } = self.leases[id];
            match phase {
                Phase::Closed => return,
                Phase::Grace { since } if self.now >= since + self.rules.grace_s => return self.close(id),
                Phase::Grace { .. } if !self.resume(books, id) => return,
                Phase::Grace { .. } => {}
                _ if due > self.now => return,
                Phase::Cancelling => return self.close(id),
                Phase::Active if ends_at.is_some_and(|end| due >= end) => return self.close(id),
                Phase::Active if self.charge(books, id) => {}
                Phase::Active => {
                    self.leases[id].phase = Phase::Grace { since: due };
                    self.counts[2] += 1;
                }
            }
        }
    }

    /// After CC reached `tenant` (an entry): its leases in grace, oldest first, each pay their unpaid
    /// period while the CC lasts and grace has not run out (later periods wait for the next `Tick`).
    pub(super) fn resume_after_top_up(&mut self, books: &mut Books, oracle: &Oracle, tenant: [u8; 32]) {
        self.prices = oracle.prices(self.now);
        let in_grace: Vec<usize> =
            self.open.iter().copied().filter(|id| self.in_grace(*id, tenant)).collect();
        for id in in_grace {
            self.resume(books, id);
        }
    }

    /// `true` when lease `id` of `tenant` is in grace that has not run out.
    fn in_grace(&self, id: usize, tenant: [u8; 32]) -> bool {
        let lease = &self.leases[id];
        matches!(lease.phase, Phase::Grace { since } if lease.tenant == tenant && self.now < since + self.rules.grace_s)
    }

    /// Charges the unpaid period of a lease in grace; back to active when paid.
    fn resume(&mut self, books: &mut Books, id: usize) -> bool {
        let paid = self.charge(books, id);
        if paid {
            self.leases[id].phase = Phase::Active;
            self.counts[3] += 1;
        }
        paid
    }

    /// Charges the period of lease `id` starting at its `due` time if the tenant's CC covers what leaves it;
    /// moves `due` one period on. Returns `false` (nothing changed) when it does not.
    fn charge(&mut self, books: &mut Books, id: usize) -> bool {
        let Lease { tenant, node, charge, period_s, .. } = self.leases[id];
        let farmer = self.nodes[node].owner;
        let burn = charge * self.rules.burn_bps / 10_000;
        let treasury = charge * self.rules.treasury_bps / 10_000 + i128::from(self.mutate_split);
        let share = charge - burn - treasury;
        let own = farmer == tenant;
        let cost = burn + treasury + if own { 0 } else { share };
        if books.balance(Holder::User(tenant), Asset::Cc) < cost {
            return false;
        }
        let farmer_share = if own { 0 } else { share };
        books.change(&[
            (Holder::User(tenant), Asset::Cc, -cost),
            (Holder::User(farmer), Asset::Cc, farmer_share),
            (Holder::System("treasury"), Asset::Cc, treasury),
        ]);
        self.pending_burn += burn as u128;
        self.settle_burn(books);
        self.counts[1] += 1;
        self.leases[id].due += period_s;
        true
    }

    /// Closes an open lease: its slices are free again and it no longer counts against its tenant.
    fn close(&mut self, id: usize) {
        let lease = &mut self.leases[id];
        lease.phase = Phase::Closed;
        self.counts[4] += 1;
        self.open.remove(&id);
        self.nodes[lease.node].leased -= lease.slices;
        if let Some(count) = self.open_per_tenant.get_mut(&lease.tenant) {
            *count -= 1;
        }
    }

    /// See [`super::Model::lease_counts`].
    pub(super) fn counts(&self) -> [(&'static str, u64); 5] {
        let names = ["opened", "charges", "graces", "resumes", "closed"];
        std::array::from_fn(|i| (names[i], self.counts[i]))
    }

    /// After a price submission: the pending burned CC's counterpart is burned if the prices are now valid.
    pub(super) fn price_submitted(&mut self, books: &mut Books, oracle: &Oracle) {
        self.prices = oracle.prices(self.now);
        self.settle_burn(books);
    }

    /// Burns the TFT counterpart of the pending burned CC at the command's prices (none: it waits).
    fn settle_burn(&mut self, books: &mut Books) {
        let Some(prices) = self.prices.filter(|_| self.pending_burn > 0) else { return };
        let Some(owed) = prices.tft_for_cc(self.pending_burn) else { return };
        let reserve = books.balance(Holder::System("pool2.reserve"), Asset::Tfp);
        let burn = i128::try_from(owed).unwrap_or(i128::MAX).min(reserve);
        if burn > 0 {
            books.change(&[
                (Holder::System("pool2.reserve"), Asset::Tfp, -burn),
                (Holder::System("vault"), Asset::Tft, -burn),
            ]);
        }
        self.pending_burn = 0;
    }

    /// Compares the leases with the node's: how many, and each open one's (every one's when `full`)
    /// node, slices, charge, next due time and phase; each node's leased slices and price.
    pub(super) fn compare(&self, state: &State, full: bool) -> Vec<String> {
        let capacity = state.capacity();
        let (leases, nodes) = (capacity.leases(), capacity.nodes());
        let mut differences = Vec::new();
        if leases.len() != self.leases.len() || nodes.len() != self.nodes.len() {
            differences.push(format!(
                "leases / nodes: model {} / {}, node {} / {}",
                self.leases.len(),
                self.nodes.len(),
                leases.len(),
                nodes.len()
            ));
            return differences;
        }
        let compared: Box<dyn Iterator<Item = (&Lease, &tfeco_core::slices::capacity::Lease)>> = if full {
            Box::new(self.leases.iter().zip(leases.values()))
        } else {
            let theirs = |id: &usize| leases.get(&tfeco_core::LeaseId(*id as u64 + 1));
            Box::new(self.open.iter().filter_map(move |id| Some((&self.leases[*id], theirs(id)?))))
        };
        for (ours, theirs) in compared {
            let phase = match theirs.status {
                LeaseStatus::Active => Phase::Active,
                LeaseStatus::Grace { since } => Phase::Grace { since },
                LeaseStatus::Cancelling => Phase::Cancelling,
                LeaseStatus::Closed { .. } => Phase::Closed,
            };
            let same = phase == ours.phase
                && (phase == Phase::Closed
                    || (theirs.next_charge_at == ours.due
                        && theirs.period_charge.units() == ours.charge
                        && theirs.n_slices == ours.slices
                        && theirs.node_id.0 as usize == ours.node + 1));
            if !same {
                differences.push(format!("lease {}: model {ours:?}, node {theirs:?}", theirs.id.0));
            }
        }
        for (ours, theirs) in self.nodes.iter().zip(nodes.values()) {
            if ours.leased != theirs.leased_slices || ours.price != theirs.price.map(|p| p.units()) {
                differences.push(format!("node {}: model {ours:?}, node {theirs:?}", theirs.id.0));
            }
        }
        differences
    }
}
