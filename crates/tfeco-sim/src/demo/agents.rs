//! The demo's agents and their choices: who they are (keys from public seeds), and what each decides from
//! what it observes. Every random choice draws from the scenario's seeded generator, in a fixed order.

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use rand::rngs::StdRng;
use rand::Rng;
use tfeco_core::UptimeSample;
use tfeco_core::{Billing, Command, NodeId, NodeModel};
use tfeco_money::{Amount, Cc, Price, Rounding};
use tfeco_wallet::api::capacity::NodeView;

use super::{KEY_NAMESPACE, N_FARMERS, N_GUARDIANS, N_LPS, N_TRADERS, N_USERS};

/// Uptime report interval of the nodes (v3: 40 minutes).
const REPORT_EVERY_S: i64 = 2_400;

/// A guardian's key.
pub(super) fn guardian_key(index: usize) -> SigningKey {
    crate::keys::seeded_key(KEY_NAMESPACE, "guardian", index)
}

/// A node's own key (it signs the node's uptime reports), derived from the node id.
fn node_key(node_id: u32) -> SigningKey {
    crate::keys::seeded_key(KEY_NAMESPACE, "node", node_id as usize)
}

/// A node with its key, its farmer, its boot time and the time of its last uptime report.
pub(super) struct NodeAgent {
    pub(super) id: u32,
    pub(super) key: SigningKey,
    /// The index of the farmer that owns it.
    pub(super) farmer: usize,
    pub(super) boot: i64,
    pub(super) last_report: i64,
}

impl NodeAgent {
    /// Farmer `farmer`'s node booted at `boot` that last reported at `last_report`.
    pub(super) fn new(node_id: u32, farmer: usize, boot: i64, last_report: i64) -> Self {
        NodeAgent { id: node_id, key: node_key(node_id), farmer, boot, last_report }
    }

    /// Samples every 40 minutes after the last report up to `until` (seconds since boot as uptime).
    pub(super) fn samples_until(&self, until: i64) -> Vec<UptimeSample> {
        let mut samples = Vec::new();
        let mut at = self.last_report + REPORT_EVERY_S;
        while at <= until {
            samples.push(UptimeSample { at, uptime_s: (at - self.boot) as u64 });
            at += REPORT_EVERY_S;
        }
        samples
    }
}

/// Everyone who acts in the demo.
pub(super) struct Agents {
    pub(super) operator: SigningKey,
    pub(super) guardians: Vec<SigningKey>,
    pub(super) farmers: Vec<SigningKey>,
    pub(super) users: Vec<SigningKey>,
    /// Traders on the TFT/USDC exchange (each holds TFT and USDC).
    pub(super) traders: Vec<SigningKey>,
    /// Liquidity providers of the exit pool (TFP positions).
    pub(super) lps: Vec<SigningKey>,
    /// The owner of the demo's farming pool.
    pub(super) pool_owner: SigningKey,
    /// The nodes by id (known once registered, or found on a resumed node).
    pub(super) nodes: BTreeMap<u32, NodeAgent>,
}

impl Agents {
    pub(super) fn new(operator: SigningKey) -> Self {
        let seeded = |role: &str, n: usize| -> Vec<SigningKey> {
            (0..n).map(|i| crate::keys::seeded_key(KEY_NAMESPACE, role, i)).collect()
        };
        Agents {
            operator,
            guardians: (0..N_GUARDIANS).map(guardian_key).collect(),
            farmers: seeded("farmer", N_FARMERS),
            users: seeded("user", N_USERS),
            traders: seeded("trader", N_TRADERS),
            lps: seeded("lp", N_LPS),
            pool_owner: crate::keys::seeded_key(KEY_NAMESPACE, "pool-owner", 0),
            nodes: BTreeMap::new(),
        }
    }
}

/// How many nodes farmer `i` registers: two for even farmers, one for odd.
pub(super) fn nodes_of_farmer(i: usize) -> usize {
    if i.is_multiple_of(2) {
        2
    } else {
        1
    }
}

/// The catalogue model of farmer `i`'s node `k`.
pub(super) fn model_of(catalogue: &[NodeModel], i: usize, k: usize) -> &NodeModel {
    &catalogue[(i + 3 * k) % catalogue.len()]
}

/// A price inside the model's band: `min + (max - min) * step / 10`, step `(i + k) mod 5`.
pub(super) fn slice_price(model: &NodeModel, i: usize, k: usize) -> Amount<Cc> {
    let (lo, hi) = (model.slice_price_min_month.units(), model.slice_price_max_month.units());
    Amount::from_units(lo + (hi - lo) * ((i + k) % 5) as i128 / 10)
}

/// User `j`'s first deposit and how much of it enters as CC: `(tft, enter)` in whole TFT.
pub(super) fn first_funding(j: usize) -> (i64, i64) {
    let tft = 2_000 + 1_000 * (j as i64 % 10);
    (tft, tft * (6 + (j as i64 % 4)) / 10)
}

/// The next day's TFT price: a drift of up to ±2 % around the last, kept within 0.005..0.02 USD.
pub(super) fn next_tft_price(rng: &mut StdRng, atto: u128) -> u128 {
    let drift = rng.gen_range(-200i64..=200);
    let next = (atto as i128) * (10_000 + drift as i128) / 10_000;
    next.clamp(5_000_000_000_000_000, 20_000_000_000_000_000) as u128
}

/// `price * bps / 10,000`, rounded down (a limit a few percent off the oracle's price).
pub(super) fn price_bps(price: Price, bps: u128) -> Price {
    price.mul_ratio(bps, 10_000, Rounding::Down).unwrap_or(price)
}

