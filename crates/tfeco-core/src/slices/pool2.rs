//! Pool 2 (spec `decisions.md` §5-7): conversions between revenue CC and TFP at the oracle price through
//! `pool2.reserve`, the farmers' settlement preference (applied when revenue is credited), and the revenue
//! burn: the CC burned by the split is matched by TFT burned from the vault, with the TFP taken from the
//! reserve; what the reserve cannot cover is recorded as `burn_owed_tft`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Asset, Cc, Rounding, Tfp, Tft};

use crate::event::Event;
use crate::ids::{AccountKey, SystemAccount};
use crate::ledger::{Inflow, Ledger, Outflow, Posting, Slot};
use crate::rejection::Rejection;
use crate::rules::oracle::Prices;
use crate::slices::oracle::Oracle;
use crate::slices::{to_units, Env};
use crate::types::Settlement;

/// Settlement preferences and the burn counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool2 {
    /// Accounts that settle in TFP (the default, CC, is not stored).
    settlement: BTreeMap<AccountKey, Settlement>,
    /// CC burned whose TFT counterpart waits for valid prices.
    burn_pending_cc: Amount<Cc>,
    /// TFT the reserve could not cover when burning (a reported figure, spec §7).
    burn_owed_tft: Amount<Tft>,
    /// CC burned by the revenue split whose TFT counterpart was settled, all time.
    burned_cc: Amount<Cc>,
    /// TFT (and the same TFP) burned as the counterpart of burned CC, all time.
    burned_tft: Amount<Tft>,
}

/// A validated CC→TFP conversion.
struct CcToTfp {
    plan: [Posting; 3],
    cc: Amount<Cc>,
    tfp: Amount<Tfp>,
}

/// Plans converting `cc` revenue CC of `account` to TFP: `tfp = floor(cc * cc_usd / tft_usd)`. With
/// `allow_partial`, a reserve shortfall converts the largest CC amount the reserve covers instead.
fn plan_cc_to_tfp(
    ledger: &Ledger,
    account: AccountKey,
    cc: Amount<Cc>,
    allow_partial: bool,
    prices: &Prices,
) -> Result<CcToTfp, Rejection> {
    let slot = ledger.user_slot(&account)?;
    let revenue = ledger.account(&account).map_or(0, |a| a.revenue_cc);
    if cc.units() > revenue {
        return Err(Rejection::RevenueCcLow { needed: cc, available: Amount::from_units(revenue) });
    }
    let reserve = ledger.system_balance::<Tfp>(SystemAccount::Pool2Reserve).units();
    let tfp_of = |cc_units: i128| {
        to_units(prices.tft_for_cc(cc_units.unsigned_abs(), Rounding::Down).ok_or(Rejection::Overflow)?)
    };
    let mut cc_units = cc.units();
    let mut tfp_units = tfp_of(cc_units)?;
    if tfp_units == 0 {
        // Worth less than one TFP base unit: nothing to convert, whatever the reserve holds.
        return Err(Rejection::AmountNotPositive);
    }
    if tfp_units > reserve {
        if !allow_partial {
            return Err(Rejection::InsufficientPoolLiquidity {
                needed: Amount::from_units(tfp_units),
                available: Amount::from_units(reserve),
            });
        }
        // The most CC whose TFP (rounded down) fits in the reserve.
        cc_units =
            to_units(prices.cc_for_tft(reserve.unsigned_abs(), Rounding::Down).ok_or(Rejection::Overflow)?)?;
        tfp_units = tfp_of(cc_units)?;
    }
    if cc_units <= 0 || tfp_units <= 0 {
        return Err(Rejection::InsufficientPoolLiquidity {
            needed: Amount::from_units(tfp_units.max(1)),
            available: Amount::from_units(reserve),
        });
    }
    let plan = [
        Posting::ConsumeRevenue { from: slot, units: cc_units },
        Posting::Burn { asset: Asset::Cc, from: slot, units: cc_units, outflow: Outflow::Burn },
        Posting::Transfer {
            asset: Asset::Tfp,
            from: Slot::System(SystemAccount::Pool2Reserve),
            to: slot,
            units: tfp_units,
            revenue: false,
        },
    ];
    ledger.validate(&plan)?;
    Ok(CcToTfp { plan, cc: Amount::from_units(cc_units), tfp: Amount::from_units(tfp_units) })
}

