//! The treasury report (issue 10 item 20), built from the core's running totals: the bridge (exit-pool
//! funding), entry (fiat USDC), Pool 2 (the revenue burn), the exit pool (buy-backs) and the ledger.

use tfeco_api::treasury::{ExitPoolFunding, TreasuryBalances, TreasuryBurn, TreasuryBuyback, TreasuryView};
use tfeco_core::{State, SystemAccount};
use tfeco_money::Amount;

/// `GET /v1/treasury`.
pub fn treasury(state: &State) -> TreasuryView {
    let ledger = state.ledger();
    let treasury = SystemAccount::Treasury;
    let balances = TreasuryBalances {
        tft: ledger.system_balance(treasury),
        tfp: ledger.system_balance(treasury),
        cc: ledger.system_balance(treasury),
        usdc: ledger.system_balance(treasury),
    };
    let (deposits, transfers) = (state.bridge().exit_pool_deposited(), state.bridge().treasury_transferred());
    let total = Amount::from_units(deposits.units().saturating_add(transfers.units()));
    let pool2 = state.pool2();
    TreasuryView {
        now: state.now(),
        revenue_cc_received: balances.cc,
        fiat_usdc_received: state.entry().fiat_usdc(),
        buyback: TreasuryBuyback {
            tfp_received: state.exit_pool().treasury_tfp(),
            usdc_paid: state.exit_pool().total_usdc_paid(),
        },
        burn: TreasuryBurn {
            cc_burned: pool2.burned_cc(),
            tft_burned: pool2.burned_tft(),
            burn_owed_tft: pool2.burn_owed_tft(),
            burn_pending_cc: pool2.burn_pending_cc(),
        },
        exit_pool_funding: ExitPoolFunding {
            attested_deposits_usdc: deposits,
            treasury_transfers_usdc: transfers,
            total_usdc: total,
            pool_usdc: ledger.system_balance(SystemAccount::ExitPoolUsdc),
        },
        balances,
    }
}
