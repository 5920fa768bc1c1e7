//! The exit pool in the demo (spec `decisions.md` §8): liquidity providers bring TFT (attested deposits),
//! lock it into TFP and open positions; the exit pool's USDC is funded every month by a guardian-attested
//! USDC deposit into the pool and a guardian-approved transfer of treasury USDC (the fiat entries' proceeds);
//! the day before each weekly round closes, every provider but the last submits a sealed exit bid well under
//! the oracle price (more than the 20 % minimum discount), and the day's tick closes the round at a fresh
//! price, which clears, pays USDC and credits the margin to the position that stayed.

use rand::Rng;
use tfeco_core::{Command, TreasuryDestination};
use tfeco_money::{Amount, Asset, Price, Tfp, Tft, Usdc};
use tfeco_wallet::api::exit_pool::PositionsQuery;
use tfeco_wallet::client::account_of;

use super::agents;
use super::markets::add;
use super::{Demo, DAY, N_LPS};
use crate::Result;

/// Each provider's TFT, locked into TFP and opened as one position (whole tokens).
const LP_TFT: [i64; N_LPS] = [150_000, 100_000, 50_000];
/// USDC the guardians attest into the exit pool each month (whole USDC): the round's cap B is 5 % of the
/// pool.
const EXIT_DEPOSIT_USDC: i64 = 3_000;
/// Treasury USDC the guardians move into the exit pool each month (whole USDC).
const EXIT_TREASURY_USDC: i64 = 1_000;
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

    /// The month's funding of the exit pool: the guardians' quorum attests a USDC deposit into the pool and
    /// approves a transfer of treasury USDC (the proceeds of the month's fiat entry) into it.
    pub(super) async fn fund_exit_pool(&mut self) -> Result<()> {
        let month = self.month_number();
        let (deposit, transfer) =
            (Amount::<Usdc>::tokens(EXIT_DEPOSIT_USDC), Amount::<Usdc>::tokens(EXIT_TREASURY_USDC));
        for g in 0..self.quorum {
            let guardian = self.agents.guardians[g].clone();
            let external_tx_id = format!("demo-exit-deposit-month-{month}");
            let attest = Command::AttestExitPoolDeposit { usdc: deposit, external_tx_id };
            if self.driver.submit(&guardian, attest).await?.events()?.is_some() && g + 1 == self.quorum {
                self.activity.exit_usdc_deposited = add(self.activity.exit_usdc_deposited, deposit);
            }
            let transfer_ref = format!("demo-exit-funding-month-{month}");
            let to = TreasuryDestination::ExitPool;
            let approve = Command::ApproveTreasuryTransfer { usdc: transfer, to, transfer_ref };
            if self.driver.submit(&guardian, approve).await?.events()?.is_some() && g + 1 == self.quorum {
                self.activity.exit_usdc_from_treasury = add(self.activity.exit_usdc_from_treasury, transfer);
            }
        }
        Ok(())
    }

    /// The day before the current round closes (and before its lock window), each provider that has no bid
    /// in it yet (but the last, whose position stays and earns the margin) bids 40 to 120 USDC at [`EXIT_MIN_PRICE_BPS`] of the oracle price against its position.
    pub(super) async fn bid_for_exit(&mut self, now: i64) -> Result<()> {
        let round = self.driver.client().exit_round().await?;
        if round.closes_at > now + DAY || round.lock_window_starts_at <= now {
            return Ok(());
        }
        let min_price = agents::price_bps(Price::from_atto(self.tft_usd_atto), EXIT_MIN_PRICE_BPS);
        for l in 0..N_LPS - 1 {
            let lp = self.agents.lps[l].clone();
            // Bids are sealed: each provider sees only its own, by a signed read.
            if !self.driver.client().own_exit_bids(&lp).await?.bids.is_empty() {
                continue;
            }
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
