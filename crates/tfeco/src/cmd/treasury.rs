//! `tfeco treasury`: the treasury report (issue 10 item 20, spec `decisions.md` §4, §7, §8): the revenue CC
//! it received, the USDC of fiat entries, the TFT bought back through exits, the revenue burn and
//! `burn_owed_tft`, how the exit pool's USDC was funded (attested deposits and guardian-approved treasury
//! transfers) and the treasury's balances now. Read-only: only the node's URL is needed; `--json` prints the
//! node's view (`GET /v1/treasury`) as is.

use std::process::ExitCode;

use tfeco_wallet::api::treasury::TreasuryView;

use crate::connect::{ConnectOpts, Session};

/// Arguments of `tfeco treasury`.
#[derive(clap::Args)]
pub(crate) struct TreasuryArgs {
    #[command(flatten)]
    connect: ConnectOpts,
}

/// Runs `tfeco treasury`.
pub(crate) async fn run(args: TreasuryArgs) -> anyhow::Result<ExitCode> {
    let session = Session::new(&args.connect)?;
    session.answer(session.client.treasury().await, report)
}

/// The report as a two-column table, grouped by section, amounts in whole tokens with their asset.
fn report(view: &TreasuryView) -> String {
    let rows: Vec<(&str, String)> = vec![
        ("Received", String::new()),
        ("  revenue share (CC)", format!("{} CC", view.revenue_cc_received)),
        ("  fiat entries (USDC)", format!("{} USDC", view.fiat_usdc_received)),
        ("  bought back through exits", format!("{} TFP", view.buyback.tfp_received)),
        ("    USDC the exit pool paid", format!("{} USDC", view.buyback.usdc_paid)),
        ("Revenue burn", String::new()),
        ("  CC burned", format!("{} CC", view.burn.cc_burned)),
        ("  TFT burned", format!("{} TFT", view.burn.tft_burned)),
        ("  burn_owed_tft", format!("{} TFT", view.burn.burn_owed_tft)),
        ("  CC waiting for prices", format!("{} CC", view.burn.burn_pending_cc)),
        ("Exit pool funding", String::new()),
        ("  attested deposits", format!("{} USDC", view.exit_pool_funding.attested_deposits_usdc)),
        ("  treasury transfers", format!("{} USDC", view.exit_pool_funding.treasury_transfers_usdc)),
        ("  total", format!("{} USDC", view.exit_pool_funding.total_usdc)),
        ("  exit_pool.usdc now", format!("{} USDC", view.exit_pool_funding.pool_usdc)),
        ("Treasury balances", String::new()),
        ("  TFT", format!("{}", view.balances.tft)),
        ("  TFP", format!("{}", view.balances.tfp)),
        ("  CC", format!("{}", view.balances.cc)),
        ("  USDC", format!("{}", view.balances.usdc)),
    ];
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    let mut out = format!("Treasury at {}\n", crate::render::time::iso(view.now));
    for (label, value) in rows {
        out.push_str(format!("{label:<width$}  {value}").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfeco_wallet::api::treasury::{ExitPoolFunding, TreasuryBalances, TreasuryBurn, TreasuryBuyback};

    fn amount<T: std::str::FromStr>(text: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        text.parse().expect("an amount")
    }

    #[test]
    fn the_report_lists_every_figure_with_its_asset() {
        let view = TreasuryView {
            now: 1_760_000_000,
            revenue_cc_received: amount("12.5"),
            fiat_usdc_received: amount("100"),
            buyback: TreasuryBuyback { tfp_received: amount("20"), usdc_paid: amount("2") },
            burn: TreasuryBurn {
                cc_burned: amount("12.5"),
                tft_burned: amount("1250"),
                burn_owed_tft: amount("3"),
                burn_pending_cc: amount("0"),
            },
            exit_pool_funding: ExitPoolFunding {
                attested_deposits_usdc: amount("30"),
                treasury_transfers_usdc: amount("50"),
                total_usdc: amount("80"),
                pool_usdc: amount("78"),
            },
            balances: TreasuryBalances {
                tft: amount("0"),
                tfp: amount("20"),
                cc: amount("12.5"),
                usdc: amount("50"),
            },
        };
        let text = report(&view);
        for line in
            ["revenue share (CC)", "12.5 CC", "1250 TFT", "burn_owed_tft", "3 TFT", "80 USDC", "78 USDC"]
        {
            assert!(text.contains(line), "{line:?} missing in\n{text}");
        }
    }
}
