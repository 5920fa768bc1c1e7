//! The treasury report (`GET /v1/treasury`, issue 10 item 20): what the treasury received (its revenue share
//! of CC, the USDC of fiat entries, the TFP of exits), what the revenue split burned, how the exit pool's
//! USDC was funded, and the treasury's balances now. Every figure is a running total kept by the core
//! (spec `decisions.md` §4, §7, §8), never a scan of history.

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Cc, Tfp, Tft, Usdc};
use utoipa::ToSchema;

/// The `treasury` system account's balance of each asset now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreasuryBalances {
    /// TFT (exchange fees in TFT-quoted markets).
    pub tft: Amount<Tft>,
    /// TFP (exit buy-backs, spec §8 step 5).
    pub tfp: Amount<Tfp>,
    /// CC (the revenue split's treasury share, spec §7).
    pub cc: Amount<Cc>,
    /// USDC (fiat entries, exchange fees, minus transfers to the exit pool).
    pub usdc: Amount<Usdc>,
}

/// TFT the treasury bought back through exits (spec §8 step 5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreasuryBuyback {
    /// TFP received from exits: the USDC paid at reference value, plus rounding dust; all time.
    pub tfp_received: Amount<Tfp>,
    /// USDC the exit pool paid to exiting positions for it, all time.
    pub usdc_paid: Amount<Usdc>,
}

/// The revenue burn (spec §7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreasuryBurn {
    /// CC burned by the revenue split whose TFT counterpart was settled, all time.
    pub cc_burned: Amount<Cc>,
    /// TFT (and the same TFP) burned as that counterpart, all time.
    pub tft_burned: Amount<Tft>,
    /// TFT the reserve could not cover (a reported figure, never a negative balance).
    pub burn_owed_tft: Amount<Tft>,
    /// CC burned whose TFT counterpart waits for valid prices.
    pub burn_pending_cc: Amount<Cc>,
}

/// How the exit pool's USDC was funded (spec §8): guardian-attested deposits and guardian-approved treasury
/// transfers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExitPoolFunding {
    /// USDC attested as deposited into the exit pool itself, all time.
    pub attested_deposits_usdc: Amount<Usdc>,
    /// USDC moved from the treasury by guardian-approved transfers, all time.
    pub treasury_transfers_usdc: Amount<Usdc>,
    /// The sum of both.
    pub total_usdc: Amount<Usdc>,
    /// `exit_pool.usdc` now (funding minus exits paid).
    pub pool_usdc: Amount<Usdc>,
}

/// `GET /v1/treasury`: the treasury report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreasuryView {
    /// The state's time, unix seconds.
    pub now: i64,
    /// CC received as the revenue split's treasury share, all time (nothing spends the treasury's CC, so
    /// this is its CC balance).
    pub revenue_cc_received: Amount<Cc>,
    /// USDC credited to the treasury by fiat entries, all time (spec §4).
    pub fiat_usdc_received: Amount<Usdc>,
    /// TFT bought back through exits.
    pub buyback: TreasuryBuyback,
    /// The revenue burn.
    pub burn: TreasuryBurn,
    /// The exit pool's funding.
    pub exit_pool_funding: ExitPoolFunding,
    /// The treasury's balances now.
    pub balances: TreasuryBalances,
}
