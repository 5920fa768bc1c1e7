//! Entry (Pool 1) and the vault (spec `decisions.md` §4): entering with TFT (TFT locked in the `vault`, the
//! same TFP minted into `pool2.reserve`, CC minted to the user at the fixed rate below parity and at the
//! market rate above it), entering with fiat (attested by a payment key, idempotent by payment id), and
//! locking TFT for TFP or unlocking it back (only while TFT trades at or above parity).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Asset, Rounding, Tfp, Tft, Usdc};

use crate::event::Event;
use crate::ids::{AccountKey, SystemAccount};
use crate::ledger::{Inflow, Ledger, Outflow, Posting, Slot};
use crate::rejection::{Rejection, TextField};
use crate::rules::oracle::{CcPrice, Prices};
use crate::slices::oracle::Oracle;
use crate::slices::{to_units, Env};
use crate::types::{PriceFeed, Role};

/// Fiat payments already credited, by payment id (idempotency), and their USDC total.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    payments: BTreeMap<String, (AccountKey, Amount<Usdc>)>,
    fiat_usdc: Amount<Usdc>,
}

impl Entry {
    /// USDC credited to the treasury by fiat entries, all time (a running total, for the treasury report).
    pub fn fiat_usdc(&self) -> Amount<Usdc> {
        self.fiat_usdc
    }

    /// Fiat payments credited, by payment id: the paying account and the USD.
    pub fn payments(&self) -> &BTreeMap<String, (AccountKey, Amount<Usdc>)> {
        &self.payments
    }

    /// `EnterWithTft`: `tft` from the user into the vault, the same TFP minted into `pool2.reserve`, and CC
    /// to the user: `tft / entry_tft_per_cc` while TFT trades below parity, `tft * tft_usd / cc_usd` above;
    /// both rounded down (spec §4).
    pub(crate) fn enter_with_tft(
        env: &Env<'_>,
        ledger: &mut Ledger,
        oracle: &Oracle,
        user: AccountKey,
        tft: Amount<Tft>,
    ) -> Result<Vec<Event>, Rejection> {
        if !tft.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let prices = oracle.prices_in(env)?;
        let units = tft.units().unsigned_abs();
        let rate = env.params.entry_tft_per_cc;
        let cc_units = if prices.below_entry_parity(rate) {
            tfeco_money::mul_div(units, rate.den(), rate.num(), Rounding::Down)
        } else {
            prices.cc_for_tft(units, Rounding::Down)
        };
        let cc_units = to_units(cc_units.ok_or(Rejection::Overflow)?)?;
        if cc_units == 0 {
            return Err(Rejection::AmountNotPositive);
        }
        let slot = ledger.user_slot(&user)?;
        ledger.apply(&[
            Posting::Transfer {
                asset: Asset::Tft,
                from: slot,
                to: Slot::System(SystemAccount::Vault),
                units: tft.units(),
                revenue: false,
            },
            Posting::Mint {
                asset: Asset::Tfp,
                to: Slot::System(SystemAccount::Pool2Reserve),
                units: tft.units(),
                inflow: Inflow::Mint,
            },
            Posting::Mint { asset: Asset::Cc, to: slot, units: cc_units, inflow: Inflow::Mint },
        ])?;
        Ok(vec![Event::EnteredWithTft {
            account: user,
            tft_locked: tft,
            cc_minted: Amount::from_units(cc_units),
        }])
    }

    /// `EnterWithFiat`: a payment key attests `usd` paid by `to`: `usd / cc_usd` CC minted to `to` (rounded
    /// down), the USD credited as USDC to the treasury. Needs only the gold price. Idempotent by
    /// `payment_id`; the same id with other facts is refused.
    pub(crate) fn enter_with_fiat(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        oracle: &Oracle,
        signer: AccountKey,
        (to, usd): (AccountKey, Amount<Usdc>),
        payment_id: &str,
    ) -> Result<Vec<Event>, Rejection> {
        env.require(signer, Role::PaymentKey)?;
        env.check_text(payment_id, TextField::PaymentId)?;
        if !usd.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let slot = ledger.user_slot(&to)?;
        if let Some(existing) = self.payments.get(payment_id) {
            if *existing != (to, usd) {
                return Err(Rejection::AttestationConflict { id: payment_id.to_owned() });
            }
            return Ok(vec![Event::AlreadyApplied { id: payment_id.to_owned() }]);
        }
        let gold = oracle.effective(PriceFeed::GoldUsdPerOz, env.params, env.now)?;
        let prices = Prices { tft_usd: env.params.tft_usd_min, cc: CcPrice::from_gold(gold) };
        let cc_units = to_units(
            prices.cc_for_usd(usd.units().unsigned_abs(), Rounding::Down).ok_or(Rejection::Overflow)?,
        )?;
        if cc_units == 0 {
            return Err(Rejection::AmountNotPositive);
        }
        let fiat_usdc = self.fiat_usdc.checked_add(usd).ok_or(Rejection::Overflow)?;
        ledger.apply(&[
            Posting::Mint { asset: Asset::Cc, to: slot, units: cc_units, inflow: Inflow::Mint },
            Posting::Mint {
                asset: Asset::Usdc,
                to: Slot::System(SystemAccount::Treasury),
                units: usd.units(),
                inflow: Inflow::Deposit,
            },
        ])?;
        self.payments.insert(payment_id.to_owned(), (to, usd));
        self.fiat_usdc = fiat_usdc;
        Ok(vec![Event::EnteredWithFiat {
            account: to,
            usd,
            cc_minted: Amount::from_units(cc_units),
            payment_id: payment_id.to_owned(),
        }])
    }

    /// `LockTft`: TFT into the vault, the same TFP minted to the user (1:1).
    pub(crate) fn lock_tft(
        ledger: &mut Ledger,
        user: AccountKey,
        tft: Amount<Tft>,
    ) -> Result<Vec<Event>, Rejection> {
        if !tft.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let slot = ledger.user_slot(&user)?;
        ledger.apply(&[
            Posting::Transfer {
                asset: Asset::Tft,
                from: slot,
                to: Slot::System(SystemAccount::Vault),
                units: tft.units(),
                revenue: false,
            },
            Posting::Mint { asset: Asset::Tfp, to: slot, units: tft.units(), inflow: Inflow::Mint },
        ])?;
        Ok(vec![Event::TftLocked { account: user, tft }])
    }

    /// `UnlockTfp`: TFP burned, the same TFT released from the vault; refused with `UnlockClosed` while TFT
    /// trades below the entry parity (spec §4).
    pub(crate) fn unlock_tfp(
        env: &Env<'_>,
        ledger: &mut Ledger,
        oracle: &Oracle,
        user: AccountKey,
        tfp: Amount<Tfp>,
    ) -> Result<Vec<Event>, Rejection> {
        if !tfp.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let prices = oracle.prices_in(env)?;
        if prices.below_entry_parity(env.params.entry_tft_per_cc) {
            return Err(Rejection::UnlockClosed);
        }
        let slot = ledger.user_slot(&user)?;
        ledger.apply(&[
            Posting::Burn { asset: Asset::Tfp, from: slot, units: tfp.units(), outflow: Outflow::Burn },
            Posting::Transfer {
                asset: Asset::Tft,
                from: Slot::System(SystemAccount::Vault),
                to: slot,
                units: tfp.units(),
                revenue: false,
            },
        ])?;
        Ok(vec![Event::TfpUnlocked { account: user, tfp }])
    }
}
