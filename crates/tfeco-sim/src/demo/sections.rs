//! The sections of the demo's story, one per mechanism (flows, burns, exit pool, exchange, capacity
//! requests, standing bids, farming pools, minting), each built from the node's views by a pure function so
//! that what it counts is tested without a node. "Month" figures cover the month this run played (records
//! stamped inside it, or the difference with the figures at the start of the run); "total" figures are the
//! node's since genesis. Amounts are decimal strings in JSON.

use serde::Serialize;
use tfeco_money::{mul_div, Amount, AnyAsset, Cc, Price, Rounding, Tfp, Tft, Usdc};
use tfeco_wallet::api::capacity::{CapacityRequestView, LeaseView, StandingBidView};
use tfeco_wallet::api::exchange::BatchView;
use tfeco_wallet::api::exit_pool::ExitRoundSummary;
use tfeco_wallet::api::ledger::SupplyView;
use tfeco_wallet::api::rewards::MintReportSummary;

/// What the agents did in this run, counted as the node accepted it (the node keeps no such tally).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Activity {
    /// Exchange orders placed.
    pub orders_placed: u64,
    /// Capacity requests posted.
    pub capacity_requests_posted: u64,
    /// Farmers' offers on capacity requests.
    pub capacity_offers: u64,
    /// `FillStandingBid`s (one slice each).
    pub standing_bid_fills: u64,
    /// Prices the farming pool's owner set on member nodes.
    pub pool_prices_set: u64,
    /// Exit bids submitted.
    pub exit_bids_submitted: u64,
    /// USDC the guardians attested into the exit pool.
    pub exit_usdc_deposited: Amount<Usdc>,
    /// Treasury USDC the guardians moved into the exit pool.
    pub exit_usdc_from_treasury: Amount<Usdc>,
    /// Revenue CC farmers converted to TFP through Pool 2 (burned).
    pub converted_cc: Amount<Cc>,
    /// TFP they received from `pool2.reserve`.
    pub converted_tfp: Amount<Tfp>,
}

/// The economy's flows over a span (the month, or since genesis).
#[derive(Clone, Debug, Serialize)]
pub struct Flows {
    /// CC minted (entries with TFT or fiat, TFP converted to CC).
    pub cc_minted: Amount<AnyAsset>,
    /// CC burned (the revenue burn share and revenue CC converted to TFP).
    pub cc_burned: Amount<AnyAsset>,
    /// CC paid for capacity (every lease's charges).
    pub capacity_paid_cc: Amount<Cc>,
    /// TFT brought in by attested deposits.
    pub tft_deposited: Amount<AnyAsset>,
    /// USDC brought in by attested deposits.
    pub usdc_deposited: Amount<AnyAsset>,
    /// TFT burned (with the revenue burn).
    pub tft_burned: Amount<AnyAsset>,
    /// TFT minted as node rewards.
    pub tft_rewards_minted: Amount<AnyAsset>,
}

impl Flows {
    /// The flows since genesis of a supply view, with the capacity paid.
    pub(super) fn total(supply: &SupplyView, capacity_paid_cc: Amount<Cc>) -> Flows {
        Flows {
            cc_minted: supply.assets.cc.minted,
            cc_burned: supply.assets.cc.burned,
            capacity_paid_cc,
            tft_deposited: supply.assets.tft.deposited,
            usdc_deposited: supply.assets.usdc.deposited,
            tft_burned: supply.assets.tft.burned,
            tft_rewards_minted: supply.assets.tft.minted,
        }
    }

    /// `self - before`, field by field.
    pub(super) fn since(&self, before: &Flows) -> Flows {
        fn d<A>(a: Amount<A>, b: Amount<A>) -> Amount<A> {
            Amount::from_units(a.units().saturating_sub(b.units()))
        }
        Flows {
            cc_minted: d(self.cc_minted, before.cc_minted),
            cc_burned: d(self.cc_burned, before.cc_burned),
            capacity_paid_cc: d(self.capacity_paid_cc, before.capacity_paid_cc),
            tft_deposited: d(self.tft_deposited, before.tft_deposited),
            usdc_deposited: d(self.usdc_deposited, before.usdc_deposited),
            tft_burned: d(self.tft_burned, before.tft_burned),
            tft_rewards_minted: d(self.tft_rewards_minted, before.tft_rewards_minted),
        }
    }
}

/// CC paid for capacity since genesis: the sum of every lease's charges.
pub(super) fn capacity_paid(leases: &[LeaseView]) -> Amount<Cc> {
    Amount::from_units(leases.iter().map(|l| l.total_paid.units()).sum())
}

