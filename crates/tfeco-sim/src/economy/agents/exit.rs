//! The exit pool's side: holders bring TFT (attested deposits), lock it into TFP and open one position each;
//! once in each weekly round (at the first step it is open, before its lock window), `bid_share_bps` of the
//! position holders (holders and farmers with positions) submit a sealed bid for the USDC value of `bid_size_bps` of their
//! position's free TFP at a minimum price `discount_bps` below the oracle's TFT price.

use rand::Rng;
use tfeco_core::{AccountKey, Command, Event};
use tfeco_money::{mul_div, Amount, Asset, Price, Rounding, Tfp, Tft};

use super::{role, PositionHolder, World};

impl World<'_> {
    /// The scenario's holders register, receive their TFT, lock it and open a position each.
    pub(crate) fn add_holders(&mut self) {
        let tft = self.scenario.exit.holder_tft.0;
        for h in 0..self.scenario.exit.holders {
            let key = super::key(role::HOLDER, u64::from(h));
            if self.submit(key, Command::RegisterAccount {}).is_none() || tft <= 0 {
                continue;
            }
            self.attest_deposit(Asset::Tft, key, tft);
            self.submit(key, Command::LockTft { tft: Amount::<Tft>::from_units(tft) });
            self.open_position(key, tft);
        }
    }

    /// `key` opens an exit position of `tfp` units; an opened one joins the holders (a refusal is counted).
    pub(crate) fn open_position(&mut self, key: AccountKey, tfp: i128) {
        let Some(events) = self.submit(key, Command::OpenPosition { tfp: Amount::<Tfp>::from_units(tfp) })
        else {
            return;
        };
        let opened = World::find(&events, |e| match e {
            Event::PositionOpened { position_id, .. } => Some(*position_id),
            _ => None,
        });
        if let Some(position) = opened {
            self.holders.push(PositionHolder { key, position });
        }
    }

    /// Once per round, before its lock window, a share of the position holders bid.
    pub(crate) fn bid_for_exit(&mut self) {
        let now = self.now();
        let round = self.state().exit_pool().round();
        let lock = self.state().params().exit_lock_window_s;
        if self.last_bid_round == Some(round.id) || round.closes_at - lock <= now {
            return;
        }
        self.last_bid_round = Some(round.id);
        let Ok(prices) = self.state().prices() else { return };
        let discount = u128::from(self.scenario.exit.discount_bps);
        let Some(min_price) = prices.tft_usd.mul_ratio(10_000 - discount, 10_000, Rounding::Down) else {
            return;
        };
        let (share, size) = (self.scenario.exit.bid_share_bps, i128::from(self.scenario.exit.bid_size_bps));
        for h in 0..self.holders.len() {
            if self.rng.gen_range(0..10_000) >= share {
                continue;
            }
            let PositionHolder { key, position } = self.holders[h];
            let Some(free) = self.state().exit_pool().positions().get(&position).map(|p| p.free().units())
            else {
                continue;
            };
            let tfp = free * size / 10_000;
            let Some(usdc) = usdc_value(tfp, min_price).filter(|u| *u > 0) else { continue };
            let bid = Command::SubmitExitBid {
                position_id: position,
                usdc: Amount::from_units(usdc),
                min_price,
                carry_over: false,
            };
            if self.submit(key, bid).is_some() {
                self.flows.exit_bids += 1;
            }
        }
    }
}

/// USDC units worth `tfp_units` TFP at `price` (both 7 decimals), rounded down.
fn usdc_value(tfp_units: i128, price: Price) -> Option<i128> {
    let value = mul_div(u128::try_from(tfp_units).ok()?, price.atto(), Price::scale(), Rounding::Down)?;
    i128::try_from(value).ok()
}