impl Pool2 {
    /// The settlement preference of an account (default CC).
    pub fn settlement_of(&self, account: &AccountKey) -> Settlement {
        self.settlement.get(account).copied().unwrap_or_default()
    }

    /// CC burned whose TFT counterpart waits for valid prices.
    pub fn burn_pending_cc(&self) -> Amount<Cc> {
        self.burn_pending_cc
    }

    /// TFT the reserve could not cover when burning (a reported figure, spec §7).
    pub fn burn_owed_tft(&self) -> Amount<Tft> {
        self.burn_owed_tft
    }

    /// CC burned by the revenue split whose TFT counterpart was settled (spec §7), all time.
    pub fn burned_cc(&self) -> Amount<Cc> {
        self.burned_cc
    }

    /// TFT burned from the vault as the counterpart of the revenue split's burned CC (spec §7), all time.
    pub fn burned_tft(&self) -> Amount<Tft> {
        self.burned_tft
    }

    /// `ConvertCcToTfp`: revenue CC burned, `floor(cc * cc_usd / tft_usd)` TFP out of the reserve.
    pub(crate) fn convert_cc_to_tfp(
        env: &Env<'_>,
        ledger: &mut Ledger,
        oracle: &Oracle,
        account: AccountKey,
        cc: Amount<Cc>,
        allow_partial: bool,
    ) -> Result<Vec<Event>, Rejection> {
        if !cc.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let prices = oracle.prices_in(env)?;
        let conversion = plan_cc_to_tfp(ledger, account, cc, allow_partial, &prices)?;
        ledger.commit(&conversion.plan);
        Ok(vec![Event::ConvertedCcToTfp { account, cc: conversion.cc, tfp: conversion.tfp }])
    }

    /// `ConvertTfpToCc`: TFP into the reserve, `floor(tfp * tft_usd / cc_usd)` ordinary CC minted.
    pub(crate) fn convert_tfp_to_cc(
        env: &Env<'_>,
        ledger: &mut Ledger,
        oracle: &Oracle,
        account: AccountKey,
        tfp: Amount<Tfp>,
    ) -> Result<Vec<Event>, Rejection> {
        if !tfp.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let prices = oracle.prices_in(env)?;
        let cc_units = to_units(
            prices.cc_for_tft(tfp.units().unsigned_abs(), Rounding::Down).ok_or(Rejection::Overflow)?,
        )?;
        if cc_units == 0 {
            return Err(Rejection::AmountNotPositive);
        }
        let slot = ledger.user_slot(&account)?;
        ledger.apply(&[
            Posting::Transfer {
                asset: Asset::Tfp,
                from: slot,
                to: Slot::System(SystemAccount::Pool2Reserve),
                units: tfp.units(),
                revenue: false,
            },
            Posting::Mint { asset: Asset::Cc, to: slot, units: cc_units, inflow: Inflow::Mint },
        ])?;
        Ok(vec![Event::ConvertedTfpToCc { account, tfp, cc: Amount::from_units(cc_units) }])
    }

    /// `SetSettlement`: the account's revenue stays CC, or converts to TFP when credited.
    pub(crate) fn set_settlement(&mut self, account: AccountKey, settle_in: Settlement) -> Vec<Event> {
        match settle_in {
            Settlement::Cc => self.settlement.remove(&account),
            Settlement::Tfp => self.settlement.insert(account, settle_in),
        };
        vec![Event::SettlementSet { account, settle_in }]
    }

