//! The demo's markets besides plain leases: the TFT/USDC exchange (two different traders cross each day),
//! capacity requests (a weekly reverse auction that farmers offer on), the seed bid tiers (the operator's
//! standing bids, funded by a fiat entry, that farmers fill weekly), the farming pool (three member farms
//! whose prices the pool owner sets) and Pool 2 (farmers convert part of their revenue CC to TFP).

use ed25519_dalek::SigningKey;
use rand::Rng;
use tfeco_core::{Command, Event, NodeId, PoolRules, PricePolicy, Requirements, Settlement, Side};
use tfeco_money::{Amount, AnyAsset, Asset, Bps, Cc, Price, Tft, Usdc};
use tfeco_wallet::api::capacity::{NodesQuery, SearchQuery, StandingBidsQuery};
use tfeco_wallet::client::account_of;

use super::agents;
use super::month::check;
use super::{Demo, N_FARMERS, N_TRADERS, N_USERS};
use crate::Result;

/// Each trader's first TFT and USDC, whole tokens.
const TRADER_TFT: i64 = 200_000;
/// See [`TRADER_TFT`].
const TRADER_USDC: i64 = 2_000;
/// The operator's monthly fiat entry, whole USD: CC for the seed tiers' escrow (28,800 CC at ~0.13 USD),
/// and USDC for the treasury.
const OPERATOR_FIAT_USD: i64 = 5_000;
/// Limits of the day's crossing pair: the seller asks 3 % under the oracle, the buyer bids 3 % over it.
const SELL_BPS: u128 = 9_700;
/// See [`SELL_BPS`].
const BUY_BPS: u128 = 10_300;
/// The farms that join the demo's farming pool (by farmer index).
const POOL_MEMBERS: [usize; 3] = [7, 8, 9];
/// The farmer that settles its revenue in TFP through Pool 2.
const TFP_SETTLER: usize = 1;
/// A capacity request: slices, the most per slice-month, and its offer window (12 h: it closes at the next
/// day's first tick).
const REQUEST_SLICES: u32 = 2;
/// See [`REQUEST_SLICES`].
const REQUEST_MAX_CC: i64 = 12;
/// See [`REQUEST_SLICES`].
const REQUEST_WINDOW_S: i64 = 43_200;
/// At most this many farmers offer on a capacity request, and fill each bid tier in a week.
const OFFERS_PER_REQUEST: usize = 3;

impl Demo {
    /// A fresh node: the traders get TFT and USDC (attested deposits), the operator is registered, one
    /// farmer settles in TFP, and the farming pool is formed.
    pub(super) async fn setup_markets(&mut self) -> Result<()> {
        for t in 0..N_TRADERS {
            let trader = self.agents.traders[t].clone();
            self.driver.submit(&trader, Command::RegisterAccount {}).await?;
            self.attest_deposit(Asset::Tft, account_of(&trader), TRADER_TFT).await?;
            self.attest_deposit(Asset::Usdc, account_of(&trader), TRADER_USDC).await?;
        }
        let operator = self.agents.operator.clone();
        if self.driver.client().account(&account_of(&operator)).await.is_err() {
            self.driver.submit(&operator, Command::RegisterAccount {}).await?;
        }
        let settle = Command::SetSettlement { settle_in: Settlement::Tfp };
        self.driver.submit(&self.agents.farmers[TFP_SETTLER].clone(), settle).await?;
        self.form_farming_pool().await
    }

    /// The pool owner creates the pool (5 % fee, pool-set prices, half a member's TFP per exit round) and
    /// each member farm joins with both signatures.
    async fn form_farming_pool(&mut self) -> Result<()> {
        let owner = self.agents.pool_owner.clone();
        self.driver.submit(&owner, Command::RegisterAccount {}).await?;
        let rules = PoolRules {
            fee_bps: bps(500)?,
            price_policy: PricePolicy::PoolSet,
            reward_lock_months: 0,
            exit_quota_bps: bps(5_000)?,
        };
        let create = Command::CreateFarmingPool { name: "Demo Farming Pool".to_owned(), rules };
        let Some(events) = self.driver.submit(&owner, create).await?.events()? else { return Ok(()) };
        let pool_id = events
            .iter()
            .find_map(|e| match e {
                Event::FarmingPoolCreated { pool_id, .. } => Some(*pool_id),
                _ => None,
            })
            .ok_or_else(|| check("no farming_pool_created event"))?;
        let farms = self.farm_ids().await?;
        for i in POOL_MEMBERS {
            let farmer = self.agents.farmers[i].clone();
            let farm_id =
                *farms.get(&account_of(&farmer)).ok_or_else(|| check("no farm of a pool member"))?;
            let change = tfeco_core::MembershipChange::Join;
            self.driver.submit(&farmer, Command::SignPoolMembership { pool_id, farm_id, change }).await?;
            self.driver.submit(&owner, Command::SignPoolMembership { pool_id, farm_id, change }).await?;
        }
        Ok(())
    }