/// What was burned this month and why (spec `decisions.md` §5, §7).
#[derive(Clone, Debug, Serialize)]
pub struct Burns {
    /// CC burned this month.
    pub cc_burned: Amount<AnyAsset>,
    /// Of which the revenue burn share: 10 % of every CC paid for capacity.
    pub revenue_share_cc: Amount<AnyAsset>,
    /// Of which revenue CC farmers converted to TFP through Pool 2.
    pub converted_cc: Amount<Cc>,
    /// TFT burned this month: the revenue burn's TFT counterpart (`burn_cc * cc_usd / tft_usd`), TFP taken
    /// from `pool2.reserve` and burned with the same TFT from the vault.
    pub tft_burned: Amount<AnyAsset>,
    /// TFP farmers received for their converted CC.
    pub converted_tfp: Amount<Tfp>,
    /// CC of the burn share still waiting for a valid price (now).
    pub burn_pending_cc: Amount<Cc>,
    /// TFT the reserve could not cover, owed to the burn (now).
    pub burn_owed_tft: Amount<Tft>,
    /// TFP in `pool2.reserve` (now): what future burns and conversions draw on.
    pub pool2_reserve_tfp: Amount<Tfp>,
}

impl Burns {
    /// The month's burns from its flows, the agents' conversions and the node's figures now.
    pub(super) fn new(month: &Flows, activity: &Activity, supply: &SupplyView, reserve: Amount<Tfp>) -> Self {
        let revenue = month.cc_burned.units().saturating_sub(activity.converted_cc.units()).max(0);
        Burns {
            cc_burned: month.cc_burned,
            revenue_share_cc: Amount::from_units(revenue),
            converted_cc: activity.converted_cc,
            tft_burned: month.tft_burned,
            converted_tfp: activity.converted_tfp,
            burn_pending_cc: supply.burn_pending_cc,
            burn_owed_tft: supply.burn_owed_tft,
            pool2_reserve_tfp: reserve,
        }
    }
}

/// The exit pool (spec §8): the month's weekly rounds and the pool now.
#[derive(Clone, Debug, Serialize)]
pub struct ExitSection {
    /// Rounds closed this month.
    pub rounds_closed: u64,
    /// Rounds that cleared (a clearing price and USDC paid) this month.
    pub rounds_cleared: u64,
    /// USDC paid to exiting positions this month.
    pub usdc_paid: Amount<Usdc>,
    /// TFP the exiting positions surrendered this month.
    pub tfp_surrendered: Amount<Tfp>,
    /// Of it, the margin credited to the positions that stayed.
    pub margin_tfp: Amount<Tfp>,
    /// The month's rounds.
    pub rounds: Vec<ExitRoundSummary>,
    /// USDC the guardians attested into the pool this month.
    pub deposited_usdc: Amount<Usdc>,
    /// Treasury USDC the guardians moved into the pool this month.
    pub from_treasury_usdc: Amount<Usdc>,
    /// Exit bids submitted this month.
    pub bids_submitted: u64,
    /// Positions now.
    pub positions: usize,
    /// The pool's USDC now.
    pub pool_usdc: Amount<Usdc>,
    /// The pool's TFP now (positions and earned margin).
    pub pool_tfp: Amount<Tfp>,
    /// USDC paid since genesis.
    pub usdc_paid_total: Amount<Usdc>,
    /// USD value of all positions ever opened (cap A is half of it, minus what was paid).
    pub value_contributed_usd_total: Amount<Usdc>,
}

/// The month's part of the rounds (those closed inside `window`): `(closed, cleared, paid, surrendered,
/// margin, rounds)`.
pub(super) fn exit_month(rounds: &[ExitRoundSummary], window: (i64, i64)) -> ExitMonth {
    let mut month = ExitMonth::default();
    for round in rounds.iter().filter(|r| window.0 < r.closed_at && r.closed_at <= window.1) {
        month.closed += 1;
        if round.clearing_price.is_some() && round.total_paid.is_positive() {
            month.cleared += 1;
        }
        month.paid = Amount::from_units(month.paid.units().saturating_add(round.total_paid.units()));
        month.surrendered =
            Amount::from_units(month.surrendered.units().saturating_add(round.tfp_surrendered.units()));
        month.margin = Amount::from_units(month.margin.units().saturating_add(round.margin_tfp.units()));
        month.rounds.push(round.clone());
    }
    month.rounds.sort_by_key(|r| r.closed_at);
    month
}

/// See [`exit_month`].
#[derive(Default)]
pub(super) struct ExitMonth {
    pub(super) closed: u64,
    pub(super) cleared: u64,
    pub(super) paid: Amount<Usdc>,
    pub(super) surrendered: Amount<Tfp>,
    pub(super) margin: Amount<Tfp>,
    pub(super) rounds: Vec<ExitRoundSummary>,
}

