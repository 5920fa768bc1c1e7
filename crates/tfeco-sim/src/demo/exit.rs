//! The exit pool in the demo (spec `decisions.md` §8): liquidity providers bring TFT (attested deposits),
//! lock it into TFP and open positions; the exit pool's USDC is funded every month; the day before each
//! weekly round closes, every provider submits a sealed exit bid well under the oracle price (more than the
//! 20 % minimum discount), and the day's tick closes the round at a fresh price, which clears and pays USDC.

use rand::Rng;
use tfeco_core::Command;
use tfeco_money::{Amount, Asset, Price, Tfp, Tft, Usdc};
use tfeco_wallet::api::exit_pool::PositionsQuery;
use tfeco_wallet::client::account_of;

use super::agents;
use super::markets::add;
use super::{Demo, DAY, N_LPS};
use crate::Result;

/// Each provider's TFT, locked into TFP and opened as one position (whole tokens).
const LP_TFT: [i64; N_LPS] = [150_000, 100_000, 50_000];
/// USDC moved into the exit pool each month (whole USDC): the round's cap B is 5 % of the pool.
const EXIT_FUNDING_USDC: i64 = 4_000;
/// An exit bid's lowest price: 70 % of the oracle's (a 30 % discount, past the 20 % minimum even after a
/// day's ±2 % drift).
const EXIT_MIN_PRICE_BPS: u128 = 7_000;

impl Demo {
    /// A fresh node: each provider registers, receives TFT, locks it into TFP and opens a position.
    pub(super) async fn setup_exit(&mut self) -> Result<()> {
        for (l, tft) in LP_TFT.into_iter().enumerate() {
            let lp = self.agents.lps[l].clone();
            self.driver.submit(&lp, Command::RegisterAccount {}).await?;
            self.attest_deposit(Asset::Tft, account_of(&lp), tft).await?;
            self.driver.submit(&lp, Command::LockTft { tft: Amount::<Tft>::tokens(tft) }).await?;
            self.driver.submit(&lp, Command::OpenPosition { tfp: Amount::<Tfp>::tokens(tft) }).await?;
        }
        Ok(())
    }

    /// The month's funding of the exit pool: the operator moves USDC from the treasury (the proceeds of
    /// the month's fiat entry) into the pool.
    pub(super) async fn fund_exit_pool(&mut self) -> Result<()> {
        let usdc = Amount::<Usdc>::tokens(EXIT_FUNDING_USDC);
        let operator = self.agents.operator.clone();
        if self.driver.submit(&operator, Command::FundExitPool { usdc }).await?.events()?.is_some() {
            self.activity.exit_usdc_funded = add(self.activity.exit_usdc_funded, usdc);
        }
        Ok(())
    }

    /// The day before the current round closes (and before its lock window), each provider that has no bid
    /// in it yet bids 40 to 120 USDC at [`EXIT_MIN_PRICE_BPS`] of the oracle price against its position.
    pub(super) async fn bid_for_exit(&mut self, now: i64) -> Result<()> {
        let round = self.driver.client().exit_round().await?;
        if round.closes_at > now + DAY || round.lock_window_starts_at <= now || round.open_bids > 0 {
            return Ok(());
        }
        let min_price = agents::price_bps(Price::from_atto(self.tft_usd_atto), EXIT_MIN_PRICE_BPS);
        for l in 0..N_LPS {
            let lp = self.agents.lps[l].clone();
            let query = PositionsQuery { owner: Some(account_of(&lp)) };
            let positions = self.driver.client().exit_positions(&query).await?.positions;
            let Some(position) = positions.first() else { continue };
            let usdc = Amount::<Usdc>::tokens(self.rng.gen_range(40..=120));
            let bid = Command::SubmitExitBid { position_id: position.id, usdc, min_price, carry_over: false };
            if self.driver.submit(&lp, bid).await?.events()?.is_some() {
                self.activity.exit_bids_submitted += 1;
            }
        }
        Ok(())
    }
}