    /// The day's markets: a trade every day; on day 2 of each week a capacity request, on day 3 the bid-tier
    /// fills, on day 4 the pool's prices; on day 28 the Pool 2 conversions.
    pub(super) async fn play_markets(&mut self, day: i64) -> Result<()> {
        self.trade().await?;
        match day % 7 {
            2 => self.post_capacity_request().await?,
            3 => self.fill_bid_tiers().await?,
            4 => self.set_pool_prices().await?,
            _ => {}
        }
        if day == 28 {
            self.convert_revenue().await?;
        }
        Ok(())
    }

    /// Two different traders cross in the current batch around the oracle price; the next tick clears it.
    async fn trade(&mut self) -> Result<()> {
        let (seller, buyer, tft) = agents::choose_trade(&mut self.rng);
        let market_id = tfeco_core::MarketId(1);
        let oracle = Price::from_atto(self.tft_usd_atto);
        let quantity = Amount::<AnyAsset>::from_units(Amount::<Tft>::tokens(tft).units());
        let orders = [(seller, Side::Sell, SELL_BPS), (buyer, Side::Buy, BUY_BPS)];
        for (trader, side, limit_bps) in orders {
            let limit_price = agents::price_bps(oracle, limit_bps);
            let command =
                Command::PlaceOrder { market_id, side, quantity, limit_price, expires_after_batches: None };
            let key = self.agents.traders[trader].clone();
            if self.driver.submit(&key, command).await?.events()?.is_some() {
                self.activity.orders_placed += 1;
            }
        }
        Ok(())
    }

    /// A user posts a request for two slices of at least 4 GB at most 12 CC each; up to three farmers whose
    /// nodes qualify offer their listed price.
    async fn post_capacity_request(&mut self) -> Result<()> {
        let user = self.agents.users[self.rng.gen_range(0..N_USERS)].clone();
        let requirements = Requirements { min_mem_gb: 4, ..Requirements::default() };
        let max_price_month = Amount::<Cc>::tokens(REQUEST_MAX_CC);
        let post = Command::PostCapacityRequest {
            requirements: requirements.clone(),
            n_slices: REQUEST_SLICES,
            max_price_month,
            periods: Some(1),
            window_s: REQUEST_WINDOW_S,
        };
        let Some(events) = self.driver.submit(&user, post).await?.events()? else { return Ok(()) };
        let Some(request_id) = events.iter().find_map(|e| match e {
            Event::CapacityRequestPosted { request_id, .. } => Some(*request_id),
            _ => None,
        }) else {
            return Ok(());
        };
        self.activity.capacity_requests_posted += 1;
        let query = search(&requirements, Some(max_price_month));
        for (node_id, price_month) in self.eligible_nodes(&query).await? {
            let Some(farmer) = self.farmer_of(node_id) else { continue };
            let offer = Command::OfferCapacity { request_id, node_id, price_month };
            if self.driver.submit(&farmer, offer).await?.events()?.is_some() {
                self.activity.capacity_offers += 1;
            }
        }
        Ok(())
    }

    /// Nodes of up to [`OFFERS_PER_REQUEST`] different farmers that match `query`, cheapest first:
    /// `(node, listed price)`.
    async fn eligible_nodes(&self, query: &SearchQuery) -> Result<Vec<(NodeId, Amount<Cc>)>> {
        let hits = self.driver.client().capacity_search(query).await?.results;
        let mut farmers = Vec::new();
        let mut chosen = Vec::new();
        for hit in hits {
            let Some(farmer) = self.agents.nodes.get(&hit.node_id.0).map(|n| n.farmer) else { continue };
            if !farmers.contains(&farmer) && chosen.len() < OFFERS_PER_REQUEST {
                farmers.push(farmer);
                chosen.push((hit.node_id, hit.price_month));
            }
        }
        Ok(chosen)
    }

    /// The key of the farmer that owns `node`.
    fn farmer_of(&self, node: NodeId) -> Option<SigningKey> {
        let farmer = self.agents.nodes.get(&node.0)?.farmer;
        self.agents.farmers.get(farmer).cloned()
    }

    /// The operator posts each published bid tier it has no open standing bid for, after a fiat entry that
    /// pays the escrow (and credits the treasury's USDC).
    pub(super) async fn post_bid_tiers(&mut self) -> Result<()> {
        let operator = self.agents.operator.clone();
        let query = StandingBidsQuery { buyer: Some(account_of(&operator)), open: Some(true) };
        let open = self.driver.client().standing_bids(&query).await?.standing_bids;
        let tiers = self.driver.client().params().await?.bid_tiers;
        let missing: Vec<_> = tiers.into_iter().filter(|t| !open.iter().any(|b| b.name == t.name)).collect();
        let usd = Amount::<Usdc>::tokens(OPERATOR_FIAT_USD);
        let payment_id = format!("demo-operator-fiat-month-{}", self.month_number());
        let to = account_of(&operator);
        self.driver.submit(&operator, Command::EnterWithFiat { to, usd, payment_id }).await?;
        for tier in missing {
            let command = Command::PostStandingBid {
                name: tier.name,
                requirements: tier.requirements,
                price_month: tier.price_month,
                quantity: tier.quantity,
                periods: None,
            };
            self.driver.submit(&operator, command).await?;
        }
        Ok(())
    }