/// The TFT/USDC exchange (spec §13): the month's published batches.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ExchangeSection {
    /// The market, e.g. `TFT/USDC`.
    pub market: String,
    /// Orders the traders placed this month.
    pub orders_placed: u64,
    /// Batches published this month.
    pub batches: u64,
    /// Of which batches with trades (a clearing price and volume).
    pub batches_with_trades: u64,
    /// TFT traded this month.
    pub volume_tft: Amount<Tft>,
    /// USDC paid for it (volume times each batch's price, rounded down).
    pub volume_usdc: Amount<Usdc>,
    /// The lowest and highest clearing price of the month.
    pub price_low: Option<Price>,
    /// See `price_low`.
    pub price_high: Option<Price>,
    /// The market's last clearing price.
    pub last_price: Option<Price>,
}

impl ExchangeSection {
    /// The month's figures from the published batches (those cleared inside `window`).
    pub(super) fn from_batches(batches: &[BatchView], window: (i64, i64)) -> Self {
        let mut section = ExchangeSection::default();
        for batch in batches.iter().filter(|b| window.0 < b.cleared_at && b.cleared_at <= window.1) {
            section.batches += 1;
            let Some(price) = batch.price.filter(|_| batch.volume.is_positive()) else { continue };
            section.batches_with_trades += 1;
            let volume = batch.volume.units();
            section.volume_tft = Amount::from_units(section.volume_tft.units().saturating_add(volume));
            let usdc = mul_div(volume.unsigned_abs(), price.atto(), Price::scale(), Rounding::Down)
                .and_then(|u| i128::try_from(u).ok())
                .unwrap_or(0);
            section.volume_usdc = Amount::from_units(section.volume_usdc.units().saturating_add(usdc));
            section.price_low = Some(section.price_low.map_or(price, |p| p.min(price)));
            section.price_high = Some(section.price_high.map_or(price, |p| p.max(price)));
        }
        section
    }
}

/// Capacity requests, the reverse auction (spec §9).
#[derive(Clone, Debug, Default, Serialize)]
pub struct CapacitySection {
    /// Requests posted this month.
    pub requests_posted: u64,
    /// Farmers' offers this month.
    pub offers: u64,
    /// Requests closed this month.
    pub requests_closed: u64,
    /// Of which filled completely (every slice leased at the lowest offers).
    pub requests_filled: u64,
    /// Of which filled in part.
    pub requests_partly_filled: u64,
    /// Slices leased through them this month.
    pub slices_leased: u64,
    /// Escrow returned to the requesters this month.
    pub refunded_cc: Amount<Cc>,
    /// Why requests got less than asked, this month.
    pub shortfalls: Vec<String>,
    /// Requests filled completely since genesis.
    pub requests_filled_total: u64,
}

impl CapacitySection {
    /// The month's figures from every request (those closed inside `window`), and the total.
    pub(super) fn from_requests(requests: &[CapacityRequestView], window: (i64, i64)) -> Self {
        let mut section = CapacitySection::default();
        for request in requests {
            let Some(outcome) = &request.outcome else { continue };
            let complete = outcome.filled >= request.n_slices;
            section.requests_filled_total += u64::from(complete);
            if !(window.0 < outcome.closed_at && outcome.closed_at <= window.1) {
                continue;
            }
            section.requests_closed += 1;
            section.requests_filled += u64::from(complete);
            section.requests_partly_filled += u64::from(!complete && outcome.filled > 0);
            section.slices_leased += u64::from(outcome.filled);
            section.refunded_cc =
                Amount::from_units(section.refunded_cc.units().saturating_add(outcome.refunded.units()));
            section.shortfalls.extend(outcome.reasons.iter().map(|r| r.message.clone()));
        }
        section
    }
}

/// The standing bids: the seed bid tiers and any buyer's (spec §9).
#[derive(Clone, Debug, Serialize)]
pub struct StandingBidsSection {
    /// Slices farmers filled this month.
    pub slices_filled: u64,
    /// Slices filled since genesis.
    pub slices_filled_total: u64,
    /// CC still escrowed for the bids.
    pub escrow_cc: Amount<Cc>,
    /// The bids now.
    pub bids: Vec<StandingBidView>,
}

/// Slices filled over every standing bid.
pub(super) fn slices_filled(bids: &[StandingBidView]) -> u64 {
    bids.iter().map(|b| u64::from(b.filled)).sum()
}

/// A farming pool (spec §10) and what its owner earned.
#[derive(Clone, Debug, Serialize)]
pub struct FarmingPoolLine {
    /// Name.
    pub name: String,
    /// Member farms.
    pub member_farms: usize,
    /// Member nodes.
    pub member_nodes: usize,
    /// The owner's fee, basis points of the members' farmer share.
    pub fee_bps: u16,
    /// Who sets the members' prices (`free`, `range` or `pool_set`).
    pub price_policy: String,
    /// The owner's revenue CC (its fees), since genesis.
    pub owner_revenue_cc: Amount<Cc>,
}

