//! Guardians: they register at the start, submit the month's gold and TFT prices (the oracle quorum, observed
//! at the submission's time), attest deposits (TFT to users and holders, USDC into the exit pool), approve
//! treasury transfers, and verify then sign every closed minting report (re-computing its hash from the
//! canonical JSON) up to the threshold, which mints it.

use tfeco_core::{AccountKey, Command, Event, PriceFeed, TreasuryDestination};
use tfeco_money::{Amount, Asset, Price, Usdc};

use super::World;

impl World<'_> {
    /// Every guardian registers its account.
    pub(crate) fn register_guardians(&mut self) {
        for g in 0..self.guardians.len() {
            self.submit(self.guardians[g], Command::RegisterAccount {});
        }
    }

    /// The month's (gold, TFT) prices.
    pub(crate) fn month_prices(&self) -> (Price, Price) {
        let m = (self.month as usize).saturating_sub(1);
        (self.gold[m.min(self.gold.len() - 1)], self.tft[m.min(self.tft.len() - 1)])
    }

    /// The quorum submits both prices of the month, observed now.
    pub(crate) fn submit_prices(&mut self) {
        let (gold, tft) = self.month_prices();
        let now = self.now();
        for g in 0..self.quorum {
            let guardian = self.guardians[g];
            self.submit(
                guardian,
                Command::SubmitPrice { feed: PriceFeed::TftUsd, price: tft, observed_at: now },
            );
            let feed = PriceFeed::GoldUsdPerOz;
            self.submit(guardian, Command::SubmitPrice { feed, price: gold, observed_at: now });
        }
    }

    /// The quorum attests a deposit of `units` of `asset` to `to`.
    pub(crate) fn attest_deposit(&mut self, asset: Asset, to: AccountKey, units: i128) {
        let external_tx_id = self.external_id("deposit");
        for g in 0..self.quorum {
            let amount = Amount::from_units(units);
            let command =
                Command::AttestDeposit { asset, to, amount, external_tx_id: external_tx_id.clone() };
            self.submit(self.guardians[g], command);
        }
    }

    /// The month's funding of the exit pool: an attested USDC deposit and, as far as the treasury holds USDC,
    /// a treasury transfer.
    pub(crate) fn fund_exit_pool(&mut self) {
        let deposit = self.scenario.exit.usdc_per_month.0;
        if deposit > 0 {
            let external_tx_id = self.external_id("exit-deposit");
            for g in 0..self.quorum {
                let usdc = Amount::<Usdc>::from_units(deposit);
                let command = Command::AttestExitPoolDeposit { usdc, external_tx_id: external_tx_id.clone() };
                self.submit(self.guardians[g], command);
            }
        }
        let treasury = self
            .state()
            .ledger()
            .balance(tfeco_core::AccountRef::System(tfeco_core::SystemAccount::Treasury), Asset::Usdc);
        let transfer = self.scenario.exit.treasury_usdc_per_month.0.min(treasury);
        if transfer > 0 {
            let transfer_ref = self.external_id("exit-transfer");
            for g in 0..self.quorum {
                let command = Command::ApproveTreasuryTransfer {
                    usdc: Amount::from_units(transfer),
                    to: TreasuryDestination::ExitPool,
                    transfer_ref: transfer_ref.clone(),
                };
                self.submit(self.guardians[g], command);
            }
        }
    }

    /// Each closed, unminted minting report: the guardians re-compute its hash from the canonical JSON and,
    /// when it matches, sign it up to the threshold. The minted rewards are added to the month's rewards by
    /// model (from the report's receipts).
    pub(crate) fn sign_mint_reports(&mut self) {
        let pending: Vec<(u32, String, bool)> = self
            .state()
            .rewards()
            .reports()
            .values()
            .filter(|r| r.minted_at.is_none())
            .map(|r| {
                let verified = blake3::hash(r.canonical_json.as_bytes()).to_hex().to_string() == r.hash;
                (r.period, r.hash.clone(), verified)
            })
            .collect();
        for (period, hash, verified) in pending {
            if !verified {
                *self.tally.rejected.entry("sign_mint_report/hash_not_verified".to_owned()).or_default() += 1;
                continue;
            }
            for g in 0..self.quorum {
                let command = Command::SignMintReport { period, report_hash: hash.clone() };
                let Some(events) = self.submit(self.guardians[g], command) else { continue };
                if events.iter().any(|e| matches!(e, Event::RewardsMinted { .. })) {
                    self.record_rewards(period);
                }
            }
        }
    }

    /// Adds a minted report's receipts to the month's rewards by model.
    fn record_rewards(&mut self, period: u32) {
        let Some(report) = self.driver.state().rewards().reports().get(&period) else { return };
        for receipt in &report.receipts {
            if let Some(i) = self.node_index.get(&receipt.node_id) {
                self.flows.reward_tft[self.nodes[*i].model] += receipt.reward.units();
            }
        }
    }
}