    /// For each open bid tier, farmers whose nodes qualify fill one slice each (up to three farmers).
    async fn fill_bid_tiers(&mut self) -> Result<()> {
        let query = StandingBidsQuery { buyer: None, open: Some(true) };
        let bids = self.driver.client().standing_bids(&query).await?.standing_bids;
        for bid in bids.into_iter().filter(|b| b.remaining > 0) {
            let query = search(&bid.requirements, None);
            for (node_id, _) in self.eligible_nodes(&query).await? {
                let Some(farmer) = self.farmer_of(node_id) else { continue };
                let fill = Command::FillStandingBid { bid_id: bid.id, node_id, n_slices: 1 };
                if self.driver.submit(&farmer, fill).await?.events()?.is_some() {
                    self.activity.standing_bid_fills += 1;
                }
            }
        }
        Ok(())
    }

    /// The pool owner prices its member nodes by demand: a full node 10 % up, one with free slices 5 % down,
    /// inside the node's band.
    async fn set_pool_prices(&mut self) -> Result<()> {
        let pools = self.driver.client().farming_pools().await?.pools;
        let owner = self.agents.pool_owner.clone();
        let Some(pool) = pools.into_iter().find(|p| p.owner == account_of(&owner)) else { return Ok(()) };
        let members = self.driver.client().farming_pool(pool.id).await?.member_nodes;
        let nodes = self.driver.client().nodes(&NodesQuery::default()).await?.nodes;
        for node in nodes.iter().filter(|n| members.contains(&n.id)) {
            let Some(price) = node.price_month else { continue };
            let (num, den) = if node.free_slices == 0 { (110, 100) } else { (95, 100) };
            let next = (price.units() * num / den).clamp(node.band_min.units(), node.band_max.units());
            if next != price.units() {
                let command = Command::SetPoolPrice { node_id: node.id, price: Amount::from_units(next) };
                if self.driver.submit(&owner, command).await?.events()?.is_some() {
                    self.activity.pool_prices_set += 1;
                }
            }
        }
        Ok(())
    }

    /// Each farmer with revenue CC converts half of it to TFP through Pool 2 (as far as the reserve allows).
    async fn convert_revenue(&mut self) -> Result<()> {
        for i in 0..N_FARMERS {
            let farmer = self.agents.farmers[i].clone();
            let revenue = self.driver.client().account(&account_of(&farmer)).await?.revenue_cc;
            let cc = Amount::<Cc>::from_units(revenue.units() / 2);
            if !cc.is_positive() {
                continue;
            }
            let command = Command::ConvertCcToTfp { cc, allow_partial: true };
            let Some(events) = self.driver.submit(&farmer, command).await?.events()? else { continue };
            for event in events {
                if let Event::ConvertedCcToTfp { cc, tfp, .. } = event {
                    self.activity.converted_cc = add(self.activity.converted_cc, cc);
                    self.activity.converted_tfp = add(self.activity.converted_tfp, tfp);
                }
            }
        }
        Ok(())
    }
}

/// A search for nodes meeting `requirements` with a free slice at most `max_price` a slice-month, cheapest
/// first (the search's order), 50 at most.
fn search(requirements: &Requirements, max_price: Option<Amount<Cc>>) -> SearchQuery {
    SearchQuery {
        min_cores: Some(requirements.min_cores),
        min_passmark: Some(requirements.min_passmark),
        min_mem_gb: Some(requirements.min_mem_gb),
        min_ssd_gb: Some(requirements.min_ssd_gb),
        min_ai_mem_gb: Some(requirements.min_ai_mem_gb),
        min_ai_tps: Some(requirements.min_ai_tps),
        certified_only: Some(requirements.certified_only),
        farm: requirements.farm_id.map(|farm| farm.0),
        max_price,
        billing: None,
        min_free: Some(1),
        limit: Some(50),
    }
}

/// Basis points, or a check error (the constants are all below 10,000).
fn bps(value: u16) -> Result<Bps> {
    Bps::new(value).ok_or_else(|| check("basis points above 10,000"))
}

/// `a + b`, saturating (a demo tally).
pub(super) fn add<A>(a: Amount<A>, b: Amount<A>) -> Amount<A> {
    Amount::from_units(a.units().saturating_add(b.units()))
}