/// The farming pools.
#[derive(Clone, Debug, Serialize)]
pub struct FarmingPoolsSection {
    /// Prices the pool owner set on member nodes this month.
    pub prices_set: u64,
    /// The pools.
    pub pools: Vec<FarmingPoolLine>,
}

/// Minting (spec §11): the period reports and the rewards.
#[derive(Clone, Debug, Serialize)]
pub struct MintingSection {
    /// Node rewards minted this month (TFT).
    pub tft_minted: Amount<AnyAsset>,
    /// Node rewards minted since genesis.
    pub tft_minted_total: Amount<AnyAsset>,
    /// Rewards locked in vesting now.
    pub vesting_locked_tft: Option<Amount<AnyAsset>>,
    /// The minting reports (`None` when the node would not list them).
    pub reports: Option<Vec<MintReportSummary>>,
}

#[cfg(test)]
mod tests {
    use tfeco_core::{CapacityRequestId, MarketId, RoundId};
    use tfeco_wallet::api::capacity::{CapacityRequestStatus, RequestOutcomeView};

    use super::*;

    fn batch(cleared_at: i64, price: Option<u128>, volume_tft: i64) -> BatchView {
        BatchView {
            market_id: MarketId(1),
            batch: cleared_at as u64,
            cleared_at,
            price: price.map(Price::from_atto),
            volume: Amount::from_units(Amount::<Tft>::tokens(volume_tft).units()),
            imbalance: Amount::ZERO,
            orders: 2,
            filled_orders: 2,
            depth: Vec::new(),
        }
    }

    #[test]
    fn the_exchange_counts_the_months_batches_with_trades() {
        let cent = 10_000_000_000_000_000;
        let batches = [
            batch(5, Some(cent), 100),
            batch(15, Some(2 * cent), 1_000),
            batch(16, None, 0),
            batch(30, Some(cent), 7),
        ];
        let section = ExchangeSection::from_batches(&batches, (10, 20));
        assert_eq!((section.batches, section.batches_with_trades), (2, 1));
        assert_eq!(section.volume_tft.to_string(), "1000");
        assert_eq!(section.volume_usdc.to_string(), "20");
        assert_eq!(section.price_low, Some(Price::from_atto(2 * cent)));
    }

    fn round(closed_at: i64, paid: i64) -> ExitRoundSummary {
        ExitRoundSummary {
            round_id: RoundId(closed_at as u64),
            closed_at,
            ref_price: None,
            clearing_price: (paid > 0).then(|| Price::from_atto(7)),
            cap: Amount::ZERO,
            total_paid: Amount::tokens(paid),
            tfp_surrendered: Amount::tokens(paid * 10),
            margin_tfp: Amount::tokens(paid),
            bids: 1,
            note: None,
        }
    }

    #[test]
    fn exit_rounds_count_in_their_month_and_clear_only_when_they_pay() {
        let month = exit_month(&[round(20, 5), round(15, 0), round(5, 9), round(12, 3)], (10, 20));
        assert_eq!((month.closed, month.cleared), (3, 2));
        assert_eq!(month.paid.to_string(), "8");
        assert_eq!(month.rounds.iter().map(|r| r.closed_at).collect::<Vec<_>>(), [12, 15, 20]);
    }

    #[test]
    fn capacity_requests_fill_completely_or_in_part() {
        let request = |closed_at: Option<i64>, filled: u32| CapacityRequestView {
            id: CapacityRequestId(1),
            requester: tfeco_core::AccountKey([1; 32]),
            requirements: tfeco_core::Requirements::default(),
            n_slices: 2,
            max_price_month: Amount::tokens(12),
            periods: Some(1),
            closes_at: 0,
            escrow: Amount::ZERO,
            offers: Vec::new(),
            outcome: closed_at.map(|closed_at| RequestOutcomeView {
                closed_at,
                filled,
                leases: Vec::new(),
                refunded: Amount::tokens(1),
                reasons: Vec::new(),
            }),
            status: CapacityRequestStatus::Open,
        };
        let requests = [request(Some(15), 2), request(Some(16), 1), request(Some(5), 2), request(None, 0)];
        let section = CapacitySection::from_requests(&requests, (10, 20));
        assert_eq!(
            (section.requests_closed, section.requests_filled, section.requests_partly_filled),
            (2, 1, 1)
        );
        assert_eq!((section.slices_leased, section.requests_filled_total), (3, 2));
        assert_eq!(section.refunded_cc.to_string(), "2");
    }
}