    /// After `credited` revenue CC reached a farmer who settles in TFP: converts it through the reserve as far
    /// as it allows (spec §6), at `prices`, the command's valid prices read once by the caller (so that
    /// billing many leases in one `Tick` reads the oracle once). Without valid prices (`None`), or with an
    /// empty reserve, it stays revenue CC.
    pub(crate) fn settle_revenue_at(
        &self,
        ledger: &mut Ledger,
        prices: Option<&Prices>,
        (farmer, credited): (AccountKey, Amount<Cc>),
        events: &mut Vec<Event>,
    ) {
        if self.settlement_of(&farmer) != Settlement::Tfp || !credited.is_positive() {
            return;
        }
        let Some(prices) = prices else { return };
        if let Ok(conversion) = plan_cc_to_tfp(ledger, farmer, credited, true, prices) {
            ledger.commit(&conversion.plan);
            events.push(Event::ConvertedCcToTfp { account: farmer, cc: conversion.cc, tfp: conversion.tfp });
        }
    }

    /// Records CC just burned by a revenue split; its TFT counterpart is settled by
    /// [`Pool2::settle_pending_burn`].
    pub(crate) fn add_burned_cc(&mut self, burned: Amount<Cc>) {
        self.burn_pending_cc =
            Amount::from_units(self.burn_pending_cc.units().saturating_add(burned.units()));
    }

    /// Burns the TFT counterpart of the CC burned so far (spec §7): `b = cc * cc_usd / tft_usd` rounded
    /// down; TFP from `pool2.reserve` and the same TFT from the vault. What the reserve cannot cover is added
    /// to `burn_owed_tft`. Without valid prices the CC stays pending until a later command has them.
    pub(crate) fn settle_pending_burn(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        oracle: &Oracle,
        events: &mut Vec<Event>,
    ) {
        if !self.burn_pending_cc.is_positive() {
            return;
        }
        let prices = oracle.prices_in(env).ok();
        self.settle_pending_burn_at(ledger, prices.as_ref(), events);
    }

    /// [`Pool2::settle_pending_burn`] with the prices of the command already read (`None`: no valid prices,
    /// the CC stays pending), so that billing many leases in one `Tick` reads the oracle once.
    pub(crate) fn settle_pending_burn_at(
        &mut self,
        ledger: &mut Ledger,
        prices: Option<&Prices>,
        events: &mut Vec<Event>,
    ) {
        if !self.burn_pending_cc.is_positive() {
            return;
        }
        let Some(prices) = prices else { return };
        let cc = self.burn_pending_cc;
        let Some(owed_units) = prices.tft_for_cc(cc.units().unsigned_abs(), Rounding::Down) else { return };
        let owed = i128::try_from(owed_units).unwrap_or(i128::MAX);
        let reserve = ledger.system_balance::<Tfp>(SystemAccount::Pool2Reserve).units();
        let burn = owed.min(reserve);
        if burn > 0 {
            let plan = [
                Posting::Burn {
                    asset: Asset::Tfp,
                    from: Slot::System(SystemAccount::Pool2Reserve),
                    units: burn,
                    outflow: Outflow::Burn,
                },
                Posting::Burn {
                    asset: Asset::Tft,
                    from: Slot::System(SystemAccount::Vault),
                    units: burn,
                    outflow: Outflow::Burn,
                },
            ];
            ledger.validate(&plan).expect("the vault backs every TFP, so it holds at least the reserve");
            ledger.commit(&plan);
        }
        let short = owed.saturating_sub(burn);
        self.burn_owed_tft = Amount::from_units(self.burn_owed_tft.units().saturating_add(short));
        self.burned_cc = Amount::from_units(self.burned_cc.units().saturating_add(cc.units()));
        self.burned_tft = Amount::from_units(self.burned_tft.units().saturating_add(burn));
        self.burn_pending_cc = Amount::ZERO;
        events.push(Event::RevenueBurned {
            cc,
            tft: Amount::<Tft>::from_units(burn),
            tft_owed: Amount::from_units(short),
        });
    }

    /// The burn counters are never negative.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.burn_pending_cc.units() < 0 || self.burn_owed_tft.units() < 0 {
            return Err("negative burn counters".to_owned());
        }
        Ok(())
    }
}