/// The day's crossing pair on the exchange: `(seller, buyer, quantity in whole TFT)`, two different
/// traders (self-trades are refused), 500 to 5,000 TFT.
pub(super) fn choose_trade(rng: &mut StdRng) -> (usize, usize, i64) {
    let seller = rng.gen_range(0..N_TRADERS);
    let buyer = (seller + rng.gen_range(1..N_TRADERS)) % N_TRADERS;
    (seller, buyer, rng.gen_range(1..=10) * 500)
}

/// Nodes with a free slice whose monthly price the user can pay twice with `cc`: `(node, price)`.
pub(super) fn affordable_nodes(nodes: &[NodeView], cc: Amount<Cc>) -> Vec<(u32, Amount<Cc>)> {
    nodes
        .iter()
        .filter(|n| n.free_slices > 0)
        .filter_map(|n| Some((n.id.0, n.price_month?)))
        .filter(|(_, price)| price.units() * 2 <= cc.units())
        .collect()
}

/// A user's lease among the candidates (not empty): 40 % hourly; 20 % two slices; 30 % with an end (1 to 3
/// days hourly, one month monthly).
pub(super) fn choose_lease(rng: &mut StdRng, candidates: &[(u32, Amount<Cc>)]) -> Command {
    let (node, _) = candidates[rng.gen_range(0..candidates.len())];
    let billing = if rng.gen_bool(0.4) { Billing::Hourly } else { Billing::Monthly };
    let n_slices = if rng.gen_bool(0.2) { 2 } else { 1 };
    let periods = if rng.gen_bool(0.3) { Some(rng.gen_range(1..=3) * 24) } else { None };
    let periods = if billing == Billing::Monthly { periods.map(|_| 1) } else { periods };
    Command::OpenLease { node_id: NodeId(node), n_slices, billing, periods }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn prices_stay_in_the_band_and_funding_in_reach() {
        let catalogue = tfeco_core::catalogue_q4_2025();
        for i in 0..N_FARMERS {
            for k in 0..nodes_of_farmer(i) {
                let model = model_of(&catalogue, i, k);
                let price = slice_price(model, i, k);
                assert!(model.slice_price_min_month <= price && price <= model.slice_price_max_month);
            }
        }
        assert_eq!(first_funding(0), (2_000, 1_200));
        assert_eq!(first_funding(13), (5_000, 3_500));
    }

    #[test]
    fn choices_are_seeded_and_bounded() {
        let candidates = [(3, Amount::from_units(1)), (7, Amount::from_units(2))];
        let pick = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..20).map(|_| choose_lease(&mut rng, &candidates)).collect::<Vec<_>>()
        };
        assert_eq!(pick(42), pick(42), "the same seed makes the same choices");
        for command in pick(7) {
            let Command::OpenLease { node_id, n_slices, billing, periods } = command else {
                panic!("a lease")
            };
            assert!([3, 7].contains(&node_id.0) && (1..=2).contains(&n_slices));
            match billing {
                Billing::Monthly => assert!(periods.is_none_or(|p| p == 1)),
                Billing::Hourly => assert!(periods.is_none_or(|p| [24, 48, 72].contains(&p))),
            }
        }
        let mut rng = StdRng::seed_from_u64(1);
        let mut atto = 10_000_000_000_000_000;
        for _ in 0..1_000 {
            atto = next_tft_price(&mut rng, atto);
            assert!((5_000_000_000_000_000..=20_000_000_000_000_000).contains(&atto));
        }
    }

    #[test]
    fn trades_pair_two_different_traders() {
        let mut rng = StdRng::seed_from_u64(9);
        for _ in 0..200 {
            let (seller, buyer, tft) = choose_trade(&mut rng);
            assert!(seller != buyer && seller < N_TRADERS && buyer < N_TRADERS);
            assert!((500..=5_000).contains(&tft));
        }
        let p = Price::from_atto(10_000_000_000_000_000);
        assert_eq!(price_bps(p, 9_700), Price::from_atto(9_700_000_000_000_000));
    }

    #[test]
    fn nodes_report_every_forty_minutes_since_their_last_report() {
        let node = NodeAgent::new(1, 0, 1_000, 10_000);
        let samples = node.samples_until(10_000 + 3 * REPORT_EVERY_S + 5);
        assert_eq!(samples.iter().map(|s| s.at).collect::<Vec<_>>(), [12_400, 14_800, 17_200]);
        assert_eq!(samples[0].uptime_s, 11_400);
        assert!(node.samples_until(10_000).is_empty());
    }

    #[test]
    fn users_lease_only_what_they_can_pay_twice() {
        let cc = |s: &str| s.parse::<Amount<Cc>>().unwrap();
        let node = |id: u32, free_slices: u32, price: Option<&str>| NodeView {
            id: NodeId(id),
            farm_id: tfeco_core::FarmId(1),
            model: None,
            certified: false,
            resources: tfeco_core::Resources::default(),
            slices: 4,
            offered_slices: 4,
            leased_slices: 4 - free_slices,
            free_slices,
            band_min: cc("1"),
            band_max: cc("10"),
            price_month: price.map(cc),
            price_hour: None,
        };
        let nodes = [node(1, 2, Some("5")), node(2, 0, Some("1")), node(3, 1, Some("1")), node(4, 1, None)];
        assert_eq!(affordable_nodes(&nodes, cc("10")), [(1, cc("5")), (3, cc("1"))]);
        assert_eq!(affordable_nodes(&nodes, cc("9.99")), [(3, cc("1"))]);
    }
}
